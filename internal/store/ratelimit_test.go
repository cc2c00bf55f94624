package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRateLimit(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	l := RateLimit{Name: "test", Every: time.Minute, Burst: 2}
	take := func(key string, at time.Time) bool {
		t.Helper()
		ok, err := s.TakeTry(ctx, l, key, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	wait := func(key string, at time.Time) time.Duration {
		t.Helper()
		d, err := s.TryWait(ctx, l, key, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i, want := range []bool{true, true, false} {
		if got := take("a", now); got != want {
			t.Errorf("try #%d of a burst of 2 = %v, want %v", i+1, got, want)
		}
	}
	if d := wait("a", now); d != time.Minute {
		t.Errorf("a waits %v, want 1m0s", d)
	}
	if d := wait("b", now); d != 0 {
		t.Errorf("b, unknown, waits %v", d)
	}
	// Another limiter has buckets of its own under the same key.
	if ok, _ := s.TakeTry(ctx, RateLimit{Name: "other", Every: time.Minute, Burst: 1}, "a", now); !ok {
		t.Error("the other limiter's bucket of a is full")
	}
	if !take("a", now.Add(time.Minute)) || take("a", now.Add(time.Minute)) {
		t.Error("one try comes back after a minute, one only")
	}
	if err := s.ForgetTries(ctx, "test", "a"); err != nil {
		t.Fatal(err)
	}
	if d := wait("a", now); d != 0 {
		t.Errorf("after ForgetTries, a waits %v", d)
	}

	// Keys are kept keyed-hashed: no network in clear, nor its plain
	// SHA-256, which trying the 2^24 networks would undo.
	take("198.51.100.0/24", now)
	var stored string
	if err := s.r.QueryRowContext(ctx, "SELECT key_hash FROM rate_limits WHERE name = 'test'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte("198.51.100.0/24"))
	if len(stored) != 64 || strings.Contains(stored, "198.51") || stored == hex.EncodeToString(plain[:]) {
		t.Errorf("key stored as %q", stored)
	}

	// The buckets full again are purged; the others stay.
	take("c", now.Add(3*time.Minute))
	n, err := s.PurgeRateLimits(ctx, now.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PurgeRateLimits = %d, %v; want the 2 buckets full again (198.51.100.0/24, other's a)", n, err)
	}
	if d := wait("c", now.Add(3*time.Minute)); d != 0 || take("c", now.Add(3*time.Minute)) != true || take("c", now.Add(3*time.Minute)) {
		t.Error("c's bucket was purged while not full")
	}
}

// TakeTry behaves as golang.org/x/time/rate's limiter, which the web side
// used in memory, over a random walk of tries.
func TestRateLimitAsTokenBucket(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	l := RateLimit{Name: "walk", Every: 5 * time.Minute, Burst: 5}
	ref := rate.NewLimiter(rate.Every(l.Every), l.Burst)
	rnd := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	var taken int
	for i := range 300 {
		// Mostly bursts, sometimes a pause long enough to refill.
		now = now.Add(time.Duration(rnd.IntN(int(3*time.Minute/time.Millisecond))) * time.Millisecond)
		if rnd.IntN(20) == 0 {
			now = now.Add(30 * time.Minute)
		}
		want := ref.AllowN(now, 1)
		got, err := s.TakeTry(ctx, l, "k", now)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("try %d at %v: %v, x/time/rate says %v", i, now, got, want)
		}
		if got {
			taken++
		}
	}
	if taken == 300 || taken < 100 {
		t.Errorf("%d tries of 300 taken: the walk does not test the limit", taken)
	}
}

// Tries taken in parallel, as from several daemons, never take more than
// the bucket holds.
func TestRateLimitParallel(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	l := RateLimit{Name: "parallel", Every: time.Hour, Burst: 7}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	for range 40 {
		wg.Go(func() {
			ok, err := s.TakeTry(ctx, l, "k", now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if taken != l.Burst {
		t.Errorf("%d tries taken in parallel from a bucket of %d", taken, l.Burst)
	}
}
