package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openStore opens the store of a setup directory, for what no command does
// (an edition stored before its checks existed, a campaign row by hand).
func openStore(t *testing.T, dir string) *store.Storage {
	t.Helper()
	st, err := store.Open(context.Background(), storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const goodEdition = "---\ntitle: Lettre 10\nsubject: La lettre de printemps\npreheader: Dix ans\ndate: 2026-03-20\n---\n\nBonjour.\n"

// A line break in a subject used to pass every check and pause the
// campaign at its first message, when the relay refused the header.
func TestEditionLineBreakRefused(t *testing.T) {
	dir := setup(t)
	bad := writeFile(t, dir, "lettre.md", "---\ntitle: Lettre 10\ndate: 2026-03-20\nsubject: |\n  La lettre\n  Bcc: everyone@example.org\n---\n\nBonjour.\n")
	for _, args := range [][]string{
		{"edition", "check", bad},
		{"edition", "add", bad},
		{"campaign", "create", "--edition", bad, "--list", "Partenaires"},
	} {
		_, err := run(t, dir, args...)
		if err == nil || !strings.Contains(err.Error(), bad+":4: front matter: subject contains a line break (U+000A") {
			t.Errorf("%s = %v, want %s:4 and the line break named", strings.Join(args[:2], " "), err, bad)
		}
	}
	if out, _ := run(t, dir, "edition", "ls"); strings.Contains(out, "lettre") {
		t.Errorf("edition ls after a refused add:\n%s", out)
	}
	pre := writeFile(t, dir, "pre.md", "---\ntitle: Lettre\ndate: 2026-03-20\nsubject: Lettre\npreheader: \"Dix ans\\rde clauses\"\n---\n\nBonjour.\n")
	if _, err := run(t, dir, "edition", "check", pre); err == nil || !strings.Contains(err.Error(), pre+":5: front matter: preheader contains a line break (U+000D") {
		t.Errorf("edition check with a CR in the preheader = %v", err)
	}

	// An edition stored before the check existed cannot be sent either.
	if _, err := run(t, dir, "list", "create", "Partenaires"); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, dir)
	src, _ := os.ReadFile(bad)
	if _, err := st.SaveEdition(context.Background(), &store.Edition{Slug: "ancienne", Title: "Lettre 10", Source: string(src)}); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, "campaign", "create", "--edition", "ancienne", "--list", "Partenaires"); err == nil || !strings.Contains(err.Error(), "edition ancienne:4: front matter: subject contains a line break") {
		t.Errorf("campaign create of a stored edition with a line break = %v", err)
	}

	// Nor can a subject or sender given to the campaign itself.
	good := writeFile(t, dir, "bonne.md", goodEdition)
	for _, flag := range [][]string{
		{"--subject", "Lettre\r\nBcc: everyone@example.org"},
		{"--from", "=?utf-8?q?MICS=0D=0AX?= <lettre@example.org>"},
	} {
		args := append([]string{"campaign", "create", "--edition", good, "--list", "Partenaires"}, flag...)
		if _, err := run(t, dir, args...); err == nil || !strings.Contains(err.Error(), "contains a line break") {
			t.Errorf("campaign create %s = %v, want the line break refused", flag[0], err)
		}
	}
	if out, err := run(t, dir, "campaign", "list"); err != nil || strings.Contains(out, "Lettre") {
		t.Errorf("campaign list after refused creations = %v:\n%s", err, out)
	}
	if out, err := run(t, dir, "campaign", "create", "--edition", good, "--list", "Partenaires"); err != nil {
		t.Errorf("campaign create of a good edition = %v:\n%s", err, out)
	}
	// A campaign saved with such a subject before the check is not sent.
	ctx := context.Background()
	se, err := st.EditionBySlug(ctx, "bonne")
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.ListByName(ctx, "Partenaires")
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Ancienne", EditionID: se.ID, Subject: "Lettre\nBcc: everyone@example.org", From: "MICS 34 <lettre@example.org>", ListIDs: []int64{l.ID}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, "campaign", "send", "Ancienne"); err == nil || !strings.Contains(err.Error(), "campaign subject contains a line break") {
		t.Errorf("campaign send with a line break in its subject = %v", err)
	}
	if got, err := st.CampaignByID(ctx, c.ID); err != nil || got.State != store.Draft {
		t.Errorf("campaign after a refused send = %v, %v; want a draft", got, err)
	}
}

