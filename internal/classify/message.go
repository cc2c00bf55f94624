package classify

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// Limits that keep a hostile or broken message from costing more than a
// large legitimate one. Bounces are small: the interesting part is in the
// first few kilobytes of a handful of parts.
const (
	maxDepth     = 8       // multipart nesting
	maxParts     = 64      // leaf parts kept
	maxPartBytes = 1 << 20 // bytes read from one part
	maxTextBytes = 2 << 20 // bytes of text kept over all parts
)

// part is one leaf of the MIME tree, decoded to UTF-8 text.
type part struct {
	mediaType string
	params    map[string]string
	header    textproto.Header
	body      string
	// inOriginal is set for parts that belong to a returned original
	// (message/rfc822 and the like): they are not the bounce's own words.
	inOriginal bool
}

// original is a returned original message (or its headers only).
type original struct {
	header textproto.Header
	body   string // the original's raw body, capped; empty for headers-only
	raw    []byte // the whole original as returned, capped
}

// msg is a parsed message: its header and its leaf parts in order.
type msg struct {
	header    textproto.Header
	mediaType string
	params    map[string]string
	parts     []part
	originals []original
	textBytes int
	own       string // the message's own text, without a quoted original
	opts      Options
	depth     int  // how many bounces wrap this one
	memo      memo // textReason answers for this message
}

// parseMessage reads raw with go-message. It fails only when the bytes do
// not start with a mail header at all; a broken body still gives whatever
// parts could be read.
func parseMessage(raw []byte) (*msg, error) {
	raw = skipMboxFromLine(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("empty message")
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		// Real bounces sometimes carry one broken header line (a bare
		// "From " line, an 8-bit junk line). Fall back to a lenient reader
		// rather than lose the message, but refuse bytes that hold no
		// header at all.
		lh, body, ok := lenientHeader(raw)
		if !ok || !looksLikeMail(lh) {
			return nil, err
		}
		h = lh
		br = bufio.NewReader(bytes.NewReader(body))
	} else if !looksLikeMail(h) {
		return nil, errors.New("not a mail message: no From, To, Subject, Date or Content-Type header")
	}
	m := &msg{header: h}
	e, err := message.New(message.Header{Header: h}, br)
	if e == nil {
		return nil, err
	}
	m.mediaType, m.params, _ = e.Header.ContentType()
	m.walk(e, 0, false)
	return m, nil
}

// skipMboxFromLine drops a leading mbox "From sender date" separator, which
// is not a header field but is common in saved messages.
func skipMboxFromLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// looksLikeMail reports whether h has at least one field that every mail
// message has, so that random bytes with a colon are not taken for mail.
func looksLikeMail(h textproto.Header) bool {
	for _, k := range []string{"From", "To", "Subject", "Date", "Content-Type", "Message-Id", "Received", "Return-Path"} {
		if h.Has(k) {
			return true
		}
	}
	return false
}

// walk flattens the MIME tree of e into m.parts and m.originals.
func (m *msg) walk(e *message.Entity, depth int, inOriginal bool) {
	if len(m.parts) >= maxParts {
		return
	}
	mediaType, params, _ := e.Header.ContentType()
	mediaType = strings.ToLower(mediaType)
	if strings.HasPrefix(mediaType, "multipart/") && depth < maxDepth && params["boundary"] != "" {
		// Read the body first so that a multipart whose boundary never
		// shows up can still be read as text.
		body := readCapped(e.Body, 4*maxPartBytes)
		mr := textproto.NewMultipartReader(bytes.NewReader(body), params["boundary"])
		n := 0
		p0, o0, t0 := len(m.parts), len(m.originals), m.textBytes
		for len(m.parts) < maxParts {
			p, err := mr.NextPart()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					// A part with a broken header stops go-message's
					// reader; split the body by hand and read each part
					// leniently rather than lose the rest of the bounce.
					m.parts, m.originals, m.textBytes = m.parts[:p0], m.originals[:o0], t0
					n = m.walkSplit(body, params["boundary"], depth, inOriginal)
				}
				break
			}
			n++
			pe, _ := message.New(message.Header{Header: p.Header}, p)
			m.walk(pe, depth+1, inOriginal)
		}
		if n > 0 {
			return
		}
		m.addText("text/plain", params, e.Header.Header, body, inOriginal)
		return
	}
	body := readCapped(e.Body, maxPartBytes)
	switch mediaType {
	case "message/rfc822", "message/global", "message/rfc822-headers", "text/rfc822-headers", "message/partial":
		m.addOriginal(body)
		m.parts = append(m.parts, part{mediaType: mediaType, params: params, header: e.Header.Header, inOriginal: true})
		return
	}
	m.addText(mediaType, params, e.Header.Header, body, inOriginal)
}

