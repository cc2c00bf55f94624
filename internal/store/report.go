package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The aggregates the reports are computed from (package report). Every
// figure comes from the ledger (deliveries), the mailbox events and the
// subscriber events; the SQL groups, Go only adds up and labels.
//
// Four sets recur, each with one row per delivery so that nothing is
// counted twice, and each defined once in reportSets:
//
//   - bounce: the deliveries of the campaign with a hard or soft bounce.
//     When a delivery bounced several times, its hard bounce wins over its
//     soft ones, then the latest: a delivery is either bounced hard or
//     bounced soft, never both.
//   - complaint: the deliveries whose reader complained, from a feedback
//     report in the mailbox or a status change to complained attributed to
//     the campaign (an admin acting on a provider's dashboard). A
//     complaint whose subscriber was erased keeps a row without delivery.
//   - unsub: the subscribers who unsubscribed in a way attributed to the
//     campaign (one-click, link, mailto), with the first such event; an
//     erased subscriber keeps a row without delivery.
//   - refused: the failed deliveries that the relay refused for good in
//     the SMTP session, judged hard or soft like a bounce (issue 13), and
//     that have no bounce: a delivery is counted once, bounce first.

// reportSets are the common table expressions of bounce, complaint, unsub
// and refused for the campaign bound to :c. MATERIALIZED: each is read several
// times by the queries that use it, and is small (events, not deliveries).
const reportSets = `WITH
bounce AS MATERIALIZED (
	SELECT delivery_id, kind, reason, status, diagnostic, at FROM (
		SELECT delivery_id, kind, reason, status, diagnostic, coalesce(received_at, processed_at) AS at,
			row_number() OVER (PARTITION BY delivery_id ORDER BY kind = 'hard' DESC, id DESC) AS rn
		FROM mailbox_events WHERE campaign_id = :c AND kind IN ('hard', 'soft') AND delivery_id IS NOT NULL) AS ranked
	WHERE rn = 1),
complaint AS MATERIALIZED (
	SELECT delivery_id, min(at) AS at FROM (
		SELECT delivery_id, 'm' || id AS anon, coalesce(received_at, processed_at) AS at
		FROM mailbox_events WHERE campaign_id = :c AND kind = 'complaint'
		UNION ALL
		SELECT (SELECT d.id FROM deliveries d WHERE d.campaign_id = :c AND d.subscriber_id = se.subscriber_id), 's' || id, at
		FROM subscriber_events se WHERE campaign_id = :c AND kind = 'status' AND status = 'complained') AS complaints
	GROUP BY delivery_id, CASE WHEN delivery_id IS NULL THEN anon END),
unsub AS MATERIALIZED (
	SELECT (SELECT d.id FROM deliveries d WHERE d.campaign_id = :c AND d.subscriber_id = u.subscriber_id) AS delivery_id,
		at, source FROM (
		SELECT subscriber_id, at, source,
			row_number() OVER (PARTITION BY coalesce(subscriber_id, -id) ORDER BY at, id) AS rn
		FROM subscriber_events WHERE campaign_id = :c AND kind = 'status' AND status = 'unsubscribed') AS u
	WHERE rn = 1),
refused AS MATERIALIZED (
	SELECT id AS delivery_id, refusal, refusal_reason, smtp_code, enhanced_code, reply FROM deliveries d
	WHERE campaign_id = :c AND state = 'failed' AND refusal != '' AND id NOT IN (SELECT delivery_id FROM bounce))
`

// Count is a number of things sharing a key: a reason, a source.
type Count struct {
	Key   string
	Count int
}

// FailureGroup is the failed deliveries that got the same reply codes.
type FailureGroup struct {
	SMTPCode     int    // 0 when the relay never answered (connection refused, timeout)
	EnhancedCode string // RFC 3463, "" when the relay gave none
	Count        int
	Example      string // one of the replies, in the relay's own words
}

// RefusalGroup is the deliveries refused by the relay in the SMTP session
// with the same kind, reason and reply codes.
type RefusalGroup struct {
	Kind         string // hard or soft
	Reason       string // the classifier's reason: user_unknown, policy, ...
	SMTPCode     int
	EnhancedCode string
	Count        int
	Example      string // one of the replies, in the relay's own words
}

// BounceGroup is the bounced deliveries with the same kind, reason and
// status code.
type BounceGroup struct {
	Kind    string // hard or soft
	Reason  string // the classifier's reason: user_unknown, mailbox_full, ...
	Status  string // RFC 3463 code, or ""
	Count   int
	Example string // one of the diagnostics, in the remote server's words
}

// ReportTotals are a campaign's headline figures. See docs/reports.md for
// their definitions; the comments here say how they are counted.
type ReportTotals struct {
	States      map[DeliveryState]int // ledger rows by state
	Recipients  int                   // every ledger row
	Retrying    int                   // queued rows tried already: waiting for another attempt
	SentRetried int                   // sent rows that needed more than one attempt
	Duplicates  int                   // sends that may have reached their reader twice (a crash)
	FirstSent   time.Time
	LastSent    time.Time
	BouncedHard int // rows of bounce with kind hard
	BouncedSoft int // rows of bounce with kind soft
	// BouncedSent is the bounced deliveries in state sent: Delivered is
	// sent minus these.
	BouncedSent  int
	Delayed      int // deliveries with a "delayed" notice (not a failure)
	Complaints   int // rows of complaint
	Unsubscribed int // rows of unsub
	// RefusedHard and RefusedSoft are the failed rows that the relay
	// refused for good in the SMTP session, judged hard or soft like a
	// bounce, and that have no bounce (a bounce counts first).
	RefusedHard int
	RefusedSoft int
}

