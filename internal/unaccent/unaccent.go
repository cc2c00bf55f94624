// Package unaccent strips accents from text, so that "boîte", "boite" and
// "BOÎTE" can be matched alike and "Édition spéciale" can become a URL path.
// It is the one place Bulletin does this: the bounce classifier and the
// edition slugs both call it.
package unaccent

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// String returns s without the accents of its letters: each letter is
// decomposed (NFD), its combining marks are dropped, and what is left is
// composed again (NFC). "Désabonné" gives "Desabonne". Letters that are not
// a base letter with marks stay as they are: "œ", "ß", "ø" and "ł" have no
// decomposition, and callers spell them out when they need to. Bytes that
// are not UTF-8 become U+FFFD, as when ranging over a string.
func String(s string) string {
	if ascii(s) {
		return s // the common case, without the work of a transform
	}
	// A chain keeps state between calls: one per call, so that String may
	// run on many goroutines at once.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s // cannot happen: these transformers accept any input
	}
	return out
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
