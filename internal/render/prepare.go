package render

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/vanng822/go-premailer/premailer"
	"golang.org/x/net/html"

	"bulletin/internal/edition"
)

// Column widths, in CSS pixels, that images are sized for (see
// displayWidth): the 600 px column less the default layout's padding, and
// the inside of the boxed blocks. A layout with other paddings still works
// everywhere but in Outlook on Windows, which is the only client that needs
// the number.
const (
	columnWidth   = 536
	boxWidth      = 488
	timelineWidth = 440
)

// Prepared is an edition rendered into a layout, ready to be personalised:
// Markdown, blocks, templates and CSS inlining are done, and what is left for
// each recipient is copying fixed strings and escaping a few fields. It is
// safe for concurrent use.
type Prepared struct {
	ed        *edition.Edition
	subject   string
	preheader string
	slots     []slot
	html      []part
	text      []part
	htmlLen   int // bytes of fixed HTML, to size buffers
	textLen   int

	// What Check looks at.
	refs           []ref
	sources        [2]string // the HTML and text layouts' files
	imgsNoAlt      int       // <img> of the layout without an alt attribute
	badLayoutLinks []string
}

// editionView is what templates see as .Edition.
type editionView struct {
	Title     string
	Number    int
	Quarter   string
	Date      time.Time
	Subject   string
	Preheader string
	Slug      string
}

// blockView is one block as templates see it, rendered both ways: HTML for
// the HTML layout, Text for the plain one.
type blockView struct {
	Kind      string
	Title     string
	Author    string
	Signature string
	Role      string

	// HTML and Text are the block's Markdown: the prose of a markdown
	// block, the caption of an image.
	HTML htmltemplate.HTML
	Text string
	// Label is a button's text.
	Label string

	// Src is an image's public URL; Width its display width in pixels.
	Src   string
	Alt   string
	Link  string
	Width int
	// Href is a button's target.
	Href string

	Children []*blockView
	Entries  []*entryView
	// Prev is the kind of the top-level block before this one ("" for the
	// first), so that a layout can, say, rule a line between two articles.
	Prev string
	// Links are the numbered references of the links in a top-level block,
	// one per line, for the plain-text part to list after it.
	Links string
}

// entryView is one timeline entry or question.
type entryView struct {
	Date  string
	Title string
	HTML  htmltemplate.HTML
	Text  string
}

// view is the data both layouts are executed with.
type view struct {
	Edition   editionView
	Org       Options
	Blocks    []*blockView
	Recipient *Fields
}

// Prepare does the per-edition work once: Markdown to HTML and text, the
// layouts, CSS inlining. Errors are template errors, naming the layout's file
// and line; problems of content are left to Check.
func (t *Templates) Prepare(ed *edition.Edition) (*Prepared, error) {
	return t.prepare(ed, false)
}

// PrepareTracked is Prepare for a campaign that counts opens and clicks:
// each absolute http(s) link of the HTML part becomes a slot that
// Recipient.ClickURL fills, and a slot for the 1×1 image of
// Recipient.OpenURL ends the body. Recipient fields (the unsubscribe and
// web view links) are left as they are, and so is the plain-text part.
// Rendering stays as cheap: the links are found here, once per edition.
func (t *Templates) PrepareTracked(ed *edition.Edition) (*Prepared, error) {
	return t.prepare(ed, true)
}

