package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.Location(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	l := newLimiter(st, "test", time.Minute, 2)
	for i, want := range []bool{true, true, false} {
		if got, err := l.allow(ctx, "a", now); got != want || err != nil {
			t.Errorf("allow #%d of a burst of 2 = %v, %v; want %v", i+1, got, err, want)
		}
	}
	if wait, err := l.take(ctx, "a", now.Add(59*time.Second)); wait != time.Second || err != nil {
		t.Errorf("take a second before a try comes back = %v, %v; want 1s", wait, err)
	}
	if wait, err := l.take(ctx, "a", now.Add(time.Minute)); wait != 0 || err != nil {
		t.Errorf("take after a minute = %v, %v; want a try", wait, err)
	}
	if err := l.forget(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if wait, err := l.retryAfter(ctx, "a", now.Add(time.Minute)); wait != 0 || err != nil {
		t.Errorf("after forget, a waits %v, %v", wait, err)
	}
	// The store gone, tries are refused: the callers answer with an error.
	st.Close()
	if ok, err := l.allow(ctx, "b", now); ok || err == nil {
		t.Errorf("allow with the store closed = %v, %v; want a refusal with an error", ok, err)
	}
	if _, err := l.take(ctx, "b", now); err == nil {
		t.Error("take with the store closed: no error")
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

// Two daemons on one database, behind a load balancer, share the limits:
// tries spread across both are held back as if all went to one.
func TestLimitsAcrossDaemons(t *testing.T) {
	t.Parallel()
	one := newHarness(t, behindProxy)
	// The second daemon opens the first one's database, as another process
	// would.
	shared, err := store.Open(context.Background(), one.location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	two := newHarness(t, behindProxy, func(_ *config.Config, o *Options) { o.Store = shared })
	daemons := []*harness{one, two}
	one.account("owner@example.org")

	// Wrong passwords for one account, from browsers never seen, each
	// request to the next daemon: 5 fail, then the account is held back
	// on both (in memory, each daemon would have allowed 5).
	codes := map[int]int{}
	for i := range 8 {
		resp, _ := daemons[i%2].from("198.51.100."+strconv.Itoa(i+1)).login("owner@example.org", "wrong password "+strconv.Itoa(i), 0)
		codes[resp.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 3 {
		t.Errorf("8 wrong passwords across two daemons: %v, want 5×401 then 3×429", codes)
	}

	// Unknown accounts from one address: its budget of 10 is shared too.
	codes = map[int]int{}
	for i := range 12 {
		resp, _ := daemons[i%2].from("203.0.113.5").login("nobody"+strconv.Itoa(i)+"@example.org", "whatever password", 0)
		codes[resp.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 2 {
		t.Errorf("12 unknown accounts from one address across two daemons: %v, want 10×401 then 2×429", codes)
	}

	// The subscribe form's limit per network (5 posts) is shared as well.
	part := one.list("Partenaires", true).UUID.String()
	var limited int
	for i := range 7 {
		h := daemons[i%2]
		ip := "192.0.2." + strconv.Itoa(i+1)
		resp, _ := h.subscribeFrom(h.browser(), ip, "n"+strconv.Itoa(i)+"@"+strings.ReplaceAll(ip, ".", "-")+".example.org", part)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("%d of 7 subscribe posts from one /24 across two daemons limited, want the last 2", limited)
	}
}
