package unaccent

import "testing"

func TestString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                    "",
		"boite":               "boite",
		"boîte pleine":        "boite pleine",
		"BOÎTE":               "BOITE",
		"Édition spéciale":    "Edition speciale",
		"àâäáãå ç éèêë îïíì":  "aaaaaa c eeee iiii",
		"ôöóòõ ùûüú ÿý ñ":     "ooooo uuuu yy n",
		"Überprüfung Señor":   "Uberprufung Senor",
		"œ æ ß ø ł":           "œ æ ß ø ł",
		"naïve café\u0301":    "naive cafe",
		"Łódź, Škoda, Dvořák": "Łodz, Skoda, Dvorak",
		"l’adresse":           "l’adresse",
		"\xff":                "\uFFFD",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkString(b *testing.B) {
	for b.Loop() {
		String("Votre boîte aux lettres est pleine : le message n'a pas été remis.")
	}
}