func (t *Templates) prepare(ed *edition.Edition, track bool) (*Prepared, error) {
	if bytes.Contains(ed.Source, []byte(slotPrefix)) {
		return nil, fmt.Errorf("%s: the text %q is reserved", ed.Path, slotPrefix)
	}
	c := &converter{md: t.md, ed: ed, opts: t.opts, widths: map[string]int{}}
	v := &view{
		Edition: editionView{
			Title: ed.Title, Number: ed.Number, Quarter: ed.Quarter, Date: ed.Date,
			Subject: ed.Subject, Preheader: ed.Preheader, Slug: ed.Slug,
		},
		Org:       t.opts,
		Recipient: &Fields{},
	}
	prev := ""
	for _, b := range ed.Blocks {
		bv := c.block(b, columnWidth)
		bv.Links = c.takeLinks()
		bv.Prev, prev = prev, bv.Kind
		v.Blocks = append(v.Blocks, bv)
	}

	p := &Prepared{ed: ed, subject: ed.Subject, preheader: ed.Preheader, refs: c.refs,
		sources: [2]string{t.htmlSource, t.textSource}}

	var hb bytes.Buffer
	if err := t.html.Execute(&hb, v); err != nil {
		return nil, templateError(err)
	}
	doc, err := inlineCSS(&hb)
	if err != nil {
		return nil, fmt.Errorf("%s: inlining CSS: %w", t.htmlSource, err)
	}
	french := strings.HasPrefix(t.opts.Lang, "fr")
	if french {
		frenchSpacingHTML(doc)
	}
	p.inspect(doc)
	var tracked *Fields // where the serializer adds the links' slots
	if track {
		tracked = v.Recipient
	}
	if p.html, err = serialize(doc, tracked); err != nil {
		return nil, fmt.Errorf("%s: %w", t.htmlSource, err)
	}

	var tb strings.Builder
	if err := t.text.Execute(&tb, v); err != nil {
		return nil, templateError(err)
	}
	txt := tb.String()
	if french {
		txt = frenchSpacing(txt)
	}
	p.text = splitSlots(finishText(txt))
	p.slots = v.Recipient.slots
	for _, x := range p.html {
		p.htmlLen += len(x.lit)
	}
	for _, x := range p.text {
		p.textLen += len(x.lit)
	}
	return p, nil
}

// inlineCSS parses the layout's output and moves its <style> rules into
// style attributes, since Gmail and Outlook drop or ignore much of what is in
// <style>. Rules that cannot be inlined (media queries for phones and dark
// mode) belong in a <style data-premailer="ignore"> block, which is left in
// place.
func inlineCSS(r io.Reader) (*html.Node, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return nil, err
	}
	pm := premailer.NewPremailer(goquery.NewDocumentFromNode(doc), premailer.NewOptions())
	if _, err := pm.Transform(); err != nil {
		return nil, err
	}
	return doc, nil
}

