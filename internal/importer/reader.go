package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
	"bulletin/internal/spreadsheet"
)

// Row is one valid row of the file.
type Row struct {
	Line         int    // physical line of the file where the row starts, from 1
	Email        string // normalised by address.Normalize
	FirstName    string
	LastName     string
	Organisation string
	// Attributes holds the non-empty cells of the columns that have no role,
	// keyed by header; nil when there are none. An empty cell is left out
	// rather than stored as "": a spreadsheet cannot tell "unknown" from
	// "nothing", and an import should not erase what is known.
	Attributes map[string]string
	// Status is "" when the file says nothing, or one of StatusActive,
	// StatusUnsubscribed, StatusBounced, StatusComplained.
	Status string
	// ConsentAt is when the person subscribed, zero when the file does not say.
	ConsentAt time.Time
	// Notes say what of the row was left out although the row is valid:
	// a sign-up date that cannot be read.
	Notes []i18n.Message
}

// RowError is a rejected row: the file is fine, this row is not. The caller
// counts it and goes on.
type RowError struct {
	Line int // physical line where the row starts
	// Reason says what is wrong, naming the value or the column; the
	// console shows it in the reader's language, the CLI in English.
	Reason i18n.Message
}

// Error returns "line N: reason", in English.
func (e *RowError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// FileError is a fatal error: the file cannot be read as a whole (not CSV,
// no e-mail column, an unclosed quote, a read error). The caller must then
// change nothing, since the rows already read may not be what the person
// meant.
type FileError struct {
	Name string // the file name given to NewReader
	Line int    // the line concerned, 0 when none is
	Err  error
}

// Error returns "name:line: reason", the form editors and terminals link.
func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// Message returns the error as a message for the console, in the reader's
// language when the cause is one of the importer's own.
func (e *FileError) Message() i18n.Message {
	where := e.Name
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Name, e.Line)
	}
	return i18n.M("import.file.where", where, i18n.MessageOf(e.Err))
}

// ReaderOptions tunes a Reader. The zero value is what a French
// organisation wants.
type ReaderOptions struct {
	// Location is the time zone of dates written without one. Nil means
	// Europe/Paris, where spreadsheets and SendinBlue accounts of Bulletin's
	// users live. It is only loaded when the file has a date column.
	Location *time.Location
}

// Reader reads subscriber rows from a CSV file, one at a time, in constant
// memory whatever the size of the file.
type Reader struct {
	name     string
	count    *countingReader
	csv      *csv.Reader
	cols     []Column
	encoding func() string
	comma    rune
	loc      *time.Location

	// Column indexes by role. Names, organisation and date may come from
	// several columns (an account with both NOM and LASTNAME): the first
	// non-empty cell wins.
	email                         int
	first, last, org, date, attrs []int
	status, flags                 []int

	err error // sticky: io.EOF or the fatal error
}

// NewReader reads the header line of r (the first line that is not blank)
// and maps its columns. name is used in error messages. An error about the
// file is a *FileError.
func NewReader(r io.Reader, name string) (*Reader, error) {
	return NewReaderOptions(r, name, ReaderOptions{})
}

// NewReaderOptions is NewReader with options.
func NewReaderOptions(r io.Reader, name string, opts ReaderOptions) (*Reader, error) {
	fail := func(line int, err error) (*Reader, error) {
		return nil, &FileError{Name: name, Line: line, Err: err}
	}
	// A file that can be read twice (a file on disk, an upload) has its
	// encoding decided on the whole of it, before any row is read.
	var whole *utf8Scan
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return fail(0, err)
		}
		if whole, err = scanWhole(rs); err != nil {
			return fail(0, err)
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return fail(0, err)
		}
	}
	count := &countingReader{r: r}
	text, enc, err := decodeInput(bufio.NewReaderSize(count, sniffSize), whole)
	if err != nil {
		return fail(0, err)
	}
	buf := bufio.NewReaderSize(text, sniffSize)
	head, err := buf.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return fail(0, err)
	}
	comma := detectComma(head)

	cr := csv.NewReader(buf) // buf is a large enough *bufio.Reader: used as is
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked here, to say expected and got
	cr.ReuseRecord = true   // one slice for the whole file: flat memory
	// Leading spaces before a quote (`a; "b;c"`) are common in hand-written
	// files; trimming them is harmless since values are trimmed anyway. Not
	// with tabs: encoding/csv would then skip the tab itself and merge an
	// empty field with the next.
	cr.TrimLeadingSpace = comma != '\t'

	rd := &Reader{name: name, count: count, csv: cr, encoding: enc, comma: comma}
	var header []string
	for header == nil {
		rec, err := cr.Read()
		if err == io.EOF {
			return fail(0, i18n.Errorf("import.file.no_header"))
		}
		if err != nil {
			return nil, rd.fileError(err)
		}
		if !blank(rec) {
			header = append([]string(nil), rec...)
		}
	}
	headerLine, _ := cr.FieldPos(0)
	rd.cols, err = mapColumns(header)
	if err != nil {
		return fail(headerLine, err)
	}
	for _, c := range rd.cols {
		switch c.Role {
		case RoleEmail:
			rd.email = c.Index
		case RoleFirstName:
			rd.first = append(rd.first, c.Index)
		case RoleLastName:
			rd.last = append(rd.last, c.Index)
		case RoleOrganisation:
			rd.org = append(rd.org, c.Index)
		case RoleStatus:
			rd.status = append(rd.status, c.Index)
		case RoleFlag:
			rd.flags = append(rd.flags, c.Index)
		case RoleConsentDate:
			rd.date = append(rd.date, c.Index)
		case RoleAttribute:
			rd.attrs = append(rd.attrs, c.Index)
		}
	}
	rd.loc = opts.Location
	if rd.loc == nil && len(rd.date) > 0 {
		rd.loc, err = time.LoadLocation("Europe/Paris")
		if err != nil {
			return nil, fmt.Errorf("importer: dates need the Europe/Paris time zone: %w (set ReaderOptions.Location, or build with time/tzdata)", err)
		}
	}
	return rd, nil
}

