package edition

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const front = `---
title: Édition spéciale 10 ans !
number: 10
quarter: T1 2020
date: 2020-03-25
subject: "La lettre : 10 ans"
preheader: Dix ans
lists: [Partenaires, Acheteurs publics]
---
`

// frontLines is how many lines front takes, so that tests can name body
// lines by their number in the file.
const frontLines = 9

func parse(t *testing.T, body string) *Edition {
	t.Helper()
	ed, err := Parse("edition.md", []byte(front+body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return ed
}

func TestFrontMatter(t *testing.T) {
	ed := parse(t, "Bonjour.\n")
	want := Edition{
		Title: "Édition spéciale 10 ans !", Number: 10, Quarter: "T1 2020",
		Date: time.Date(2020, 3, 25, 0, 0, 0, 0, time.UTC), Subject: "La lettre : 10 ans",
		Preheader: "Dix ans", Slug: "edition", BodyLine: frontLines + 1,
	}
	if ed.Title != want.Title || ed.Number != want.Number || ed.Quarter != want.Quarter ||
		!ed.Date.Equal(want.Date) || ed.Subject != want.Subject || ed.Preheader != want.Preheader ||
		ed.BodyLine != want.BodyLine {
		t.Errorf("Parse front matter = %+v, want %+v", ed, want)
	}
	if ed.FrontLines["subject"] != 6 || ed.FieldWhere("subject") != "edition.md:6" || ed.FieldWhere("slug") != "edition.md:1" {
		t.Errorf("FrontLines = %v, want subject at 6", ed.FrontLines)
	}
	if got := strings.Join(ed.Lists, "|"); got != "Partenaires|Acheteurs publics" {
		t.Errorf("Lists = %q, want Partenaires|Acheteurs publics", got)
	}
}

func TestBlocks(t *testing.T) {
	body := `Intro **text**.

::: edito title="Tous solidaires" signature="Mme Florence GRANDVALET" role="Chargée de mission"
Cette année…

Deuxième paragraphe.
:::

# Sur le terrain

::: notice title="COVID-19"
Bureaux fermés.
:::

::: article title="Retour sur 10 ans" author="Aude FAYE-HERICK, chargée de mission"
Il y a 10 ans…

::: timeline
### 2010 : Création de la MICS 34
Le Collectif IAE 34…

### 2015 — Achat responsable
Avec le recul…
:::

::: image src="infographie.png" alt="Infographie 2019" link="https://example.org/i" width="400"
La légende, avec un [lien](https://example.org).
:::

::: button href="https://example.org/enquete"
Répondre à l’enquête
:::
:::

::: qa title="Portrait chinois"
### Si j’étais un sens, je serais ?
L’ouïe.

### Si j’étais un outil, je serais ?
Internet.
:::
`
	ed := parse(t, body)
	var kinds []string
	ed.Walk(func(b *Block) { kinds = append(kinds, string(b.Kind)) })
	want := "markdown edito markdown section notice markdown article markdown timeline image button qa"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("block kinds = %q,\nwant %q", got, want)
	}

	b := ed.Blocks
	if b[0].Text != "Intro **text**." || b[0].Line != frontLines+1 {
		t.Errorf("markdown = %q at %d, want %q at %d", b[0].Text, b[0].Line, "Intro **text**.", frontLines+1)
	}
	edito := b[1]
	if edito.Title != "Tous solidaires" || edito.Signature != "Mme Florence GRANDVALET" || edito.Role != "Chargée de mission" || edito.Line != frontLines+3 {
		t.Errorf("edito = %+v", edito)
	}
	if got := edito.Children[0].Text; got != "Cette année…\n\nDeuxième paragraphe." {
		t.Errorf("edito text = %q", got)
	}
	if b[2].Kind != Section || b[2].Title != "Sur le terrain" {
		t.Errorf("section = %+v", b[2])
	}
	if b[3].Title != "COVID-19" {
		t.Errorf("notice title = %q, want COVID-19", b[3].Title)
	}
	art := b[4]
	if art.Title != "Retour sur 10 ans" || art.Author != "Aude FAYE-HERICK, chargée de mission" {
		t.Errorf("article = %+v", art)
	}
	tl := art.Children[1]
	if len(tl.Entries) != 2 {
		t.Fatalf("timeline entries = %d, want 2", len(tl.Entries))
	}
	e := tl.Entries[0]
	if e.Date != "2010" || e.Title != "Création de la MICS 34" || e.Text != "Le Collectif IAE 34…" || e.Line != frontLines+19 || e.TextLine != frontLines+20 {
		t.Errorf("entry 0 = %+v", e)
	}
	if e := tl.Entries[1]; e.Date != "2015" || e.Title != "Achat responsable" {
		t.Errorf("entry 1 = %+v, want 2015 / Achat responsable", e)
	}
	img := art.Children[2]
	if img.Src != "infographie.png" || img.Alt != "Infographie 2019" || img.Link != "https://example.org/i" || img.Width != 400 || img.Text != "La légende, avec un [lien](https://example.org)." {
		t.Errorf("image = %+v", img)
	}
	btn := art.Children[3]
	if btn.Href != "https://example.org/enquete" || btn.Text != "Répondre à l’enquête" {
		t.Errorf("button = %+v", btn)
	}
	qa := b[5]
	if qa.Title != "Portrait chinois" || len(qa.Entries) != 2 || qa.Entries[0].Title != "Si j’étais un sens, je serais ?" || qa.Entries[0].Text != "L’ouïe." {
		t.Errorf("qa = %+v", qa)
	}
}

func TestCodeFenceHidesBlockSyntax(t *testing.T) {
	ed := parse(t, "```\n::: notice\n# not a section\n```\n")
	if len(ed.Blocks) != 1 || ed.Blocks[0].Kind != Markdown {
		t.Fatalf("blocks = %d (%v), want one markdown block", len(ed.Blocks), ed.Blocks)
	}
}

func TestAttributes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []attr
		err  string
	}{
		{`title="Tous solidaires"`, []attr{{"title", "Tous solidaires"}}, ""},
		{`title='L’ouïe' author=Florence`, []attr{{"title", "L’ouïe"}, {"author", "Florence"}}, ""},
		{`title="« Speed-dating » : \"oui\""`, []attr{{"title", `« Speed-dating » : "oui"`}}, ""},
		{"title=\"a\u00a0:\"", []attr{{"title", "a\u00a0:"}}, ""},
		{`title="open`, nil, "missing closing"},
		{`title`, nil, "has no value"},
		{`title="a" title="b"`, nil, "given twice"},
		{`="a"`, nil, "expected an attribute name"},
	} {
		got, err := parseAttrs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseAttrs(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("parseAttrs(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parseAttrs(%q)[%d] = %v, want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// TestErrors checks that each mistake is reported at its file:line, with a
// message that says what to write.
func TestErrors(t *testing.T) {
	body := func(s string) string { return front + s }
	l := func(n int) string { return "edition.md:" + itoa(frontLines+n) + ": " }
	for _, tc := range []struct {
		name, src, want string
	}{
		{"no front matter", "Bonjour\n", "edition.md:1: the file must start with front matter"},
		{"unclosed front matter", "---\ntitle: x\n", "edition.md:1: front matter is never closed"},
		{"missing title", "---\nsubject: s\ndate: 2020-01-01\n---\n", "edition.md:1: front matter: missing title:"},
		{"unknown key", "---\ntitle: t\nsubject: s\ndate: 2020-01-01\nauteur: x\n---\n", `edition.md:5: front matter: unknown key "auteur"`},
		{"bad date", "---\ntitle: t\nsubject: s\ndate: 25/03/2020\n---\n", `edition.md:4: front matter: date "25/03/2020": want YYYY-MM-DD`},
		{"bad number", "---\ntitle: t\nsubject: s\ndate: 2020-01-01\nnumber: dix\n---\n", `edition.md:5: front matter: number "dix"`},
		{"unquoted colon", "---\ntitle: t\nsubject: La lettre : 10 ans\ndate: 2020-01-01\n---\n", `edition.md:3: front matter: mapping values are not allowed in this context; if a value contains " : ", put it in quotes`},
		{"duplicate key", "---\ntitle: t\ntitle: u\nsubject: s\ndate: 2020-01-01\n---\n", "edition.md:3: front matter"},
		{"unknown block", body("\n::: encadre\ntexte\n:::\n"), l(2) + `unknown block "encadre"`},
		{"unknown attribute", body("::: article title=\"t\" auteur=\"x\"\ntexte\n:::\n"), l(1) + `article: unknown attribute "auteur"`},
		{"missing required", body("::: article author=\"x\"\ntexte\n:::\n"), l(1) + `article: missing title="…"`},
		{"missing signature", body("::: edito title=\"t\"\ntexte\n:::\n"), l(1) + `edito: missing signature="…"`},
		{"image without src", body("::: image alt=\"a\"\n:::\n"), l(1) + `image: missing src="…"`},
		{"bad width", body("::: image src=\"a.png\" width=\"900\"\n:::\n"), l(1) + `image: width "900"`},
		{"button without label", body("::: button href=\"https://x.org\"\n:::\n"), l(1) + "button is empty"},
		{"empty article", body("::: article title=\"t\"\n:::\n"), l(1) + "article is empty"},
		{"never closed", body("texte\n\n::: notice\ntexte\n"), l(3) + "notice is never closed"},
		{"stray close", body("texte\n:::\n"), l(2) + "::: closes no block"},
		{"bad nesting", body("::: notice\n::: article title=\"t\"\nx\n:::\n:::\n"), l(2) + "article cannot go inside notice (line " + itoa(frontLines+1) + ")"},
		{"text before entry", body("::: timeline\nIntro\n### 2010 : x\ny\n:::\n"), l(2) + "timeline: text before the first entry"},
		{"timeline without date", body("::: timeline\n### \ny\n:::\n"), l(2) + "timeline entry needs a date"},
		{"empty timeline", body("::: timeline\n:::\n"), l(1) + "timeline has no entries"},
		{"bad attribute syntax", body("::: notice title=\"x\n:::\n"), l(1) + "notice: attribute title: missing closing"},
		{"not utf-8", "---\ntitle: \xe9t\xe9\n---\n", "edition.md: not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("edition.md", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse = nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error =\n%v\nwant it to contain\n%s", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Parse error %T does not unwrap to *Error", err)
			}
		})
	}
}

func TestErrorListHoldsEveryMistake(t *testing.T) {
	src := front + "::: encadre\nx\n:::\n\n::: article\ny\n:::\n"
	_, err := Parse("e.md", []byte(src))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Parse error = %v, want a list of 2", err)
	}
	if list[0].Line != frontLines+1 || list[1].Line != frontLines+5 {
		t.Errorf("lines = %d, %d, want %d, %d", list[0].Line, list[1].Line, frontLines+1, frontLines+5)
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"docs/examples/2020-edition-10-ans/edition.md", "2020-edition-10-ans"},
		{"editions/Été 2021.md", "ete-2021"},
		{"index.md", "index"},
		{"/srv/lettre/Numéro 12 — Cœur/index.md", "numero-12-coeur"},
	} {
		if got := DefaultSlug(tc.path); got != tc.want {
			t.Errorf("DefaultSlug(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	ed := parse(t, "x\n")
	if ed.Slug != "edition" {
		t.Errorf("Slug = %q, want edition", ed.Slug)
	}
	ed, err := Parse("a/b.md", []byte("---\ntitle: t\nsubject: s\ndate: 2020-01-01\nslug: lettre-10\n---\n"))
	if err != nil || ed.Slug != "lettre-10" {
		t.Errorf("front matter slug = %v, %v, want lettre-10", ed, err)
	}
	if _, err := Parse("a/b.md", []byte("---\ntitle: t\nsubject: s\ndate: 2020-01-01\nslug: Lettre 10\n---\n")); err == nil {
		t.Errorf("slug %q accepted, want an error", "Lettre 10")
	}
}

func TestLocal(t *testing.T) {
	for _, tc := range []struct {
		ref, want string
		ok        bool
	}{
		{"infographie.png", "infographie.png", true},
		{"./images/a.png", "images/a.png", true},
		{"mon%20image.png", "mon image.png", true},
		{"../secret.png", "", false},
		{"images/../../x.png", "", false},
		{"/etc/passwd", "", false},
		{"https://example.org/a.png", "", false},
		{"//cdn.example.org/a.png", "", false},
		{"data:image/png;base64,AAAA", "", false},
		{"", "", false},
	} {
		got, err := CleanLocal(tc.ref)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("CleanLocal(%q) = %q, %v, want %q (ok %v)", tc.ref, got, err, tc.want, tc.ok)
		}
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// Front matter values end up in mail headers: a line break or another
// control character in them is refused where it is written.
func TestFrontMatterOnOneLine(t *testing.T) {
	for _, tc := range []struct{ name, front, want string }{
		{"subject block", "subject: |\n  La lettre\n  Bcc: x@example.org\n", "edition.md:4: front matter: subject contains a line break (U+000A at character 10)"},
		{"subject escape", `subject: "La lettre\r\nBcc: x@example.org"` + "\n", "edition.md:4: front matter: subject contains a line break (U+000D"},
		{"preheader tab", "subject: s\npreheader: \"Dix\\tans\"\n", "edition.md:5: front matter: preheader contains a tab (U+0009"},
		{"subject NEL", "subject: \"A\\NB\"\n", "edition.md:4: front matter: subject contains a line break (U+0085"},
		{"title separator", "subject: s\nquarter: \"T1\u2028 2020\"\n", "edition.md:5: front matter: quarter contains a line break (U+2028"},
		{"escape code", "subject: \"Lettre \\e[31m\"\n", "edition.md:4: front matter: subject contains a control character (U+001B"},
		{"list name", "subject: s\nlists: [\"A\\nB\"]\n", "edition.md:5: front matter: lists: \"A\\nB\" contains a line break"},
	} {
		src := "---\ntitle: Lettre\ndate: 2026-03-20\n" + tc.front + "---\n\nBonjour.\n"
		_, err := Parse("edition.md", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse = %v, want %q", tc.name, err, tc.want)
		}
	}
	// French typography's no-break spaces are not control characters.
	if _, err := Parse("edition.md", []byte("---\ntitle: Lettre\ndate: 2026-03-20\nsubject: \"La lettre\u00a0: 10 ans\u202f!\"\n---\n\nBonjour.\n")); err != nil {
		t.Errorf("Parse(no-break spaces) = %v", err)
	}
}
