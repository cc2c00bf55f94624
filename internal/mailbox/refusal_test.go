package mailbox

import (
	"context"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
)

// The relay's soft refusals in the SMTP session and the soft bounces read
// from the mailbox count toward one soft-bounce rule, by distinct campaign
// (issue 13): two refusals and one bounce in three campaigns bounce the
// subscriber.
func TestSoftRefusalsAndBouncesAddUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sub := f.subscriber("lucie@example.fr")
	for i, name := range []string{"r1", "r2"} {
		d := f.delivery(f.campaign(name), sub, "lucie@example.fr", f.now.Add(-time.Hour))
		// As the engine leaves it: claimed (in flight), then refused.
		f.exec("UPDATE deliveries SET state = 'sending', sent_at = NULL, last_attempt_at = ? WHERE id = ?", f.now.Add(-time.Hour), d.id)
		err := f.st.RecordResults(ctx, []store.Result{{DeliveryID: d.id, Outcome: store.OutcomeFailed, At: f.now.Add(-time.Hour),
			SMTPCode: 550, EnhancedCode: "5.7.1", Reply: "RCPT TO: 550 5.7.1 refused by local policy",
			Refusal: &store.Refusal{Kind: store.RefusedSoft, Reason: "blocked", SoftLimit: 3, SoftWindow: 30 * 24 * time.Hour}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.status(sub); got != store.Active {
			t.Fatalf("after %d soft refusals: %s, want active", i+1, got)
		}
	}
	d := f.delivery(f.campaign("b3"), sub, "lucie@example.fr", f.now.Add(-time.Hour))
	ev := f.process(1, dsn("bounces+"+d.token+"@example.org", "lucie@example.fr", "5.2.2", "552 5.2.2 mailbox full", "From: x@example.org\n")).Event
	if ev.Kind != "soft" || ev.Action != store.MailboxSuppressed || f.status(sub) != store.Bounced {
		t.Fatalf("soft bounce after two soft refusals: kind %s, action %s, status %s; want soft, suppressed, bounced", ev.Kind, ev.Action, f.status(sub))
	}
	var reason string
	f.db.QueryRow("SELECT status_reason FROM subscribers WHERE id = ?", sub).Scan(&reason)
	if !strings.HasPrefix(reason, "soft bounces: 3 in 30 days") {
		t.Errorf("status reason = %q, want %q first", reason, "soft bounces: 3 in 30 days")
	}
}
