package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/config"
	"bulletin/internal/store/pgtest"
)

// run runs the command line in dir with a config whose store lives there.
func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), append([]string{"--config", filepath.Join(dir, "config.yaml")}, args...), &out, &errOut)
	return out.String(), err
}

func setup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(storeYAML(t, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// setupSQLite is setup with the store in a SQLite file, in the run on
// PostgreSQL too, for the tests of the file itself.
func setupSQLite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", "store:\n  path: "+filepath.Join(dir, "bulletin.db")+"\n")
	return dir
}

// storeYAML returns the store section of a test's config.yaml: the SQLite
// file in dir or, in the run on PostgreSQL (BULLETIN_TEST_STORE=postgres),
// a new PostgreSQL database, dir still holding the local files.
func storeYAML(t *testing.T, dir string) string {
	t.Helper()
	yaml := "store:\n  path: " + filepath.Join(dir, "bulletin.db") + "\n"
	if pgtest.Postgres() {
		yaml += "  driver: postgres\n  dsn: " + pgtest.DSN(t) + "\n"
	}
	return yaml
}

// storeLocation returns where the store of dir's config.yaml lives, for
// store.Open.
func storeLocation(t *testing.T, dir string) string {
	t.Helper()
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Store.Location()
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), nil, &out, &out); err != nil || !strings.Contains(out.String(), "import") {
		t.Errorf("Run() = %v, output %q; want the help", err, out.String())
	}
	err := Run(context.Background(), []string{"frobnicate"}, &out, &out)
	if ExitCode(err, &out) != 2 {
		t.Errorf("unknown command: exit code %d, want 2", ExitCode(err, &out))
	}
	err = Run(context.Background(), []string{"subscriber"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "subscriber show") {
		t.Errorf("group without subcommand = %v, want the subcommands listed", err)
	}
	var help bytes.Buffer
	err = Run(context.Background(), []string{"import", "--help"}, &help, &help)
	if !errors.Is(err, flag.ErrHelp) || ExitCode(err, &help) != 0 || !strings.Contains(help.String(), "-dry-run") {
		t.Errorf("import --help = %v, %q", err, help.String())
	}
}

func TestBadConfigStopsEverything(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("server:\n  listen: 127.0.0.1:0\nsmtp:\n  port: soon\n"), 0o600)
	_, err := run(t, dir, "serve")
	if err == nil || !strings.Contains(err.Error(), "config.yaml:4: smtp.port") {
		t.Errorf("serve with a bad config = %v, want an error naming config.yaml:4 and smtp.port", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "data")); statErr == nil {
		t.Error("serve created its data folder despite the bad config")
	}
}

func TestImportExportShowErase(t *testing.T) {
	dir := setup(t)
	out, err := run(t, dir, "import", "../../subscribers/sample.csv", "--list", "Partenaires", "--create-list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"added: 280", "suppressed: 20", "rejected: 0", "Courriel → email"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, dir, "import", "../../subscribers/sample.csv"); ExitCode(err, &bytes.Buffer{}) != 2 {
		t.Errorf("import without --list = %v, want a usage error", err)
	}

	exported := filepath.Join(dir, "export.csv")
	if _, err := run(t, dir, "export", "--list", "Partenaires", "--out", exported); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(exported)
	if lines := strings.Count(string(src), "\n"); lines != 301 {
		t.Errorf("export has %d lines, want 301", lines)
	}
	if !strings.HasPrefix(string(src), "email,first_name,last_name,organisation,status,") || !strings.Contains(string(src), "unsubscribed") {
		t.Errorf("export starts %q", string(src)[:80])
	}
	// What Bulletin exports, Bulletin re-imports without change.
	out, err = run(t, dir, "import", exported, "--list", "Partenaires", "--create-list")
	if err != nil || !strings.Contains(out, "unchanged: 280") || !strings.Contains(out, "suppressed: 20") {
		t.Errorf("re-import of the export = %v:\n%s", err, out)
	}

	out, err = run(t, dir, "subscriber", "show", "Megane.Lambert@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown["first_name"] != "Mégane" || shown["status"] != "active" {
		t.Errorf("subscriber show = %v, %v", shown, err)
	}
	if _, err := run(t, dir, "subscriber", "erase", "megane.lambert@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, "subscriber", "show", "megane.lambert@example.org"); err == nil {
		t.Error("an erased subscriber can still be shown")
	}
	backup := filepath.Join(dir, "backup.db")
	out, err = run(t, dir, "backup", backup)
	if pgtest.Postgres() { // PostgreSQL's own tools back it up: backup names them
		if err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("backup on PostgreSQL = %v, %q; want a refusal naming pg_dump", err, out)
		}
	} else if err != nil || !strings.Contains(out, backup) {
		t.Errorf("backup = %v, %q", err, out)
	}
}
