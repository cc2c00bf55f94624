package links

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

func testLinks() *Links {
	return &Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), PublicURL: "https://news.example.org",
		BounceAddress: "bounces@example.org", VERP: true, UnsubscribeAddress: "unsubscribe@example.org"}
}

func TestDeliveryAddresses(t *testing.T) {
	t.Parallel()
	l := testLinks()
	d := uuid.New()
	tok := l.DeliveryToken(d)
	if len(tok) != 48 || strings.ToLower(tok) != tok {
		t.Errorf("DeliveryToken = %q, want 48 lower-case hex characters", tok)
	}
	if got, err := l.ParseDeliveryToken(strings.ToUpper(tok)); err != nil || got != d {
		t.Errorf("ParseDeliveryToken(upper case) = %v, %v; want %v", got, err, d)
	}

	from := l.EnvelopeFrom(d)
	if want := "bounces+" + tok + "@example.org"; from != want {
		t.Errorf("EnvelopeFrom = %q, want %q", from, want)
	}
	if local, _, _ := strings.Cut(from, "@"); len(local) > 64 {
		t.Errorf("EnvelopeFrom local part is %d octets, more than RFC 5321's 64", len(local))
	}
	if got := l.EnvelopeFrom(uuid.Nil); got != "bounces@example.org" {
		t.Errorf("EnvelopeFrom(no delivery) = %q, want the bounce address", got)
	}
	noVERP := *l
	noVERP.VERP = false
	if got := noVERP.EnvelopeFrom(d); got != "bounces@example.org" {
		t.Errorf("EnvelopeFrom without VERP = %q, want the bounce address", got)
	}

	mailto := l.UnsubscribeMailto(d)
	if want := "unsubscribe+" + tok + "@example.org"; mailto != want {
		t.Errorf("UnsubscribeMailto = %q, want %q", mailto, want)
	}
	noMailto := *l
	noMailto.UnsubscribeAddress = ""
	if got := noMailto.UnsubscribeMailto(d); got != "" {
		t.Errorf("UnsubscribeMailto without an address = %q, want none", got)
	}
}

func TestReaderLinks(t *testing.T) {
	t.Parallel()
	l := testLinks()
	sub, camp := uuid.New(), uuid.New()

	u := l.UnsubscribeURL(sub, camp)
	tok, ok := strings.CutPrefix(u, "https://news.example.org/u/")
	if !ok || tok != l.UnsubscribeToken(sub, camp) {
		t.Fatalf("UnsubscribeURL = %q", u)
	}
	if gs, gc, err := l.ParseUnsubscribeToken(tok); err != nil || gs != sub || gc != camp {
		t.Errorf("ParseUnsubscribeToken = %v, %v, %v; want %v, %v", gs, gc, err, sub, camp)
	}
	if _, gc, err := l.ParseUnsubscribeToken(l.UnsubscribeToken(sub, uuid.Nil)); err != nil || gc != uuid.Nil {
		t.Errorf("ParseUnsubscribeToken(outside a campaign) = %v, %v", gc, err)
	}
	if got := l.PreferencesURL(sub, camp); got != u+"/preferences" {
		t.Errorf("PreferencesURL = %q, want %q", got, u+"/preferences")
	}

	if got, want := l.ConfirmURL("0123abcd"), "https://news.example.org/confirm/0123abcd"; got != want {
		t.Errorf("ConfirmURL = %q, want %q", got, want)
	}
	// A confirmation link signed the old way is recognised (to say it
	// expired), a forged one is not.
	c := l.Signer.Sign(token.Confirm, sub[:])
	altered := c[:len(c)-1] + "0"
	if c[len(c)-1] == '0' {
		altered = c[:len(c)-1] + "1"
	}
	if !l.IsLegacyConfirmToken(c) || l.IsLegacyConfirmToken(altered) {
		t.Errorf("IsLegacyConfirmToken(%q) = %v, of its altered copy %v", c, l.IsLegacyConfirmToken(c), l.IsLegacyConfirmToken(altered))
	}

	if got, want := l.WebViewURL(camp), "https://news.example.org/v/"+camp.String(); got != want {
		t.Errorf("WebViewURL = %q, want %q", got, want)
	}

	// A token made for one purpose is worth nothing for another.
	if _, _, err := l.ParseUnsubscribeToken(l.DeliveryToken(sub)); err == nil {
		t.Error("a delivery token was accepted as an unsubscribe token")
	}
	if l.IsLegacyConfirmToken(tok) {
		t.Error("an unsubscribe token was taken for a confirmation token")
	}
	if _, err := l.ParseDeliveryToken(c); err == nil {
		t.Error("a confirmation token was accepted as a delivery token")
	}
	other := testLinks()
	other.Signer = token.NewSigner([]byte("another key of thirty-two bytes!"))
	if _, _, err := other.ParseUnsubscribeToken(tok); err == nil {
		t.Error("a token was accepted under another key")
	}
}

