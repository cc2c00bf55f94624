package edition

import (
	"bufio"
	"bytes"
	"errors"
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The inline rich text of the editor is a small subset of HTML: <b>, <i>,
// <a href> and <br>. It is converted to and from Markdown here by walking
// trees, goldmark's on one side and x/net/html's on the other: a library
// converting HTML to Markdown (html-to-markdown and the like) handles all
// of HTML, escapes differently from goldmark's reading, and would have to
// be checked against the same round-trip tests anyway; the subset needs
// some 150 lines of walker.

// inode is a node of sanitised inline HTML.
type inode struct {
	tag  string // "", "b", "i", "a", "br"; "" is text
	text string
	href string
	kids []*inode
}

// errInline says that Markdown holds something the editor's inline text
// cannot show (code, an image, strikethrough, raw HTML, a link title): the
// block is then kept as source.
var errInline = errors.New("not representable as inline rich text")

// SanitizeInline returns the canonical form of inline HTML from the
// browser: only <b>, <i>, <a href> and <br> are kept (<strong> and <em>
// count as <b> and <i>), every other tag is dropped and its text kept,
// whitespace is folded the way the Markdown it becomes reads it.
func SanitizeInline(s string) string {
	return renderInline(parseInline(s))
}

func parseInline(s string) []*inode {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return []*inode{{text: s}}
	}
	var out []*inode
	for _, n := range nodes {
		out = append(out, convertHTML(n, "")...)
	}
	return normalize(out, "")
}

// convertHTML keeps the allowed elements of n; inside is the formatting
// already open, so that <b> inside <b> or a link inside a link is unwrapped.
func convertHTML(n *html.Node, inside string) []*inode {
	switch n.Type {
	case html.TextNode:
		return []*inode{{text: n.Data}}
	case html.ElementNode:
	default:
		return nil
	}
	tag, href := "", ""
	switch n.DataAtom {
	case atom.B, atom.Strong:
		tag = "b"
	case atom.I, atom.Em:
		tag = "i"
	case atom.A:
		for _, a := range n.Attr {
			if a.Key == "href" && a.Namespace == "" {
				tag, href = "a", strings.TrimSpace(a.Val)
			}
		}
	case atom.Br:
		return []*inode{{tag: "br"}}
	case atom.Script, atom.Style, atom.Template:
		return nil
	}
	if strings.Contains(inside, tag) {
		tag = ""
	}
	var kids []*inode
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		kids = append(kids, convertHTML(c, inside+tag)...)
	}
	if tag == "" {
		return kids
	}
	return []*inode{{tag: tag, href: href, kids: kids}}
}

var space = regexp.MustCompile(`[\t\n\r\f]+`)

// normalize merges adjacent text, folds line breaks in text to spaces,
// moves spaces at the edges of <b> and <i> outside them (Markdown's ** does
// not close after a space), drops empty formatting, and trims the whole.
func normalize(ns []*inode, parent string) []*inode {
	var out []*inode
	push := func(n *inode) {
		if n.tag == "" {
			if n.text == "" {
				return
			}
			if k := len(out); k > 0 && out[k-1].tag == "" {
				out[k-1].text += n.text
				return
			}
		}
		out = append(out, n)
	}
	for _, n := range ns {
		switch n.tag {
		case "":
			push(&inode{text: space.ReplaceAllString(n.text, " ")})
		case "br":
			push(n)
		default:
			kids := normalize(n.kids, n.tag)
			lead, trail := "", ""
			if n.tag != "a" {
				kids, lead, trail = trimEdges(kids)
			}
			push(&inode{text: lead})
			if len(kids) > 0 {
				push(&inode{tag: n.tag, href: n.href, kids: kids})
			}
			push(&inode{text: trail})
		}
	}
	if parent == "" {
		out, _, _ = trimEdges(out)
	}
	return out
}

