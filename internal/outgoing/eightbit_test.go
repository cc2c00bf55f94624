package outgoing_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"bulletin/internal/edition"
	"bulletin/internal/outgoing"
	"bulletin/internal/render"
)

// Names that test the encoding of headers: accents, quotes, commas, an
// apostrophe, scripts other than Latin.
var unusualNames = []string{
	`Zoé "Zaza" d'Arc, née Ødegård`,
	"O'Brien, Pat",
	"山田 太郎",
	"Ελένη Παπαδοπούλου",
	`"Already quoted", Jr.`,
}

// exampleBodies renders the example edition, which has every kind of
// block, for a recipient called name.
func exampleBodies(t *testing.T, name string) (html, text string) {
	t.Helper()
	ed, err := edition.ParseFile("../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := render.Load("../../templates", render.Options{Organisation: "MICS 34", PublicURL: "https://lettre.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	first, last, _ := strings.Cut(name, " ")
	return p.RenderStrings(render.Recipient{Email: "zoe@example.net", FirstName: first, LastName: last,
		Organisation:   "Conseil départemental de l’Hérault",
		UnsubscribeURL: "https://lettre.example.org/u/tok", WebViewURL: "https://lettre.example.org/v/tok"})
}

// TestEightBitDecodesAsQuotedPrintable renders each message twice, as
// today for any relay (quoted-printable) and for a relay that announced
// 8BITMIME, and checks that both decode to the same header fields, parts
// and bodies, and that those bodies are the message's own text.
func TestEightBitDecodesAsQuotedPrintable(t *testing.T) {
	b, err := outgoing.NewBuilder(nil)
	if err != nil {
		t.Fatal(err)
	}
	type body struct {
		name       string
		html, text string
		to         string // the recipient's display name
		eightBit   bool   // whether the 8bit rendering is expected to stay 8bit
	}
	var tests []body
	add := func(name, html, text, to string, eightBit bool) {
		tests = append(tests, body{name, html, text, to, eightBit})
	}
	for _, n := range unusualNames {
		html, text := exampleBodies(t, n)
		add("example edition for "+n, html, text, n, true)
	}
	long76 := strings.Repeat("Les clauses sociales des marchés publics, ", 4) // > 76 octets
	add("accents and lines over 76 octets", "<p>"+long76+"</p>\n<p>Été, à bientôt ! ½ € “quotes” \u202f;</p>",
		long76+"\nÉté, à bientôt !\n", "Chloé Dupré", true)
	add("a line of 998 octets", "<p>x"+strings.Repeat("é", 495)+"</p>", strings.Repeat("x", 998), "", true)
	add("a line of 999 octets", "<p>ok</p>", strings.Repeat("x", 999), "", false)
	add("a line of 3000 octets", "<p>"+strings.Repeat("à", 1500)+"</p>", "court\n", "", false)
	add("lines starting with a dot", ".\n..\n.début\n<p>\n.</p>\n", ".\n. point\n...\nfin.\n.", "", true)
	add("trailing spaces and tabs", "<p>fin  \n\tretrait\t\n</p>", "ligne \nautre\t\n \n", "", true)
	add("CRLF and bare CR", "<p>un</p>\r\n<p>deux</p>\r<p>trois</p>", "un\r\ndeux\rtrois\r\n", "", false)
	add("a NUL byte", "<p>a\x00b</p>", "a\x00b", "", false)
	add("HTML only", "<p>Seulement du HTML, é</p>", "", "Zoé", true)
	add("text only", "", "Seulement du texte, é\n", "Zoé", true)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &outgoing.Message{
				From:      outgoing.Address{Name: "MICS 34, Hérault", Addr: "lettre@news.example.org"},
				To:        outgoing.Address{Name: tt.to, Addr: "zoe@example.net"},
				Subject:   "Édition spéciale : 10 ans ! « Merci »",
				HTML:      tt.html,
				Text:      tt.text,
				MessageID: "fixed@news.example.org",
				Date:      time.Date(2026, 1, 25, 9, 0, 0, 0, time.UTC),
				ListID:    "Partenaires <partenaires.news.example.org>",
			}
			qp, err := b.RenderFor(nil, m, false)
			if err != nil {
				t.Fatal(err)
			}
			eb, err := b.RenderFor(nil, m, true)
			if err != nil {
				t.Fatal(err)
			}
			if qp.EightBit || eb.EightBit != tt.eightBit {
				t.Fatalf("EightBit = %v without 8BITMIME, %v with; want false, %v", qp.EightBit, eb.EightBit, tt.eightBit)
			}
			checkLines(t, qp.Data, true)
			checkLines(t, eb.Data, !tt.eightBit)
			want, got := decode(t, qp.Data), decode(t, eb.Data)
			if !slices.Equal(got.fields, want.fields) {
				t.Errorf("8bit header fields =\n%s\nquoted-printable:\n%s", strings.Join(got.fields, "\n"), strings.Join(want.fields, "\n"))
			}
			if !slices.Equal(got.parts, want.parts) {
				t.Errorf("8bit parts differ from the quoted-printable ones:\n%.300q\nwant\n%.300q", got.parts, want.parts)
			}
			// And both are what the message says, line ends made CRLF.
			crlf := strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n")
			var bodies []string
			for _, s := range []string{tt.text, tt.html} {
				if s != "" {
					bodies = append(bodies, crlf.Replace(s))
				}
			}
			if len(got.bodies) != len(bodies) {
				t.Fatalf("%d parts, want %d", len(got.bodies), len(bodies))
			}
			for i := range bodies {
				if got.bodies[i] != bodies[i] {
					t.Errorf("part %d decodes to %.200q, want %.200q", i, got.bodies[i], bodies[i])
				}
			}
			if tt.eightBit && !bytes.Contains(eb.Data, []byte("Content-Transfer-Encoding: 8bit\r\n")) {
				t.Errorf("8bit rendering has no part in 8bit")
			}
		})
	}
}