// walkSplit splits a multipart body at its boundary lines without
// go-message's strict reader, and walks each part read with the lenient
// header reader. It returns how many parts it found.
func (m *msg) walkSplit(body []byte, boundary string, depth int, inOriginal bool) int {
	delim := []byte("--" + boundary)
	var chunks [][]byte
	var cur []byte
	in := false
	for _, ln := range bytes.SplitAfter(body, []byte("\n")) {
		t := bytes.TrimRight(ln, "\r\n \t")
		if bytes.HasPrefix(t, delim) {
			if in {
				chunks = append(chunks, cur)
			}
			cur = nil
			in = !bytes.Equal(t, append(delim, '-', '-'))
			continue
		}
		if in {
			cur = append(cur, ln...)
		}
	}
	if in && len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	for _, c := range chunks {
		if len(m.parts) >= maxParts {
			break
		}
		var h textproto.Header
		rest := c
		if !bytes.HasPrefix(c, []byte("\n")) && !bytes.HasPrefix(c, []byte("\r\n")) {
			h, rest, _ = lenientHeader(c)
		} else {
			rest = bytes.TrimLeft(c, "\r\n")
		}
		pe, _ := message.New(message.Header{Header: h}, bytes.NewReader(rest))
		m.walk(pe, depth+1, inOriginal)
	}
	return len(chunks)
}

// addText keeps a decoded leaf part, within the overall text budget.
func (m *msg) addText(mediaType string, params map[string]string, h textproto.Header, body []byte, inOriginal bool) {
	text := toText(undeclaredCharset(body))
	if m.textBytes+len(text) > maxTextBytes {
		text = ""
	}
	m.textBytes += len(text)
	m.parts = append(m.parts, part{
		mediaType:  mediaType,
		params:     params,
		header:     h,
		body:       text,
		inOriginal: inOriginal,
	})
}

// addOriginal keeps the header (and a capped body) of a returned original.
func (m *msg) addOriginal(body []byte) {
	h, rest, ok := readHeaderBlock(body)
	if !ok {
		return
	}
	if len(rest) > 64<<10 {
		rest = rest[:64<<10]
	}
	m.originals = append(m.originals, original{header: h, body: toText(rest), raw: body})
}

// readHeaderBlock parses a header block at the start of b with go-message,
// falling back to the lenient reader; it returns the header and the rest.
func readHeaderBlock(b []byte) (textproto.Header, []byte, bool) {
	b = bytes.TrimLeft(b, "\r\n")
	br := bufio.NewReader(bytes.NewReader(b))
	h, err := textproto.ReadHeader(br)
	if err == nil {
		rest, _ := io.ReadAll(br)
		return h, rest, h.Len() > 0
	}
	return lenientHeader(b)
}

// lenientHeader reads header fields from the start of b, skipping lines that
// are not fields, and stops at the first empty line. It returns the header,
// the bytes after it, and whether any field was found.
func lenientHeader(b []byte) (textproto.Header, []byte, bool) {
	var h textproto.Header
	var key, val string
	flush := func() {
		if key != "" {
			h.AddRaw([]byte(key + ": " + strings.TrimSpace(val) + "\r\n"))
		}
		key, val = "", ""
	}
	rest := b
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			rest = next
			break
		}
		rest = next
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" {
				val += " " + strings.TrimSpace(string(line))
			}
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !validFieldName(line[:i]) {
			// A line that is not a field: mail clients read it as the
			// continuation of the previous field (a parameter such as
			// `boundary="..."` that lost its indentation).
			if key != "" {
				val += " " + strings.TrimSpace(string(line))
			}
			continue
		}
		flush()
		key = string(bytes.TrimSpace(line[:i]))
		val = string(line[i+1:])
	}
	flush()
	return h, rest, h.Len() > 0
}

func validFieldName(b []byte) bool {
	b = bytes.TrimRight(b, " \t")
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 127 {
			return false
		}
	}
	return true
}

