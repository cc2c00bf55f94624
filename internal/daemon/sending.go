package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/outgoing"
	"bulletin/internal/render"
	"bulletin/internal/schedule"
	"bulletin/internal/settings"
	"bulletin/internal/store"
	"bulletin/internal/token"
	"bulletin/internal/transport/outbox"
	"bulletin/internal/transport/smtp"
)

// Transport returns the configured sender: the SMTP relay when smtp.host is
// set, else the outbox folder. The string describes it for people ("SMTP
// relay smtp.example.org:587", "outbox /srv/bulletin/data/outbox").
func Transport(cfg *config.Config) (campaign.Sender, string, error) {
	if cfg.SMTP.Host == "" {
		dir, err := filepath.Abs(cfg.Sending.OutboxDir)
		if err != nil {
			return nil, "", err
		}
		s, err := outbox.New(dir)
		if err != nil {
			return nil, "", fmt.Errorf("sending.outbox_dir (%s): %w", cfg.Where("sending.outbox_dir"), err)
		}
		return s, "outbox " + dir, nil
	}
	if err := cfg.SMTPSecret(); err != nil {
		return nil, "", err
	}
	var dkim *outgoing.DKIM
	if cfg.SMTP.DKIMKeyFile != "" {
		key, err := os.ReadFile(cfg.SMTP.DKIMKeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("smtp.dkim_key_file (%s): %w", cfg.Where("smtp.dkim_key_file"), err)
		}
		dkim = &outgoing.DKIM{Domain: cfg.SMTP.DKIMDomain, Selector: cfg.SMTP.DKIMSelector, PrivateKeyPEM: key}
	}
	o := smtp.OptionsFromConfig(cfg)
	o.DKIM = dkim
	s, err := smtp.New(o)
	if err != nil {
		return nil, "", err
	}
	return s, fmt.Sprintf("SMTP relay %s:%d", cfg.SMTP.Host, cfg.SMTP.Port), nil
}

// RenderOptions returns the layout's options from the organisation section.
func RenderOptions(cfg *config.Config) render.Options {
	o := cfg.Organisation
	opts := render.Options{Organisation: o.Name, Website: o.Website, LogoURL: o.LogoURL,
		Colors: render.Colors{Primary: o.Colour}, PublicURL: cfg.Server.PublicURL, Lang: o.Language}
	for _, line := range strings.Split(o.Address, ",") {
		if line = strings.TrimSpace(line); line != "" {
			opts.Address = append(opts.Address, line)
		}
	}
	for _, l := range []render.Link{{Name: "Facebook", URL: o.Facebook}, {Name: "LinkedIn", URL: o.LinkedIn},
		{Name: "X", URL: o.X}, {Name: "Instagram", URL: o.Instagram}, {Name: "Mastodon", URL: o.Mastodon}} {
		if l.URL != "" {
			opts.Social = append(opts.Social, l)
		}
	}
	return opts
}

// Links returns the links of every message and public page, signed with
// signer. The daemon builds them once and gives them to the engine, the web
// side and the mailbox watcher, which must all read what the others wrote.
func Links(cfg *config.Config, signer *token.Signer) *links.Links {
	bounce := cfg.Sending.BounceAddress
	if a, err := mail.ParseAddress(bounce); err == nil {
		bounce = a.Address
	}
	unsub := cfg.Sending.UnsubscribeAddress
	if a, err := mail.ParseAddress(unsub); err == nil {
		unsub = a.Address
	}
	return &links.Links{Signer: signer, PublicURL: strings.TrimRight(cfg.Server.PublicURL, "/"),
		BounceAddress: bounce, VERP: cfg.Sending.VERP, UnsubscribeAddress: unsub}
}

// Content returns what campaign messages are made with, their links lk.
func Content(cfg *config.Config, lk *links.Links) (*campaign.Content, error) {
	tpl, err := render.Load(cfg.Sending.TemplatesDir, RenderOptions(cfg))
	if err != nil {
		return nil, err
	}
	return &campaign.Content{Templates: tpl, Links: lk, From: cfg.Sending.From,
		ReplyTo: cfg.Sending.ReplyTo, Organisation: cfg.Organisation.Name}, nil
}

