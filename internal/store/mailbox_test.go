package store

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"bulletin/internal/store/pgtest"

	"github.com/google/uuid"
)

// mailboxFixture makes a subscriber with one delivery of one campaign, in
// plain SQL for the campaign side.
func mailboxFixture(t *testing.T, s *Storage) (sub, campaign, delivery int64, campaignUUID string) {
	t.Helper()
	ctx := context.Background()
	p := &Subscriber{Email: "Anne@Example.fr", Status: Active}
	if err := s.AddSubscriber(ctx, p, nil, false); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	exec := func(q string, args ...any) int64 {
		var id int64
		if err := s.w.QueryRowContext(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	ed := exec("INSERT INTO editions (uuid, slug, source, created_at, updated_at) VALUES (?, 'e', '', ?, ?)", uuid.NewString(), at, at)
	campaignUUID = uuid.NewString()
	campaign = exec(`INSERT INTO campaigns (uuid, name, edition_id, subject, from_addr, state, created_at, updated_at)
		VALUES (?, 'Édition 10', ?, 's', 'f@example.org', 'sent', ?, ?)`, campaignUUID, ed, at, at)
	delivery = exec(`INSERT INTO deliveries (uuid, campaign_id, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, 'sent', 'm1@example.org', ?, ?, ?)`, uuid.NewString(), campaign, p.ID, p.Email, at, at, at)
	return p.ID, campaign, delivery, campaignUUID
}

func TestRecordMailboxEventOnce(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sub, campaign, delivery, _ := mailboxFixture(t, s)
	ev := func(uid uint32) *MailboxEvent {
		return &MailboxEvent{Mailbox: "INBOX", UIDValidity: 3, UID: uid, Kind: "hard", MessageID: "b1@mx",
			DeliveryID: delivery, CampaignID: campaign, SubscriberID: sub, MatchedBy: "verp"}
	}
	eff := MailboxEffect{Status: Bounced, Source: "bounce", Reason: "5.1.1 user_unknown"}
	first := ev(9)
	if isNew, err := s.RecordMailboxEvent(ctx, first, eff); err != nil || !isNew || first.Action != MailboxSuppressed {
		t.Fatalf("first record: new %v, action %s, err %v", isNew, first.Action, err)
	}
	again := ev(9)
	if isNew, err := s.RecordMailboxEvent(ctx, again, eff); err != nil || isNew || again.ID != first.ID || again.UUID != first.UUID {
		t.Fatalf("second record: new %v, id %d %s (first %d %s), err %v", isNew, again.ID, again.UUID, first.ID, first.UUID, err)
	}
	// Found by its public identifier, and by nothing else.
	if got, err := s.MailboxEventByUUID(ctx, first.UUID); err != nil || got.ID != first.ID || got.UUID.Version() != 4 {
		t.Errorf("MailboxEventByUUID(%s) = %+v, %v", first.UUID, got, err)
	}
	if _, err := s.MailboxEventByUUID(ctx, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown UUID: %v, want ErrNotFound", err)
	}
	var n int
	s.r.QueryRowContext(ctx, "SELECT count(*) FROM subscriber_events WHERE subscriber_id = ? AND kind = 'status'", sub).Scan(&n)
	if n != 1 {
		t.Errorf("%d status changes, want 1", n)
	}

	// Checkpoint: forward only within a UIDVALIDITY.
	if _, err := s.RecordMailboxEvent(ctx, &MailboxEvent{Mailbox: "INBOX", UIDValidity: 3, UID: 4, Kind: "reply"}, MailboxEffect{}); err != nil {
		t.Fatal(err)
	}
	if cp, err := s.LoadMailboxCheckpoint(ctx, "INBOX"); err != nil || cp.LastUID != 9 {
		t.Errorf("checkpoint = %+v, %v; want last UID 9", cp, err)
	}
	if err := s.ResetMailboxCheckpoint(ctx, "INBOX", 4); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.LoadMailboxCheckpoint(ctx, "INBOX"); cp.UIDValidity != 4 || cp.LastUID != 0 {
		t.Errorf("after reset: %+v", cp)
	}
	if _, err := s.LoadMailboxCheckpoint(ctx, "Other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown mailbox: %v, want ErrNotFound", err)
	}

	// Listing, by campaign name or UUID, and kind.
	for _, f := range []MailboxEventFilter{{Campaign: "Édition 10"}, {Kind: "hard"}} {
		evs, err := s.MailboxEvents(ctx, f)
		if err != nil || len(evs) != 1 || evs[0].SubscriberEmail != "Anne@Example.fr" || evs[0].CampaignName != "Édition 10" {
			t.Errorf("MailboxEvents(%+v) = %d events, %v", f, len(evs), err)
		}
	}
	if err := s.SetMailboxEventFolder(ctx, first.ID, "Traités", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMailboxEventFolder(ctx, first.ID, "", "move refused"); err != nil {
		t.Fatal(err)
	}
	got, err := s.MailboxEventAt(ctx, "INBOX", 3, 9)
	if err != nil || got.Folder != "" || got.Error != "move refused" {
		t.Errorf("MailboxEventAt = %+v, %v", got, err)
	}
}

// TestMailboxEventUUIDBackfill: events recorded before migration 0008 get a
// random version-4 UUID each, by which the console finds them, and new
// events get their own.
func TestMailboxEventUUIDBackfill(t *testing.T) {
	ctx := context.Background()
	path := pgtest.Location(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for uid := range uint32(3) {
		if _, err := s.RecordMailboxEvent(ctx, &MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: uid + 1, Kind: "reply"}, MailboxEffect{}); err != nil {
			t.Fatal(err)
		}
	}
	// Back to the schema before 0008, the events without their UUIDs.
	for _, q := range []string{"DROP INDEX mailbox_events_uuid", "ALTER TABLE mailbox_events DROP COLUMN uuid",
		"DELETE FROM schema_migrations WHERE version = 8"} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RecordMailboxEvent(ctx, &MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: 4, Kind: "reply"}, MailboxEffect{}); err != nil {
		t.Fatal(err)
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for uid := range uint32(4) {
		var id string
		if err := s.r.QueryRowContext(ctx, "SELECT uuid FROM mailbox_events WHERE uid = ?", uid+1).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if !v4.MatchString(id) || seen[id] {
			t.Errorf("event %d: UUID %q, want a distinct lower-case version-4 UUID", uid+1, id)
			continue
		}
		seen[id] = true
		if ev, err := s.MailboxEventByUUID(ctx, uuid.MustParse(id)); err != nil || ev.UID != uid+1 {
			t.Errorf("MailboxEventByUUID(%s) = %+v, %v; want event %d", id, ev, err, uid+1)
		}
	}
}

func TestMatchAddress(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sub, campaign, delivery, campaignUUID := mailboxFixture(t, s)
	for _, c := range []string{"", campaignUUID, uuid.NewString()} {
		ref, err := s.MatchAddress(ctx, "anne@example.FR", c)
		if err != nil || ref.SubscriberID != sub || ref.DeliveryID != delivery || ref.CampaignID != campaign {
			t.Errorf("MatchAddress(campaign %q) = %+v, %v", c, ref, err)
		}
	}
	if _, err := s.MatchAddress(ctx, "nobody@example.fr", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"m1@example.org", "<m1@example.org>"} {
		if ref, err := s.MatchDeliveryByMessageID(ctx, id); err != nil || ref.DeliveryID != delivery {
			t.Errorf("MatchDeliveryByMessageID(%q) = %+v, %v", id, ref, err)
		}
	}
}