// DeadAddresses returns the deliveries whose address this campaign found
// dead: bounced hard, or refused by the relay as an unknown address.
func (t *ReportTotals) DeadAddresses() int { return t.BouncedHard + t.RefusedHard }

// Delivered returns the messages the relay accepted that did not bounce.
func (t *ReportTotals) Delivered() int { return t.States[Delivered] - t.BouncedSent }

// DomainCounts are a campaign's figures for the addresses of one domain.
type DomainCounts struct {
	Domain       string // lower case; "" for addresses erased since
	Recipients   int
	Sent         int
	Failed       int
	Skipped      int
	Pending      int
	Delivered    int
	BouncedHard  int
	BouncedSoft  int
	Complaints   int
	Unsubscribed int
}

// HourCounts are what happened to a campaign during one hour.
type HourCounts struct {
	Hour         time.Time // UTC, on the hour
	Sent         int       // accepted by the relay
	Failed       int       // failed for good (at the last attempt)
	BouncedHard  int       // first bounce of the delivery received
	BouncedSoft  int
	Complaints   int
	Unsubscribed int
	Opens        int // first open of a delivery (tracking only)
	Clicks       int // first click of a delivery (tracking only)
}

// LinkCount is one tracked link and how many readers followed it.
type LinkCount struct {
	URL     string
	Readers int // distinct deliveries
	Hits    int
}

// TrackingCounts are the opens and clicks of a campaign that tracks them.
type TrackingCounts struct {
	Opened    int // deliveries with an open or a click (a click proves an open)
	OpenHits  int
	Clicked   int // deliveries with a click
	ClickHits int
	Links     []LinkCount // most followed first
}

// CampaignReportData is everything a campaign's report is computed from,
// read in one transaction so that its figures agree with each other.
type CampaignReportData struct {
	Track              bool // the campaign counts opens and clicks
	Totals             ReportTotals
	Failures           []FailureGroup // most frequent first
	Skips              []Count        // by skip reason, most frequent first
	Bounces            []BounceGroup  // hard first, then most frequent
	Refusals           []RefusalGroup // hard first, then most frequent
	UnsubscribeSources []Count        // by the source of the first unsubscribe
	Domains            []DomainCounts // most recipients first
	Timeline           []HourCounts   // in time order, hours with nothing left out
	Tracking           *TrackingCounts
}

// anyTime reads a time scanned into an any: a time.Time when the driver
// knew the column's type, its text otherwise, nil for NULL.
func anyTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case string:
		return parseTime(t)
	case []byte:
		return parseTime(string(t))
	}
	return time.Time{}
}

