package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/google/uuid"

	"bulletin/internal/links"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// fixture is a real store in a temporary folder with the links and a
// processor, and plain SQL to make the campaigns and deliveries that the
// campaign engine would (its store code is not what these tests test).
type fixture struct {
	t     testing.TB
	st    *store.Storage
	db    *sql.DB
	links *links.Links
	proc  *Processor
	now   time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, st: st, db: db, now: time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC),
		links: &links.Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))}}
	f.proc = NewProcessor(st, f.links, Rules{SoftLimit: 3, SoftWindow: 30 * 24 * time.Hour}, func() time.Time { return f.now })
	return f
}

func (f *fixture) exec(q string, args ...any) int64 {
	f.t.Helper()
	res, err := f.db.Exec(q, args...)
	if err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (f *fixture) subscriber(email string) int64 {
	f.t.Helper()
	sub := &store.Subscriber{Email: email, Status: store.Active, Consent: store.Consent{Source: "test"}}
	if err := f.st.AddSubscriber(context.Background(), sub, []string{"Partenaires"}, false); err != nil {
		f.t.Fatal(err)
	}
	return sub.ID
}

type campaignRow struct {
	id   int64
	uuid string
}

func (f *fixture) campaign(name string) campaignRow {
	f.t.Helper()
	t := f.now.Add(-48 * time.Hour)
	ed := f.exec(`INSERT INTO editions (uuid, slug, title, source, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?)`,
		uuid.NewString(), name, name, t, t)
	c := campaignRow{uuid: uuid.NewString()}
	c.id = f.exec(`INSERT INTO campaigns (uuid, name, edition_id, subject, from_addr, state, created_at, updated_at)
		VALUES (?, ?, ?, 'Lettre', 'Bulletin <newsletter@example.org>', 'sent', ?, ?)`, c.uuid, name, ed, t, t)
	return c
}

type deliveryRow struct {
	id        int64
	uuid      uuid.UUID
	token     string
	messageID string
}

func (f *fixture) delivery(c campaignRow, sub int64, email string, sentAt time.Time) deliveryRow {
	f.t.Helper()
	d := deliveryRow{uuid: uuid.New()}
	d.token = f.links.DeliveryToken(d.uuid)
	d.messageID = d.uuid.String() + "@example.org"
	d.id = f.exec(`INSERT INTO deliveries (uuid, campaign_id, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, 'sent', ?, ?, ?, ?)`, d.uuid.String(), c.id, sub, email, d.messageID, sentAt, sentAt, sentAt)
	return d
}

func (f *fixture) status(sub int64) store.Status {
	f.t.Helper()
	s, err := f.st.SubscriberByID(context.Background(), sub)
	if err != nil {
		f.t.Fatal(err)
	}
	return s.Status
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) events() []*store.MailboxEvent {
	f.t.Helper()
	evs, err := f.st.MailboxEvents(context.Background(), store.MailboxEventFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	// Oldest first reads better in tests.
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// corpus reads a message of testdata/bounces.
func corpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bounces", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withVERP readdresses a corpus bounce to the VERP address of a delivery,
// as the relay's bounce would be.
func withVERP(raw []byte, tok string) []byte {
	return append([]byte("Delivered-To: bounces+"+tok+"@example.org\r\n"), raw...)
}

var originalPartRE = regexp.MustCompile(`(?i)content-type:[ \t]*(message/rfc822|text/rfc822-headers)[^\n]*\n(?:[ \t][^\n]*\n|[A-Za-z-]+:[^\n]*\n)*\r?\n`)

// withOriginalHeader adds a header field to the returned original of a
// corpus bounce, as if Bulletin had sent that original.
func withOriginalHeader(t testing.TB, raw []byte, field string) []byte {
	t.Helper()
	loc := originalPartRE.FindIndex(raw)
	if loc == nil {
		t.Fatal("no returned original in the message")
	}
	out := append([]byte(nil), raw[:loc[1]]...)
	out = append(out, field+"\r\n"...)
	return append(out, raw[loc[1]:]...)
}

// dsn writes an RFC 3464 bounce for rcpt, returning the original's headers.
func dsn(to, rcpt, status, diag, originalHeaders string) []byte {
	action := "failed"
	if strings.HasPrefix(status, "4") {
		action = "delayed"
	}
	return []byte(strings.ReplaceAll(fmt.Sprintf(`Return-Path: <>
Delivered-To: %s
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: %s
Subject: Undelivered Mail Returned to Sender
Date: Tue, 20 Jan 2026 09:00:00 +0100
Message-ID: <%s@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

<%s>: %s

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: %s
Status: %s
Diagnostic-Code: smtp; %s

--B
Content-Type: text/rfc822-headers

%s
--B--
`, to, to, uuid.NewString(), rcpt, diag, rcpt, action, status, diag, originalHeaders), "\n", "\r\n"))
}

// original writes the headers of a message Bulletin sent.
func original(to string, d deliveryRow, campaign string) string {
	return fmt.Sprintf("From: Bulletin <newsletter@example.org>\nTo: %s\nSubject: Lettre\nMessage-ID: <%s>\nX-Bulletin-Campaign: %s\nX-Bulletin-Delivery: %s\n",
		to, d.messageID, campaign, d.token)
}

// reply writes a message from a person.
func reply(from, to, subject, body string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: Tue, 20 Jan 2026 10:00:00 +0100\nMessage-ID: <%s@example.net>\nContent-Type: text/plain; charset=utf-8\n\n%s\n",
		from, to, subject, uuid.NewString(), body), "\n", "\r\n"))
}

