package daemon

import (
	"context"
	"log/slog"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

// purgeEvery is how often the purge runs: pending_ttl is counted in days,
// so an hour late is nothing.
const purgeEvery = time.Hour

// purgeExpired deletes, at once and then every purgeEvery until ctx ends,
// the pending subscribers who never confirmed within subscribe.pending_ttl
// (nothing may be kept about someone who did not agree), the expired
// confirmation links, the old records of the form's mails and the rate
// limits' buckets that are full again (the same as none).
func purgeExpired(ctx context.Context, cfg *config.Config, st *store.Storage, log *slog.Logger) {
	tick := time.NewTicker(purgeEvery)
	defer tick.Stop()
	for {
		now := time.Now()
		n, err := st.PurgeExpired(ctx, now, now.Add(-cfg.Subscribe.PendingTTL))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("purging unconfirmed subscriptions", slog.Any("err", err))
		case n > 0:
			log.Info("purged pending subscribers who never confirmed", slog.Int("count", n))
		}
		if _, err := st.PurgeRateLimits(ctx, now); err != nil && ctx.Err() == nil {
			log.Error("purging rate limits", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
