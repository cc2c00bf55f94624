package render

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// TextWidth is the width the plain-text part is wrapped at: what text mail
// clients show without horizontal scrolling, with room for "> " quoting in a
// reply.
const TextWidth = 72

// underline returns s wrapped at TextWidth with a line of c under it, as
// long as its longest line.
func underline(s string, c rune) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	lines := wrapLine(s, TextWidth)
	n := 0
	for _, l := range lines {
		n = max(n, utf8.RuneCountInString(l))
	}
	return strings.Join(lines, "\n") + "\n" + strings.Repeat(string(c), n)
}

// linePrefix matches what starts a line and must start its continuations:
// quote marks and indentation (group 1) and a list or reference marker
// (group 2), whose continuations are indented by its width.
var linePrefix = regexp.MustCompile(`^((?:[>|] ?| )*)((?:[-*•] |\d{1,3}[.)] |\[\d{1,4}\] )?)`)

// wrapLine breaks one line at spaces so that no piece is wider than width,
// repeating its prefix on continuation lines. Only U+0020 is a break:
// French typography's non-breaking spaces before : ; ! ? » and after « keep
// the punctuation with its word, as they are meant to. A word wider than the
// line (a URL) is left whole on a line of its own.
func wrapLine(line string, width int) []string {
	if utf8.RuneCountInString(line) <= width {
		return []string{line}
	}
	m := linePrefix.FindStringSubmatch(line)
	first := m[0]
	cont := m[1] + strings.Repeat(" ", utf8.RuneCountInString(m[2]))
	words := strings.Split(line[len(first):], " ")
	var out []string
	var cur strings.Builder
	cur.WriteString(first)
	curLen := utf8.RuneCountInString(first)
	prefixLen := curLen
	for _, w := range words {
		if w == "" {
			continue // runs of spaces collapse, as in HTML
		}
		wl := utf8.RuneCountInString(w)
		if curLen > prefixLen && curLen+1+wl > width {
			out = append(out, cur.String())
			cur.Reset()
			cur.WriteString(cont)
			curLen = utf8.RuneCountInString(cont)
			prefixLen = curLen
		}
		if curLen > prefixLen {
			cur.WriteByte(' ')
			curLen++
		}
		cur.WriteString(w)
		curLen += wl
	}
	out = append(out, cur.String())
	return out
}

// finishText is the last pass over the plain-text part: trailing spaces go,
// long lines are wrapped, and runs of blank lines shrink to at most two, so
// that template authors need not fight text/template's whitespace.
func finishText(s string) string {
	var b strings.Builder
	blank := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			for range min(blank, 2) {
				b.WriteByte('\n')
			}
		}
		blank = 0
		for _, l := range wrapLine(line, TextWidth) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
