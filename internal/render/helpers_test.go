package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/edition"
)

// testFront is the front matter of the small editions tests write.
const testFront = `---
title: Lettre de test
quarter: T2 2026
date: 2026-04-15
subject: Lettre de test
preheader: Un aperçu
---
`

// testFrontLines is how many lines testFront takes.
const testFrontLines = 7

// testOptions are neutral options for tests: a public URL, so that local
// images are reachable.
func testOptions() Options {
	return Options{
		Organisation: "MICS 34",
		Address:      []string{"59 Avenue de Fès", "34080 Montpellier"},
		Social:       []Link{{Name: "Facebook", URL: "https://www.facebook.com/mics34"}},
		PublicURL:    "https://lettre.example.org",
	}
}

// testEdition writes body after testFront into edition.md in a temporary
// folder, with the given extra files, and parses it.
func testEdition(t testing.TB, body string, files map[string][]byte) *edition.Edition {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lettre-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "edition.md")
	if err := os.WriteFile(path, []byte(testFront+body), 0o644); err != nil {
		t.Fatal(err)
	}
	ed, err := edition.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ed
}

// renderBody prepares body with the embedded layout and renders it for r.
func renderBody(t testing.TB, body string, opts Options, r Recipient) (html, text string) {
	t.Helper()
	tm, err := Load("", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tm.Prepare(testEdition(t, body, nil))
	if err != nil {
		t.Fatal(err)
	}
	m := p.Render(r)
	return string(m.HTML), string(m.Text)
}

// mustContain fails for each want missing from got.
func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// mustNotContain fails for each bad string found in got.
func mustNotContain(t *testing.T, what, got string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(got, b) {
			t.Errorf("%s contains %q", what, b)
		}
	}
}

// tinyPNG returns a w×h PNG.
func tinyPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	c := newCanvas(w, h)
	c.fill(hexRGBA("#0f5c6e"))
	var b strings.Builder
	if err := encodePNG(&b, c); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
