// Package address normalises and checks e-mail addresses.
//
// Every address that enters Bulletin (an import, the subscribe form, the API, a
// bounce) goes through Normalize, so that the store holds one spelling per
// mailbox and a bad address is refused with a reason a person can act on.
// Key gives the identity used to compare addresses (deduplication,
// suppression); Mask hides an address on public pages.
//
// Only ASCII local parts are accepted: an internationalised local part needs
// SMTPUTF8 end to end, which a newsletter cannot count on from a relay it does
// not run. Internationalised domains are accepted and stored in their IDNA
// ASCII form (xn--), which every relay understands.
package address

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits from RFC 5321 section 4.5.3.1.
const (
	maxLocal  = 64
	maxDomain = 253
	maxLabel  = 63
)

// Error says why an address was refused.
type Error struct {
	Input  string // the text as given, before any trimming
	Reason string // what is wrong, in words: "missing @", "domain has no dot"
}

// Error returns `invalid address "x": reason`.
func (e *Error) Error() string {
	in := e.Input
	// A spreadsheet cell can hold anything, a whole paragraph included;
	// the message must stay readable on one line.
	if len(in) > 80 {
		cut := 80
		for cut > 0 && !utf8.RuneStart(in[cut]) {
			cut--
		}
		in = in[:cut] + "…"
	}
	return fmt.Sprintf("invalid address %q: %s", in, e.Reason)
}

// Normalize returns the canonical spelling of the address s, or an *Error
// saying why s is not an address Bulletin can send to.
//
// Surrounding white space (NBSP and zero-width characters included, as
// spreadsheets and copied web pages carry them) is trimmed, and so are angle
// brackets and a "mailto:" prefix when they wrap the whole text. The local
// part keeps its case: RFC 5321 lets a server treat "Jean" and "jean" as two
// mailboxes, so rewriting it could send to someone else (see Key for how
// addresses are compared). A quoted local part that does not need its quotes
// loses them ("jean"@x.fr is jean@x.fr), so that one mailbox has one spelling.
// The domain is lower-cased and converted to its IDNA ASCII form.
//
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s).
func Normalize(s string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", &Error{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	a := unwrap(s)
	if a == "" {
		return fail("empty address")
	}
	if a[0] != '"' && strings.ContainsAny(a, "<>") {
		return fail("angle brackets inside the address (a display name? give the address alone)")
	}
	var local, domain string
	if a[0] == '"' {
		q, rest, reason := splitQuoted(a)
		if reason != "" {
			return fail("%s", reason)
		}
		local, domain = q, rest
	} else {
		switch n := strings.Count(a, "@"); {
		case n == 0:
			return fail("missing @")
		case n > 1 && strings.ContainsAny(a, ",; "):
			return fail("several addresses in one field")
		case n > 1:
			return fail("more than one @")
		}
		at := strings.IndexByte(a, '@')
		local, domain = a[:at], a[at+1:]
		if reason := checkDotAtom(local); reason != "" {
			return fail("%s", reason)
		}
	}
	if len(local) > maxLocal {
		return fail("local part is %d octets, more than %d", len(local), maxLocal)
	}
	d, reason := normalizeDomain(domain)
	if reason != "" {
		return fail("%s", reason)
	}
	if len(a) == len(local)+1+len(d) && strings.HasPrefix(a, local) && a[len(local)] == '@' && strings.HasSuffix(a, d) {
		// Already canonical, as most addresses in a file are: returning a
		// saves building the same string again, one allocation per row of
		// an import.
		return a, nil
	}
	return local + "@" + d, nil
}

// unwrap trims s and removes angle brackets and mailto: that wrap all of it,
// in any order ("<mailto:x@y.fr>", "mailto:<x@y.fr>"). The loop is bounded:
// each round removes at least two bytes, and four rounds cover every
// combination met in practice; anything left is checked as an address.
func unwrap(s string) string {
	for range 4 {
		s = strings.TrimFunc(s, isTrimmed)
		switch {
		case len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>':
			s = s[1 : len(s)-1]
		case len(s) >= 7 && strings.EqualFold(s[:7], "mailto:"):
			s = s[7:]
		default:
			return s
		}
	}
	return strings.TrimFunc(s, isTrimmed)
}