// CampaignReportData reads the aggregates of a campaign's report: the
// ledger from its two report indexes (states, domains, sends per hour),
// then every breakdown of the events in one statement, so that the small
// sets of reportSets are computed once.
func (s *Storage) CampaignReportData(ctx context.Context, campaignID int64) (*CampaignReportData, error) {
	d := &CampaignReportData{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT track FROM campaigns WHERE id = ?", campaignID).Scan(&d.Track)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		c := sql.Named("c", campaignID)
		if err := ledgerTotals(ctx, tx, c, &d.Totals); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, `SELECT smtp_code, enhanced_code, count(*), max(reply) FROM deliveries
			WHERE campaign_id = :c AND state = 'failed' GROUP BY smtp_code, enhanced_code ORDER BY 3 DESC, 1, 2`, []any{c},
			func(rows *sql.Rows) error {
				var f FailureGroup
				if err := rows.Scan(&f.SMTPCode, &f.EnhancedCode, &f.Count, &f.Example); err != nil {
					return err
				}
				d.Failures = append(d.Failures, f)
				return nil
			}); err != nil {
			return fmt.Errorf("failures: %w", err)
		}
		if d.Skips, err = counts(ctx, tx, `SELECT skip_reason, count(*) FROM deliveries WHERE campaign_id = :c AND state = 'skipped'
			GROUP BY skip_reason ORDER BY 2 DESC, 1`, c); err != nil {
			return fmt.Errorf("skips: %w", err)
		}
		b := newReportBuilder()
		if err := b.ledger(ctx, tx, c); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if err := b.events(ctx, tx, c, true); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		b.fill(d)
		if d.Track {
			if d.Tracking, err = reportTracking(ctx, tx, c); err != nil {
				return fmt.Errorf("tracking: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("store: campaign report: %w", err)
	}
	return d, nil
}

// reportTotals reads a campaign's headline figures alone (the view across
// campaigns).
func reportTotals(ctx context.Context, q querier, campaignID int64) (*ReportTotals, error) {
	d := &CampaignReportData{}
	c := sql.Named("c", campaignID)
	if err := ledgerTotals(ctx, q, c, &d.Totals); err != nil {
		return nil, err
	}
	b := newReportBuilder()
	if err := b.events(ctx, q, c, false); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	b.fill(d)
	return &d.Totals, nil
}

// ledgerTotals reads the ledger's part of the headline figures: one pass
// over the deliveries_report index in its order, and the first and last
// sends at the ends of deliveries_report_sent.
func ledgerTotals(ctx context.Context, q querier, c sql.NamedArg, t *ReportTotals) error {
	t.States = map[DeliveryState]int{}
	err := eachRow(ctx, q, `SELECT state, count(*), coalesce(sum(duplicates), 0), sum(attempts > 0), sum(attempts > 1)
		FROM deliveries INDEXED BY deliveries_report WHERE campaign_id = :c GROUP BY state`, []any{c},
		func(rows *sql.Rows) error {
			var st DeliveryState
			var n, dup, tried, again int
			if err := rows.Scan(&st, &n, &dup, &tried, &again); err != nil {
				return err
			}
			t.States[st] = n
			t.Recipients += n
			t.Duplicates += dup
			switch st {
			case Queued:
				t.Retrying = tried
			case Delivered:
				t.SentRetried = again
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	var first, last any // a time or its text: the driver keeps the type of a column, not of a subquery
	err = q.QueryRowContext(ctx, `SELECT
		(SELECT sent_at FROM deliveries WHERE campaign_id = :c AND sent_at IS NOT NULL ORDER BY substr(sent_at, 1, 13), sent_at LIMIT 1),
		(SELECT sent_at FROM deliveries WHERE campaign_id = :c AND sent_at IS NOT NULL ORDER BY substr(sent_at, 1, 13) DESC, sent_at DESC LIMIT 1)`,
		c).Scan(&first, &last)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	t.FirstSent, t.LastSent = anyTime(first), anyTime(last)
	return nil
}

func counts(ctx context.Context, q querier, query string, args ...any) ([]Count, error) {
	var out []Count
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		var c Count
		if err := rows.Scan(&c.Key, &c.Count); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// reportBuilder gathers the rows of the report queries into the figures.
type reportBuilder struct {
	totals   ReportTotals
	domains  map[string]*DomainCounts
	hours    map[string]*HourCounts
	bounces  []BounceGroup
	refusals []RefusalGroup
	sources  []Count
}

func newReportBuilder() *reportBuilder {
	return &reportBuilder{domains: map[string]*DomainCounts{}, hours: map[string]*HourCounts{}}
}

func (b *reportBuilder) domain(dom string) *DomainCounts {
	d := b.domains[dom]
	if d == nil {
		d = &DomainCounts{Domain: dom}
		b.domains[dom] = d
	}
	return d
}

// hour returns the counts of an hour written "2006-01-02 15" (UTC).
func (b *reportBuilder) hour(h string) (*HourCounts, error) {
	hc := b.hours[h]
	if hc == nil {
		t, err := time.Parse("2006-01-02 15", h)
		if err != nil {
			return nil, fmt.Errorf("hour %q: %w", h, err)
		}
		hc = &HourCounts{Hour: t}
		b.hours[h] = hc
	}
	return hc, nil
}

// ledger reads the ledger's part of the domains and the timeline: the
// states by domain from deliveries_report and the sends by hour from
// deliveries_report_sent, both in index order (no sorting). Times are
// stored in UTC as "2006-01-02 15:04:05...", so the hour is their first 13
// characters.
func (b *reportBuilder) ledger(ctx context.Context, q querier, c sql.NamedArg) error {
	err := eachRow(ctx, q, `SELECT lower(substr(email, instr(email, '@') + 1)) AS dom, state, count(*)
		FROM deliveries INDEXED BY deliveries_report WHERE campaign_id = :c GROUP BY state, dom`, []any{c},
		func(rows *sql.Rows) error {
			var dom string
			var st DeliveryState
			var n int
			if err := rows.Scan(&dom, &st, &n); err != nil {
				return err
			}
			d := b.domain(dom)
			d.Recipients += n
			switch st {
			case Delivered:
				d.Sent += n
				d.Delivered += n // less the bounced ones, below
			case Undelivered:
				d.Failed += n
			case Skipped:
				d.Skipped += n
			default:
				d.Pending += n
			}
			return nil
		})
	if err != nil {
		return err
	}
	return eachRow(ctx, q, `SELECT substr(sent_at, 1, 13) AS h, 'sent', count(*) FROM deliveries INDEXED BY deliveries_report_sent
			WHERE campaign_id = :c AND sent_at IS NOT NULL GROUP BY h
		UNION ALL
		SELECT substr(coalesce(last_attempt_at, updated_at), 1, 13), 'failed', count(*) FROM deliveries
			WHERE campaign_id = :c AND state = 'failed' GROUP BY 1`, []any{c}, func(rows *sql.Rows) error {
		var h, what string
		var n int
		if err := rows.Scan(&h, &what, &n); err != nil {
			return err
		}
		hc, err := b.hour(h)
		if err != nil {
			return err
		}
		if what == "sent" {
			hc.Sent += n
		} else {
			hc.Failed += n
		}
		return nil
	})
}

// events reads what the events add to the figures, in one statement so
// that each set is computed once: the totals, and with full the
// breakdowns (bounces by reason, unsubscribes by source, by domain, by
// hour). The sets drive every join: joined the other way round, from the
// ledger, SQLite would scan a set for each delivery, as it builds no index
// on a materialised CTE.
func (b *reportBuilder) events(ctx context.Context, q querier, c sql.NamedArg, full bool) error {
	parts := []string{
		`SELECT 'total', kind, '', '', count(*), coalesce(sum(d.state = 'sent'), 0), '' FROM bounce b
			JOIN deliveries d ON d.id = b.delivery_id GROUP BY kind`,
		`SELECT 'total', 'delayed', '', '', count(DISTINCT delivery_id), 0, '' FROM mailbox_events WHERE campaign_id = :c AND kind = 'delayed'`,
		`SELECT 'total', 'complaint', '', '', count(*), 0, '' FROM complaint`,
		`SELECT 'total', 'unsubscribed', '', '', count(*), 0, '' FROM unsub`,
		`SELECT 'total', 'refused_' || refusal, '', '', count(*), 0, '' FROM refused GROUP BY refusal`,
	}
	if full {
		dom := "lower(substr(d.email, instr(d.email, '@') + 1))"
		parts = append(parts,
			`SELECT 'bounce', kind, reason, status, count(*), 0, max(diagnostic) FROM bounce GROUP BY kind, reason, status`,
			`SELECT 'source', source, '', '', count(*), 0, '' FROM unsub GROUP BY source`,
			`SELECT 'refusal', refusal, refusal_reason, enhanced_code, count(*), smtp_code, max(reply) FROM refused
				GROUP BY refusal, refusal_reason, smtp_code, enhanced_code`,
			`SELECT 'domain', `+dom+`, b.kind, '', count(*), sum(d.state = 'sent'), '' FROM bounce b JOIN deliveries d ON d.id = b.delivery_id GROUP BY 2, 3`,
			`SELECT 'domain', `+dom+`, 'complaint', '', count(*), 0, '' FROM complaint x JOIN deliveries d ON d.id = x.delivery_id GROUP BY 2`,
			`SELECT 'domain', `+dom+`, 'unsubscribed', '', count(*), 0, '' FROM unsub x JOIN deliveries d ON d.id = x.delivery_id GROUP BY 2`,
			`SELECT 'hour', substr(at, 1, 13), kind, '', count(*), 0, '' FROM bounce GROUP BY 2, 3`,
			`SELECT 'hour', substr(at, 1, 13), 'complaint', '', count(*), 0, '' FROM complaint GROUP BY 2`,
			`SELECT 'hour', substr(at, 1, 13), 'unsubscribed', '', count(*), 0, '' FROM unsub GROUP BY 2`,
			`SELECT 'hour', substr(at, 1, 13), kind, '', count(*), 0, '' FROM (
				SELECT min(first_at) AS at, kind FROM tracking_events WHERE campaign_id = :c GROUP BY delivery_id, kind) AS firsts GROUP BY 2, 3`,
		)
	}
	return eachRow(ctx, q, reportSets+strings.Join(parts, "\nUNION ALL\n"), []any{c}, func(rows *sql.Rows) error {
		var (
			tag, k1, k2, k3, example string
			n, m                     int
		)
		if err := rows.Scan(&tag, &k1, &k2, &k3, &n, &m, &example); err != nil {
			return err
		}
		switch tag {
		case "total":
			switch k1 {
			case "hard":
				b.totals.BouncedHard, b.totals.BouncedSent = n, b.totals.BouncedSent+m
			case "soft":
				b.totals.BouncedSoft, b.totals.BouncedSent = n, b.totals.BouncedSent+m
			case "delayed":
				b.totals.Delayed = n
			case "complaint":
				b.totals.Complaints = n
			case "unsubscribed":
				b.totals.Unsubscribed = n
			case "refused_hard":
				b.totals.RefusedHard = n
			case "refused_soft":
				b.totals.RefusedSoft = n
			}
		case "refusal":
			b.refusals = append(b.refusals, RefusalGroup{Kind: k1, Reason: k2, EnhancedCode: k3, SMTPCode: m, Count: n, Example: example})
		case "bounce":
			b.bounces = append(b.bounces, BounceGroup{Kind: k1, Reason: k2, Status: k3, Count: n, Example: example})
		case "source":
			b.sources = append(b.sources, Count{Key: k1, Count: n})
		case "domain":
			d := b.domain(k1)
			switch k2 {
			case "hard":
				d.BouncedHard += n
				d.Delivered -= m // bounced after the relay accepted them
			case "soft":
				d.BouncedSoft += n
				d.Delivered -= m
			case "complaint":
				d.Complaints += n
			case "unsubscribed":
				d.Unsubscribed += n
			}
		case "hour":
			hc, err := b.hour(k1)
			if err != nil {
				return err
			}
			switch k2 {
			case "hard":
				hc.BouncedHard += n
			case "soft":
				hc.BouncedSoft += n
			case "complaint":
				hc.Complaints += n
			case "unsubscribed":
				hc.Unsubscribed += n
			case string(TrackOpen):
				hc.Opens += n
			case string(TrackClick):
				hc.Clicks += n
			}
		}
		return nil
	})
}

// sortGroups sorts refusal or bounce groups in the order the report shows
// them: hard before soft, then the most frequent first, then by key (the
// reason and its code) so that the order does not change between runs.
func sortGroups[G any](gs []G, key func(G) (kind string, count int, text string)) {
	slices.SortFunc(gs, func(x, y G) int {
		xKind, xCount, xText := key(x)
		yKind, yCount, yText := key(y)
		if (xKind == "hard") != (yKind == "hard") {
			if xKind == "hard" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(yCount, xCount), strings.Compare(xText, yText))
	})
}

// fill puts what b gathered into d, in the orders CampaignReportData
// promises.
func (b *reportBuilder) fill(d *CampaignReportData) {
	t := &d.Totals
	t.BouncedHard, t.BouncedSoft, t.BouncedSent = b.totals.BouncedHard, b.totals.BouncedSoft, b.totals.BouncedSent
	t.Delayed, t.Complaints, t.Unsubscribed = b.totals.Delayed, b.totals.Complaints, b.totals.Unsubscribed
	t.RefusedHard, t.RefusedSoft = b.totals.RefusedHard, b.totals.RefusedSoft
	sortGroups(b.refusals, func(g RefusalGroup) (string, int, string) { return g.Kind, g.Count, g.Reason + g.EnhancedCode })
	d.Refusals = b.refusals
	sortGroups(b.bounces, func(g BounceGroup) (string, int, string) { return g.Kind, g.Count, g.Reason + g.Status })
	d.Bounces = b.bounces
	slices.SortFunc(b.sources, func(x, y Count) int {
		if x.Count != y.Count {
			return y.Count - x.Count
		}
		return strings.Compare(x.Key, y.Key)
	})
	d.UnsubscribeSources = b.sources
	d.Domains = make([]DomainCounts, 0, len(b.domains))
	for _, x := range b.domains {
		d.Domains = append(d.Domains, *x)
	}
	slices.SortFunc(d.Domains, func(x, y DomainCounts) int {
		if x.Recipients != y.Recipients {
			return y.Recipients - x.Recipients
		}
		return strings.Compare(x.Domain, y.Domain)
	})
	d.Timeline = make([]HourCounts, 0, len(b.hours))
	for _, h := range b.hours {
		d.Timeline = append(d.Timeline, *h)
	}
	slices.SortFunc(d.Timeline, func(x, y HourCounts) int { return x.Hour.Compare(y.Hour) })
}

// reportTracking reads the opens and clicks of a campaign.
func reportTracking(ctx context.Context, q querier, c sql.NamedArg) (*TrackingCounts, error) {
	tc := &TrackingCounts{}
	err := q.QueryRowContext(ctx, `SELECT count(DISTINCT delivery_id), coalesce(sum(hits) FILTER (WHERE kind = 'open'), 0),
		count(DISTINCT delivery_id) FILTER (WHERE kind = 'click'), coalesce(sum(hits) FILTER (WHERE kind = 'click'), 0)
		FROM tracking_events WHERE campaign_id = :c`, c).Scan(&tc.Opened, &tc.OpenHits, &tc.Clicked, &tc.ClickHits)
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, `SELECT url, count(*), sum(hits) FROM tracking_events WHERE campaign_id = :c AND kind = 'click'
		GROUP BY url ORDER BY 2 DESC, 3 DESC, 1 LIMIT 20`, []any{c}, func(rows *sql.Rows) error {
		var l LinkCount
		if err := rows.Scan(&l.URL, &l.Readers, &l.Hits); err != nil {
			return err
		}
		tc.Links = append(tc.Links, l)
		return nil
	})
	return tc, err
}

// AddressFilter selects the deliveries a report lists.
type AddressFilter struct {
	// Show is which deliveries: "" or "problems" (failed, skipped,
	// retrying, bounced, complained or unsubscribed), "sent", "delivered",
	// "failed", "skipped", "pending", "retrying", "bounced", "hard",
	// "soft", "complaint", "unsubscribed", "refused" (hard first), "dead"
	// (bounced hard, then refused as unknown), or "all".
	Show   string
	Limit  int // 0: no limit
	Offset int
}

// addressSelections select, for each AddressFilter.Show, the ids of the
// deliveries listed and the rank that orders them: the most serious
// outcome first (failed 0, bounced hard 1, soft 2, complaint 3,
// unsubscribed 4, retrying 5, skipped 6), then by address. The small sets
// drive: a page of the problems of 100,000 deliveries reads a few thousand
// rows, not the ledger.
var addressSelections = map[string]string{
	"": `SELECT id, min(rank) AS rank FROM (
		SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'failed'
		UNION ALL SELECT id, 6 FROM deliveries WHERE campaign_id = :c AND state = 'skipped'
		UNION ALL SELECT id, 5 FROM deliveries WHERE campaign_id = :c AND state = 'queued' AND attempts > 0
		UNION ALL SELECT delivery_id, CASE kind WHEN 'hard' THEN 1 ELSE 2 END FROM bounce
		UNION ALL SELECT delivery_id, 3 FROM complaint WHERE delivery_id IS NOT NULL
		UNION ALL SELECT delivery_id, 4 FROM unsub WHERE delivery_id IS NOT NULL) AS ranked GROUP BY id`,
	"all":          `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c`,
	"sent":         `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'sent'`,
	"delivered":    `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'sent' AND id NOT IN (SELECT delivery_id FROM bounce)`,
	"failed":       `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'failed'`,
	"skipped":      `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'skipped'`,
	"pending":      `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state IN ('queued', 'sending')`,
	"retrying":     `SELECT id, 0 AS rank FROM deliveries WHERE campaign_id = :c AND state = 'queued' AND attempts > 0`,
	"bounced":      `SELECT delivery_id AS id, CASE kind WHEN 'hard' THEN 1 ELSE 2 END AS rank FROM bounce`,
	"hard":         `SELECT delivery_id AS id, 0 AS rank FROM bounce WHERE kind = 'hard'`,
	"soft":         `SELECT delivery_id AS id, 0 AS rank FROM bounce WHERE kind = 'soft'`,
	"complaint":    `SELECT delivery_id AS id, 0 AS rank FROM complaint WHERE delivery_id IS NOT NULL`,
	"unsubscribed": `SELECT delivery_id AS id, 0 AS rank FROM unsub WHERE delivery_id IS NOT NULL`,
	"refused":      `SELECT delivery_id AS id, CASE refusal WHEN 'hard' THEN 0 ELSE 1 END AS rank FROM refused`,
	"dead": `SELECT delivery_id AS id, 0 AS rank FROM bounce WHERE kind = 'hard'
		UNION ALL SELECT delivery_id, 1 FROM refused WHERE refusal = 'hard'`,
}

// ValidAddressFilter reports whether show is one of AddressFilter's values.
func ValidAddressFilter(show string) bool {
	if show == "problems" {
		return true
	}
	_, ok := addressSelections[show]
	return ok
}

// AddressRow is one delivery of a campaign with what became of it: the
// ledger's outcome and the events attributed to it.
type AddressRow struct {
	DeliveryUUID uuid.UUID
	Email        string // "" when the subscriber was erased since
	State        DeliveryState
	Attempts     int
	SMTPCode     int
	EnhancedCode string
	Reply        string // the relay's reply (or the error) at the last attempt
	SkipReason   string
	SentAt       time.Time
	LastAttempt  time.Time // of a failed, retrying or sent row
	NextAttempt  time.Time // of a row waiting for a retry
	// Refusal and RefusalReason: a failed row refused for good by the
	// relay in the SMTP session, judged hard or soft like a bounce.
	Refusal       string
	RefusalReason string

	BounceKind       string // hard, soft or ""
	BounceStatus     string
	BounceReason     string
	BounceDiagnostic string // the remote server's own words
	BouncedAt        time.Time
	ComplainedAt     time.Time
	UnsubscribedAt   time.Time
	UnsubscribedBy   string // one-click, link, mailto, ...
}

// CampaignAddresses returns the deliveries of a campaign that f selects,
// the most serious outcomes first (failed, bounced hard, bounced soft,
// complaint, unsubscribed, retrying, skipped, pending, sent), then by
// address; and how many f selects in all.
func (s *Storage) CampaignAddresses(ctx context.Context, campaignID int64, f AddressFilter) ([]AddressRow, int, error) {
	show := f.Show
	if show == "problems" {
		show = ""
	}
	sel, ok := addressSelections[show]
	if !ok {
		return nil, 0, fmt.Errorf("store: campaign addresses: unknown filter %q", f.Show)
	}
	with := reportSets + ", sel AS (" + sel + ")\n"
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, on both stores (SQLite's -1 is an error on PostgreSQL)
	}
	c := sql.Named("c", campaignID)
	var out []AddressRow
	total := 0
	// One statement, so that the sets are computed once: how many there
	// are (on every row, and on a row of NULLs when the page is empty), the
	// page, and what happened to each of its deliveries.
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		q := strings.Replace(with, "sel AS (", "sel AS MATERIALIZED (", 1) + `, page AS MATERIALIZED (
				SELECT s.id, s.rank, d.email FROM sel s JOIN deliveries d ON d.id = s.id
				ORDER BY s.rank, d.email, d.id LIMIT :limit OFFSET :offset)
			SELECT n.total, d.uuid, d.email, d.state, d.attempts, d.smtp_code, d.enhanced_code, d.reply, d.skip_reason,
			d.sent_at, d.last_attempt_at, d.next_attempt_at, coalesce(d.refusal, ''), coalesce(d.refusal_reason, ''),
			coalesce(b.kind, ''), coalesce(b.status, ''), coalesce(b.reason, ''), coalesce(b.diagnostic, ''), b.at,
			cp.at, u.at, coalesce(u.source, '')
			FROM (SELECT count(*) AS total FROM sel) n
			LEFT JOIN page p ON 1 = 1
			LEFT JOIN deliveries d ON d.id = p.id
			LEFT JOIN bounce b ON b.delivery_id = d.id
			LEFT JOIN complaint cp ON cp.delivery_id = d.id
			LEFT JOIN unsub u ON u.delivery_id = d.id
			ORDER BY p.rank, p.email, p.id`
		args := []any{c, sql.Named("limit", limit), sql.Named("offset", max(f.Offset, 0))}
		return eachRow(ctx, tx, q, args, func(rows *sql.Rows) error {
			var (
				r                          AddressRow
				id                         uuid.NullUUID
				email, state, reply, skip  sql.NullString
				enhanced                   sql.NullString
				attempts, code             sql.NullInt64
				sent, last, next           sql.NullTime
				bounced, complained, unsub sql.NullString
			)
			if err := rows.Scan(&total, &id, &email, &state, &attempts, &code, &enhanced, &reply,
				&skip, &sent, &last, &next, &r.Refusal, &r.RefusalReason, &r.BounceKind, &r.BounceStatus, &r.BounceReason, &r.BounceDiagnostic,
				&bounced, &complained, &unsub, &r.UnsubscribedBy); err != nil {
				return err
			}
			if !id.Valid {
				return nil // the row of an empty page: only the total
			}
			r.DeliveryUUID, r.Email, r.State, r.Reply, r.SkipReason = id.UUID, email.String, DeliveryState(state.String), reply.String, skip.String
			r.Attempts, r.SMTPCode, r.EnhancedCode = int(attempts.Int64), int(code.Int64), enhanced.String
			r.SentAt, r.LastAttempt, r.NextAttempt = sent.Time, last.Time, next.Time
			// Times out of a CTE lose their column type on SQLite: its
			// driver hands them over as text (parseTime reads both stores').
			r.BouncedAt, r.ComplainedAt, r.UnsubscribedAt = parseTime(bounced.String), parseTime(complained.String), parseTime(unsub.String)
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: campaign addresses: %w", err)
	}
	return out, total, nil
}

// CampaignTotals is one started campaign with its headline figures, for
// the view across campaigns.
type CampaignTotals struct {
	Campaign *Campaign
	Totals   ReportTotals
}

// CampaignsTotals returns every campaign that started sending (its ledger
// exists), oldest first, with its headline figures.
func (s *Storage) CampaignsTotals(ctx context.Context) ([]CampaignTotals, error) {
	var out []CampaignTotals
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		cs, err := queryAll(ctx, tx, scanCampaign, "SELECT "+campaignColumns+campaignFrom+"WHERE c.started_at IS NOT NULL ORDER BY c.started_at, c.id")
		if err != nil {
			return err
		}
		for _, c := range cs {
			t, err := reportTotals(ctx, tx, c.ID)
			if err != nil {
				return fmt.Errorf("campaign %s: %w", c.UUID, err)
			}
			out = append(out, CampaignTotals{Campaign: c, Totals: *t})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: campaigns totals: %w", err)
	}
	return out, nil
}

// HistoryEvent is one subscriber event, as the lists' history replays it.
type HistoryEvent struct {
	SubscriberID int64
	Kind         string // created, status, list_added, list_removed
	Status       Status // the new status, for created and status
	Source       string
	ListID       int64 // for created (an import's list), list_added, list_removed; else 0
	At           time.Time
}

// SubscriberHistory calls fn with every subscriber event, oldest first,
// without holding them in memory. The events of erased subscribers are left
// out: erasure keeps them without the person, so they cannot be replayed.
func (s *Storage) SubscriberHistory(ctx context.Context, fn func(*HistoryEvent) error) error {
	err := s.each(ctx, `SELECT subscriber_id, kind, status, source, coalesce(list_id, 0), at FROM subscriber_events
		WHERE subscriber_id IS NOT NULL ORDER BY at, id`, nil, func(rows *sql.Rows) error {
		var e HistoryEvent
		if err := rows.Scan(&e.SubscriberID, &e.Kind, &e.Status, &e.Source, &e.ListID, &e.At); err != nil {
			return err
		}
		return fn(&e)
	})
	if err != nil {
		return fmt.Errorf("subscriber history: %w", err)
	}
	return nil
}

// HourCount is a number of things that happened within one hour (UTC).
type HourCount struct {
	Hour  time.Time
	Count int
}

// SentPerHour returns how many messages of all campaigns the relay
// accepted, hour by hour, in time order.
func (s *Storage) SentPerHour(ctx context.Context) ([]HourCount, error) {
	var out []HourCount
	err := s.each(ctx, `SELECT substr(sent_at, 1, 13) AS h, count(*) FROM deliveries WHERE sent_at IS NOT NULL GROUP BY h ORDER BY h`, nil,
		func(rows *sql.Rows) error {
			var h string
			var n int
			if err := rows.Scan(&h, &n); err != nil {
				return err
			}
			t, err := time.Parse("2006-01-02 15", h)
			if err != nil {
				return fmt.Errorf("hour %q: %w", h, err)
			}
			out = append(out, HourCount{Hour: t, Count: n})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: sent per hour: %w", err)
	}
	return out, nil
}

// TrackingKind is what a tracking hit is.
type TrackingKind string

// The kinds of tracking hits.
const (
	TrackOpen  TrackingKind = "open"
	TrackClick TrackingKind = "click"
)

// RecordTracking counts an open (url "") or a click on url of the delivery
// with this public identifier, at t. It records nothing, and reports
// false, unless the delivery exists and its campaign tracks opens and
// clicks: a campaign that did not ask never collects them, whatever links
// are followed.
func (s *Storage) RecordTracking(ctx context.Context, delivery uuid.UUID, kind TrackingKind, url string, t time.Time) (bool, error) {
	if kind != TrackOpen && kind != TrackClick {
		return false, fmt.Errorf("store: record tracking: bad kind %q", kind)
	}
	t = t.UTC()
	res, err := s.w.ExecContext(ctx, `INSERT INTO tracking_events (delivery_id, kind, url, campaign_id, hits, first_at, last_at)
		SELECT d.id, ?, ?, d.campaign_id, 1, ?, ? FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE d.uuid = ? AND c.track = 1
		ON CONFLICT (delivery_id, kind, url) DO UPDATE SET hits = tracking_events.hits + 1, last_at = excluded.last_at`,
		kind, url, t, t, delivery.String())
	if err != nil {
		return false, fmt.Errorf("store: record tracking: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SummaryKind names one of the summaries mailed about a campaign.
type SummaryKind string

// The summaries of a campaign.
const (
	SummaryFinished SummaryKind = "finished" // when it finishes
	SummaryFinal    SummaryKind = "final"    // after reports.bounce_window
)

// SummaryStatus is where a summary is.
type SummaryStatus string

// The states of a summary. Sending is written before the mail goes out and
// is final: a summary cut short by a crash is never sent again.
const (
	SummarySending SummaryStatus = "sending"
	SummarySent    SummaryStatus = "sent"
	SummaryFailed  SummaryStatus = "failed" // tried again, up to a few attempts
	SummarySkipped SummaryStatus = "skipped"
)

// SummaryCandidate is a finished campaign and where its summaries are.
type SummaryCandidate struct {
	CampaignID int64
	FinishedAt time.Time
	Status     map[SummaryKind]SummaryStatus // absent: not tried
	Attempts   map[SummaryKind]int
}

// SummaryCandidates returns the campaigns that finished (sent, cancelled
// or failed after starting) at or after since, oldest first.
func (s *Storage) SummaryCandidates(ctx context.Context, since time.Time) ([]*SummaryCandidate, error) {
	var out []*SummaryCandidate
	byID := map[int64]*SummaryCandidate{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		err := eachRow(ctx, tx, `SELECT id, finished_at FROM campaigns WHERE state IN ('sent', 'cancelled', 'failed')
			AND started_at IS NOT NULL AND finished_at >= ? ORDER BY finished_at, id`, []any{since.UTC()}, func(rows *sql.Rows) error {
			sc := &SummaryCandidate{Status: map[SummaryKind]SummaryStatus{}, Attempts: map[SummaryKind]int{}}
			if err := rows.Scan(&sc.CampaignID, &sc.FinishedAt); err != nil {
				return err
			}
			out = append(out, sc)
			byID[sc.CampaignID] = sc
			return nil
		})
		if err != nil || len(out) == 0 {
			return err
		}
		return eachRow(ctx, tx, `SELECT r.campaign_id, r.kind, r.status, r.attempts FROM report_summaries r
			JOIN campaigns c ON c.id = r.campaign_id WHERE c.finished_at >= ?`, []any{since.UTC()}, func(rows *sql.Rows) error {
			var id int64
			var k SummaryKind
			var st SummaryStatus
			var n int
			if err := rows.Scan(&id, &k, &st, &n); err != nil {
				return err
			}
			if sc := byID[id]; sc != nil {
				sc.Status[k], sc.Attempts[k] = st, n
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: summary candidates: %w", err)
	}
	return out, nil
}

// ClaimSummary marks a campaign's summary as being sent, before it is: it
// reports false when the summary was sent, skipped, is being sent, or
// failed maxAttempts times already. A crash after the claim leaves it
// unsent rather than sent twice.
func (s *Storage) ClaimSummary(ctx context.Context, campaignID int64, kind SummaryKind, maxAttempts int) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO report_summaries (campaign_id, kind, status, attempts, updated_at)
		VALUES (?, ?, 'sending', 1, ?) ON CONFLICT (campaign_id, kind) DO UPDATE SET status = 'sending',
		attempts = report_summaries.attempts + 1, updated_at = excluded.updated_at
		WHERE report_summaries.status = 'failed' AND report_summaries.attempts < ?`,
		campaignID, kind, now(), maxAttempts)
	if err != nil {
		return false, fmt.Errorf("store: claim summary: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// FinishSummary records the outcome of a summary: sent, failed (with the
// error) or skipped. Skipped is recorded even for a summary never claimed.
func (s *Storage) FinishSummary(ctx context.Context, campaignID int64, kind SummaryKind, st SummaryStatus, problem string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO report_summaries (campaign_id, kind, status, error, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id, kind) DO UPDATE SET status = excluded.status,
		error = excluded.error, updated_at = excluded.updated_at`, campaignID, kind, st, problem, now())
	if err != nil {
		return fmt.Errorf("store: finish summary: %w", err)
	}
	return nil
}

// SummaryRecord is what became of one summary of a campaign.
type SummaryRecord struct {
	Kind      SummaryKind
	Status    SummaryStatus
	Attempts  int
	Error     string
	UpdatedAt time.Time
}

// CampaignSummaries returns what became of a campaign's summaries.
func (s *Storage) CampaignSummaries(ctx context.Context, campaignID int64) ([]SummaryRecord, error) {
	var out []SummaryRecord
	err := s.each(ctx, `SELECT kind, status, attempts, error, updated_at FROM report_summaries WHERE campaign_id = ?
		ORDER BY kind = 'final', updated_at`, []any{campaignID}, func(rows *sql.Rows) error {
		var r SummaryRecord
		if err := rows.Scan(&r.Kind, &r.Status, &r.Attempts, &r.Error, &r.UpdatedAt); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: campaign summaries: %w", err)
	}
	return out, nil
}

// MetricsSnapshot is what /metrics reads from the database at each scrape:
// figures that survive restarts because they are counted from the records.
type MetricsSnapshot struct {
	Deliveries    map[DeliveryState]int // all campaigns
	Due           int                   // queued rows of sending campaigns
	Retrying      int                   // queued rows of sending campaigns tried already
	MailboxEvents map[string]int        // by kind
	Campaigns     map[CampaignState]int
	Subscribers   map[Status]int
	Opens, Clicks int // tracking hits
}

// Metrics reads the snapshot /metrics exposes.
func (s *Storage) Metrics(ctx context.Context) (*MetricsSnapshot, error) {
	m := &MetricsSnapshot{Deliveries: map[DeliveryState]int{}, MailboxEvents: map[string]int{},
		Campaigns: map[CampaignState]int{}, Subscribers: map[Status]int{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		for _, g := range []struct {
			q   string
			add func(k string, n int)
		}{
			{"SELECT state, count(*) FROM deliveries GROUP BY state", func(k string, n int) { m.Deliveries[DeliveryState(k)] = n }},
			{"SELECT kind, count(*) FROM mailbox_events GROUP BY kind", func(k string, n int) { m.MailboxEvents[k] = n }},
			{"SELECT state, count(*) FROM campaigns GROUP BY state", func(k string, n int) { m.Campaigns[CampaignState(k)] = n }},
			{"SELECT status, count(*) FROM subscribers GROUP BY status", func(k string, n int) { m.Subscribers[Status(k)] = n }},
			{"SELECT kind, coalesce(sum(hits), 0) FROM tracking_events GROUP BY kind", func(k string, n int) {
				if k == string(TrackOpen) {
					m.Opens = n
				} else {
					m.Clicks = n
				}
			}},
		} {
			cs, err := counts(ctx, tx, g.q)
			if err != nil {
				return err
			}
			for _, c := range cs {
				g.add(c.Key, c.Count)
			}
		}
		return tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(d.attempts > 0), 0) FROM deliveries d
			JOIN campaigns c ON c.id = d.campaign_id WHERE c.state = 'sending' AND d.state = 'queued'`).Scan(&m.Due, &m.Retrying)
	})
	if err != nil {
		return nil, fmt.Errorf("store: metrics: %w", err)
	}
	return m, nil
}
