package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/store"
)

func openStore(t testing.TB) *store.Storage {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "bulletin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func importFile(t *testing.T, st *store.Storage, file string, opts Options) *Report {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Import(context.Background(), st, f, file, opts)
	if err != nil {
		t.Fatalf("Import(%s) error: %v", file, err)
	}
	return rep
}

type counts struct{ added, updated, unchanged, suppressed, rejected int }

func countsOf(r *Report) counts {
	return counts{r.Added, r.Updated, r.Unchanged, r.Suppressed, r.Rejected}
}

func status(t *testing.T, st *store.Storage, email string) store.Status {
	t.Helper()
	s, err := st.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("SubscriberByEmail(%s): %v", email, err)
	}
	return s.Status
}

func TestImportFixtures(t *testing.T) {
	tests := []struct {
		file  string
		first counts
		check func(t *testing.T, st *store.Storage)
	}{
		{"semicolon-windows1252.csv", counts{added: 5}, func(t *testing.T, st *store.Storage) {
			var places []string
			st.Subscribers(context.Background(), store.SubscriberFilter{}, func(s *store.Subscriber) error {
				places = append(places, s.Organisation)
				return nil
			})
			if !strings.Contains(strings.Join(places, "|"), "Hérault") {
				t.Errorf("organisations = %q, want one with \"Hérault\" intact", places)
			}
		}},
		{"bom-utf8.csv", counts{added: 3}, nil},
		{"quoted-newlines.csv", counts{added: 4}, nil},
		{"tab.tsv", counts{added: 3}, nil},
		{"sendinblue-export.csv", counts{added: 3, suppressed: 2}, func(t *testing.T, st *store.Storage) {
			if got := status(t, st, "thomas.girard@example.org"); got != store.Unsubscribed {
				t.Errorf("blacklisted contact has status %s, want unsubscribed", got)
			}
			if got := status(t, st, "sophie.moreau@example.org"); got != store.Active {
				t.Errorf("contact has status %s, want active", got)
			}
		}},
		// Line 18's date cannot be read: the row is imported without it.
		{"status-column.csv", counts{added: 6, suppressed: 10, rejected: 2}, nil},
		{"bad-rows.csv", counts{added: 95, rejected: 5}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			st := openStore(t)
			file := filepath.Join("../../testdata/import", tt.file)
			rep := importFile(t, st, file, Options{List: "Partenaires"})
			if got := countsOf(rep); got != tt.first {
				t.Errorf("first import = %+v, want %+v (rejects %v)", got, tt.first, rep.Rejects)
			}
			if tt.check != nil {
				tt.check(t, st)
			}
			// Re-importing the same file changes nothing, and what was
			// suppressed stays suppressed.
			again := importFile(t, st, file, Options{List: "Partenaires"})
			want := counts{unchanged: tt.first.added, suppressed: tt.first.suppressed, rejected: tt.first.rejected}
			if got := countsOf(again); got != want {
				t.Errorf("re-import = %+v, want %+v", got, want)
			}
		})
	}
}

func TestBadRowsAreNamed(t *testing.T) {
	st := openStore(t)
	rep := importFile(t, st, "../../testdata/import/bad-rows.csv", Options{List: "L"})
	var lines []int
	for _, r := range rep.Rejects {
		lines = append(lines, r.Line)
	}
	want := []int{13, 37, 58, 74, 90}
	if len(lines) != len(want) {
		t.Fatalf("rejected lines = %v, want %v", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("rejected lines = %v, want %v", lines, want)
			break
		}
	}
	if !strings.Contains(rep.Rejects[4].Reason.String(), "already appears on line 20") {
		t.Errorf("duplicate reason = %q", rep.Rejects[4].Reason)
	}
}

func TestSuppressionSurvivesReimport(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	importFile(t, st, "../../subscribers/sample.csv", Options{List: "Partenaires"})
	sub, err := st.SubscriberByEmail(ctx, "megane.lambert@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStatus(ctx, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"}); err != nil {
		t.Fatal(err)
	}
	if err := st.EraseSubscriber(ctx, "sfabre@example.org"); err != nil {
		t.Fatal(err)
	}
	// The same file, which still says both are "abonné", into another list.
	rep := importFile(t, st, "../../subscribers/sample.csv", Options{List: "Acheteurs publics"})
	if rep.Suppressed != 22 || rep.Added != 0 {
		t.Errorf("re-import: suppressed %d, added %d; want 22, 0", rep.Suppressed, rep.Added)
	}
	if got := status(t, st, "megane.lambert@example.org"); got != store.Unsubscribed {
		t.Errorf("unsubscribed person is %s after re-import", got)
	}
	if _, err := st.SubscriberByEmail(ctx, "sfabre@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erased person came back: %v", err)
	}
}

func TestDryRunAndFatalErrorsChangeNothing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	rep := importFile(t, st, "../../subscribers/sample.csv", Options{List: "Partenaires", DryRun: true})
	if rep.Added != 280 || rep.Suppressed != 20 {
		t.Errorf("dry run = %+v, want 280 added, 20 suppressed", countsOf(rep))
	}
	if n, _ := st.CountSubscribers(ctx, store.SubscriberFilter{}); n != 0 {
		t.Errorf("after a dry run, %d subscribers, want 0", n)
	}
	// A quoted field left open swallows the rest of the file: nothing goes in.
	bad := "email;nom\nok@example.org;A\nalso@example.org;\"B\nthird@example.org;C\n"
	_, err := Import(ctx, st, strings.NewReader(bad), "broken.csv", Options{List: "Partenaires"})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "broken.csv:") {
		t.Errorf("Import(broken) error = %v, want a FileError naming the file", err)
	}
	if n, _ := st.CountSubscribers(ctx, store.SubscriberFilter{}); n != 0 {
		t.Errorf("after a fatal error, %d subscribers, want 0", n)
	}
	if _, err := Import(ctx, st, strings.NewReader("nom;ville\nA;B\n"), "noemail.csv", Options{List: "P"}); err == nil {
		t.Error("Import(no e-mail column) = nil error")
	}
}

// BenchmarkImport imports a generated SendinBlue-like export of 1,000,000
// rows into a real SQLite file; it reports rows/s.
func BenchmarkImport(b *testing.B) {
	const rows = 1_000_000
	for b.Loop() {
		st := openStore(b)
		rep, err := Import(context.Background(), st, newRowSource(rows), "bench.csv", Options{List: "Partenaires"})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Added+rep.Suppressed != rows {
			b.Fatalf("imported %d rows, want %d", rep.Added+rep.Suppressed, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
