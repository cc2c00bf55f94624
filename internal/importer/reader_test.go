package importer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
)

// readResult is everything a Reader gave for one file.
type readResult struct {
	rd     *Reader
	rows   []Row
	errs   []RowError
	fatal  error // from NewReader or Next
	before int   // rows and row errors seen before fatal
}

// readAll drives a Reader the way the importer does.
func readAll(t *testing.T, r io.Reader, name string) readResult {
	t.Helper()
	var res readResult
	res.rd, res.fatal = NewReader(r, name)
	if res.fatal != nil {
		return res
	}
	for {
		row, err := res.rd.Next()
		if err == io.EOF {
			return res
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			res.errs = append(res.errs, *re)
		case err != nil:
			res.fatal = err
			res.before = len(res.rows) + len(res.errs)
			if _, again := res.rd.Next(); again != err {
				t.Errorf("Next after fatal error = %v, want the same error %v", again, err)
			}
			return res
		default:
			res.rows = append(res.rows, row)
		}
	}
}

// readFixture reads testdata/import/name and fails the test on a fatal error.
func readFixture(t *testing.T, name string) readResult {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "import", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := readAll(t, f, name)
	if res.fatal != nil {
		t.Fatalf("reading %s: fatal error %v", name, res.fatal)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if got := res.rd.Progress(); got != fi.Size() {
		t.Errorf("%s: Progress() at EOF = %d, want the file size %d", name, got, fi.Size())
	}
	return res
}

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no Europe/Paris time zone:", err)
	}
	return loc
}

func checkRows(t *testing.T, name string, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: row %d =\n\t%+v\nwant\n\t%+v", name, i, got[i], want[i])
		}
	}
}

// reject is a rejected row as the CLI prints it: its reason in English.
type reject struct {
	Line   int
	Reason string
}

func english(errs []RowError) []reject {
	var out []reject
	for _, e := range errs {
		out = append(out, reject{e.Line, e.Reason.String()})
	}
	return out
}

func checkErrors(t *testing.T, name string, errs []RowError, want []reject) {
	t.Helper()
	if got := english(errs); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: row errors =\n\t%+v\nwant\n\t%+v", name, got, want)
	}
}

