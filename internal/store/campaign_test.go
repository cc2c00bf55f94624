package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/i18n"
)

// campaignWith makes a list of n active subscribers, an edition and a draft
// campaign to the list.
func campaignWith(t *testing.T, s *Storage, n int) *Campaign {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if err := s.AddSubscriber(ctx, &Subscriber{Email: fmt.Sprintf("s%d@example.org", i), Status: Active}, []string{"L"}, false); err != nil {
			t.Fatal(err)
		}
	}
	l, _ := s.ListByName(ctx, "L")
	ed := &Edition{Slug: "e1", Title: "T", Source: "src"}
	if created, err := s.SaveEdition(ctx, ed); err != nil || !created {
		t.Fatal(created, err)
	}
	c := &Campaign{Name: "C", EditionID: ed.ID, Subject: "S", From: "a@example.org", ListIDs: []int64{l.ID}}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// sendingCampaign is campaignWith, started: its ledger fixed.
func sendingCampaign(t *testing.T, s *Storage, n int) *Campaign {
	t.Helper()
	c := campaignWith(t, s, n)
	if _, err := s.TransitionCampaign(context.Background(), Transition{CampaignID: c.ID, From: []CampaignState{Draft}, To: Sending, Cause: i18n.Text("t")}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSaveEditionBySlug(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	a := &Edition{Slug: "x", Title: "one", Source: "1"}
	s.SaveEdition(ctx, a)
	b := &Edition{Slug: "x", Title: "two", Source: "2"}
	created, err := s.SaveEdition(ctx, b)
	if err != nil || created || b.ID != a.ID || b.UUID != a.UUID {
		t.Fatalf("second save: created %v, id %d/%d, err %v; want the same edition updated", created, b.ID, a.ID, err)
	}
	got, _ := s.EditionBySlug(ctx, "x")
	if got.Source != "2" || got.Title != "two" {
		t.Errorf("EditionBySlug = %+v", got)
	}
}

func TestStartFixesLedgerWithUUIDs(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := sendingCampaign(t, s, 50)
	content, _, err := s.CampaignContent(ctx, c.ID)
	if err != nil || content != "src" {
		t.Errorf("frozen content %q, %v", content, err)
	}
	seen := map[uuid.UUID]bool{}
	s.CampaignDeliveries(ctx, c.ID, "", func(d *Delivery) error {
		if d.UUID.Version() != 4 || d.UUID.Variant() != uuid.RFC4122 || seen[d.UUID] {
			t.Errorf("delivery UUID %s: version %d variant %v, seen %v", d.UUID, d.UUID.Version(), d.UUID.Variant(), seen[d.UUID])
		}
		seen[d.UUID] = true
		return nil
	})
	if len(seen) != 50 {
		t.Errorf("%d deliveries, want 50", len(seen))
	}
	// Resuming later does not fix the recipients again.
	s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Sending}, To: Paused, Cause: i18n.Text("t")})
	s.AddSubscriber(ctx, &Subscriber{Email: "late@example.org", Status: Active}, []string{"L"}, false)
	s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Paused}, To: Sending, Cause: i18n.Text("t")})
	if n, _ := s.CampaignDeliveryCounts(ctx, c.ID); n.Total != 50 {
		t.Errorf("after resume: %d deliveries, want the 50 fixed at start", n.Total)
	}
	var se *StateError
	if _, err := s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Draft}, To: Sending, Cause: i18n.Text("t")}); !errors.As(err, &se) || se.Current != Sending {
		t.Errorf("transition from the wrong state: %v", err)
	}
}

