package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI stays in English: the messages the console shows in the reader's
// language (an import's column mapping and rejected rows, an edition's
// findings) print here from the English catalogue.
func TestCLIPrintsEnglish(t *testing.T) {
	dir := setup(t)
	csv := writeFile(t, dir, "contacts.csv", "Email;Prénom;EMAIL_BLACKLISTED\njean.example.org;Jean;non\nmarie@example.org;Marie;oui\nmarie@example.org;Marie;oui\n")
	out, err := run(t, dir, "import", csv, "--list", "Partenaires", "--create-list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"EMAIL_BLACKLISTED → unsubscribed flag",
		`line 2: invalid address "jean.example.org": missing @`,
		"line 4: marie@example.org already appears on line 3",
		"marie@example.org: added as unsubscribed, as the file says",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	ed := writeFile(t, dir, "lettre.md", "---\ntitle: Lettre\nsubject: Lettre\ndate: 2026-03-20\n---\n\n![](http://example.org/a.png)\n")
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), []string{"--config", filepath.Join(dir, "config.yaml"), "edition", "check", ed}, &stdout, &stderr)
	if !strings.Contains(stderr.String(), `error: image "http://example.org/a.png" has no alt text`) ||
		!strings.Contains(stderr.String(), "warning: no preheader: mail clients will show") {
		t.Errorf("edition check = %v, output:\n%s", err, stderr.String())
	}
	bad := writeFile(t, dir, "bad.md", "---\ntitle: Lettre\nsubject: Lettre\ndate: 2026-03-20\nauteur: moi\n---\n\nBonjour.\n")
	if _, err := run(t, dir, "edition", "check", bad); err == nil || !strings.Contains(err.Error(), `front matter: unknown key "auteur"`) {
		t.Errorf("edition check of a bad key = %v", err)
	}
}
