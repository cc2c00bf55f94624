package render

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadReadsDiskEachTime: staff edit templates/ and the next Load uses
// the edit, no rebuild; a file missing from the folder falls back on the
// embedded default.
func TestLoadReadsDiskEachTime(t *testing.T) {
	dir := t.TempDir()
	ed := testEdition(t, "x\n", nil)
	writeFile(t, dir, HTMLFile, `<html><body><p>Version 1 : {{.Edition.Title}}</p></body></html>`)
	tm, err := Load(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if h, tx := tm.Sources(); h != filepath.Join(dir, HTMLFile) || tx != "embedded:"+TextFile {
		t.Errorf("Sources() = %q, %q, want the folder's HTML and the embedded text", h, tx)
	}
	p, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Render(exampleRecipient())
	mustContain(t, "HTML", string(m.HTML), "<p>Version 1\u00a0: Lettre de test</p>")
	mustContain(t, "text (embedded)", string(m.Text), "Bonjour Claire,")

	writeFile(t, dir, HTMLFile, `<html><body><p>Version 2</p></body></html>`)
	writeFile(t, dir, TextFile, `Texte 2 {{.Recipient.FirstName}}`)
	tm, err = Load(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err = tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	m = p.Render(exampleRecipient())
	mustContain(t, "HTML", string(m.HTML), "<p>Version 2</p>")
	if got := string(m.Text); got != "Texte 2 Claire\n" {
		t.Errorf("text = %q, want %q", got, "Texte 2 Claire\n")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HTMLFile, "<html>\n<body>\n{{.Edition.Title }|\n</body></html>")
	_, err := Load(dir, testOptions())
	want := filepath.Join(dir, HTMLFile) + ":3: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load(bad pipeline) error = %v, want it to start with %q", err, want)
	}

	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"colour", Options{Colors: Colors{Primary: "bleu"}}, `colour primary "bleu": want #rrggbb`},
		{"website", Options{Website: "www.example.org"}, `website "www.example.org": want an absolute http(s) URL`},
		{"logo", Options{LogoURL: "logo.png"}, `logo URL "logo.png"`},
		{"social", Options{Social: []Link{{Name: "Facebook", URL: "javascript:x"}}}, `social link "Facebook"`},
		{"logo width", Options{LogoWidth: 900}, "logo width 900"},
	} {
		if _, err := Load("", tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEmbeddedDefaultsParse(t *testing.T) {
	tm, err := Load("", Options{Organisation: "X"})
	if err != nil {
		t.Fatal(err)
	}
	if h, tx := tm.Sources(); h != "embedded:"+HTMLFile || tx != "embedded:"+TextFile {
		t.Errorf("Sources() = %q, %q, want the embedded files", h, tx)
	}
	if got := tm.Options(); got.Lang != "fr" || got.Colors != DefaultColors() || got.LogoWidth != 180 {
		t.Errorf("Options() = %+v, want defaults filled in", got)
	}
}

func TestTint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		f    float64
		want string
	}{
		{"#000000", 0.5, "#808080"},
		{"#0f5c6e", 0, "#0f5c6e"},
		{"#0f5c6e", 1, "#ffffff"},
		{"#abc", 0, "#aabbcc"},
	} {
		got, err := tint(tc.in, tc.f)
		if err != nil || string(got) != tc.want {
			t.Errorf("tint(%q, %v) = %q, %v, want %q", tc.in, tc.f, got, err, tc.want)
		}
	}
	if _, err := tint("red", 0.5); err == nil {
		t.Errorf("tint(red) = nil error, want one")
	}
}

// TestLocalImages: an image next to the edition is served under /media/,
// at its natural width when narrower than the column.
func TestLocalImages(t *testing.T) {
	html, _ := func() (string, string) {
		tm, err := Load("", testOptions())
		if err != nil {
			t.Fatal(err)
		}
		ed := testEdition(t, "![Petit](petit.png)\n\n![Grand](grand.png)\n", map[string][]byte{
			"petit.png": tinyPNG(t, 120, 40),
			"grand.png": tinyPNG(t, 1200, 40),
		})
		p, err := tm.Prepare(ed)
		if err != nil {
			t.Fatal(err)
		}
		m := p.Render(exampleRecipient())
		return string(m.HTML), string(m.Text)
	}()
	mustContain(t, "HTML", html,
		`<img src="https://lettre.example.org/media/lettre-test/petit.png" alt="Petit" width="120"`,
		`<img src="https://lettre.example.org/media/lettre-test/grand.png" alt="Grand" width="536"`,
	)
}
