package spreadsheet

import (
	"bytes"
	"testing"
	"time"
)

func TestDefuse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+33 4": "'+33 4", "Sète": "Sète", "": "", "@SUM(A1)": "'@SUM(A1)",
		"-3": "-3", "+0,25": "+0,25", "-1+1": "'-1+1", "-": "'-", "-.": "'-.", "-2,5,1": "'-2,5,1", "'=déjà": "'=déjà"} {
		if got := Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
		if got := Undefuse(Defuse(in)); got != in && in[0] != '\'' {
			t.Errorf("Undefuse(Defuse(%q)) = %q", in, got)
		}
	}
	// An apostrophe before anything but a formula is the person's own.
	for _, in := range []string{"'", "'Sète", "l'Hérault", "''=x"} {
		if got := Undefuse(in); got != in {
			t.Errorf("Undefuse(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 14, 10, 21, 5, 0, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		excel bool
		want  string
	}{
		{false, "a,b\n2024-03-14T09:21:05Z,\n\"'=HYPERLINK(\"\"http://x\"\")\",-2\n"},
		{true, "\uFEFFa;b\r\n2024-03-14T09:21:05Z;\r\n\"'=HYPERLINK(\"\"http://x\"\")\";-2\r\n"},
	} {
		var buf bytes.Buffer
		c := NewWriter(&buf, tt.excel)
		c.Write("a", "b")
		c.Write(Time(at), Time(time.Time{}))
		c.Write(`=HYPERLINK("http://x")`, "-2")
		if err := c.Flush(); err != nil || buf.String() != tt.want {
			t.Errorf("excel %v: wrote %q, %v; want %q", tt.excel, buf.String(), err, tt.want)
		}
	}
}
