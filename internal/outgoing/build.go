package outgoing

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// DKIM is the optional DKIM signing configuration (RFC 6376). Most relays
// sign for their customers; set it when the relay does not, or when the
// signature must align with the From domain for DMARC.
type DKIM struct {
	Domain        string // d=, the signing domain
	Selector      string // s=, the key is published at <selector>._domainkey.<domain>
	PrivateKeyPEM []byte // RSA (PKCS #1 or #8) or Ed25519 (PKCS #8)
}

// Headers the DKIM signature covers. RFC 8058 section 4 requires
// List-Unsubscribe and List-Unsubscribe-Post to be signed for one-click to be
// honoured, which go-mail's default list leaves out.
var dkimSigned = []string{
	"From", "Reply-To", "To", "Subject", "Date", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
}

// Headers signed once more than they occur, so that nobody on the way can
// add a second From, Subject or unsubscribe target without breaking the
// signature.
var dkimOversigned = []string{"From", "Reply-To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"}

// Builder renders Messages into the bytes that go after DATA, signed when
// it was made with a DKIM configuration. It is safe for concurrent use.
type Builder struct {
	dkim *DKIM
	key  crypto.Signer
}

// NewBuilder returns a Builder that signs with dkim, or does not sign when
// dkim is nil. The key is parsed once here, so that a bad key is reported at
// start-up rather than on the first message.
func NewBuilder(dkim *DKIM) (*Builder, error) {
	if dkim == nil {
		return &Builder{}, nil
	}
	if dkim.Domain == "" || dkim.Selector == "" {
		return nil, errors.New("outgoing: DKIM needs a domain and a selector")
	}
	key, err := mail.PrivKeyFromPEM(dkim.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("outgoing: DKIM private key: %w", err)
	}
	// go-mail validates the key type only when signing; check it now.
	if err := mail.NewDKIMSigner(dkim.Domain, dkim.Selector, key).ValidateConfig(); err != nil {
		return nil, fmt.Errorf("outgoing: DKIM: %w", err)
	}
	d := *dkim
	return &Builder{dkim: &d, key: key}, nil
}

// Render builds m (see Build) and returns the message as it goes after
// DATA, CRLF line ends, with a DKIM-Signature first when b signs, and its
// Message-ID without angle brackets. Its text parts are quoted-printable,
// which any relay takes; see RenderFor for a relay that takes 8bit.
func (b *Builder) Render(m *Message) (data []byte, messageID string, err error) {
	r, err := b.RenderFor(nil, m, false)
	return r.Data, r.MessageID, err
}

// Rendered is a message as it goes after DATA.
type Rendered struct {
	Data      []byte // CRLF line ends, not dot-stuffed
	MessageID string // without angle brackets
	// EightBit is set when the text parts are 8bit: the message may only
	// go to a relay that announced 8BITMIME.
	EightBit bool
}

// RenderFor is Render for a relay that announced 8BITMIME (RFC 6152) when
// eightBit is set: the text and HTML parts then go as they are, in 8bit,
// which spares encoding the whole body as quoted-printable for every
// recipient, most of the CPU a message costs. It falls back to
// quoted-printable when a line is too long for 8bit (over 998 octets) and
// when b signs: DKIM signatures on 8bit bodies break wherever a relay on
// the way converts them to 7bit (RFC 6376 section 5.3).
//
// The message is written into dst's room when it has enough, so that a
// sender can reuse one buffer from message to message: Data then shares
// dst's storage.
//
// Signing uses go-mail's DKIM signer, but not through Msg.SetDKIM: go-mail
// v0.8.1 folds the DKIM-Signature header inside tag values ("Conten" CRLF
// " t-Transfer-Encoding" in h=), which breaks the signature as soon as h=
// is longer than one line, as it is here: RFC 8058 needs List-Unsubscribe
// and List-Unsubscribe-Post signed. RenderFor takes the signer's header,
// unfolds it to the exact text that was signed, and folds it again only
// where whitespace already is, or inside b=, where folding is allowed.
func (b *Builder) RenderFor(dst []byte, m *Message, eightBit bool) (Rendered, error) {
	msg, eightBit, err := build(m, eightBit && b.key == nil)
	if err != nil {
		return Rendered{}, err
	}
	r := Rendered{MessageID: strings.TrimSuffix(strings.TrimPrefix(msg.GetMessageID(), "<"), ">"), EightBit: eightBit}
	buf := bytes.NewBuffer(dst[:0])
	// Room for quoted-printable's growth and the headers, so that the
	// buffer is not regrown for each part.
	buf.Grow((len(m.HTML)+len(m.Text))*5/4 + 2048)
	if _, err := msg.WriteTo(buf); err != nil {
		return Rendered{}, &SendError{Scope: ScopeRelay, Command: "build", Message: "rendering: " + err.Error(), Err: err}
	}
	if b.key == nil {
		r.Data = buf.Bytes()
		return r, nil
	}
	raw := buf.Bytes()
	head, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, body = raw[:i+2], raw[i+4:]
	}
	// One signer per message: go-mail's signer records the algorithm on
	// first use, so sharing one between goroutines would race.
	s := mail.NewDKIMSigner(b.dkim.Domain, b.dkim.Selector, b.key)
	s.SignHeaders(dkimSigned...)
	s.OversignHeaders(dkimOversigned...)
	sig, err := s.Sign(head, body)
	if err != nil {
		return Rendered{}, &SendError{Scope: ScopeRelay, Command: "build", Message: "DKIM: " + err.Error(), Err: err}
	}
	out := make([]byte, 0, len(sig)+len(raw)+16)
	out = append(out, foldDKIM(sig)...)
	r.Data = append(out, raw...)
	return r, nil
}