func checkColumns(t *testing.T, name string, rd *Reader, want []string) {
	t.Helper()
	var got []string
	for _, c := range rd.Columns() {
		got = append(got, c.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Columns() =\n\t%q\nwant\n\t%q", name, got, want)
	}
}

func TestSemicolonWindows1252(t *testing.T) {
	t.Parallel()
	res := readFixture(t, "semicolon-windows1252.csv")
	if res.rd.Encoding() != EncodingWindows1252 || res.rd.Delimiter() != ';' {
		t.Errorf("Encoding(), Delimiter() = %q, %q, want %q, ';'", res.rd.Encoding(), res.rd.Delimiter(), EncodingWindows1252)
	}
	checkColumns(t, "semicolon-windows1252.csv", res.rd, []string{
		"Prénom → first name", "Nom → last name", "Courriel → email", "Structure → organisation",
	})
	checkRows(t, "semicolon-windows1252.csv", res.rows, []Row{
		{Line: 2, Email: "helene.lefevre@example.org", FirstName: "Hélène", LastName: "Lefèvre", Organisation: "Conseil départemental de l'Hérault"},
		{Line: 3, Email: "francois.coeur@example.org", FirstName: "François", LastName: "Cœur", Organisation: "Œuvre d'insertion Saint-Éloi"},
		{Line: 4, Email: "zoe.muller@example.net", FirstName: "Zoë", LastName: "Müller", Organisation: "Société d’économie mixte « Bâtir »"},
		{Line: 5, Email: "Jean.Dupont@example.com", FirstName: "Jean", LastName: "DUPONT", Organisation: "Régie de quartier à 1 €"},
		{Line: 6, Email: "anais.menard@example.org", FirstName: "Anaïs", LastName: "Ménard"},
	})
	checkErrors(t, "semicolon-windows1252.csv", res.errs, nil)
}

func TestBOMUTF8(t *testing.T) {
	t.Parallel()
	res := readFixture(t, "bom-utf8.csv")
	if res.rd.Encoding() != EncodingUTF8BOM || res.rd.Delimiter() != ',' {
		t.Errorf("Encoding(), Delimiter() = %q, %q, want %q, ','", res.rd.Encoding(), res.rd.Delimiter(), EncodingUTF8BOM)
	}
	// The BOM must not stick to the first header, or "email" is not found.
	checkColumns(t, "bom-utf8.csv", res.rd, []string{
		"email → email", "first name → first name", "last name → last name",
		"organization → organisation", `Téléphone → attribute "Téléphone"`,
	})
	checkRows(t, "bom-utf8.csv", res.rows, []Row{
		{Line: 2, Email: "chloe.bernard@example.org", FirstName: "Chloé", LastName: "Bernard", Organisation: "Mairie de Sète", Attributes: map[string]string{"Téléphone": "04 67 00 00 01"}},
		{Line: 3, Email: "marc.petit@example.net", FirstName: "Marc", LastName: "Petit", Organisation: "Petit, Fils & Cie"},
		{Line: 4, Email: "lea.garcia@example.com", FirstName: "Léa", LastName: "García", Organisation: "GEIQ BTP Occitanie", Attributes: map[string]string{"Téléphone": "04 67 00 00 03"}},
	})
	checkErrors(t, "bom-utf8.csv", res.errs, nil)
}

func TestSendinblueExport(t *testing.T) {
	t.Parallel()
	loc := paris(t)
	res := readFixture(t, "sendinblue-export.csv")
	checkColumns(t, "sendinblue-export.csv", res.rd, []string{
		"EMAIL → email", "NOM → last name", "PRENOM → first name", `SMS → attribute "SMS"`,
		"STRUCTURE → organisation", `LIST_IDS → attribute "LIST_IDS"`,
		`DOUBLE_OPT-IN → attribute "DOUBLE_OPT-IN"`, "EMAIL_BLACKLISTED → unsubscribed flag",
		"SMS_BLACKLISTED → ignored", "ADDED_TIME → consent date", "MODIFIED_TIME → ignored",
	})
	checkRows(t, "sendinblue-export.csv", res.rows, []Row{
		{Line: 2, Email: "sophie.moreau@example.org", FirstName: "Sophie", LastName: "MOREAU", Organisation: "Mairie de Lunel",
			Attributes: map[string]string{"SMS": "+33612345601", "LIST_IDS": "2,7", "DOUBLE_OPT-IN": "Yes"},
			ConsentAt:  time.Date(2019, 3, 14, 10, 21, 5, 0, loc)},
		{Line: 3, Email: "thomas.girard@example.org", FirstName: "Thomas", LastName: "GIRARD", Organisation: "Conseil départemental de l'Hérault",
			Attributes: map[string]string{"LIST_IDS": "2"}, Status: StatusUnsubscribed,
			ConsentAt: time.Date(2018, 11, 2, 16, 45, 0, 0, loc)},
		{Line: 4, Email: "ines.roussel@example.net", FirstName: "Inès", LastName: "ROUSSEL", Organisation: "Chantier d'insertion Les Jardins du Lez",
			Attributes: map[string]string{"SMS": "+33612345603", "LIST_IDS": "7", "DOUBLE_OPT-IN": "No"}, Status: StatusUnsubscribed,
			ConsentAt: time.Date(2020, 6, 30, 8, 0, 0, 0, loc)},
		{Line: 5, Email: "karim.benali@example.com", FirstName: "Karim", LastName: "BENALI", Organisation: "Bâti-Sud Travaux SARL",
			Attributes: map[string]string{"LIST_IDS": "2,7"},
			ConsentAt:  time.Date(2019, 3, 14, 10, 21, 0, 0, loc)},
		{Line: 6, Email: "manon.faure@example.org", FirstName: "Manon", LastName: "FAURE",
			Attributes: map[string]string{"LIST_IDS": "2"}},
	})
	checkErrors(t, "sendinblue-export.csv", res.errs, nil)
}

func TestQuotedNewlines(t *testing.T) {
	t.Parallel()
	res := readFixture(t, "quoted-newlines.csv")
	// Line is the physical line where the record starts, not its ordinal.
	checkRows(t, "quoted-newlines.csv", res.rows, []Row{
		{Line: 2, Email: "anne@example.org", Attributes: map[string]string{"name": "Anne", "comment": "Line one\nline two"}},
		{Line: 4, Email: "bob@example.org", Attributes: map[string]string{"name": "Bob", "comment": `He said "hi", then left`}},
		{Line: 5, Email: "celine@example.org", Attributes: map[string]string{"name": "Céline", "comment": "multi\n\nwith a blank line inside"}},
		{Line: 8, Email: "dan@example.org", Attributes: map[string]string{"name": "Dan", "comment": "plain"}},
	})
	checkErrors(t, "quoted-newlines.csv", res.errs, nil)
}

// Lines of bad-rows.csv, a 100-row export with 5% bad rows. The importer's
// tests use them too: the duplicate is found by the store step, not here.
const (
	badRowsData      = 100 // data rows, lines 2 to 101; lines 102-103 are ";;;"
	badRowsDupFirst  = 20  // camille.roux@example.org
	badRowsDupSecond = 90  // Camille.Roux@Example.ORG, the same mailbox
)

func TestBadRows(t *testing.T) {
	t.Parallel()
	res := readFixture(t, "bad-rows.csv")
	checkErrors(t, "bad-rows.csv", res.errs, []reject{
		{Line: 13, Reason: `invalid address "jean.martin.example.org": missing @`},
		{Line: 37, Reason: "expected 4 fields, got 3"},
		{Line: 58, Reason: `invalid address "paul durand@example.org": space in local part`},
		{Line: 74, Reason: "expected 4 fields, got 5"},
	})
	if got, want := len(res.rows), badRowsData-4; got != want {
		t.Errorf("bad-rows.csv: %d rows, want %d (the trailing ;;; lines are not rows)", got, want)
	}
	lines := map[int]Row{}
	for _, r := range res.rows {
		lines[r.Line] = r
	}
	a, b := lines[badRowsDupFirst], lines[badRowsDupSecond]
	if a.Email != "camille.roux@example.org" || b.Email != "Camille.Roux@example.org" || address.Key(a.Email) != address.Key(b.Email) {
		t.Errorf("bad-rows.csv: lines %d and %d = %q and %q, want one mailbox in two spellings",
			badRowsDupFirst, badRowsDupSecond, a.Email, b.Email)
	}
	for _, r := range res.rows {
		if r.Line < 2 || r.Line > 101 {
			t.Errorf("bad-rows.csv: row at line %d, want lines 2-101", r.Line)
		}
	}
}

func TestTab(t *testing.T) {
	t.Parallel()
	res := readFixture(t, "tab.tsv")
	if res.rd.Delimiter() != '\t' {
		t.Errorf("Delimiter() = %q, want tab", res.rd.Delimiter())
	}
	// Empty fields between tabs must stay where they are.
	checkRows(t, "tab.tsv", res.rows, []Row{
		{Line: 2, Email: "alice@example.org", FirstName: "Alice", LastName: "Martin", Organisation: "ACME BTP", Attributes: map[string]string{"City": "Lyon"}},
		{Line: 3, Email: "bruno@example.org", Organisation: "Mairie de Lodève"},
		{Line: 4, Email: "claire@example.net", FirstName: "Claire", Attributes: map[string]string{"City": "Nîmes"}},
	})
	checkErrors(t, "tab.tsv", res.errs, nil)
}

func TestStatusColumn(t *testing.T) {
	t.Parallel()
	loc := paris(t)
	res := readFixture(t, "status-column.csv")
	checkColumns(t, "status-column.csv", res.rd, []string{
		"Courriel → email", "Statut → status", "Désinscrit → unsubscribed flag", "Date d'inscription → consent date",
	})
	day := time.Date(2019, 3, 14, 0, 0, 0, 0, loc)
	checkRows(t, "status-column.csv", res.rows, []Row{
		{Line: 2, Email: "a1@example.org", Status: StatusActive, ConsentAt: day},
		{Line: 3, Email: "a2@example.org", Status: StatusActive, ConsentAt: time.Date(2019, 3, 14, 10, 21, 0, 0, loc)},
		{Line: 4, Email: "a3@example.org", Status: StatusActive, ConsentAt: time.Date(2019, 3, 14, 10, 21, 5, 0, loc)},
		{Line: 5, Email: "u1@example.org", Status: StatusUnsubscribed, ConsentAt: time.Date(2019, 3, 14, 10, 21, 5, 0, time.UTC)},
		{Line: 6, Email: "u2@example.org", Status: StatusUnsubscribed},
		{Line: 7, Email: "u3@example.org", Status: StatusUnsubscribed},
		{Line: 8, Email: "u4@example.org", Status: StatusUnsubscribed},
		{Line: 9, Email: "u5@example.org", Status: StatusUnsubscribed}, // "actif" but ticked Désinscrit
		{Line: 10, Email: "b1@example.org", Status: StatusBounced},
		{Line: 11, Email: "b2@example.org", Status: StatusBounced},
		{Line: 12, Email: "b3@example.org", Status: StatusBounced}, // bounced beats the unsubscribed flag
		{Line: 13, Email: "c1@example.org", Status: StatusComplained},
		{Line: 14, Email: "c2@example.org", Status: StatusComplained},
		{Line: 15, Email: "n1@example.org"},
		// An unreadable date leaves the row in, without the date, noted.
		{Line: 18, Email: "e3@example.org", Status: StatusActive,
			Notes: []i18n.Message{i18n.M("import.note.date", "03/14/2019", "Date d'inscription")}},
		{Line: 19, Email: "s1@example.org", Status: StatusActive, ConsentAt: day},
	})
	checkErrors(t, "status-column.csv", res.errs, []reject{
		{Line: 16, Reason: `unknown status "en attente" in column "Statut": expected active, unsubscribed, bounced or complained (or actif, désinscrit, rejeté, plainte…)`},
		{Line: 17, Reason: `unreadable value "peut-être" in column "Désinscrit": expected yes or no (oui/non, true/false, 1/0, x or empty)`},
	})
}

// TestFatal covers files that must change nothing: NewReader or Next fails
// with a *FileError naming the file and, where there is one, the line.
func TestFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     string // the error message
		before   int    // rows or row errors Next gave before failing
	}{
		{"empty", "", "x.csv: the file is empty", 0},
		{"blank lines", "\n\r\n\n", "x.csv: no header line: the file holds only blank lines", 0},
		{"only BOM", "\xef\xbb\xbf", "x.csv: no header line: the file holds only blank lines", 0},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00rest of a zip", "x.csv: this is a spreadsheet workbook (.xlsx, .ods), not a CSV file: open it and save it as CSV first", 0},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "x.csv: this is an Excel 97-2003 workbook (.xls), not a CSV file: open it and save it as CSV first", 0},
		{"NUL", "email\na@example.org\x00\n", "x.csv: this file holds NUL bytes: it is not a text CSV file", 0},
		{"no email column", "Prénom;Nom;Téléphone\nJean;Dupont;01\n",
			`x.csv:1: no e-mail column among the headers "Prénom", "Nom", "Téléphone": name the address column "email", "e-mail" or "courriel"`, 0},
		{"no header", "jean@example.org;Jean\nmarie@example.org;Marie\n",
			`x.csv:1: no e-mail column: the first line holds an address ("jean@example.org", "Jean"), so the file has no header line; add one, such as "email;prénom;nom"`, 0},
		{"two email columns", "\nemail;nom;courriel\n",
			`x.csv:2: two e-mail columns, "email" (column 1) and "courriel" (column 3): keep one, or rename the other`, 0},
		{"unclosed quote in header", "email,\"name\nx@example.org,y\n",
			"x.csv:1: a quoted field starting on line 1 runs to line 2 and does not close properly, so the rows in between cannot be told apart: check the quotes on line 1", 0},
		{"unclosed quote swallows rows", "email,name\na@example.org,\"Ann\nb@example.org,Bob\nc@example.org,Cy\n",
			"x.csv:2: a quoted field starting on line 2 runs to line 4 and does not close properly, so the rows in between cannot be told apart: check the quotes on line 2", 0},
		{"quote closed late", "email,name\na@example.org,Ann\nb@example.org,\"Bob\nc@example.org\"x,Cy\n",
			"x.csv:3: a quoted field starting on line 3 runs to line 4 and does not close properly, so the rows in between cannot be told apart: check the quotes on line 3", 1},
		{"line too long", "email\n" + strings.Repeat("a", maxLineLen+10) + "\n",
			"x.csv: line 2 is longer than 1048576 bytes: this is not a CSV file of contacts", 0},
	}
	for _, tt := range tests {
		res := readAll(t, strings.NewReader(tt.in), "x.csv")
		var fe *FileError
		if !errors.As(res.fatal, &fe) || res.fatal.Error() != tt.want || res.before != tt.before {
			t.Errorf("%s: fatal error = %v after %d rows, want *FileError %q after %d", tt.name, res.fatal, res.before, tt.want, tt.before)
		}
	}
}

