package edition

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source writes the document as an edition file. orig is the edition the
// document was loaded from, or nil for a new one. When the document is the
// one orig gives (block ids aside), orig's source comes back byte for
// byte; otherwise the front matter and each block that equal one of orig's
// keep their text as written, and only what changed is written afresh in
// the canonical form (docs/examples/2020-edition-10-ans/README.md), which
// Parse reads back to the same document.
func (d *Doc) Source(orig *Edition) ([]byte, error) {
	nd, err := d.normalized()
	if err != nil {
		return nil, err
	}
	w := &writer{texts: map[string][]string{}}
	var c *converted
	if orig != nil {
		c = convert(orig)
		if docKey(nd) == docKey(c.doc) {
			return orig.Source, nil
		}
		for k, v := range c.texts {
			w.texts[k] = append([]string(nil), v...)
		}
	}
	var b strings.Builder
	if c != nil && c.front != "" && frontKey(nd.Front) == frontKey(c.doc.Front) {
		b.WriteString(c.front)
	} else {
		b.WriteString(canonicalFront(nd.Front))
	}
	b.WriteString("\n")
	if body := w.blocks(nd.Document.Blocks, ctxTop); body != "" {
		b.WriteString("\n" + body + "\n")
	}
	return []byte(b.String()), nil
}

func docKey(d *Doc) string {
	var parts []string
	parts = append(parts, frontKey(d.Front))
	for _, b := range d.Document.Blocks {
		parts = append(parts, blockKey(b))
	}
	return strings.Join(parts, "\n")
}

func frontKey(f Front) string {
	if len(f.Lists) == 0 {
		f.Lists = nil
	}
	if f.Number == "0" {
		f.Number = ""
	}
	j, _ := json.Marshal(f)
	return string(j)
}

// normalized returns a copy of the document as the converter would make
// it: inline HTML sanitised, plain fields trimmed and on one line, empty
// paragraphs dropped. It refuses block types it does not know.
func (d *Doc) normalized() (*Doc, error) {
	f := d.Front
	for _, p := range []*string{&f.Title, &f.Quarter, &f.Date, &f.Subject, &f.Preheader, &f.Slug} {
		*p = strings.TrimSpace(*p)
	}
	f.Number = Int(strings.TrimSpace(string(f.Number)))
	var lists []string
	for _, l := range f.Lists {
		if l = strings.TrimSpace(l); l != "" {
			lists = append(lists, l)
		}
	}
	f.Lists = lists
	bs, err := normBlocks(d.Document.Blocks)
	if err != nil {
		return nil, err
	}
	return &Doc{Front: f, Document: Blocks{Blocks: bs}}, nil
}

