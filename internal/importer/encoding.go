package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"

	"bulletin/internal/i18n"
)

// The encodings Reader.Encoding reports.
const (
	EncodingUTF8        = "UTF-8"
	EncodingUTF8BOM     = "UTF-8 with BOM"
	EncodingWindows1252 = "Windows-1252"
	EncodingUTF16LE     = "UTF-16LE"
	EncodingUTF16BE     = "UTF-16BE"
	EncodingUTF32LE     = "UTF-32LE"
	EncodingUTF32BE     = "UTF-32BE"
)

const (
	// sniffSize is how much of the file is looked at for its signature
	// (BOM, workbook, NUL bytes), line ends and delimiter.
	sniffSize = 64 << 10

	// maxLineLen bounds one physical line. encoding/csv keeps a whole line
	// in memory; without a bound, a binary file or a file of one endless line
	// would be read whole before any error.
	maxLineLen = 1 << 20
)

// Fatal errors found while sniffing. The workbook errors name the commonest
// wrong upload, the spreadsheet itself, and say what to do instead.
var (
	errWorkbook = i18n.Errorf("import.file.workbook")
	errOldExcel = i18n.Errorf("import.file.old_excel")
	errBinary   = i18n.Errorf("import.file.binary")
	errEmpty    = i18n.Errorf("import.file.empty")
)

// countingReader counts the bytes read from the file, for Reader.Progress. The
// count is atomic because a progress display reads it from another goroutine
// while Next runs.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// decodeInput returns a reader of the file's text as UTF-8, and a function
// that names its encoding.
//
// The encoding is decided from the whole file when it can be read twice
// (whole is its scan, see scanWhole), before any row is read; a stream is
// decided at its first byte beyond ASCII and checked to its end (see
// utf8Then1252), a mixed one failing there:
//
//   - a UTF-8 byte order mark: UTF-8 (the BOM is dropped; Excel's "CSV UTF-8"
//     writes one);
//   - a UTF-32 or UTF-16 byte order mark: UTF-32 or UTF-16 (Excel's "Unicode
//     text" export is UTF-16);
//   - valid UTF-8: UTF-8;
//   - bytes that are not UTF-8 and no UTF-8 beyond ASCII: Windows-1252, what
//     Excel's plain "CSV" writes on a French Windows. It is a superset of
//     ISO-8859-1 for every printable character, so Latin-1 files decode the
//     same;
//   - both UTF-8 accents and bytes that are not UTF-8: refused, naming the
//     lines that are not UTF-8. Such a file was pasted together from two
//     sources; decoding it either way garbles one of them, every accented
//     name of it, without a word.
//
// The reader also turns old Mac line ends (a lone CR, still written by Excel's
// "CSV (Macintosh)") into LF, and refuses lines longer than maxLineLen.
func decodeInput(raw *bufio.Reader, whole *utf8Scan) (io.Reader, func() string, error) {
	head, err := raw.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, err
	}
	// Decided before Discard below, which may invalidate head.
	crOnly := crOnlyLines(asciiSample(head))
	var (
		text io.Reader
		enc  string
	)
	switch {
	case len(head) == 0:
		return nil, nil, errEmpty
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, nil, errWorkbook
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return nil, nil, errOldExcel
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		if _, err := raw.Discard(3); err != nil {
			return nil, nil, err
		}
		// The BOM says UTF-8: any byte that is not is a mixed file.
		dec := &utf8Then1252{state: sawUTF8, crOnly: crOnly, line: 1}
		if whole != nil {
			if err := whole.mixed(true); err != nil {
				return nil, nil, err
			}
		}
		text, enc = transform.NewReader(raw, dec), EncodingUTF8BOM
	case bytes.HasPrefix(head, []byte("\xff\xfe\x00\x00")), bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")):
		// Checked before UTF-16, whose little-endian BOM starts the same.
		dec := utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM).NewDecoder()
		text, enc = transform.NewReader(raw, dec), EncodingUTF32LE
		if head[0] == 0 {
			enc = EncodingUTF32BE
		}
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		// ExpectBOM reads the BOM, picks the byte order from it and drops it.
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		text, enc = transform.NewReader(raw, dec), EncodingUTF16LE
		if head[0] == 0xfe {
			enc = EncodingUTF16BE
		}
	case bytes.IndexByte(head, 0) >= 0:
		return nil, nil, errBinary
	case whole != nil && whole.nbad > 0:
		if err := whole.mixed(false); err != nil {
			return nil, nil, err
		}
		text, enc = charmap.Windows1252.NewDecoder().Reader(raw), EncodingWindows1252
	default:
		// Whole UTF-8, or a stream that utf8Then1252 finds, as it reads,
		// to be UTF-8, Windows-1252 (bytes that are not UTF-8 after
		// ASCII only) or mixed.
		dec := &utf8Then1252{crOnly: crOnly, line: 1}
		g := &lineGuard{r: transform.NewReader(raw, dec), crOnly: crOnly, line: 1}
		return g, dec.encoding, nil
	}
	return &lineGuard{r: text, crOnly: crOnly, line: 1}, func() string { return enc }, nil
}

