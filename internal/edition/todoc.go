package edition

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// markdown reads prose as render does (CommonMark, bare URLs made links,
// ~~strikethrough~~), so that the editor shows what the mail shows.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough))

// converted is a document made from a source, with the text each block
// came from, so that unchanged blocks are written back as they were.
type converted struct {
	doc   *Doc
	front string              // the front matter's lines, fences included
	texts map[string][]string // block key -> original texts, in order
	lines []string
}

// ToDoc converts a parsed edition into the editor's document. What the
// cards cannot show (a table, a quote, code, an image inside prose, a
// block with an unusual caption) becomes a "source" block holding its text
// as written, so that nothing is lost.
func ToDoc(ed *Edition) *Doc {
	return convert(ed).doc
}

func convert(ed *Edition) *converted {
	src := bytes.TrimPrefix(ed.Source, []byte("\xef\xbb\xbf"))
	c := &converted{texts: map[string][]string{}, lines: strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", ""), "\n")}
	if ed.BodyLine >= 2 && ed.BodyLine-1 <= len(c.lines) {
		c.front = strings.Join(c.lines[:ed.BodyLine-1], "\n")
	}
	f := Front{Title: ed.Title, Quarter: ed.Quarter, Subject: ed.Subject, Preheader: ed.Preheader, Lists: ed.Lists}
	if ed.Number != 0 {
		f.Number = Int(strconv.Itoa(ed.Number))
	}
	if !ed.Date.IsZero() {
		f.Date = ed.Date.Format("2006-01-02")
	}
	if _, ok := ed.FrontLines["slug"]; ok {
		f.Slug = ed.Slug
	}
	c.doc = &Doc{Front: f, Document: Blocks{Blocks: c.blocks(ed.Blocks, true)}}
	// The same normalisation as a posted document, so that the two compare
	// (a stray carriage return, a tab in an attribute).
	if nd, err := c.doc.normalized(); err == nil {
		c.doc = nd
	}
	return c
}

// record notes the original text of a block.
func (c *converted) record(b DocBlock, text string) DocBlock {
	k := blockKey(b)
	if nb, err := normBlocks([]DocBlock{b}); err == nil && len(nb) == 1 {
		k = blockKey(nb[0])
	}
	c.texts[k] = append(c.texts[k], text)
	return b
}

// fenced returns the lines of a fenced block, its fences included.
func (c *converted) fenced(b *Block) string {
	if b.Line < 1 || b.EndLine < b.Line || b.EndLine > len(c.lines) {
		return ""
	}
	return strings.TrimRight(strings.Join(c.lines[b.Line-1:b.EndLine], "\n"), " \t\r\n")
}

func (c *converted) blocks(bs []*Block, top bool) []DocBlock {
	out := []DocBlock{}
	for _, b := range bs {
		switch b.Kind {
		case Markdown:
			out = append(out, c.prose(b.Text, top)...)
		case Section:
			out = append(out, c.record(DocBlock{Type: TypeHeader, Data: BlockData{Text: SanitizeInline(escapeText(b.Title)), Level: 1}}, "# "+b.Title))
		default:
			out = append(out, c.record(c.card(b), c.fenced(b)))
		}
	}
	return out
}

// card converts a fenced block, or keeps it as source when its content
// cannot be shown as a card.
func (c *converted) card(b *Block) DocBlock {
	d := BlockData{Title: b.Title}
	var t string
	switch b.Kind {
	case Edito:
		t, d.Signature, d.Role = TypeEdito, b.Signature, b.Role
		d.Body = &Blocks{Blocks: c.blocks(b.Children, false)}
	case Notice:
		t = TypeNotice
		d.Body = &Blocks{Blocks: c.blocks(b.Children, false)}
	case Article:
		t, d.Author = TypeArticle, b.Author
		d.Body = &Blocks{Blocks: c.blocks(b.Children, false)}
	case Timeline, QA:
		t = TypeTimeline
		if b.Kind == QA {
			t = TypeQA
		}
		d.Entries = []DocEntry{}
		for _, e := range b.Entries {
			h := ""
			if e.Line >= 1 && e.Line <= len(c.lines) {
				if m := heading.FindStringSubmatch(c.lines[e.Line-1]); m != nil {
					h = strings.TrimSpace(m[2])
				}
			}
			d.Entries = append(d.Entries, DocEntry{Heading: h, Body: Blocks{Blocks: c.prose(e.Text, false)}})
		}
	case Image:
		t, d.Src, d.Alt, d.Link = TypeImage, b.Src, b.Alt, b.Link
		if b.Width > 0 {
			d.Width = Int(strconv.Itoa(b.Width))
		}
		if b.Text != "" {
			// The caption is a plain text field in the card.
			caption, ok := oneParagraph(b.Text)
			if !ok || caption != escapeText(PlainInline(caption)) {
				return c.source(b)
			}
			d.Caption = PlainInline(caption)
		}
	case Button:
		t, d.Href = TypeButton, b.Href
		label, ok := oneParagraph(b.Text)
		if !ok || label != escapeText(PlainInline(label)) {
			return c.source(b)
		}
		d.Label = PlainInline(label)
	default:
		return c.source(b)
	}
	return DocBlock{Type: t, Data: d}
}

func (c *converted) source(b *Block) DocBlock {
	return DocBlock{Type: TypeSource, Data: BlockData{Text: c.fenced(b)}}
}

// oneParagraph returns the inline HTML of Markdown that is a single
// paragraph of inline rich text.
func oneParagraph(md string) (string, bool) {
	src := []byte(md)
	doc := markdown.Parser().Parse(text.NewReader(src))
	p := doc.FirstChild()
	if p == nil || p.NextSibling() != nil || p.Kind() != ast.KindParagraph {
		return "", false
	}
	s, err := inlineHTML(p, src)
	return s, err == nil
}

// prose splits Markdown into paragraph, header and list blocks, keeping
// the runs it cannot show as cards as source blocks. top says whether it is
// the edition's body, where a level-1 heading is a section (the parser has
// taken those already).
func (c *converted) prose(md string, top bool) []DocBlock {
	out := []DocBlock{}
	if strings.TrimSpace(md) == "" {
		return out
	}
	// A carriage return left by the parser (one not before a line feed)
	// reads as a line end in Markdown: dropped, as the editor would.
	md = strings.ReplaceAll(md, "\r", "")
	src := []byte(md)
	pc := gparser.NewContext()
	doc := markdown.Parser().Parse(text.NewReader(src), gparser.WithContext(pc))
	lines := strings.Split(md, "\n")
	whole := func() []DocBlock {
		t := strings.TrimRight(md, " \t\r\n")
		return []DocBlock{c.record(DocBlock{Type: TypeSource, Data: BlockData{Text: t}}, t)}
	}
	if len(pc.References()) > 0 {
		return whole() // a link reference definition ties blocks together
	}
	lineOf := lineIndex(src)
	type chunk struct {
		start, end int       // lines of the node, both included
		block      *DocBlock // nil: source
	}
	var chunks []chunk
	covered := make([]bool, len(lines))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		start, end := lineSpan(n, src, lineOf)
		if _, ok := n.(*ast.ThematicBreak); ok && start < 0 {
			// A rule holds no text: it is the next line written.
			k := 0
			if len(chunks) > 0 {
				k = chunks[len(chunks)-1].end + 1
			}
			for k < len(lines) && strings.TrimSpace(lines[k]) == "" {
				k++
			}
			start, end = k, k
		}
		if start < 0 || start >= len(lines) {
			return whole()
		}
		switch n.(type) {
		case *ast.FencedCodeBlock: // its fences hold no text
			for start > 0 && !codeFence.MatchString(lines[start]) {
				start--
			}
			for k := end + 1; k < len(lines); k++ {
				if codeFence.MatchString(lines[k]) {
					end = k
					break
				}
			}
		case *ast.Heading: // a setext heading's underline
			if end+1 < len(lines) && setext.MatchString(lines[end+1]) && !heading.MatchString(lines[start]) {
				end++
			}
		}
		if len(chunks) > 0 && start <= chunks[len(chunks)-1].end {
			return whole()
		}
		for k := start; k <= end; k++ {
			covered[k] = true
		}
		b, ok := proseBlock(n, src, top)
		ch := chunk{start: start, end: end}
		if ok {
			ch.block = &b
		}
		chunks = append(chunks, ch)
	}
	// A line no node accounts for (an empty list item, a thematic break, a
	// quote's empty line) would be lost between cards: keep it all as text.
	for k, l := range lines {
		if !covered[k] && strings.TrimSpace(l) != "" {
			return whole()
		}
	}
	span := func(from, to int) string { // lines [from, to], trailing blanks dropped
		return strings.TrimRight(strings.Join(lines[from:to+1], "\n"), " \t\r\n")
	}
	for i := 0; i < len(chunks); i++ {
		if chunks[i].block != nil {
			out = append(out, c.record(*chunks[i].block, span(chunks[i].start, chunks[i].end)))
			continue
		}
		// Consecutive runs the cards cannot show make one source block.
		j := i
		for j+1 < len(chunks) && chunks[j+1].block == nil {
			j++
		}
		t := span(chunks[i].start, chunks[j].end)
		out = append(out, c.record(DocBlock{Type: TypeSource, Data: BlockData{Text: t}}, t))
		i = j
	}
	return out
}

