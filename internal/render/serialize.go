package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// serialize writes the inlined document as HTML and cuts it into parts at
// the recipient slots.
//
// It replaces html.Render for two reasons. html.Render escapes apostrophes
// and quotes in text (l&#39;insertion), which costs bytes under Gmail's 102 KB
// clip and makes the source hard to read; this writer escapes only what must
// be: & < > in text, & " in attribute values, and leaves UTF-8 alone
// (non-breaking spaces stay U+00A0). And while writing it knows whether each
// slot is in text, in an attribute or in a URL, which is the context its
// per-recipient value must be escaped for; finding that out afterwards from
// the string would be guesswork.
//
// With track, each absolute http(s) link of an <a> becomes a slot of
// kind slotLink added to track, and a slotOpen ends the body (see
// PrepareTracked).
func serialize(n *html.Node, track *Fields) ([]part, error) {
	s := &serializer{track: track}
	if err := s.node(n); err != nil {
		return nil, err
	}
	return s.finish(), nil
}

type serializer struct {
	lit   strings.Builder
	parts []part
	track *Fields // nil: links are written as they are
}

func (s *serializer) finish() []part {
	s.parts = append(s.parts, part{lit: s.lit.String(), slot: -1})
	s.lit.Reset()
	return s.parts
}

func (s *serializer) slot(i int, e esc) {
	s.parts = append(s.parts, part{lit: s.lit.String(), slot: i, esc: e})
	s.lit.Reset()
}

// voidElements have no end tag.
func isVoid(tag string) bool {
	switch tag {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr":
		return true
	}
	return false
}

// isRawText reports whether an element's text is written as is, without
// entity escaping (the browser does not decode entities there).
func isRawText(tag string) bool {
	switch tag {
	case "style", "script", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext":
		return true
	}
	return false
}

// isURLAttr reports whether an attribute holds a URL.
func isURLAttr(key string) bool {
	switch key {
	case "href", "src", "background", "action", "cite", "poster", "formaction", "longdesc":
		return true
	}
	return false
}

func (s *serializer) node(n *html.Node) error {
	switch n.Type {
	case html.DocumentNode:
		return s.children(n)
	case html.DoctypeNode:
		s.lit.WriteString("<!DOCTYPE ")
		s.lit.WriteString(n.Data)
		s.lit.WriteString(">")
		return nil
	case html.CommentNode:
		if hasSlot(n.Data) {
			return fmt.Errorf("a recipient field is inside an HTML comment, where it cannot be escaped")
		}
		s.lit.WriteString("<!--")
		s.lit.WriteString(n.Data)
		s.lit.WriteString("-->")
		return nil
	case html.TextNode:
		if n.Parent != nil && n.Parent.Type == html.ElementNode && isRawText(n.Parent.Data) {
			if hasSlot(n.Data) {
				return fmt.Errorf("a recipient field is inside <%s>, where it cannot be escaped", n.Parent.Data)
			}
			s.lit.WriteString(n.Data)
			return nil
		}
		s.withSlots(n.Data, escText)
		return nil
	case html.ElementNode:
		return s.element(n)
	}
	return nil
}

func (s *serializer) children(n *html.Node) error {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if err := s.node(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *serializer) element(n *html.Node) error {
	s.lit.WriteByte('<')
	s.lit.WriteString(n.Data)
	for _, a := range n.Attr {
		// data-premailer="ignore" only tells the inliner to leave a style
		// block alone; mail clients have no use for it.
		if a.Key == "data-premailer" {
			continue
		}
		key := a.Key
		if a.Namespace != "" {
			key = a.Namespace + ":" + a.Key
		}
		s.lit.WriteByte(' ')
		s.lit.WriteString(key)
		s.lit.WriteString(`="`)
		if err := s.attrValue(n.Data, key, a.Val); err != nil {
			return err
		}
		s.lit.WriteByte('"')
	}
	s.lit.WriteByte('>')
	if isVoid(n.Data) {
		return nil
	}
	switch n.Data {
	case "pre", "listing", "textarea":
		// The parser drops a newline right after these start tags; put one
		// back so that a leading newline of the content survives.
		if c := n.FirstChild; c != nil && c.Type == html.TextNode && strings.HasPrefix(c.Data, "\n") {
			s.lit.WriteByte('\n')
		}
	}
	if err := s.children(n); err != nil {
		return err
	}
	if n.Data == "body" && s.track != nil {
		s.slot(s.track.index(slot{kind: slotOpen}), escText)
	}
	s.lit.WriteString("</")
	s.lit.WriteString(n.Data)
	s.lit.WriteByte('>')
	return nil
}

func (s *serializer) attrValue(tag, key, val string) error {
	if s.track != nil && tag == "a" && key == "href" && isWebURL(val) && !hasSlot(val) {
		s.slot(s.track.index(slot{kind: slotLink, key: val}), escURL)
		return nil
	}
	if !hasSlot(val) {
		escapeAttr(&s.lit, val)
		return nil
	}
	switch {
	case key == "style" || strings.HasPrefix(key, "on"):
		return fmt.Errorf("a recipient field is inside <%s %s=…>, where it cannot be escaped", tag, key)
	case isURLAttr(key):
		// A slot that starts the URL is a whole URL (the unsubscribe link):
		// its scheme is checked. One further in is a query value.
		if loc := slotPattern.FindStringIndex(val); loc[0] == 0 {
			s.withSlotsFirst(val, escURL, escURLPart)
		} else {
			s.withSlots(val, escURLPart)
		}
	default:
		s.withSlots(val, escAttr)
	}
	return nil
}

// slotPattern matches the placeholder a recipient field leaves in the
// template's output at Prepare time. It is made of letters and digits only,
// so that no escaper or the HTML parser changes it on the way.
var slotPattern = regexp.MustCompile(`BLTNSLOT(\d{3})X`)

const slotPrefix = "BLTNSLOT"

func slotMarker(i int) string { return fmt.Sprintf("%s%03dX", slotPrefix, i) }

func hasSlot(s string) bool { return strings.Contains(s, slotPrefix) }

// withSlots writes s, escaped for context e, cutting a part at each slot.
func (s *serializer) withSlots(v string, e esc) { s.withSlotsFirst(v, e, e) }

func (s *serializer) withSlotsFirst(v string, first, rest esc) {
	e := first
	for {
		loc := slotPattern.FindStringSubmatchIndex(v)
		if loc == nil {
			break
		}
		s.escape(v[:loc[0]], e)
		i, _ := strconv.Atoi(v[loc[2]:loc[3]])
		s.slot(i, e)
		v = v[loc[1]:]
		e = rest
	}
	s.escape(v, e)
}

func (s *serializer) escape(v string, e esc) {
	if e == escText {
		escapeText(&s.lit, v)
	} else {
		escapeAttr(&s.lit, v)
	}
}

// escapeText escapes what must be escaped in HTML text: & < >.
func escapeText(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case '&':
			r = "&amp;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// escapeAttr escapes what must be escaped in a double-quoted attribute
// value: & and ".
func escapeAttr(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case '&':
			r = "&amp;"
		case '"':
			r = "&quot;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}
