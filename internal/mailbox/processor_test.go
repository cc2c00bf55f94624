package mailbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
	"bulletin/internal/token"
)

// process runs the processor on raw as message uid of INBOX.
func (f *fixture) process(uid uint32, raw []byte) *Outcome {
	f.t.Helper()
	out, err := f.proc.Process(context.Background(), Message{Mailbox: "INBOX", UIDValidity: 7, UID: uid, Raw: raw, ReceivedAt: f.now})
	if err != nil {
		f.t.Fatalf("Process(UID %d) = %v", uid, err)
	}
	return out
}

func TestHardBounceByVERP(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	// The bounce names another address (an alias expanded on the way):
	// only the token can match it.
	sub := f.subscriber("Jeanne.Martin@example.fr")
	d := f.delivery(c, sub, "Jeanne.Martin@example.fr", f.now.Add(-time.Hour))

	out := f.process(1, withVERP(corpus(t, "lhost-postfix-05.eml"), d.token))
	ev := out.Event
	if ev.Kind != "hard" || ev.MatchedBy != ByVERP || ev.DeliveryID != d.id || ev.CampaignID != c.id || ev.SubscriberID != sub {
		t.Fatalf("event = kind %s matched_by %q delivery %d campaign %d subscriber %d; want hard verp %d %d %d",
			ev.Kind, ev.MatchedBy, ev.DeliveryID, ev.CampaignID, ev.SubscriberID, d.id, c.id, sub)
	}
	if ev.Action != store.MailboxSuppressed || out.Folder != Processed {
		t.Errorf("action %s, folder %s; want suppressed, processed", ev.Action, out.Folder)
	}
	if got := f.status(sub); got != store.Bounced {
		t.Errorf("status = %s, want bounced", got)
	}
	// The history says why and which campaign.
	if n := f.count(`SELECT count(*) FROM subscriber_events WHERE subscriber_id = ? AND kind = 'status' AND status = 'bounced'
		AND source = 'bounce' AND campaign_id = ?`, sub, c.id); n != 1 {
		t.Errorf("%d status events attributed to the campaign, want 1", n)
	}
	var reason string
	f.db.QueryRow("SELECT status_reason FROM subscribers WHERE id = ?", sub).Scan(&reason)
	if !strings.Contains(reason, "user_unknown") {
		t.Errorf("status reason %q does not say user_unknown", reason)
	}
	cp, err := f.st.LoadMailboxCheckpoint(context.Background(), "INBOX")
	if err != nil || cp.UIDValidity != 7 || cp.LastUID != 1 {
		t.Errorf("checkpoint = %+v, %v; want validity 7, last UID 1", cp, err)
	}
}

func TestHardBounceByDeliveryHeader(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	sub := f.subscriber("paul@example.fr")
	d := f.delivery(c, sub, "paul@example.fr", f.now.Add(-time.Hour))

	raw := withOriginalHeader(t, corpus(t, "lhost-postfix-05.eml"), "X-Bulletin-Delivery: "+d.token)
	ev := f.process(1, raw).Event
	if ev.MatchedBy != ByHeader || ev.SubscriberID != sub || ev.Action != store.MailboxSuppressed {
		t.Fatalf("event matched_by %q subscriber %d action %s; want header %d suppressed", ev.MatchedBy, ev.SubscriberID, ev.Action, sub)
	}
}

