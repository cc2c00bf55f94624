// Package edition reads the file format staff write a quarterly newsletter in:
// YAML front matter, then a Markdown body with a few fenced blocks for what a
// newsletter needs beyond prose (editorial, notice, article, timeline, image,
// Q&A, button).
//
// A file looks like this:
//
//	---
//	title: Édition spéciale 10 ans !
//	number: 10
//	quarter: T1 2020
//	date: 2020-03-20
//	subject: "La lettre de la MICS 34 : édition spéciale 10 ans"
//	preheader: Dix ans de clauses sociales dans l’Hérault
//	lists: [Partenaires, Acheteurs publics]
//	---
//
//	::: edito title="Tous solidaires" signature="Florence GRANDVALET"
//	Cette année, la MICS 34 a 10 ans !
//	:::
//
//	# Sur le terrain en Hérault
//
//	::: article title="Le Forum de l’achat public" author="Olivier SALAS"
//	Le 27 février, …
//	:::
//
// A line "::: NAME key="value" …" opens a block and a line of colons alone
// closes the innermost open block, so blocks nest without counting colons
// (the rule of Pandoc's fenced divs). A level-1 heading outside any block is a
// section heading. In timeline and qa blocks each heading starts an entry:
// "### 2010 : Création …" (date, then title) or "### Si j’étais un sens ?"
// (the question). The body of an image block is its caption, the body of a
// button block its label.
//
// Parsing checks structure only: unknown blocks, attributes or front matter
// keys and missing required fields are errors that name file:line. Whether the
// content is fit to send (alt text, link schemes, size) is the job of
// render.Check.
package edition

import (
	"time"
)

// Edition is one parsed edition file.
type Edition struct {
	// Title is the edition's headline ("Édition spéciale 10 ans !").
	Title string
	// Number is the issue number (numéro), 0 when the front matter has none.
	Number int
	// Quarter is free text naming the period ("T1 2020").
	Quarter string
	// Date is the publication date, at midnight UTC.
	Date time.Time
	// Subject is the e-mail subject line.
	Subject string
	// Preheader is the preview text mail clients show after the subject.
	Preheader string
	// Lists are the names of the lists the edition is meant for.
	Lists []string
	// Slug names the edition in URLs (/media/<slug>/…): the front matter's
	// slug, or else derived from the file or folder name.
	Slug string

	// Path is the file name the edition was read from, as given.
	Path string
	// Dir is the folder holding the edition; relative image paths are files
	// in it.
	Dir string
	// Source is the whole file as read.
	Source []byte
	// BodyLine is the line of the file where the Markdown body starts.
	BodyLine int
	// FrontLines is the line of each front matter key ("subject": 5), so
	// that findings about a field can point at it.
	FrontLines map[string]int

	// Blocks are the top-level blocks of the body, in order.
	Blocks []*Block
}

// Kind names a kind of block.
type Kind string

// The kinds of block. Markdown and Section come from the body itself (prose
// between blocks, and level-1 headings outside blocks); the others are
// written as "::: kind".
const (
	Markdown Kind = "markdown"
	Section  Kind = "section"
	Edito    Kind = "edito"
	Notice   Kind = "notice"
	Article  Kind = "article"
	Timeline Kind = "timeline"
	Image    Kind = "image"
	QA       Kind = "qa"
	Button   Kind = "button"
)

// Block is one block of the body.
type Block struct {
	Kind Kind
	// Line is where the block starts in the file (its opening fence, its
	// heading, or its first line of prose).
	Line int
	// EndLine is the line of a fenced block's closing fence, so that the
	// editor can keep the text of a block nobody changed (0 for prose and
	// sections).
	EndLine int

	// Title is the heading of an edito, notice, article or qa block, or the
	// text of a section heading.
	Title string
	// Author is the credit of an article ("Aude FAYE-HERICK, chargée de
	// mission").
	Author string
	// Signature and Role sign an edito.
	Signature string
	Role      string
	// Src, Alt and Link describe an image block; Width is its display width
	// in CSS pixels, 0 for "as wide as the column".
	Src   string
	Alt   string
	Link  string
	Width int
	// Href is where a button leads.
	Href string

	// Text is Markdown: the prose of a markdown block, the caption of an
	// image, the label of a button.
	Text string
	// TextLine is the line of the file where Text starts, so that findings
	// inside it can name their line.
	TextLine int

	// Children are the blocks inside an edito, notice or article.
	Children []*Block
	// Entries are the dated entries of a timeline or the questions of a qa
	// block.
	Entries []*Entry
}

// Entry is one entry of a timeline (a date, a title and prose) or of a qa
// block (a question, in Title, and its answer).
type Entry struct {
	// Line is the line of the entry's heading.
	Line int
	// Date is the date of a timeline entry ("2010"); empty in a qa block.
	Date string
	// Title is the timeline entry's title, or the question.
	Title string
	// Text is the entry's Markdown, starting at line TextLine.
	Text     string
	TextLine int
}

// Walk calls fn for every block of the edition, depth first, in document
// order.
func (ed *Edition) Walk(fn func(b *Block)) {
	var walk func(bs []*Block)
	walk = func(bs []*Block) {
		for _, b := range bs {
			fn(b)
			walk(b.Children)
		}
	}
	walk(ed.Blocks)
}

// FieldWhere returns "file:line" of a front matter key, or of the front
// matter's first line if the key is absent.
func (ed *Edition) FieldWhere(key string) string {
	if n, ok := ed.FrontLines[key]; ok {
		return ed.Where(n)
	}
	return ed.Where(1)
}

// Where returns "file:line" for a line of the edition, the form every error
// and finding uses.
func (ed *Edition) Where(line int) string {
	return where(ed.Path, line)
}
