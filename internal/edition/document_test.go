package edition

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// editorCorpus is every kind of edition the editor must load and save:
// the example, the format summary of its README, and bodies with what the
// cards cannot show.
func editorCorpus(t testing.TB) map[string]string {
	t.Helper()
	example, err := os.ReadFile("../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../docs/examples/2020-edition-10-ans/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "## The format in short\n\n```\n")
	sample, _, _ := strings.Cut(rest, "```\n")
	c := map[string]string{
		"example": string(example),
		"readme":  sample,
		"crlf":    strings.ReplaceAll(front+"Bonjour **à tous**.\n\n- un\n- deux\n", "\n", "\r\n"),
		"prose": front + `Intro with **bold**, *italic*, a [link](https://example.org/a_b?x=1&y=2) and https://example.org.
Second line of the same paragraph\
after a hard break.

## A heading of level 2

### And of level 3

1. first
2. second
   1. nested

- a
- b
  - c

| a | b |
|---|---|
| 1 | 2 |

> A quote

` + "```\ncode\n\n::: not a block\n```" + `

Text with ` + "`code`" + ` and ~~struck~~ and ![img](a.png) and <span>html</span>.

#### Level 4

---

Échappés : \*pas gras\*, 2020\. pas une liste, \# pas un titre, &amp;amp;.
`,
		"cards": front + `::: edito title="L'édito \"cité\"" signature="Prénom NOM" role="Rôle"
Texte.

::: notice title="Note"
Dans l'édito.

::: button href="https://example.org"
Un bouton
:::
:::

::: image src="photo.jpg" alt="Une photo" link="https://example.org" width="300"
Légende & co.
:::
:::

# Section

::: article title="Article" author="Auteur"
::: timeline title="Étapes"
### 2010 : Création

Texte de 2010.

- point

### 2015 — Suite
Texte.
:::

::: qa
### Question ?
Réponse.
:::

::: image src="a.png" alt="A"
Caption with | pipe

Second paragraph makes it source.
:::

::: button href="https://example.org/b"
Label **bold**
:::
:::
`,
		"refdef": front + "See [the site][site].\n\n[site]: https://example.org\n",
	}
	return c
}

// TestDocUnchangedSameBytes loads each edition into the editor's document,
// sends it through JSON as the browser does, and saves it unchanged: the
// source must come back byte for byte.
func TestDocUnchangedSameBytes(t *testing.T) {
	for name, src := range editorCorpus(t) {
		ed, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		j, err := json.Marshal(ToDoc(ed))
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		// Editor.js adds ids and a time; they are not content.
		j = []byte(strings.ReplaceAll(string(j), `"type":`, `"id":"x1","type":`))
		d, err := ParseDoc(j)
		if err != nil {
			t.Fatalf("%s: ParseDoc: %v", name, err)
		}
		d.Document.Time = 1700000000
		got, err := d.Source(ed)
		if err != nil {
			t.Fatalf("%s: Source: %v", name, err)
		}
		if string(got) != src {
			t.Errorf("%s: unchanged document gives another source:\n%s", name, got)
		}
	}
}

// TestDocCanonicalStable writes each document in the canonical form (as if
// every block had changed): it must parse back to the same document.
func TestDocCanonicalStable(t *testing.T) {
	for name, src := range editorCorpus(t) {
		checkStable(t, name, src)
	}
}

func checkStable(t *testing.T, name, src string) {
	t.Helper()
	ed, err := Parse(name, []byte(src))
	if err != nil {
		return
	}
	d := ToDoc(ed)
	canon, err := d.Source(nil)
	if err != nil {
		t.Fatalf("%s: Source: %v", name, err)
	}
	ed2, err := Parse(name, canon)
	if err != nil {
		t.Fatalf("%s: canonical form does not parse: %v\nsource:\n%q\ncanonical:\n%s", name, err, src, canon)
	}
	d2 := ToDoc(ed2)
	if a, b := docKey(d), docKey(d2); a != b {
		t.Fatalf("%s: canonical form reads back as another document\nsource: %q\ncanonical: %q\nbefore: %s\nafter:  %s", name, src, canon, a, b)
	}
}

func TestDocSourceBlocks(t *testing.T) {
	ed, err := Parse("cards", []byte(editorCorpus(t)["cards"]))
	if err != nil {
		t.Fatal(err)
	}
	d := ToDoc(ed)
	var kinds []string
	for _, b := range d.Document.Blocks {
		kinds = append(kinds, b.Type)
	}
	if got := strings.Join(kinds, " "); got != "edito header article" {
		t.Fatalf("ToDoc blocks = %s, want edito header article", got)
	}
	art := d.Document.Blocks[2].Data.Body.Blocks
	var inner []string
	for _, b := range art {
		inner = append(inner, b.Type)
	}
	if got := strings.Join(inner, " "); got != "timeline qa source source" {
		t.Errorf("article body = %s, want timeline qa source source (a two-paragraph caption and a bold label are source)", got)
	}
	if got := art[2].Data.Text; !strings.HasPrefix(got, `::: image src="a.png"`) || !strings.HasSuffix(got, ":::") {
		t.Errorf("source block = %q, want the image block as written", got)
	}
}

// TestDocEditedBlocks changes one block of each type: the changed block is
// written in the canonical form, parses back to the edited document, and
// every other block keeps its text as written.
func TestDocEditedBlocks(t *testing.T) {
	src := editorCorpus(t)["cards"] + "\nUn  paragraphe   écrit\nsur deux lignes.\n\n- un\n- deux\n\n## Titre\n"
	tests := []struct {
		name string
		edit func(d *Doc)
		want string // in the new source
	}{
		{"paragraph", func(d *Doc) {
			last(d, TypeParagraph).Data.Text = "Texte <b>gras</b> avec * et _ et [x] et <a href=\"https://e.org/(a)\">lien</a>"
		},
			`Texte **gras** avec \* et \_ et \[x\] et [lien](https://e.org/\(a\))`},
		{"paragraph line starts", func(d *Doc) {
			last(d, TypeParagraph).Data.Text = "1. pas une liste<br>- ni ça<br># ni un titre<br>::: ni un bloc"
		},
			"1\\. pas une liste\\\n\\- ni ça\\\n\\# ni un titre\\\n\\::: ni un bloc"},
		{"paragraph script", func(d *Doc) {
			last(d, TypeParagraph).Data.Text = `<script>alert(1)</script><span style="x">Bonjour</span> <img src=x onerror=alert(1)>&lt;b&gt;`
		}, "Bonjour \\<b>"},
		{"header", func(d *Doc) { last(d, TypeHeader).Data.Text = "Nouveau <i>titre</i> C#" }, `## Nouveau *titre* C\#`},
		{"section", func(d *Doc) { d.Document.Blocks[1].Data.Text = "Sur <b>le</b> terrain" }, "# Sur le terrain"},
		{"list", func(d *Doc) {
			l := last(d, TypeList)
			l.Data.Style = "ordered"
			l.Data.Items = []ListItem{{Content: "un"}, {Content: "deux <b>bis</b>"}}
		}, "1. un\n2. deux **bis**"},
		{"edito", func(d *Doc) { d.Document.Blocks[0].Data.Signature = `Marie "la" DUPONT` }, `::: edito title="L'édito \"cité\"" signature="Marie \"la\" DUPONT" role="Rôle"`},
		{"notice", func(d *Doc) { d.Document.Blocks[0].Data.Body.Blocks[1].Data.Title = "Attention" }, `::: notice title="Attention"`},
		{"article", func(d *Doc) { d.Document.Blocks[2].Data.Author = "Autre" }, `::: article title="Article" author="Autre"`},
		{"timeline", func(d *Doc) {
			tl := &d.Document.Blocks[2].Data.Body.Blocks[0]
			tl.Data.Entries = append(tl.Data.Entries, DocEntry{Heading: "2020 : Dix ans", Body: Blocks{Blocks: []DocBlock{{Type: TypeParagraph, Data: BlockData{Text: "Fête."}}}}})
		}, "### 2020 : Dix ans\n\nFête.\n:::"},
		{"qa", func(d *Doc) { d.Document.Blocks[2].Data.Body.Blocks[1].Data.Entries[0].Heading = "Autre question ?" }, "### Autre question ?\n\nRéponse."},
		{"image", func(d *Doc) {
			img := &d.Document.Blocks[0].Data.Body.Blocks[2]
			img.Data.Alt, img.Data.Width, img.Data.Caption = "Autre", "", "Nouvelle *légende* a < b"
		}, "::: image src=\"photo.jpg\" alt=\"Autre\" link=\"https://example.org\"\nNouvelle \\*légende\\* a \\< b\n:::"},
		{"button", func(d *Doc) {
			btn := &d.Document.Blocks[0].Data.Body.Blocks[1].Data.Body.Blocks[1]
			btn.Data.Label = "S'inscrire *vite*"
		}, "::: button href=\"https://example.org\"\nS'inscrire \\*vite\\*\n:::"},
		{"source", func(d *Doc) { d.Document.Blocks[2].Data.Body.Blocks[2].Data.Text = "> une citation\n> sur deux lignes" }, "> une citation\n> sur deux lignes"},
		{"front", func(d *Doc) {
			d.Front.Subject, d.Front.Number, d.Front.Lists = "Sujet : avec deux-points", "11", []string{"Partenaires", "A, B"}
		}, "subject: \"Sujet : avec deux-points\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ed, err := Parse("cards", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			d := ToDoc(ed)
			tt.edit(d)
			got, err := d.Source(ed)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("source lacks %q:\n%s", tt.want, got)
			}
			// Untouched blocks keep their text.
			for _, keep := range []string{"Un  paragraphe   écrit\nsur deux lignes.", "::: qa\n### Question ?\nRéponse.\n:::", "### 2015 — Suite\nTexte."} {
				if tt.name != "qa" && tt.name != "timeline" && tt.name != "paragraph" && tt.name != "paragraph line starts" && tt.name != "paragraph script" && !strings.Contains(string(got), keep) {
					t.Errorf("an unchanged block lost its text %q:\n%s", keep, got)
				}
			}
			ed2, err := Parse("cards", got)
			if err != nil {
				t.Fatalf("edited source does not parse: %v\n%s", err, got)
			}
			want, _ := d.normalized()
			if a, b := docKey(want), docKey(ToDoc(ed2)); a != b {
				t.Errorf("edited source reads back as another document:\nwant %s\ngot  %s", a, b)
			}
		})
	}
}

