// Package reporttest builds, through the store's own API, a campaign whose
// every outcome is known, so that the tests of the report, the command line
// and the web pages check the same numbers.
package reporttest

import (
	"context"
	"fmt"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// Outcome is what happens to one recipient of the fixture campaign.
type Outcome string

// The outcomes of the fixture, one recipient each (two for Sent).
const (
	Sent         Outcome = "sent"          // accepted by the relay, nothing else
	Failed5xx    Outcome = "failed-5xx"    // 550 5.1.1 at RCPT TO: failed for good
	RetrySent    Outcome = "4xx-then-sent" // 451 4.7.1, then accepted at the second attempt
	HardBounce   Outcome = "hard-bounce"   // accepted, then a DSN 5.1.1 user unknown
	SoftBounce   Outcome = "soft-bounce"   // accepted, then a DSN 4.2.2 mailbox full
	Complaint    Outcome = "complaint"     // accepted, then an ARF feedback report
	Unsubscribed Outcome = "unsubscribed"  // accepted, then one-click unsubscribe
	Skipped      Outcome = "skipped"       // unsubscribed before the campaign started
	Retrying     Outcome = "retrying"      // 421 4.3.0, waiting for its next attempt
)

// Recipients are the fixture's addresses and what happens to each. The
// domains are the ones a French organisation's lists are made of.
var Recipients = []struct {
	Email   string
	Outcome Outcome
}{
	{"claire.martin@orange.fr", Sent},
	{"olivier.salas@gmail.com", Sent},
	{"inconnu@wanadoo.fr", Failed5xx},
	{"achats@ville-sete.fr", RetrySent},
	{"parti@herault.gouv.fr", HardBounce},
	{"pleine@orange.fr", SoftBounce},
	{"fache@gmail.com", Complaint},
	{"au.revoir@laposte.net", Unsubscribed},
	{"deja.parti@free.fr", Skipped},
	{"lent@interieur.gouv.fr", Retrying},
}

// Want are the figures the report of the fixture must show.
var Want = struct {
	Recipients, Sent, Failed, Skipped, Pending, Retrying, SentRetried int
	BouncedHard, BouncedSoft, Complaints, Unsubscribed, Delivered     int
	DeliveryRate                                                      float64 // delivered / (sent + failed)
	Affected                                                          int     // the rows of the "problems" view
}{
	Recipients: 10, Sent: 7, Failed: 1, Skipped: 1, Pending: 1, Retrying: 1, SentRetried: 1,
	BouncedHard: 1, BouncedSoft: 1, Complaints: 1, Unsubscribed: 1, Delivered: 5,
	DeliveryRate: 5.0 / 8.0,
	// failed, hard, soft, complaint, unsubscribed, retrying, skipped
	Affected: 7,
}

// RecentStart returns a start for Build two days ago, on the hour: the
// events the store dates itself (unsubscribes, status changes) then fall
// within days of the sending, as in life.
func RecentStart() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour) }

// Fixture is the campaign built, with what is needed to finish it.
type Fixture struct {
	Campaign    *store.Campaign
	List        *store.List
	Subscribers map[string]*store.Subscriber // by address
	Deliveries  map[string]*store.Delivery   // by address
	Start       time.Time                    // when the sending started

	st    *store.Storage
	owner string
}