// lineIndex returns the offsets where each line of src starts.
func lineIndex(src []byte) []int {
	starts := []int{0}
	for i, ch := range src {
		if ch == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineSpan returns the 0-based first and last lines holding text of a
// block node, or -1 when it holds none (a thematic break, an empty item).
func lineSpan(n ast.Node, src []byte, starts []int) (first, last int) {
	first, last = -1, -1
	at := func(off int) {
		l := sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
		if first < 0 || l < first {
			first = l
		}
		if l > last {
			last = l
		}
	}
	seg := func(start, stop int) {
		at(start)
		if stop > start {
			at(stop - 1)
		}
	}
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if n.Type() == ast.TypeBlock {
			if ls := n.Lines(); ls != nil {
				for i := 0; i < ls.Len(); i++ {
					seg(ls.At(i).Start, ls.At(i).Stop)
				}
			}
		}
		if t, ok := n.(*ast.Text); ok {
			seg(t.Segment.Start, t.Segment.Stop)
		}
		if f, ok := n.(*ast.FencedCodeBlock); ok && f.Info != nil {
			seg(f.Info.Segment.Start, f.Info.Segment.Stop)
		}
		return ast.WalkContinue, nil
	})
	return first, last
}

var setext = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)

// proseBlock converts one top-level Markdown node into a card, if it is
// one the editor shows: a paragraph, a heading of level 2 or 3, a list of
// simple items.
func proseBlock(n ast.Node, src []byte, top bool) (DocBlock, bool) {
	switch n := n.(type) {
	case *ast.Paragraph:
		s, err := inlineHTML(n, src)
		if err != nil {
			return DocBlock{}, false
		}
		return DocBlock{Type: TypeParagraph, Data: BlockData{Text: s}}, true
	case *ast.Heading:
		if n.Level < 2 || n.Level > 3 {
			return DocBlock{}, false
		}
		s, err := inlineHTML(n, src)
		if err != nil || s == "" {
			return DocBlock{}, false
		}
		return DocBlock{Type: TypeHeader, Data: BlockData{Text: s, Level: n.Level}}, true
	case *ast.List:
		items, ok := listItems(n, src, n.IsOrdered())
		if !ok {
			return DocBlock{}, false
		}
		style := "unordered"
		if n.IsOrdered() {
			style = "ordered"
		}
		return DocBlock{Type: TypeList, Data: BlockData{Style: style, Items: items}}, true
	}
	return DocBlock{}, false
}

