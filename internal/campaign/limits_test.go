package campaign

import (
	"context"
	"testing"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// The rate limit holds: 14 messages at 10/s with a burst of 4 cannot take
// less than a second. (A lower bound only: a slow machine passes too.)
func TestRateLimit(t *testing.T) {
	f := newFixture(t, 14)
	srv := smtptest.Start(t, smtptest.Options{Discard: true})
	f.start()
	start := time.Now()
	if c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{Workers: 1, Rate: 10}), 60*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s", c.State)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("14 messages at 10/s took %v, want at least 1s", d)
	}
}

// In quiet hours nothing goes out, and the status says until when.
func TestQuietHoursWait(t *testing.T) {
	f := newFixture(t, 3)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	since := now.Sub(midnight)
	// Quiet from an hour ago to an hour from now (wrapping midnight as needed).
	q := Quiet{Start: (since - time.Hour + 24*time.Hour) % (24 * time.Hour), End: (since + time.Hour) % (24 * time.Hour), Loc: time.UTC}
	q.Start, q.End = q.Start.Truncate(time.Minute), q.End.Truncate(time.Minute)
	e := f.engine(smtpSender(t, srv, 1, "", ""), Options{Quiet: q})
	ctx, cancel := context.WithTimeout(f.ctx, 500*time.Millisecond)
	defer cancel()
	if err := e.RunCampaign(ctx, f.c.ID); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 0 {
		t.Errorf("%d messages sent in quiet hours", srv.Count())
	}
	c, _ := f.st.CampaignByID(f.ctx, f.c.ID)
	s, err := CampaignStatus(f.ctx, f.st, c, e.Options())
	if err != nil {
		t.Fatal(err)
	}
	if s.Waiting.String() != "quiet hours" || s.WaitUntil.Before(now.Add(50*time.Minute)) || s.EstimatedEnd.Before(s.WaitUntil) {
		t.Errorf("status: waiting %q until %v, end %v; want quiet hours for about an hour", s.Waiting, s.WaitUntil, s.EstimatedEnd)
	}
}

// Staff pause a campaign the daemon is sending: the engine stops within a
// heartbeat, the sends in flight are recorded, and a resume finishes it with
// one message each.
func TestPauseAndResumeWhileSending(t *testing.T) {
	f := newFixture(t, 40)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: 5 * time.Millisecond}})
	f.start()
	e := f.engine(smtpSender(t, srv, 2, "", ""), Options{Workers: 2, LeaseTTL: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for srv.Count() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	c, _ := f.st.CampaignByID(f.ctx, f.c.ID)
	if err := Transition(f.ctx, f.st, c, Change{To: store.Paused, Cause: i18n.Text("staff"), Reason: i18n.M("campaign.reason.paused_by_staff")}); err != nil {
		t.Fatal(err)
	}
	// Within a heartbeat the engine stops and records what was in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := f.counts()
		engines, _ := f.st.LiveEngines(f.ctx, time.Now())
		if n.ByState[store.InFlight] == 0 && engines == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine still holds the paused campaign: %v, %d engines", n.ByState, engines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := srv.Count()
	time.Sleep(300 * time.Millisecond)
	if srv.Count() != stopped || stopped == 40 {
		t.Fatalf("%d messages after the pause had settled at %d (of 40)", srv.Count(), stopped)
	}
	if err := Transition(f.ctx, f.st, c, Change{To: store.Sending, Cause: i18n.Text("staff: resume")}); err != nil {
		t.Fatal(err)
	}
	e.Wake()
	for {
		c, _ = f.st.CampaignByID(f.ctx, f.c.ID)
		if c.State == store.Sent || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if c.State != store.Sent {
		t.Fatalf("campaign %s", c.State)
	}
	for _, em := range f.emails {
		if srv.Received(em) != 1 {
			t.Errorf("%s received %d, want 1", em, srv.Received(em))
		}
	}
}