// LiveContent returns the content campaigns, previews and web views are
// made with, made again from the settings in force once staff changed them
// in the console: the organisation, its colours and links, From and
// Reply-To apply without a restart, from the next campaign or page.
func LiveContent(p *settings.Provider, lk *links.Links, log *slog.Logger) (*campaign.Content, error) {
	d, err := settings.NewDerived(p, func(cfg *config.Config) (*campaign.Content, error) { return Content(cfg, lk) },
		func(err error) {
			log.Error("settings: the layout cannot be made with the saved settings; the previous one is kept", slog.Any("err", err))
		})
	if err != nil {
		return nil, err
	}
	c := *d.Get()
	c.Live = d.Get
	return &c, nil
}

// EngineOptions returns the sending engine's options from the configuration.
func EngineOptions(cfg *config.Config, transport string) (campaign.Options, error) {
	quiet, err := campaign.ParseQuiet(cfg.Sending.QuietHours, cfg.Sending.QuietWeekends, cfg.Location())
	if err != nil {
		return campaign.Options{}, fmt.Errorf("sending.quiet_hours (%s): %w", cfg.Where("sending.quiet_hours"), err)
	}
	o := campaign.Options{
		Workers: cfg.SMTP.Connections, Rate: cfg.Sending.Rate, HourlyQuota: cfg.Sending.HourlyQuota, DailyQuota: cfg.Sending.DailyQuota,
		RetryBackoff: cfg.Sending.RetryBackoff, RetryMaxAge: cfg.Sending.RetryMaxAge, PauseAfter: cfg.SMTP.PauseAfter,
		Quiet: quiet, Transport: transport, SoftLimit: cfg.Bounces.SoftLimit, SoftWindow: cfg.Bounces.SoftWindow,
	}
	if cfg.SMTP.Host == "" {
		// The rate and the quotas are the relay's; the outbox has none. One
		// writer keeps the files in the order of the ledger.
		o.Workers, o.Rate, o.HourlyQuota, o.DailyQuota = 1, 0, 0, 0
	}
	return o, nil
}

// sending is the daemon's campaign engine and scheduler, with the sender
// they share.
type sending struct {
	// settings are the configuration in force, with the console's
	// changes, which the web side shares.
	settings  *settings.Provider
	sender    campaign.Sender
	engine    *campaign.Engine
	scheduler *schedule.Scheduler
	log       *slog.Logger

	stopScheduler, stopEngine, stopPurge context.CancelFunc
	schedulerDone, engineDone, purgeDone sync.WaitGroup
}