// Build makes the fixture campaign "Lettre n°42" in st, sent from start: a
// list of the Recipients, the campaign in state sending with one delivery
// waiting for a retry, its ledger and its mailbox and subscriber events.
func Build(ctx context.Context, st *store.Storage, start time.Time) (*Fixture, error) {
	f := &Fixture{st: st, owner: "reporttest", Start: start.UTC(),
		Subscribers: map[string]*store.Subscriber{}, Deliveries: map[string]*store.Delivery{}}
	l := &store.List{Name: "Partenaires", Description: "Lettre trimestrielle"}
	if err := st.CreateList(ctx, l); err != nil {
		return nil, err
	}
	f.List = l
	for _, r := range Recipients {
		sub := &store.Subscriber{Email: r.Email, Status: store.Active, Consent: store.Consent{Source: "import partenaires.csv"}}
		if err := st.AddSubscriber(ctx, sub, []string{l.Name}, false); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Email, err)
		}
		f.Subscribers[r.Email] = sub
		if r.Outcome == Skipped {
			if _, err := st.SetStatus(ctx, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "link"}); err != nil {
				return nil, err
			}
		}
	}
	ed := &store.Edition{Slug: "lettre-42", Title: "Lettre n°42", Source: "---\ntitle: Lettre n°42\nsubject: Lettre n°42\n---\n\nBonjour.\n"}
	if _, err := st.SaveEdition(ctx, ed); err != nil {
		return nil, err
	}
	c := &store.Campaign{Name: "Lettre n°42", EditionID: ed.ID, Subject: "Lettre n°42 : les clauses sociales en 2026",
		From: "MICS 34 <lettre@example.org>", ListIDs: []int64{l.ID}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		return nil, err
	}
	if _, err := st.TransitionCampaign(ctx, store.Transition{CampaignID: c.ID, From: []store.CampaignState{store.Draft},
		To: store.Sending, Cause: i18n.Text("reporttest")}); err != nil {
		return nil, err
	}
	if ok, err := st.AcquireLease(ctx, c.ID, f.owner, time.Now().Add(time.Hour)); err != nil || !ok {
		return nil, fmt.Errorf("lease: %v %v", ok, err)
	}

	// First round: every queued delivery is tried.
	t := f.Start
	ds, err := st.ClaimDeliveries(ctx, c.ID, f.owner, 100, t)
	if err != nil {
		return nil, err
	}
	var results []store.Result
	for i, d := range ds {
		f.Deliveries[d.Email] = d
		at := t.Add(time.Duration(i) * 7 * time.Minute)
		r := store.Result{DeliveryID: d.ID, At: at, MessageID: fmt.Sprintf("m%d@example.org", d.ID)}
		switch outcome(d.Email) {
		case Failed5xx:
			r.Outcome, r.SMTPCode, r.EnhancedCode, r.Reply = store.OutcomeFailed, 550, "5.1.1", "RCPT TO: 550 5.1.1 <inconnu@wanadoo.fr>: Recipient address rejected: User unknown"
		case RetrySent:
			r.Outcome, r.SMTPCode, r.EnhancedCode, r.Reply = store.OutcomeRetry, 451, "4.7.1", "RCPT TO: 451 4.7.1 Greylisted, try again later"
			r.NextAttemptAt = at.Add(10 * time.Minute)
		case Retrying:
			r.Outcome, r.SMTPCode, r.EnhancedCode, r.Reply = store.OutcomeRetry, 421, "4.3.0", "RCPT TO: 421 4.3.0 Temporary system problem"
			r.NextAttemptAt = at.Add(1000 * time.Hour) // not due again within the test
		default:
			r.Outcome, r.SMTPCode, r.EnhancedCode, r.Reply = store.OutcomeSent, 250, "2.0.0", fmt.Sprintf("250 2.0.0 Ok: queued as Q%d", d.ID)
		}
		results = append(results, r)
	}
	if err := st.RecordResults(ctx, results); err != nil {
		return nil, err
	}
	// The greylisted one goes at its second attempt.
	retry := f.Deliveries[email(RetrySent)]
	again, err := st.ClaimDeliveries(ctx, c.ID, f.owner, 100, t.Add(2*time.Hour))
	if err != nil {
		return nil, err
	}
	if len(again) != 1 || again[0].ID != retry.ID {
		return nil, fmt.Errorf("second round claimed %d deliveries, want the greylisted one", len(again))
	}
	if err := st.RecordResults(ctx, []store.Result{{DeliveryID: retry.ID, Outcome: store.OutcomeSent, At: t.Add(2 * time.Hour),
		SMTPCode: 250, EnhancedCode: "2.0.0", Reply: "250 2.0.0 Ok: queued as R1"}}); err != nil {
		return nil, err
	}

	// What came back in the mailbox, the next day.
	uid := uint32(0)
	event := func(who Outcome, kind, reason, status, diag string, eff store.MailboxEffect) error {
		d := f.Deliveries[email(who)]
		uid++
		ev := &store.MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: uid, MessageID: fmt.Sprintf("dsn%d@mx.example", uid),
			From: "MAILER-DAEMON@mx.example", Subject: "Undelivered Mail Returned to Sender", Kind: kind, Reason: reason,
			Status: status, Diagnostic: diag, Recipients: []string{d.Email}, DeliveryID: d.ID, CampaignID: c.ID,
			SubscriberID: f.Subscribers[d.Email].ID, MatchedBy: "verp", ReceivedAt: t.Add(20*time.Hour + time.Duration(uid)*time.Hour)}
		_, err := st.RecordMailboxEvent(ctx, ev, eff)
		return err
	}
	steps := []error{
		event(HardBounce, "hard", "user_unknown", "5.1.1", "smtp; 550 5.1.1 <parti@herault.gouv.fr>: adresse inconnue",
			store.MailboxEffect{Status: store.Bounced, Source: "bounce", Reason: "5.1.1 user_unknown"}),
		event(SoftBounce, "soft", "mailbox_full", "4.2.2", "smtp; 452 4.2.2 Mailbox full: boîte pleine",
			store.MailboxEffect{SoftBounce: true, Source: "bounce", Reason: "4.2.2 mailbox_full", SoftLimit: 3, SoftWindow: 30 * 24 * time.Hour}),
		// A "delayed" notice is not a failure: it changes no figure but
		// the informative one.
		event(SoftBounce, "delayed", "delayed", "4.4.7", "delivery delayed",
			store.MailboxEffect{}),
		event(Complaint, "complaint", "feedback", "", "abuse report from gmail.com",
			store.MailboxEffect{Status: store.Complained, Source: "complaint", Reason: "complaint (feedback report)"}),
	}
	for _, err := range steps {
		if err != nil {
			return nil, err
		}
	}
	if _, err := st.SetStatus(ctx, f.Subscribers[email(Unsubscribed)].ID, store.StatusChange{Status: store.Unsubscribed,
		Source: "one-click", CampaignID: c.ID}); err != nil {
		return nil, err
	}
	if f.Campaign, err = st.CampaignByID(ctx, c.ID); err != nil {
		return nil, err
	}
	return f, nil
}

