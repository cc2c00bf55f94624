package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/edition"
	"bulletin/internal/links"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/editions")

// goldenDir holds the example edition rendered by the default layout.
const goldenDir = "../../testdata/editions"

// exampleOptions are the MICS 34's settings, as config.yaml would give them.
func exampleOptions(publicURL string) Options {
	return Options{
		Organisation: "Mission Interinstitutionnelle Clause Sociale 34 (MICS 34)",
		Address:      []string{"59 Avenue de Fès, Espace Bertin Sans", "Bâtiment C, 1er étage", "34080 Montpellier"},
		LogoURL:      links.MediaURL(publicURL, "2020-edition-10-ans", "logo-mics34.png"),
		Social:       []Link{{Name: "Facebook", URL: "https://www.facebook.com/mics34"}},
		PublicURL:    publicURL,
	}
}

// exampleRecipient is the subscriber the golden files are rendered for.
func exampleRecipient() Recipient {
	return Recipient{
		Email:          "claire.martin@herault.example",
		FirstName:      "Claire",
		LastName:       "Martin",
		UnsubscribeURL: "https://lettre.example.org/u/3f2a9c1e7b",
		WebViewURL:     "https://lettre.example.org/v/3f2a9c1e7b",
	}
}

func loadExample(t testing.TB, publicURL string) (*Templates, *edition.Edition) {
	t.Helper()
	ed, err := edition.ParseFile(filepath.Join(exampleDir, "edition.md"))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Load("../../templates", exampleOptions(publicURL))
	if err != nil {
		t.Fatal(err)
	}
	return tm, ed
}

// golden compares got with the named file in testdata/editions, or rewrites
// it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with go test ./internal/render -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(go test ./internal/render -update rewrites it)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: got %d lines, want %d (go test ./internal/render -update rewrites it)", name, len(gl), len(wl))
	}
}

func TestExampleGolden(t *testing.T) {
	tm, ed := loadExample(t, "https://lettre.example.org")
	p, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Render(exampleRecipient())
	golden(t, "2020-edition-10-ans.html", m.HTML)
	golden(t, "2020-edition-10-ans.txt", m.Text)

	if fs := Check(tm, ed); len(fs) != 0 {
		t.Errorf("Check(example) = %v, want no findings", fs)
	}
}
