package store

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// holdWriter takes the database's write lock from another connection, as a
// command-line import in another process does, until the returned function
// is called.
func holdWriter(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	}
}

func statusEvents(t *testing.T, s *Storage, id int64) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM subscriber_events WHERE subscriber_id = ? AND kind = 'status' AND status = 'unsubscribed'", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An unsubscribe made while another process holds the writer is kept in the
// intake (nil, not an error), survives the store being closed before it was
// applied (a crash), is applied once when the writer is free, and applying
// again changes nothing.
func TestIntakeKeepsUnsubscribeWhileWriterBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sub := &Subscriber{Email: "busy@example.org", Status: Active}
	if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, path)
	if err := s.Unsubscribe(ctx, sub.ID, "one-click", 0); err != nil {
		t.Fatalf("Unsubscribe while the writer is held = %v, want nil (kept in the intake)", err)
	}
	select {
	case <-s.IntakeWake():
	default:
		t.Error("the intake's applier was not woken")
	}
	s.Close() // a crash before the applier ran
	release()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Status != Active {
		t.Fatalf("status before the intake is applied = %s", got.Status)
	}
	if n, err := s.ApplyIntake(ctx); n != 1 || err != nil {
		t.Fatalf("ApplyIntake = %d, %v; want 1", n, err)
	}
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Status != Unsubscribed {
		t.Errorf("status after the intake = %s, want unsubscribed", got.Status)
	}
	if n, err := s.ApplyIntake(ctx); n != 0 || err != nil {
		t.Errorf("second ApplyIntake = %d, %v; want 0", n, err)
	}
	if n := statusEvents(t, s, sub.ID); n != 1 {
		t.Errorf("%d unsubscribe events, want 1", n)
	}
}

// An entry applied but not cleared (a crash between the two) changes nothing
// when applied again, and does not undo what the reader did after it: a
// later opt-in again stands.
func TestIntakeIdempotent(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sub := &Subscriber{Email: "twice@example.org", Status: Active}
	if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	at := now()
	keep := func() {
		if _, err := s.intake.Exec("INSERT INTO unsubscribes (subscriber_id, source, at) VALUES (?, 'one-click', ?)", sub.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	keep()
	if n, err := s.ApplyIntake(ctx); n != 1 || err != nil {
		t.Fatalf("ApplyIntake = %d, %v", n, err)
	}
	keep() // the same entry again, as if never cleared
	if n, err := s.ApplyIntake(ctx); n != 1 || err != nil {
		t.Fatalf("ApplyIntake again = %d, %v", n, err)
	}
	if n := statusEvents(t, s, sub.ID); n != 1 {
		t.Errorf("%d unsubscribe events after applying twice, want 1", n)
	}
	if _, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Active, Source: "link", Force: true}); err != nil {
		t.Fatal(err)
	}
	keep()
	s.ApplyIntake(ctx)
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Status != Active {
		t.Errorf("an old unsubscribe undid the reader's later opt-in: status %s", got.Status)
	}
}

// The engine applies the intake before it claims deliveries: a reader whose
// unsubscribe is still waiting is skipped, not mailed.
func TestClaimAppliesIntake(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := sendingCampaign(t, s, 3)
	left, _ := s.SubscriberByEmail(ctx, "s1@example.org")
	if _, err := s.intake.Exec("INSERT INTO unsubscribes (subscriber_id, campaign_id, source, at) VALUES (?, ?, 'one-click', ?)",
		left.ID, c.ID, now()); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AcquireLease(ctx, c.ID, "e", time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ds, err := s.ClaimDeliveries(ctx, c.ID, "e", 10, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Email == left.Email {
			t.Errorf("claimed a delivery to %s, whose unsubscribe waits in the intake", d.Email)
		}
	}
	var reason string
	s.r.QueryRow("SELECT skip_reason FROM deliveries WHERE subscriber_id = ?", left.ID).Scan(&reason)
	if len(ds) != 2 || reason != "unsubscribed-during-send" {
		t.Errorf("claimed %d, skip reason %q; want 2, unsubscribed-during-send", len(ds), reason)
	}
	if n, err := s.ApplyIntake(ctx); n != 1 || err != nil || statusEvents(t, s, left.ID) != 1 {
		t.Errorf("clearing after the claim: ApplyIntake = %d, %v, %d events; want 1, nil, 1", n, err, statusEvents(t, s, left.ID))
	}
}

// A backup is of the database file alone: an unsubscribe still waiting in
// the intake must be in it, or restoring the copy would mail that reader.
func TestBackupTakesIntakeIn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := &Subscriber{Email: "kept@example.org", Status: Active}
	if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, path)
	if err := s.Unsubscribe(ctx, sub.ID, "one-click", 0); err != nil {
		t.Fatal(err)
	}
	release()
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.SubscriberByID(ctx, sub.ID); err != nil || got.Status != Unsubscribed {
		t.Errorf("in the backup: %v, %v; want unsubscribed", got, err)
	}
}