// TestRowErrors covers rows rejected on their own, the rest of the file read.
func TestRowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		rows     []int // lines of the rows read
		errs     []reject
	}{
		{"bare quote", "email;nom\na@example.org;l\"Église\nb@example.org;B\n", []int{3},
			[]reject{{2, `a " inside an unquoted field (line 2, byte 16): quote the whole field and double the inner quote`}}},
		{"text after closing quote", "email,nom\n\"a@example.org\"x,A\nb@example.org,B\n", []int{3},
			[]reject{{2, `text after the closing quote of a quoted field (byte 15), or a quote that is not doubled`}}},
		{"empty address", "email;nom\n;Dupont\n  ;Durand\n", nil,
			[]reject{{2, `no e-mail address in column "email"`}, {3, `no e-mail address in column "email"`}}},
		{"blank lines skipped", "email;nom\n\na@example.org;A\n;\n ; \n\nb@example.org;B\n;;;;\n", []int{3, 7}, nil},
		{"CR only (old Mac Excel)", "email;nom\ra@example.org;A\rb@example.org;B\r", []int{2, 3}, nil},
		{"mixed CR and CRLF in a CR file", "email;nom\ra@example.org;A\r\nb@example.org;B\r", []int{2, 3}, nil},
		{"spaces before a quote", "email, nom\na@example.org, \"Martin, Jean\"\n", []int{2}, nil},
	}
	for _, tt := range tests {
		res := readAll(t, strings.NewReader(tt.in), "x.csv")
		if res.fatal != nil {
			t.Errorf("%s: fatal error %v", tt.name, res.fatal)
			continue
		}
		var lines []int
		for _, r := range res.rows {
			lines = append(lines, r.Line)
		}
		if !reflect.DeepEqual(lines, tt.rows) || !reflect.DeepEqual(english(res.errs), tt.errs) {
			t.Errorf("%s: rows at lines %v, errors %+v, want %v, %+v", tt.name, lines, res.errs, tt.rows, tt.errs)
		}
	}
}

