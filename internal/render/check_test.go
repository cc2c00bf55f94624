package render

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/edition"
	"bulletin/internal/i18n"
)

// findings formats findings one per line, for comparison.
func findings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}

// checkBody checks body written after testFront, with files next to it.
func checkBody(t *testing.T, opts Options, front, body string, files map[string][]byte) ([]Finding, *edition.Edition) {
	t.Helper()
	ed := testEdition(t, body, files)
	if front != "" {
		var err error
		ed, err = edition.Parse(ed.Path, []byte(front+body))
		if err != nil {
			t.Fatal(err)
		}
	}
	tm, err := Load("", opts)
	if err != nil {
		t.Fatal(err)
	}
	return Check(tm, ed), ed
}

func TestCheck(t *testing.T) {
	png := tinyPNG(t, 40, 20)
	line := func(n int) string { return fmt.Sprintf("edition.md:%d", testFrontLines+n) }
	local := testOptions()
	local.PublicURL = "http://localhost:8080"
	noPublic := testOptions()
	noPublic.PublicURL = ""
	for _, tc := range []struct {
		name  string
		opts  Options
		front string
		body  string
		files map[string][]byte
		want  []string // "severity where substring", in order; none means clean
	}{
		{name: "clean", body: "Texte, [lien](https://example.org) et [écrire](mailto:contact@example.org).\n\n![Logo](logo.png)\n", files: map[string][]byte{"logo.png": png}},
		{name: "image block without alt", body: "x\n\n::: image src=\"https://example.org/a.png\"\n:::\n",
			want: []string{"error " + line(3) + ` image "https://example.org/a.png" has no alt text`}},
		{name: "markdown image without alt", body: "x\n\n![](https://example.org/a.png)\n",
			want: []string{"error " + line(3) + " has no alt text"}},
		{name: "local image missing", body: "![Photo](photo.png)\n",
			want: []string{"error " + line(1) + ` image "photo.png": no such file next to the edition`}},
		{name: "local image leaves the folder", body: "![Photo](../photo.png)\n",
			want: []string{"error " + line(1) + ` image "../photo.png" leaves the edition's folder`}},
		{name: "local image without public URL", opts: noPublic, body: "![Photo](photo.png)\n", files: map[string][]byte{"photo.png": png},
			want: []string{"error " + line(1) + " no public URL is set"}},
		{name: "local image on localhost", opts: local, body: "![A](a.png)\n\n![B](a.png)\n", files: map[string][]byte{"a.png": png},
			want: []string{"warning " + line(1) + " images are served from http://localhost:8080, which readers outside this network cannot reach"}},
		{name: "large local image", body: "![A](a.png)\n", files: map[string][]byte{"a.png": append(tinyPNG(t, 40, 20), make([]byte, MaxImageBytes)...)},
			want: []string{"warning " + line(1) + " over 1024 KB is slow"}},
		{name: "huge image in a small file", body: "![A](a.png)\n", files: map[string][]byte{"a.png": pngHeader(20000, 20000)},
			want: []string{"error " + line(1) + ` image "a.png" is 20000×20000 pixels: over 10000 pixels a side or 40 megapixels`}},
		{name: "too many pixels", body: "::: image src=\"a.png\" alt=\"A\"\n:::\n", files: map[string][]byte{"a.png": pngHeader(8000, 8000)},
			want: []string{"error " + line(1) + ` image "a.png" is 8000×8000 pixels`}},
		{name: "image not PNG, JPEG or GIF", body: "![A](a.webp)\n", files: map[string][]byte{"a.webp": []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")},
			want: []string{"error " + line(1) + ` image "a.webp" is not a PNG, JPEG or GIF image`}},
		{name: "rooted image", body: "![A](/images/a.png)\n",
			want: []string{"error " + line(1) + ` image "/images/a.png" is not reachable from a mail client`}},
		{name: "data image", body: "![A](data:image/png;base64,iVBORw0KGgo=)\n",
			want: []string{"error " + line(1) + " images embedded as data: are blocked"}},
		{name: "http image", body: "![A](http://example.org/a.png)\n",
			want: []string{"warning " + line(1) + " plain http"}},
		{name: "private host image", body: "![A](https://192.168.1.10/a.png)\n",
			want: []string{"warning " + line(1) + " a host readers outside this network cannot reach"}},
		{name: "bad links", body: "Un [fichier](rapport.pdf), une [ancre](#haut),\nun [script](javascript:alert(1)) et un [ftp](ftp://example.org/a).\n\n::: button href=\"file:///C:/lettre.doc\"\nOuvrir\n:::\n",
			want: []string{
				"error " + line(1) + ` link "rapport.pdf": only http(s):// and mailto: links work`,
				"error " + line(1) + ` link "#haut"`,
				"error " + line(2) + ` link "javascript:alert(1)"`,
				"error " + line(2) + ` link "ftp://example.org/a"`,
				"error " + line(4) + ` link "file:///C:/lettre.doc"`,
			}},
		{name: "image link", body: "::: image src=\"https://example.org/a.png\" alt=\"A\" link=\"www.example.org\"\n:::\n",
			want: []string{"error " + line(1) + ` link "www.example.org"`}},
		{name: "raw HTML", body: "Texte\n\n<div style=\"color:red\">collé de Word</div>\n",
			want: []string{"warning " + line(3) + " raw HTML is not rendered"}},
		{name: "long subject", front: "---\ntitle: t\ndate: 2026-04-15\npreheader: p\nsubject: " + strings.Repeat("é", 81) + "\n---\n", body: "x\n",
			want: []string{"warning edition.md:5 subject is 81 characters long"}},
		{name: "no preheader", front: "---\ntitle: t\ndate: 2026-04-15\nsubject: s\n---\n", body: "x\n",
			want: []string{"warning edition.md:1 no preheader"}},
		{name: "too big for Gmail", body: strings.Repeat("Un paragraphe de texte assez long pour remplir la lettre bien au-delà de la limite.\n\n", 1300),
			want: []string{"error edition.md the HTML is", "Gmail clips messages over 102 KB"}},
		{name: "close to Gmail's limit", body: strings.Repeat("Un paragraphe de texte assez long pour remplir la lettre bien au-delà de la limite.\n\n", 800),
			want: []string{"warning edition.md the HTML is", "close to the 102 KB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Organisation == "" {
				opts = testOptions()
			}
			fs, _ := checkBody(t, opts, tc.front, tc.body, tc.files)
			got := findings(fs)
			if len(tc.want) == 0 {
				if got != "" {
					t.Errorf("Check = %s, want no findings", got)
				}
				return
			}
			wantLines := 0
			for _, w := range tc.want {
				if strings.HasPrefix(w, "error ") || strings.HasPrefix(w, "warning ") {
					wantLines++
				}
			}
			if len(fs) != wantLines {
				t.Errorf("Check gave %d findings, want %d:\n%s", len(fs), wantLines, got)
			}
			i := 0
			for _, w := range tc.want {
				sev, rest, ok := strings.Cut(w, " ")
				if !ok || sev != "error" && sev != "warning" {
					// a continuation: more text the previous finding must hold
					if i == 0 || !strings.Contains(fs[i-1].Message.String(), w) {
						t.Errorf("finding %d does not contain %q:\n%s", i, w, got)
					}
					continue
				}
				if i >= len(fs) {
					t.Errorf("missing finding %q", w)
					continue
				}
				where, msg, _ := strings.Cut(rest, " ")
				f := fs[i]
				i++
				if f.Severity.String() != sev || !strings.HasSuffix(f.Where, where) || !strings.Contains(f.Message.String(), msg) {
					t.Errorf("finding = %s, want %s %s: …%s…", f, sev, where, msg)
				}
			}
			if HasErrors(fs) != strings.HasPrefix(tc.want[0], "error") && len(fs) == 1 {
				t.Errorf("HasErrors = %v for %s", HasErrors(fs), got)
			}
		})
	}
}