// trimEdges takes the white space (and line breaks) off the two ends of
// ns, returning what it took as spaces.
func trimEdges(ns []*inode) (out []*inode, lead, trail string) {
	for len(ns) > 0 {
		n := ns[0]
		if n.tag == "br" {
			ns = ns[1:]
			continue
		}
		if n.tag == "" {
			t := strings.TrimLeft(n.text, " ")
			if t != n.text {
				lead = " "
			}
			if t == "" {
				ns = ns[1:]
				continue
			}
			ns = append([]*inode{{text: t}}, ns[1:]...)
		}
		break
	}
	for len(ns) > 0 {
		n := ns[len(ns)-1]
		if n.tag == "br" {
			ns = ns[:len(ns)-1]
			continue
		}
		if n.tag == "" {
			t := strings.TrimRight(n.text, " ")
			if t != n.text {
				trail = " "
			}
			if t == "" {
				ns = ns[:len(ns)-1]
				continue
			}
			ns = append(ns[:len(ns)-1:len(ns)-1], &inode{text: t})
		}
		break
	}
	// Spaces around a line break are dropped by Markdown.
	for i, n := range ns {
		if n.tag != "br" {
			continue
		}
		if i > 0 && ns[i-1].tag == "" {
			ns[i-1] = &inode{text: strings.TrimRight(ns[i-1].text, " ")}
		}
		if i+1 < len(ns) && ns[i+1].tag == "" {
			ns[i+1] = &inode{text: strings.TrimLeft(ns[i+1].text, " ")}
		}
	}
	var kept []*inode
	for _, n := range ns {
		if n.tag == "" && n.text == "" {
			continue
		}
		kept = append(kept, n)
	}
	return kept, lead, trail
}

// inlineFormat is how sanitised nodes are written out in one format (HTML,
// plain text, Markdown): the three share the walk of the tree and differ
// only in what a text run, a line break and the two ends of <b>, <i> and
// <a> become.
type inlineFormat struct {
	text        func(string) string
	br          string
	open, close func(n *inode) string
}

// write writes ns and their children to b in format f.
func (f inlineFormat) write(b *strings.Builder, ns []*inode) {
	for _, n := range ns {
		switch n.tag {
		case "":
			b.WriteString(f.text(n.text))
		case "br":
			b.WriteString(f.br)
		default:
			b.WriteString(f.open(n))
			f.write(b, n.kids)
			b.WriteString(f.close(n))
		}
	}
}

// htmlFormat writes sanitised nodes as HTML, escaping only & < > (and " in
// attributes), so that the text stays readable.
var htmlFormat = inlineFormat{
	text: escapeText,
	br:   "<br>",
	open: func(n *inode) string {
		if n.tag == "a" {
			return `<a href="` + strings.ReplaceAll(escapeText(n.href), `"`, "&quot;") + `">`
		}
		return "<" + n.tag + ">"
	},
	close: func(n *inode) string { return "</" + n.tag + ">" },
}

// plainFormat writes the text of sanitised nodes without their tags.
var plainFormat = inlineFormat{
	text:  func(s string) string { return s },
	br:    " ",
	open:  func(*inode) string { return "" },
	close: func(*inode) string { return "" },
}

// markdownFormat writes sanitised nodes as Markdown that goldmark reads
// back to the same HTML: the user's * _ [ ` < & and the like are escaped,
// so that what was typed stays text.
var markdownFormat = inlineFormat{
	text: escapeMarkdown,
	br:   "\\\n",
	open: func(n *inode) string {
		switch n.tag {
		case "b":
			return "**"
		case "i":
			return "*"
		}
		return "[" // "a"
	},
	close: func(n *inode) string {
		switch n.tag {
		case "b":
			return "**"
		case "i":
			return "*"
		}
		return "](" + markdownDest(n.href) + ")"
	},
}

