package campaign

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"bulletin/internal/i18n"
	"bulletin/internal/report"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// nextCampaign makes a new draft campaign of the same edition to the same
// list, and makes it the fixture's campaign.
func (f *fixture) nextCampaign(name string) {
	f.t.Helper()
	c := &store.Campaign{Name: name, EditionID: f.c.EditionID, Subject: f.c.Subject, From: f.c.From, ListIDs: []int64{f.list.ID}}
	if err := f.st.CreateCampaign(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	var err error
	if f.c, err = f.st.CampaignByID(f.ctx, c.ID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) subscriber(email string) *store.Subscriber {
	f.t.Helper()
	sub, err := f.st.SubscriberByEmail(f.ctx, email)
	if err != nil {
		f.t.Fatal(err)
	}
	return sub
}

// A relay that refuses recipients at once, through the real SMTP sender
// (issue 13): an unknown address is a hard bounce, suppressed at once with
// the relay's reply as its reason; a policy refusal and a message too big
// are soft, and bounce the address once they reach bounces.soft_limit
// campaigns; the next campaign skips the bounced ones; the report tells the
// refusals apart and keeps its contract.
func TestCampaignRefusalsBounce(t *testing.T) {
	f := newFixture(t, 8)
	unknown := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "Recipient address rejected: User unknown in virtual mailbox table"}
	policy := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Recipient address rejected: refused by local policy"}
	big := &gosmtp.SMTPError{Code: 552, EnhancedCode: gosmtp.EnhancedCode{5, 3, 4}, Message: "Message size exceeds fixed limit"}
	dead, soft := f.emails[1:3], f.emails[3:6]
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{
		dead[0]: unknown, dead[1]: unknown, soft[0]: policy, soft[1]: policy, soft[2]: big}}})
	e := f.engine(smtpSender(t, srv, 2, "", ""), Options{Workers: 2, SoftLimit: 2})

	f.start()
	if c := f.runUntil(e, 30*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent: refusals of recipients are no relay fault", c.State, c.StateReason)
	}
	led := f.ledger()
	for _, a := range dead {
		d, sub := led[a], f.subscriber(a)
		if d.State != store.Undelivered || sub.Status != store.Bounced || !strings.Contains(sub.StatusReason, "550 5.1.1") ||
			!strings.Contains(sub.StatusReason, "User unknown") {
			t.Errorf("%s: delivery %s, subscriber %s (%q); want failed and bounced with the relay's reply", a, d.State, sub.Status, sub.StatusReason)
		}
	}
	for _, a := range soft {
		if d, sub := led[a], f.subscriber(a); d.State != store.Undelivered || sub.Status != store.Active {
			t.Errorf("%s: delivery %s, subscriber %s; want failed, still active after one soft refusal", a, d.State, sub.Status)
		}
	}

	r, err := report.ForCampaign(f.ctx, f.st, f.c, report.Options{Addresses: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Recipients != 8 || r.Sent != 3 || r.Failed != 5 || r.RefusedHard != 2 || r.RefusedSoft != 3 || r.DeadAddresses != 2 ||
		r.BouncedHard != 0 || r.Sent+r.Failed+r.Skipped+r.Pending != r.Recipients {
		t.Errorf("report: recipients %d, sent %d, failed %d, refused %d hard %d soft, dead %d, bounced hard %d; want 8, 3, 5, 2, 3, 2, 0",
			r.Recipients, r.Sent, r.Failed, r.RefusedHard, r.RefusedSoft, r.DeadAddresses, r.BouncedHard)
	}
	if len(r.Refusals) == 0 || r.Refusals[0].Kind != "hard" || r.Refusals[0].Reason != "user_unknown" || r.Refusals[0].Count != 2 ||
		!strings.Contains(r.Refusals[0].Example, "User unknown") {
		t.Errorf("refusals = %+v, want the 2 unknown users first, with the relay's words", r.Refusals)
	}
	if a := r.Addresses; a == nil || a.Total != 5 || a.Items[0].Refusal != "hard" || a.Items[0].RefusalReason != "user_unknown" {
		t.Errorf("addresses refused = %+v, want the 5, hard first", a)
	}
	var js map[string]any
	b, _ := json.Marshal(r)
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"recipients": 8, "sent": 3, "failed": 5, "skipped": 0, "pending": 0,
		"bounced_hard": 0, "bounced_soft": 0, "refused_hard": 2, "refused_soft": 3, "dead_addresses": 2} {
		if js[name] != want {
			t.Errorf("report JSON %q = %v, want %v", name, js[name], want)
		}
	}
	_, text := report.SummaryText(r, store.SummaryFinished, report.SummaryTextOptions{Printer: i18n.New("fr"), URL: "https://x"})
	for _, want := range []string{"Refusées par le relais (adresse inconnue)", "Adresses mortes trouvées"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary text lacks %q:\n%s", want, text)
		}
	}

	// A second campaign: the dead addresses are skipped; the soft ones are
	// refused again and reach the soft limit (2 campaigns).
	f.nextCampaign("Édition 11")
	f.start()
	for _, a := range dead {
		if d := f.ledger()[a]; d.State != store.Skipped || d.SkipReason != "bounced" {
			t.Errorf("second campaign, %s: %s (%s), want skipped as bounced", a, d.State, d.SkipReason)
		}
	}
	if c := f.runUntil(e, 30*time.Second); c.State != store.Sent {
		t.Fatalf("second campaign %s (%s), want sent", c.State, c.StateReason)
	}
	for _, a := range dead {
		if n := srv.Attempts(a); n != 1 {
			t.Errorf("%s: %d RCPT TO over two campaigns, want 1", a, n)
		}
	}
	for _, a := range soft {
		if sub := f.subscriber(a); sub.Status != store.Bounced || !strings.HasPrefix(sub.StatusReason, "soft bounces: 2 in 30 days (last: RCPT TO: 55") {
			t.Errorf("%s after two soft refusals: %s (%q), want bounced by the soft-bounce rule", a, sub.Status, sub.StatusReason)
		}
	}
	if r, err := report.ForCampaign(f.ctx, f.st, f.c, report.Options{}); err != nil || r.Skipped != 2 || r.RefusedSoft != 3 || r.DeadAddresses != 0 {
		t.Errorf("second report: %v, skipped %d, refused soft %d, dead %d; want 2, 3, 0", err, r.Skipped, r.RefusedSoft, r.DeadAddresses)
	}

	f.nextCampaign("Édition 12")
	f.start()
	for _, a := range append(dead, soft...) {
		if d := f.ledger()[a]; d.State != store.Skipped || d.SkipReason != "bounced" {
			t.Errorf("third campaign, %s: %s (%s), want skipped as bounced", a, d.State, d.SkipReason)
		}
	}
}

