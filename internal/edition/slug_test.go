package edition

import "testing"

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Édition spéciale":             "edition-speciale",
		"Lettre d’information n° 12":   "lettre-d-information-n-12",
		"  Œuvres & cœur, Ægée  ":      "oeuvres-coeur-aegee",
		"Été 2020 — 10 ans !":          "ete-2020-10-ans",
		"Ýves, Ñandú, Ångström, Čapek": "yves-nandu-angstrom-capek",
		"---":                          "",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
