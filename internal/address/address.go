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
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"bulletin/internal/i18n"
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
	Reason string // what is wrong, in English words: "missing @", "domain has no dot"
	msg    i18n.Message
}

// Message returns what is wrong as a catalogue message, for a page in the
// reader's language.
func (e *Error) Message() i18n.Message {
	return i18n.M("address.invalid", strconv.Quote(shortInput(e.Input)), e.msg)
}

// Error returns `invalid address "x": reason`.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid address %q: %s", shortInput(e.Input), e.Reason)
}

// shortInput cuts what was given to 80 bytes: a spreadsheet cell can hold
// anything, a whole paragraph included, and the message must stay readable
// on one line.
func shortInput(in string) string {
	if len(in) > 80 {
		cut := 80
		for cut > 0 && !utf8.RuneStart(in[cut]) {
			cut--
		}
		in = in[:cut] + "…"
	}
	return in
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
	fail := func(key string, args ...any) (string, error) {
		return failWith(s, i18n.M(key, args...))
	}
	a := unwrap(s)
	if a == "" {
		return fail("address.empty")
	}
	if a[0] != '"' && strings.ContainsAny(a, "<>") {
		return fail("address.angle_brackets")
	}
	var local, domain string
	if a[0] == '"' {
		q, rest, reason := splitQuoted(a)
		if !reason.IsZero() {
			return failWith(s, reason)
		}
		local, domain = q, rest
	} else {
		switch n := strings.Count(a, "@"); {
		case n == 0:
			return fail("address.missing_at")
		case n > 1 && strings.ContainsAny(a, ",; "):
			return fail("address.several")
		case n > 1:
			return fail("address.two_at")
		}
		at := strings.IndexByte(a, '@')
		local, domain = a[:at], a[at+1:]
		if reason := checkDotAtom(local); !reason.IsZero() {
			return failWith(s, reason)
		}
	}
	if len(local) > maxLocal {
		return fail("address.local.long", len(local), maxLocal)
	}
	d, reason := normalizeDomain(domain)
	if !reason.IsZero() {
		return failWith(s, reason)
	}
	if len(a) == len(local)+1+len(d) && strings.HasPrefix(a, local) && a[len(local)] == '@' && strings.HasSuffix(a, d) {
		// Already canonical, as most addresses in a file are: returning a
		// saves building the same string again, one allocation per row of
		// an import.
		return a, nil
	}
	return local + "@" + d, nil
}

func failWith(s string, reason i18n.Message) (string, error) {
	return "", &Error{Input: s, Reason: reason.String(), msg: reason}
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
func checkDotAtom(local string) i18n.Message {
	if local == "" {
		return i18n.M("address.local.empty")
	}
	prevDot := false
	for i, r := range local {
		switch {
		case r == '.':
			switch {
			case i == 0:
				return i18n.M("address.local.starts_dot")
			case i == len(local)-1:
				return i18n.M("address.local.ends_dot")
			case prevDot:
				return i18n.M("address.local.two_dots")
			}
			prevDot = true
			continue
		case r < utf8.RuneSelf && atext[r]:
		case unicode.IsSpace(r) || isTrimmed(r):
			return i18n.M("address.local.space")
		case r == utf8.RuneError:
			return i18n.M("address.local.utf8")
		case r >= utf8.RuneSelf:
			return i18n.M("address.local.non_ascii", strconv.QuoteRune(r))
		case r == '"':
			return i18n.M("address.local.quote")
		default:
			return i18n.M("address.local.character", strconv.QuoteRune(r))
		}
		prevDot = false
	}
	return i18n.Message{}
}

// splitQuoted splits `"quoted local"@domain`. It returns the local part in
// canonical form (unquoted when the content is a plain dot-atom, otherwise
// quoted with only `"` and `\` escaped), the domain, and a reason when the
// text is not a valid RFC 5321 Quoted-string followed by "@".
func splitQuoted(a string) (local, domain string, reason i18n.Message) {
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
				return "", "", i18n.M("address.quoted.escape")
			}
			i++
			content.WriteByte(a[i])
		case c >= 32 && c <= 126: // qtextSMTP: printable ASCII but " and \
			content.WriteByte(c)
		case c >= utf8.RuneSelf:
			return "", "", i18n.M("address.quoted.non_ascii")
		default:
			return "", "", i18n.M("address.quoted.control", strconv.QuoteRune(rune(c)))
		}
	}
	if end < 0 {
		return "", "", i18n.M("address.quoted.unterminated")
	}
	rest := a[end+1:]
	switch {
	case rest == "":
		return "", "", i18n.M("address.missing_at")
	case rest[0] != '@':
		return "", "", i18n.M("address.quoted.text_before_at")
	case strings.Contains(rest[1:], "@"):
		return "", "", i18n.M("address.two_at")
	}
	c := content.String()
	if c == "" {
		return "", "", i18n.M("address.local.empty")
	}
	if checkDotAtom(c).IsZero() {
		return c, rest[1:], i18n.Message{}
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(c) + `"`, rest[1:], i18n.Message{}
}

