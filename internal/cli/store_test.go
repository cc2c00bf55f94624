package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

// The tests run twice: on SQLite, then on PostgreSQL (see pgtest.Both).
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// setupPostgres writes, in a new folder, a configuration whose store is the
// PostgreSQL database dsn.
func setupPostgres(t *testing.T, dsn string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "store:\n  driver: postgres\n  dsn: " + dsn + "\n  path: " + filepath.Join(dir, "bulletin.db") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copiedRows returns the source and target rows "store copy" printed for
// table.
func copiedRows(t *testing.T, out, table string) (int, int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + table + `\s+(\d+)\s+(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("store copy printed no line for %s:\n%s", table, out)
	}
	src, _ := strconv.Atoi(m[1])
	dst, _ := strconv.Atoi(m[2])
	return src, dst
}

// A SQLite database moved to PostgreSQL with "store copy", then back to
// another SQLite file, exports the same subscribers; a second copy into the
// same database is refused; "version" reads the schema level on PostgreSQL.
func TestStoreCopy(t *testing.T) {
	dir := setupSQLite(t)
	if _, err := run(t, dir, "import", "../../subscribers/sample.csv", "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, "subscriber", "erase", "megane.lambert@example.org"); err != nil {
		t.Fatal(err)
	}
	exportOf := func(dir string) string {
		t.Helper()
		file := filepath.Join(dir, "export.csv")
		if _, err := run(t, dir, "export", "--list", "Partenaires", "--out", file); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(file)
		return string(b)
	}
	want := exportOf(dir)

	dsn := pgtest.DSN(t)
	pgDir := setupPostgres(t, dsn)
	// Before the copy, the database exists but holds no table of ours.
	out, err := run(t, pgDir, "version")
	if err != nil || !strings.Contains(out, "not created yet") {
		t.Errorf("version on an empty PostgreSQL database = %v:\n%s", err, out)
	}

	out, err = run(t, dir, "store", "copy", "--to", dsn)
	if err != nil {
		t.Fatalf("store copy to PostgreSQL = %v:\n%s", err, out)
	}
	if src, dst := copiedRows(t, out, "subscribers"); src != 299 || dst != 299 {
		t.Errorf("subscribers: %d in the source, %d in the target; want 299 (300 less one erased)", src, dst)
	}
	if src, dst := copiedRows(t, out, "suppressions"); src != 1 || dst != 1 {
		t.Errorf("suppressions: %d, %d; want the erased address", src, dst)
	}
	if strings.Contains(out, "schema_migrations") || strings.Contains(out, "differs") {
		t.Errorf("store copy output:\n%s", out)
	}

	// Copying again into the same database is refused, and adds nothing.
	var stderr bytes.Buffer
	out, err = run(t, dir, "store", "copy", "--to", dsn)
	if ExitCode(err, &stderr) != 1 || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "rows") {
		t.Errorf("second store copy = %v, exit code %d, want a refusal: the target is not empty", err, ExitCode(err, &stderr))
	}
	if got := exportOf(pgDir); got != want {
		t.Errorf("the PostgreSQL copy exports differently after the refused copy:\n%s\nwant\n%s", got, want)
	}

	// version reads PostgreSQL without migrating it, and shows no password.
	lvl, err := store.ReadSchemaLevel(t.Context(), dsn)
	if err != nil || lvl.Applied == 0 || lvl.Applied != lvl.Known {
		t.Fatalf("ReadSchemaLevel(PostgreSQL) = %+v, %v; want applied = known > 0", lvl, err)
	}
	out, err = run(t, pgDir, "version")
	if wantLine := "at migration " + strconv.Itoa(lvl.Known) + " (" + lvl.KnownName + "), up to date"; err != nil || !strings.Contains(out, wantLine) {
		t.Errorf("version on PostgreSQL = %v, lacks %q:\n%s", err, wantLine, out)
	}

	// And back to SQLite: the same subscribers.
	back := filepath.Join(t.TempDir(), "back.db")
	out, err = run(t, pgDir, "store", "copy", "--to", back)
	if err != nil {
		t.Fatalf("store copy to SQLite = %v:\n%s", err, out)
	}
	if src, dst := copiedRows(t, out, "subscribers"); src != 299 || dst != 299 {
		t.Errorf("back to SQLite: subscribers %d, %d; want 299", src, dst)
	}
	backDir := t.TempDir()
	os.WriteFile(filepath.Join(backDir, "config.yaml"), []byte("store:\n  path: "+back+"\n"), 0o600)
	if got := exportOf(backDir); got != want {
		t.Errorf("after SQLite → PostgreSQL → SQLite the export differs:\n%s\nwant\n%s", got, want)
	}
	out, err = run(t, backDir, "subscriber", "show", "megane.lambert@example.org")
	if err == nil {
		t.Errorf("the erased subscriber is back after the round trip:\n%s", out)
	}
}

func TestStoreCopyUsage(t *testing.T) {
	dir := setupSQLite(t)
	var stderr bytes.Buffer
	for _, args := range [][]string{
		{"store", "copy"},
		{"store", "copy", "--to", filepath.Join(dir, "bulletin.db")},
		{"store", "copy", "--to", filepath.Join(dir, ".", "bulletin.db"), "extra"},
	} {
		if _, err := run(t, dir, args...); ExitCode(err, &stderr) != 2 {
			t.Errorf("%v = %v, want a usage error", args, err)
		}
	}
	// A copy into the database itself, however its file is written: refused.
	if _, err := run(t, dir, "store", "copy", "--to", filepath.Join(dir, "x", "..", "bulletin.db")); err == nil || !strings.Contains(err.Error(), "another one") {
		t.Errorf("copy into itself = %v, want a refusal", err)
	}
}

func TestPrintCopyMarksDifferences(t *testing.T) {
	var out bytes.Buffer
	printCopy(&out, store.CopyReport{Tables: []store.TableCount{{Table: "lists", Source: 2, Target: 2}, {Table: "subscribers", Source: 300, Target: 299}}})
	if !strings.Contains(out.String(), "subscribers                     300        299  differs") || strings.Contains(out.String(), "lists                  2          2  differs") ||
		!strings.Contains(out.String(), "2 tables, 302 rows copied") {
		t.Errorf("printCopy:\n%s", out.String())
	}
}

// A PostgreSQL database that cannot be reached: version says so without
// showing the password of the connection string.
func TestVersionHidesPassword(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("store:\n  driver: postgres\n  path: "+filepath.Join(dir, "bulletin.db")+"\n"), 0o600)
	t.Setenv("BULLETIN_STORE_DSN", "postgres://bulletin:hunter2-secret@127.0.0.1:1/bulletin?connect_timeout=5")
	out, err := run(t, dir, "version")
	if err == nil {
		t.Fatalf("version on an unreachable database = nil error:\n%s", out)
	}
	if strings.Contains(err.Error()+out, "hunter2") || !strings.Contains(err.Error(), "bulletin:xxxxx@127.0.0.1:1") {
		t.Errorf("version on an unreachable database = %v; want the URL without its password", err)
	}
}
