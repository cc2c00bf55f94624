package edition

import (
	"path/filepath"
	"strings"

	"bulletin/internal/unaccent"
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
// dashes, dropping accents ("Édition spéciale" gives "edition-speciale"),
// so that it is safe in a URL path.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	word := func(w string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(w)
	}
	for _, r := range unaccent.String(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			word(string(r))
		case r == 'œ':
			word("oe")
		case r == 'æ':
			word("ae")
		default:
			dash = true
		}
	}
	return b.String()
}
