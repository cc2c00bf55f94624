package campaign

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// Several daemons on one database send one campaign together (issue 14).
// Each engine here has its own handle on the store, as a daemon has: a
// second SQLite connection to the file, or a second PostgreSQL pool when
// BULLETIN_TEST_STORE=postgres.

// shareSender counts one engine's sends, and can hold its first send until
// every engine of the test has made one, so that each takes a share however
// the goroutines are scheduled.
type shareSender struct {
	Sender
	sent    atomic.Int64
	first   sync.Once
	arrived *sync.WaitGroup
	all     chan struct{}
}

func (s *shareSender) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	if s.arrived != nil {
		s.first.Do(s.arrived.Done)
		select {
		case <-s.all:
		case <-time.After(10 * time.Second):
		}
	}
	rcpt, err := s.Sender.Send(ctx, m)
	if err == nil {
		s.sent.Add(1)
	}
	return rcpt, err
}

// together returns n senders over srv whose first sends wait for each other.
func together(t *testing.T, srv *smtptest.Server, n int) []*shareSender {
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() {
		arrived.Wait()
		close(all)
	}()
	out := make([]*shareSender, n)
	for i := range out {
		out[i] = &shareSender{Sender: smtpSender(t, srv, 2, "", ""), arrived: &arrived, all: all}
	}
	return out
}

// goRun runs engines until ctx ends; the function it returns waits for
// them all to return.
func goRun(ctx context.Context, engines ...*Engine) (wait func()) {
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Run(ctx)
		}()
	}
	return wg.Wait
}

// runEngines runs engines until the fixture's campaign leaves sending or
// limit passes, then stops them and waits for them.
func (f *fixture) runEngines(limit time.Duration, engines ...*Engine) *store.Campaign {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, limit)
	defer cancel()
	defer goRun(ctx, engines...)()
	defer cancel()
	for {
		c, err := f.st.CampaignByID(f.ctx, f.c.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		if c.State != store.Sending {
			return c
		}
		if ctx.Err() != nil {
			f.t.Fatalf("campaign still sending after %s", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sentOnce checks that the campaign was recorded sent by one transition.
func (f *fixture) sentOnce(c *store.Campaign) {
	f.t.Helper()
	if c.State != store.Sent {
		f.t.Fatalf("campaign %s (%s), want sent", c.State, c.StateReason)
	}
	tr, err := f.st.CampaignTransitions(f.ctx, f.c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, r := range tr {
		if r.To == store.Sent {
			n++
		}
	}
	if n != 1 {
		f.t.Errorf("%d transitions to sent, want 1", n)
	}
}

// Two engines, two handles on the store, one campaign: each sends a share,
// every recipient gets one message, nobody twice, and the campaign is
// recorded sent once.
func TestSharedCampaignTwoEnginesEachSendAShare(t *testing.T) {
	f := newFixture(t, 60)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: time.Millisecond}})
	f.start()
	s := together(t, srv, 2)
	// Long leases: a stalled engine presumed dead would rightly send again.
	e1 := f.engine(s[0], Options{Owner: "one", Workers: 2, Poll: 20 * time.Millisecond, LeaseTTL: 6 * time.Second})
	e2 := f.engineOn(f.openAgain(), s[1], Options{Owner: "two", Workers: 2, Poll: 20 * time.Millisecond, LeaseTTL: 6 * time.Second})
	f.sentOnce(f.runEngines(60*time.Second, e1, e2))
	for _, e := range f.emails {
		if srv.Received(e) != 1 {
			t.Errorf("%s received %d, want 1", e, srv.Received(e))
		}
	}
	n := f.counts()
	if n.ByState[store.Delivered] != 60 || n.Duplicates != 0 {
		t.Errorf("sent %d, duplicates %d; want 60, 0", n.ByState[store.Delivered], n.Duplicates)
	}
	if s[0].sent.Load() == 0 || s[1].sent.Load() == 0 || s[0].sent.Load()+s[1].sent.Load() != 60 {
		t.Errorf("engines sent %d and %d, want a share each, 60 in all", s[0].sent.Load(), s[1].sent.Load())
	}
}

// dyingSender is the transport of an engine whose daemon dies after its
// relay accepted `after` messages: it loses its database (the store is
// closed, so it records nothing and renews nothing) and sends no more,
// leaving its rows in flight.
type dyingSender struct {
	Sender
	st    *store.Storage
	after int64
	sent  atomic.Int64
	dead  chan struct{}
	once  sync.Once
}

var errDead = errors.New("the daemon is dead")

func (s *dyingSender) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	if s.sent.Load() >= s.after {
		return outgoing.Receipt{}, errDead
	}
	rcpt, err := s.Sender.Send(ctx, m)
	if err == nil && s.sent.Add(1) == s.after {
		s.once.Do(func() {
			s.st.Close()
			close(s.dead)
		})
	}
	return rcpt, err
}

// Invariant 3 across daemons: an engine dies with rows in flight; once its
// lease has expired, the two engines still alive send them again, each row
// once more, counted as a possible duplicate; the extra copies readers got
// are within those counted, and nobody is missed.
func TestSharedCampaignDeadEngineRecovered(t *testing.T) {
	f := newFixture(t, 40)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: time.Millisecond}})
	f.start()
	stDead := f.openAgain()
	dying := &dyingSender{Sender: smtpSender(t, srv, 2, "", ""), st: stDead, after: 3, dead: make(chan struct{})}
	// Records wait up to 20ms for company: what it sent may be unrecorded.
	dead := f.engineOn(stDead, dying, Options{Owner: "dead", Workers: 2, LeaseTTL: 400 * time.Millisecond})
	ctx, cancel := context.WithCancel(f.ctx)
	deadDone := make(chan struct{})
	go func() {
		defer close(deadDone)
		dead.Run(ctx)
	}()
	defer func() {
		cancel()
		<-deadDone
	}()
	select {
	case <-dying.dead:
	case <-time.After(30 * time.Second):
		t.Fatal("the dying engine never sent 3 messages")
	}
	inFlight := f.counts().ByState[store.InFlight]
	if inFlight == 0 {
		t.Fatal("the dead engine left nothing in flight")
	}
	s := together(t, srv, 2)
	// The live engines' leases are long, so that a loaded machine
	// stalling one of them for a moment does not get it presumed dead
	// too: its rows would be sent again, and rightly counted, but then
	// this test could not tell whose.
	live := Options{Workers: 2, Poll: 20 * time.Millisecond, LeaseTTL: 6 * time.Second}
	live.Owner = "one"
	e1 := f.engineOn(f.openAgain(), s[0], live)
	live.Owner = "two"
	e2 := f.engineOn(f.openAgain(), s[1], live)
	f.sentOnce(f.runEngines(60*time.Second, e1, e2))

	n := f.counts()
	if n.ByState[store.Delivered] != 40 {
		t.Errorf("sent %d, want 40", n.ByState[store.Delivered])
	}
	if n.Duplicates != inFlight {
		t.Errorf("duplicates %d, want the %d rows the dead engine left in flight", n.Duplicates, inFlight)
	}
	extra := 0
	for _, e := range f.emails {
		switch got := srv.Received(e); {
		case got == 0:
			t.Errorf("%s was missed", e)
		case got > 1:
			extra += got - 1
		}
	}
	if extra > n.Duplicates {
		t.Errorf("%d extra copies, more than the %d counted", extra, n.Duplicates)
	}
	for _, d := range f.ledger() {
		if d.Duplicates > 1 {
			t.Errorf("%s sent again %d times: recovered by both live engines", d.Email, d.Duplicates)
		}
	}
	if s[0].sent.Load() == 0 || s[1].sent.Load() == 0 {
		t.Errorf("live engines sent %d and %d, want a share each", s[0].sent.Load(), s[1].sent.Load())
	}
}

