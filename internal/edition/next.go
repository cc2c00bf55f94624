package edition

import (
	"regexp"
	"strconv"
)

// Placeholder is the text that stands for a paragraph emptied by Next: a
// body cannot be empty, and an ellipsis is plainly there to be replaced.
const Placeholder = "…"

// Next returns the document of the edition that follows ed, for the
// quarterly workflow: the same cards, headings, titles, signatures and
// buttons; the date three months later; the quarter and the number
// advanced. With empty, the text is emptied: paragraphs become one
// Placeholder per body, lists, images and source blocks go. The title,
// subject and preheader are kept for staff to change. quarterOK is false
// when the quarter could not be read, and is then left as it was.
func Next(ed *Edition, empty bool) (d *Doc, quarterOK bool) {
	d = ToDoc(ed)
	f := &d.Front
	f.Slug = ""
	if !ed.Date.IsZero() {
		f.Date = ed.Date.AddDate(0, 3, 0).Format("2006-01-02")
	}
	if ed.Number > 0 {
		f.Number = Int(strconv.Itoa(ed.Number + 1))
	}
	quarterOK = true
	if f.Quarter != "" {
		f.Quarter, quarterOK = AdvanceQuarter(f.Quarter)
	}
	if empty {
		d.Document.Blocks = emptied(d.Document.Blocks, false)
	}
	return d, quarterOK
}

// emptied keeps the structure of blocks without their text. inBody says
// whether the blocks are a card's body, which must keep some text.
func emptied(bs []DocBlock, inBody bool) []DocBlock {
	out := []DocBlock{}
	placeholder := func() {
		if n := len(out); n == 0 || out[n-1].Type != TypeParagraph {
			out = append(out, DocBlock{Type: TypeParagraph, Data: BlockData{Text: Placeholder}})
		}
	}
	for _, b := range bs {
		switch b.Type {
		case TypeParagraph, TypeList, TypeSource:
			placeholder()
		case TypeImage:
		case TypeEdito, TypeNotice, TypeArticle:
			b.Data.Body = &Blocks{Blocks: emptied(b.Data.Body.Blocks, true)}
			out = append(out, b)
		case TypeTimeline, TypeQA:
			entries := make([]DocEntry, len(b.Data.Entries))
			for i, e := range b.Data.Entries {
				entries[i] = DocEntry{Heading: e.Heading, Body: Blocks{Blocks: []DocBlock{{Type: TypeParagraph, Data: BlockData{Text: Placeholder}}}}}
			}
			b.Data.Entries = entries
			out = append(out, b)
		default:
			out = append(out, b)
		}
	}
	if inBody && len(out) == 0 {
		placeholder()
	}
	return out
}

var (
	quarterT      = regexp.MustCompile(`(?i)^(.*?\b)([TQ])([1-4])(\s+)([0-9]{4})\b(.*)$`)
	quarterFrench = regexp.MustCompile(`(?i)^(.*?\b)([1-4])(?:er|re|e|ème|eme|nd|nde)(\s+trimestre\s+)([0-9]{4})\b(.*)$`)
)

// AdvanceQuarter returns the quarter after q, in q's own words: "T4 2025"
// gives "T1 2026", "1er trimestre 2020" gives "2e trimestre 2020". It
// reports false, and returns q, when it cannot read q.
func AdvanceQuarter(q string) (string, bool) {
	next := func(n, year string) (int, int) {
		k, _ := strconv.Atoi(n)
		y, _ := strconv.Atoi(year)
		if k == 4 {
			return 1, y + 1
		}
		return k + 1, y
	}
	if m := quarterT.FindStringSubmatch(q); m != nil {
		k, y := next(m[3], m[5])
		return m[1] + m[2] + strconv.Itoa(k) + m[4] + strconv.Itoa(y) + m[6], true
	}
	if m := quarterFrench.FindStringSubmatch(q); m != nil {
		k, y := next(m[2], m[4])
		ord := "e"
		if k == 1 {
			ord = "er"
		}
		return m[1] + strconv.Itoa(k) + ord + m[3] + strconv.Itoa(y) + m[5], true
	}
	return q, false
}
