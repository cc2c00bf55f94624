package render

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Recipient is what a message is personalised with: the subscriber's fields,
// the two links that differ for each of them and, for an edition made with
// PrepareTracked, the tracking of opens and clicks.
type Recipient struct {
	Email        string
	FirstName    string
	LastName     string
	Organisation string
	// Attributes are the subscriber's other fields (imported CSV columns),
	// reachable from templates as {{.Recipient.Attr "NAME"}}.
	Attributes map[string]string
	// UnsubscribeURL is this recipient's unsubscribe link.
	UnsubscribeURL string
	// WebViewURL is this recipient's link to the online version.
	WebViewURL string
	// OpenURL is the source of this message's 1×1 tracking image; empty:
	// no image.
	OpenURL string
	// ClickURL returns what to write instead of each http(s) link of the
	// HTML part, link as the layout made it; nil: the links as they are.
	ClickURL func(link string) string
}

// slotKind is which recipient field a slot holds.
type slotKind uint8

const (
	slotEmail slotKind = iota
	slotFirstName
	slotLastName
	slotFullName
	slotOrganisation
	slotAttr
	slotUnsubscribe
	slotWebView
	slotLink // a link of the HTML part, key; see PrepareTracked
	slotOpen // the tracking image, a whole element
)

// slot is one recipient field used by a template, with its fallback.
type slot struct {
	kind     slotKind
	key      string // attribute name, for slotAttr
	fallback string
}

// esc is how a slot's value is escaped where it appears.
type esc uint8

const (
	escPlain   esc = iota // plain-text part: as is, control characters made spaces
	escText               // HTML text
	escAttr               // HTML attribute value
	escURL                // a whole URL in an attribute: scheme checked
	escURLPart            // a query value inside a URL attribute
)

// part is a run of fixed output followed by one slot (none when slot < 0).
type part struct {
	lit  string
	slot int
	esc  esc
}

// Fields is what templates see as .Recipient while a Prepared is built.
//
// Templates are executed once per edition, not once per recipient, so these
// methods do not return the recipient's values: each returns a placeholder
// that Prepare later finds in the output and turns into a slot filled for
// each message. This is why a template can print a recipient field but
// cannot test it ({{if .Recipient.FirstName}} is always true): the fallback
// argument is the way to say what to print when the field is empty.
type Fields struct {
	slots []slot
}

func (f *Fields) add(s slot) string { return slotMarker(f.index(s)) }

// index returns the number of slot s, adding it the first time.
func (f *Fields) index(s slot) int {
	for i, x := range f.slots {
		if x == s {
			return i
		}
	}
	f.slots = append(f.slots, s)
	return len(f.slots) - 1
}

func fallback(fb []string) string { return strings.Join(fb, " ") }

// Email prints the recipient's address, or the fallback (in the web view,
// which has no recipient).
func (f *Fields) Email(fb ...string) string {
	return f.add(slot{kind: slotEmail, fallback: fallback(fb)})
}

// FirstName prints the first name, or the fallback if it is empty:
// {{.Recipient.FirstName "Madame, Monsieur"}}.
func (f *Fields) FirstName(fb ...string) string {
	return f.add(slot{kind: slotFirstName, fallback: fallback(fb)})
}

// LastName prints the last name, or the fallback.
func (f *Fields) LastName(fb ...string) string {
	return f.add(slot{kind: slotLastName, fallback: fallback(fb)})
}

// FullName prints "first last", or the fallback when both are empty.
func (f *Fields) FullName(fb ...string) string {
	return f.add(slot{kind: slotFullName, fallback: fallback(fb)})
}

// Organisation prints the recipient's organisation, or the fallback.
func (f *Fields) Organisation(fb ...string) string {
	return f.add(slot{kind: slotOrganisation, fallback: fallback(fb)})
}

// Attr prints one of the recipient's other attributes, or the fallback.
func (f *Fields) Attr(name string, fb ...string) string {
	return f.add(slot{kind: slotAttr, key: name, fallback: fallback(fb)})
}

// UnsubscribeURL prints the recipient's unsubscribe link.
func (f *Fields) UnsubscribeURL() string { return f.add(slot{kind: slotUnsubscribe}) }

// WebViewURL prints the recipient's link to the online version.
func (f *Fields) WebViewURL() string { return f.add(slot{kind: slotWebView}) }

// appendParts writes parts for r, the per-recipient step: fixed strings and a
// handful of escaped fields, no parsing and no allocation beyond dst.
func appendParts(dst []byte, parts []part, slots []slot, r *Recipient) []byte {
	for i := range parts {
		p := &parts[i]
		dst = append(dst, p.lit...)
		if p.slot >= 0 {
			dst = appendSlot(dst, slots[p.slot], p.esc, r)
		}
	}
	return dst
}

