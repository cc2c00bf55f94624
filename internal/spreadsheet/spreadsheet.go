// Package spreadsheet writes the CSV files Bulletin hands to staff (the
// subscriber export, the reports) so that a spreadsheet opens them as
// meant: RFC 4180 by default, or Excel-flavoured for French Excel, and with
// formulas defused in every cell, headers included. The importer reads the
// same files back with Undefuse.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"strings"
	"time"
)

// Writer writes CSV records, Excel-flavoured or not. Its first error
// sticks: Write then does nothing and Flush returns it, so that a caller
// writing a few records checks once, at the end.
type Writer struct {
	cw    *csv.Writer
	excel bool
	err   error
}

// NewWriter returns a Writer on w. With excel it writes semicolons (the
// comma is the French decimal separator), CRLF line ends, and a UTF-8 byte
// order mark first, without which Excel reads the file as Windows-1252.
func NewWriter(w io.Writer, excel bool) *Writer {
	c := &Writer{cw: csv.NewWriter(w), excel: excel}
	if excel {
		c.cw.Comma, c.cw.UseCRLF = ';', true
		_, c.err = io.WriteString(w, "\uFEFF")
	}
	return c
}

// Excel reports whether the file is Excel-flavoured, for callers that
// format numbers (a decimal comma).
func (c *Writer) Excel() bool { return c.excel }

// Write writes one record, every cell defused (see Defuse), and returns the
// first error met so far, for a caller that wants to stop early. Every
// cell, since the header of one file (an attribute name from a partner's
// CSV) or a list's name is as much someone else's text as an address.
func (c *Writer) Write(rec ...string) error {
	if c.err != nil {
		return c.err
	}
	safe := make([]string, len(rec))
	for i, v := range rec {
		safe[i] = Defuse(v)
	}
	c.err = c.cw.Write(safe)
	return c.err
}

// Flush writes what is buffered and returns the first error met.
func (c *Writer) Flush() error {
	if c.err != nil {
		return c.err
	}
	c.cw.Flush()
	return c.cw.Error()
}

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula (OWASP's list: tab and CR too, which some strip).
const formulaStart = "=+-@\t\r"

// Defuse defuses a spreadsheet formula: a cell written by someone outside
// (the subscribe form, a remote server's bounce) that starts with = + - @
// would run as a formula when staff open the file in Excel or LibreOffice,
// so it gets a leading apostrophe, which spreadsheets show as text. A plain
// number ("-3", "+0,25") is no formula and stays a number. Defusing twice
// changes nothing more.
func Defuse(v string) string {
	if v != "" && strings.IndexByte(formulaStart, v[0]) >= 0 && !number(v) {
		return "'" + v
	}
	return v
}

// number reports whether v is a signed decimal number and nothing else:
// digits with at most one decimal point or comma.
func number(v string) bool {
	digits, point := 0, false
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case (r == '-' || r == '+') && i == 0:
		case (r == '.' || r == ',') && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// Undefuse is the inverse of Defuse, so that a file exported and imported
// again comes back unchanged. Spreadsheets do not write the apostrophe that
// marks a cell as text, so one in front of a formula character is a
// Defuse's.
func Undefuse(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.IndexByte(formulaStart, v[1]) >= 0 {
		return v[1:]
	}
	return v
}

// Time writes t for a CSV cell: RFC 3339 in UTC, empty for the zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