// normalizeDomain returns the lower-case IDNA ASCII form of d, or a reason.
// The structural checks run on the converted form, because IDNA mapping may
// change the dots (the ideographic full stop "。" is a dot) and the length.
func normalizeDomain(d string) (string, i18n.Message) {
	if d == "" {
		return "", i18n.M("address.domain.empty")
	}
	if d[0] == '[' {
		return "", i18n.M("address.domain.literal")
	}
	ascii := true
	for _, r := range d {
		switch {
		case unicode.IsSpace(r) || isTrimmed(r):
			return "", i18n.M("address.domain.space")
		case r == utf8.RuneError:
			return "", i18n.M("address.domain.utf8")
		case r >= utf8.RuneSelf:
			ascii = false
		case r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
		default:
			return "", i18n.M("address.domain.character", strconv.QuoteRune(r))
		}
	}
	lower := strings.ToLower(d)
	if ascii && !strings.Contains(lower, "--") {
		// Lower-case letters, digits, hyphens and dots, with no "xn--"
		// label and no "--" for IDNA to check: the IDNA ASCII form is the
		// text itself, and skipping the conversion halves the cost of
		// Normalize on the addresses of a large import.
		if reason := checkLabels(lower); !reason.IsZero() {
			return "", reason
		}
		return lower, i18n.Message{}
	}
	a, idnaErr := idna.Lookup.ToASCII(lower)
	if a == "" {
		a = lower
	}
	if reason := checkLabels(a); !reason.IsZero() {
		return "", reason
	}
	if idnaErr != nil {
		if ascii {
			return "", i18n.M("address.domain.invalid", strconv.Quote(d))
		}
		return "", i18n.M("address.domain.invalid_idn", strconv.Quote(d))
	}
	return a, i18n.Message{}
}

// checkLabels returns why the ASCII domain a is not a host name Bulletin can
// mail, or "".
func checkLabels(a string) i18n.Message {
	switch {
	case strings.HasPrefix(a, "."):
		return i18n.M("address.domain.starts_dot")
	case strings.HasSuffix(a, "."):
		return i18n.M("address.domain.ends_dot")
	case !strings.Contains(a, "."):
		return i18n.M("address.domain.no_dot")
	case len(a) > maxDomain:
		return i18n.M("address.domain.long", len(a), maxDomain)
	}
	// Walk the labels without strings.Split: this runs for every row of an
	// import.
	var l string
	for rest := a; rest != ""; {
		l, rest, _ = strings.Cut(rest, ".")
		switch {
		case l == "":
			return i18n.M("address.domain.two_dots")
		case len(l) > maxLabel:
			return i18n.M("address.label.long", strconv.Quote(l), len(l), maxLabel)
		case l[0] == '-':
			return i18n.M("address.label.starts_hyphen", strconv.Quote(l))
		case l[len(l)-1] == '-':
			return i18n.M("address.label.ends_hyphen", strconv.Quote(l))
		}
	}
	// l is now the top-level domain.
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return i18n.Message{}
		}
	}
	return i18n.M("address.domain.ip")
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
