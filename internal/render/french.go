package render

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// frenchSpacing makes the spaces French typography wants unbreakable: before
// : ; ! ? » and after «, between the groups of a number (127 000) and
// before € or %. Staff type ordinary spaces there (SendinBlue's editor did
// the same), and a phone's narrow column then strands a "?" or "000 heures"
// at the start of a line. Spaces that are already non-breaking (U+00A0,
// U+202F) are left as they are. U+00A0 is used rather than the narrower
// U+202F because every mail client's fonts have it.
func frenchSpacing(s string) string {
	if !strings.ContainsAny(s, ":;!?»«0123456789") {
		return s
	}
	runes := []rune(s)
	changed := false
	for i, r := range runes {
		if r != ' ' || i == 0 || i+1 == len(runes) {
			continue
		}
		prev, next := runes[i-1], runes[i+1]
		switch {
		case prev == '«':
		case strings.ContainsRune(":;!?»", next) && !unicode.IsSpace(prev):
		case unicode.IsDigit(prev) && (next == '€' || next == '%'):
		case unicode.IsDigit(prev) && thousands(runes[i+1:]):
		default:
			continue
		}
		runes[i] = '\u00a0'
		changed = true
	}
	if !changed {
		return s
	}
	return string(runes)
}

// thousands reports whether rs starts with a group of exactly three digits,
// as the "000" of "127 000".
func thousands(rs []rune) bool {
	if len(rs) < 3 {
		return false
	}
	for _, r := range rs[:3] {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return len(rs) == 3 || !unicode.IsDigit(rs[3])
}

// frenchSpacingHTML applies frenchSpacing to the text of a document, leaving
// alone what is not prose: styles, code, comments, attributes.
func frenchSpacingHTML(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		n.Data = frenchSpacing(n.Data)
		return
	case html.ElementNode:
		switch n.Data {
		case "style", "script", "pre", "code", "textarea":
			return
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		frenchSpacingHTML(c)
	}
}
