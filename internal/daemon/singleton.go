package daemon

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"bulletin/internal/store"
)

// singleton runs a part that only one daemon among those sharing the
// database may run at a time (the mailbox watcher: two would read the same
// messages): the daemon that holds the named lease in the store runs it and
// renews the lease; the others stand by and take the lease over once it has
// expired, when its holder died.
type singleton struct {
	st    *store.Storage
	name  string // the lease's, "mailbox"
	owner string // this daemon
	ttl   time.Duration
	log   *slog.Logger
	held  atomic.Bool
}

// run takes the lease whenever it is free or expired and runs fn while it
// holds it, until ctx ends; it then gives the lease up, so that another
// daemon takes over at once.
func (s *singleton) run(ctx context.Context, fn func(context.Context)) {
	tick := time.NewTicker(s.ttl / 3)
	defer tick.Stop()
	standby := false
	for {
		ok, err := s.take(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("taking the lease", slog.String("lease", s.name), slog.Any("err", err))
		case ok:
			s.log.Info("this daemon runs it", slog.String("lease", s.name))
			s.hold(ctx, tick.C, fn)
			standby = false
		case !standby:
			s.log.Info("another daemon runs it; standing by", slog.String("lease", s.name))
			standby = true
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// take takes or renews the lease, waiting no longer than a third of it.
func (s *singleton) take(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.ttl/3)
	defer cancel()
	return s.st.TakeLease(ctx, s.name, s.owner, time.Now().Add(s.ttl))
}

// hold runs fn and renews the lease at each tick, until ctx ends or a
// renewal does not succeed; fn's context then ends and hold waits for it.
// It stops at the first renewal that fails, rather than at the lease's end,
// so that fn has stopped by the time another daemon may take over.
func (s *singleton) hold(ctx context.Context, tick <-chan time.Time, fn func(context.Context)) {
	s.held.Store(true)
	defer s.held.Store(false)
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx)
	}()
	defer func() {
		stop()
		<-done
		if ctx.Err() != nil {
			if err := s.st.GiveUpLease(context.WithoutCancel(ctx), s.name, s.owner); err != nil {
				s.log.Warn("giving up the lease", slog.String("lease", s.name), slog.Any("err", err))
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick:
		}
		ok, err := s.take(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("renewing the lease failed: stopping until it is taken again", slog.String("lease", s.name), slog.Any("err", err))
			return
		case !ok:
			s.log.Warn("lease taken over by another daemon: stopping", slog.String("lease", s.name))
			return
		}
	}
}
