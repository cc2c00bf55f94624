package render

import (
	"bytes"
	"html/template"
	"image"
	_ "image/gif" // image.DecodeConfig reads the width of local images
	_ "image/jpeg"
	_ "image/png"
	"os"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"bulletin/internal/edition"
	"bulletin/internal/links"
)

// newMarkdown returns the Markdown converter editions are written for:
// CommonMark, bare URLs made links, ~~strikethrough~~. Raw HTML stays off:
// an edition is content, and HTML pasted from elsewhere would bring styles
// and scripts mail clients choke on (Check warns about it).
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough))
}

// refKind says what a reference found in the edition is.
type refKind uint8

const (
	refLink refKind = iota
	refImage
	refRawHTML
)

// ref is a link, image or raw HTML found while converting the edition,
// kept for Check.
type ref struct {
	kind  refKind
	url   string // as written
	alt   string
	where string // file:line
	local string // the file on disk, for local images
}

// converter turns the Markdown of one edition into HTML and plain text,
// resolving local images and numbering links for the text part.
type converter struct {
	md     goldmark.Markdown
	ed     *edition.Edition
	opts   Options
	refs   []ref
	widths map[string]int // natural widths of local images, by file

	nlinks int      // links numbered so far in the text part
	links  []string // references of the current top-level block
}

// imageURL returns where readers load an image from.
func (c *converter) imageURL(src string) string {
	if !edition.IsLocal(src) {
		return src
	}
	p, err := edition.CleanLocal(src)
	if err != nil {
		return src // Check reports it
	}
	return links.MediaURL(c.opts.PublicURL, c.ed.Slug, p)
}

// localFile returns the file on disk of a local image, or "".
func (c *converter) localFile(src string) string {
	if !edition.IsLocal(src) {
		return ""
	}
	p, err := c.ed.LocalPath(src)
	if err != nil {
		return ""
	}
	return p
}

// displayWidth is the width attribute of an image: Outlook on Windows
// ignores CSS max-width and shows an image at its natural size unless told,
// which would burst a 600 px layout. Local images are measured; remote ones
// are assumed as wide as the column.
func (c *converter) displayWidth(src string, asked, max int) int {
	w := asked
	if w == 0 {
		w = max
		if f := c.localFile(src); f != "" {
			if nat, ok := c.naturalWidth(f); ok && nat < max {
				w = nat
			}
		}
	}
	if w > max {
		w = max
	}
	return w
}

func (c *converter) naturalWidth(file string) (int, bool) {
	if w, ok := c.widths[file]; ok {
		return w, w > 0
	}
	w := 0
	if f, err := os.Open(file); err == nil {
		if cfg, _, err := image.DecodeConfig(f); err == nil {
			w = cfg.Width
		}
		f.Close()
	}
	c.widths[file] = w
	return w, w > 0
}

func (c *converter) addRef(r ref) {
	c.refs = append(c.refs, r)
}

// lineOf returns the file line of byte offset off in a Markdown text that
// starts on file line first.
func lineOf(src []byte, off, first int) int {
	if off < 0 || off > len(src) {
		return first
	}
	return first + bytes.Count(src[:off], []byte{'\n'})
}

// nodeLine finds the line of a node: its own position, else its parent's.
func nodeLine(n ast.Node, src []byte, first int) int {
	for ; n != nil; n = n.Parent() {
		if p := n.Pos(); p >= 0 {
			return lineOf(src, p, first)
		}
		if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
			return lineOf(src, n.Lines().At(0).Start, first)
		}
	}
	return first
}

// markdown converts one Markdown text starting at file line first, for a
// column max pixels wide.
func (c *converter) markdown(md string, first, max int) (template.HTML, string) {
	src := []byte(md)
	doc := c.md.Parser().Parse(text.NewReader(src))
	c.prepareAST(doc, src, first, max)
	var h bytes.Buffer
	if err := c.md.Renderer().Render(&h, src, doc); err != nil {
		// goldmark's HTML renderer fails only when its writer does, and
		// a bytes.Buffer does not.
		panic(err)
	}
	t := &textWriter{src: src, c: c}
	t.blocks(doc, "")
	return template.HTML(h.String()), strings.TrimRight(t.b.String(), "\n")
}

// inline converts a short Markdown text (a caption, a label) to HTML without
// the paragraph around it, and to one line of text.
func (c *converter) inline(md string, first, max int) (template.HTML, string) {
	h, t := c.markdown(md, first, max)
	s := strings.TrimSpace(string(h))
	if strings.HasPrefix(s, "<p>") && strings.HasSuffix(s, "</p>") && strings.Count(s, "<p>") == 1 {
		s = s[len("<p>") : len(s)-len("</p>")]
	}
	return template.HTML(s), t
}

// prepareAST records links and images for Check and points images at their
// public URL with a width Outlook will respect.
func (c *converter) prepareAST(doc ast.Node, src []byte, first, max int) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		where := func() string { return c.ed.Where(nodeLine(n, src, first)) }
		switch n := n.(type) {
		case *ast.Image:
			dest := string(n.Destination)
			alt := plainText(n, src)
			c.addRef(ref{kind: refImage, url: dest, alt: alt, where: where(), local: c.localFile(dest)})
			w := c.displayWidth(dest, 0, max)
			n.Destination = []byte(c.imageURL(dest))
			n.SetAttributeString("width", []byte(strconv.Itoa(w)))
			n.SetAttributeString("class", []byte("md-img"))
			n.SetAttributeString("style", []byte("width:100%;max-width:"+strconv.Itoa(w)+"px;height:auto;"))
		case *ast.Link:
			c.addRef(ref{kind: refLink, url: string(n.Destination), where: where()})
		case *ast.AutoLink:
			c.addRef(ref{kind: refLink, url: string(n.URL(src)), where: where()})
		case *ast.RawHTML, *ast.HTMLBlock:
			c.addRef(ref{kind: refRawHTML, where: where()})
		}
		return ast.WalkContinue, nil
	})
}

