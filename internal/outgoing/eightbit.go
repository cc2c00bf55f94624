package outgoing

import "strings"

// maxLine is the longest line SMTP carries, in octets without its CRLF
// (RFC 5321 section 4.5.3.1.6).
const maxLine = 998

// fitsEightBit reports whether s can go as an 8bit part (RFC 2045 section
// 2.8): no NUL, no line over 998 octets, and no CR, so that its line ends
// can be made CRLF by adding a CR before each LF. A body with CR, which
// the renderer never makes, goes in quoted-printable.
func fitsEightBit(s string) bool {
	if strings.IndexByte(s, 0) >= 0 || strings.IndexByte(s, '\r') >= 0 {
		return false
	}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return len(s) <= maxLine
		}
		if i > maxLine {
			return false
		}
		s = s[i+1:]
	}
	return true
}
