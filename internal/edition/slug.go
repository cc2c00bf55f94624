package edition

import (
	"path/filepath"
	"strings"
)

// DefaultSlug derives an edition's slug from its file name: the folder's name
// for a file called edition.md or index.md (docs/examples/2020-edition-10-ans/
// edition.md gives "2020-edition-10-ans"), else the file's name without its
// extension.
func DefaultSlug(path string) string {
	base := filepath.Base(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if stem == "edition" || stem == "index" {
		if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != string(filepath.Separator) {
			stem = dir
		}
	}
	if s := Slugify(stem); s != "" {
		return s
	}
	return "edition"
}

// Slugify turns a name into lower-case ASCII letters, digits and single
// dashes, dropping French accents ("Édition spéciale" gives
// "edition-speciale"), so that it is safe in a URL path.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		r = unaccent(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == 'œ':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteString("oe")
		case r == 'æ':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteString("ae")
		default:
			dash = true
		}
	}
	return b.String()
}

// unaccent maps the accented letters of French (and a few neighbours) to
// their base letter.
func unaccent(r rune) rune {
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã', 'å':
		return 'a'
	case 'ç':
		return 'c'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'î', 'ï', 'í', 'ì':
		return 'i'
	case 'ô', 'ö', 'ó', 'ò', 'õ':
		return 'o'
	case 'ù', 'û', 'ü', 'ú':
		return 'u'
	case 'ÿ', 'ý':
		return 'y'
	case 'ñ':
		return 'n'
	}
	return r
}
