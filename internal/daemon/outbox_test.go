package daemon

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

// outboxDaemon is what `serve` works with, on a fresh store in a temporary
// folder, sending to the outbox: the tests that run the demo through the
// real sending start from it.
type outboxDaemon struct {
	cfg config.Config
	st  *store.Storage
	log *slog.Logger
}

// newOutboxDaemon opens the store from the repository's root, where the
// demo finds its sample list and edition; the store is closed when the
// test ends.
func newOutboxDaemon(t *testing.T) *outboxDaemon {
	t.Helper()
	t.Chdir("../..")
	dir := t.TempDir()
	d := &outboxDaemon{cfg: config.Default(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	d.cfg.Store.Path = filepath.Join(dir, "bulletin.db")
	if pgtest.Postgres() {
		d.cfg.Store.Driver, d.cfg.Store.DSN = "postgres", pgtest.DSN(t)
	}
	d.cfg.Sending.OutboxDir = filepath.Join(dir, "outbox")
	st, err := store.Open(context.Background(), d.cfg.Store.Location())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d.st = st
	return d
}

// startSending starts the sending as `serve` does; the caller stops it.
func (d *outboxDaemon) startSending(ctx context.Context, t *testing.T) *sending {
	t.Helper()
	signer, err := Signer(ctx, &d.cfg, d.st)
	if err != nil {
		t.Fatal(err)
	}
	snd, err := startSending(ctx, &d.cfg, d.st, Links(&d.cfg, signer), d.log)
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// demoCampaign returns the demo's campaign once it is sent, or as it is
// after a minute.
func (d *outboxDaemon) demoCampaign(ctx context.Context, t *testing.T) *store.Campaign {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		cs, err := d.st.Campaigns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c := cs[0]; c.State == store.Sent || time.Now().After(deadline) {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
}
