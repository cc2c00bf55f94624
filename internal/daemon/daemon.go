// Package daemon is "bulletin serve": it wires the parts together and stops
// them in order.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/token"
	"bulletin/internal/web"
)

// Run runs the daemon until ctx is cancelled, then shuts down in order: stop
// accepting HTTP, stop the scheduler, drain sends, checkpoint the mailbox,
// close the database. ready, when not nil, is called with the web address
// once the daemon answers.
func Run(ctx context.Context, cfg *config.Config, st *store.Storage, log *slog.Logger, ready func(addr string)) error {
	signer, err := Signer(ctx, cfg, st)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           web.New(cfg, st, signer, log).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen (%s): %w", cfg.Where("server.listen"), err)
	}
	log.Info("bulletin is running", slog.String("web", "http://"+ln.Addr().String()), slog.String("public_url", cfg.Server.PublicURL))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stop, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
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