// Finish sends the delivery still waiting for a retry and marks the
// campaign sent, as the engine would.
func (f *Fixture) Finish(ctx context.Context) error {
	d := f.Deliveries[email(Retrying)]
	// The store takes it back only when due: claim it far enough ahead.
	ds, err := f.st.ClaimDeliveries(ctx, f.Campaign.ID, f.owner, 10, f.Start.Add(2000*time.Hour))
	if err != nil {
		return err
	}
	if len(ds) != 1 || ds[0].ID != d.ID {
		return fmt.Errorf("finish claimed %d deliveries, want the retrying one", len(ds))
	}
	if err := f.st.RecordResults(ctx, []store.Result{{DeliveryID: d.ID, Outcome: store.OutcomeSent, At: f.Start.Add(3 * time.Hour),
		SMTPCode: 250, EnhancedCode: "2.0.0", Reply: "250 2.0.0 Ok"}}); err != nil {
		return err
	}
	if _, err := f.st.TransitionCampaign(ctx, store.Transition{CampaignID: f.Campaign.ID, From: []store.CampaignState{store.Sending},
		To: store.Sent, Cause: i18n.Text("reporttest: all done"), LeaseOwner: f.owner}); err != nil {
		return err
	}
	if err := f.st.ReleaseLease(ctx, f.Campaign.ID, f.owner); err != nil {
		return err
	}
	c, err := f.st.CampaignByID(ctx, f.Campaign.ID)
	if err != nil {
		return err
	}
	f.Campaign = c
	return nil
}

func outcome(addr string) Outcome {
	for _, r := range Recipients {
		if r.Email == addr {
			return r.Outcome
		}
	}
	return ""
}

func email(o Outcome) string {
	for _, r := range Recipients {
		if r.Outcome == o {
			return r.Email
		}
	}
	return ""
}

// Email returns the address of the fixture recipient with outcome o (the
// first, for Sent).
func Email(o Outcome) string { return email(o) }