// imapTest is go-imap's in-memory server on loopback, behind a proxy that
// can drop every connection and hide capabilities, as real servers and
// networks do.
type imapTest struct {
	t     testing.TB
	mem   *imapmemserver.Server
	user  *imapmemserver.User
	srv   *imapserver.Server
	proxy *proxy
	addr  string // the proxy's address: what the watcher dials
	tls   *tls.Config
}

type serverOptions struct {
	noMove bool     // the server has no MOVE
	hide   []string // capabilities the proxy hides ("IDLE")
	tls    bool     // implicit TLS
}

func startIMAP(t testing.TB, o serverOptions) *imapTest {
	t.Helper()
	s := &imapTest{t: t, mem: imapmemserver.New(), user: imapmemserver.NewUser("bulletin", "secret")}
	s.mem.AddUser(s.user)
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapNamespace: {}}
	if !o.noMove {
		caps[imap.CapMove] = struct{}{}
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })

	var serverTLS *tls.Config
	if o.tls {
		cert, pool := selfSigned(t, "127.0.0.1")
		s.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		serverTLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	s.proxy = newProxy(t, ln.Addr().String(), o.hide, serverTLS)
	s.addr = s.proxy.addr
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// append puts a message in a mailbox of the server, as delivery would.
func (s *imapTest) append(mailbox string, raw []byte) {
	s.t.Helper()
	if _, err := s.user.Append(mailbox, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// messages lists the UIDs of a mailbox and their flags, through a client of its
// own connected straight to the server.
func (s *imapTest) messages(mailbox string) map[uint32][]imap.Flag {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.proxy.backend, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bulletin", "secret").Wait(); err != nil {
		s.t.Fatal(err)
	}
	return listMessages(s.t, c, mailbox)
}

func listMessages(t testing.TB, c *imapclient.Client, mailbox string) map[uint32][]imap.Flag {
	t.Helper()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	out := map[uint32][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[uint32(m.UID)] = m.Flags
	}
	return out
}

// proxy forwards TCP connections to a backend, and can drop them all or
// hide capabilities in what the server says.
type proxy struct {
	t       testing.TB
	ln      net.Listener
	addr    string
	backend string
	hide    []string
	tls     *tls.Config // when set, clients speak TLS to the proxy

	idles atomic.Int64 // IDLE commands the clients sent

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, backend string, hide []string, serverTLS *tls.Config) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, addr: ln.Addr().String(), backend: backend, hide: hide, tls: serverTLS}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.drop()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.tls != nil {
			c = tls.Server(c, p.tls)
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(b, io.TeeReader(c, idleCounter{&p.idles}))
			b.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.filter(c, b)
			c.Close()
		}()
	}
}

// idleCounter counts the IDLE commands a client writes. A command split
// across two reads would be missed; the tests only need "some".
type idleCounter struct{ n *atomic.Int64 }

func (c idleCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(bytes.Count(p, []byte(" IDLE\r\n"))))
	return len(p), nil
}

// drop closes every connection, as a network failure or a server restart
// would.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

var literalRE = regexp.MustCompile(`\{(\d+)\+?\}\r\n$`)

// filter copies the server's words to the client, removing the hidden
// capabilities from capability lists and passing literals untouched.
func (p *proxy) filter(dst io.Writer, src io.Reader) {
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadString('\n')
		if len(p.hide) > 0 && strings.Contains(line, "CAPABILITY") {
			for _, h := range p.hide {
				line = strings.ReplaceAll(line, " "+h+" ", " ")
				line = strings.ReplaceAll(line, " "+h+"]", "]")
				line = strings.ReplaceAll(line, " "+h+"\r\n", "\r\n")
			}
		}
		if _, werr := io.WriteString(dst, line); werr != nil || err != nil {
			return
		}
		if m := literalRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			if _, err := io.CopyN(dst, r, n); err != nil {
				return
			}
		}
	}
}

// selfSigned returns a certificate for host and a pool that trusts it.
func selfSigned(t testing.TB, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM := selfSignedPEM(t, host)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return cert, pool
}

func selfSignedPEM(t testing.TB, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(host)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// run starts a watcher and returns a function that stops it and waits for
// Run to return.
func run(t testing.TB, w *Watcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil after cancel", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually waits for cond, failing the test after a generous bound; the
// tests assert on states, never on how long they took.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger writes the watcher's log to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
