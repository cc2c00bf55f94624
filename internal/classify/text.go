package classify

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"bulletin/internal/unaccent"
)

// addrPattern finds e-mail addresses in free text. The domain must have a
// dot, so that words like "user@localhost" in boilerplate and host names in
// Received lines are not taken for recipients.
const addrPattern = `(?:"[^"\s<>@]{1,64}"|[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*)@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`

var addrRE = regexp.MustCompile(addrPattern)

// findAddresses returns the lower-cased addresses in s, in order, without
// duplicates.
func findAddresses(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range addrRE.FindAllString(s, -1) {
		a = cleanAddress(a)
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// cleanAddress lower-cases an address and drops the "rfc822;" type, angle
// brackets, quotes and trailing punctuation that bounces wrap it in. It
// returns "" when what is left is not an address.
func cleanAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && i < 12 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if m := addrRE.FindString(s); m != "" {
		s = m
	} else {
		return ""
	}
	if !strings.HasPrefix(s, `"`) {
		s = strings.Trim(s, `<>"'.,;:()[] `)
	}
	s = strings.ToLower(s)
	if strings.Count(s, "@") != 1 || strings.HasPrefix(s, "@") || strings.HasSuffix(s, "@") {
		return ""
	}
	return s
}

// localPart returns the part of an address before the last '@'.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

// plusToken returns the token of local+token@domain when local equals want
// (case-insensitive), and whether it matched.
func plusToken(addr, want string) (string, bool) {
	lp := strings.ToLower(localPart(addr))
	if lp == want {
		return "", true
	}
	if strings.HasPrefix(lp, want+"+") {
		// Keep the token's case as the address had it: a signed token must
		// be verified byte for byte by the caller.
		return localPart(strings.TrimSpace(addr))[len(want)+1:], true
	}
	return "", false
}

// oneLine collapses all white space runs to one space, trims, and caps the
// result near 500 characters on a rune boundary.
func oneLine(s string) string {
	// Parse errors quote the offending bytes, which need not be UTF-8.
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	const max = 500
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut]) + "…"
	}
	return s
}

// normalize lower-cases s, folds white space, strips accents and
// straightens typographic apostrophes, so that patterns match "boîte",
// "boite" and "BOITE" alike, and "n’a" as "n'a".
func normalize(s string) string {
	s = unaccent.String(strings.ToLower(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if r == '’' || r == '‘' {
			r = '\''
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// lines splits s into lines without their line ends.
func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
}