// startSending starts the engine, the scheduler and the purge of
// unconfirmed subscriptions (purgeExpired). Their contexts are not ctx: the
// daemon stops them one after the other, in order, with stop.
//
// wrap, when given, wraps the transport before anything uses it: the
// metrics count what the relay answers (package metrics).
func startSending(ctx context.Context, cfg *config.Config, st *store.Storage, lk *links.Links, log *slog.Logger,
	wrap ...func(campaign.Sender) campaign.Sender) (*sending, error) {
	prov, err := settings.Load(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	sender, transport, err := Transport(cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range wrap {
		sender = w(sender)
	}
	content, err := LiveContent(prov, lk, log)
	if err != nil {
		sender.Close()
		return nil, err
	}
	opts, err := EngineOptions(prov.Current(), transport)
	if err != nil {
		sender.Close()
		return nil, err
	}
	// The pace staff save in the console applies from the next campaign
	// that starts (to every campaign then sending).
	opts.Limits = func() (campaign.Limits, error) {
		o, err := EngineOptions(prov.Current(), transport)
		return campaign.Limits{Rate: o.Rate, HourlyQuota: o.HourlyQuota, DailyQuota: o.DailyQuota, Quiet: o.Quiet}, err
	}
	s := &sending{sender: sender, log: log, settings: prov}
	s.engine = campaign.NewEngine(st, sender, content, opts, log.With(slog.String("part", "engine")))
	s.scheduler = schedule.New(st, schedule.Options{
		Location: cfg.Location(), Grace: cfg.Schedule.Grace, Started: s.engine.Wake,
		Remind: func(ctx context.Context, sch *store.Schedule) error { return Remind(ctx, cfg, sender, sch) },
	}, log.With(slog.String("part", "scheduler")))

	base := context.WithoutCancel(ctx)
	ectx, stopEngine := context.WithCancel(base)
	sctx, stopScheduler := context.WithCancel(base)
	s.stopEngine, s.stopScheduler = stopEngine, stopScheduler
	s.engineDone.Add(1)
	go func() {
		defer s.engineDone.Done()
		_ = s.engine.Run(ectx)
	}()
	s.schedulerDone.Add(1)
	go func() {
		defer s.schedulerDone.Done()
		_ = s.scheduler.Run(sctx)
	}()
	pctx, stopPurge := context.WithCancel(base)
	s.stopPurge = stopPurge
	s.purgeDone.Add(1)
	go func() {
		defer s.purgeDone.Done()
		purgeExpired(pctx, cfg, st, log.With(slog.String("part", "purge")))
	}()
	s.purgeDone.Add(1)
	go func() {
		defer s.purgeDone.Done()
		refreshSettings(pctx, prov, log.With(slog.String("part", "settings")))
	}()
	log.Info("sending through " + transport)
	return s, nil
}

// stop stops the scheduler and waits for its firing under way, then stops
// the engine, whose sends in flight finish (or go back to the queue), then
// closes the sender. It gives up waiting at ctx's deadline.
func (s *sending) stop(ctx context.Context) error {
	wait := func(wg *sync.WaitGroup) error {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("sending: shutdown: %w", ctx.Err())
		}
	}
	s.stopPurge()
	if err := wait(&s.purgeDone); err != nil {
		return err
	}
	s.stopScheduler()
	if err := wait(&s.schedulerDone); err != nil {
		return err
	}
	s.stopEngine()
	if err := wait(&s.engineDone); err != nil {
		return err
	}
	return s.sender.Close()
}

// Remind mails a recurring schedule's reminder to reports.summary_to, or to
// the sending address when nobody is named there.
func Remind(ctx context.Context, cfg *config.Config, sender campaign.Sender, sch *store.Schedule) error {
	from, err := mail.ParseAddress(cfg.Sending.From)
	if err != nil {
		return err
	}
	to := cfg.SummaryTo()
	if len(to) == 0 {
		to = []string{from.Address}
	}
	bounce := cfg.Sending.BounceAddress
	if a, err := mail.ParseAddress(bounce); err == nil {
		bounce = a.Address
	}
	first, _, _ := strings.Cut(strings.TrimSpace(sch.Reminder), "\n")
	for _, addr := range to {
		if a, err := mail.ParseAddress(addr); err == nil {
			addr = a.Address
		}
		m := &outgoing.Message{
			From: outgoing.Address{Name: from.Name, Addr: from.Address}, To: outgoing.Address{Addr: addr},
			Subject:      "[Bulletin] Rappel : " + first,
			Text:         sch.Reminder + "\n\n-- \nBulletin, planification " + sch.UUID.String() + " (" + sch.Spec + ")\n",
			EnvelopeFrom: bounce, Date: time.Now(),
		}
		if _, err := sender.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// settingsRefresh is how often a daemon reads the console's settings again:
// another daemon sharing the database may have saved new ones.
const settingsRefresh = 15 * time.Second

// refreshSettings reads the console's settings again every settingsRefresh
// until ctx ends, so that a change saved on one daemon reaches the next
// render and campaign of every daemon.
func refreshSettings(ctx context.Context, prov *settings.Provider, log *slog.Logger) {
	t := time.NewTicker(settingsRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := prov.Refresh(ctx); err != nil && ctx.Err() == nil {
				log.Warn("reading the console's settings again failed", slog.String("error", err.Error()))
			}
		}
	}
}
