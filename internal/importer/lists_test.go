package importer

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bulletin/internal/store"
)

func TestSimilar(t *testing.T) {
	names := []string{"Partenaires", "Acheteurs publics", "Employeurs", "SIAE"}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Partenaire", []string{"Partenaires"}},
		{"partenaires", []string{"Partenaires"}},
		{"PARTENAÏRES", []string{"Partenaires"}},
		{"Acheteurs", []string{"Acheteurs publics"}},
		{"acheteurs-publics", []string{"Acheteurs publics"}},
		{"Employeur", []string{"Employeurs"}},
		{"SIEA", []string{"SIAE"}},
		{"Presse", nil},
	} {
		if got := Similar(c.in, names); !slices.Equal(got, c.want) {
			t.Errorf("Similar(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// An import into an unknown list is refused with the close names when the
// caller asks for an existing list, before anything is written; a dry run
// that may create the list creates nothing.
func TestImportExistingList(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateList(ctx, &store.List{Name: "Partenaires"}); err != nil {
		t.Fatal(err)
	}
	csv := "email\na@example.org\n"
	_, err = Import(ctx, st, strings.NewReader(csv), "x.csv", Options{List: "Partenaire", ExistingList: true})
	var ule *UnknownListError
	if !errors.As(err, &ule) || !slices.Equal(ule.Similar, []string{"Partenaires"}) {
		t.Fatalf("Import into Partenaire = %v, want an UnknownListError suggesting Partenaires", err)
	}
	if _, err := Import(ctx, st, strings.NewReader(csv), "x.csv", Options{List: "Nouvelle", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	lists, _ := st.Lists(ctx)
	if n, _ := st.CountSubscribers(ctx, store.SubscriberFilter{}); len(lists) != 1 || n != 0 {
		t.Errorf("after a refused import and a dry run: %d lists, %d subscribers", len(lists), n)
	}
}
