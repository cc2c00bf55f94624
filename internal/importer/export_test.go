package importer

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"bulletin/internal/store"
)

// hostile are rows whose cells a spreadsheet would run as formulas.
const hostile = "email;prénom;nom;organisation;téléphone;note\n" +
	"formule@example.org;\"=HYPERLINK(\"\"http://x\"\")\";-Martin;@Mairie;+33 4 67 00 00 00;l'Hérault\n" +
	"-tiret@example.org;Anne;Sète;=1+1;;'=déjà\n"

// TestExportRoundTrip checks that what Export writes, Import reads back
// without changing anything, in both flavours, and that formulas are
// defused on the way out.
func TestExportRoundTrip(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	importFile(t, st, "../../subscribers/sample.csv", Options{List: "Partenaires"})
	if rep, err := Import(ctx, st, strings.NewReader(hostile), "hostile.csv", Options{List: "Partenaires"}); err != nil || rep.Added != 2 {
		t.Fatalf("Import(hostile) = %+v, %v; want 2 added", rep, err)
	}
	before := snapshot(t, st)
	for _, excel := range []bool{false, true} {
		var buf bytes.Buffer
		opts := ExportOptions{Filter: store.SubscriberFilter{List: "Partenaires"}, Excel: excel}
		if err := Export(ctx, st, &buf, opts); err != nil {
			t.Fatalf("Export(excel %v): %v", excel, err)
		}
		out := buf.String()
		for _, want := range []string{`'=HYPERLINK(""http://x"")`, "'-Martin", "'@Mairie", "'+33 4 67", "'-tiret@example.org", "l'Hérault"} {
			if !strings.Contains(out, want) {
				t.Errorf("Export(excel %v) lacks %q", excel, want)
			}
		}
		if got := strings.HasPrefix(out, "\uFEFFemail;"); got != excel {
			t.Errorf("Export(excel %v) starts %q", excel, out[:10])
		}
		rep, err := Import(ctx, st, &buf, "export.csv", Options{List: "Partenaires"})
		if err != nil {
			t.Fatalf("Import(export, excel %v): %v", excel, err)
		}
		if got, want := countsOf(rep), (counts{unchanged: len(before) - 20, suppressed: 20}); got != want {
			t.Errorf("Import(export, excel %v) = %+v, want %+v; rejects %v", excel, got, want, rep.Rejects)
		}
		if after := snapshot(t, st); !reflect.DeepEqual(after, before) {
			t.Errorf("Import(export, excel %v) changed the subscribers", excel)
		}
	}
}

func snapshot(t *testing.T, st *store.Storage) []*store.Subscriber {
	t.Helper()
	var all []*store.Subscriber
	err := st.Subscribers(context.Background(), store.SubscriberFilter{}, func(s *store.Subscriber) error {
		all = append(all, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestExportDefusesHeaders: an attribute named like a formula (a partner's
// CSV column, an API client's key) is defused in the export's header row,
// and import → export → import brings the same attribute back.
func TestExportDefusesHeaders(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	const name = `=HYPERLINK("http://x")`
	in := "email,\"=HYPERLINK(\"\"http://x\"\")\",@cmd\nanne@example.org,oui,-2\n"
	if rep, err := Import(ctx, st, strings.NewReader(in), "partner.csv", Options{List: "Partenaires"}); err != nil || rep.Added != 1 {
		t.Fatalf("Import(partner) = %+v, %v; want 1 added", rep, err)
	}
	before := snapshot(t, st)
	if got := before[0].Attributes; got[name] != "oui" || got["@cmd"] != "-2" {
		t.Fatalf("attributes after import = %v", got)
	}
	var buf bytes.Buffer
	if err := Export(ctx, st, &buf, ExportOptions{Filter: store.SubscriberFilter{List: "Partenaires"}}); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(buf.String(), "\n")
	if !strings.Contains(header, `"'=HYPERLINK(""http://x"")"`) || !strings.Contains(header, ",'@cmd") {
		t.Errorf("export header = %q; want the formula names defused", header)
	}
	rep, err := Import(ctx, st, &buf, "export.csv", Options{List: "Partenaires"})
	if err != nil || rep.Unchanged != 1 {
		t.Fatalf("Import(export) = %+v, %v; want 1 unchanged", rep, err)
	}
	if after := snapshot(t, st); !reflect.DeepEqual(after, before) {
		t.Errorf("Import(export) changed the subscriber: %v, want %v", after[0].Attributes, before[0].Attributes)
	}
}