// isTrimmed reports whether r is trimmed from the ends of an address: Unicode
// white space (which includes NBSP and the narrow NBSP French typography
// puts before ":"), and the invisible characters that copy and paste brings
// along (zero-width space and joiner, word joiner, BOM, direction marks).
func isTrimmed(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u200e', '\u200f':
		return true
	}
	return unicode.IsSpace(r)
}

// atext reports the characters RFC 5321 allows in a dot-atom besides ".".
var atext = func() (t [128]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()

// checkDotAtom returns why local is not a valid dot-atom, or "".
func checkDotAtom(local string) string {
	if local == "" {
		return "empty local part"
	}
	prevDot := false
	for i, r := range local {
		switch {
		case r == '.':
			switch {
			case i == 0:
				return "local part starts with a dot"
			case i == len(local)-1:
				return "local part ends with a dot"
			case prevDot:
				return "two dots in a row in local part"
			}
			prevDot = true
			continue
		case r < utf8.RuneSelf && atext[r]:
		case unicode.IsSpace(r) || isTrimmed(r):
			return "space in local part"
		case r == utf8.RuneError:
			return "invalid UTF-8 in local part"
		case r >= utf8.RuneSelf:
			return fmt.Sprintf("non-ASCII character %q in local part (internationalised local parts are not supported)", r)
		case r == '"':
			return "quote in local part (only a whole local part may be quoted)"
		default:
			return fmt.Sprintf("character %q not allowed in local part", r)
		}
		prevDot = false
	}
	return ""
}

// splitQuoted splits `"quoted local"@domain`. It returns the local part in
// canonical form (unquoted when the content is a plain dot-atom, otherwise
// quoted with only `"` and `\` escaped), the domain, and a reason when the
// text is not a valid RFC 5321 Quoted-string followed by "@".
func splitQuoted(a string) (local, domain, reason string) {
	var content strings.Builder
	end := -1 // index of the closing quote
scan:
	for i := 1; i < len(a); i++ {
		c := a[i]
		switch {
		case c == '"':
			end = i
			break scan
		case c == '\\':
			// quoted-pairSMTP = "\" %d32-126
			if i+1 >= len(a) || a[i+1] < 32 || a[i+1] > 126 {
				return "", "", "invalid escape in quoted local part"
			}
			i++
			content.WriteByte(a[i])
		case c >= 32 && c <= 126: // qtextSMTP: printable ASCII but " and \
			content.WriteByte(c)
		case c >= utf8.RuneSelf:
			return "", "", "non-ASCII character in local part (internationalised local parts are not supported)"
		default:
			return "", "", fmt.Sprintf("control character %q in quoted local part", c)
		}
	}
	if end < 0 {
		return "", "", "unterminated quoted local part"
	}
	rest := a[end+1:]
	switch {
	case rest == "":
		return "", "", "missing @"
	case rest[0] != '@':
		return "", "", "text between the quoted local part and the @"
	case strings.Contains(rest[1:], "@"):
		return "", "", "more than one @"
	}
	c := content.String()
	if c == "" {
		return "", "", "empty local part"
	}
	if checkDotAtom(c) == "" {
		return c, rest[1:], ""
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(c) + `"`, rest[1:], ""
}

// normalizeDomain returns the lower-case IDNA ASCII form of d, or a reason.
// The structural checks run on the converted form, because IDNA mapping may
// change the dots (the ideographic full stop "。" is a dot) and the length.
func normalizeDomain(d string) (string, string) {
	if d == "" {
		return "", "empty domain"
	}
	if d[0] == '[' {
		return "", "address literals like [192.0.2.1] are not accepted"
	}
	ascii := true
	for _, r := range d {
		switch {
		case unicode.IsSpace(r) || isTrimmed(r):
			return "", "space in domain"
		case r == utf8.RuneError:
			return "", "invalid UTF-8 in domain"
		case r >= utf8.RuneSelf:
			ascii = false
		case r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
		default:
			return "", fmt.Sprintf("character %q not allowed in domain", r)
		}
	}
	lower := strings.ToLower(d)
	if ascii && !strings.Contains(lower, "--") {
		// Lower-case letters, digits, hyphens and dots, with no "xn--"
		// label and no "--" for IDNA to check: the IDNA ASCII form is the
		// text itself, and skipping the conversion halves the cost of
		// Normalize on the addresses of a large import.
		if reason := checkLabels(lower); reason != "" {
			return "", reason
		}
		return lower, ""
	}
	a, idnaErr := idna.Lookup.ToASCII(lower)
	if a == "" {
		a = lower
	}
	if reason := checkLabels(a); reason != "" {
		return "", reason
	}
	if idnaErr != nil {
		if ascii {
			return "", fmt.Sprintf("invalid domain %q", d)
		}
		return "", fmt.Sprintf("invalid international domain %q", d)
	}
	return a, ""
}

// checkLabels returns why the ASCII domain a is not a host name Bulletin can
// mail, or "".
func checkLabels(a string) string {
	switch {
	case strings.HasPrefix(a, "."):
		return "domain starts with a dot"
	case strings.HasSuffix(a, "."):
		return "domain ends with a dot"
	case !strings.Contains(a, "."):
		return "domain has no dot"
	case len(a) > maxDomain:
		return fmt.Sprintf("domain is %d octets, more than %d", len(a), maxDomain)
	}
	// Walk the labels without strings.Split: this runs for every row of an
	// import.
	var l string
	for rest := a; rest != ""; {
		l, rest, _ = strings.Cut(rest, ".")
		switch {
		case l == "":
			return "two dots in a row in domain"
		case len(l) > maxLabel:
			return fmt.Sprintf("domain label %q is %d octets, more than %d", l, len(l), maxLabel)
		case l[0] == '-':
			return fmt.Sprintf("domain label %q starts with a hyphen", l)
		case l[len(l)-1] == '-':
			return fmt.Sprintf("domain label %q ends with a hyphen", l)
		}
	}
	// l is now the top-level domain.
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return ""
		}
	}
	return "domain looks like an IP address"
}