// writeParts is appendParts for a writer: fixed strings go straight to w,
// and each slot is escaped into a small scratch buffer first.
func writeParts(w io.Writer, parts []part, slots []slot, r *Recipient) error {
	scratch := make([]byte, 0, 256)
	for i := range parts {
		p := &parts[i]
		if _, err := io.WriteString(w, p.lit); err != nil {
			return err
		}
		if p.slot >= 0 {
			scratch = appendSlot(scratch[:0], slots[p.slot], p.esc, r)
			if _, err := w.Write(scratch); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildParts is writeParts for a strings.Builder, written out for the
// concrete type so that neither the builder nor the scratch space escapes
// to the heap.
func buildParts(b *strings.Builder, parts []part, slots []slot, r *Recipient) {
	var scratch [256]byte
	for i := range parts {
		p := &parts[i]
		b.WriteString(p.lit)
		if p.slot >= 0 {
			b.Write(appendSlot(scratch[:0], slots[p.slot], p.esc, r))
		}
	}
}

func appendSlot(dst []byte, s slot, e esc, r *Recipient) []byte {
	var v string
	switch s.kind {
	case slotEmail:
		v = r.Email
	case slotFirstName:
		v = r.FirstName
	case slotLastName:
		v = r.LastName
	case slotOrganisation:
		v = r.Organisation
	case slotAttr:
		v = r.Attributes[s.key]
	case slotUnsubscribe:
		return appendURL(dst, r.UnsubscribeURL, e)
	case slotWebView:
		return appendURL(dst, r.WebViewURL, e)
	case slotLink:
		link := s.key
		if r.ClickURL != nil {
			link = r.ClickURL(link)
		}
		return appendURL(dst, link, e)
	case slotOpen:
		if r.OpenURL == "" {
			return dst
		}
		dst = append(dst, `<img src="`...)
		dst = appendURL(dst, r.OpenURL, escURL)
		return append(dst, `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`...)
	case slotFullName:
		first, last := strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
		if first == "" || last == "" {
			v = first + last // one of them is empty: no allocation
			break
		}
		dst = appendEscaped(dst, first, e)
		dst = append(dst, ' ')
		return appendEscaped(dst, last, e)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		v = s.fallback
	}
	return appendEscaped(dst, v, e)
}

// appendURL writes a link. A whole URL must be http, https or mailto (what a
// reader may safely follow); anything else, empty included, becomes "#" so
// that a bad value yields a dead link rather than a dangerous one.
func appendURL(dst []byte, u string, e esc) []byte {
	u = strings.TrimSpace(u)
	if e == escURL && !safeScheme(u) {
		return append(dst, '#')
	}
	return appendEscaped(dst, u, e)
}

func safeScheme(u string) bool {
	i := strings.IndexByte(u, ':')
	if i <= 0 {
		return false
	}
	switch strings.ToLower(u[:i]) {
	case "http", "https":
		return strings.HasPrefix(u[i:], "://") && len(u) > i+3
	case "mailto":
		return len(u) > i+1
	}
	return false
}

const hexDigits = "0123456789ABCDEF"

// appendEscaped writes v escaped for context e.
func appendEscaped(dst []byte, v string, e esc) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(v[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, "\uFFFD"...)
			case e == escURL || e == escURLPart:
				// Percent-encode non-ASCII in URLs, as browsers would.
				for j := 0; j < size; j++ {
					dst = append(dst, '%', hexDigits[v[i+j]>>4], hexDigits[v[i+j]&15])
				}
			default:
				dst = append(dst, v[i:i+size]...)
			}
			i += size
			continue
		}
		i++
		if c < 0x20 || c == 0x7f {
			// A newline in a name must not start a new line of the text part
			// or a new header-like line; tabs and the rest likewise.
			dst = append(dst, ' ')
			continue
		}
		switch e {
		case escText:
			switch c {
			case '&':
				dst = append(dst, "&amp;"...)
			case '<':
				dst = append(dst, "&lt;"...)
			case '>':
				dst = append(dst, "&gt;"...)
			default:
				dst = append(dst, c)
			}
		case escAttr:
			switch c {
			case '&':
				dst = append(dst, "&amp;"...)
			case '"':
				dst = append(dst, "&quot;"...)
			default:
				dst = append(dst, c)
			}
		case escURL:
			switch {
			case c == '&':
				dst = append(dst, "&amp;"...)
			case c == '"' || c == '<' || c == '>' || c == ' ' || c == '\'' || c == '`' || c == '\\':
				dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
			default:
				dst = append(dst, c)
			}
		case escURLPart:
			// Query escaping: only unreserved characters pass.
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
				dst = append(dst, c)
			} else {
				dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