// maxBadLines bounds the lines a mixed-encoding error lists.
const maxBadLines = 10

// utf8Scan is what scanWhole found in a whole file.
type utf8Scan struct {
	firstUTF8 int   // the first line with a valid UTF-8 sequence beyond ASCII, 0 if none
	bad       []int // the first maxBadLines lines holding bytes that are not UTF-8
	nbad      int   // how many lines hold such bytes
}

// mixed returns the error for a file that holds both UTF-8 beyond ASCII
// (or a UTF-8 BOM, when bom) and bytes that are not UTF-8, or nil.
func (s *utf8Scan) mixed(bom bool) error {
	if s.nbad == 0 || s.firstUTF8 == 0 && !bom {
		return nil
	}
	return &mixedError{bad: s.bad, more: s.nbad - len(s.bad), utf8Line: s.firstUTF8}
}

// scanWhole reads r to its end, looking for valid UTF-8 beyond ASCII and for
// bytes that are not UTF-8, each by line. Files with a UTF-16 or UTF-32 BOM
// are not scanned (nil, nil): their encoding is written at their start.
func scanWhole(r io.Reader) (*utf8Scan, error) {
	s := &utf8Scan{}
	buf := make([]byte, sniffSize)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	head := buf[:n]
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) || bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")) {
		return nil, nil
	}
	eol := byte('\n')
	if crOnlyLines(head) {
		eol = '\r'
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		n = copy(buf, head[3:]) // the BOM is not text (and says UTF-8: see mixed)
	}
	line, lastBad, keep := 1, 0, 0
	for {
		b, eof := buf[:keep+n], err != nil
		i := 0
		for i < len(b) {
			c := b[i]
			if c < utf8.RuneSelf {
				if c == eol {
					line++
				}
				i++
				continue
			}
			if !eof && !utf8.FullRune(b[i:]) {
				break // completed by the next read
			}
			r, size := utf8.DecodeRune(b[i:])
			switch {
			case r != utf8.RuneError || size > 1:
				if s.firstUTF8 == 0 {
					s.firstUTF8 = line
				}
			case lastBad != line:
				lastBad = line
				s.nbad++
				if len(s.bad) < maxBadLines {
					s.bad = append(s.bad, line)
				}
			}
			i += size
		}
		if eof {
			return s, nil
		}
		keep = copy(buf, b[i:])
		n, err = io.ReadFull(r, buf[keep:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, err
		}
	}
}

// mixedError is a file that holds both UTF-8 and another encoding.
type mixedError struct {
	bad      []int // lines that are not UTF-8, the first ones
	more     int   // further such lines
	utf8Line int   // a line in UTF-8, 0 for a file with a UTF-8 BOM
}

func (e *mixedError) Error() string {
	lines := make([]string, len(e.bad))
	for i, n := range e.bad {
		lines[i] = strconv.Itoa(n)
	}
	list := strings.Join(lines, ", ")
	if e.more > 0 {
		list += fmt.Sprintf(" and %d more", e.more)
	}
	utf := "the file starts with a UTF-8 byte order mark"
	if e.utf8Line > 0 {
		utf = fmt.Sprintf("line %d is UTF-8", e.utf8Line)
	}
	what := "line " + list + " is"
	if len(e.bad) > 1 || e.more > 0 {
		what = "lines " + list + " are"
	}
	return fmt.Sprintf("the file mixes two encodings: %s not UTF-8 (probably Windows-1252 or Latin-1) while %s; "+
		"reading it either way would garble accented names, so nothing was imported: save the whole file as CSV UTF-8 and import it again", what, utf)
}

// crOnlyLines reports whether the text ends its lines with a lone CR: more
// lone CRs than LFs in its first bytes. Counting rather than "no LF at all"
// copes with a CR file where one CRLF crept in.
func crOnlyLines(head []byte) bool {
	lone, lf := 0, 0
	for i, c := range head {
		switch {
		case c == '\n':
			lf++
		case c == '\r' && (i+1 == len(head) || head[i+1] != '\n'):
			lone++
		}
	}
	return lone > lf
}