// checkLines checks that data has CRLF line ends only, no line over 998
// octets and, when sevenBit, no octet above 127.
func checkLines(t *testing.T, data []byte, sevenBit bool) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) {
		t.Error("message has a bare LF or CR, want CRLF line ends only")
	}
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d has %d octets, want at most 998", i+1, len(line))
		}
	}
	if sevenBit {
		for _, c := range data {
			if c > 127 {
				t.Errorf("octet %#x in a 7bit message", c)
				break
			}
		}
	}
}

// decoded is a message as a mail client shows it.
type decoded struct {
	fields []string // "Name: value", encoded words decoded, without Content-Transfer-Encoding
	parts  []string // each part's fields (as above) and body
	bodies []string // each part's decoded body
}

func decode(t *testing.T, data []byte) decoded {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	d := decoded{fields: fieldsOf(t, r.Header.Header.Fields())}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("reading a part: %v", err)
		}
		ih := p.Header.(*mail.InlineHeader)
		d.parts = append(d.parts, fmt.Sprintf("%s\n\n%s", strings.Join(fieldsOf(t, ih.Header.Fields()), "\n"), body))
		d.bodies = append(d.bodies, string(body))
	}
	return d
}

func fieldsOf(t *testing.T, f interface {
	Next() bool
	Key() string
	Text() (string, error)
}) []string {
	t.Helper()
	var out []string
	for f.Next() {
		if strings.EqualFold(f.Key(), "Content-Transfer-Encoding") {
			continue
		}
		v, err := f.Text()
		if err != nil {
			t.Errorf("header %s: %v", f.Key(), err)
		}
		if strings.EqualFold(f.Key(), "Content-Type") {
			// go-mail draws a new boundary for each message.
			typ, params, err := mime.ParseMediaType(v)
			if err != nil {
				t.Errorf("Content-Type %q: %v", v, err)
			}
			delete(params, "boundary")
			v = mime.FormatMediaType(typ, params)
		}
		out = append(out, f.Key()+": "+v)
	}
	return out
}
