package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
)

// Mailer sends one message: the summary mailed to admins. The SMTP and
// outbox transports satisfy it.
type Mailer interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
}

// SummaryStore is what the summaries read and record.
type SummaryStore interface {
	Source
	SummaryCandidates(ctx context.Context, since time.Time) ([]*store.SummaryCandidate, error)
	ClaimSummary(ctx context.Context, campaignID int64, kind store.SummaryKind, maxAttempts int) (bool, error)
	FinishSummary(ctx context.Context, campaignID int64, kind store.SummaryKind, st store.SummaryStatus, problem string) error
	CampaignByID(ctx context.Context, id int64) (*store.Campaign, error)
}

var _ SummaryStore = (*store.Storage)(nil)

// SummaryOptions configure a Summarizer.
type SummaryOptions struct {
	To           []string         // reports.summary_to
	From         outgoing.Address // sending.from
	EnvelopeFrom string           // sending.bounce_address
	// BounceWindow is how long after a campaign finishes bounces are still
	// expected: the final summary waits for it (reports.bounce_window).
	BounceWindow time.Duration
	// PublicURL is the daemon's base URL; the summary links to the report
	// page under it.
	PublicURL string
	Location  *time.Location // schedule.timezone, for the dates written
	Language  string         // organisation.language
	// Poll is how often finished campaigns are looked for. Default 1m.
	Poll time.Duration
	// Grace is how late a summary may still go out, after a daemon was
	// down when it was due: older ones are not sent at all, so that
	// turning summaries on does not mail the whole history. Default 7 days.
	Grace time.Duration
	// MaxAttempts bounds the tries of a summary the transport refused.
	// Default 3.
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Summarizer mails admins a short summary of each campaign when it
// finishes, and a final one after the bounce window. Each summary is
// recorded in the store before it goes out, so that it is never sent twice,
// across restarts too.
type Summarizer struct {
	st   SummaryStore
	mail Mailer
	o    SummaryOptions
	log  *slog.Logger
}

// NewSummarizer returns a Summarizer mailing through m.
func NewSummarizer(st SummaryStore, m Mailer, o SummaryOptions, log *slog.Logger) *Summarizer {
	if o.Poll <= 0 {
		o.Poll = time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 7 * 24 * time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Summarizer{st: st, mail: m, o: o, log: log}
}

// Run mails the summaries that fall due until ctx is cancelled. A summary
// being mailed when ctx ends is finished first (the transport's timeout
// bounds it).
func (s *Summarizer) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		if err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("campaign summaries", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce mails the summaries due now.
func (s *Summarizer) RunOnce(ctx context.Context) error {
	if len(s.o.To) == 0 {
		return nil
	}
	now := s.o.Now()
	cands, err := s.st.SummaryCandidates(ctx, now.Add(-s.o.BounceWindow-s.o.Grace))
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cands {
		if ctx.Err() != nil {
			break
		}
		finalAt := c.FinishedAt.Add(s.o.BounceWindow)
		if !finalAt.After(now) {
			// The bounce window is over. A first summary never sent (the
			// daemon was down) gives way to the final one.
			if _, tried := c.Status[store.SummaryFinished]; !tried {
				if err := s.st.FinishSummary(ctx, c.CampaignID, store.SummaryFinished, store.SummarySkipped,
					"the bounce window was over: the final summary replaces it"); err != nil {
					errs = append(errs, err)
				}
			}
			if !finalAt.Before(now.Add(-s.o.Grace)) {
				errs = append(errs, s.send(ctx, c.CampaignID, store.SummaryFinal))
			}
			continue
		}
		if !c.FinishedAt.Before(now.Add(-s.o.Grace)) {
			errs = append(errs, s.send(ctx, c.CampaignID, store.SummaryFinished))
		}
	}
	return errors.Join(errs...)
}

// send mails one summary, if it is still to be sent.
func (s *Summarizer) send(ctx context.Context, campaignID int64, kind store.SummaryKind) error {
	ok, err := s.st.ClaimSummary(ctx, campaignID, kind, s.o.MaxAttempts)
	if err != nil || !ok {
		return err
	}
	// From here the summary is recorded whatever happens: the shutdown of
	// the daemon does not cut it in the middle.
	ctx = context.WithoutCancel(ctx)
	status, problem := store.SummarySent, ""
	if err := s.mailSummary(ctx, campaignID, kind); err != nil {
		status, problem = store.SummaryFailed, err.Error()
		s.log.Warn("campaign summary not sent", slog.Int64("campaign_id", campaignID), slog.String("kind", string(kind)), slog.Any("err", err))
	} else {
		s.log.Info("campaign summary mailed", slog.Int64("campaign_id", campaignID), slog.String("kind", string(kind)),
			slog.Int("recipients", len(s.o.To)))
	}
	return s.st.FinishSummary(ctx, campaignID, kind, status, problem)
}

func (s *Summarizer) mailSummary(ctx context.Context, campaignID int64, kind store.SummaryKind) error {
	c, err := s.st.CampaignByID(ctx, campaignID)
	if err != nil {
		return err
	}
	r, err := ForCampaign(ctx, s.st, c, Options{Location: s.o.Location, Now: s.o.Now()})
	if err != nil {
		return err
	}
	subject, text := SummaryText(r, kind, SummaryTextOptions{
		Printer: i18n.New(s.o.Language), Location: s.o.Location, BounceWindow: s.o.BounceWindow,
		URL: strings.TrimRight(s.o.PublicURL, "/") + CampaignPath(c.UUID.String()),
	})
	var errs []error
	sent := 0
	for _, to := range s.o.To {
		m := &outgoing.Message{From: s.o.From, To: outgoing.Address{Addr: to}, Subject: subject, Text: text,
			EnvelopeFrom: s.o.EnvelopeFrom, Date: s.o.Now(),
			// RFC 3834: a robot wrote it, so auto-responders keep quiet.
			Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
		if _, err := s.mail.Send(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", to, err))
			continue
		}
		sent++
	}
	if sent > 0 {
		// Sent to someone: trying again would mail the others twice.
		if len(errs) > 0 {
			s.log.Warn("campaign summary not sent to every admin", slog.Any("err", errors.Join(errs...)))
		}
		return nil
	}
	return errors.Join(errs...)
}

// CampaignPath is the path of a campaign's report page in the console.
func CampaignPath(campaignUUID string) string { return "/admin/reports/campaigns/" + campaignUUID }

// SummaryTextOptions say how a summary is written.
type SummaryTextOptions struct {
	Printer      *i18n.Printer
	Location     *time.Location
	BounceWindow time.Duration
	URL          string // of the report page
}

// SummaryText writes the subject and the plain text of a summary: the
// figures that answer "did it go out, and how did it go", and the link to
// the full report.
func SummaryText(r *Campaign, kind store.SummaryKind, o SummaryTextOptions) (subject, text string) {
	p := o.Printer
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	when := func(t time.Time) string { return p.DateTime(t.In(loc)) }
	pct := func(f *float64) string {
		if f == nil {
			return "–"
		}
		return Percent(p, *f)
	}
	hours := int(o.BounceWindow.Hours())
	switch {
	case r.Outbox():
		// Nothing reached anyone: no delivery rate, which would read 100 %.
		subject = p.T("outbox.mail.subject", r.Name, p.Number(r.Outboxed))
	case kind == store.SummaryFinal:
		subject = p.T("report.mail.subject_final", r.Name, hours, pct(r.DeliveryRate))
	default:
		subject = p.T("report.mail.subject_finished", r.Name, pct(r.DeliveryRate))
	}
	var b strings.Builder
	state := p.T("state." + r.State)
	if kind == store.SummaryFinal {
		fmt.Fprintf(&b, "%s\n\n", p.T("report.mail.intro_final", r.Name, hours, when(r.FinishedAt)))
	} else {
		fmt.Fprintf(&b, "%s\n\n", p.T("report.mail.intro_finished", r.Name, state, when(r.FinishedAt)))
	}
	if r.Transport == "outbox" || r.Transport == "mixed" {
		fmt.Fprintf(&b, "%s\n\n", p.N("outbox.report.warning", r.Outboxed))
	}
	type row struct {
		key  string
		n    int
		note string
	}
	rows := []row{{"report.fig.recipients", r.Recipients, ""}}
	if r.Outbox() {
		rows = append(rows, row{"outbox.fig.written", r.Outboxed, p.T("outbox.fig.written_note")})
	} else {
		rows = append(rows, row{"report.fig.sent", r.Sent, ""},
			row{"report.fig.delivered", r.Delivered, p.T("report.mail.rate_note", pct(r.DeliveryRate))})
	}
	rows = append(rows, []row{
		{"report.fig.failed", r.Failed, ""},
		{"report.fig.skipped", r.Skipped, ""},
		{"report.fig.pending", r.Pending, ""},
		{"report.fig.bounced_hard", r.BouncedHard, ""},
		{"report.fig.bounced_soft", r.BouncedSoft, ""},
		{"report.fig.refused_hard", r.RefusedHard, ""},
		{"report.fig.refused_soft", r.RefusedSoft, ""},
		{"report.fig.dead_addresses", r.DeadAddresses, p.T("report.fig.dead_note", p.Number(r.BouncedHard), p.Number(r.RefusedHard))},
		{"report.fig.complaints", r.Complaints, ""},
		{"report.fig.unsubscribed", r.Unsubscribed, ""},
	}...)
	width := 0
	for _, row := range rows {
		width = max(width, len([]rune(p.T(row.key))))
	}
	for _, row := range rows {
		label := p.T(row.key)
		fmt.Fprintf(&b, "  %s%s  %8s", label, strings.Repeat(" ", width-len([]rune(label))), p.Number(row.n))
		if row.note != "" {
			b.WriteString("  " + row.note)
		}
		b.WriteString("\n")
	}
	if len(r.Failures) > 0 {
		var parts []string
		for i, f := range r.Failures {
			if i == 3 {
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimSpace(fmt.Sprintf("%s %s", code(f.SMTPCode), f.EnhancedCode)), p.Number(f.Count)))
		}
		fmt.Fprintf(&b, "\n%s %s\n", p.T("report.mail.failures"), strings.Join(parts, ", "))
	}
	if len(r.Bounces) > 0 {
		var parts []string
		for i, x := range r.Bounces {
			if i == 3 {
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", ReasonLabel(p, x.Reason), p.Number(x.Count)))
		}
		fmt.Fprintf(&b, "%s %s\n", p.T("report.mail.bounces"), strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\n%s\n%s\n", p.T("report.mail.link"), o.URL)
	if kind == store.SummaryFinished && o.BounceWindow > 0 {
		fmt.Fprintf(&b, "\n%s\n", p.T("report.mail.next", hours, when(r.FinishedAt.Add(o.BounceWindow))))
	}
	b.WriteString("\n-- \nBulletin\n")
	return subject, b.String()
}

// Percent writes a rate from 0 to 1 as a percentage with one decimal, in
// the printer's language: "97,8 %" (narrow no-break space) or "97.8%".
func Percent(p *i18n.Printer, f float64) string {
	s := fmt.Sprintf("%.1f", 100*f)
	if p.Lang() == "fr" {
		return strings.Replace(s, ".", ",", 1) + "\u202f%"
	}
	return s + "%"
}

// ReasonLabel returns the words for a bounce or skip reason code
// ("user_unknown": "adresse inconnue"), or the code itself when the
// catalogue has none.
func ReasonLabel(p *i18n.Printer, reason string) string {
	if reason == "" {
		return p.T("report.reason.none")
	}
	key := "report.reason." + reason
	if s := p.T(key); s != key {
		return s
	}
	return reason
}
