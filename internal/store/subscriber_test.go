package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A suppressed address that opts in again is on file with the new consent,
// written with the status change and its history; a change refused leaves
// the old consent.
func TestSetStatusAndConsent(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	old := Consent{Source: "import contacts-2019.csv", At: time.Date(2019, 3, 14, 10, 21, 0, 0, time.UTC)}
	sub := &Subscriber{Email: "chloe@example.org", Status: Unsubscribed, Consent: old}
	if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	again := Consent{Source: "form", At: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), IP: "198.51.100.7",
		Text: "J’accepte de recevoir la lettre d’information de MICS 34."}
	change := StatusChange{Status: Active, Source: "form", Reason: "double opt-in confirmed from 198.51.100.7"}

	// Without Force, a suppression stays, and so does the old consent.
	if changed, err := s.SetStatusAndConsent(ctx, sub.ID, change, again); !errors.Is(err, ErrSuppressed) || changed {
		t.Fatalf("SetStatusAndConsent without Force = %v, %v; want false, ErrSuppressed", changed, err)
	}
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Status != Unsubscribed || got.Consent != old {
		t.Fatalf("after a refused change: %s, %+v; want unsubscribed, %+v", got.Status, got.Consent, old)
	}

	change.Force = true
	if changed, err := s.SetStatusAndConsent(ctx, sub.ID, change, again); err != nil || !changed {
		t.Fatalf("SetStatusAndConsent = %v, %v; want true, nil", changed, err)
	}
	got, _ := s.SubscriberByID(ctx, sub.ID)
	if got.Status != Active || got.Consent != again {
		t.Errorf("after opt-in: %s, %+v; want active, %+v", got.Status, got.Consent, again)
	}
	p, err := s.PersonalData(ctx, sub.Email)
	if err != nil {
		t.Fatal(err)
	}
	if last := p.Events[len(p.Events)-1]; last.Status != Active || last.Source != "form" {
		t.Errorf("last event %+v, want the status change to active by form", last)
	}

	// Nothing changes: neither does the consent.
	later := again
	later.At = again.At.Add(time.Hour)
	if changed, err := s.SetStatusAndConsent(ctx, sub.ID, change, later); err != nil || changed {
		t.Errorf("SetStatusAndConsent when already active = %v, %v; want false, nil", changed, err)
	}
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Consent != again {
		t.Errorf("consent rewritten without a change: %+v", got.Consent)
	}
	if _, err := s.SetStatusAndConsent(ctx, 9999, change, again); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetStatusAndConsent(no such subscriber) = %v, want ErrNotFound", err)
	}
}