// plain puts a plain-text field on one line, as an attribute must be.
func plain(s string) string {
	return strings.Trim(lineBreaks.Replace(s), " \t")
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func normBlocks(bs []DocBlock) ([]DocBlock, error) {
	out := []DocBlock{}
	for _, b := range bs {
		d := b.Data
		n := DocBlock{ID: b.ID, Type: b.Type}
		switch b.Type {
		case TypeParagraph:
			n.Data.Text = SanitizeInline(d.Text)
			if n.Data.Text == "" {
				continue
			}
		case TypeHeader:
			n.Data.Text = SanitizeInline(strings.ReplaceAll(d.Text, "<br>", " "))
			n.Data.Level = d.Level
			if n.Data.Level < 1 || n.Data.Level > 3 {
				n.Data.Level = 2
			}
			if n.Data.Level == 1 {
				n.Data.Text = SanitizeInline(escapeText(PlainInline(n.Data.Text)))
			}
			if n.Data.Text == "" {
				continue
			}
		case TypeList:
			n.Data.Style = "unordered"
			if d.Style == "ordered" {
				n.Data.Style = "ordered"
			}
			n.Data.Items = normItems(d.Items)
			if len(n.Data.Items) == 0 {
				continue
			}
		case TypeEdito, TypeNotice, TypeArticle:
			n.Data.Title, n.Data.Signature, n.Data.Role, n.Data.Author = plain(d.Title), plain(d.Signature), plain(d.Role), plain(d.Author)
			var body []DocBlock
			if d.Body != nil {
				body = d.Body.Blocks
			}
			nb, err := normBlocks(body)
			if err != nil {
				return nil, err
			}
			n.Data.Body = &Blocks{Blocks: nb}
		case TypeTimeline, TypeQA:
			n.Data.Title = plain(d.Title)
			n.Data.Entries = []DocEntry{}
			for _, e := range d.Entries {
				nb, err := normBlocks(e.Body.Blocks)
				if err != nil {
					return nil, err
				}
				n.Data.Entries = append(n.Data.Entries, DocEntry{Heading: plain(e.Heading), Body: Blocks{Blocks: nb}})
			}
		case TypeImage:
			n.Data.Src, n.Data.Alt, n.Data.Link = plain(d.Src), plain(d.Alt), plain(d.Link)
			n.Data.Width = Int(plain(string(d.Width)))
			if n.Data.Width == "0" {
				n.Data.Width = ""
			}
			n.Data.Caption = plain(d.Caption)
		case TypeButton:
			n.Data.Href, n.Data.Label = plain(d.Href), plain(d.Label)
		case TypeSource:
			// A bare carriage return would not survive the parser's
			// reading of CRLF line ends.
			n.Data.Text = strings.TrimRight(strings.ReplaceAll(d.Text, "\r", ""), " \t\n")
			if strings.TrimSpace(n.Data.Text) == "" {
				continue
			}
		default:
			return nil, fmt.Errorf("editor document: unknown block type %q", b.Type)
		}
		out = append(out, n)
	}
	return out, nil
}

func normItems(items []ListItem) []ListItem {
	var out []ListItem
	for _, it := range items {
		n := ListItem{Content: SanitizeInline(it.Content), Items: normItems(it.Items)}
		if n.Content == "" && len(n.Items) == 0 {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Where a block is written decides what a heading may be.
type blockCtx int

const (
	ctxTop   blockCtx = iota // the edition's body: level 1 is a section
	ctxBody                  // inside an edito, notice or article
	ctxEntry                 // inside a timeline or qa entry: a heading would start an entry
)

// writer writes blocks, taking the text of unchanged blocks from texts.
type writer struct {
	texts map[string][]string
}

func (w *writer) blocks(bs []DocBlock, ctx blockCtx) string {
	var parts []string
	prevList := ""
	for _, b := range bs {
		marker := 0
		if b.Type == TypeList && prevList == b.Data.Style {
			// Two lists in a row would be read as one: change the marker.
			marker = 1
		}
		t := w.block(b, ctx, marker)
		prevList = ""
		if b.Type == TypeList && marker == 0 {
			prevList = b.Data.Style
		}
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (w *writer) block(b DocBlock, ctx blockCtx, marker int) string {
	k := blockKey(b)
	if ts := w.texts[k]; len(ts) > 0 && marker == 0 {
		w.texts[k] = ts[1:]
		return ts[0]
	}
	d := b.Data
	switch b.Type {
	case TypeParagraph:
		return markdownInline(d.Text)
	case TypeHeader:
		if ctx == ctxEntry {
			return markdownInline("<b>" + d.Text + "</b>")
		}
		if d.Level == 1 && ctx == ctxTop {
			return "# " + PlainInline(d.Text)
		}
		level := d.Level
		if level < 2 {
			level = 2
		}
		h := markdownInline(d.Text)
		if strings.HasSuffix(h, "#") {
			h = h[:len(h)-1] + `\#`
		}
		return strings.Repeat("#", level) + " " + h
	case TypeList:
		var lines []string
		writeItems(&lines, d.Items, d.Style == "ordered", "", marker)
		return strings.Join(lines, "\n")
	case TypeEdito:
		return fence("edito", []string{"title", d.Title, "signature", d.Signature, "role", d.Role}, w.blocks(d.Body.Blocks, ctxBody))
	case TypeNotice:
		return fence("notice", []string{"title", d.Title}, w.blocks(d.Body.Blocks, ctxBody))
	case TypeArticle:
		return fence("article", []string{"title", d.Title, "author", d.Author}, w.blocks(d.Body.Blocks, ctxBody))
	case TypeTimeline, TypeQA:
		var entries []string
		for _, e := range d.Entries {
			s := "### " + e.Heading
			if body := w.blocks(e.Body.Blocks, ctxEntry); body != "" {
				s += "\n\n" + body
			}
			entries = append(entries, s)
		}
		return fence(b.Type, []string{"title", d.Title}, strings.Join(entries, "\n\n"))
	case TypeImage:
		return fence("image", []string{"src", d.Src, "alt", d.Alt, "link", d.Link, "width", string(d.Width)}, escapeLineStarts(escapeMarkdown(d.Caption)))
	case TypeButton:
		return fence("button", []string{"href", d.Href}, escapeLineStarts(escapeMarkdown(d.Label)))
	case TypeSource:
		return d.Text
	}
	return ""
}

// writeItems writes list items, nested ones indented under their parent's
// text.
func writeItems(lines *[]string, items []ListItem, ordered bool, indent string, marker int) {
	for i, it := range items {
		m := "-"
		if marker == 1 {
			m = "*"
		}
		if ordered {
			m = strconv.Itoa(i+1) + "."
			if marker == 1 {
				m = strconv.Itoa(i+1) + ")"
			}
		}
		pad := indent + strings.Repeat(" ", len(m)+1)
		text := strings.ReplaceAll(markdownInline(it.Content), "\n", "\n"+pad)
		*lines = append(*lines, indent+m+" "+text)
		writeItems(lines, it.Items, ordered, pad, marker)
	}
}

// fence writes a fenced block: its opening line with the attributes that
// have a value, its body, and its closing line.
func fence(kind string, attrs []string, body string) string {
	var b strings.Builder
	b.WriteString("::: " + kind)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(attrs[i+1])
		b.WriteString(" " + attrs[i] + `="` + v + `"`)
	}
	b.WriteString("\n")
	if body != "" {
		b.WriteString(body + "\n")
	}
	b.WriteString(":::")
	return b.String()
}

// canonicalFront writes the front matter in the order of the format's
// summary, quoting a value only when YAML needs it.
func canonicalFront(f Front) string {
	var b strings.Builder
	b.WriteString("---\n")
	line := func(k, v string, always bool) {
		if v == "" && !always {
			return
		}
		b.WriteString(k + ": " + yamlScalar(v) + "\n")
	}
	line("title", f.Title, true)
	if !f.Number.zero() {
		line("number", string(f.Number), false)
	}
	line("quarter", f.Quarter, false)
	line("date", f.Date, true)
	line("subject", f.Subject, true)
	line("preheader", f.Preheader, false)
	if len(f.Lists) > 0 {
		items := make([]string, len(f.Lists))
		for i, l := range f.Lists {
			items[i] = yamlFlowScalar(l)
		}
		b.WriteString("lists: [" + strings.Join(items, ", ") + "]\n")
	}
	line("slug", f.Slug, false)
	b.WriteString("---")
	return b.String()
}

// yamlScalar writes v plain when YAML reads it back as the same text, else
// in double quotes.
func yamlScalar(v string) string {
	if v != "" && plainReads("k: "+v, v) {
		return v
	}
	return quoteYAML(v)
}

func yamlFlowScalar(v string) string {
	if v != "" && plainReads("k: ["+v+"]", v) {
		return v
	}
	return quoteYAML(v)
}

// plainReads reports whether doc's single value (or single list item)
// reads back as want, as a string.
func plainReads(doc, want string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	m := n.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 {
		return false
	}
	v := m.Content[1]
	if v.Kind == yaml.SequenceNode {
		if len(v.Content) != 1 {
			return false
		}
		v = v.Content[0]
	}
	return v.Kind == yaml.ScalarNode && v.Style == 0 && v.Value == want
}

// quoteYAML writes a double-quoted YAML scalar.
func quoteYAML(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
