package daemon

import (
	"context"
	"log/slog"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/mailbox"
	"bulletin/internal/store"
)

// mailboxLease is how long the daemon watching the mailbox is presumed
// alive after its last renewal: how soon another daemon sharing the
// database takes the mailbox over when it dies.
const mailboxLease = 30 * time.Second

// mailboxWatcher runs the mailbox watcher beside the daemon when imap.host
// is set; its zero value is a watcher that is off. Of several daemons on one
// database, only the one holding the "mailbox" lease watches the mailbox
// (see singleton).
type mailboxWatcher struct {
	w      *mailbox.Watcher
	lease  *singleton
	cancel context.CancelFunc
	done   chan struct{}
}

func newMailboxWatcher(cfg *config.Config, st *store.Storage, lk *links.Links, log *slog.Logger) (*mailboxWatcher, error) {
	if cfg.IMAP.Host == "" {
		log.Info("mailbox watcher off: imap.host is empty")
		return &mailboxWatcher{}, nil
	}
	if err := cfg.IMAPSecret(); err != nil {
		return nil, err
	}
	proc := mailbox.NewProcessor(st, lk, mailbox.RulesFromConfig(cfg), nil)
	w, err := mailbox.New(mailbox.OptionsFromConfig(cfg, log), proc)
	if err != nil {
		return nil, err
	}
	return &mailboxWatcher{w: w, lease: &singleton{st: st, name: "mailbox", ttl: mailboxLease,
		log: log.With(slog.String("part", "mailbox"))}}, nil
}

// health is the check /healthz runs for the mailbox, nil when it is off.
func (m *mailboxWatcher) health() map[string]func(context.Context) error {
	if m.w == nil {
		return nil
	}
	return map[string]func(context.Context) error{"mailbox": func(ctx context.Context) error {
		if !m.lease.held.Load() {
			return nil // another daemon watches it
		}
		return m.w.HealthCheck(ctx)
	}}
}

// start runs the watcher, while this daemon (owner) holds the mailbox
// lease, until stop. It does not end with ctx: shutdown stops the parts in
// order, and the mailbox comes after the sends.
func (m *mailboxWatcher) start(ctx context.Context, owner string) {
	if m.w == nil {
		return
	}
	m.lease.owner = owner
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.lease.run(ctx, func(ctx context.Context) {
			m.w.Run(ctx) // returns nil once cancelled; it logs its own failures
		})
	}()
}

// stop stops the watcher and waits for it, or for ctx. Each message is
// checkpointed as it is recorded, so there is nothing more to save.
func (m *mailboxWatcher) stop(ctx context.Context) error {
	if m.done == nil {
		return nil
	}
	m.cancel()
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
