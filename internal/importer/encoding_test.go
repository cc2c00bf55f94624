package importer

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

func TestUTF8OrWindows1252(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"Hérault", "Hérault"},                       // valid UTF-8 passes through
		{"H\xe9rault", "Hérault"},                    // a lone Windows-1252 é
		{"\x8cuvre, c\x9cur", "Œuvre, cœur"},         // Œ and œ live in 0x80-0x9F
		{"1 \x80, l\x92atelier", "1 €, l’atelier"},   // euro sign, typographic apostrophe
		{"caf\xe9", "café"},                          // at the very end
		{"\xe9\xe8\xe0", "éèà"},                      // several in a row, none valid UTF-8
		{"Zo\xeb M\xfcller", "Zoë Müller"},           //
		{"mixed: é and \xe9", "mixed: é and é"},      // both in one file
		{"\x81", "\ufffd"},                           // undefined in Windows-1252
		{"\xef\xbf\xbd", "\ufffd"},                   // a real U+FFFD stays one
		{"\xf0\x9f\x93\xa7 mail", "\U0001F4E7 mail"}, // 4-byte UTF-8
	}
	for _, tt := range tests {
		got, _, err := transform.String(utf8OrWindows1252{}, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("decode(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
		// The same, one byte at a time: sequences cut between reads.
		b, err := io.ReadAll(transform.NewReader(iotest.OneByteReader(strings.NewReader(tt.in)), utf8OrWindows1252{}))
		if err != nil || string(b) != tt.want {
			t.Errorf("decode(%q) byte by byte = %q, %v, want %q", tt.in, b, err, tt.want)
		}
	}
}

func FuzzUTF8OrWindows1252(f *testing.F) {
	f.Add([]byte("H\xe9rault;\xc3\xa9;\xf0\x9f"))
	f.Add([]byte("\xe0\xa0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, _, err := transform.Bytes(utf8OrWindows1252{}, in)
		if err != nil {
			t.Fatalf("decode(%q) error %v", in, err)
		}
		if !utf8.Valid(got) {
			t.Fatalf("decode(%q) = %q, not valid UTF-8", in, got)
		}
		if utf8.Valid(in) && !bytes.Equal(got, in) {
			t.Fatalf("decode(%q) = %q, want valid UTF-8 unchanged", in, got)
		}
	})
}

func TestValidUTF8Prefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		cut  bool
		want bool
	}{
		{"abc", false, true},
		{"ab\xc3", true, true},     // é cut by the sniff window
		{"ab\xc3", false, false},   // é cut by the end of the file
		{"ab\xe2\x82", true, true}, // € cut
		{"a\xe9b", true, false},
		{"a\xe9", true, true}, // could be a 3-byte sequence cut: the fallback copes if not
	}
	for _, tt := range tests {
		if got := validUTF8Prefix([]byte(tt.in), tt.cut); got != tt.want {
			t.Errorf("validUTF8Prefix(%q, %v) = %v, want %v", tt.in, tt.cut, got, tt.want)
		}
	}
}

// TestLateWindows1252 is the case the sniff cannot see: 64 KiB of ASCII, then
// a Windows-1252 accent.
func TestLateWindows1252(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("email;ville\n")
	n := 0
	for b.Len() < 2*sniffSize {
		n++
		b.WriteString("someone@example.org;Montpellier\n")
	}
	b.WriteString("late@example.org;H\xe9rault \x8cuvre\n")
	res := readAll(t, &b, "late.csv")
	if res.fatal != nil || len(res.errs) != 0 || len(res.rows) != n+1 {
		t.Fatalf("read %d rows, %v, %v, want %d", len(res.rows), res.errs, res.fatal, n+1)
	}
	if res.rd.Encoding() != EncodingUTF8 {
		t.Errorf("Encoding() = %q, want %q (decided from the first 64 KiB)", res.rd.Encoding(), EncodingUTF8)
	}
	last := res.rows[len(res.rows)-1]
	if got := last.Attributes["ville"]; got != "Hérault Œuvre" || last.Line != n+2 {
		t.Errorf("last row = line %d, ville %q, want line %d, %q", last.Line, got, n+2, "Hérault Œuvre")
	}
}