// inspect records what Check needs from the final document: images of the
// layout itself without alt text, and links that are not http(s) or mailto.
func (p *Prepared) inspect(doc *html.Node) {
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "img":
				if _, ok := attr(n, "alt"); !ok {
					p.imgsNoAlt++
				}
			case "a":
				// #ZgotmplZ is html/template's stand-in for a URL it refused:
				// one from the edition, which Check reports at its line.
				if href, ok := attr(n, "href"); ok && href != "" && href != "#ZgotmplZ" && !hasSlot(href) && !linkOK(href) {
					p.badLayoutLinks = append(p.badLayoutLinks, href)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}

// splitSlots cuts the plain-text part at its slots.
func splitSlots(s string) []part {
	var parts []part
	for {
		loc := slotPattern.FindStringSubmatchIndex(s)
		if loc == nil {
			return append(parts, part{lit: s, slot: -1})
		}
		i, _ := strconv.Atoi(s[loc[2]:loc[3]])
		parts = append(parts, part{lit: s[:loc[0]], slot: i, esc: escPlain})
		s = s[loc[1]:]
	}
}

// block renders one block of the edition for a column max pixels wide.
func (c *converter) block(b *edition.Block, max int) *blockView {
	v := &blockView{
		Kind: string(b.Kind), Title: b.Title, Author: b.Author,
		Signature: b.Signature, Role: b.Role, Alt: b.Alt, Link: b.Link, Href: b.Href,
	}
	inner := max
	switch b.Kind {
	case edition.Markdown:
		v.HTML, v.Text = c.markdown(b.Text, b.TextLine, max)
	case edition.Edito, edition.Notice:
		inner = boxWidth
	case edition.Image:
		where := c.ed.Where(b.Line)
		c.addRef(ref{kind: refImage, url: b.Src, alt: b.Alt, where: where, local: c.localFile(b.Src)})
		if b.Link != "" {
			c.addRef(ref{kind: refLink, url: b.Link, where: where})
		}
		v.Src = c.imageURL(b.Src)
		v.Width = c.displayWidth(b.Src, b.Width, max)
		if b.Text != "" {
			v.HTML, v.Text = c.inline(b.Text, b.TextLine, max)
		}
		if b.Link != "" {
			v.Text = strings.TrimSpace(v.Text + " [" + strconv.Itoa(c.ref(b.Link)) + "]")
		}
	case edition.Button:
		c.addRef(ref{kind: refLink, url: b.Href, where: c.ed.Where(b.Line)})
		_, v.Label = c.inline(b.Text, b.TextLine, max)
	case edition.Timeline, edition.QA:
		for _, e := range b.Entries {
			ev := &entryView{Date: e.Date, Title: e.Title}
			ev.HTML, ev.Text = c.markdown(e.Text, e.TextLine, timelineWidth)
			v.Entries = append(v.Entries, ev)
		}
	}
	for _, ch := range b.Children {
		v.Children = append(v.Children, c.block(ch, inner))
	}
	return v
}

// Subject returns the edition's subject line.
func (p *Prepared) Subject() string { return p.subject }

// Preheader returns the edition's preview text.
func (p *Prepared) Preheader() string { return p.preheader }

// Edition returns the edition this was prepared from.
func (p *Prepared) Edition() *edition.Edition { return p.ed }

// Message is one recipient's bodies.
type Message struct {
	HTML []byte
	Text []byte
}

// Render returns the HTML and plain-text bodies for r, in one allocation.
// The zero Recipient gives the web view: fallbacks for names, "#" for the
// links it lacks.
func (p *Prepared) Render(r Recipient) Message {
	extra := p.slotBytes(&r)
	buf := appendParts(make([]byte, 0, p.htmlLen+p.textLen+2*extra), p.html, p.slots, &r)
	n := len(buf)
	buf = appendParts(buf, p.text, p.slots, &r)
	// The HTML's capacity ends where the text starts, so that appending to
	// one never overwrites the other.
	return Message{HTML: buf[:n:n], Text: buf[n:]}
}

// RenderStrings is Render for callers that want strings (a mail library's
// body setter): each body is built in its own strings.Builder and handed
// over without the copy a string(m.HTML) conversion would make.
func (p *Prepared) RenderStrings(r Recipient) (html, text string) {
	extra := p.slotBytes(&r)
	var hb, tb strings.Builder
	hb.Grow(p.htmlLen + extra)
	tb.Grow(p.textLen + extra)
	buildParts(&hb, p.html, p.slots, &r)
	buildParts(&tb, p.text, p.slots, &r)
	return hb.String(), tb.String()
}

// AppendHTML appends the HTML body for r to dst and returns it. With a dst
// reused from one recipient to the next, it does not allocate.
func (p *Prepared) AppendHTML(dst []byte, r Recipient) []byte {
	return appendParts(dst, p.html, p.slots, &r)
}

// AppendText appends the plain-text body for r to dst and returns it.
func (p *Prepared) AppendText(dst []byte, r Recipient) []byte {
	return appendParts(dst, p.text, p.slots, &r)
}

// WriteHTML streams the HTML body for r to w, without building it in
// memory first (for go-mail's SetBodyWriter, say). A w that has WriteString,
// such as a bufio.Writer, is written to without copies.
func (p *Prepared) WriteHTML(w io.Writer, r Recipient) error {
	return writeParts(w, p.html, p.slots, &r)
}

// WriteText streams the plain-text body for r to w.
func (p *Prepared) WriteText(w io.Writer, r Recipient) error {
	return writeParts(w, p.text, p.slots, &r)
}

// slotBytes estimates what r's fields add to a body, so that one allocation
// usually suffices.
func (p *Prepared) slotBytes(r *Recipient) int {
	n := 0
	for _, s := range p.slots {
		switch s.kind {
		case slotUnsubscribe:
			n += len(r.UnsubscribeURL)
		case slotWebView:
			n += len(r.WebViewURL)
		case slotLink:
			n += len(s.key)
			if r.ClickURL != nil {
				n += len(s.key) + 128 // the redirect, its token and the link escaped
			}
		case slotOpen:
			n += len(r.OpenURL) + 100
		default:
			n += len(r.FirstName) + len(r.LastName) + len(r.Email) + len(r.Organisation) + len(s.fallback)
		}
	}
	// Each slot may appear several times; escaping may lengthen it a little.
	return 3*n + 64
}
