package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
	"bulletin/internal/token"
)

// The tests run twice: on SQLite, then on PostgreSQL (see pgtest.Both).
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// part counts the daemons running a singleton's part, and how many ever
// ran it at once.
type part struct {
	mu           sync.Mutex
	running, max int
	ran          map[string]int // starts, by daemon
}

func (p *part) fn(owner string) func(context.Context) {
	return func(ctx context.Context) {
		p.mu.Lock()
		p.running++
		p.max = max(p.max, p.running)
		p.ran[owner]++
		p.mu.Unlock()
		<-ctx.Done()
		p.mu.Lock()
		p.running--
		p.mu.Unlock()
	}
}

func (p *part) starts(owner string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ran[owner]
}

// daemons opens n handles on one store (n daemons on one database) and
// returns a mailbox singleton for each.
func daemons(t *testing.T, n int, ttl time.Duration) []*singleton {
	loc := pgtest.Location(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var out []*singleton
	for i := range n {
		st, err := store.Open(context.Background(), loc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		owner := string(rune('a' + i))
		out = append(out, &singleton{st: st, name: "mailbox", owner: owner, ttl: ttl, log: log.With(slog.String("daemon", owner))})
	}
	return out
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// Of three daemons, one watches the mailbox and renews its lease while the
// others stand by; when it stops, another takes over.
func TestMailboxWatchedByOneDaemon(t *testing.T) {
	ds := daemons(t, 3, 300*time.Millisecond)
	p := &part{ran: map[string]int{}}
	ctxs := make([]context.CancelFunc, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		ctx, cancel := context.WithCancel(context.Background())
		ctxs[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.run(ctx, p.fn(d.owner))
		}()
	}
	defer func() {
		for _, c := range ctxs {
			c()
		}
		wg.Wait()
	}()
	holder := -1
	waitFor(t, "a daemon watches the mailbox", func() bool {
		for i, d := range ds {
			if d.held.Load() {
				holder = i
			}
		}
		return holder >= 0
	})
	// Several lease lengths: the holder renews, the others keep standing by.
	time.Sleep(time.Second)
	for i, d := range ds {
		if i != holder && p.starts(d.owner) != 0 {
			t.Errorf("daemon %s watched the mailbox beside %s", d.owner, ds[holder].owner)
		}
	}
	if p.starts(ds[holder].owner) != 1 {
		t.Errorf("holder started the watcher %d times, want 1 (its lease lapsed)", p.starts(ds[holder].owner))
	}
	// The holder shuts down: it gives the lease up and another takes over.
	ctxs[holder]()
	waitFor(t, "another daemon takes the mailbox over", func() bool {
		for i, d := range ds {
			if i != holder && d.held.Load() {
				return true
			}
		}
		return false
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.max != 1 {
		t.Errorf("%d daemons watched the mailbox at once", p.max)
	}
}

// A holder that dies (it loses its database: it renews nothing, gives
// nothing up) keeps the lease until it expires; then another daemon takes
// the mailbox over, and never while the dead one's lease is live.
func TestMailboxTakenOverWhenHolderDies(t *testing.T) {
	const ttl = time.Second
	ds := daemons(t, 2, ttl)
	ctx := context.Background()
	a, b := ds[0], ds[1]
	// a holds the lease; b's attempts fail while it is live.
	if ok, err := a.st.TakeLease(ctx, "mailbox", a.owner, time.Now().Add(ttl)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := b.st.TakeLease(ctx, "mailbox", b.owner, time.Now().Add(ttl)); ok || err != nil {
		t.Fatalf("b took a live lease: %v, %v", ok, err)
	}
	p := &part{ran: map[string]int{}}
	actx, stopA := context.WithCancel(ctx)
	bctx, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.run(actx, p.fn(a.owner)) }()
	waitFor(t, "a watches the mailbox", func() bool { return p.starts(a.owner) == 1 })
	go func() { defer wg.Done(); b.run(bctx, p.fn(b.owner)) }()
	defer func() {
		stopA()
		stopB()
		wg.Wait()
	}()
	// a dies: its database is gone. It stops its watcher at its next
	// renewal, two thirds of a lease before b may take over.
	a.st.Close()
	waitFor(t, "b takes the mailbox over", func() bool { return p.starts(b.owner) == 1 })
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.max != 1 {
		t.Errorf("%d daemons watched the mailbox at once", p.max)
	}
}

// Two daemons configured with the same IMAP mailbox (go-imap's in-memory
// server on loopback): only one logs in and watches it; when that daemon
// shuts down, the other does.
func TestMailboxWatcherSingleAcrossDaemons(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bulletin", "secret")
	mem.AddUser(user)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var sessions atomic.Int32
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			sessions.Add(1)
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cfg := config.Default()
	cfg.IMAP.Host, cfg.IMAP.Port, cfg.IMAP.TLS = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, "none"
	cfg.IMAP.Username, cfg.IMAP.Password = "bulletin", "secret"
	ds := daemons(t, 2, 300*time.Millisecond)
	var ws []*mailboxWatcher
	for _, d := range ds {
		w, err := newMailboxWatcher(&cfg, d.st, Links(&cfg, token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))), d.log)
		if err != nil {
			t.Fatal(err)
		}
		w.lease.ttl = d.ttl
		w.start(context.Background(), d.owner)
		ws = append(ws, w)
	}
	stop := func(w *mailboxWatcher) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.stop(ctx); err != nil {
			t.Error(err)
		}
	}
	defer func() {
		for _, w := range ws {
			stop(w)
		}
	}()
	connected := func() (n, which int) {
		for i, w := range ws {
			if w.w.Health().Connected {
				n, which = n+1, i
			}
		}
		return n, which
	}
	waitFor(t, "a daemon watches the mailbox", func() bool { n, _ := connected(); return n == 1 })
	time.Sleep(time.Second) // several lease lengths
	n, holder := connected()
	if n != 1 || sessions.Load() != 1 {
		t.Fatalf("%d watchers connected, %d IMAP sessions; want 1 and 1", n, sessions.Load())
	}
	for i, w := range ws {
		if err := w.health()["mailbox"](context.Background()); err != nil {
			t.Errorf("daemon %d's health: %v (the standby must not be unhealthy)", i, err)
		}
	}
	stop(ws[holder])
	other := ws[1-holder]
	waitFor(t, "the other daemon takes the mailbox over", func() bool { return other.w.Health().Connected })
	if sessions.Load() != 2 {
		t.Errorf("%d IMAP sessions, want 2 (one per holder)", sessions.Load())
	}
}