// foldDKIM unfolds go-mail's DKIM-Signature header and folds it again at
// "; " (replacing the space that is there) and inside the b= value.
func foldDKIM(sig string) string {
	flat := strings.ReplaceAll(strings.TrimSuffix(sig, "\r\n"), "\r\n ", "")
	const width = 78
	var out strings.Builder
	col := 0
	for i, tag := range strings.Split(flat, "; ") {
		if i > 0 {
			if col+2+len(tag) > width {
				out.WriteString(";\r\n ")
				col = 1
			} else {
				out.WriteString("; ")
				col += 2
			}
		}
		if !strings.HasPrefix(tag, "b=") {
			out.WriteString(tag)
			col += len(tag)
			continue
		}
		for tag != "" {
			room := width - col
			if room <= 0 {
				out.WriteString("\r\n ")
				col, room = 1, width-1
			}
			n := min(room, len(tag))
			out.WriteString(tag[:n])
			col += n
			tag = tag[n:]
		}
	}
	out.WriteString("\r\n")
	return out.String()
}

// Build returns the go-mail message for m, unsigned: multipart/alternative
// text and HTML in quoted-printable UTF-8, encoded words for non-ASCII
// subjects and names, and the list, tracking and bulk headers. A problem
// with m is returned as a permanent *SendError with Command "build":
// ScopeRecipient when the recipient's address is bad, ScopeRelay when it
// is the sending setup (From, list headers), which every other message
// shares.
func Build(m *Message) (*mail.Msg, error) {
	msg, _, err := build(m, false)
	return msg, err
}

// build is Build, with the text parts in 8bit when eightBit is set and
// they can be; it reports whether they are.
func build(m *Message, eightBit bool) (*mail.Msg, bool, error) {
	html, text, enc := m.HTML, m.Text, mail.EncodingQP
	if eightBit = eightBit && fitsEightBit(html) && fitsEightBit(text); eightBit {
		// go-mail writes 8bit bodies as they are; quoted-printable ones
		// come out with CRLF, and so must these.
		html, text, enc = strings.ReplaceAll(html, "\n", "\r\n"), strings.ReplaceAll(text, "\n", "\r\n"), mail.NoEncoding
	}
	msg, err := buildMsg(m, html, text, enc)
	return msg, eightBit, err
}

