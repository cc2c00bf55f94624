package daemon

import (
	"context"
	"log/slog"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/mailbox"
	"bulletin/internal/store"
)

// mailboxWatcher runs the mailbox watcher beside the daemon when imap.host
// is set; its zero value is a watcher that is off.
type mailboxWatcher struct {
	w      *mailbox.Watcher
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
	return &mailboxWatcher{w: w}, nil
}

// health is the check /healthz runs for the mailbox, nil when it is off.
func (m *mailboxWatcher) health() map[string]func(context.Context) error {
	if m.w == nil {
		return nil
	}
	return map[string]func(context.Context) error{"mailbox": m.w.HealthCheck}
}

// start runs the watcher until stop. It does not end with ctx: shutdown
// stops the parts in order, and the mailbox comes after the sends.
func (m *mailboxWatcher) start(ctx context.Context) {
	if m.w == nil {
		return
	}
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.w.Run(ctx) // returns nil once cancelled; it logs its own failures
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
