package outgoing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

const tok = "00112233445566778899aabbccddeeff0011223344556677"

func testMessage() *Message {
	return &Message{
		From:                  Address{Name: "Mission Insertion Île-de-France", Addr: "lettre@news.example.org"},
		To:                    Address{Name: "Chloé Dupré", Addr: "chloe@example.net"},
		ReplyTo:               Address{Addr: "contact@example.org"},
		Subject:               "Édition spéciale : 10 ans !",
		HTML:                  "<p>Bonjour Chloé</p>",
		Text:                  "Bonjour Chloé\n",
		EnvelopeFrom:          "bounces+" + tok + "@news.example.org",
		Date:                  time.Date(2026, 1, 25, 9, 0, 0, 0, time.UTC),
		ListID:                "Partenaires de l'Économie <partenaires.news.example.org>",
		ListUnsubscribeURL:    "https://news.example.org/u/" + tok,
		ListUnsubscribeMailto: "mailto:unsubscribe+" + tok + "@news.example.org",
		CampaignID:            "6f1c1e36-2d0b-4b9e-9a43-1f5cf0b0f1aa",
		DeliveryToken:         tok,
		FeedbackID:            "c1:partenaires:newsletter:news.example.org",
		Headers:               map[string]string{"X-Edition": "10-ans"},
	}
}

func render(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := NewBuilder(nil)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := b.Render(m)
	if err != nil {
		t.Fatalf("Render = %v, want nil", err)
	}
	return data
}

