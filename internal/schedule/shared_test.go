package schedule

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

// The tests run twice: on SQLite, then on PostgreSQL (see pgtest.Both).
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// Three daemons' schedulers, each with its own handle on the database,
// running side by side: a recurring reminder is mailed once and a recurring
// campaign copied and started once. No lease is needed: a firing is claimed
// by moving next_at forward in one conditional update (AdvanceSchedule),
// which only one scheduler's update finds still due.
func TestRecurringFiresOnceWithSeveralSchedulers(t *testing.T) {
	st, c, location := setup(t)
	ctx := context.Background()
	due := time.Now().Add(-time.Minute)
	for _, sch := range []*store.Schedule{
		{Spec: "0 9 15 3,6,9,12 *", Kind: store.ScheduleReminder, Reminder: "Préparer la lettre", NextAt: due},
		{Spec: "0 9 1 */3 *", Kind: store.ScheduleCampaign, CampaignID: c.ID, NextAt: due},
	} {
		if err := st.CreateSchedule(ctx, sch); err != nil {
			t.Fatal(err)
		}
	}
	var reminded, started atomic.Int32
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 3 {
		other, err := store.Open(ctx, location)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		s := newScheduler(other, Options{Poll: 10 * time.Millisecond,
			Started: func() { started.Add(1) },
			Remind:  func(context.Context, *store.Schedule) error { reminded.Add(1); return nil }})
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Run(runCtx)
		}()
	}
	// Until both have fired, then many more polls of every scheduler.
	for i := 0; reminded.Load() == 0 || started.Load() == 0; i++ {
		if i == 2000 {
			t.Fatal("the schedules never fired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	if reminded.Load() != 1 || started.Load() != 1 {
		t.Errorf("reminder mailed %d times, campaign started %d times; want once each", reminded.Load(), started.Load())
	}
	all, err := st.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].State != store.Sending {
		t.Errorf("%d campaigns, want the original and one copy sending", len(all))
	}
}