// buildMsg is Build with the bodies html and text (m's, or m's made CRLF),
// which go-mail writes in the encoding enc.
func buildMsg(m *Message, html, text string, enc mail.Encoding) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithEncoding(enc),
		mail.WithCharset(mail.CharsetUTF8))

	from, err := parseAddr("From", m.From)
	if err != nil {
		return nil, err
	}
	msg.FromMailAddress(from)
	to, err := parseAddr("To", m.To)
	if err != nil {
		return nil, err
	}
	msg.ToMailAddress(to)
	if m.ReplyTo.Addr != "" {
		rt, err := parseAddr("ReplyTo", m.ReplyTo)
		if err != nil {
			return nil, err
		}
		msg.ReplyToMailAddress(rt)
	}
	envFrom, _ := m.Envelope()
	env, err := parseAddr("EnvelopeFrom", Address{Addr: envFrom})
	if err != nil {
		return nil, err
	}
	// Not written as a header: it makes the go-mail message carry its own
	// envelope, so that any go-mail client sends it from the VERP address.
	msg.EnvelopeFromMailAddress(env)

	if strings.TrimSpace(m.Subject) == "" {
		return nil, buildErr("Subject", "empty subject")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, buildErr("Subject", "line break in subject")
	}
	msg.Subject(m.Subject)

	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)

	id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	if id == "" {
		id = NewMessageID(domainOf(from.Address))
	} else if err := checkMessageID(id); err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(id)

	// Writers rather than go-mail's string setters, which copy each body
	// once more.
	switch {
	case text != "" && html != "":
		msg.SetBodyWriter(mail.TypeTextPlain, bodyWriter(text))
		msg.AddAlternativeWriter(mail.TypeTextHTML, bodyWriter(html))
	case html != "":
		msg.SetBodyWriter(mail.TypeTextHTML, bodyWriter(html))
	case text != "":
		msg.SetBodyWriter(mail.TypeTextPlain, bodyWriter(text))
	default:
		return nil, buildErr("Body", "neither HTML nor text")
	}

	if err := setListHeaders(msg, m); err != nil {
		return nil, err
	}

	// Precedence: bulk makes RFC 3834 auto-responders (vacation replies)
	// stay quiet, and X-Auto-Response-Suppress does the same for Exchange.
	// Not go-mail's SetBulk: its "All" also suppresses Exchange's non-delivery
	// reports, which are the bounces the mailbox watcher needs. No
	// Auto-Submitted: an edition is written by people, not generated.
	msg.SetGenHeader(mail.HeaderPrecedence, "bulk")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "OOF, AutoReply")

	for name, val := range map[string]string{
		"X-Bulletin-Campaign": m.CampaignID,
		"X-Bulletin-Delivery": m.DeliveryToken,
	} {
		if val == "" {
			continue
		}
		if !isToken(val) {
			return nil, buildErr(name, fmt.Sprintf("%q is not a plain token", val))
		}
		msg.SetGenHeaderPreformatted(mail.Header(name), val)
	}
	if m.Test {
		msg.SetGenHeaderPreformatted("X-Bulletin-Test", "yes")
	}

	for name, val := range m.Headers {
		if err := checkExtraHeader(name, val); err != nil {
			return nil, err
		}
		msg.SetGenHeader(mail.Header(name), val)
	}

	return msg, nil
}

// bodyWriter returns the go-mail body writer for s.
func bodyWriter(s string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, s)
		return int64(n), err
	}
}

// setListHeaders sets List-Id, Feedback-ID, List-Unsubscribe and
// List-Unsubscribe-Post.
func setListHeaders(msg *mail.Msg, m *Message) error {
	if m.FeedbackID != "" {
		parts := strings.Split(m.FeedbackID, ":")
		if len(parts) < 2 || len(parts) > 4 || !all(parts, isToken) {
			return buildErr("FeedbackID", fmt.Sprintf("%q is not 2 to 4 plain tokens separated by colons", m.FeedbackID))
		}
		msg.SetGenHeaderPreformatted(mail.Header("Feedback-ID"), m.FeedbackID)
	}
	if m.ListID != "" {
		v, err := formatListID(m.ListID)
		if err != nil {
			return err
		}
		msg.SetGenHeaderPreformatted(mail.Header("List-Id"), v)
	}
	var mailto []string
	if m.ListUnsubscribeMailto != "" {
		addr := strings.TrimPrefix(m.ListUnsubscribeMailto, "mailto:")
		plain, _, _ := strings.Cut(addr, "?")
		if _, err := parseAddr("ListUnsubscribeMailto", Address{Addr: plain}); err != nil {
			return err
		}
		if strings.ContainsAny(addr, "\r\n<>, ") {
			return buildErr("ListUnsubscribeMailto", fmt.Sprintf("%q cannot go in a header", addr))
		}
		mailto = append(mailto, "mailto:"+addr)
	}
	switch {
	case m.ListUnsubscribeURL != "":
		if strings.ContainsAny(m.ListUnsubscribeURL, "\r\n<>, ") {
			return buildErr("ListUnsubscribeURL", fmt.Sprintf("%q cannot go in a header", m.ListUnsubscribeURL))
		}
		// go-mail's helper checks the https scheme that RFC 8058 requires
		// and sets both headers, the URL first: clients take the first URI
		// they support, and one-click needs the https one.
		if err := msg.SetListUnsubscribeOneClick(m.ListUnsubscribeURL, mailto...); err != nil {
			return buildErr("ListUnsubscribeURL", err.Error())
		}
	case len(mailto) > 0:
		msg.SetListUnsubscribe(mailto...)
	}
	return nil
}

