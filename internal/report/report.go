// Package report computes Bulletin's delivery reports: for one campaign,
// who was sent the edition, who did not get it and why, who bounced,
// complained or left; across campaigns, how the lists fare from one quarter
// to the next. The command line, the admin console, the JSON API and the
// summary mailed to admins all show the same result: a *Campaign from
// ForCampaign, an *Overview from Lists.
//
// Every figure is derived from the ledger (one row per delivery) and from
// the mailbox and subscriber events attributed to the campaign; nothing is
// counted on the side. docs/reports.md defines each figure.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"bulletin/internal/store"
)

// Source is what the reports read: the store's report queries.
// *store.Storage satisfies it.
type Source interface {
	CampaignReportData(ctx context.Context, campaignID int64) (*store.CampaignReportData, error)
	CampaignOutboxed(ctx context.Context, campaignID int64) (int, error)
	CampaignAddresses(ctx context.Context, campaignID int64, f store.AddressFilter) ([]store.AddressRow, int, error)
	CampaignsTotals(ctx context.Context) ([]store.CampaignTotals, error)
	SubscriberHistory(ctx context.Context, fn func(*store.HistoryEvent) error) error
	SentPerHour(ctx context.Context) ([]store.HourCount, error)
	Lists(ctx context.Context) ([]*store.List, error)
}

var _ Source = (*store.Storage)(nil)