func TestTracking(t *testing.T) {
	t.Parallel()
	l := testLinks()
	d := uuid.MustParse("8a3c6f0e-1d2b-4c5d-9e8f-0a1b2c3d4e5f")

	open := l.OpenURL(d)
	tok, ok := strings.CutPrefix(open, "https://news.example.org/t/o/")
	if !ok || !strings.HasSuffix(tok, ".gif") {
		t.Fatalf("OpenURL = %q", open)
	}
	for _, tk := range []string{tok, strings.TrimSuffix(tok, ".gif")} {
		if got, err := l.ParseOpenToken(tk); err != nil || got != d {
			t.Errorf("ParseOpenToken(%q) = %v, %v; want %v", tk, got, err, d)
		}
	}

	link := "https://mics34.example.org/agenda?x=1&y=é#bas"
	click := l.ClickURL(d, link)
	u, err := url.Parse(click)
	if err != nil || u.Host != "news.example.org" || !strings.HasPrefix(u.Path, "/t/c/") || u.Query().Get("u") != link {
		t.Fatalf("ClickURL = %q", click)
	}
	ctok := strings.TrimPrefix(u.Path, "/t/c/")
	if got, err := l.ParseClickToken(ctok, u.Query().Get("u")); err != nil || got != d {
		t.Errorf("ParseClickToken = %v, %v; want %v", got, err, d)
	}

	// Never an open redirect: another link, another key, another purpose,
	// a pixel token as a click token all fail.
	other := testLinks()
	other.Signer = token.NewSigner([]byte("another key of thirty-two bytes!"))
	otherURL, _ := url.Parse(other.ClickURL(d, link))
	bad := []struct{ name, tok, link string }{
		{"other link", ctok, "https://evil.example/phish"},
		{"link with one more character", ctok, link + "x"},
		{"other key", strings.TrimPrefix(otherURL.Path, "/t/c/"), link},
		{"pixel token", strings.TrimSuffix(tok, ".gif"), link},
		{"unsubscribe token", l.UnsubscribeToken(d, d), link},
		{"javascript", l.Signer.Sign(token.Click, clickPayload(d, "javascript:alert(1)")), "javascript:alert(1)"},
		{"protocol-relative", l.Signer.Sign(token.Click, clickPayload(d, "//evil.example")), "//evil.example"},
		{"empty", "", link},
	}
	for _, b := range bad {
		if _, err := l.ParseClickToken(b.tok, b.link); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("ParseClickToken(%s) error = %v, want token.ErrInvalid", b.name, err)
		}
	}
	if _, err := l.ParseOpenToken(ctok); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("ParseOpenToken(click token) error = %v, want token.ErrInvalid", err)
	}

	// Left as written: other schemes, and this site's pages for one reader.
	for _, keep := range []string{
		"mailto:contact@example.org", "#haut", "/relative", "tel:+33467000000", "javascript:alert(1)",
		l.UnsubscribeURL(d, d), l.PreferencesURL(d, d), l.WebViewURL(d), l.ConfirmURL(strings.Repeat("ab", 32)), open,
	} {
		if got := l.ClickURL(d, keep); got != keep {
			t.Errorf("ClickURL(%q) = %q, want it unchanged", keep, got)
		}
	}
	if got := l.ClickURL(d, "https://news.example.org/subscribe"); got == "https://news.example.org/subscribe" {
		t.Error("ClickURL left a public page that names no reader untracked")
	}
}

func TestMedia(t *testing.T) {
	t.Parallel()
	if got, want := MediaPath("2020-edition-10-ans", "images/info graphie.png"), "/media/2020-edition-10-ans/images/info%20graphie.png"; got != want {
		t.Errorf("MediaPath = %q, want %q", got, want)
	}
	if got, want := MediaURL("https://lettre.example.org/", "a", "b.png"), "https://lettre.example.org/media/a/b.png"; got != want {
		t.Errorf("MediaURL = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		path, slug, file string
		ok               bool
	}{
		{"/media/2020-edition-10-ans/infographie-2019.png", "2020-edition-10-ans", "infographie-2019.png", true},
		{"/media/a/images/b.png", "a", "images/b.png", true},
		{"/media/a/../../etc/passwd", "", "", false},
		{"/media/a/", "", "", false},
		{"/media/Bad Slug/a.png", "", "", false},
		{"/other/a/b.png", "", "", false},
	} {
		slug, file, ok := ParseMediaPath(tc.path)
		if slug != tc.slug || file != tc.file || ok != tc.ok {
			t.Errorf("ParseMediaPath(%q) = %q, %q, %v, want %q, %q, %v", tc.path, slug, file, ok, tc.slug, tc.file, tc.ok)
		}
	}
}