// formatListID returns the List-Id value for "id" or "phrase <id>", with the
// phrase encoded when it holds accents. go-mail's generic header encoding
// would encode the whole value, angle brackets included.
func formatListID(s string) (string, error) {
	phrase, id := "", s
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		phrase, id = strings.TrimSpace(s[:i]), s[i+1:]
		var ok bool
		if id, ok = strings.CutSuffix(strings.TrimSpace(id), ">"); !ok {
			return "", buildErr("ListID", fmt.Sprintf("%q: missing '>'", s))
		}
	}
	if id == "" || strings.Count(id, ".") < 1 || !isToken(id) {
		return "", buildErr("ListID", fmt.Sprintf("%q is not a list identifier such as list.example.org", id))
	}
	if phrase == "" {
		return "<" + id + ">", nil
	}
	if strings.ContainsAny(phrase, "\r\n") {
		return "", buildErr("ListID", "line break in list name")
	}
	// mime.QEncoding leaves an ASCII phrase alone; quote it then, since a
	// list name may hold specials such as ':' or '.'.
	enc := mime.QEncoding.Encode("utf-8", phrase)
	if enc == phrase {
		enc = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(phrase) + `"`
	}
	return enc + " <" + id + ">", nil
}

// parseAddr checks that a.Addr is a bare address (no display name, no angle
// brackets) and returns it with a.Name as its display name.
func parseAddr(field string, a Address) (*netmail.Address, error) {
	addr := strings.TrimSpace(a.Addr)
	p, err := netmail.ParseAddress(addr)
	if err != nil || p.Name != "" || p.Address != addr {
		msg := fmt.Sprintf("%q is not an address", a.Addr)
		if err != nil {
			msg += ": " + err.Error()
		}
		e := buildErr(field, msg)
		if field == "To" {
			e.Scope = ScopeRecipient
		}
		return nil, e
	}
	if strings.ContainsAny(a.Name, "\r\n") {
		e := buildErr(field, "line break in display name")
		if field == "To" {
			e.Scope = ScopeRecipient
		}
		return nil, e
	}
	return &netmail.Address{Name: a.Name, Address: p.Address}, nil
}

func checkMessageID(id string) error {
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") || !isPrintable(id) {
		return buildErr("MessageID", fmt.Sprintf("%q is not id-left@id-right", id))
	}
	return nil
}

// reserved are the header fields Build sets or that only an MTA may set.
var reserved = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"subject": true, "date": true, "message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "content-disposition": true,
	"return-path": true, "received": true, "dkim-signature": true, "list-id": true,
	"list-unsubscribe": true, "list-unsubscribe-post": true, "feedback-id": true, "precedence": true,
	"x-auto-response-suppress": true,
}

func checkExtraHeader(name, val string) error {
	lower := strings.ToLower(name)
	switch {
	case name == "" || strings.ContainsRune(name, ':') || !isPrintable(name):
		return buildErr("Headers", fmt.Sprintf("%q is not a header field name", name))
	case reserved[lower] || strings.HasPrefix(lower, "x-bulletin-"):
		return buildErr("Headers", fmt.Sprintf("%s is set by Bulletin itself", name))
	case strings.ContainsAny(val, "\r\n"):
		return buildErr("Headers", fmt.Sprintf("line break in %s", name))
	}
	return nil
}

func buildErr(field, msg string) *SendError {
	return &SendError{Scope: ScopeRelay, Command: "build", Message: field + ": " + msg}
}

// isPrintable reports whether s is non-empty printable ASCII without spaces.
func isPrintable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// isToken reports whether s is made of letters, digits, '-', '.' and '_',
// which is what UUIDs, delivery tokens and list ids are made of.
// all reports whether ok holds for every element of s.
func all(s []string, ok func(string) bool) bool {
	for _, x := range s {
		if !ok(x) {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
