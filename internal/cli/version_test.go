package cli

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"bulletin/internal/store"
)

func TestVersion(t *testing.T) {
	dir := setupSQLite(t) // the test edits the file by hand
	db := filepath.Join(dir, "bulletin.db")
	// Before the first start: no database, and looking creates none.
	out, err := run(t, dir, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "bulletin ") || !strings.Contains(out, "not created yet") {
		t.Errorf("version before the first start:\n%s", out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	lvl, err := store.ReadSchemaLevel(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if lvl.Known == 0 || lvl.Applied != lvl.Known {
		t.Fatalf("ReadSchemaLevel after Open = %+v, want applied = known > 0", lvl)
	}
	out, err = run(t, dir, "version")
	if err != nil {
		t.Fatal(err)
	}
	if want := "at migration " + strconv.Itoa(lvl.Known) + " (" + lvl.KnownName + "), up to date"; !strings.Contains(out, want) {
		t.Errorf("version on a current database lacks %q:\n%s", want, out)
	}

	// A database one migration behind, as before an upgrade: version says
	// so and migrates nothing.
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = ?", lvl.Known); err != nil {
		t.Fatal(err)
	}
	behind, err := store.ReadSchemaLevel(context.Background(), db)
	if err != nil || behind.Applied >= lvl.Known || behind.Applied == 0 {
		t.Fatalf("ReadSchemaLevel one migration behind = %+v, %v", behind, err)
	}
	out, err = run(t, dir, "version")
	if err != nil {
		t.Fatal(err)
	}
	want := "at migration " + strconv.Itoa(behind.Applied) + " (" + behind.AppliedName + "); the next start applies the migrations after it, up to " + strconv.Itoa(lvl.Known)
	if !strings.Contains(out, want) {
		t.Errorf("version on a database behind lacks %q:\n%s", want, out)
	}
	if again, _ := store.ReadSchemaLevel(context.Background(), db); again != behind {
		t.Errorf("version migrated the database: level %+v, was %+v", again, behind)
	}

	// A database newer than the binary (a rollback by binary only): the
	// store refuses it, naming the migration.
	if _, err := raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '2030-01-01')"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(context.Background(), db); err == nil || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Errorf("Open on a newer database = %v, want an error naming 9999_future.sql", err)
	}
}

func TestPrintVersion(t *testing.T) {
	for _, tc := range []struct {
		info *debug.BuildInfo
		want []string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			[]string{"bulletin v1.2.0\n", "built with go1.26.8"}},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "04aedd2abc"}, {Key: "vcs.time", Value: "2026-12-04T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			[]string{"bulletin (devel)\n", "commit 04aedd2abc of 2026-12-04T20:00:00Z, with uncommitted changes"}},
	} {
		var out bytes.Buffer
		printVersion(&out, tc.info)
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("printVersion(%+v) = %q, want %q in it", tc.info.Main, out.String(), w)
			}
		}
	}
}
