package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"bulletin/internal/store"
)

// dovecot is a real Dovecot started for one test on loopback, with its
// whole configuration, state and mail in the test's temporary folder.
type dovecot struct {
	addr string
	tls  *tls.Config // trusts the server's self-signed certificate
	log  string
}

// startDovecot starts Dovecot, or skips the test when it is not installed,
// unless BULLETIN_INTEGRATION=required says the test must run.
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("BULLETIN_INTEGRATION") == "required" {
			t.Fatal("dovecot is not installed and BULLETIN_INTEGRATION=required (apt-get install dovecot-imapd)")
		}
		t.Skip("dovecot is not installed (apt-get install dovecot-imapd); set BULLETIN_INTEGRATION=required to fail instead")
	}

	dir := t.TempDir()
	// Dovecot's own processes run as unprivileged users when started as
	// root: they must be able to reach the folder.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	for _, d := range []string{"run", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	certPEM, keyPEM := selfSignedPEM(t, "127.0.0.1")
	files := map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "passwd": []byte("bulletin:{PLAIN}s3cret-mot-de-passe\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	loginUser, internalUser, internalGroup := me.Username, me.Username, me.Username
	if g, err := user.LookupGroupId(me.Gid); err == nil {
		internalGroup = g.Name
	}
	mailUID, mailGID := me.Uid, me.Gid
	if os.Geteuid() == 0 {
		// Dovecot refuses to run its login and internal processes, and
		// mail access, as root; Debian's package creates these users.
		loginUser, internalUser, internalGroup = "dovenull", "dovecot", "dovecot"
		u, err := user.Lookup("dovecot")
		if err != nil {
			t.Fatalf("running as root needs the dovecot user: %v", err)
		}
		mailUID, mailGID = u.Uid, u.Gid
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(filepath.Join(dir, "home"), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dovecot", "dovecot.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{uid}}", mailUID, "{{gid}}", mailGID,
		"{{login_user}}", loginUser, "{{internal_user}}", internalUser, "{{internal_group}}", internalGroup).Replace(string(tmpl))
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-F", "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	d := &dovecot{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: filepath.Join(dir, "dovecot.log")}
	t.Cleanup(func() {
		// Only the master we started: it stops its own children.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("dovecot output:\n%s\ndovecot.log:\n%s", out.String(), b)
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(d.log)
			t.Fatalf("dovecot exited: %v\n%s\n%s", err, out.String(), b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot does not listen on %s: %v", d.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	d.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return d
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// client logs in to Dovecot as the test user, with STARTTLS.
func (d *dovecot) client(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialStartTLS(d.addr, &imapclient.Options{TLSConfig: d.tls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("bulletin", "s3cret-mot-de-passe").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (d *dovecot) append(t testing.TB, mailbox string, raw []byte) {
	t.Helper()
	c := d.client(t)
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
}

func (d *dovecot) count(t testing.TB, mailbox string) int {
	t.Helper()
	c := d.client(t)
	defer func() { c.Logout().Wait() }()
	data, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return -1 // not there (yet)
	}
	return int(*data.NumMessages)
}

// TestDovecotRoundTrip is the round trip against a real server: a
// bounce appended to the mailbox ends as a bounced subscriber and a moved
// message, over STARTTLS with AUTHENTICATE PLAIN, in folders Dovecot names
// with its own delimiter (Maildir++: ".").
func TestDovecotRoundTrip(t *testing.T) {
	dc := startDovecot(t)
	f := newFixture(t)
	a, rawA := f.hardBounce("a@example.fr")
	dc.append(t, "INBOX", rawA) // the backlog

	w, err := New(Options{
		Addr: dc.addr, TLS: "starttls", TLSConfig: dc.tls,
		Username: "bulletin", Password: "s3cret-mot-de-passe",
		Folders:      testFolders,
		PollInterval: time.Hour, IdleRefresh: time.Hour,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond,
		CommandTimeout: 20 * time.Second,
		Log:            testLogger(t),
	}, f.proc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	t.Logf("dovecot: IDLE %v MOVE %v delimiter %q prefix %q pending %d", r.IDLE, r.MOVE, r.Delimiter, r.Prefix, r.Pending)
	delim := '/'
	if r.Delimiter != "" {
		delim = []rune(r.Delimiter)[0]
	}
	processed := serverName(testFolders.Processed, r.Prefix, delim)

	run(t, w)
	eventually(t, "the backlog bounce", func() bool { return f.status(a) == store.Bounced })
	eventually(t, "its move", func() bool { return dc.count(t, "INBOX") == 0 && dc.count(t, processed) == 1 })

	// A bounce delivered while the watcher idles.
	eventually(t, "IDLE", func() bool { return w.Health().Mode == "idle" })
	b, rawB := f.hardBounce("b@example.fr")
	dc.append(t, "INBOX", rawB)
	eventually(t, "the new bounce", func() bool { return f.status(b) == store.Bounced })
	eventually(t, "its move", func() bool { return dc.count(t, "INBOX") == 0 && dc.count(t, processed) == 2 })
	c := dc.client(t)
	checkAllSeen(t, processed, listMessages(t, c, processed))
	c.Logout().Wait()
	evs := f.events()
	if len(evs) != 2 || evs[1].MatchedBy != ByVERP || evs[1].Folder != processed {
		t.Errorf("events = %d, last matched by %q moved to %q; want 2, verp, %q", len(evs), evs[len(evs)-1].MatchedBy, evs[len(evs)-1].Folder, processed)
	}
	if !w.Health().Move {
		t.Error("Dovecot has MOVE, the watcher did not use it")
	}
}