func TestCheckTemplateError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HTMLFile, "<html><body>\n<p>{{.Edition.Titre}}</p>\n</body></html>")
	tm, err := Load(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	fs := Check(tm, testEdition(t, "x\n", nil))
	want := filepath.Join(dir, HTMLFile) + ":2:"
	if len(fs) != 1 || fs[0].Severity != Error || !strings.HasPrefix(fs[0].Where, want) || !strings.Contains(fs[0].Message.String(), "Titre") {
		t.Errorf("Check = %s, want one error at %s… about Titre", findings(fs), want)
	}
}

func TestCheckLayoutImageWithoutAlt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HTMLFile, `<html><body><img src="https://example.org/logo.png"><a href="ftp://example.org">x</a></body></html>`)
	tm, err := Load(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	fs := Check(tm, testEdition(t, "x\n", nil))
	got := findings(fs)
	if len(fs) != 2 || !strings.Contains(got, "1 image(s) of the layout have no alt attribute") || !strings.Contains(got, `link "ftp://example.org"`) {
		t.Errorf("Check = %s, want the layout's image without alt and its ftp link", got)
	}
}

func TestSeverity(t *testing.T) {
	f := Finding{Severity: Warning, Where: "e.md:3", Message: i18n.Text("m")}
	if got, want := f.String(), "e.md:3: warning: m"; got != want {
		t.Errorf("Finding.String() = %q, want %q", got, want)
	}
	if HasErrors([]Finding{f}) {
		t.Errorf("HasErrors(warning) = true, want false")
	}
	if !HasErrors([]Finding{f, {Severity: Error}}) {
		t.Errorf("HasErrors(warning, error) = false, want true")
	}
}

func TestSplitWhere(t *testing.T) {
	for _, tc := range []struct{ in, where, msg string }{
		{"embedded:edition.html.tmpl:12:3: executing x", "embedded:edition.html.tmpl:12:3", "executing x"},
		{"templates/edition.html.tmpl:4: unexpected EOF", "templates/edition.html.tmpl:4", "unexpected EOF"},
		{"no place here", "", "no place here"},
	} {
		if w, m := splitWhere(tc.in); w != tc.where || m != tc.msg {
			t.Errorf("splitWhere(%q) = %q, %q, want %q, %q", tc.in, w, m, tc.where, tc.msg)
		}
	}
}

// pngHeader returns the start of a w×h PNG: enough for image.DecodeConfig,
// as a huge image of one colour is a small file.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	b := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), uint32(len(ihdr)-4))
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}