// renderInline writes sanitised nodes as HTML.
func renderInline(ns []*inode) string {
	var b strings.Builder
	htmlFormat.write(&b, ns)
	return b.String()
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeText(s string) string { return textEscaper.Replace(s) }

// PlainInline returns the text of inline HTML without its tags (a section
// heading or a button label is plain text).
func PlainInline(s string) string {
	var b strings.Builder
	plainFormat.write(&b, parseInline(s))
	return b.String()
}

// inlineHTML converts the inline children of a goldmark block node (a
// paragraph, a heading, a list item's text) to sanitised inline HTML, or
// returns errInline.
func inlineHTML(n ast.Node, src []byte) (string, error) {
	var b strings.Builder
	var walk func(n ast.Node) error
	walk = func(n ast.Node) error {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				seg := c.Segment.Value(src)
				if bytes.IndexByte(seg, 0) >= 0 {
					return errInline // goldmark reads NUL as U+FFFD: not written back alike
				}
				b.WriteString(resolveText(seg))
				if c.HardLineBreak() {
					b.WriteString("<br>")
				} else if c.SoftLineBreak() {
					b.WriteString(" ")
				}
			case *ast.String:
				b.WriteString(resolveText(c.Value))
			case *ast.Emphasis:
				tag := "i"
				if c.Level == 2 {
					tag = "b"
				}
				b.WriteString("<" + tag + ">")
				if err := walk(c); err != nil {
					return err
				}
				b.WriteString("</" + tag + ">")
			case *ast.Link:
				if len(c.Title) > 0 || bytes.ContainsAny(c.Destination, "<>") {
					return errInline // goldmark keeps \< in a target: not written back alike
				}
				// goldmark keeps the target as written; its renderer
				// resolves escapes and entities, and so does this.
				dest := util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(c.Destination)))
				b.WriteString(`<a href="` + strings.ReplaceAll(escapeText(string(dest)), `"`, "&quot;") + `">`)
				if err := walk(c); err != nil {
					return err
				}
				b.WriteString("</a>")
			case *ast.AutoLink:
				b.WriteString(`<a href="` + strings.ReplaceAll(escapeText(string(c.URL(src))), `"`, "&quot;") + `">` + escapeText(string(c.Label(src))) + "</a>")
			default: // code, an image, strikethrough, raw HTML
				return errInline
			}
		}
		return nil
	}
	if err := walk(n); err != nil {
		return "", err
	}
	return SanitizeInline(b.String()), nil
}

// resolveText turns the raw text of a Markdown segment (backslash escapes,
// entities) into escaped HTML, as goldmark's renderer does.
func resolveText(raw []byte) string {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	gmhtml.DefaultWriter.Write(w, raw)
	w.Flush()
	return buf.String()
}

// markdownInline writes sanitised inline HTML as Markdown (see
// markdownFormat).
func markdownInline(s string) string {
	var b strings.Builder
	markdownFormat.write(&b, parseInline(s))
	return escapeLineStarts(b.String())
}

var (
	entityLike = regexp.MustCompile(`&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)`)
	mdSpecial  = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, "~", `\~`)
	// lineStart matches what would make a line of a paragraph into
	// something else: a list, a heading, a quote, a fence, a setext line.
	lineStart = regexp.MustCompile(`(?m)^([-+=>#:|]|[0-9]{1,9}[.)])`)
)

func escapeMarkdown(s string) string {
	s = mdSpecial.Replace(s)
	// A URL typed as text stays text: links are <a> (written [text](url)),
	// and goldmark's bare-URL detection depends on what surrounds it.
	s = strings.ReplaceAll(s, "://", `\://`)
	return entityLike.ReplaceAllString(s, `\$0`)
}

// escapeLineStarts escapes the first character of each line that would
// start a block, once the inline text is written.
func escapeLineStarts(s string) string {
	return lineStart.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 1 { // "2020." : escape the dot
			return m[:len(m)-1] + `\` + m[len(m)-1:]
		}
		return `\` + m
	})
}

// markdownDest writes a link target: with backslash escapes, or in angle
// brackets when it holds spaces (where < and > are percent-encoded, as a
// browser would send them).
func markdownDest(href string) string {
	if strings.ContainsAny(href, " \t\n") || href == "" {
		esc := strings.NewReplacer(`\`, `\\`, "<", "%3C", ">", "%3E", "\n", " ", "\t", " ").Replace(href)
		return "<" + entityLike.ReplaceAllString(esc, `\$0`) + ">"
	}
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, "<", "%3C", ">", "%3E").Replace(href)
	return entityLike.ReplaceAllString(esc, `\$0`)
}
