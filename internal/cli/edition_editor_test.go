package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bulletin/internal/edition"
)

const example = "../../docs/examples/2020-edition-10-ans/edition.md"

// TestEditionRenderOutSelfContained: a preview written to a file shows its
// images without a daemon: none points at the local public URL, each is
// embedded and decodes.
func TestEditionRenderOutSelfContained(t *testing.T) {
	dir := setup(t)
	out := filepath.Join(dir, "apercu.html")
	if _, err := run(t, dir, "edition", "render", example, "--out", out); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	imgs := regexp.MustCompile(`<img[^>]*\ssrc="([^"]+)"`).FindAllSubmatch(page, -1)
	if len(imgs) < 3 {
		t.Fatalf("preview has %d images, want the edition's 3 at least", len(imgs))
	}
	for _, m := range imgs {
		src := string(m[1])
		if strings.Contains(src, "127.0.0.1") {
			t.Errorf("image %s needs the daemon", src)
			continue
		}
		data, ok := strings.CutPrefix(src, "data:image/png;base64,")
		if !ok {
			t.Errorf("image %.60s is not embedded", src)
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Errorf("image: %v", err)
			continue
		}
		if _, _, err := image.DecodeConfig(bytes.NewReader(raw)); err != nil {
			t.Errorf("embedded image does not decode: %v", err)
		}
	}
}

// TestEditionCheckUnknownList: edition check warns, without failing, about
// a list the edition names that the store does not have.
func TestEditionCheckUnknownList(t *testing.T) {
	dir := setup(t)
	if _, err := run(t, dir, "list", "create", "Partenaires"); err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, dir, "lettre.md", "---\ntitle: Lettre\ndate: 2026-03-20\nsubject: Lettre\npreheader: Nouvelles\nlists: [Partenaires, Acheteurs]\n---\n\nBonjour.\n")
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"--config", filepath.Join(dir, "config.yaml"), "edition", "check", f}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("edition check = %v\n%s", err, stderr.String())
	}
	if want := f + `:6: warning: list “Acheteurs” does not exist`; !strings.Contains(stderr.String(), want) {
		t.Errorf("edition check stderr = %q, want %q", stderr.String(), want)
	}
	if strings.Contains(stderr.String(), "“Partenaires”") {
		t.Errorf("edition check warns about an existing list: %s", stderr.String())
	}
}

// TestCampaignCreateEditionLists: without --list, a campaign goes to the
// lists the edition names.
func TestCampaignCreateEditionLists(t *testing.T) {
	dir := setup(t)
	for _, l := range []string{"Partenaires", "Acheteurs"} {
		if _, err := run(t, dir, "list", "create", l); err != nil {
			t.Fatal(err)
		}
	}
	f := writeFile(t, dir, "lettre.md", "---\ntitle: Lettre\ndate: 2026-03-20\nsubject: Lettre\nlists: [Acheteurs]\n---\n\nBonjour.\n")
	if out, err := run(t, dir, "campaign", "create", "--edition", f); err != nil {
		t.Fatalf("campaign create without --list = %v\n%s", err, out)
	}
	st := openStore(t, dir)
	cs, err := st.Campaigns(context.Background())
	if err != nil || len(cs) != 1 {
		t.Fatalf("campaigns = %v, %v", cs, err)
	}
	if got := strings.Join(cs[0].Lists, ","); got != "Acheteurs" {
		t.Errorf("campaign lists = %q, want the edition's Acheteurs", got)
	}
	g := writeFile(t, dir, "sans.md", "---\ntitle: Sans\ndate: 2026-03-20\nsubject: Sans\n---\n\nBonjour.\n")
	if _, err := run(t, dir, "campaign", "create", "--edition", g); err == nil || !strings.Contains(err.Error(), "at least one list") {
		t.Errorf("campaign create with no lists anywhere = %v", err)
	}
}

// TestEditionNextAndCanonicalCheck: the next edition made on the command
// line, and the example written in the editor's canonical form, both pass
// edition check.
func TestEditionNextAndCanonicalCheck(t *testing.T) {
	dir := setup(t)
	// The example's images, for the check of local files.
	pngs, _ := filepath.Glob(filepath.Join(filepath.Dir(example), "*.png"))
	for _, p := range pngs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, filepath.Base(p), string(b))
	}
	cfg := storeYAML(t, dir) + "server:\n  public_url: https://lettre.example.org\n"
	writeFile(t, dir, "config.yaml", cfg)
	next := filepath.Join(dir, "next.md")
	if out, err := run(t, dir, "edition", "next", example, "--out", next); err != nil || !strings.Contains(out, "2e trimestre 2020") {
		t.Fatalf("edition next = %v\n%s", err, out)
	}
	ed, err := edition.ParseFile(example)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := edition.ToDoc(ed).Source(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := writeFile(t, dir, "canonical.md", string(canon))
	for _, f := range []string{next, c} {
		if out, err := run(t, dir, "edition", "check", f); err != nil {
			t.Errorf("edition check %s = %v\n%s", filepath.Base(f), err, out)
		}
	}
}
