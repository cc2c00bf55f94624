// Package outgoing describes one outgoing message (one delivery of a campaign,
// or a test send), turns it into MIME with go-mail, and defines the receipt
// and the error that every transport returns for it.
//
// The campaign engine hands a *Message to a transport (SMTP or outbox); the
// transport builds it with a Builder and reports a Receipt or a *SendError.
// Keeping the headers in one place is what lets the mailbox watcher match a
// returned original to its delivery (X-Bulletin-Delivery, the VERP address)
// and lets Gmail and Yahoo show their own unsubscribe button (RFC 8058).
package outgoing

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Address is a mailbox: an address and an optional display name, which may
// hold accents ("Chloé Dupré"); the builder encodes it (RFC 2047).
type Address struct {
	Name string
	Addr string
}

// Message is one message to one recipient.
//
// Only From, To, Subject and at least one of HTML and Text are required;
// every other field adds its header when set.
type Message struct {
	From    Address
	ReplyTo Address // zero: no Reply-To header
	To      Address

	Subject string
	HTML    string // the text/html part
	Text    string // the text/plain part, first in multipart/alternative

	// EnvelopeFrom is the SMTP MAIL FROM (the future Return-Path): the VERP
	// address bounces+<delivery token>@<bounce domain>. Empty means From.Addr.
	EnvelopeFrom string

	// MessageID is the Message-ID without angle brackets ("uuid@domain"), as
	// NewMessageID makes it. Empty: the builder makes one on From's domain and
	// the transport reports it in the Receipt.
	MessageID string

	// Date is the Date header; zero means the time of building.
	Date time.Time

	// ListID is the List-Id (RFC 2919): either the bare identifier
	// ("partenaires.bulletin.example.org") or a phrase and the identifier in
	// angle brackets ("Partenaires <partenaires.bulletin.example.org>").
	ListID string

	// FeedbackID is the Feedback-ID that Gmail's feedback loop reports
	// complaint rates by: up to three identifiers and the sender's own,
	// colon-separated ("<campaign>:<list>:newsletter:<sender>"), each a
	// plain token.
	FeedbackID string

	// ListUnsubscribeURL is the https one-click unsubscribe URL (RFC 8058).
	// When set, List-Unsubscribe-Post: List-Unsubscribe=One-Click is added.
	ListUnsubscribeURL string
	// ListUnsubscribeMailto is the address for mailto unsubscribes
	// (unsubscribe+<delivery token>@domain), with or without "mailto:".
	ListUnsubscribeMailto string

	CampaignID    string // X-Bulletin-Campaign: the campaign UUID
	DeliveryToken string // X-Bulletin-Delivery: the signed delivery token

	// Test marks a test send (X-Bulletin-Test: yes), so that a test copy that
	// comes back is never counted as a campaign event.
	Test bool

	// Headers are extra header fields. Names that the builder sets itself
	// (From, Subject, List-*, X-Bulletin-*, MIME and DKIM fields, ...) are
	// refused, so that a template cannot break the matching or the signature.
	Headers map[string]string
}

// Envelope returns the SMTP envelope: the MAIL FROM address (EnvelopeFrom,
// or From.Addr when it is empty) and the single RCPT TO address.
func (m *Message) Envelope() (from, to string) {
	from = m.EnvelopeFrom
	if from == "" {
		from = m.From.Addr
	}
	return from, m.To.Addr
}

// Receipt is what a transport reports for a message it handed over.
type Receipt struct {
	// MessageID is the Message-ID sent, without angle brackets.
	MessageID string
	// Reply is the relay's final reply to DATA ("250 2.0.0 Ok: queued as
	// 4F2A1"), or "outbox: <path>" for the outbox transport.
	Reply string
	// QueueID is the relay's queue id when its reply names one, else empty.
	QueueID string
}

// NewMessageID returns a new, unique Message-ID on domain, without angle
// brackets: "<uuid>@<domain>". A random UUID rather than a row id keeps the
// database's numbering out of public headers.
func NewMessageID(domain string) string {
	return uuid.NewString() + "@" + strings.ToLower(domain)
}