func TestBuildParsesBack(t *testing.T) {
	data := render(t, testMessage())
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("message has a bare LF, want CRLF line ends only")
	}
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	h := r.Header
	if s, _ := h.Subject(); s != "Édition spéciale : 10 ans !" {
		t.Errorf("Subject = %q, want %q", s, "Édition spéciale : 10 ans !")
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?") {
		t.Errorf("raw Subject = %q, want an RFC 2047 encoded word", raw)
	}
	from, _ := h.AddressList("From")
	to, _ := h.AddressList("To")
	if len(from) != 1 || from[0].Name != "Mission Insertion Île-de-France" || len(to) != 1 || to[0].Name != "Chloé Dupré" {
		t.Errorf("From, To = %v, %v; want the display names with their accents", from, to)
	}
	if d, err := h.Date(); err != nil || !d.Equal(testMessage().Date) {
		t.Errorf("Date = %v, %v; want %v", d, err, testMessage().Date)
	}
	if id, _ := h.MessageID(); !regexp.MustCompile(`^[0-9a-f-]{36}@news\.example\.org$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <uuid@news.example.org>", id)
	}
	if got := h.Get("List-Id"); got != "=?utf-8?q?Partenaires_de_l'=C3=89conomie?= <partenaires.news.example.org>" {
		t.Errorf("List-Id = %q, want an encoded phrase and <partenaires.news.example.org>", got)
	}
	for k, want := range map[string]string{
		"List-Unsubscribe":         "<https://news.example.org/u/" + tok + ">, <mailto:unsubscribe+" + tok + "@news.example.org>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"Precedence":               "bulk",
		"X-Auto-Response-Suppress": "OOF, AutoReply",
		"X-Bulletin-Campaign":      "6f1c1e36-2d0b-4b9e-9a43-1f5cf0b0f1aa",
		"X-Bulletin-Delivery":      tok,
		"X-Bulletin-Test":          "",
		"Feedback-ID":              "c1:partenaires:newsletter:news.example.org",
		"X-Edition":                "10-ans",
		"Reply-To":                 "<contact@example.org>",
		"X-Mailer":                 "",
		"User-Agent":               "",
		"Auto-Submitted":           "",
		"Return-Path":              "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if ct, _, _ := h.ContentType(); ct != "multipart/alternative" {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	var types []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ih := p.Header.(*mail.InlineHeader)
		ct, params, _ := ih.ContentType()
		types = append(types, ct)
		if params["charset"] != "UTF-8" || ih.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s: charset %q, encoding %q; want UTF-8, quoted-printable", ct, params["charset"], ih.Get("Content-Transfer-Encoding"))
		}
		body, _ := io.ReadAll(p.Body)
		if !strings.Contains(string(body), "Bonjour Chloé") {
			t.Errorf("part %s = %q, want it to say Bonjour Chloé", ct, body)
		}
	}
	// The last alternative is the preferred one: HTML after text.
	if fmt.Sprint(types) != "[text/plain text/html]" {
		t.Errorf("parts = %v, want [text/plain text/html]", types)
	}
}

func TestBuildVariants(t *testing.T) {
	m := testMessage()
	m.Text, m.Test, m.MessageID = "", true, "<fixed-id@news.example.org>"
	m.ListID, m.ListUnsubscribeURL = "partenaires.news.example.org", ""
	r, err := mail.CreateReader(bytes.NewReader(render(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	for k, want := range map[string]string{
		"X-Bulletin-Test":       "yes",
		"Message-Id":            "<fixed-id@news.example.org>",
		"List-Id":               "<partenaires.news.example.org>",
		"List-Unsubscribe":      "<mailto:unsubscribe+" + tok + "@news.example.org>",
		"List-Unsubscribe-Post": "", // one-click needs the https URL
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if ct, _, _ := h.ContentType(); ct != "text/html" {
		t.Errorf("Content-Type = %q, want text/html for an HTML-only message", ct)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Message)
		scope Scope
	}{
		{"bad To", func(m *Message) { m.To.Addr = "chloe at example.net" }, ScopeRecipient},
		{"To with a name in it", func(m *Message) { m.To.Addr = "Chloé <chloe@example.net>" }, ScopeRecipient},
		{"bad From", func(m *Message) { m.From.Addr = "" }, ScopeRelay},
		{"bad envelope", func(m *Message) { m.EnvelopeFrom = "bounces" }, ScopeRelay},
		{"line break in a name", func(m *Message) { m.To.Name = "Chloé\r\nBcc: x@example.com" }, ScopeRecipient},
		{"empty subject", func(m *Message) { m.Subject = " " }, ScopeRelay},
		{"line break in subject", func(m *Message) { m.Subject = "a\r\nBcc: x@example.com" }, ScopeRelay},
		{"no body", func(m *Message) { m.HTML, m.Text = "", "" }, ScopeRelay},
		{"http unsubscribe", func(m *Message) { m.ListUnsubscribeURL = "http://news.example.org/u/x" }, ScopeRelay},
		{"bad mailto", func(m *Message) { m.ListUnsubscribeMailto = "mailto:nobody" }, ScopeRelay},
		{"bad list id", func(m *Message) { m.ListID = "Partenaires <partenaires>" }, ScopeRelay},
		{"bad message id", func(m *Message) { m.MessageID = "no-at-sign" }, ScopeRelay},
		{"bad delivery token", func(m *Message) { m.DeliveryToken = "a b" }, ScopeRelay},
		{"reserved header", func(m *Message) { m.Headers = map[string]string{"X-Bulletin-Delivery": "x"} }, ScopeRelay},
		{"reserved header, other case", func(m *Message) { m.Headers = map[string]string{"list-unsubscribe": "<x>"} }, ScopeRelay},
		{"header name with colon", func(m *Message) { m.Headers = map[string]string{"X-A:B": "x"} }, ScopeRelay},
		{"header injection", func(m *Message) { m.Headers = map[string]string{"X-A": "x\r\nBcc: y@example.com"} }, ScopeRelay},
		{"Feedback-ID as an extra header", func(m *Message) { m.Headers = map[string]string{"Feedback-Id": "a:b"} }, ScopeRelay},
		{"Feedback-ID of one field", func(m *Message) { m.FeedbackID = "news.example.org" }, ScopeRelay},
		{"Feedback-ID of five fields", func(m *Message) { m.FeedbackID = "a:b:c:d:e" }, ScopeRelay},
		{"Feedback-ID with a space", func(m *Message) { m.FeedbackID = "a b:news.example.org" }, ScopeRelay},
	}
	for _, tt := range tests {
		m := testMessage()
		tt.edit(m)
		_, err := Build(m)
		var se *SendError
		if !errors.As(err, &se) || se.Command != "build" || se.Scope != tt.scope || se.Temporary {
			t.Errorf("%s: Build = %v, want a permanent %v build error", tt.name, err, tt.scope)
		}
	}
}

func TestRenderDKIM(t *testing.T) {
	if _, err := NewBuilder(&DKIM{Domain: "example.org", Selector: "s", PrivateKeyPEM: []byte("not a key")}); err == nil {
		t.Error("NewBuilder(bad key) = nil error, want an error")
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if _, err := NewBuilder(&DKIM{Selector: "s", PrivateKeyPEM: pemKey}); err == nil {
		t.Error("NewBuilder(no domain) = nil error, want an error")
	}
	b, err := NewBuilder(&DKIM{Domain: "news.example.org", Selector: "bulletin", PrivateKeyPEM: pemKey})
	if err != nil {
		t.Fatalf("NewBuilder = %v", err)
	}
	data, _, err := b.Render(testMessage())
	if err != nil {
		t.Fatalf("Render = %v", err)
	}
	if !bytes.HasPrefix(data, []byte("DKIM-Signature: v=1; ")) {
		t.Fatalf("Render = %.40q..., want a DKIM-Signature first", data)
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sig := r.Header.Get("DKIM-Signature")
	// Folding may only replace existing spaces (or sit inside b=): the
	// signed header list must read back whole.
	if !strings.Contains(sig, "h=From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Id:List-Unsubscribe:List-Unsubscribe-Post:Feedback-ID:") {
		t.Errorf("DKIM-Signature = %q, want h= unbroken", sig)
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d characters, want at most 998", len(line))
		}
	}
}

func TestNewMessageID(t *testing.T) {
	a, b := NewMessageID("News.Example.org"), NewMessageID("news.example.org")
	if a == b || !strings.HasSuffix(a, "@news.example.org") || strings.ContainsAny(a, "<>") {
		t.Errorf("NewMessageID = %q, %q; want two different uuid@news.example.org", a, b)
	}
}

func TestSendError(t *testing.T) {
	e := &SendError{Code: 550, Enhanced: "5.1.1", Message: "User unknown", Scope: ScopeRecipient, Command: "RCPT TO"}
	if got, want := e.Error(), "RCPT TO: 550 5.1.1 User unknown (recipient, permanent)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("delivery 42: %w", &SendError{Temporary: true, Scope: ScopeRelay, Message: "connection refused", Err: io.EOF})
	if !IsTemporary(wrapped) || !IsRelayFault(wrapped) || !errors.Is(wrapped, io.EOF) {
		t.Errorf("IsTemporary, IsRelayFault, errors.Is(EOF) = %v, %v, %v; want true, true, true",
			IsTemporary(wrapped), IsRelayFault(wrapped), errors.Is(wrapped, io.EOF))
	}
	if IsTemporary(e) || IsRelayFault(e) || IsTemporary(io.EOF) || IsRelayFault(nil) {
		t.Error("IsTemporary or IsRelayFault true for a permanent recipient error or a non-SendError")
	}
}
