// Package i18n holds the message catalogues of the public pages and the
// admin console (French first, English) and picks the reader's language.
//
// A message is looked up by key; its text is a fmt format, so that a
// catalogue can put the arguments where its grammar wants them. French
// entries follow French typography: a narrow no-break space (U+202F) before
// ; ! ? and a no-break space (U+00A0) before : and inside « ».
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default is the language used when nothing else is known.
const Default = "fr"

// catalogues maps each supported language to its messages. It is never
// written after start-up.
var catalogues = map[string]map[string]string{
	"fr": merge(fr, frReport, frConsent, frMailbox, frChecks, frLogin, frEditor, frConsole, frSettings, frOps),
	"en": merge(en, enReport, enConsent, enMailbox, enChecks, enLogin, enEditor, enConsole, enSettings, enOps),
}

// merge returns one catalogue made of several: each part of the daemon
// keeps its messages in its own file (report_fr.go for the reports).
func merge(parts ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range parts {
		for k, v := range p {
			out[k] = v
		}
	}
	return out
}

// Supported reports whether Bulletin has a catalogue for lang.
func Supported(lang string) bool {
	_, ok := catalogues[lang]
	return ok
}

// Languages returns the supported language codes.
func Languages() []string { return []string{"fr", "en"} }

// Negotiate picks the language for an Accept-Language header: the supported
// language the reader ranks highest, or fallback when none is (or fallback
// is not supported, Default). "en-GB;q=0.8, fr;q=0.9" gives "fr".
func Negotiate(acceptLanguage, fallback string) string {
	if !Supported(fallback) {
		fallback = Default
	}
	best, bestQ := "", 0.0
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i >= 20 { // a header is a handful of tags; ignore a hostile flood
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if base == "*" {
			base = fallback
		}
		if Supported(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

// Printer formats messages, numbers and dates in one language.
type Printer struct {
	lang string
	msgs map[string]string
}

// New returns the Printer for lang, or for Default when lang is not supported.
func New(lang string) *Printer {
	if !Supported(lang) {
		lang = Default
	}
	return &Printer{lang: lang, msgs: catalogues[lang]}
}

// Lang returns the printer's language code.
func (p *Printer) Lang() string { return p.lang }

// T returns the message key formatted with args. A key missing from the
// catalogue comes out as itself, so that a forgotten translation shows on
// the page (and the tests catch it) instead of an empty string.
func (p *Printer) T(key string, args ...any) string {
	msg, ok := p.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// N returns the plural form of key for n: key+".one" or key+".other", with n
// as the first argument. French uses the singular for 0 and 1, English only
// for 1.
func (p *Printer) N(key string, n int, args ...any) string {
	one := n == 1
	if p.lang == "fr" {
		one = n == 0 || n == 1
	}
	form := ".other"
	if one {
		form = ".one"
	}
	return p.T(key+form, append([]any{p.Number(n)}, args...)...)
}

// Number writes an integer with the language's thousands separator: a
// narrow no-break space in French (12 345), a comma in English (12,345).
func (p *Printer) Number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if p.lang == "fr" {
		sep = "\u202f"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Date writes the day of t: "15 janvier 2026", "15 January 2026".
func (p *Printer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	month := p.T("month." + strconv.Itoa(int(t.Month())))
	day := strconv.Itoa(t.Day())
	if p.lang == "fr" && t.Day() == 1 {
		day = "1er"
	}
	return day + " " + month + " " + strconv.Itoa(t.Year())
}

// DateTime writes the day and time of t: "15 janvier 2026 à 09:00",
// "15 January 2026 at 09:00".
func (p *Printer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return p.T("datetime", p.Date(t), t.Format("15:04"))
}