// Key returns the identity of a normalised address, used to find duplicates
// and to match suppressions: the whole address lower-cased.
//
// RFC 5321 allows a server to treat the local parts "Jean" and "jean" as two
// mailboxes, but no mail system in use does so; people type their address
// with whatever capitals they like, and spreadsheets change them. Comparing
// case-insensitively means that a suppressed "Jean@x.fr" also suppresses
// "jean@x.fr" (suppression must win, whatever the spelling of a later
// import), and that a file holding both spellings holds one person twice.
// Normalize only accepts ASCII local parts, so lower-casing is plain ASCII
// folding with no locale surprises.
func Key(addr string) string {
	return strings.ToLower(addr)
}

// Domain returns the lower-cased domain of addr, the text after its last "@",
// or "" when addr has no "@".
func Domain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// Mask hides most of addr for display on public pages, where the person can
// recognise their address but a passer-by cannot read it:
// "jean.martin@example.org" becomes "j*********n@e*****e.org". Each part
// keeps its first and last characters, each domain label but the last keeps
// its first and last too, and the top-level domain is shown in full.
func Mask(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return maskPart(addr)
	}
	labels := strings.Split(addr[i+1:], ".")
	for j := range len(labels) - 1 {
		labels[j] = maskPart(labels[j])
	}
	return maskPart(addr[:i]) + "@" + strings.Join(labels, ".")
}

// maskPart keeps the first and last runes of s and stars the others; a part of
// one or two runes keeps only what cannot identify it.
func maskPart(s string) string {
	r := []rune(s)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}