// asciiSample returns head with UTF-16 and UTF-32 reduced to one byte per
// code unit (the ASCII ones kept, the others replaced by "x"), so that line
// ends can be counted on bytes; other encodings are returned as they are,
// since CR and LF are single bytes in UTF-8 and Windows-1252.
func asciiSample(head []byte) []byte {
	width, big := 0, false
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe\x00\x00")):
		width = 4
	case bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")):
		width, big = 4, true
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		width = 2
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		width, big = 2, true
	default:
		return head
	}
	out := make([]byte, 0, len(head)/width)
	for i := width; i+width <= len(head); i += width {
		unit := head[i : i+width]
		lo, rest := unit[0], unit[1:]
		if big {
			lo, rest = unit[width-1], unit[:width-1]
		}
		if lo >= utf8.RuneSelf || bytes.ContainsFunc(rest, func(r rune) bool { return r != 0 }) {
			lo = 'x'
		}
		out = append(out, lo)
	}
	return out
}

// The states of utf8Then1252.
const (
	sawASCII = iota // nothing beyond ASCII yet: UTF-8 and Windows-1252 agree
	sawUTF8         // UTF-8 beyond ASCII: a byte that is not UTF-8 is a mixed file
	saw1252         // a byte that is not UTF-8 after ASCII only: Windows-1252
)

// utf8Then1252 decodes a stream whose first 64 KiB are UTF-8 (see
// decodeInput): valid UTF-8 passes through until a byte that is not UTF-8
// comes. If everything before was ASCII, the file is Windows-1252 and the
// rest is decoded so; if UTF-8 accents came before, or come after, the file
// mixes both and reading stops with a *mixedError naming the lines.
type utf8Then1252 struct {
	transform.NopResetter
	state    int
	crOnly   bool
	line     int // the line of the next byte
	utf8Line int // the first line with UTF-8 beyond ASCII
	badLine  int // the first line with a byte that is not UTF-8
}

func (t *utf8Then1252) encoding() string {
	if t.state == saw1252 {
		return EncodingWindows1252
	}
	return EncodingUTF8
}

// Transform implements transform.Transformer.
func (t *utf8Then1252) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	eol := byte('\n')
	if t.crOnly {
		eol = '\r'
	}
	for nSrc < len(src) {
		// Copy runs of ASCII in one go: most files are mostly ASCII.
		end := nSrc
		for end < len(src) && src[end] < utf8.RuneSelf {
			end++
		}
		if end > nSrc {
			n := copy(dst[nDst:], src[nSrc:end])
			t.line += bytes.Count(src[nSrc:nSrc+n], []byte{eol})
			nDst += n
			nSrc += n
			if nSrc < end {
				return nDst, nSrc, transform.ErrShortDst
			}
			continue
		}
		c := src[nSrc]
		if !atEOF && !utf8.FullRune(src[nSrc:]) {
			return nDst, nSrc, transform.ErrShortSrc // completed by the next read
		}
		var out []byte
		var buf [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(src[nSrc:])
		switch valid := r != utf8.RuneError || size > 1; {
		case valid && t.state == saw1252, !valid && t.state == sawUTF8:
			if valid {
				t.utf8Line = t.line
			} else {
				t.badLine = t.line
			}
			return nDst, nSrc, &mixedError{bad: []int{t.badLine}, utf8Line: t.utf8Line}
		case valid:
			if t.state == sawASCII {
				t.state, t.utf8Line = sawUTF8, t.line
			}
			out = src[nSrc : nSrc+size]
		default:
			if t.state == sawASCII {
				t.state, t.badLine = saw1252, t.line
			}
			out, size = buf[:utf8.EncodeRune(buf[:], charmap.Windows1252.DecodeByte(c))], 1
		}
		if nDst+len(out) > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], out)
		nSrc += size
	}
	return nDst, nSrc, nil
}

// lineGuard sits on the decoded text: it turns lone CRs into LFs when the
// file uses them as line ends, and fails on a line longer than maxLineLen.
type lineGuard struct {
	r      io.Reader
	crOnly bool
	prevCR bool // the last byte seen was a CR turned into LF
	run    int  // bytes since the last LF
	line   int  // physical line number of the current byte
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if g.crOnly {
		// Rewrite in place: CR becomes LF, and an LF right after a CR is
		// dropped, so that a file mixing both still counts its lines right.
		w := 0
		for _, c := range p[:n] {
			switch {
			case c == '\r':
				p[w] = '\n'
				w++
				g.prevCR = true
				continue
			case c == '\n' && g.prevCR:
			default:
				p[w] = c
				w++
			}
			g.prevCR = false
		}
		n = w
	}
	// Lines inside one read are shorter than maxLineLen, since reads are
	// at most a buffer long; only the run across reads needs counting.
	b := p[:n]
	first := bytes.IndexByte(b, '\n')
	if first < 0 {
		first = len(b)
	}
	if g.run+first > maxLineLen {
		return 0, i18n.Errorf("import.file.long_line", strconv.Itoa(g.line), strconv.Itoa(maxLineLen))
	}
	if last := bytes.LastIndexByte(b, '\n'); last >= 0 {
		g.line += bytes.Count(b, []byte{'\n'})
		g.run = len(b) - last - 1
	} else {
		g.run += len(b)
	}
	return n, err
}
