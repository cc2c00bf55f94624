package daemon

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"bulletin/internal/store"
)

// intakeRetry is how long the intake's applier waits before it tries again
// after a failure: the database locked by another process (a command-line
// import) past its busy timeout.
const intakeRetry = 5 * time.Second

// intakeApplier applies the unsubscribes that the web side kept in the
// store's intake while the database's writer was busy: what a crash left at
// start, then each as soon as the writer is free.
type intakeApplier struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startIntake starts the applier. It runs until stop, not until ctx is
// done, so that it outlives the web side, which may still keep unsubscribes
// while it drains.
func startIntake(ctx context.Context, st *store.Storage, log *slog.Logger) *intakeApplier {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &intakeApplier{cancel: cancel, done: make(chan struct{})}
	log = log.With(slog.String("part", "intake"))
	go func() {
		defer close(a.done)
		for {
			var retry <-chan time.Time
			n, err := st.ApplyIntake(ctx)
			switch {
			case ctx.Err() != nil:
				return // what is left is applied at the next start
			case err != nil:
				log.Warn("unsubscribes kept aside not applied yet", slog.Any("error", err))
				retry = time.After(intakeRetry)
			case n > 0:
				log.Info("unsubscribes kept aside applied", slog.Int("count", n))
			}
			select {
			case <-ctx.Done():
				return
			case <-st.IntakeWake():
			case <-retry:
			}
		}
	}()
	return a
}

// stop stops the applier and waits for it, or for ctx.
func (a *intakeApplier) stop(ctx context.Context) error {
	a.cancel()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return errors.New("intake: shutdown: " + ctx.Err().Error())
	}
}