// TestEncodings reads one small file written in every encoding Excel and
// LibreOffice produce, with every line ending, and through tiny reads.
func TestEncodings(t *testing.T) {
	t.Parallel()
	const text = "Courriel;Prénom;Structure\n" +
		"helene@example.org;Hélène;Conseil départemental de l'Hérault\n" +
		"francois@example.org;François;Œuvre d’insertion\n"
	want := []Row{
		{Line: 2, Email: "helene@example.org", FirstName: "Hélène", Organisation: "Conseil départemental de l'Hérault"},
		{Line: 3, Email: "francois@example.org", FirstName: "François", Organisation: "Œuvre d’insertion"},
	}
	tests := []struct{ name, enc string }{
		{"UTF-8", EncodingUTF8},
		{"UTF-8 BOM", EncodingUTF8BOM},
		{"Windows-1252", EncodingWindows1252},
		{"UTF-16LE", EncodingUTF16LE},
		{"UTF-16BE", EncodingUTF16BE},
	}
	for _, tt := range tests {
		for _, eol := range []string{"\n", "\r\n", "\r"} {
			data := reencode(t, tt.name, strings.ReplaceAll(text, "\n", eol))
			for _, tiny := range []bool{false, true} {
				var r io.Reader = strings.NewReader(data)
				if tiny {
					r = iotest.OneByteReader(r)
				}
				res := readAll(t, r, "x.csv")
				if res.fatal != nil || res.rd.Encoding() != tt.enc {
					t.Errorf("%s, eol %q, tiny reads %v: encoding %v, fatal %v, want %q", tt.name, eol, tiny, res.rd, res.fatal, tt.enc)
					continue
				}
				checkRows(t, tt.name+" eol "+strings.ReplaceAll(eol, "\r", `\r`), res.rows, want)
			}
		}
	}
}

// reencode writes text in the encoding named as in TestEncodings.
func reencode(t *testing.T, name, text string) string {
	t.Helper()
	var (
		s   string
		err error
	)
	switch name {
	case "UTF-8":
		s = text
	case "UTF-8 BOM":
		s = "\xef\xbb\xbf" + text
	case "Windows-1252":
		s, err = charmap.Windows1252.NewEncoder().String(text)
	case "UTF-16LE":
		s, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
	case "UTF-16BE":
		s, err = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(text)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCROnlyLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"a\nb\n", false},
		{"a\r\nb\r\n", false},
		{"a\rb\r", true},
		{"a\rb\r\nc\rd\r", true}, // one CRLF crept into a CR file
		{"a\nb\rc\n", false},     // a stray CR inside a LF file
		{"a", false},
		{"\xff\xfea\x00\r\x00\n\x00b\x00\r\x00\n\x00", false},     // UTF-16LE CRLF
		{"\xff\xfea\x00\r\x00b\x00\r\x00\n\x00c\x00\r\x00", true}, // UTF-16LE CR
		{"\xfe\xff\x00a\x00\r\x00b\x00\r", true},                  // UTF-16BE CR
		{"\xff\xfe\r\x0a\n\x00\r\x00\n\x00", false},               // U+0A0D is not a CR
	}
	for _, tt := range tests {
		if got := crOnlyLines(asciiSample([]byte(tt.in))); got != tt.want {
			t.Errorf("crOnlyLines(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestProgress checks that Progress moves while reading, for a progress bar.
func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("email\n")
	for b.Len() < 10*sniffSize {
		b.WriteString("someone@example.org\n")
	}
	size := int64(b.Len())
	rd, err := NewReader(&b, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	for {
		_, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p := rd.Progress(); len(seen) == 0 || p != seen[len(seen)-1] {
			seen = append(seen, p)
		}
	}
	if len(seen) < 5 || seen[len(seen)-1] != size {
		t.Errorf("Progress() took values %v, want several, ending at %d", seen, size)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("Progress() went back: %v", seen)
		}
	}
}
