package render

import (
	"strings"
	"testing"
)

func TestFrenchSpacing(t *testing.T) {
	const nb, nnb = "\u00a0", "\u202f"
	for _, tc := range []struct{ in, want string }{
		{"Édito : Tous solidaires", "Édito" + nb + ": Tous solidaires"},
		{"a 10 ans ! Et ; puis ?", "a 10 ans" + nb + "! Et" + nb + "; puis" + nb + "?"},
		{"des zones « blanches »", "des zones «" + nb + "blanches" + nb + "»"},
		{"plus de 127 000 heures et 40 000 €, 61 %", "plus de 127" + nb + "000 heures et 40" + nb + "000" + nb + "€, 61" + nb + "%"},
		// already right: kept as typed, narrow or not
		{"je serais" + nb + "?", "je serais" + nb + "?"},
		{"je serais" + nnb + "? « oui" + nnb + "»", "je serais" + nnb + "? «" + nb + "oui" + nnb + "»"},
		// left alone
		{"https://example.org:8080/a?b=c", "https://example.org:8080/a?b=c"},
		{"en 2010 2015 et 25 salariés", "en 2010 2015 et 25 salariés"},
		{": au début", ": au début"},
		{"Émile Zola", "Émile Zola"},
	} {
		if got := frenchSpacing(tc.in); got != tc.want {
			t.Errorf("frenchSpacing(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFrenchTypography: accents stay UTF-8, not entities; non-breaking
// spaces typed by staff (U+00A0 and the narrow U+202F) reach both parts
// unchanged; nothing is entity-encoded that need not be.
func TestFrenchTypography(t *testing.T) {
	body := "::: article title=\"Enquête\u202f: les TPE/PME ont-elles accès à la commande publique\u00a0?\"\n" +
		"Il ressort que 61\u00a0% des contrats… « faciliter l’accès » ; l'OECP a publié un guide\u202f! Œuvre, cœur, ça, où, À savoir.\n:::\n"
	html, text := renderBody(t, body, testOptions(), exampleRecipient())
	for _, want := range []string{
		"Enquête\u202f: les TPE/PME ont-elles accès à la commande publique\u00a0?",
		"61\u00a0% des contrats… «\u00a0faciliter l’accès\u00a0»\u00a0; l'OECP a publié un guide\u202f! Œuvre, cœur, ça, où, À savoir.",
	} {
		mustContain(t, "HTML", html, want)
		mustContain(t, "text", strings.ReplaceAll(text, "\n", " "), want)
	}
	mustNotContain(t, "HTML", html, "&nbsp;", "&#160;", "&#39;", "&#x27;", "&rsquo;", "&eacute;", "&agrave;", "&#34;")
	if !strings.Contains(html, `<meta charset="utf-8">`) {
		t.Errorf("HTML does not declare UTF-8")
	}
}

func TestFrenchSpacingOnlyInFrench(t *testing.T) {
	opts := testOptions()
	opts.Lang = "en"
	html, text := renderBody(t, "Note : yes !\n", opts, exampleRecipient())
	mustContain(t, "HTML", html, `lang="en"`, "Note : yes !")
	mustContain(t, "text", text, "Note : yes !")
}

func TestWrapLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"un deux trois", 72, []string{"un deux trois"}},
		{"un deux trois quatre", 10, []string{"un deux", "trois", "quatre"}},
		{"- un deux trois quatre", 12, []string{"- un deux", "  trois", "  quatre"}},
		{"12. un deux trois", 10, []string{"12. un", "    deux", "    trois"}},
		{"> un deux trois", 10, []string{"> un deux", "> trois"}},
		{"[3] https://example.org/a/very/long/path", 10, []string{"[3] https://example.org/a/very/long/path"}},
		{"je serais\u00a0? oui", 12, []string{"je serais\u00a0?", "oui"}},
		{"éèê àâä ôöü", 7, []string{"éèê àâä", "ôöü"}},
	} {
		got := wrapLine(tc.in, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapLine(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestUnderline(t *testing.T) {
	if got, want := underline("Édito", '='), "Édito\n====="; got != want {
		t.Errorf("underline = %q, want %q", got, want)
	}
	long := strings.Repeat("mot ", 25)
	got := underline(long, '-')
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || len([]rune(lines[2])) != len([]rune(lines[0])) {
		t.Errorf("underline(long) = %q, want two lines of text underlined to the longest", got)
	}
}