// detectComma picks the delimiter from the header line: the one of ",", ";"
// and tab that occurs most outside quotes. French Excel writes ";", since ","
// is the French decimal separator. A tie goes to ";" then tab, as a header
// like "Nom, prénom;Courriel" is French before it is anything else; a header
// with no delimiter at all is a one-column file, read with ",".
func detectComma(head []byte) rune {
	// Skip lines of white space before the header, as NewReader does.
	for {
		line, rest, found := bytes.Cut(head, []byte{'\n'})
		if !found || len(bytes.Trim(line, " \r")) > 0 {
			break
		}
		head = rest
	}
	var n [3]int // ';', '\t', ','
	inQuote := false
scan:
	for _, c := range head {
		switch c {
		case '"':
			inQuote = !inQuote
		case '\n':
			if !inQuote {
				break scan
			}
		case ';':
			if !inQuote {
				n[0]++
			}
		case '\t':
			if !inQuote {
				n[1]++
			}
		case ',':
			if !inQuote {
				n[2]++
			}
		}
	}
	best, comma := 0, ','
	for i, c := range []rune{';', '\t', ','} {
		if n[i] > best {
			best, comma = n[i], c
		}
	}
	return comma
}

// Columns describes what the Reader does with each column of the file, in
// file order, for a CLI or UI to show before importing.
func (r *Reader) Columns() []Column {
	return append([]Column(nil), r.cols...)
}

// Progress returns the number of bytes read from the file so far. It may be
// called from another goroutine than the one calling Next.
func (r *Reader) Progress() int64 {
	return r.count.n.Load()
}

// Encoding returns the encoding found: EncodingUTF8, EncodingUTF8BOM,
// EncodingWindows1252, EncodingUTF16LE, EncodingUTF16BE, EncodingUTF32LE or
// EncodingUTF32BE. For a file read as a stream (see decodeInput) it may
// change from EncodingUTF8 to EncodingWindows1252 as reading goes.
func (r *Reader) Encoding() string { return r.encoding() }

// Delimiter returns the field delimiter found: ',', ';' or '\t'.
func (r *Reader) Delimiter() rune { return r.comma }

// Next returns the next row. At the end of the file it returns io.EOF. A
// rejected row gives a *RowError: count it and call Next again. Any other
// error is a *FileError, fatal: the file cannot be trusted, so the caller
// must change nothing, and Next keeps returning that error.
//
// Lines that are blank, or hold only delimiters (";;;;", which Excel leaves
// at the end of a sheet), are skipped and not counted.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		rec, err := r.csv.Read()
		if err == io.EOF {
			r.err = io.EOF
			return Row{}, r.err
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if reason, rowOnly := parseErrorReason(pe); rowOnly {
					return Row{}, &RowError{Line: pe.StartLine, Reason: reason}
				}
			}
			r.err = r.fileError(err)
			return Row{}, r.err
		}
		if blank(rec) {
			continue
		}
		line, _ := r.csv.FieldPos(0)
		if len(rec) != len(r.cols) {
			return Row{}, &RowError{Line: line, Reason: i18n.M("import.reject.fields", len(r.cols), len(rec))}
		}
		return r.row(line, rec)
	}
}

