package track

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

func TestLinks(t *testing.T) {
	t.Parallel()
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	l := New("https://lettre.example.org/", signer)
	d := uuid.MustParse("8a3c6f0e-1d2b-4c5d-9e8f-0a1b2c3d4e5f")

	open := l.OpenURL(d)
	tok, ok := strings.CutPrefix(open, "https://lettre.example.org/t/o/")
	if !ok || !strings.HasSuffix(tok, ".gif") {
		t.Fatalf("OpenURL = %q", open)
	}
	if got, err := l.ParseOpen(tok); err != nil || got != d {
		t.Errorf("ParseOpen = %v, %v; want %v", got, err, d)
	}

	link := "https://mics34.example.org/agenda?x=1&y=é#bas"
	click := l.ClickURL(d, link)
	u, err := url.Parse(click)
	if err != nil || u.Host != "lettre.example.org" || !strings.HasPrefix(u.Path, "/t/c/") {
		t.Fatalf("ClickURL = %q", click)
	}
	ctok := strings.TrimPrefix(u.Path, "/t/c/")
	if got, err := l.ParseClick(ctok, u.Query().Get("u")); err != nil || got != d {
		t.Errorf("ParseClick = %v, %v; want %v", got, err, d)
	}

	// Never an open redirect: another link, another key, another purpose,
	// a pixel token as a click token all fail.
	other := New("https://lettre.example.org", token.NewSigner([]byte("another key of thirty-two bytes!")))
	bad := []struct{ name, tok, link string }{
		{"other link", ctok, "https://evil.example/phish"},
		{"link with one more character", ctok, link + "x"},
		{"other key", strings.TrimPrefix(mustPath(t, other.ClickURL(d, link)), "/t/c/"), link},
		{"pixel token", strings.TrimSuffix(tok, ".gif"), link},
		{"unsubscribe token", signer.Sign(token.Unsubscribe, append(d[:], d[:]...)), link},
		{"javascript", l.signer.Sign(purposeClick, clickPayload(d, "javascript:alert(1)")), "javascript:alert(1)"},
		{"protocol-relative", l.signer.Sign(purposeClick, clickPayload(d, "//evil.example")), "//evil.example"},
		{"empty", "", link},
	}
	for _, b := range bad {
		if _, err := l.ParseClick(b.tok, b.link); err != ErrInvalid {
			t.Errorf("ParseClick(%s) error = %v, want ErrInvalid", b.name, err)
		}
	}
	if _, err := l.ParseOpen(ctok); err != ErrInvalid {
		t.Errorf("ParseOpen(click token) error = %v, want ErrInvalid", err)
	}

	for _, keep := range []string{"mailto:contact@example.org", "#haut", "/relative", "tel:+33467000000", "javascript:alert(1)"} {
		if got := l.ClickURL(d, keep); got != keep {
			t.Errorf("ClickURL(%q) = %q, want it unchanged", keep, got)
		}
	}
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
