package links

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

func TestRoundTrips(t *testing.T) {
	l := New("https://news.example.org/", token.NewSigner([]byte("k")))
	sub, camp := uuid.New(), uuid.New()

	u := l.Unsubscribe(sub, camp)
	tok, ok := strings.CutPrefix(u, "https://news.example.org/u/")
	if !ok {
		t.Fatalf("Unsubscribe = %q", u)
	}
	gs, gc, err := l.ParseUnsubscribe(tok)
	if err != nil || gs != sub || gc != camp {
		t.Errorf("ParseUnsubscribe = %v, %v, %v; want %v, %v", gs, gc, err, sub, camp)
	}
	if _, _, err := l.ParseUnsubscribe(l.DeliveryToken(sub)); err == nil {
		t.Error("a delivery token was accepted as an unsubscribe token")
	}

	c := strings.TrimPrefix(l.Confirm(sub), "https://news.example.org/confirm/")
	if got, err := l.ParseConfirm(c); err != nil || got != sub {
		t.Errorf("ParseConfirm = %v, %v", got, err)
	}
	if _, err := l.ParseConfirm(tok); err == nil {
		t.Error("an unsubscribe token was accepted as a confirmation token")
	}

	d := uuid.New()
	dt := l.DeliveryToken(d)
	verp, err := Tagged("bounces@example.org", dt)
	if err != nil || len(strings.Split(verp, "@")[0]) > 64 {
		t.Errorf("Tagged = %q, %v; want a local part of 64 octets at most", verp, err)
	}
	if got, err := l.ParseDeliveryToken(strings.ToUpper(dt)); err != nil || got != d {
		t.Errorf("ParseDeliveryToken(upper case) = %v, %v", got, err)
	}
	if _, err := Tagged("nope", "x"); err == nil {
		t.Error("Tagged(nope) = nil error")
	}
	if got := l.Media("2020-10-ans", "image 1.png"); got != "https://news.example.org/media/2020-10-ans/image%201.png" {
		t.Errorf("Media = %q", got)
	}
}
