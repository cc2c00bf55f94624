package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The encodings Reader.Encoding reports.
const (
	EncodingUTF8        = "UTF-8"
	EncodingUTF8BOM     = "UTF-8 with BOM"
	EncodingWindows1252 = "Windows-1252"
	EncodingUTF16LE     = "UTF-16LE"
	EncodingUTF16BE     = "UTF-16BE"
)

const (
	// sniffSize is how much of the file is looked at before deciding its
	// encoding: enough for a few hundred rows, which is where a French
	// accent almost always shows up.
	sniffSize = 64 << 10

	// maxLineLen bounds one physical line. encoding/csv keeps a whole line
	// in memory; without a bound, a binary file or a file of one endless line
	// would be read whole before any error.
	maxLineLen = 1 << 20
)

// Fatal errors found while sniffing. The workbook errors name the commonest
// wrong upload, the spreadsheet itself, and say what to do instead.
var (
	errWorkbook = errors.New("this is a spreadsheet workbook (.xlsx, .ods), not a CSV file: open it and save it as CSV first")
	errOldExcel = errors.New("this is an Excel 97-2003 workbook (.xls), not a CSV file: open it and save it as CSV first")
	errBinary   = errors.New("this file holds NUL bytes: it is not a text CSV file")
	errEmpty    = errors.New("the file is empty")
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

// decodeInput returns a reader of the file's text as UTF-8, and the name of
// the encoding it found.
//
// The decision is made from the first 64 KiB:
//
//   - a UTF-8 byte order mark: UTF-8 (the BOM is dropped; Excel's "CSV UTF-8"
//     writes one);
//   - a UTF-16 byte order mark: UTF-16 (Excel's "Unicode text" export);
//   - valid UTF-8: UTF-8;
//   - otherwise Windows-1252, what Excel's plain "CSV" writes on a French
//     Windows. It is a superset of ISO-8859-1 for every printable character, so
//     Latin-1 files decode the same.
//
// A file can look like UTF-8 for 64 KiB and hold a Windows-1252 byte later:
// an export sorted by address whose first accented name comes at row 2,000.
// Restarting is not possible on a stream, so in UTF-8 mode every byte that
// does not start a valid UTF-8 sequence is decoded on its own as
// Windows-1252 (see utf8OrWindows1252): "H\xe9rault" still reads "Hérault".
// What this gets wrong is Windows-1252 text after the first 64 KiB that
// happens to form valid UTF-8: an accented letter directly followed by one or
// two symbols from 0x80-0xBF, such as "Ã©", or "voilà" + NBSP + "»" (E0 A0 BB,
// one valid but meaningless character). Files whose first 64 KiB hold no
// accent and whose later text holds such a sequence are rare enough to accept;
// the damage is one garbled word, never a lost or shifted row, since CR, LF,
// quotes and delimiters are ASCII and never part of a multi-byte sequence.
//
// The reader also turns old Mac line ends (a lone CR, still written by Excel's
// "CSV (Macintosh)") into LF, and refuses lines longer than maxLineLen.
func decodeInput(raw *bufio.Reader) (io.Reader, string, error) {
	head, err := raw.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", err
	}
	// Decided before Discard below, which may invalidate head.
	crOnly := crOnlyLines(asciiSample(head))
	var (
		text io.Reader
		enc  string
	)
	switch {
	case len(head) == 0:
		return nil, "", errEmpty
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, "", errWorkbook
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return nil, "", errOldExcel
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		if _, err := raw.Discard(3); err != nil {
			return nil, "", err
		}
		text, enc = transform.NewReader(raw, utf8OrWindows1252{}), EncodingUTF8BOM
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		// ExpectBOM reads the BOM, picks the byte order from it and drops it.
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		text, enc = transform.NewReader(raw, dec), EncodingUTF16LE
		if head[0] == 0xfe {
			enc = EncodingUTF16BE
		}
	case bytes.IndexByte(head, 0) >= 0:
		return nil, "", errBinary
	case validUTF8Prefix(head, len(head) == sniffSize):
		text, enc = transform.NewReader(raw, utf8OrWindows1252{}), EncodingUTF8
	default:
		text, enc = charmap.Windows1252.NewDecoder().Reader(raw), EncodingWindows1252
	}
	return &lineGuard{r: text, crOnly: crOnly, line: 1}, enc, nil
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

// asciiSample returns head with UTF-16 reduced to one byte per code unit
// (the ASCII ones kept, the others replaced by "x"), so that line ends can be
// counted on bytes; other encodings are returned as they are, since CR and LF
// are single bytes in UTF-8 and Windows-1252.
func asciiSample(head []byte) []byte {
	le := bytes.HasPrefix(head, []byte("\xff\xfe"))
	if !le && !bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return head
	}
	out := make([]byte, 0, len(head)/2)
	for i := 2; i+1 < len(head); i += 2 {
		lo, hi := head[i], head[i+1]
		if !le {
			lo, hi = hi, lo
		}
		if hi != 0 || lo >= utf8.RuneSelf {
			lo = 'x'
		}
		out = append(out, lo)
	}
	return out
}

// validUTF8Prefix reports whether p is valid UTF-8; when p is cut from a
// longer file, a sequence cut at the end does not count against it.
func validUTF8Prefix(p []byte, cut bool) bool {
	if cut {
		for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					p = p[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(p)
}

// windows1252 holds the UTF-8 text of bytes 0x80-0xFF in Windows-1252. The
// five bytes Windows-1252 leaves undefined decode to U+FFFD, as in charmap.
var windows1252 = func() (t [128]string) {
	for i := range t {
		t[i] = string(charmap.Windows1252.DecodeByte(byte(0x80 + i)))
	}
	return t
}()

// utf8OrWindows1252 passes valid UTF-8 through and decodes every byte that is
// not part of a valid UTF-8 sequence as Windows-1252 (see decodeInput).
type utf8OrWindows1252 struct{ transform.NopResetter }

// Transform implements transform.Transformer.
func (utf8OrWindows1252) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		// Copy runs of ASCII in one go: most files are mostly ASCII.
		end := nSrc
		for end < len(src) && src[end] < utf8.RuneSelf {
			end++
		}
		if end > nSrc {
			n := copy(dst[nDst:], src[nSrc:end])
			nDst += n
			nSrc += n
			if nSrc < end {
				return nDst, nSrc, transform.ErrShortDst
			}
			continue
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(src[nSrc:]) {
				// The sequence may be completed by the next read.
				return nDst, nSrc, transform.ErrShortSrc
			}
			s := windows1252[src[nSrc]-0x80]
			if nDst+len(s) > len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			nDst += copy(dst[nDst:], s)
			nSrc++
			continue
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], src[nSrc:nSrc+size])
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
		return 0, fmt.Errorf("line %d is longer than %d bytes: this is not a CSV file of contacts", g.line, maxLineLen)
	}
	if last := bytes.LastIndexByte(b, '\n'); last >= 0 {
		g.line += bytes.Count(b, []byte{'\n'})
		g.run = len(b) - last - 1
	} else {
		g.run += len(b)
	}
	return n, err
}