// TestRowValues covers how cells become a Row.
func TestRowValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Row
	}{
		{"trimmed, NBSP too", "email;prénom;ville\n <jean@EXAMPLE.org> ;\u00a0Jean\u00a0; Sète \n",
			Row{Line: 2, Email: "jean@example.org", FirstName: "Jean", Attributes: map[string]string{"ville": "Sète"}}},
		{"first non-empty of two name columns", "EMAIL;NOM;LASTNAME;PRENOM;FIRSTNAME\nx@example.org;;Dupont;Jean;John\n",
			Row{Line: 2, Email: "x@example.org", LastName: "Dupont", FirstName: "Jean"}},
		{"empty header becomes column N", "email;;\nx@example.org;a;\n",
			Row{Line: 2, Email: "x@example.org", Attributes: map[string]string{"column 2": "a"}}},
		{"weak adresse used when alone", "Nom;Adresse\nDupont;x@example.org\n",
			Row{Line: 2, Email: "x@example.org", LastName: "Dupont"}},
		{"adresse is postal when a courriel exists", "Adresse;Courriel\n1 rue Haute;x@example.org\n",
			Row{Line: 2, Email: "x@example.org", Attributes: map[string]string{"Adresse": "1 rue Haute"}}},
		{"subscribed flag no", "email;abonné\nx@example.org;non\n",
			Row{Line: 2, Email: "x@example.org", Status: StatusUnsubscribed}},
		{"subscribed flag yes", "email;abonné\nx@example.org;Oui\n",
			Row{Line: 2, Email: "x@example.org", Status: StatusActive}},
		{"bounced flag", "email;hard_bounce;plainte\nx@example.org;VRAI;FAUX\n",
			Row{Line: 2, Email: "x@example.org", Status: StatusBounced}},
		{"complained flag beats all", "email;statut;hard_bounce;spam\nx@example.org;désinscrit;1;1\n",
			Row{Line: 2, Email: "x@example.org", Status: StatusComplained}},
		{"single column", "email\nx@example.org\n", Row{Line: 2, Email: "x@example.org"}},
	}
	for _, tt := range tests {
		res := readAll(t, strings.NewReader(tt.in), "x.csv")
		if res.fatal != nil || len(res.errs) != 0 || len(res.rows) != 1 || !reflect.DeepEqual(res.rows[0], tt.want) {
			t.Errorf("%s: rows %+v, errors %+v, fatal %v, want %+v", tt.name, res.rows, res.errs, res.fatal, tt.want)
		}
	}
}

