package campaign

import (
	"context"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// Status is where a campaign stands, from its ledger.
type Status struct {
	Campaign *store.Campaign
	Counts   *store.DeliveryCounts
	// EstimatedEnd is when the deliveries not yet done should be done, for
	// a campaign sending or paused (as if resumed now); zero otherwise.
	EstimatedEnd time.Time
	// Waiting says why nothing goes out now (quiet hours, a quota), and
	// WaitUntil until when; zero when sending freely.
	Waiting   i18n.Message
	WaitUntil time.Time
}

// CampaignStatus reads the status of c. opts are the engine's options, for
// the estimate of the end: rate, quotas, quiet hours.
func CampaignStatus(ctx context.Context, st *store.Storage, c *store.Campaign, opts Options) (*Status, error) {
	counts, err := st.CampaignDeliveryCounts(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	s := &Status{Campaign: c, Counts: counts}
	if c.State != store.Sending && c.State != store.Paused && c.State != store.Scheduled {
		return s, nil
	}
	now := time.Now()
	p := Pace{Rate: opts.Rate, HourlyQuota: opts.HourlyQuota, DailyQuota: opts.DailyQuota, Quiet: opts.Quiet}
	if p.SentLastHour, err = st.SentSince(ctx, now.Add(-time.Hour)); err != nil {
		return nil, err
	}
	if p.SentLastDay, err = st.SentSince(ctx, now.Add(-24*time.Hour)); err != nil {
		return nil, err
	}
	lastMinute, err := st.SentSince(ctx, now.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	p.Throughput = float64(lastMinute) / 60
	remaining := counts.Pending()
	from := now
	if c.State == store.Scheduled {
		from = c.SendAt
		if remaining == 0 {
			remaining = -1 // not fixed yet: unknown
		}
	}
	if remaining > 0 {
		s.EstimatedEnd = EstimateEnd(from, remaining, p)
		// Retries not due before the estimate push the end back.
		if counts.NextRetry.After(s.EstimatedEnd) {
			s.EstimatedEnd = counts.NextRetry
		}
	}
	if c.State == store.Sending {
		if next := opts.Quiet.Next(now); next.After(now) {
			s.Waiting, s.WaitUntil = i18n.M("campaign.waiting.quiet_hours"), next
		} else if opts.HourlyQuota > 0 && p.SentLastHour >= opts.HourlyQuota {
			s.Waiting = i18n.M("campaign.waiting.hourly_quota")
		} else if opts.DailyQuota > 0 && p.SentLastDay >= opts.DailyQuota {
			s.Waiting = i18n.M("campaign.waiting.daily_quota")
		}
	}
	return s, nil
}

// SendTests sends a test copy of the composer's campaign to each address,
// marked as a test and kept out of the ledger. It returns one error per
// address (nil when sent) and the receipts' replies.
func SendTests(ctx context.Context, sender Sender, comp *Composer, to []string) (replies []string, errs []error) {
	for _, addr := range to {
		rcpt, err := sender.Send(ctx, comp.TestMessage(addr))
		replies, errs = append(replies, rcpt.Reply), append(errs, err)
	}
	return replies, errs
}