// The relay's hourly quota holds across daemons: it is counted from the
// shared ledger, and each engine passes it by at most what it has in
// flight (4 per worker).
func TestSharedCampaignQuotaAcrossEngines(t *testing.T) {
	const quota = 10
	f := newFixture(t, 40)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: time.Millisecond}})
	f.start()
	opts := Options{Workers: 1, HourlyQuota: quota, Poll: 20 * time.Millisecond}
	opts.Owner = "one"
	e1 := f.engine(smtpSender(t, srv, 1, "", ""), opts)
	opts.Owner = "two"
	e2 := f.engineOn(f.openAgain(), smtpSender(t, srv, 1, "", ""), opts)
	ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel()
	wait := goRun(ctx, e1, e2)
	for {
		n := f.counts()
		if n.ByState[store.Delivered] >= quota && n.ByState[store.InFlight] == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never reached the quota: %v", n.ByState)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // many polls of both engines
	n := f.counts()
	cancel()
	wait()
	if sent := n.ByState[store.Delivered]; sent > quota+4 || srv.Count() != sent {
		t.Errorf("%d sent (%d received) under an hourly quota of %d: more than one engine's claims over it", sent, srv.Count(), quota)
	}
}

// The rate is shared among the engines sending, and taken back as they
// come and go.
func TestSharedCampaignRateShared(t *testing.T) {
	f := newFixture(t, 200)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: time.Millisecond}})
	f.start()
	opts := Options{Workers: 1, Rate: 40, Poll: 20 * time.Millisecond, LeaseTTL: time.Second}
	opts.Owner = "one"
	e1 := f.engine(smtpSender(t, srv, 1, "", ""), opts)
	opts.Owner = "two"
	e2 := f.engineOn(f.openAgain(), smtpSender(t, srv, 1, "", ""), opts)
	ctx1, cancel1 := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel1()
	ctx2, cancel2 := context.WithCancel(ctx1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e1.Run(ctx1) }()
	go func() { defer wg.Done(); e2.Run(ctx2) }()
	defer wg.Wait()
	defer cancel1()
	waitLimit := func(e *Engine, want rate.Limit, why string) {
		t.Helper()
		for e.limiter.Limit() != want {
			if ctx1.Err() != nil {
				t.Fatalf("%s: limit %v, want %v", why, e.limiter.Limit(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLimit(e1, 20, "two engines sending")
	waitLimit(e2, 20, "two engines sending")
	cancel2()
	waitLimit(e1, 40, "the other engine gone")
}