func TestNoDateColumnNeedsNoTimeZone(t *testing.T) {
	t.Parallel()
	rd, err := NewReaderOptions(strings.NewReader("email\nx@example.org\n"), "x.csv", ReaderOptions{})
	if err != nil || rd.loc != nil {
		t.Errorf("NewReaderOptions without date column: loc = %v, err = %v, want nil, nil", rd.loc, err)
	}
	rd, err = NewReaderOptions(strings.NewReader("email;date\nx@example.org;14/03/2019\n"), "x.csv", ReaderOptions{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	row, err := rd.Next()
	if want := time.Date(2019, 3, 14, 0, 0, 0, 0, time.UTC); err != nil || !row.ConsentAt.Equal(want) {
		t.Errorf("Next() = %v, %v, want ConsentAt %v", row.ConsentAt, err, want)
	}
}

func TestRowErrorMessage(t *testing.T) {
	t.Parallel()
	e := &RowError{Line: 12, Reason: i18n.M("import.reject.fields", 4, 3)}
	if got, want := e.Error(), "line 12: expected 4 fields, got 3"; got != want {
		t.Errorf("RowError.Error() = %q, want %q", got, want)
	}
}

func TestDetectComma(t *testing.T) {
	t.Parallel()
	tests := []struct {
		head string
		want rune
	}{
		{"email,nom,prénom\n", ','},
		{"email;nom;prénom\r\n", ';'},
		{"email\tnom\tprénom\n", '\t'},
		{"email\n", ','},                                       // one column
		{"Nom, prénom;Courriel\n", ';'},                        // a tie goes to ;
		{`"Nom; prénom",email,structure` + "\n", ','},          // quoted ; do not count
		{"email;\"a\nb,c,d\";x\na,b,c,d,e,f\n", ';'},           // a header cell with a newline
		{"\n  \r\nemail;nom\n", ';'},                           // blank lines first
		{"email;nom;prénom", ';'},                              // no newline at all
		{"email,nom;prénom,structure,ville\na;b;c;d;e\n", ','}, // only the header counts
	}
	for _, tt := range tests {
		if got := detectComma([]byte(tt.head)); got != tt.want {
			t.Errorf("detectComma(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}