func last(d *Doc, typ string) *DocBlock {
	for i := len(d.Document.Blocks) - 1; i >= 0; i-- {
		if d.Document.Blocks[i].Type == typ {
			return &d.Document.Blocks[i]
		}
	}
	panic("no " + typ)
}

func TestSanitizeInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a <strong>b</strong> <em>c</em>", "a <b>b</b> <i>c</i>"},
		{"<b> gras </b>fin", " <b>gras</b> fin"[1:]},
		{"<b><b>x</b></b>", "<b>x</b>"},
		{`<a href="https://e.org" onclick="x()">l</a>`, `<a href="https://e.org">l</a>`},
		{"<a>sans lien</a>", "sans lien"},
		{"un<br>deux<br>", "un<br>deux"},
		{"<script>alert(1)</script>ok", "ok"},
		{"<div>a &amp; b</div>", "a &amp; b"},
		{"l&nbsp;: x", "l\u00a0: x"},
	}
	for _, tt := range tests {
		if got := SanitizeInline(tt.in); got != tt.want {
			t.Errorf("SanitizeInline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDocListShapes(t *testing.T) {
	d, err := ParseDoc([]byte(`{"front":{"number":"12","date":"2020-06-25"},"document":{"blocks":[
		{"type":"list","data":{"style":"unordered","items":["un",{"content":"deux","meta":{},"items":["trois"]}]}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	it := d.Document.Blocks[0].Data.Items
	if len(it) != 2 || it[0].Content != "un" || it[1].Items[0].Content != "trois" || d.Front.Number != "12" {
		t.Errorf("ParseDoc = %+v", d)
	}
}

func FuzzDocRoundTrip(f *testing.F) {
	for _, src := range editorCorpus(f) {
		f.Add(src)
	}
	f.Add(front + "*a***b**\n")
	f.Add(front + "a\n- b\n+ c\n")
	f.Fuzz(func(t *testing.T, src string) {
		ed, err := Parse("fuzz", []byte(src))
		if err != nil {
			return
		}
		d := ToDoc(ed)
		same, err := d.Source(ed)
		if err != nil || string(same) != string(ed.Source) {
			t.Fatalf("unchanged document: %v, %q", err, same)
		}
		checkStable(t, "fuzz", src)
	})
}
