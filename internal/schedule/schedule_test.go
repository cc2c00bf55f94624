package schedule

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

var paris, _ = time.LoadLocation("Europe/Paris")

func setup(t *testing.T) (*store.Storage, *store.Campaign, string) {
	t.Helper()
	ctx := context.Background()
	path := pgtest.Location(t) // a file, or a PostgreSQL database with BULLETIN_TEST_STORE=postgres
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddSubscriber(ctx, &store.Subscriber{Email: "a@example.org", Status: store.Active}, []string{"Partenaires"}, false); err != nil {
		t.Fatal(err)
	}
	l, _ := st.ListByName(ctx, "Partenaires")
	ed := &store.Edition{Slug: "e", Source: "---\ntitle: T\nsubject: S\n---\n\nBonjour\n"}
	if _, err := st.SaveEdition(ctx, ed); err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Lettre", EditionID: ed.ID, Subject: "S", From: "a@example.org", ListIDs: []int64{l.ID}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	c, _ = st.CampaignByID(ctx, c.ID)
	return st, c, path
}

func newScheduler(st *store.Storage, opts Options) *Scheduler {
	opts.Location = paris
	if opts.Grace == 0 {
		opts.Grace = 6 * time.Hour
	}
	return New(st, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestNext(t *testing.T) {
	from := time.Date(2026, 1, 15, 12, 0, 0, 0, paris)
	cases := []struct {
		spec string
		want time.Time
	}{
		{"0 9 1 */3 *", time.Date(2026, 4, 1, 9, 0, 0, 0, paris)},        // each quarter
		{"0 9 15 3,6,9,12 *", time.Date(2026, 3, 15, 9, 0, 0, 0, paris)}, // two weeks before each quarter
		{"@monthly", time.Date(2026, 2, 1, 0, 0, 0, 0, paris)},
	}
	for _, c := range cases {
		got, err := Next(c.spec, paris, from)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("Next(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	if _, err := Next("0 9 * *", paris, from); err == nil || !strings.Contains(err.Error(), "5 fields") {
		t.Errorf("Next with 4 fields: %v", err)
	}
}

// A send time reached fires once, even with two schedulers on the database.
func TestSendAtFiresOnce(t *testing.T) {
	st, c, path := setup(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour) // missed while down, within grace
	if err := campaign.Transition(ctx, st, c, campaign.Change{To: store.Scheduled, Cause: i18n.Text("test"), SendAt: at}); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var started atomic.Int32
	var wg sync.WaitGroup
	for _, s := range []*store.Storage{st, st2, st} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := newScheduler(s, Options{Started: func() { started.Add(1) }}).Tick(ctx, time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, _ = st.CampaignByID(ctx, c.ID)
	tr, _ := st.CampaignTransitions(ctx, c.ID)
	if c.State != store.Sending || started.Load() != 1 || len(tr) != 3 {
		t.Errorf("state %s, started %d times, %d transitions; want sending, once, 3", c.State, started.Load(), len(tr))
	}
	if !strings.Contains(tr[2].Cause.String(), "late") {
		t.Errorf("cause %q does not say it fired late", tr[2].Cause)
	}
}

func TestSendAtMissedBeyondGrace(t *testing.T) {
	st, c, _ := setup(t)
	ctx := context.Background()
	if err := campaign.Transition(ctx, st, c, campaign.Change{To: store.Scheduled, Cause: i18n.Text("test"), SendAt: time.Now().Add(-8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := newScheduler(st, Options{}).Tick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, _ = st.CampaignByID(ctx, c.ID)
	if c.State != store.Draft || !strings.Contains(c.StateReason, "missed") {
		t.Errorf("state %s %q, want draft with the reason", c.State, c.StateReason)
	}
	if n, _ := st.CampaignDeliveryCounts(ctx, c.ID); n.Total != 0 {
		t.Error("a missed campaign was started")
	}
}

func TestRecurringReminder(t *testing.T) {
	st, _, _ := setup(t)
	ctx := context.Background()
	now := time.Now()
	sch := &store.Schedule{Spec: "0 9 15 3,6,9,12 *", Kind: store.ScheduleReminder, Reminder: "Préparer la lettre", NextAt: now.Add(-time.Minute)}
	if err := st.CreateSchedule(ctx, sch); err != nil {
		t.Fatal(err)
	}
	missed := &store.Schedule{Spec: "0 9 * * *", Kind: store.ScheduleReminder, Reminder: "old", NextAt: now.Add(-10 * time.Hour)}
	if err := st.CreateSchedule(ctx, missed); err != nil {
		t.Fatal(err)
	}
	var sent []string
	s := newScheduler(st, Options{Remind: func(_ context.Context, sch *store.Schedule) error {
		sent = append(sent, sch.Reminder)
		return nil
	}})
	for range 3 {
		if err := s.Tick(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(sent, ",") != "Préparer la lettre" {
		t.Errorf("reminders sent: %q, want the one due within grace, once", sent)
	}
	all, _ := st.Schedules(ctx)
	for _, x := range all {
		if !x.NextAt.After(now) {
			t.Errorf("schedule %q next at %v, not moved forward", x.Reminder, x.NextAt)
		}
		if x.Reminder == "old" && !strings.HasPrefix(x.LastResult, "missed") {
			t.Errorf("missed schedule's result %q", x.LastResult)
		}
	}
}

func TestRecurringCampaign(t *testing.T) {
	st, c, _ := setup(t)
	ctx := context.Background()
	sch := &store.Schedule{Spec: "0 9 1 */3 *", Kind: store.ScheduleCampaign, CampaignID: c.ID, NextAt: time.Now().Add(-time.Second)}
	if err := st.CreateSchedule(ctx, sch); err != nil {
		t.Fatal(err)
	}
	if err := newScheduler(st, Options{}).Tick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	all, _ := st.Campaigns(ctx)
	if len(all) != 2 || all[0].State != store.Sending || !strings.HasPrefix(all[0].Name, "Lettre — ") {
		t.Fatalf("campaigns %+v, want a copy sending", all[0])
	}
	if n, _ := st.CampaignDeliveryCounts(ctx, all[0].ID); n.ByState[store.Queued] != 1 {
		t.Errorf("copy's ledger %v", n.ByState)
	}
}