// parseErrorReason explains a CSV syntax error in words, and says whether it
// spoils only its own row.
//
// A stray quote in an unquoted field (`5 rue de l"Église`) and text after a
// closing quote on the same line leave encoding/csv at the start of the next
// line: that row alone is lost. A quoted field whose closing quote does not
// come on its own line is another matter: encoding/csv reads on, through
// newlines, as part of the field, and the rows it swallowed cannot be
// counted. Importing the rest would drop people without saying who, so that
// is fatal.
func parseErrorReason(pe *csv.ParseError) (reason i18n.Message, rowOnly bool) {
	// Line numbers go as text: a reader writes "ligne 1234", not "1 234".
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return i18n.M("import.reject.bare_quote", strconv.Itoa(pe.Line), pe.Column), true
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line == pe.StartLine:
		return i18n.M("import.reject.after_quote", pe.Column), true
	case errors.Is(pe.Err, csv.ErrQuote):
		start := strconv.Itoa(pe.StartLine)
		return i18n.M("import.file.open_quote", start, strconv.Itoa(pe.Line), start), false
	}
	return i18n.M("import.file.csv", pe.Err.Error()), false
}

// fileError wraps an error from encoding/csv or from reading the file.
func (r *Reader) fileError(err error) *FileError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason, _ := parseErrorReason(pe)
		return &FileError{Name: r.name, Line: pe.StartLine, Err: &i18n.Error{Msg: reason}}
	}
	return &FileError{Name: r.name, Err: err}
}

// blank reports whether every field of rec is empty or white space.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// row builds the Row for a record of the right length.
func (r *Reader) row(line int, rec []string) (Row, error) {
	reject := func(key string, args ...any) (Row, error) {
		return Row{}, &RowError{Line: line, Reason: i18n.M(key, args...)}
	}
	raw := cell(rec[r.email])
	if raw == "" {
		return reject("import.reject.no_email", r.cols[r.email].Header)
	}
	email, err := address.Normalize(raw)
	if err != nil {
		var ae *address.Error
		errors.As(err, &ae) // Normalize's errors are all *address.Error
		return Row{}, &RowError{Line: line, Reason: ae.Message()}
	}
	row := Row{
		Line:         line,
		Email:        email,
		FirstName:    firstValue(rec, r.first),
		LastName:     firstValue(rec, r.last),
		Organisation: firstValue(rec, r.org),
	}

	var fb [32]byte // folded values are short: folding them does not allocate
	for _, i := range r.status {
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		s, ok := statusWords[string(appendFold(fb[:0], v))]
		if !ok {
			return reject("import.reject.status", v, r.cols[i].Header)
		}
		row.Status = worse(row.Status, s)
	}
	for _, i := range r.flags {
		v := strings.TrimSpace(rec[i])
		yes, ok := flagWords[string(appendFold(fb[:0], v))]
		if !ok {
			return reject("import.reject.flag", v, r.cols[i].Header)
		}
		s := r.cols[i].IfNo
		if yes {
			s = r.cols[i].IfYes
		}
		row.Status = worse(row.Status, s)
	}

	for _, i := range r.date {
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		t, ok := parseDate(v, r.loc)
		if !ok {
			// The person is no less subscribed for a date nobody can
			// read: the row goes in, dated by the import, and the report
			// says which date was left out.
			row.Notes = append(row.Notes, i18n.M("import.note.date", v, r.cols[i].Header))
			continue
		}
		row.ConsentAt = t
		break
	}

	for _, i := range r.attrs {
		v := cell(rec[i])
		if v == "" {
			continue
		}
		if row.Attributes == nil {
			row.Attributes = make(map[string]string, len(r.attrs))
		}
		// Two columns with one header: the first non-empty cell wins, as
		// for names.
		if _, dup := row.Attributes[r.cols[i].Key]; !dup {
			row.Attributes[r.cols[i].Key] = v
		}
	}
	return row, nil
}

// firstValue returns the first non-empty cell among the columns idx.
func firstValue(rec []string, idx []int) string {
	for _, i := range idx {
		if v := cell(rec[i]); v != "" {
			return v
		}
	}
	return ""
}

// cell returns the text of a cell that people typed: trimmed, and without
// the apostrophe Export puts before a formula (spreadsheet.Undefuse), so
// that an export imported again changes nothing.
func cell(v string) string {
	return strings.TrimSpace(spreadsheet.Undefuse(v))
}

// worse returns whichever of two statuses suppresses more.
func worse(a, b string) string {
	if severity[b] > severity[a] {
		return b
	}
	return a
}