// A filter on an attribute nobody has used to send to no one and mark the
// campaign sent.
func TestFilterOnUnknownAttributeRefused(t *testing.T) {
	dir := setup(t)
	csv := writeFile(t, dir, "partenaires.csv", "email;prenom;secteur\na@example.org;Anne;BTP\nb@example.org;Bruno;Public\n")
	if _, err := run(t, dir, "import", csv, "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	ed := writeFile(t, dir, "lettre.md", goodEdition)
	create := func(filter string) error {
		_, err := run(t, dir, "campaign", "create", "--edition", ed, "--list", "Partenaires", "--filter", filter, "--name", "Lettre "+filter)
		return err
	}
	if err := create("secteur=BTP"); err != nil {
		t.Fatalf("campaign create --filter secteur=BTP = %v", err)
	}
	for filter, want := range map[string]string{
		"sector=BTP":            `filter: no subscriber on Partenaires has the attribute "sector", so the campaign would go to no one (attributes they have: secteur)`,
		"secteur=BTP,ville!=x":  `has the attribute "ville", so the campaign would go to everyone`,
		"Secteur=BTP":           `did you mean "secteur"?`,
		"secteur=BTP,=x":        `bad attribute name`,
		"secteur=BTP,secteurBT": `expected key=value`,
	} {
		if err := create(filter); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("campaign create --filter %s = %v, want %q", filter, err, want)
		}
	}

	// A campaign whose filter no longer matches anyone's attributes (made
	// before this check, or the attribute gone since) is not scheduled or
	// sent.
	st := openStore(t, dir)
	ctx := context.Background()
	se, err := st.EditionBySlug(ctx, "lettre")
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.ListByName(ctx, "Partenaires")
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Ancienne", EditionID: se.ID, Subject: "Lettre", From: "MICS 34 <lettre@example.org>",
		Filter: "sector=BTP", ListIDs: []int64{l.ID}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"campaign", "send", "Ancienne"},
		{"campaign", "schedule", "Ancienne", "--at", time.Now().Add(48 * time.Hour).Format("2006-01-02 15:04")},
	} {
		if _, err := run(t, dir, args...); err == nil || !strings.Contains(err.Error(), `the attribute "sector"`) {
			t.Errorf("%s = %v, want the attribute named", strings.Join(args[:2], " "), err)
		}
	}
	got, err := st.CampaignByID(ctx, c.ID)
	if err != nil || got.State != store.Draft {
		t.Errorf("campaign after refused send = %v, %v; want a draft", got, err)
	}
}

// A file from a partner used to rename people who had unsubscribed, without
// a word in the report.
func TestImportReportsSuppressedRows(t *testing.T) {
	dir := setup(t)
	first := writeFile(t, dir, "first.csv", "email;prenom;status\nanne@example.org;Anne;unsubscribed\nbruno@example.org;Bruno;active\n")
	if _, err := run(t, dir, "import", first, "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	second := writeFile(t, dir, "second.csv", "email;prenom;organisation\nbruno@example.org;Bruno;Mairie\nanne@example.org;Annie;Partenaire SA\n")
	out, err := run(t, dir, "import", second, "--list", "Partenaires", "--create-list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"updated: 1", "suppressed: 1 ", "  line 3: anne@example.org is unsubscribed: left suppressed; the name and details in the file were not applied", "rejected: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, dir, "subscriber", "show", "anne@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown["first_name"] != "Anne" || shown["status"] != "unsubscribed" {
		t.Errorf("subscriber show = %v, %v; want Anne, still unsubscribed", shown, err)
	}
}

// One Latin-1 line in a UTF-8 file used to make the whole file read as
// Windows-1252, garbling every accented UTF-8 name.
func TestImportMixedEncodingRefused(t *testing.T) {
	dir := setup(t)
	mixed := writeFile(t, dir, "mixed.csv", "email;prenom\nhelene@example.org;Hélène\nandre@example.org;Andr\xe9\nzoe@example.org;Zoé\n")
	_, err := run(t, dir, "import", mixed, "--list", "Partenaires", "--create-list")
	if err == nil || !strings.Contains(err.Error(), mixed+": the file mixes two encodings: line 3 is not UTF-8") {
		t.Errorf("import of a mixed file = %v, want line 3 named", err)
	}
	if _, err := run(t, dir, "subscriber", "show", "helene@example.org"); err == nil {
		t.Error("a refused file imported rows")
	}
	// The same names, all in Windows-1252, import as they are.
	latin := writeFile(t, dir, "latin.csv", "email;prenom\nhelene@example.org;H\xe9l\xe8ne\nandre@example.org;Andr\xe9\n")
	if _, err := run(t, dir, "import", latin, "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, dir, "subscriber", "show", "helene@example.org")
	if !strings.Contains(out, `"Hélène"`) {
		t.Errorf("subscriber show after a Windows-1252 import:\n%s", out)
	}
}

// A configuration mistake stops the daemon before it opens anything, naming
// the file, line and key.
func TestConfigMistakesStopServe(t *testing.T) {
	for name, tc := range map[string]struct{ cfg, want string }{
		"key twice":      {"server:\n  listen: 127.0.0.1:0\n  listen: 127.0.0.1:0\n", "config.yaml:3: server.listen: given twice (first at line 2)"},
		"zero ttl":       {"server:\n  listen: 127.0.0.1:0\n  session_ttl: 0s\n", "config.yaml:3: server.session_ttl: must be longer than 0s"},
		"store a folder": {"server:\n  listen: 127.0.0.1:0\nstore:\n  path: DIR\n", "config.yaml:4: store.path: "},
		"binary":         {"server:\n  listen: 127.0.0.1:0\x00\n", "config.yaml:2: server.listen: binary data"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "config.yaml", strings.ReplaceAll(tc.cfg, "DIR", dir))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := Run(ctx, []string{"--config", filepath.Join(dir, "config.yaml"), "serve"}, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve = %v, want %q", err, tc.want)
			}
			if _, statErr := os.Stat(filepath.Join(dir, "data")); statErr == nil {
				t.Error("serve created its data folder despite the bad config")
			}
		})
	}
}