// A refusal after DATA is judged too: hard only when the relay says 5.1.1.
func TestCampaignDataRefusalUnknownUser(t *testing.T) {
	f := newFixture(t, 2)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{
		DataErr: &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "Mailbox does not exist"}}})
	f.start()
	if c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{}), 30*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent", c.State, c.StateReason)
	}
	for _, a := range f.emails {
		if sub := f.subscriber(a); sub.Status != store.Bounced || !strings.Contains(sub.StatusReason, "DATA (end): 550 5.1.1") {
			t.Errorf("%s: %s (%q), want bounced with the reply to DATA", a, sub.Status, sub.StatusReason)
		}
	}
}

// A refusal at RCPT TO that refuses the session (relaying denied, the
// sender refused) pauses the campaign with the reply, marks nobody failed
// and suppresses nobody, as any relay fault.
func TestCampaignRelayWideRefusalPauses(t *testing.T) {
	for _, msg := range []string{"Relay access denied", "<bounces@example.org>: Sender address rejected: Access denied"} {
		t.Run(msg, func(t *testing.T) {
			f := newFixture(t, 4)
			denied := &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: msg}
			faults := smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{}}
			for _, a := range f.emails {
				faults.RcptErr[a] = denied
			}
			srv := smtptest.Start(t, smtptest.Options{Faults: faults})
			f.start()
			c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{Workers: 1}), 30*time.Second)
			if c.State != store.Paused || !strings.Contains(c.StateReason, msg) {
				t.Fatalf("campaign %s (%q), want paused with the relay's reply", c.State, c.StateReason)
			}
			if n := f.counts(); n.ByState[store.Undelivered] != 0 || n.Pending() != 4 {
				t.Errorf("ledger %v, want all 4 queued again, none failed", n.ByState)
			}
			for _, a := range f.emails {
				if sub := f.subscriber(a); sub.Status != store.Active {
					t.Errorf("%s: %s (%q), want active: a relay fault suppresses nobody", a, sub.Status, sub.StatusReason)
				}
			}
		})
	}
}

// TestCampaignRelayCallingEveryoneUnknownPauses: a relay that answers 5.1.1
// to every recipient (a wrong recipient table) would otherwise suppress the
// whole list; the engine pauses after maxDeadStreak refusals in a row, having
// suppressed fewer than that, and leaves the rest queued.
func TestCampaignRelayCallingEveryoneUnknownPauses(t *testing.T) {
	const n = 3 * maxDeadStreak
	f := newFixture(t, n)
	unknown := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "User unknown in local recipient table"}
	faults := smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{}}
	for _, a := range f.emails {
		faults.RcptErr[a] = unknown
	}
	srv := smtptest.Start(t, smtptest.Options{Faults: faults})
	f.start()
	c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{Workers: 1}), 30*time.Second)
	if c.State != store.Paused || !strings.Contains(c.StateReason, "User unknown") {
		t.Fatalf("campaign %s (%q), want paused with the relay's reply", c.State, c.StateReason)
	}
	bounced := 0
	for _, a := range f.emails {
		if f.subscriber(a).Status == store.Bounced {
			bounced++
		}
	}
	if bounced >= maxDeadStreak {
		t.Errorf("%d of %d subscribers bounced, want fewer than %d", bounced, n, maxDeadStreak)
	}
	if cnt := f.counts(); cnt.ByState[store.Undelivered] != bounced || cnt.Pending() != n-bounced {
		t.Errorf("ledger %v, want %d failed and the other %d queued again", cnt.ByState, bounced, n-bounced)
	}
}
