package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// printable returns s without the control characters a terminal acts on:
// C0 but tab and newline, DEL, and C1. Text from the store or from mail (a
// bounce's diagnostic written by a remote server, a name typed in the
// subscribe form) can hold escape sequences that clear the screen, rewrite
// earlier lines or retitle the window; without their ESC or CSI they print
// as harmless text. Invalid UTF-8 becomes U+FFFD, so a lone 8-bit C1 byte
// goes too. Every plain-text line the CLI prints with such text goes
// through it; values printed with %q are quoted by Go already.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && r != '\n' && (r < 0x20 || (r >= 0x7f && r <= 0x9f)) {
			return -1
		}
		return r
	}, s)
}

// printables is printable over a list, for the lists joined with commas.
func printables(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = printable(v)
	}
	return out
}

// jsonEncoder returns the encoder of the CLI's JSON output. encoding/json
// escapes C0 controls (ESC becomes \u001b) but writes DEL and C1 controls
// as they are, and a terminal may act on those: they are escaped too, which
// changes nothing for a JSON reader.
func jsonEncoder(w io.Writer) *json.Encoder {
	return json.NewEncoder(jsonControls{w})
}

// jsonControls escapes DEL and C1 in what a json.Encoder writes: one whole
// value per Write, valid UTF-8, where those characters only occur inside
// strings (U+0080 to U+009F are 0xC2 0x80 to 0xC2 0x9F).
type jsonControls struct{ w io.Writer }

func (j jsonControls) Write(p []byte) (int, error) {
	var out []byte
	for i := 0; i < len(p); i++ {
		var r int
		switch {
		case p[i] == 0x7f:
			r = 0x7f
		case p[i] == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			r = int(p[i+1])
		default:
			if out != nil {
				out = append(out, p[i])
			}
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(p)+12), p[:i]...)
		}
		out = fmt.Appendf(out, `\u%04x`, r)
		if r != 0x7f {
			i++
		}
	}
	if out == nil {
		return j.w.Write(p)
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
