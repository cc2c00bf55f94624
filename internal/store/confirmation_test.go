package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Pending subscribers of the form who never confirmed within the TTL are
// purged with their links; younger ones, confirmed ones, pending rows made
// by staff (the API here) and valid links stay.
func TestPurgeExpired(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	add := func(email string, st Status) *Subscriber {
		t.Helper()
		sub := &Subscriber{Email: email, Status: st, Consent: Consent{Source: "form"}}
		if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
			t.Fatal(err)
		}
		return sub
	}
	stale, fresh, active := add("stale@example.org", Pending), add("fresh@example.org", Pending), add("active@example.org", Active)
	staff := &Subscriber{Email: "staff@example.org", Status: Pending, Consent: Consent{Source: "api"}}
	if err := s.AddSubscriber(ctx, staff, nil, false); err != nil {
		t.Fatal(err)
	}
	t0 := now()
	old := t0.Add(-15 * 24 * time.Hour)
	for _, sub := range []*Subscriber{stale, active, staff} {
		if _, err := s.w.ExecContext(ctx, "UPDATE subscribers SET status_changed_at = ? WHERE id = ?", old, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	expired, err := s.CreateConfirmation(ctx, fresh.ID, nil, old, old.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := s.CreateConfirmation(ctx, fresh.ID, nil, t0, t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	staleLink, err := s.CreateConfirmation(ctx, stale.ID, nil, t0, t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	n, err := s.PurgeExpired(ctx, t0, t0.Add(-14*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want 1 (the stale pending subscriber)", n, err)
	}
	if _, err := s.SubscriberByID(ctx, stale.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the stale pending subscriber is still there: %v", err)
	}
	for _, sub := range []*Subscriber{fresh, active, staff} {
		if _, err := s.SubscriberByID(ctx, sub.ID); err != nil {
			t.Errorf("%s was purged: %v", sub.Email, err)
		}
	}
	for tok, want := range map[string]error{expired: ErrNotFound, staleLink: ErrNotFound, valid: nil} {
		if _, err := s.ConfirmationByToken(ctx, tok); !errors.Is(err, want) {
			t.Errorf("ConfirmationByToken after the purge = %v, want %v", err, want)
		}
	}
}

// The mails of the public pages count against the relay's quotas with the
// campaigns' deliveries, and are capped per hour and per domain.
func TestReserveTransactional(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	lim := TransactionalLimits{Hourly: 3, DomainHourly: 2}
	for i, c := range []struct {
		domain string
		want   bool
	}{{"a.example", true}, {"a.example", true}, {"a.example", false}, {"b.example", true}, {"c.example", false}} {
		ok, err := s.ReserveTransactional(ctx, "confirm", c.domain, lim)
		if err != nil || ok != c.want {
			t.Errorf("#%d ReserveTransactional(%s) = %v, %v; want %v", i, c.domain, ok, err, c.want)
		}
	}
	since := time.Now().Add(-time.Hour)
	if n, err := s.SentSince(ctx, since); err != nil || n != 3 {
		t.Errorf("SentSince = %d, %v; want 3", n, err)
	}
	if at, err := s.NthSentSince(ctx, since, 2); err != nil || at.IsZero() {
		t.Errorf("NthSentSince(2) = %v, %v; want the third mail's time", at, err)
	}
}
