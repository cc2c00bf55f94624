package i18n

import (
	"strings"
	"testing"
	"time"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	fr, en := catalogues["fr"], catalogues["en"]
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in French only", k)
		}
	}
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("%q is in English only", k)
		}
	}
	// The same fmt verbs in the same order, or a translation would print
	// %!s(MISSING).
	for k, f := range fr {
		if verbs(f) != verbs(en[k]) {
			t.Errorf("%q: French %q and English %q take different arguments", k, f, en[k])
		}
	}
}

func verbs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func TestFrenchTypography(t *testing.T) {
	for k, v := range fr {
		for _, bad := range []string{" ?", " !", " ;", " :", "« ", " »", "'"} {
			if strings.Contains(v, bad) {
				t.Errorf("%q = %q: %q should use a no-break space or ’", k, v, bad)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ header, fallback, want string }{
		{"", "fr", "fr"},
		{"en-GB,en;q=0.9", "fr", "en"},
		{"en-GB;q=0.8, fr;q=0.9", "fr", "fr"},
		{"de-DE,de;q=0.9", "fr", "fr"},
		{"de-DE,de;q=0.9", "en", "en"},
		{"de, en;q=0.1", "fr", "en"},
		{"*", "en", "en"},
		{"en;q=0", "fr", "fr"},
		{"en;q=bogus", "fr", "fr"},
		{"FR-fr", "en", "fr"},
		{"xx", "zz", "fr"},
		{strings.Repeat("de,", 1000) + "en", "fr", "fr"},
	} {
		if got := Negotiate(c.header, c.fallback); got != c.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", c.header, c.fallback, got, c.want)
		}
	}
}

func TestPrinter(t *testing.T) {
	fr, en := New("fr"), New("en")
	if got := fr.Number(1234567); got != "1\u202f234\u202f567" {
		t.Errorf("fr.Number = %q", got)
	}
	if got := en.Number(-1234); got != "-1,234" {
		t.Errorf("en.Number = %q", got)
	}
	if got := fr.N("import.more", 0); got != "… et 0 autre ligne rejetée" {
		t.Errorf("fr.N(0) = %q", got)
	}
	if got := en.N("import.more", 0); got != "… and 0 more rejected lines" {
		t.Errorf("en.N(0) = %q", got)
	}
	d := time.Date(2026, 1, 1, 9, 5, 0, 0, time.UTC)
	if got := fr.DateTime(d); got != "1er janvier 2026 à 09:05" {
		t.Errorf("fr.DateTime = %q", got)
	}
	if got := en.Date(d); got != "1 January 2026" {
		t.Errorf("en.Date = %q", got)
	}
	if got := fr.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	if New("de").Lang() != "fr" {
		t.Error("unsupported language does not fall back to French")
	}
}

// Each part of a catalogue owns its keys: a key written in two files would
// let the later one win in silence.
func TestCataloguePartsDoNotOverlap(t *testing.T) {
	for lang, parts := range map[string][]map[string]string{
		"fr": {fr, frReport, frConsent, frMailbox, frChecks, frLogin, frEditor, frConsole, frSettings, frOps},
		"en": {en, enReport, enConsent, enMailbox, enChecks, enLogin, enEditor, enConsole, enSettings, enOps},
	} {
		seen := map[string]bool{}
		for _, part := range parts {
			for k := range part {
				if seen[k] {
					t.Errorf("%s: %q is defined in two parts of the catalogue", lang, k)
				}
				seen[k] = true
			}
		}
	}
}
