package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/metrics"
	"bulletin/internal/outgoing"
	"bulletin/internal/report"
	"bulletin/internal/store"
)

// newMetrics returns the daemon's metrics: its own registry, fed by the
// store at each scrape, the transport's outcomes and the watcher's health.
func newMetrics(cfg *config.Config, st *store.Storage, mbox *mailboxWatcher, log *slog.Logger) *metrics.Metrics {
	o := metrics.Options{Store: st, Transport: transportName(cfg), Log: log.With(slog.String("part", "metrics"))}
	if mbox.w != nil {
		o.Mailbox = mbox.w.Health
	}
	return metrics.New(o)
}

// transportName describes the configured sender, as Transport does, without
// opening it.
func transportName(cfg *config.Config) string {
	if cfg.SMTP.Host == "" {
		dir, err := filepath.Abs(cfg.Sending.OutboxDir)
		if err != nil {
			dir = cfg.Sending.OutboxDir
		}
		return "outbox " + dir
	}
	return fmt.Sprintf("SMTP relay %s:%d", cfg.SMTP.Host, cfg.SMTP.Port)
}

// countSends returns the wrapper that counts the transport's outcomes.
func countSends(m *metrics.Metrics) func(campaign.Sender) campaign.Sender {
	return func(s campaign.Sender) campaign.Sender { return m.Relay().Wrap(s) }
}

// allOf returns a health check that fails with the first of checks that
// fails: the relay is healthy when it takes connections and its last send
// did not fail on its side.
func allOf(checks ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, c := range checks {
			if err := c(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// summaries runs the summaries mailed to admins (reports.summary_to) beside
// the daemon; its zero value is off.
type summaries struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startSummaries starts mailing campaign summaries through sender, when
// reports.summary_to names someone. Like the other parts, it does not end
// with ctx: the daemon stops it, before the transport it sends through.
func startSummaries(ctx context.Context, cfg *config.Config, st *store.Storage, sender report.Mailer, log *slog.Logger) (*summaries, error) {
	to := cfg.SummaryTo()
	if len(to) == 0 {
		log.Info("campaign summaries off: reports.summary_to is empty")
		return &summaries{}, nil
	}
	from, err := mail.ParseAddress(cfg.Sending.From)
	if err != nil {
		return nil, fmt.Errorf("sending.from (%s): %w", cfg.Where("sending.from"), err)
	}
	var addrs []string
	for _, a := range to {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("reports.summary_to (%s): %q: %w", cfg.Where("reports.summary_to"), a, err)
		}
		addrs = append(addrs, addr.Address)
	}
	bounce := cfg.Sending.BounceAddress
	if a, err := mail.ParseAddress(bounce); err == nil {
		bounce = a.Address
	}
	sum := report.NewSummarizer(st, sender, report.SummaryOptions{
		To: addrs, From: outgoing.Address{Name: from.Name, Addr: from.Address}, EnvelopeFrom: bounce,
		BounceWindow: cfg.Reports.BounceWindow, PublicURL: cfg.Server.PublicURL, Location: cfg.Location(),
		Language: cfg.Organisation.Language,
	}, log.With(slog.String("part", "summaries")))
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &summaries{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = sum.Run(ctx) // it logs its own failures
	}()
	return s, nil
}

// stop stops the summaries and waits for the one being mailed, or for ctx.
func (s *summaries) stop(ctx context.Context) error {
	if s.done == nil {
		return nil
	}
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return errors.New("summaries: shutdown: " + ctx.Err().Error())
	}
}
