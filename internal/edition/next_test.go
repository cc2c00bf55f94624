package edition

import (
	"strings"
	"testing"
)

func TestAdvanceQuarter(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1er trimestre 2020", "2e trimestre 2020", true},
		{"4e trimestre 2020", "1er trimestre 2021", true},
		{"3ème trimestre 2024", "4e trimestre 2024", true},
		{"T4 2025", "T1 2026", true},
		{"T1 2020", "T2 2020", true},
		{"Lettre T2 2021 spéciale", "Lettre T3 2021 spéciale", true},
		{"Q3 2022", "Q4 2022", true},
		{"Printemps 2020", "Printemps 2020", false},
	}
	for _, tt := range tests {
		got, ok := AdvanceQuarter(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("AdvanceQuarter(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestNextEdition starts the next letter from the example: structure,
// headings and signature kept, date, quarter and number advanced, and the
// result parses.
func TestNextEdition(t *testing.T) {
	ed, err := ParseFile("../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	ed.Number = 10
	for _, empty := range []bool{false, true} {
		d, ok := Next(ed, empty)
		if !ok || d.Front.Quarter != "2e trimestre 2020" || d.Front.Date != "2020-06-25" || d.Front.Number != "11" || d.Front.Title != ed.Title {
			t.Errorf("Next(empty=%v) front = %+v, %v", empty, d.Front, ok)
		}
		src, err := d.Source(nil)
		if err != nil {
			t.Fatal(err)
		}
		next, err := Parse("next", src)
		if err != nil {
			t.Fatalf("Next(empty=%v) does not parse: %v\n%s", empty, err, src)
		}
		s := string(src)
		for _, keep := range []string{`signature="Mme Florence GRANDVALET"`, "# Sur le terrain en Hérault", "### Si j’étais un sens, je serais ?", `::: button href="https://www.economie.gouv.fr/daj/oecp"`} {
			if !strings.Contains(s, keep) {
				t.Errorf("Next(empty=%v) lost %q", empty, keep)
			}
		}
		if got := strings.Contains(s, "Prenez soin de vous"); got == empty {
			t.Errorf("Next(empty=%v): text kept = %v", empty, got)
		}
		if empty && len(next.Blocks) != len(ed.Blocks) {
			t.Errorf("Next(empty) has %d top-level blocks, want %d", len(next.Blocks), len(ed.Blocks))
		}
	}
}
