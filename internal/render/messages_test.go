package render

import (
	"strings"
	"testing"

	"bulletin/internal/i18n"
)

// Findings carry catalogue keys: the console says them in French, the
// CLI (Finding.String) in English.
func TestFindingsInBothLanguages(t *testing.T) {
	local := testOptions()
	local.PublicURL = "http://localhost:8080"
	fs, _ := checkBody(t, local, "", "![](http://example.org/a.png)\n\n![B](b.png)\n", map[string][]byte{"b.png": tinyPNG(t, 40, 20)})
	fr := i18n.New("fr")
	want := []struct{ key, fr, en string }{
		{"check.image_no_alt", "l’image \"http://example.org/a.png\" n’a pas de texte alternatif", `image "http://example.org/a.png" has no alt text`},
		{"check.image_http", "l’image \"http://example.org/a.png\" est servie en http simple", `image "http://example.org/a.png" is served over plain http`},
		{"check.images_private", "les images sont servies depuis http://localhost:8080, que les lecteurs hors de ce réseau ne peuvent pas joindre",
			"images are served from http://localhost:8080, which readers outside this network cannot reach"},
	}
	if len(fs) != len(want) {
		t.Fatalf("Check = %s, want %d findings", findings(fs), len(want))
	}
	for i, w := range want {
		m := fs[i].Message
		if m.Key != w.key || !strings.Contains(fr.Msg(m), w.fr) || !strings.Contains(fs[i].String(), w.en) {
			t.Errorf("finding %d = %s: %q in French, %q in English; want %s, …%q…, …%q…", i, m.Key, fr.Msg(m), fs[i], w.key, w.fr, w.en)
		}
	}
}