func TestForgedTokenIsNeverTrusted(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	victim := f.subscriber("victim@example.fr")
	d := f.delivery(c, victim, "victim@example.fr", f.now.Add(-time.Hour))
	other := token.NewSigner([]byte("another key, another key, another"))
	forged := other.Sign(token.Delivery, d.uuid[:])
	tampered := d.token[:len(d.token)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", d.token[len(d.token)-1])+1)%16])

	for _, tok := range []string{forged, tampered, "not-hex"} {
		raw := dsn("bounces+"+tok+"@example.org", "nobody@example.net", "5.1.1", "550 5.1.1 user unknown",
			"From: Bulletin <newsletter@example.org>\nTo: nobody@example.net\nX-Bulletin-Delivery: "+tok+"\n")
		ev := f.process(uint32(len(tok)), raw).Event
		if ev.SubscriberID != 0 || ev.Action != store.MailboxNoAction {
			t.Errorf("token %q: matched subscriber %d, action %s; want no match", tok, ev.SubscriberID, ev.Action)
		}
		if !strings.Contains(ev.Error, "does not verify") {
			t.Errorf("token %q: error %q does not report the bad token", tok, ev.Error)
		}
	}
	if got := f.status(victim); got != store.Active {
		t.Errorf("victim status = %s, want active", got)
	}
}

func TestMatchByMessageIDAndAddress(t *testing.T) {
	f := newFixture(t)
	old, recent := f.campaign("edition-9"), f.campaign("edition-10")
	sub := f.subscriber("Marie@Example.fr")
	dOld := f.delivery(old, sub, "Marie@Example.fr", f.now.Add(-90*24*time.Hour))
	dRecent := f.delivery(recent, sub, "Marie@Example.fr", f.now.Add(-time.Hour))

	// Message-ID of the returned original, no token.
	raw := dsn("bounces@example.org", "marie@example.fr", "4.4.7", "delivery time expired",
		"From: x@example.org\nMessage-ID: <"+dOld.messageID+">\n")
	ev := f.process(1, raw).Event
	if ev.MatchedBy != ByMessageID || ev.DeliveryID != dOld.id {
		t.Errorf("by Message-ID: matched_by %q delivery %d; want message-id %d", ev.MatchedBy, ev.DeliveryID, dOld.id)
	}

	// The address only, even with the unsigned campaign header: a
	// candidate, not a match; no delivery, no campaign, nothing done.
	raw = dsn("bounces@example.org", "MARIE@example.fr", "5.2.2", "552 mailbox full",
		"From: x@example.org\nX-Bulletin-Campaign: "+recent.uuid+"\n")
	ev = f.process(2, raw).Event
	if ev.MatchedBy != ByAddress || ev.SubscriberID != sub || ev.DeliveryID != 0 || ev.CampaignID != 0 || ev.Action != store.MailboxUnverified {
		t.Errorf("by address: matched_by %q subscriber %d delivery %d campaign %d action %s; want address %d 0 0 unverified",
			ev.MatchedBy, ev.SubscriberID, ev.DeliveryID, ev.CampaignID, ev.Action, sub)
	}
	if n := f.count("SELECT count(*) FROM mailbox_events WHERE subscriber_id = ? AND kind = 'soft' AND campaign_id IS NOT NULL", sub); n != 0 {
		t.Errorf("%d soft bounces counted toward the rule, want 0", n)
	}
	_ = dRecent
}

// TestForgedBounceSuppressesNobody is the attack of issue 10: a three-line
// mail to the public bounce address naming a subscriber, without a token.
// It is kept as an unverified event an admin can apply; a genuine bounce
// (VERP) still suppresses at once.
func TestForgedBounceSuppressesNobody(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	victim := f.subscriber("victim@example.fr")
	f.delivery(c, victim, "victim@example.fr", f.now.Add(-time.Hour))
	forged := []struct {
		name string
		raw  []byte
	}{
		{"three lines", []byte("From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n<victim@example.fr>: 550 5.1.1 user unknown\r\n")},
		{"DSN", dsn("bounces@example.org", "victim@example.fr", "5.1.1", "550 5.1.1 user unknown", "From: x@example.org\nX-Bulletin-Campaign: "+c.uuid+"\n")},
		{"complaint", []byte(strings.ReplaceAll(`From: feedback@example.net
To: bounces@example.org
Subject: Complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Forger/1.0
Version: 1
Original-Rcpt-To: <victim@example.fr>

--ARF--
`, "\n", "\r\n"))},
	}
	for i, m := range forged {
		ev := f.process(uint32(i+1), m.raw).Event
		if ev.Kind != "hard" && ev.Kind != "complaint" {
			t.Fatalf("%s: kind %s (%s), want a hard bounce or a complaint", m.name, ev.Kind, ev.Error)
		}
		if ev.Action != store.MailboxUnverified || ev.SubscriberID != victim || ev.CampaignID != 0 || !strings.Contains(ev.Error, "waiting for an admin") {
			t.Errorf("%s: action %s subscriber %d campaign %d error %q; want unverified, candidate %d, no campaign",
				m.name, ev.Action, ev.SubscriberID, ev.CampaignID, ev.Error, victim)
		}
	}
	if got := f.status(victim); got != store.Active {
		t.Fatalf("victim status = %s after forged bounces, want active", got)
	}
	counts, err := f.st.UnverifiedMailboxEvents(context.Background())
	if err != nil || counts["hard"] != 2 || counts["complaint"] != 1 {
		t.Errorf("UnverifiedMailboxEvents() = %v, %v; want hard 2, complaint 1", counts, err)
	}
}

func TestSoftBouncesAddUp(t *testing.T) {
	f := newFixture(t)
	sub := f.subscriber("lucie@example.fr")
	var ds []deliveryRow
	for _, name := range []string{"e1", "e2", "e3"} {
		ds = append(ds, f.delivery(f.campaign(name), sub, "lucie@example.fr", f.now.Add(-time.Hour)))
	}
	soft := func(uid uint32, d deliveryRow) *store.MailboxEvent {
		return f.process(uid, dsn("bounces+"+d.token+"@example.org", "lucie@example.fr", "5.2.2", "552 5.2.2 mailbox full", "From: x@example.org\n")).Event
	}

	if ev := soft(1, ds[0]); ev.Kind != "soft" || ev.Action != store.MailboxCounted {
		t.Fatalf("first soft bounce: kind %s action %s; want soft counted", ev.Kind, ev.Action)
	}
	// The same campaign again is the same failure.
	if ev := soft(2, ds[0]); ev.Action != store.MailboxCounted {
		t.Fatalf("second bounce of the same campaign: action %s; want counted", ev.Action)
	}
	if ev := soft(3, ds[1]); ev.Action != store.MailboxCounted || f.status(sub) != store.Active {
		t.Fatalf("two campaigns: action %s, status %s; want counted, active", ev.Action, f.status(sub))
	}
	ev := soft(4, ds[2])
	if ev.Action != store.MailboxSuppressed || f.status(sub) != store.Bounced {
		t.Fatalf("three campaigns: action %s, status %s; want suppressed, bounced", ev.Action, f.status(sub))
	}
	var reason string
	f.db.QueryRow("SELECT status_reason FROM subscribers WHERE id = ?", sub).Scan(&reason)
	if !strings.HasPrefix(reason, "soft bounces: 3 in 30 days") {
		t.Errorf("status reason = %q, want it to start with %q", reason, "soft bounces: 3 in 30 days")
	}
}

func TestSoftBouncesOutsideTheWindow(t *testing.T) {
	f := newFixture(t)
	sub := f.subscriber("lucie@example.fr")
	for i, age := range []time.Duration{80 * 24 * time.Hour, 40 * 24 * time.Hour, 0} {
		d := f.delivery(f.campaign(string(rune('a'+i))), sub, "lucie@example.fr", f.now.Add(-age-time.Hour))
		raw := dsn("bounces+"+d.token+"@example.org", "lucie@example.fr", "5.2.2", "552 mailbox full", "From: x@example.org\n")
		_, err := f.proc.Process(context.Background(), Message{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Raw: raw, ReceivedAt: f.now.Add(-age)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.status(sub); got != store.Active {
		t.Errorf("three soft bounces over 80 days: status %s, want active", got)
	}
}

func TestComplaintAndUnsubscribe(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	a := f.subscriber("a@example.fr")
	da := f.delivery(c, a, "a@example.fr", f.now.Add(-time.Hour))
	b := f.subscriber("b@example.fr")
	db := f.delivery(c, b, "b@example.fr", f.now.Add(-time.Hour))

	arf := withOriginalHeader(t, corpus(t, "arf-01.eml"), "X-Bulletin-Delivery: "+da.token)
	ev := f.process(1, arf).Event
	if ev.Kind != "complaint" || ev.SubscriberID != a || ev.Action != store.MailboxSuppressed || f.status(a) != store.Complained {
		t.Fatalf("complaint: kind %s subscriber %d action %s status %s", ev.Kind, ev.SubscriberID, ev.Action, f.status(a))
	}

	unsub := reply("Someone <b@example.fr>", "unsubscribe+"+db.token+"@example.org", "unsubscribe", "")
	ev = f.process(2, unsub).Event
	if ev.Kind != "unsubscribe" || ev.MatchedBy != ByUnsubscribeToken || ev.Action != store.MailboxUnsubscribed {
		t.Fatalf("mailto: kind %s matched_by %q action %s", ev.Kind, ev.MatchedBy, ev.Action)
	}
	if n := f.count(`SELECT count(*) FROM subscriber_events WHERE subscriber_id = ? AND status = 'unsubscribed'
		AND source = 'mailto' AND campaign_id = ?`, b, c.id); n != 1 {
		t.Errorf("%d mailto unsubscribe events attributed to the campaign, want 1", n)
	}
	// Suppression wins: a later bounce changes nothing and says so.
	ev = f.process(3, dsn("bounces+"+db.token+"@example.org", "b@example.fr", "5.1.1", "550 user unknown", "From: x@example.org\n")).Event
	if ev.Action != store.MailboxNoAction || f.status(b) != store.Unsubscribed || !strings.Contains(ev.Error, "already unsubscribed") {
		t.Errorf("bounce after unsubscribe: action %s status %s error %q", ev.Action, f.status(b), ev.Error)
	}
}

func TestUnsubscribeWithoutToken(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	sub := f.subscriber("Claire@example.fr")
	f.delivery(c, sub, "Claire@example.fr", f.now.Add(-time.Hour))

	// From someone who is not a subscriber: nothing.
	ev := f.process(1, reply("x@example.net", "unsubscribe@example.org", "unsubscribe", "")).Event
	if ev.Kind != "unsubscribe" || ev.SubscriberID != 0 || ev.Action != store.MailboxNoAction {
		t.Errorf("stranger: kind %s subscriber %d action %s", ev.Kind, ev.SubscriberID, ev.Action)
	}
	// From the subscriber's exact address, with a bad token: honoured, and
	// the record says how.
	ev = f.process(2, reply("Claire <claire@example.fr>", "unsubscribe+0011@example.org", "Désabonnement", "")).Event
	if ev.MatchedBy != ByFrom || ev.Action != store.MailboxUnsubscribed || f.status(sub) != store.Unsubscribed {
		t.Fatalf("subscriber: matched_by %q action %s status %s", ev.MatchedBy, ev.Action, f.status(sub))
	}
	var reason string
	f.db.QueryRow("SELECT status_reason FROM subscribers WHERE id = ?", sub).Scan(&reason)
	if !strings.Contains(reason, "without a valid token") {
		t.Errorf("status reason %q does not say there was no valid token", reason)
	}
}

func TestProcessTwiceActsOnce(t *testing.T) {
	f := newFixture(t)
	sub := f.subscriber("lucie@example.fr")
	var raws [][]byte
	for _, name := range []string{"e1", "e2", "e3"} {
		d := f.delivery(f.campaign(name), sub, "lucie@example.fr", f.now.Add(-time.Hour))
		raws = append(raws, dsn("bounces+"+d.token+"@example.org", "lucie@example.fr", "5.2.2", "552 mailbox full", "From: x@example.org\n"))
	}
	// UIDs 1 and 2 read twice each (a crash before the move, a second
	// watcher): still two soft bounces, not four.
	for _, uid := range []uint32{1, 2, 1, 2} {
		f.process(uid, raws[uid-1])
	}
	if n := f.count("SELECT count(*) FROM mailbox_events"); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	if again := f.process(1, raws[0]); again.New {
		t.Error("a message read again was reported new")
	}
	if got := f.status(sub); got != store.Active {
		t.Errorf("status = %s after two soft bounces read twice, want active", got)
	}
}

func TestDuplicateAcrossUIDValidity(t *testing.T) {
	f := newFixture(t)
	c := f.campaign("edition-10")
	sub := f.subscriber("lucie@example.fr")
	d := f.delivery(c, sub, "lucie@example.fr", f.now.Add(-time.Hour))
	raw := dsn("bounces+"+d.token+"@example.org", "lucie@example.fr", "5.2.2", "552 mailbox full", "From: x@example.org\n")
	ctx := context.Background()
	if _, err := f.proc.Process(ctx, Message{Mailbox: "INBOX", UIDValidity: 1, UID: 5, Raw: raw}); err != nil {
		t.Fatal(err)
	}
	out, err := f.proc.Process(ctx, Message{Mailbox: "INBOX", UIDValidity: 2, UID: 1, Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	if !out.New || out.Event.Action != store.MailboxDuplicate {
		t.Errorf("same message under a new UIDVALIDITY: new %v action %s; want a new event, duplicate", out.New, out.Event.Action)
	}
}

func TestUnparsedAndOthers(t *testing.T) {
	f := newFixture(t)
	sub := f.subscriber("paul@example.fr")
	f.delivery(f.campaign("e1"), sub, "paul@example.fr", f.now.Add(-time.Hour))
	tests := []struct {
		name   string
		raw    []byte
		kind   string
		folder Folder
		action store.MailboxAction
	}{
		{"garbage", []byte("\x00\x01\x02 this is not mail"), "unknown", Unparsed, store.MailboxNoAction},
		{"empty", nil, "unknown", Unparsed, store.MailboxNoAction},
		{"reply", reply("Paul <paul@example.fr>", "newsletter@example.org", "Re: Lettre", "Merci pour cette lettre, très utile.\n\nPaul"), "reply", Replies, store.MailboxNoAction},
		{"delayed", dsn("bounces@example.org", "paul@example.fr", "4.4.1", "connection timed out", "From: x@example.org\n"), "delayed", Processed, store.MailboxNoAction},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := f.process(uint32(i+1), tt.raw)
			if out.Event.Kind != tt.kind || out.Folder != tt.folder || out.Event.Action != tt.action {
				t.Errorf("kind %s folder %s action %s; want %s %s %s (error %q)", out.Event.Kind, out.Folder, out.Event.Action,
					tt.kind, tt.folder, tt.action, out.Event.Error)
			}
			if tt.folder == Unparsed && !strings.Contains(out.Event.Error, "cannot parse") {
				t.Errorf("error %q does not report the parse failure", out.Event.Error)
			}
		})
	}
	if got := f.status(sub); got != store.Active {
		t.Errorf("status = %s, want active", got)
	}
}

// TestCorpusEveryMessageRecorded runs the whole bounce corpus through the
// processor: every message becomes exactly one event (invariant 4), whatever
// it holds.
func TestCorpusEveryMessageRecorded(t *testing.T) {
	f := newFixture(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "bounces", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for i, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out := f.process(uint32(i+1), raw)
		if out.Event.ID == 0 || out.Event.Kind == "" {
			t.Errorf("%s: event %+v", filepath.Base(name), out.Event)
		}
	}
	if n := f.eventCount(); n != len(files) {
		t.Errorf("%d events for %d messages", n, len(files))
	}
}

// TestApplyUnverified applies held events as an admin would: a hard bounce
// suppresses, attributed to the subscriber's last delivery, with the
// admin's login in the history; applying twice is refused.
func TestApplyUnverified(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.campaign("edition-10")
	sub := f.subscriber("marie@example.fr")
	d := f.delivery(c, sub, "marie@example.fr", f.now.Add(-time.Hour))
	held := f.process(1, dsn("bounces@example.org", "marie@example.fr", "5.1.1", "550 5.1.1 user unknown", "From: x@example.org\n")).Event

	got, err := f.st.ApplyMailboxEvent(ctx, held.ID, EffectOf(held, f.proc.rules), "admin@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got.Action != store.MailboxSuppressed || got.DeliveryID != d.id || got.CampaignID != c.id || f.status(sub) != store.Bounced {
		t.Errorf("applied: action %s delivery %d campaign %d status %s; want suppressed %d %d bounced",
			got.Action, got.DeliveryID, got.CampaignID, f.status(sub), d.id, c.id)
	}
	if n := f.count(`SELECT count(*) FROM subscriber_events WHERE subscriber_id = ? AND kind = 'mailbox_applied'
		AND detail LIKE 'admin@example.org: hard 5.1.1%'`, sub); n != 1 {
		t.Errorf("%d history rows naming the admin, want 1", n)
	}
	if _, err := f.st.ApplyMailboxEvent(ctx, held.ID, EffectOf(held, f.proc.rules), "admin@example.org"); !errors.Is(err, store.ErrNotUnverified) {
		t.Errorf("applied twice: %v, want ErrNotUnverified", err)
	}
	// Still counted as unverified once applied: a counter never goes back.
	if counts, _ := f.st.UnverifiedMailboxEvents(ctx); counts["hard"] != 1 {
		t.Errorf("unverified after apply = %v, want hard 1", counts)
	}
}