// Two engines hold leases on one campaign at once and claim rows of their
// own; when one stops renewing, the other sends its rows again, counted as
// possible duplicates, and its late results change nothing.
func TestLeaseAndClaim(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := campaignWith(t, s, 5)
	if _, err := s.ClaimDeliveries(ctx, c.ID, "a", 5, time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("claim without a lease: %v, want ErrLeaseLost", err)
	}
	if ok, _ := s.AcquireLease(ctx, c.ID, "a", time.Now().Add(time.Minute)); ok {
		t.Fatal("a took a lease on a draft campaign")
	}
	s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Draft}, To: Sending, Cause: i18n.Text("t")})
	now := time.Now()
	if ok, _ := s.AcquireLease(ctx, c.ID, "a", now.Add(150*time.Millisecond)); !ok {
		t.Fatal("a could not take a lease")
	}
	if ok, _ := s.AcquireLease(ctx, c.ID, "b", now.Add(time.Minute)); !ok {
		t.Fatal("b could not take a lease beside a's")
	}
	if n, err := s.LiveEngines(ctx, now); n != 2 || err != nil {
		t.Errorf("LiveEngines = %d, %v; want 2", n, err)
	}
	ds, err := s.ClaimDeliveries(ctx, c.ID, "a", 2, now)
	if err != nil || len(ds) != 2 || ds[0].Subscriber == nil || ds[0].ClaimedBy != "a" {
		t.Fatalf("claim: %d, %v", len(ds), err)
	}
	mine, err := s.ClaimDeliveries(ctx, c.ID, "b", 1, now)
	if err != nil || len(mine) != 1 || mine[0].ID == ds[0].ID || mine[0].ID == ds[1].ID {
		t.Fatalf("b's claim: %v, %v; want a row a did not claim", mine, err)
	}
	// While a's lease is live, its rows are its own.
	if n, err := s.RecoverAbandoned(ctx, c.ID, "b"); n != 0 || err != nil {
		t.Errorf("RecoverAbandoned while a lives = %d, %v; want 0", n, err)
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := s.RecoverAbandoned(ctx, c.ID, "b"); n != 2 || err != nil {
		t.Errorf("RecoverAbandoned once a's lease expired = %d, %v; want a's 2 (not b's own)", n, err)
	}
	if ok, _ := s.RenewLease(ctx, c.ID, "a", time.Now().Add(time.Minute)); ok {
		t.Error("a renewed a lease it lost")
	}
	if _, err := s.ClaimDeliveries(ctx, c.ID, "a", 5, time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("claim by a presumed dead: %v, want ErrLeaseLost", err)
	}
	// a's late result changes nothing, even once b claimed the row again:
	// b's send is the one the ledger records.
	again, err := s.ClaimDeliveries(ctx, c.ID, "b", 5, time.Now())
	if err != nil || len(again) != 4 {
		t.Fatalf("b's second claim: %d, %v; want the 4 other rows", len(again), err)
	}
	s.RecordResults(ctx, []Result{{DeliveryID: ds[0].ID, Outcome: OutcomeRetry, At: time.Now(), ClaimedBy: "a"}})
	if cnt, _ := s.CampaignDeliveryCounts(ctx, c.ID); cnt.ByState[InFlight] != 5 || cnt.Duplicates != 2 {
		t.Errorf("counts %v, duplicates %d; want 5 in flight, 2 duplicates", cnt.ByState, cnt.Duplicates)
	}
	// b restarting (same owner) takes back its own leftovers.
	if n, err := s.RecoverInFlight(ctx, c.ID, "b"); n != 5 || err != nil {
		t.Errorf("RecoverInFlight by b = %d, %v; want its 5", n, err)
	}
	// Pausing stops claims at once, and renewals.
	s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Sending}, To: Paused, Cause: i18n.Text("staff")})
	if _, err := s.ClaimDeliveries(ctx, c.ID, "b", 5, time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("claim of a paused campaign: %v", err)
	}
	if ok, _ := s.RenewLease(ctx, c.ID, "b", time.Now().Add(time.Minute)); ok {
		t.Error("b renewed its lease on a paused campaign")
	}
}

// A batch made only of readers who left mid-send is skipped, and the next
// one is claimed in the same call: an empty claim means nothing is due.
func TestClaimPassesWholeSkippedBatches(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := sendingCampaign(t, s, 7)
	for _, email := range []string{"s0@example.org", "s1@example.org", "s2@example.org", "s3@example.org", "s6@example.org"} {
		sub, _ := s.SubscriberByEmail(ctx, email)
		if _, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Unsubscribed, Source: "one-click"}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if ok, err := s.AcquireLease(ctx, c.ID, "a", now.Add(time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ds, err := s.ClaimDeliveries(ctx, c.ID, "a", 2, now)
	if err != nil || len(ds) != 2 || ds[0].Email != "s4@example.org" || ds[1].Email != "s5@example.org" {
		t.Fatalf("claim = %d rows, %v; want s4 and s5 past two batches of skips", len(ds), err)
	}
	if ds, err := s.ClaimDeliveries(ctx, c.ID, "a", 2, now); err != nil || len(ds) != 0 {
		t.Errorf("claim of the rest = %d rows, %v; want none (s6 left)", len(ds), err)
	}
	n, _ := s.CampaignDeliveryCounts(ctx, c.ID)
	if n.ByState[Skipped] != 5 || n.ByState[InFlight] != 2 || n.Pending() != 2 {
		t.Errorf("counts %v, want 5 skipped and 2 in flight", n.ByState)
	}
}

func TestAdvanceScheduleOnce(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	sch := &Schedule{Spec: "0 9 * * *", Kind: ScheduleReminder, Reminder: "r", NextAt: at}
	if err := s.CreateSchedule(ctx, sch); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueSchedules(ctx, time.Now())
	if len(due) != 1 {
		t.Fatalf("%d due", len(due))
	}
	next := time.Now().Add(time.Hour)
	first, _ := s.AdvanceSchedule(ctx, sch.ID, due[0].NextAt, next, true)
	second, _ := s.AdvanceSchedule(ctx, sch.ID, due[0].NextAt, next, true)
	if !first || second {
		t.Errorf("AdvanceSchedule claimed %v then %v; want true then false", first, second)
	}
	if next, _ := s.NextScheduleAt(ctx); next.IsZero() {
		t.Error("NextScheduleAt found nothing")
	}
}

// Tracking is off unless asked for, read back, and kept by copies.
func TestCampaignTrack(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := campaignWith(t, s, 1)
	if got, _ := s.CampaignByID(ctx, c.ID); got.Track {
		t.Error("a campaign tracks by default")
	}
	tracked := &Campaign{Name: "Suivie", EditionID: c.EditionID, Subject: "S", ListIDs: c.ListIDs, Track: true}
	if err := s.CreateCampaign(ctx, tracked); err != nil {
		t.Fatal(err)
	}
	got, err := s.CampaignByUUID(ctx, tracked.UUID)
	if err != nil || !got.Track {
		t.Fatalf("CampaignByUUID = %+v, %v; want Track", got, err)
	}
	if cp, err := s.CopyCampaign(ctx, got, "Suivie, encore"); err != nil || !cp.Track {
		t.Errorf("CopyCampaign = %+v, %v; want Track kept", cp, err)
	}
}
