package campaign

import (
	"errors"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

// Links makes, and reads back, the addresses and URLs that carry a
// campaign's identifiers: the VERP envelope sender, the mailto and https
// unsubscribe targets, the web view. The web pages and the mailbox watcher
// use the same Links to verify and parse what comes back, so the formats
// live here only.
type Links struct {
	Signer *token.Signer
	// PublicURL is the base of public pages, without a trailing slash.
	PublicURL string
	// BounceAddress is the envelope sender ("bounces@example.org").
	BounceAddress string
	// VERP puts the delivery token in the envelope sender.
	VERP bool
	// UnsubscribeAddress receives mailto unsubscribes; empty: none.
	UnsubscribeAddress string
}

// DeliveryToken returns the signed token of a delivery: 48 lower-case hex
// characters, in X-Bulletin-Delivery and in VERP and mailto local parts.
func (l *Links) DeliveryToken(delivery uuid.UUID) string {
	return l.Signer.Sign(token.Delivery, delivery[:])
}

// ParseDeliveryToken returns the delivery a token names, if it verifies.
func (l *Links) ParseDeliveryToken(tok string) (uuid.UUID, error) {
	b, err := l.Signer.Verify(token.Delivery, tok)
	if err != nil || len(b) != 16 {
		return uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(b), nil
}

// plus returns local+tok@domain for addr = local@domain.
func plus(addr, tok string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return addr[:i] + "+" + tok + addr[i:]
}

// EnvelopeFrom returns the SMTP envelope sender of a delivery:
// bounces+TOKEN@domain with VERP, the bounce address itself without.
func (l *Links) EnvelopeFrom(delivery uuid.UUID) string {
	if !l.VERP || delivery == uuid.Nil {
		return l.BounceAddress
	}
	return plus(l.BounceAddress, l.DeliveryToken(delivery))
}

// UnsubscribeMailto returns unsubscribe+TOKEN@domain, or "" when no
// unsubscribe address is configured.
func (l *Links) UnsubscribeMailto(delivery uuid.UUID) string {
	if l.UnsubscribeAddress == "" || delivery == uuid.Nil {
		return ""
	}
	return plus(l.UnsubscribeAddress, l.DeliveryToken(delivery))
}

// ErrNotOurs is returned for an address that is not one of ours.
var ErrNotOurs = errors.New("campaign: not a Bulletin address")

// ParseTaggedAddress returns the delivery named by a VERP or mailto
// unsubscribe address (local+TOKEN@domain), whatever the case an MTA gave
// it, provided local@domain is base (the bounce or the unsubscribe address).
func (l *Links) ParseTaggedAddress(addr, base string) (uuid.UUID, error) {
	addr, base = strings.ToLower(strings.Trim(addr, "<> ")), strings.ToLower(base)
	at, bat := strings.LastIndexByte(addr, '@'), strings.LastIndexByte(base, '@')
	if at < 0 || bat < 0 || addr[at:] != base[bat:] {
		return uuid.Nil, ErrNotOurs
	}
	local, tok, ok := strings.Cut(addr[:at], "+")
	if !ok || local != base[:bat] {
		return uuid.Nil, ErrNotOurs
	}
	return l.ParseDeliveryToken(tok)
}

// UnsubscribeToken returns the token of a subscriber's unsubscribe and
// preference link for a campaign: it signs both UUIDs, so that the
// unsubscribe is attributed to the campaign.
func (l *Links) UnsubscribeToken(subscriber, campaign uuid.UUID) string {
	payload := make([]byte, 0, 32)
	payload = append(payload, subscriber[:]...)
	payload = append(payload, campaign[:]...)
	return l.Signer.Sign(token.Unsubscribe, payload)
}

// ParseUnsubscribeToken returns the subscriber and the campaign an
// unsubscribe token names, if it verifies. The campaign is uuid.Nil for a
// link made outside any campaign.
func (l *Links) ParseUnsubscribeToken(tok string) (subscriber, campaign uuid.UUID, err error) {
	b, err := l.Signer.Verify(token.Unsubscribe, tok)
	if err != nil || len(b) != 32 {
		return uuid.Nil, uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(b[:16]), uuid.UUID(b[16:]), nil
}

// UnsubscribeURL returns <public_url>/u/<token>: the page where the reader
// confirms (a GET never unsubscribes), and the RFC 8058 one-click target
// when POSTed.
func (l *Links) UnsubscribeURL(subscriber, campaign uuid.UUID) string {
	return l.PublicURL + "/u/" + l.UnsubscribeToken(subscriber, campaign)
}

// WebViewURL returns <public_url>/v/<campaign UUID>, the online version.
func (l *Links) WebViewURL(campaign uuid.UUID) string {
	return l.PublicURL + "/v/" + campaign.String()
}
