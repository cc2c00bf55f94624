package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

func TestUTF8Then1252(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{in: "plain ASCII", want: "plain ASCII"},
		{in: "Hérault", want: "Hérault"},                       // valid UTF-8 passes through
		{in: "H\xe9rault", want: "Hérault"},                    // a lone Windows-1252 é after ASCII
		{in: "\x8cuvre, c\x9cur", want: "Œuvre, cœur"},         // Œ and œ live in 0x80-0x9F
		{in: "1 \x80, l\x92atelier", want: "1 €, l’atelier"},   // euro sign, typographic apostrophe
		{in: "caf\xe9", want: "café"},                          // at the very end
		{in: "\xe9\xe8\xe0", want: "éèà"},                      // several in a row, none valid UTF-8
		{in: "Zo\xeb M\xfcller", want: "Zoë Müller"},           //
		{in: "\x81", want: "\ufffd"},                           // undefined in Windows-1252
		{in: "\xef\xbf\xbd", want: "\ufffd"},                   // a real U+FFFD stays one
		{in: "\xf0\x9f\x93\xa7 mail", want: "\U0001F4E7 mail"}, // 4-byte UTF-8
		// Both encodings in one file: refused, naming the lines.
		{in: "a\nHélène\nb\nH\xe9rault\n", err: "line 4 is not UTF-8 (probably Windows-1252 or Latin-1) while line 2 is UTF-8"},
		{in: "a\nH\xe9rault\nb\nHélène\n", err: "line 2 is not UTF-8 (probably Windows-1252 or Latin-1) while line 4 is UTF-8"},
	}
	for _, tt := range tests {
		check := func(how string, got []byte, err error) {
			t.Helper()
			if tt.err != "" {
				var me *mixedError
				if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("decode(%q) %s = %q, %v, want an error containing %q", tt.in, how, got, err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("decode(%q) %s = %q, %v, want %q", tt.in, how, got, err, tt.want)
			}
		}
		got, _, err := transform.String(&utf8Then1252{line: 1}, tt.in)
		check("at once", []byte(got), err)
		// The same, one byte at a time: sequences cut between reads.
		b, err := io.ReadAll(transform.NewReader(iotest.OneByteReader(strings.NewReader(tt.in)), &utf8Then1252{line: 1}))
		check("byte by byte", b, err)
	}
}

func FuzzUTF8Then1252(f *testing.F) {
	f.Add([]byte("H\xe9rault;\xc3\xa9;\xf0\x9f"))
	f.Add([]byte("\xe0\xa0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, _, err := transform.Bytes(&utf8Then1252{line: 1}, in)
		var me *mixedError
		if err != nil && !errors.As(err, &me) {
			t.Fatalf("decode(%q) error %v", in, err)
		}
		if err == nil && !utf8.Valid(got) {
			t.Fatalf("decode(%q) = %q, not valid UTF-8", in, got)
		}
		if utf8.Valid(in) && (err != nil || !bytes.Equal(got, in)) {
			t.Fatalf("decode(%q) = %q, %v, want valid UTF-8 unchanged", in, got, err)
		}
	})
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
	for _, src := range []io.Reader{bytes.NewReader(b.Bytes()), bytes.NewBuffer(b.Bytes())} {
		res := readAll(t, src, "late.csv")
		if res.fatal != nil || len(res.errs) != 0 || len(res.rows) != n+1 {
			t.Fatalf("%T: read %d rows, %v, %v, want %d", src, len(res.rows), res.errs, res.fatal, n+1)
		}
		if res.rd.Encoding() != EncodingWindows1252 {
			t.Errorf("%T: Encoding() = %q, want %q", src, res.rd.Encoding(), EncodingWindows1252)
		}
		last := res.rows[len(res.rows)-1]
		if got := last.Attributes["ville"]; got != "Hérault Œuvre" || last.Line != n+2 {
			t.Errorf("%T: last row = line %d, ville %q, want line %d, %q", src, last.Line, got, n+2, "Hérault Œuvre")
		}
	}
}

// TestMixedEncodingsRefused is a UTF-8 file into which rows typed on an old
// Windows machine were pasted: read as Windows-1252 (as it once was) every
// UTF-8 name came out as "HÃ©lÃ¨ne". It is refused, naming the lines.
func TestMixedEncodingsRefused(t *testing.T) {
	t.Parallel()
	text := "email;prenom\n" +
		"helene@example.org;Hélène\n" +
		"zoe@example.org;Zoé\n" +
		"andre@example.org;Andr\xe9\n" +
		"ok@example.org;Paul\n" +
		"celine@example.org;C\xe9line\n"
	_, err := NewReader(strings.NewReader(text), "mixed.csv")
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "mixed.csv:") ||
		!strings.Contains(err.Error(), "lines 4, 6 are not UTF-8") || !strings.Contains(err.Error(), "line 2 is UTF-8") {
		t.Errorf("NewReader(mixed file) = %v, want a FileError naming lines 4 and 6", err)
	}
	// A stream cannot be read twice: it stops at the first line that is
	// not UTF-8.
	res := readAll(t, iotest.OneByteReader(strings.NewReader(text)), "mixed.csv")
	if res.fatal == nil || !strings.Contains(res.fatal.Error(), "line 4 is not UTF-8") {
		t.Errorf("mixed stream: fatal %v, want line 4 named", res.fatal)
	}
	// A UTF-8 BOM says UTF-8: one Latin-1 byte after it is a mixed file.
	_, err = NewReader(strings.NewReader("\xef\xbb\xbfemail;ville\na@example.org;H\xe9rault\n"), "bom.csv")
	if err == nil || !strings.Contains(err.Error(), "line 2 is not UTF-8") || !strings.Contains(err.Error(), "byte order mark") {
		t.Errorf("NewReader(BOM then Latin-1) = %v, want line 2 named", err)
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
		{"UTF-32LE", EncodingUTF32LE},
		{"UTF-32BE", EncodingUTF32BE},
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
	case "UTF-32LE":
		s, err = utf32.UTF32(utf32.LittleEndian, utf32.UseBOM).NewEncoder().String(text)
	case "UTF-32BE":
		s, err = utf32.UTF32(utf32.BigEndian, utf32.UseBOM).NewEncoder().String(text)
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
		{"\xff\xfea\x00\r\x00\n\x00b\x00\r\x00\n\x00", false},                            // UTF-16LE CRLF
		{"\xff\xfea\x00\r\x00b\x00\r\x00\n\x00c\x00\r\x00", true},                        // UTF-16LE CR
		{"\xfe\xff\x00a\x00\r\x00b\x00\r", true},                                         // UTF-16BE CR
		{"\xff\xfe\r\x0a\n\x00\r\x00\n\x00", false},                                      // U+0A0D is not a CR
		{"\xff\xfe\x00\x00a\x00\x00\x00\r\x00\x00\x00b\x00\x00\x00\r\x00\x00\x00", true}, // UTF-32LE CR
		{"\x00\x00\xfe\xff\x00\x00\x00a\x00\x00\x00\r\x00\x00\x00\n", false},             // UTF-32BE CRLF
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
