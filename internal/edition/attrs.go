package edition

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
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
			return nil, fmt.Errorf("expected an attribute name (key=\"value\") at %q", string(r))
		}
		if i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("attribute %s has no value: write %s=\"…\"", key, key)
		}
		i++
		if i >= len(s) {
			return nil, fmt.Errorf("attribute %s has no value: write %s=\"…\"", key, key)
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
				return nil, fmt.Errorf("attribute %s: missing closing %c", key, q)
			}
			value = b.String()
			if i < len(s) && s[i] != ' ' && s[i] != '\t' {
				return nil, fmt.Errorf("attribute %s: expected a space after the closing %c", key, q)
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
				return nil, fmt.Errorf("attribute %s is given twice", key)
			}
		}
		attrs = append(attrs, attr{key: key, value: strings.TrimFunc(value, unicode.IsSpace)})
	}
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
