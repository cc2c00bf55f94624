package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/i18n"
	"bulletin/internal/importer"
	"bulletin/internal/store"
)

// The demo's inputs, relative to the repository's root, where the README's
// run command is typed.
const (
	DemoSubscribers = "subscribers/sample.csv"
	DemoEdition     = "docs/examples/2020-edition-10-ans/edition.md"
	DemoList        = "Partenaires"
)

// Demo prepares "bulletin serve --demo" on an empty database: it imports
// the sample subscribers into the list Partenaires, adds the example
// edition, and starts a campaign of it to the list, which the daemon's
// engine then sends through the configured transport (the outbox, unless
// smtp.host is set). On a database that already has campaigns it does
// nothing, so that restarting the demo never sends it twice.
func Demo(ctx context.Context, cfg *config.Config, st *store.Storage, log *slog.Logger) error {
	existing, err := st.Campaigns(ctx)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		where := cfg.Store.Path
		if cfg.Store.Driver == "postgres" {
			where = "PostgreSQL (store.dsn)" // the connection string may hold a password
		}
		log.Info("demo: the database already has campaigns; nothing added", slog.String("database", where))
		return nil
	}
	f, err := os.Open(DemoSubscribers)
	if err != nil {
		return fmt.Errorf("demo: %w (run the demo from the repository's root)", err)
	}
	defer f.Close()
	rep, err := importer.Import(ctx, st, f, DemoSubscribers, importer.Options{List: DemoList})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	se, _, _, err := campaign.AddEdition(ctx, st, DemoEdition)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	c, err := campaign.Create(ctx, st, campaign.Spec{Edition: se.Slug, Lists: []string{DemoList}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := campaign.Transition(ctx, st, c, campaign.Change{To: store.Sending, Cause: i18n.M("campaign.cause.cli", "bulletin serve --demo")}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	counts, err := st.CampaignDeliveryCounts(ctx, c.ID)
	if err != nil {
		return err
	}
	where := "the SMTP relay " + cfg.SMTP.Host
	if cfg.SMTP.Host == "" {
		dir, _ := filepath.Abs(cfg.Sending.OutboxDir)
		where = "the outbox " + dir + " (one .eml file per message)"
	}
	log.Info(fmt.Sprintf("demo: sending %q to %d subscribers of %s through %s", c.Name, counts.ByState[store.Queued], DemoList, where),
		slog.String("campaign", c.UUID.String()), slog.Int("imported", rep.Added+rep.Updated),
		slog.Int("suppressed", rep.Suppressed), slog.Int("rejected", rep.Rejected))
	return nil
}
