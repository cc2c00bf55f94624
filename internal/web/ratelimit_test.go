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
