package web

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	l := newLimiter(rate.Every(time.Minute), 2, 100)
	for i, want := range []bool{true, true, false} {
		if got := l.allow("a", now); got != want {
			t.Errorf("allow #%d of a burst of 2 = %v, want %v", i+1, got, want)
		}
	}
	if !l.blocked("a", now) || l.blocked("b", now) {
		t.Error("blocked: a is empty, b unknown")
	}
	if !l.allow("a", now.Add(time.Minute)) {
		t.Error("a token comes back after a minute")
	}
	l.forget("a")
	if l.blocked("a", now) {
		t.Error("forget did not clear a")
	}
	// A flood of keys never grows the map past its bound.
	for i := range 10000 {
		l.allow(fmt.Sprint("ip", i), now)
	}
	if n := l.size(); n > 100 {
		t.Errorf("%d keys remembered, bound is 100", n)
	}
}

// Addresses of one /24 (IPv4) or one /64 (IPv6) share a key; neighbours
// across the boundary do not; an IPv4-mapped IPv6 address is its IPv4.
func TestNetKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ a, b string }{
		{"198.51.100.7", "198.51.100.250"},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"::ffff:198.51.100.7", "198.51.100.9"},
	} {
		if netKey(c.a) != netKey(c.b) {
			t.Errorf("netKey(%s) = %s, netKey(%s) = %s; want the same", c.a, netKey(c.a), c.b, netKey(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{
		{"198.51.100.7", "198.51.101.7"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
	} {
		if netKey(c.a) == netKey(c.b) {
			t.Errorf("netKey(%s) = netKey(%s) = %s; want them apart", c.a, c.b, netKey(c.a))
		}
	}
}