// listItems converts a list whose items are each one paragraph of inline
// text.
func listItems(l *ast.List, src []byte, ordered bool) ([]ListItem, bool) {
	if l.IsOrdered() != ordered || ordered && l.Start != 1 {
		return nil, false
	}
	var items []ListItem
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		var item ListItem
		k := it.FirstChild()
		if k == nil {
			return nil, false
		}
		if k.Kind() == ast.KindTextBlock || k.Kind() == ast.KindParagraph {
			s, err := inlineHTML(k, src)
			if err != nil || s == "" {
				return nil, false
			}
			item.Content = s
			k = k.NextSibling()
		} else {
			return nil, false
		}
		if k != nil {
			return nil, false // nested lists: the editor's list has one level
		}
		items = append(items, item)
	}
	return items, len(items) > 0
}

// blockKey identifies a block by its type and data, ids left out, so that
// the same card posted back is found among those of the stored source.
func blockKey(b DocBlock) string {
	j, err := json.Marshal(b)
	if err != nil {
		return "?" + b.Type
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return "?" + b.Type
	}
	j, _ = json.Marshal(dropIDs(v))
	return string(j)
}

// dropIDs removes what Editor.js adds that is not content: block ids, the
// save time and the version.
func dropIDs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "id")
		delete(v, "time")
		delete(v, "version")
		for k, x := range v {
			v[k] = dropIDs(x)
		}
	case []any:
		for i, x := range v {
			v[i] = dropIDs(x)
		}
	}
	return v
}
