package web

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per key (a client IP, an address, an account),
// kept in memory. The map is bounded: when it is full, the buckets that have
// refilled (their key has been quiet long enough to be forgotten) are
// dropped first, then any. A flood of distinct keys can therefore make the
// limiter forget some of them, but it can never make the daemon run out of
// memory; the limits are a brake on bots, and double opt-in and bcrypt stay
// the real protections.
//
// The state is not persisted: a restart forgets it, which costs an attacker
// a restart they cannot cause.
type limiter struct {
	every rate.Limit
	burst int
	max   int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(every rate.Limit, burst, max int) *limiter {
	return &limiter{every: every, burst: burst, max: max, buckets: map[string]*rate.Limiter{}}
}

// bucket returns key's bucket, making room for it if needed. l.mu is held.
func (l *limiter) bucket(key string, now time.Time) *rate.Limiter {
	b, ok := l.buckets[key]
	if ok {
		return b
	}
	if len(l.buckets) >= l.max {
		for k, old := range l.buckets {
			if old.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		// Still full: forget an arbitrary half (map order is random).
		for k := range l.buckets {
			if len(l.buckets) < l.max/2 {
				break
			}
			delete(l.buckets, k)
		}
	}
	b = rate.NewLimiter(l.every, l.burst)
	l.buckets[key] = b
	return b
}

// allow takes a token from key's bucket and reports whether there was one.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(key, now).AllowN(now, 1)
}

// blocked reports whether key's bucket is empty, without taking a token:
// for limits counted on failures only (logins), checked before trying.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	return ok && b.TokensAt(now) < 1
}

// retryAfter returns how long key must wait for a token from l, or 0 when
// it has one now.
func (l *limiter) retryAfter(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	missing := 1 - b.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(l.every) * float64(time.Second))
}

// forget drops key's bucket (a successful login clears its failures).
func (l *limiter) forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// size returns how many keys are remembered, for tests.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
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
