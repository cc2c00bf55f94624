package web

import (
	"context"
	"net"
	"time"

	"bulletin/internal/store"
)

// limiter is a token bucket per key (a client network, an address, an
// account, a browser), counted in the store (store.RateLimit) so that every
// daemon behind a load balancer takes from the same bucket: spreading tries
// across the daemons buys nothing. Keys are stored keyed-hashed.
//
// When the store cannot count, the try is refused (the callers answer with
// an error): the limits guard logins and a mail relay, and a request they
// let through would need the store anyway.
type limiter struct {
	st    *store.Storage
	limit store.RateLimit
}

// newLimiter returns the limiter named name (as stored) whose buckets hold
// burst tries, one coming back every every.
func newLimiter(st *store.Storage, name string, every time.Duration, burst int) *limiter {
	return &limiter{st: st, limit: store.RateLimit{Name: name, Every: every, Burst: burst}}
}

// allow takes a try from key's bucket and reports whether there was one.
func (l *limiter) allow(ctx context.Context, key string, now time.Time) (bool, error) {
	return l.st.TakeTry(ctx, l.limit, key, now)
}

// take takes a try from key's bucket, and returns 0 when there was one, or
// else how long to wait for the next (a second at least, for Retry-After).
func (l *limiter) take(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ok, err := l.allow(ctx, key, now)
	if ok || err != nil {
		return 0, err
	}
	wait, err := l.retryAfter(ctx, key, now)
	if err != nil {
		return 0, err
	}
	return max(wait, time.Second), nil
}

// retryAfter returns how long key must wait for a try, or 0 when it has
// one now. It takes nothing.
func (l *limiter) retryAfter(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	return l.st.TryWait(ctx, l.limit, key, now)
}

// forget fills key's bucket again (a successful login clears its failures).
func (l *limiter) forget(ctx context.Context, key string) error {
	return l.st.ForgetTries(ctx, l.limit.Name, key)
}

// netKey returns the key a client IP is limited under: its /24 for IPv4 and
// its /64 for IPv6, the block one subscriber line or one host usually has,
// so that a bot cannot pass a per-IP limit by walking the addresses of its
// own block. Anything that is not an IP is its own key.
func netKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ip
	}
	if v4 := a.To4(); v4 != nil {
		return (&net.IPNet{IP: v4.Mask(net.CIDRMask(24, 32)), Mask: net.CIDRMask(24, 32)}).String()
	}
	return (&net.IPNet{IP: a.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
