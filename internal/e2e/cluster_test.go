package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read the ledger by engine

	"bulletin/internal/smtptest"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

// Three daemons on one PostgreSQL database share a campaign; one of them
// dies (SIGKILL) halfway. Every reader gets the letter; the extra copies
// are at most the deliveries the dead one had in flight, which the ledger
// counts as possible duplicates; each daemon sent a share; one daemon only
// read the mailbox.
//
// The relay is one smtptest server: it counts the copies per recipient,
// and per EHLO name, which differs from daemon to daemon (smtp.helo), so
// that each one's share is seen on the wire as well as in the ledger
// (deliveries.claimed_by). The mailbox is one in-memory IMAP account that
// each daemon reaches through a listener of its own, so that the server
// knows which daemon logged in.
func TestClusterSharesCampaignAndSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three daemons on PostgreSQL")
	}
	const (
		n           = 20_000
		daemons     = 3
		connections = 4
		// The rate over all daemons, each taking its share: 20,000 messages
		// take 35 s at least (a minute or more on a loaded machine), long
		// enough to kill a daemon halfway, short enough for the budget.
		rate = 600
	)
	// Every wait below shares one budget, so that the test ends within
	// three minutes however the machine is loaded.
	deadline := time.Now().Add(170 * time.Second)
	dsn := pgtest.DSN(t) // skips, or fails under BULLETIN_INTEGRATION=required, without PostgreSQL
	bin := build(t)
	left := func() time.Duration { return max(time.Until(deadline), time.Second) }

	relay := smtptest.Start(t, smtptest.Options{Discard: true})
	mbox := startIMAPAccount(t, daemons)
	// A reader's reply waits in the mailbox: the watcher moves it out of
	// the inbox, which shows that it ran, not only that it logged in.
	mbox.deliver(t, "Subject: Re: Lettre\r\nFrom: lecteur00001@example.net\r\nTo: lettre@example.org\r\nMessage-ID: <reply-1@example.net>\r\n\r\nMerci pour la lettre.\r\n")

	ds := make([]*node, daemons)
	for i := range ds {
		d := &node{name: fmt.Sprintf("daemon%d", i+1), dir: t.TempDir()}
		d.helo = d.name + ".test"
		d.log = filepath.Join(d.dir, "serve.log")
		ds[i] = d
		writeIn(t, d.dir, "config.yaml", fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  shutdown_timeout: 20s
store:
  driver: postgres
  dsn: %q
  path: data/bulletin.db
sending:
  from: MICS 34 <lettre@example.org>
  rate: %d
  retry_backoff: 100ms
smtp:
  host: %s
  port: %d
  tls: none
  connections: %d
  timeout: 10s
  helo: %s
imap:
  host: 127.0.0.1
  port: %d
  tls: none
  username: bulletin
  password: secret
  mailbox: INBOX
  poll_interval: 1s
`, dsn, rate, relay.Host(), relay.Port(), connections, d.helo, mbox.ports[i]))
	}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			for _, d := range ds {
				d.dump(t)
			}
		}
	})

	// The subscribers, the edition and the campaign, with the command line
	// against the shared database.
	admin := ds[0].dir
	setup := time.Now()
	var csv strings.Builder
	csv.WriteString("email;prénom;nom\n")
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("lecteur%05d@example.net", i)
		fmt.Fprintf(&csv, "%s;Zoé;N%d\n", emails[i], i)
	}
	writeIn(t, admin, "abonnes.csv", csv.String())
	writeIn(t, admin, "lettre.md", "---\ntitle: Lettre de printemps\ndate: 2026-03-20\nsubject: La lettre de printemps\npreheader: Les nouvelles du trimestre\nlists: [Partenaires]\n---\n\nBonjour,\n\nVoici les nouvelles du trimestre.\n")
	run(t, bin, admin, "import", "--list", "Partenaires", "--create-list", "abonnes.csv")
	out := run(t, bin, admin, "campaign", "create", "--edition", filepath.Join(admin, "lettre.md"), "--list", "Partenaires")
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	if id == "" {
		t.Fatalf("no campaign id in %q", out)
	}
	run(t, bin, admin, "campaign", "send", id, "--yes")

	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.FindCampaign(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	setupTook := time.Since(setup)
	started := time.Now()
	for _, d := range ds {
		d.start(t, bin)
	}
	checkAlive := func() {
		for _, d := range ds {
			if d.hasExited() && !d.killed {
				t.Fatalf("%s exited by itself: %v", d.name, d.err)
			}
		}
	}
	waitFor(t, "half the messages", left(), func() bool { checkAlive(); return relay.Count() >= n/2 })

	// The victim is a daemon that does not read the mailbox, so that the
	// watcher must stay in one daemon from start to end; one that sent, if
	// any.
	watcher := mbox.reader()
	victim := -1
	for i, d := range ds {
		if i == watcher {
			continue
		}
		if victim < 0 || relay.CountFrom(ds[victim].helo) == 0 && relay.CountFrom(d.helo) > 0 {
			victim = i
		}
	}
	v := ds[victim]
	// The relay slows down for a moment, so that the victim's transactions
	// are still under way when the kill lands: a message takes
	// milliseconds, less than it takes to see it in flight and kill.
	relay.SetFaults(smtptest.Faults{Delay: time.Second})
	// A victim that has nothing in flight after a while is killed all the
	// same: the checks below say what is wrong.
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		if v.count(ledgerByOwner(t, db, c.ID), store.InFlight) > 0 {
			break
		}
	}
	v.killed = true
	if err := v.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-v.exited
	relay.SetFaults(smtptest.Faults{})
	atKill := relay.Count()
	killedAfter := time.Since(started)

	// What the ledger says the dead daemon had in flight.
	inFlight := v.count(ledgerByOwner(t, db, c.ID), store.InFlight)
	counts, err := st.CampaignDeliveryCounts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts.ByState[store.Queued] == 0 {
		t.Fatalf("at the kill the ledger is %v; the kill should land mid-campaign", counts.ByState)
	}

	var final *store.DeliveryCounts
	waitFor(t, "the campaign to be sent after the kill", left(), func() bool {
		checkAlive()
		c, err := st.CampaignByID(ctx, c.ID)
		if err != nil || c.State != store.Sent {
			return false
		}
		final, err = st.CampaignDeliveryCounts(ctx, c.ID)
		return err == nil
	})
	elapsed := time.Since(started)
	waitFor(t, "the reply to leave the inbox", left(), func() bool { return mbox.inbox(t) == 0 })

	// The survivors stop cleanly.
	for _, d := range ds {
		if d.killed {
			continue
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
			if d.err != nil {
				t.Errorf("%s after SIGTERM: %v (want a clean exit)", d.name, d.err)
			}
		case <-time.After(left()):
			t.Errorf("%s still running %s after SIGTERM", d.name, left())
		}
	}

	// Everybody got the letter; the extra copies are within what was in
	// flight at the kill, all of it counted.
	missing, twice := 0, 0
	for _, e := range emails {
		switch got := relay.Received(e); {
		case got == 0:
			if missing++; missing <= 10 {
				t.Errorf("%s was never mailed", e)
			}
		case got > 1:
			twice++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d recipients were never mailed", missing, n)
	}
	copies := relay.Count()
	extra := copies - n
	if final.ByState[store.Delivered] != n {
		t.Errorf("ledger %v, want %d sent", final.ByState, n)
	}
	if extra < 0 || extra > final.Duplicates || twice > final.Duplicates {
		t.Errorf("%d copies for %d recipients (%d extra, %d recipients mailed twice), the ledger counts %d possible duplicates; want extra ≤ counted",
			copies, n, extra, twice, final.Duplicates)
	}
	// What one engine can leave in flight (campaign's run and record): 4
	// claims per connection, from the claim until the send's outcome is
	// handed over; 4 outcomes per connection waiting for the recorder; and
	// the batch it is writing, up to 128 outcomes: rows stay in flight
	// until their outcome is written.
	const engineInFlight = 8*connections + 128
	if inFlight == 0 || final.Duplicates != inFlight || inFlight > engineInFlight {
		t.Errorf("the ledger counts %d possible duplicates, %s had %d deliveries in flight at the kill; want equal, more than 0, and at most what one engine holds (%d)",
			final.Duplicates, v.name, inFlight, engineInFlight)
	}

	// Each daemon sent a share: on the wire (its EHLO name) and in the
	// ledger (the engine that claimed each sent row).
	rows := ledgerByOwner(t, db, c.ID)
	var shares []string
	wire := 0
	for _, d := range ds {
		ledger := d.count(rows, store.Delivered)
		w := relay.CountFrom(d.helo)
		wire += w
		shares = append(shares, fmt.Sprintf("%s %d on the wire, %d in the ledger", d.name, w, ledger))
		if w == 0 || ledger == 0 {
			t.Errorf("%s sent %d messages (ledger: %d); want a share of the campaign from each daemon", d.name, w, ledger)
		}
	}
	if wire != copies {
		t.Errorf("the daemons' EHLO names account for %d of the %d messages received", wire, copies)
	}

	// The mailbox watcher ran in exactly one daemon, and never in two at once.
	logins, most := mbox.stats()
	readers := 0
	for _, l := range logins {
		if l > 0 {
			readers++
		}
	}
	if readers != 1 || most != 1 {
		t.Errorf("IMAP logins per daemon %v, at most %d sessions at once; want one daemon only reading the mailbox", logins, most)
	}
	var cpu []string
	for _, d := range ds {
		errs := d.errors()
		for i, l := range errs {
			if i == 10 {
				t.Errorf("%s logged %d more errors", d.name, len(errs)-i)
				break
			}
			t.Errorf("%s logged: %s", d.name, l)
		}
		if d.hasExited() {
			ps := d.cmd.ProcessState
			cpu = append(cpu, fmt.Sprintf("%s %.1fs", d.name, (ps.UserTime()+ps.SystemTime()).Seconds()))
		}
	}

	t.Logf("import, campaign create and send took %.1fs; %d recipients, 3 daemons at %d msg/s in all: %s killed (SIGKILL) after %.1fs at %d messages received, with %d deliveries in flight in the ledger; sent after %.1fs; %d copies received (%d extra, %d recipients mailed twice), %d counted as possible duplicates; shares: %s; IMAP logins per daemon %v; CPU per daemon: %s",
		setupTook.Seconds(), n, rate, v.name, killedAfter.Seconds(), atKill, inFlight, elapsed.Seconds(), copies, extra, twice, final.Duplicates,
		strings.Join(shares, "; "), logins, strings.Join(cpu, ", "))
}

// node is one "bulletin serve" process with its own folder and log.
type node struct {
	name, dir, log, helo string
	cmd                  *exec.Cmd
	exited               chan struct{} // closed once the process has exited; err is then its status
	err                  error
	killed               bool
}

func (d *node) start(t *testing.T, bin string) {
	t.Helper()
	f, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, "serve")
	d.cmd.Dir, d.cmd.Stdout, d.cmd.Stderr = d.dir, f, f
	if err := d.cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() {
		d.err = d.cmd.Wait()
		f.Close()
		close(d.exited)
	}()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.exited
	})
}

func (d *node) hasExited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// count returns how many deliveries in state the daemon's engine holds, of
// those ledgerByOwner counted. An engine is named host:pid:random.
func (d *node) count(rows map[ledgerKey]int, state store.DeliveryState) int {
	n := 0
	for k, cnt := range rows {
		if k.state == state && strings.Contains(k.owner, fmt.Sprintf(":%d:", d.cmd.Process.Pid)) {
			n += cnt
		}
	}
	return n
}

// errors returns the lines the daemon logged at level ERROR.
func (d *node) errors() []string {
	b, _ := os.ReadFile(d.log)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "level=ERROR") {
			out = append(out, sc.Text())
		}
	}
	return out
}

// dump prints the daemon's log: its warnings and errors, and its last lines.
func (d *node) dump(t *testing.T) {
	b, _ := os.ReadFile(d.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var keep []string
	for i, l := range lines {
		if i >= len(lines)-30 || strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 200 {
		keep = append(keep[:100], append([]string{"…"}, keep[len(keep)-100:]...)...)
	}
	t.Logf("%s (%s):\n%s", d.name, d.log, strings.Join(keep, "\n"))
}

func writeIn(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

type ledgerKey struct {
	owner string
	state store.DeliveryState
}

// ledgerByOwner counts a campaign's deliveries by engine and state.
func ledgerByOwner(t *testing.T, db *sql.DB, campaignID int64) map[ledgerKey]int {
	t.Helper()
	rows, err := db.Query("SELECT coalesce(claimed_by, ''), state, count(*) FROM deliveries WHERE campaign_id = $1 GROUP BY 1, 2", campaignID)
	if err != nil {
		t.Fatalf("reading the ledger: %v", err)
	}
	defer rows.Close()
	out := map[ledgerKey]int{}
	for rows.Next() {
		var k ledgerKey
		var cnt int
		if err := rows.Scan(&k.owner, &k.state, &cnt); err != nil {
			t.Fatal(err)
		}
		out[k] = cnt
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// imapAccount is one IMAP account in go-imap's in-memory server, reached by
// each daemon through a listener of its own (ports[i]), so that every
// login is known by daemon.
type imapAccount struct {
	user  *imapmemserver.User
	ports []int

	mu     sync.Mutex
	logins []int // successful logins per daemon
	open   int   // sessions logged in now, all daemons
	most   int   // the most sessions logged in at once
}

func startIMAPAccount(t *testing.T, daemons int) *imapAccount {
	t.Helper()
	m := &imapAccount{user: imapmemserver.NewUser("bulletin", "secret"), logins: make([]int, daemons)}
	if err := m.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i := range daemons {
		srv := imapserver.New(&imapserver.Options{
			NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return &countedSession{m: m, daemon: i}, nil, nil
			},
			Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapNamespace: {}, imap.CapMove: {}},
			InsecureAuth: true,
			Logger:       quietIMAPLog{},
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		m.ports = append(m.ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return m
}

// deliver puts a message in the inbox, as the mail server would.
func (m *imapAccount) deliver(t *testing.T, raw string) {
	t.Helper()
	if _, err := m.user.Append("INBOX", rawLiteral{strings.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// inbox returns how many messages are in the inbox.
func (m *imapAccount) inbox(t *testing.T) uint32 {
	t.Helper()
	st, err := m.user.Status("INBOX", &imap.StatusOptions{NumMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

// reader returns the first daemon that logged in, or -1.
func (m *imapAccount) reader() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, l := range m.logins {
		if l > 0 {
			return i
		}
	}
	return -1
}

func (m *imapAccount) stats() (logins []int, most int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.logins...), m.most
}

// countedSession is the in-memory server's session, counting logins and
// the sessions logged in at once.
type countedSession struct {
	*imapmemserver.UserSession // nil until login
	m                          *imapAccount
	daemon                     int
}

func (s *countedSession) Login(username, password string) error {
	if err := s.m.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.m.user)
	s.m.mu.Lock()
	s.m.logins[s.daemon]++
	s.m.open++
	s.m.most = max(s.m.most, s.m.open)
	s.m.mu.Unlock()
	return nil
}

func (s *countedSession) Close() error {
	if s.UserSession == nil {
		return nil
	}
	s.m.mu.Lock()
	s.m.open--
	s.m.mu.Unlock()
	return s.UserSession.Close()
}

type rawLiteral struct {
	*strings.Reader
	n int64
}

func (l rawLiteral) Size() int64 { return l.n }

type quietIMAPLog struct{}

func (quietIMAPLog) Printf(string, ...any) {}
