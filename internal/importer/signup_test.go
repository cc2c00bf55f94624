package importer

import (
	"context"
	"strings"
	"testing"
	"time"

	"bulletin/internal/report"
	"bulletin/internal/store"
)

// quarterNew returns the new active subscribers of each quarter of the
// view across campaigns, by quarter label.
func quarterNew(t *testing.T, st *store.Storage, now time.Time) map[string]int {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	o, err := report.Lists(context.Background(), st, paris, now)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, q := range o.Quarters {
		if q.Subscribers.New > 0 {
			out[q.Quarter] = q.Subscribers.New
		}
	}
	return out
}

// TestSignUpDatesInQuarters imports SendinBlue's export: each contact counts
// as new in the quarter of its ADDED_TIME, not in the quarter of the
// migration, and "Inscrit le" (created_at) is that date.
func TestSignUpDatesInQuarters(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	before := time.Now()
	rep := importFile(t, st, "../../testdata/import/sendinblue-export.csv", Options{List: "Partenaires"})
	if rep.Added != 3 || rep.Suppressed != 2 || rep.Rejected != 0 {
		t.Fatalf("Import = %+v, want 3 added, 2 suppressed, none rejected", countsOf(rep))
	}
	thisQuarter, _ := report.QuarterOf(time.Now(), time.UTC)
	got := quarterNew(t, st, time.Now())
	// Sophie (2019-03-14) and Karim (14/03/2019) in 2019-Q1; Thomas and
	// Inès are blacklisted and never count; Manon's export gives no date:
	// she is new on the day of the import.
	want := map[string]int{"2019-Q1": 2, thisQuarter: 1}
	if len(got) != len(want) {
		t.Errorf("new subscribers by quarter = %v, want %v", got, want)
	}
	for q, n := range want {
		if got[q] != n {
			t.Errorf("new subscribers in %s = %d, want %d (all: %v)", q, got[q], n, got)
		}
	}
	sub, err := st.SubscriberByEmail(ctx, "thomas.girard@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if day := sub.CreatedAt.Format(time.DateOnly); day != "2018-11-02" {
		t.Errorf("Thomas's created_at = %s, want the sign-up date 2018-11-02", day)
	}
	sub, err = st.SubscriberByEmail(ctx, "manon.faure@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if sub.CreatedAt.Before(before.Add(-time.Minute)) {
		t.Errorf("Manon's created_at = %s, want the import's date (her row has no sign-up date)", sub.CreatedAt)
	}
}

// TestSignUpDatesSpreadsheet imports the French spreadsheet of 300
// subscribers who signed up from 2011 to 2020: nobody is new in the
// quarter of the import, and the quarters from 2011 on count them all.
func TestSignUpDatesSpreadsheet(t *testing.T) {
	st := openStore(t)
	rep := importFile(t, st, "../../subscribers/sample.csv", Options{List: "Partenaires"})
	if rep.Added == 0 || len(rep.Notes) != 0 {
		t.Fatalf("Import = %+v, notes %v", countsOf(rep), rep.Notes)
	}
	got := quarterNew(t, st, time.Now())
	thisQuarter, _ := report.QuarterOf(time.Now(), time.UTC)
	if got[thisQuarter] != 0 {
		t.Errorf("new subscribers in %s (the import's quarter) = %d, want 0: they signed up in 2011-2020", thisQuarter, got[thisQuarter])
	}
	total, years := 0, map[string]bool{}
	for q, n := range got {
		total += n
		years[q[:4]] = true
	}
	if len(years) < 8 || !years["2011"] || !years["2020"] {
		t.Errorf("new subscribers by quarter = %v, want them spread over 2011-2020", got)
	}
	if total == 0 {
		t.Errorf("no new subscriber in any quarter: %v", got)
	}
}

// TestUnreadableSignUpDate: a date nobody can read does not reject the
// row: the person is imported, dated by the import, and the report says
// which line's date was left out.
func TestUnreadableSignUpDate(t *testing.T) {
	st := openStore(t)
	csv := "Courriel;Date d'inscription\nana@example.org;31/02/2019\nbob@example.org;14/03/2019\n"
	rep, err := Import(context.Background(), st, strings.NewReader(csv), "dates.csv", Options{List: "Partenaires"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.Rejected != 0 {
		t.Fatalf("Import = %+v, want 2 added, none rejected", countsOf(rep))
	}
	if len(rep.Notes) != 1 || rep.Notes[0].Line != 2 || !strings.Contains(rep.Notes[0].Reason.String(), "31/02/2019") {
		t.Fatalf("Notes = %v, want one for line 2 naming 31/02/2019", rep.Notes)
	}
}
