package edition

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"bulletin/internal/i18n"
)

// attr is one key="value" pair of a block's opening line.
type attr struct {
	key, value string
}

// parseAttrs reads the attributes after a block name: key="value" with
// double or single quotes, or key=value without spaces. Inside quotes a
// backslash escapes the quote or another backslash; everything else,
// including French quotes and non-breaking spaces, is taken as written.
func parseAttrs(s string) ([]attr, error) {
	var attrs []attr
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return attrs, nil
		}
		start := i
		for i < len(s) && isKeyByte(s[i]) {
			i++
		}
		key := s[start:i]
		if key == "" {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, i18n.Errorf("edition.err.attr_name", string(r))
		}
		if i >= len(s) || s[i] != '=' {
			return nil, i18n.Errorf("edition.err.attr_no_value", key, key)
		}
		i++
		if i >= len(s) {
			return nil, i18n.Errorf("edition.err.attr_no_value", key, key)
		}
		var value string
		switch q := s[i]; q {
		case '"', '\'':
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == q {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, i18n.Errorf("edition.err.attr_unclosed", key, string(q))
			}
			value = b.String()
			if i < len(s) && s[i] != ' ' && s[i] != '\t' {
				return nil, i18n.Errorf("edition.err.attr_space", key, string(q))
			}
		default:
			start := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			value = s[start:i]
		}
		for _, a := range attrs {
			if a.key == key {
				return nil, i18n.Errorf("edition.err.attr_twice", key)
			}
		}
		attrs = append(attrs, attr{key: key, value: strings.TrimFunc(value, unicode.IsSpace)})
	}
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