// plainText gathers the text inside an inline node (an image's alt text, a
// link's label).
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			b.Write(n.Value(src))
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.CodeSpan:
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					b.Write(t.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(n.Label(src))
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// textWriter lays Markdown out as plain text: one line per paragraph (the
// final pass wraps them at 72 columns), headings underlined, lists with
// their markers, links numbered and listed after their block.
type textWriter struct {
	b   strings.Builder
	src []byte
	c   *converter
}

// blocks writes the block children of n, a blank line apart, each line
// prefixed by prefix (for quotes).
func (t *textWriter) blocks(n ast.Node, prefix string) {
	first := true
	for b := n.FirstChild(); b != nil; b = b.NextSibling() {
		s := t.block(b)
		if s == "" {
			continue
		}
		if !first {
			t.b.WriteString(strings.TrimRight(prefix, " "))
			t.b.WriteByte('\n')
		}
		first = false
		for _, line := range strings.Split(s, "\n") {
			t.b.WriteString(prefix)
			t.b.WriteString(line)
			t.b.WriteByte('\n')
		}
	}
}

// block returns the text of one block node, without a final newline.
func (t *textWriter) block(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return t.inlines(n)
	case *ast.Heading:
		s := t.inlines(n)
		switch n.Level {
		case 1:
			return underline(s, '=')
		case 2:
			return underline(s, '-')
		default:
			return s
		}
	case *ast.Blockquote:
		sub := &textWriter{src: t.src, c: t.c}
		sub.blocks(n, "> ")
		return strings.TrimRight(sub.b.String(), "\n")
	case *ast.List:
		return t.list(n)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.WriteString("    ")
			b.WriteString(strings.TrimRight(string(seg.Value(t.src)), "\n"))
			b.WriteByte('\n')
		}
		return strings.TrimRight(b.String(), "\n")
	case *ast.ThematicBreak:
		return "* * *"
	case *ast.HTMLBlock:
		return ""
	}
	// Anything else (an extension's block): its text, as paragraphs.
	sub := &textWriter{src: t.src, c: t.c}
	sub.blocks(n, "")
	return strings.TrimRight(sub.b.String(), "\n")
}

func (t *textWriter) list(l *ast.List) string {
	var b strings.Builder
	num := l.Start
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		marker := "- "
		if l.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		sub := &textWriter{src: t.src, c: t.c}
		sub.blocks(it, "")
		body := strings.TrimRight(sub.b.String(), "\n")
		if b.Len() > 0 {
			b.WriteByte('\n')
			if !l.IsTight {
				b.WriteByte('\n')
			}
		}
		indent := strings.Repeat(" ", len(marker))
		for i, line := range strings.Split(body, "\n") {
			switch {
			case i == 0:
				b.WriteString(marker)
			case line == "":
				b.WriteString("\n")
				continue
			default:
				b.WriteByte('\n')
				b.WriteString(indent)
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

// inlines returns the text of a block's inline children on one line, hard
// line breaks kept.
func (t *textWriter) inlines(n ast.Node) string {
	var b strings.Builder
	t.inline(&b, n)
	return strings.TrimSpace(b.String())
}

func (t *textWriter) inline(b *strings.Builder, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(t.src))
			switch {
			case c.HardLineBreak():
				b.WriteByte('\n')
			case c.SoftLineBreak():
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			t.inline(b, c)
		case *ast.Emphasis, *extast.Strikethrough:
			t.inline(b, c)
		case *ast.AutoLink:
			b.Write(c.Label(t.src))
		case *ast.Link:
			label := plainText(c, t.src)
			t.inline(b, c)
			t.linkRef(b, string(c.Destination), label)
		case *ast.Image:
			b.WriteString("[Image : ")
			if alt := plainText(c, t.src); alt != "" {
				b.WriteString(alt)
			} else {
				b.WriteString("sans description")
			}
			b.WriteString("]")
		case *ast.RawHTML:
			// dropped, as in the HTML part
		default:
			t.inline(b, c)
		}
	}
}

// linkRef writes the reference of a link after its label: nothing when the
// label is the address itself, the address for mail links, else a number
// listed after the block.
func (t *textWriter) linkRef(b *strings.Builder, dest, label string) {
	mail, isMail := strings.CutPrefix(dest, "mailto:")
	switch {
	case dest == "" || dest == label || strings.TrimPrefix(strings.TrimPrefix(dest, "https://"), "http://") == label:
	case isMail && mail == label:
	case isMail:
		b.WriteString(" (")
		b.WriteString(mail)
		b.WriteString(")")
	default:
		b.WriteString(" [")
		b.WriteString(strconv.Itoa(t.c.ref(dest)))
		b.WriteString("]")
	}
}

// ref numbers a link for the text part and returns its number.
func (c *converter) ref(url string) int {
	c.nlinks++
	c.links = append(c.links, "["+strconv.Itoa(c.nlinks)+"] "+url)
	return c.nlinks
}

// takeLinks returns the references gathered since the last call, one per
// line.
func (c *converter) takeLinks() string {
	s := strings.Join(c.links, "\n")
	c.links = c.links[:0]
	return s
}