// Campaign is the report of one campaign. Its JSON form is the output of
// "bulletin report CAMPAIGN --json" and of the API; the fields from
// recipients to unsubscribed are a contract for scripts (DESIGN.md): they
// are never renamed.
type Campaign struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Subject     string    `json:"subject"`
	Edition     string    `json:"edition"`
	State       string    `json:"state"`
	StateReason string    `json:"state_reason,omitempty"`
	Lists       []string  `json:"lists"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	FirstSentAt time.Time `json:"first_sent_at,omitzero"`
	LastSentAt  time.Time `json:"last_sent_at,omitzero"`
	GeneratedAt time.Time `json:"generated_at"`

	// The contract.
	Recipients   int `json:"recipients"`   // ledger rows (test sends never enter the ledger)
	Sent         int `json:"sent"`         // accepted by the relay
	Failed       int `json:"failed"`       // refused for good, or retried until too old
	Skipped      int `json:"skipped"`      // not sent, with a reason (skipped_by_reason)
	Pending      int `json:"pending"`      // queued + sending: not done yet, retries included
	BouncedHard  int `json:"bounced_hard"` // deliveries with a hard bounce
	BouncedSoft  int `json:"bounced_soft"` // deliveries with a soft bounce and no hard one
	Complaints   int `json:"complaints"`   // deliveries whose reader complained
	Unsubscribed int `json:"unsubscribed"` // subscribers who left through this campaign

	// More of the ledger.
	Queued         int `json:"queued"`
	Sending        int `json:"sending"`          // in an SMTP transaction right now
	Retrying       int `json:"retrying"`         // queued after a temporary failure (4xx)
	SentAfterRetry int `json:"sent_after_retry"` // sent, after one or more temporary failures
	Duplicates     int `json:"duplicates"`       // possibly sent twice (in flight at a crash)
	Delayed        int `json:"delayed"`          // deliveries with a "delayed" notice: not a failure
	Delivered      int `json:"delivered"`        // sent and not bounced

	// Transport is how the sent messages left: "smtp" (a relay accepted
	// them), "outbox" (written as files to the outbox folder: nobody
	// received them), "mixed" (some of each), or "none" (nothing sent
	// yet). Outboxed counts those the outbox wrote; they are among sent.
	Transport string `json:"transport"`
	Outboxed  int    `json:"outboxed"`

	// Refusals: failed deliveries that the relay refused for good in the
	// SMTP session (RCPT TO, end of DATA), judged like bounces, and that
	// have no bounce. Both are part of failed.
	RefusedHard int `json:"refused_hard"` // the relay said the address does not exist
	RefusedSoft int `json:"refused_soft"` // any other 5xx: policy, spam, blocked, too big
	// DeadAddresses is bounced_hard + refused_hard: the addresses this
	// campaign found dead, however the relay said it.
	DeadAddresses int `json:"dead_addresses"`

	// Rates, from 0 to 1; null when their denominator is 0.
	// DeliveryRate is delivered / (sent + failed): of the messages
	// Bulletin finished trying, the share that arrived. Once nothing is
	// pending it is delivered / (recipients − skipped); while sending it
	// is not dragged down by what is still to go.
	DeliveryRate    *float64 `json:"delivery_rate"`
	BounceRate      *float64 `json:"bounce_rate"`      // (bounced_hard + bounced_soft) / sent
	ComplaintRate   *float64 `json:"complaint_rate"`   // complaints / delivered
	UnsubscribeRate *float64 `json:"unsubscribe_rate"` // unsubscribed / delivered

	FailuresByClass map[string]int `json:"failures_by_class"` // "5xx", "4xx", "none": failed by SMTP reply class
	Failures        []Failure      `json:"failures"`
	SkippedBy       []Reason       `json:"skipped_by_reason"`
	Bounces         []Bounce       `json:"bounces"`
	Refusals        []Refusal      `json:"refusals"`
	UnsubscribedBy  []Reason       `json:"unsubscribed_by_source"`
	Domains         []Domain       `json:"domains"`
	Timeline        Timeline       `json:"timeline"`
	Tracking        *Tracking      `json:"tracking"` // null: opens and clicks not tracked (the default)

	// Addresses are the deliveries asked for with Options.Addresses; nil,
	// and absent from the JSON, when none were.
	Addresses *AddressList `json:"addresses,omitempty"`

	campaignID int64
}

// Failure is the failed deliveries with the same reply codes.
type Failure struct {
	Class        string `json:"class"`         // 5xx, 4xx (given up after retries), none (no reply: connection, timeout)
	SMTPCode     int    `json:"smtp_code"`     // 0 when none
	EnhancedCode string `json:"enhanced_code"` // RFC 3463, "" when the relay gave none
	Count        int    `json:"count"`
	Example      string `json:"example"` // one of the replies, in the relay's words
}

// Reason is a number of deliveries or people sharing a reason or a source.
type Reason struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Bounce is the bounced deliveries with the same kind, reason and code.
type Bounce struct {
	Kind    string `json:"kind"`   // hard or soft
	Reason  string `json:"reason"` // user_unknown, mailbox_full, ... (the classifier's)
	Status  string `json:"status"` // RFC 3463
	Count   int    `json:"count"`
	Example string `json:"example"` // one diagnostic, in the remote server's words
}

// Refusal is the deliveries refused by the relay in the SMTP session with
// the same kind, reason and reply codes.
type Refusal struct {
	Kind         string `json:"kind"`   // hard or soft
	Reason       string `json:"reason"` // user_unknown, policy, ... (the classifier's)
	SMTPCode     int    `json:"smtp_code"`
	EnhancedCode string `json:"enhanced_code"`
	Count        int    `json:"count"`
	Example      string `json:"example"` // one of the replies, in the relay's words
}

// Domain is the figures for the addresses of one domain.
type Domain struct {
	Domain       string   `json:"domain"` // "" for addresses erased since
	Recipients   int      `json:"recipients"`
	Sent         int      `json:"sent"`
	Failed       int      `json:"failed"`
	Skipped      int      `json:"skipped"`
	Pending      int      `json:"pending"`
	Delivered    int      `json:"delivered"`
	BouncedHard  int      `json:"bounced_hard"`
	BouncedSoft  int      `json:"bounced_soft"`
	Complaints   int      `json:"complaints"`
	Unsubscribed int      `json:"unsubscribed"`
	DeliveryRate *float64 `json:"delivery_rate"`
}

// Timeline is what happened over time: the sending, in hours (or days
// when it took more than three days), and what came back afterwards,
// bounces, complaints, unsubscribes (and opens and clicks when tracked),
// in days (or hours when everything fits in two days). Buckets are in the
// schedule's time zone, without gaps.
type Timeline struct {
	Timezone    string  `json:"timezone"`
	SendBucket  string  `json:"send_bucket"` // hour or day
	Sends       []Point `json:"sends"`
	EventBucket string  `json:"event_bucket"` // hour, day or week
	Events      []Point `json:"events"`
}

// Point is one bucket of the timeline.
type Point struct {
	At           time.Time `json:"at"`
	Sent         int       `json:"sent,omitempty"`
	Failed       int       `json:"failed,omitempty"`
	BouncedHard  int       `json:"bounced_hard,omitempty"`
	BouncedSoft  int       `json:"bounced_soft,omitempty"`
	Complaints   int       `json:"complaints,omitempty"`
	Unsubscribed int       `json:"unsubscribed,omitempty"`
	Opens        int       `json:"opens,omitempty"`
	Clicks       int       `json:"clicks,omitempty"`
}

// Tracking is the opens and clicks of a campaign that chose to count them.
type Tracking struct {
	Opened    int      `json:"opened"` // deliveries opened at least once (a click counts as an open)
	OpenHits  int      `json:"open_hits"`
	Clicked   int      `json:"clicked"` // deliveries with at least one click
	ClickHits int      `json:"click_hits"`
	OpenRate  *float64 `json:"open_rate"`  // opened / delivered
	ClickRate *float64 `json:"click_rate"` // clicked / delivered
	Links     []Link   `json:"links"`
	// Caveat is why opens are overstated: Apple Mail Privacy Protection
	// fetches every image of every message, read or not.
	Caveat string `json:"caveat"`
}

// AppleMPPCaveat is the warning every report with opens carries.
const AppleMPPCaveat = "Opens are overstated: Apple Mail Privacy Protection (and some security gateways) load the pixel of every message received, read or not. Clicks are a more reliable sign of interest."

// Link is a tracked link and the readers who followed it.
type Link struct {
	URL     string `json:"url"`
	Readers int    `json:"readers"`
	Hits    int    `json:"hits"`
}

// Options say what a campaign report includes besides its figures.
type Options struct {
	// Addresses selects the deliveries listed with the report (see
	// store.AddressFilter.Show); "" lists none.
	Addresses string
	Limit     int // of the addresses listed; 0: all
	Offset    int
	// Location is the time zone of the timeline's days (schedule.timezone).
	Location *time.Location
	// Now is the time of the report; zero means time.Now.
	Now time.Time
}

// ForCampaign computes the report of campaign c.
func ForCampaign(ctx context.Context, src Source, c *store.Campaign, o Options) (*Campaign, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	d, err := src.CampaignReportData(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	t := d.Totals
	r := &Campaign{
		ID: c.UUID.String(), Name: c.Name, Subject: c.Subject, Edition: c.EditionSlug, State: string(c.State),
		StateReason: c.StateReason, Lists: nonNil(c.Lists), StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
		FirstSentAt: t.FirstSent, LastSentAt: t.LastSent, GeneratedAt: o.Now.UTC(), campaignID: c.ID,

		Recipients: t.Recipients, Sent: t.States[store.Delivered], Failed: t.States[store.Undelivered],
		Skipped: t.States[store.Skipped], Pending: t.States[store.Queued] + t.States[store.InFlight],
		BouncedHard: t.BouncedHard, BouncedSoft: t.BouncedSoft, Complaints: t.Complaints, Unsubscribed: t.Unsubscribed,

		Queued: t.States[store.Queued], Sending: t.States[store.InFlight], Retrying: t.Retrying,
		SentAfterRetry: t.SentRetried, Duplicates: t.Duplicates, Delayed: t.Delayed, Delivered: t.Delivered(),
		RefusedHard: t.RefusedHard, RefusedSoft: t.RefusedSoft, DeadAddresses: t.DeadAddresses(),
		FailuresByClass: map[string]int{"5xx": 0, "4xx": 0, "none": 0},
		Failures:        []Failure{}, SkippedBy: []Reason{}, Bounces: []Bounce{}, Refusals: []Refusal{}, UnsubscribedBy: []Reason{}, Domains: []Domain{},
	}
	if r.Outboxed, err = src.CampaignOutboxed(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Transport = Transport(r.Sent, r.Outboxed)
	r.DeliveryRate = rate(r.Delivered, r.Sent+r.Failed)
	r.BounceRate = rate(r.BouncedHard+r.BouncedSoft, r.Sent)
	r.ComplaintRate = rate(r.Complaints, r.Delivered)
	r.UnsubscribeRate = rate(r.Unsubscribed, r.Delivered)

	for _, f := range d.Failures {
		cl := replyClass(f.SMTPCode)
		r.FailuresByClass[cl] += f.Count
		r.Failures = append(r.Failures, Failure{Class: cl, SMTPCode: f.SMTPCode, EnhancedCode: f.EnhancedCode, Count: f.Count, Example: f.Example})
	}
	// 5xx first, then 4xx, then no reply; most frequent first within each.
	sort.SliceStable(r.Failures, func(i, j int) bool { return classRank(r.Failures[i].Class) < classRank(r.Failures[j].Class) })
	for _, s := range d.Skips {
		r.SkippedBy = append(r.SkippedBy, Reason{Reason: s.Key, Count: s.Count})
	}
	for _, b := range d.Bounces {
		r.Bounces = append(r.Bounces, Bounce{Kind: b.Kind, Reason: b.Reason, Status: b.Status, Count: b.Count, Example: b.Example})
	}
	for _, x := range d.Refusals {
		r.Refusals = append(r.Refusals, Refusal{Kind: x.Kind, Reason: x.Reason, SMTPCode: x.SMTPCode, EnhancedCode: x.EnhancedCode,
			Count: x.Count, Example: x.Example})
	}
	for _, u := range d.UnsubscribeSources {
		r.UnsubscribedBy = append(r.UnsubscribedBy, Reason{Reason: u.Key, Count: u.Count})
	}
	for _, x := range d.Domains {
		r.Domains = append(r.Domains, Domain{Domain: x.Domain, Recipients: x.Recipients, Sent: x.Sent, Failed: x.Failed,
			Skipped: x.Skipped, Pending: x.Pending, Delivered: x.Delivered, BouncedHard: x.BouncedHard, BouncedSoft: x.BouncedSoft,
			Complaints: x.Complaints, Unsubscribed: x.Unsubscribed, DeliveryRate: rate(x.Delivered, x.Sent+x.Failed)})
	}
	r.Timeline = timeline(d.Timeline, o.Location)
	if d.Track {
		r.Tracking = &Tracking{Links: []Link{}, Caveat: AppleMPPCaveat}
		if tc := d.Tracking; tc != nil {
			r.Tracking.Opened, r.Tracking.OpenHits, r.Tracking.Clicked, r.Tracking.ClickHits = tc.Opened, tc.OpenHits, tc.Clicked, tc.ClickHits
			for _, l := range tc.Links {
				r.Tracking.Links = append(r.Tracking.Links, Link{URL: l.URL, Readers: l.Readers, Hits: l.Hits})
			}
		}
		r.Tracking.OpenRate = rate(r.Tracking.Opened, r.Delivered)
		r.Tracking.ClickRate = rate(r.Tracking.Clicked, r.Delivered)
	}
	if o.Addresses != "" {
		l := &AddressList{Show: o.Addresses, Offset: o.Offset}
		if l.Items, l.Total, err = Addresses(ctx, src, c.ID, o.Addresses, o.Limit, o.Offset); err != nil {
			return nil, err
		}
		r.Addresses = l
	}
	return r, nil
}

// rate returns n/of, or nil when of is 0.
func rate(n, of int) *float64 {
	if of <= 0 {
		return nil
	}
	f := float64(n) / float64(of)
	return &f
}

// replyClass is the class of an SMTP reply code: 5xx, 4xx, or none when the
// relay never answered.
func replyClass(code int) string {
	switch code / 100 {
	case 5:
		return "5xx"
	case 4:
		return "4xx"
	case 0:
		return "none"
	}
	return fmt.Sprintf("%dxx", code/100)
}

func classRank(c string) int {
	switch c {
	case "5xx":
		return 0
	case "4xx":
		return 1
	case "none":
		return 3
	}
	return 2
}

// TopDomains returns the n domains with the most recipients, and the rest
// added up as one Domain named "" with Others set to how many domains it
// holds (0 when there is no rest). Erased addresses are in the rest.
func (r *Campaign) TopDomains(n int) (top []Domain, rest Domain, others int) {
	for _, d := range r.Domains {
		if d.Domain != "" && len(top) < n {
			top = append(top, d)
			continue
		}
		others++
		rest.Recipients += d.Recipients
		rest.Sent += d.Sent
		rest.Failed += d.Failed
		rest.Skipped += d.Skipped
		rest.Pending += d.Pending
		rest.Delivered += d.Delivered
		rest.BouncedHard += d.BouncedHard
		rest.BouncedSoft += d.BouncedSoft
		rest.Complaints += d.Complaints
		rest.Unsubscribed += d.Unsubscribed
	}
	rest.DeliveryRate = rate(rest.Delivered, rest.Sent+rest.Failed)
	return top, rest, others
}

// Done reports whether every delivery reached a final state.
func (r *Campaign) Done() bool { return r.Pending == 0 && r.Recipients > 0 }

// CampaignID returns the row id of the campaign reported on.
func (r *Campaign) CampaignID() int64 { return r.campaignID }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Bucket sizes of the timeline.
const (
	Hour = "hour"
	Day  = "day"
	Week = "week"
)

// timeline turns the store's hours (UTC) into the two series of the
// report, in loc.
func timeline(hours []store.HourCounts, loc *time.Location) Timeline {
	tl := Timeline{Timezone: loc.String(), SendBucket: Hour, EventBucket: Day, Sends: []Point{}, Events: []Point{}}
	var sends, events []store.HourCounts
	for _, h := range hours {
		if h.Sent+h.Failed > 0 {
			sends = append(sends, h)
		}
		if h.BouncedHard+h.BouncedSoft+h.Complaints+h.Unsubscribed+h.Opens+h.Clicks > 0 {
			events = append(events, h)
		}
	}
	if len(sends) > 0 {
		span := sends[len(sends)-1].Hour.Sub(sends[0].Hour)
		if span > 72*time.Hour {
			tl.SendBucket = Day
		}
		tl.Sends = bucket(sends, tl.SendBucket, loc, func(p *Point, h store.HourCounts) {
			p.Sent += h.Sent
			p.Failed += h.Failed
		})
	}
	if len(events) > 0 {
		// Returns are drawn from the first send, so that both series read
		// against the same start.
		first := events[0].Hour
		if len(sends) > 0 && sends[0].Hour.Before(first) {
			first = sends[0].Hour
		}
		span := events[len(events)-1].Hour.Sub(first)
		switch {
		case span <= 48*time.Hour:
			tl.EventBucket = Hour
		case span > 120*24*time.Hour:
			tl.EventBucket = Week
		}
		if first.Before(events[0].Hour) {
			events = append([]store.HourCounts{{Hour: first}}, events...)
		}
		tl.Events = bucket(events, tl.EventBucket, loc, func(p *Point, h store.HourCounts) {
			p.BouncedHard += h.BouncedHard
			p.BouncedSoft += h.BouncedSoft
			p.Complaints += h.Complaints
			p.Unsubscribed += h.Unsubscribed
			p.Opens += h.Opens
			p.Clicks += h.Clicks
		})
	}
	return tl
}

// bucket adds hours (in time order) into buckets of size in loc, from the
// first to the last, empty buckets included.
func bucket(hours []store.HourCounts, size string, loc *time.Location, add func(*Point, store.HourCounts)) []Point {
	var out []Point
	for _, h := range hours {
		at := truncate(h.Hour.In(loc), size)
		for len(out) == 0 || out[len(out)-1].At.Before(at) {
			next := at
			if len(out) > 0 {
				next = advance(out[len(out)-1].At, size)
			}
			out = append(out, Point{At: next})
		}
		add(&out[len(out)-1], h)
	}
	return out
}

// truncate returns the start of the bucket of t, in t's location.
func truncate(t time.Time, size string) time.Time {
	switch size {
	case Hour:
		return t.Truncate(time.Hour)
	case Week:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		// Weeks start on Monday, as in France.
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// advance returns the start of the bucket after the one starting at t.
func advance(t time.Time, size string) time.Time {
	switch size {
	case Hour:
		return t.Add(time.Hour)
	case Week:
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 0, 1)
}

// Outcomes, from the most serious: what became of one delivery, as the
// addresses list says it.
const (
	OutcomeFailed       = "failed"
	OutcomeBouncedHard  = "bounced_hard"
	OutcomeBouncedSoft  = "bounced_soft"
	OutcomeComplaint    = "complaint"
	OutcomeUnsubscribed = "unsubscribed"
	OutcomeRetrying     = "retrying"
	OutcomeSkipped      = "skipped"
	OutcomePending      = "pending"
	OutcomeDelivered    = "delivered"
)

// AddressList is a page of the deliveries a report lists.
type AddressList struct {
	Show   string    `json:"show"`   // what selects them: problems, failed, ..., all
	Total  int       `json:"total"`  // how many it selects in all
	Offset int       `json:"offset"` // of the first item among them
	Items  []Address `json:"items"`
}

// Address is one delivery of a campaign with what became of it.
type Address struct {
	Email   string `json:"email"` // "" when the subscriber was erased since
	Domain  string `json:"domain"`
	Outcome string `json:"outcome"` // the most serious: failed, bounced_hard, bounced_soft, complaint, unsubscribed, retrying, skipped, pending, delivered
	State   string `json:"state"`   // the ledger's: queued, sending, sent, failed, skipped
	// Detail is the words that explain the outcome: the bounce's own
	// diagnostic, the relay's reply, or the skip reason.
	Detail         string    `json:"detail"`
	Attempts       int       `json:"attempts"`
	SMTPCode       int       `json:"smtp_code"`
	EnhancedCode   string    `json:"enhanced_code"`
	Reply          string    `json:"reply"`
	SkipReason     string    `json:"skip_reason,omitempty"`
	SentAt         time.Time `json:"sent_at,omitzero"`
	LastAttemptAt  time.Time `json:"last_attempt_at,omitzero"`
	NextAttemptAt  time.Time `json:"next_attempt_at,omitzero"`
	Refusal        string    `json:"refusal,omitempty"`        // hard or soft: refused for good by the relay, judged like a bounce
	RefusalReason  string    `json:"refusal_reason,omitempty"` // user_unknown, policy, ...
	BounceKind     string    `json:"bounce_kind,omitempty"`
	BounceStatus   string    `json:"bounce_status,omitempty"`
	BounceReason   string    `json:"bounce_reason,omitempty"`
	BounceDiag     string    `json:"bounce_diagnostic,omitempty"`
	BouncedAt      time.Time `json:"bounced_at,omitzero"`
	ComplainedAt   time.Time `json:"complained_at,omitzero"`
	UnsubscribedAt time.Time `json:"unsubscribed_at,omitzero"`
	UnsubscribedBy string    `json:"unsubscribed_by,omitempty"`
}

// Addresses returns the deliveries of a campaign that show selects (see
// store.AddressFilter), limit at a time from offset (limit 0: all), and how
// many show selects in all.
func Addresses(ctx context.Context, src Source, campaignID int64, show string, limit, offset int) ([]Address, int, error) {
	rows, total, err := src.CampaignAddresses(ctx, campaignID, store.AddressFilter{Show: show, Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, fmt.Errorf("report: %w", err)
	}
	out := make([]Address, 0, len(rows))
	for _, r := range rows {
		a := Address{Email: r.Email, State: string(r.State), Attempts: r.Attempts, SMTPCode: r.SMTPCode,
			EnhancedCode: r.EnhancedCode, Reply: r.Reply, SkipReason: r.SkipReason, SentAt: r.SentAt,
			LastAttemptAt: r.LastAttempt, Refusal: r.Refusal, RefusalReason: r.RefusalReason, BounceKind: r.BounceKind, BounceStatus: r.BounceStatus,
			BounceReason: r.BounceReason, BounceDiag: r.BounceDiagnostic, BouncedAt: r.BouncedAt,
			ComplainedAt: r.ComplainedAt, UnsubscribedAt: r.UnsubscribedAt, UnsubscribedBy: r.UnsubscribedBy}
		if _, dom, ok := strings.Cut(r.Email, "@"); ok {
			a.Domain = strings.ToLower(dom)
		}
		if r.State == store.Queued {
			a.NextAttemptAt = r.NextAttempt
		}
		a.Outcome, a.Detail = outcome(r)
		out = append(out, a)
	}
	return out, total, nil
}

// outcome returns the most serious thing that happened to a delivery and
// the words that explain it.
func outcome(r store.AddressRow) (string, string) {
	switch {
	case r.State == store.Undelivered:
		return OutcomeFailed, r.Reply
	case r.BounceKind == "hard":
		return OutcomeBouncedHard, bounceDetail(r)
	case r.BounceKind == "soft":
		return OutcomeBouncedSoft, bounceDetail(r)
	case !r.ComplainedAt.IsZero():
		return OutcomeComplaint, ""
	case !r.UnsubscribedAt.IsZero():
		return OutcomeUnsubscribed, r.UnsubscribedBy
	case r.State == store.Queued && r.Attempts > 0:
		return OutcomeRetrying, r.Reply
	case r.State == store.Skipped:
		return OutcomeSkipped, r.SkipReason
	case r.State == store.Queued || r.State == store.InFlight:
		return OutcomePending, ""
	}
	return OutcomeDelivered, r.Reply
}

func bounceDetail(r store.AddressRow) string {
	if r.BounceDiagnostic != "" {
		return r.BounceDiagnostic
	}
	return strings.TrimSpace(r.BounceStatus + " " + r.BounceReason)
}

// Transport names how the sent messages of a campaign left, from the
// ledger: outboxed of its sent deliveries were written by the outbox
// ("none", "smtp", "outbox" or "mixed"; see Campaign.Transport).
func Transport(sent, outboxed int) string {
	switch {
	case sent == 0:
		return "none"
	case outboxed == 0:
		return "smtp"
	case outboxed == sent:
		return "outbox"
	}
	return "mixed"
}

// Outbox reports whether none of the messages counted as sent reached
// anyone: the outbox wrote every one of them to a folder.
func (r *Campaign) Outbox() bool { return r.Transport == "outbox" }
