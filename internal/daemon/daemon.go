// Package daemon is "bulletin serve": it wires the parts together and stops
// them in order.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/metrics"
	"bulletin/internal/store"
	"bulletin/internal/token"
	"bulletin/internal/web"
)

// Run listens on server.listen and serves there (see Serve).
func Run(ctx context.Context, cfg *config.Config, st *store.Storage, log *slog.Logger, ready func(addr string)) error {
	ln, err := Listen(cfg)
	if err != nil {
		return err
	}
	return Serve(ctx, cfg, st, log, ln, ready)
}

// Listen binds server.listen. "bulletin serve" binds before it changes
// anything (the demo's campaign), so that a port already taken stops it
// with nothing queued behind it.
func Listen(cfg *config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("server.listen (%s): %w", cfg.Where("server.listen"), err)
	}
	return ln, nil
}

// Serve runs the daemon on ln, which it closes, until ctx is cancelled,
// then shuts down in order: stop accepting HTTP, stop applying the
// unsubscribe intake, stop the summaries and the scheduler, drain sends,
// checkpoint the mailbox, close the database. ready, when not nil, is
// called with the web address once the daemon answers.
func Serve(ctx context.Context, cfg *config.Config, st *store.Storage, log *slog.Logger, ln net.Listener, ready func(addr string)) error {
	signer, err := Signer(ctx, cfg, st)
	if err != nil {
		ln.Close()
		return err
	}
	lk := Links(cfg, signer)
	mbox, err := newMailboxWatcher(cfg, st, lk, log)
	if err != nil {
		ln.Close()
		return err
	}
	met := newMetrics(cfg, st, mbox, log)
	snd, err := startSending(ctx, cfg, st, lk, log, countSends(met))
	if err != nil {
		ln.Close()
		return err
	}
	var summ *summaries
	site, err := newSite(cfg, st, lk, log, snd, mbox, met)
	if err == nil {
		summ, err = startSummaries(ctx, cfg, st, snd.sender, log)
	}
	if err != nil {
		ln.Close()
		stop, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, snd.stop(stop))
	}
	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	mbox.start(ctx, snd.engine.Options().Owner) // the engine's name for this daemon in the store's leases
	intake := startIntake(ctx, st, log)
	log.Info("bulletin is running", slog.String("web", "http://"+ln.Addr().String()), slog.String("public_url", cfg.Server.PublicURL))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		stop, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		return errors.Join(fmt.Errorf("web: %w", err), intake.stop(stop), summ.stop(stop), snd.stop(stop), mbox.stop(stop))
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stop, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	webErr := srv.Shutdown(stop)
	if errors.Is(webErr, http.ErrServerClosed) {
		webErr = nil
	} else if webErr != nil {
		webErr = fmt.Errorf("web: shutdown: %w", webErr)
	}
	return errors.Join(webErr, intake.stop(stop), summ.stop(stop), snd.stop(stop), mbox.stop(stop))
}

// newSite builds the web side over the sending parts: the transport mails
// the subscribe form's confirmations and the console's test copies, the
// layout renders previews and web views, the engine is woken when staff
// send now.
func newSite(cfg *config.Config, st *store.Storage, lk *links.Links, log *slog.Logger, snd *sending, mbox *mailboxWatcher,
	met *metrics.Metrics) (*web.Server, error) {
	content, err := LiveContent(snd.settings, lk, log)
	if err != nil {
		return nil, err
	}
	health := map[string]func(context.Context) error{"relay": allOf(relayHealth(cfg), met.Relay().HealthCheck)}
	maps.Copy(health, mbox.health())
	return web.New(web.Options{
		Config: cfg, Settings: snd.settings, Store: st, Links: lk, Log: log.With(slog.String("part", "web")),
		Mailer: snd.sender, Content: content, Engine: snd.engine, EngineOptions: snd.engine.Options(), Pacer: snd.engine, Health: health,
		Metrics: met.Handler(),
	})
}

// relayHealth checks that the relay accepts TCP connections (no SMTP
// session: the check runs on every /healthz and must not count against the
// relay's limits), or that the outbox folder is there.
func relayHealth(cfg *config.Config) func(context.Context) error {
	if cfg.SMTP.Host == "" {
		return func(context.Context) error {
			_, err := os.Stat(cfg.Sending.OutboxDir)
			return err
		}
	}
	addr := net.JoinHostPort(cfg.SMTP.Host, strconv.Itoa(cfg.SMTP.Port))
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// Signer returns the token signer: the configured secret, or the one the
// store generated on first start.
func Signer(ctx context.Context, cfg *config.Config, st *store.Storage) (*token.Signer, error) {
	if cfg.Server.Secret != "" {
		return token.NewSigner([]byte(cfg.Server.Secret)), nil
	}
	key, err := st.Secret(ctx)
	if err != nil {
		return nil, err
	}
	return token.NewSigner(key), nil
}