// readCapped reads at most n bytes of r; read errors (a truncated base64
// part, an unknown charset) keep what was read.
func readCapped(r io.Reader, n int64) []byte {
	if r == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r, n))
	return b
}

// undeclaredCharset decodes text that go-message left in a legacy charset
// because the message did not declare it (old Japanese MTAs send
// ISO-2022-JP bodies and subjects without MIME headers; European ones send
// Latin-1 as bare 8-bit). ISO-2022-JP is told by its escape sequences,
// which no other charset uses; other bytes that are not UTF-8 are read as
// Windows-1252, the superset of Latin-1 that mail clients assume. Text
// that is already UTF-8 (declared charsets were decoded by go-message) is
// returned as it is.
func undeclaredCharset(b []byte) []byte {
	if i := bytes.IndexByte(b, 0x1b); i >= 0 && (bytes.Contains(b[i:], []byte("\x1b$B")) || bytes.Contains(b[i:], []byte("\x1b$@")) || bytes.Contains(b[i:], []byte("\x1b(J"))) {
		if d, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil {
			return d
		}
	}
	if !validUTF8(b) {
		if d, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			return d
		}
	}
	return b
}

// validUTF8 is utf8.Valid, forgiving a sequence cut short at the end (a
// capped read can stop inside a character).
func validUTF8(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for n := 1; n <= 3 && n <= len(b); n++ {
		if utf8.RuneStart(b[len(b)-n]) {
			return !utf8.FullRune(b[len(b)-n:]) && utf8.Valid(b[:len(b)-n])
		}
	}
	return false
}

// toText returns b as valid UTF-8 with CRLF turned into LF.
func toText(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// get returns the decoded (RFC 2047) value of the header field k.
func headerText(h textproto.Header, k string) string {
	mh := message.Header{Header: h}
	v, err := mh.Text(k)
	if err != nil {
		v = h.Get(k)
	}
	return strings.TrimSpace(toText(undeclaredCharset([]byte(v))))
}

// subject returns the decoded subject of the message.
func (m *msg) subject() string {
	return oneLine(headerText(m.header, "Subject"))
}

// from returns the lower-cased sender address of the message.
func (m *msg) from() string {
	if a := headerAddresses(m.header, "From"); len(a) > 0 {
		return a[0]
	}
	return ""
}

// headerAddresses returns the lower-cased addresses of the header field k,
// parsed with go-message, or found by pattern when the field is malformed.
func headerAddresses(h textproto.Header, k string) []string {
	var out []string
	for _, v := range h.Values(k) {
		mh := mail.Header{Header: message.Header{Header: textproto.Header{}}}
		mh.Set(k, v)
		list, err := mh.AddressList(k)
		if err == nil && len(list) > 0 {
			for _, a := range list {
				if a != nil && strings.Contains(a.Address, "@") {
					out = append(out, strings.ToLower(a.Address))
				}
			}
			continue
		}
		out = append(out, findAddresses(v)...)
	}
	return out
}

// textParts returns the bounce's own text: text/plain parts outside any
// returned original, or the text of its HTML parts when there is no plain
// text.
func (m *msg) textParts() []string {
	var plain, html []string
	for _, p := range m.parts {
		if p.inOriginal {
			continue
		}
		switch {
		case p.mediaType == "text/plain" || p.mediaType == "" || p.mediaType == "text/enriched":
			plain = append(plain, p.body)
		case p.mediaType == "text/html":
			html = append(html, htmlToText(p.body))
		}
	}
	if len(plain) > 0 {
		return plain
	}
	return html
}

// htmlToText strips tags and decodes the few entities bounces use; it does
// not need to be a renderer, only to let the words and addresses through.
func htmlToText(s string) string {
	var b strings.Builder
	inTag := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			inTag = true
			// Block-level tags end a line, so that table cells and
			// paragraphs do not run together.
			if rest := strings.ToLower(s[i+1 : min(i+4, len(s))]); strings.HasPrefix(rest, "br") || strings.HasPrefix(rest, "p") || strings.HasPrefix(rest, "/p") || strings.HasPrefix(rest, "tr") || strings.HasPrefix(rest, "div") || strings.HasPrefix(rest, "/di") || strings.HasPrefix(rest, "li") {
				b.WriteByte('\n')
			}
		case c == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	r := strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "&#39;", "'", "&#64;", "@")
	return r.Replace(b.String())
}
