// Package links builds and reads every public link and address that carries
// a signed token: unsubscribe and preference pages, double opt-in
// confirmation, web views, VERP bounce addresses and mailto unsubscribes.
// The sender and the web side both use it, so a link always reads back the
// way it was written.
package links

import (
	"errors"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

// Links builds links under a public base URL, signed with one key.
type Links struct {
	base   string // public base URL without a trailing slash
	signer *token.Signer
}

// New returns the link builder for publicURL (e.g. https://news.example.org).
func New(publicURL string, signer *token.Signer) *Links {
	return &Links{base: strings.TrimRight(publicURL, "/"), signer: signer}
}

// Signer returns the signer the links are made with.
func (l *Links) Signer() *token.Signer { return l.signer }

// Base returns the public base URL.
func (l *Links) Base() string { return l.base }

// UnsubscribeToken signs a subscriber and the campaign the link came in (uuid.Nil
// outside a campaign), so that an unsubscribe is attributed to it.
func (l *Links) UnsubscribeToken(subscriber, campaign uuid.UUID) string {
	return l.signer.Sign(token.Unsubscribe, append(subscriber[:], campaign[:]...))
}

// Unsubscribe returns the unsubscribe and preferences page of a subscriber.
// It is also the RFC 8058 one-click URL: a POST to it unsubscribes.
func (l *Links) Unsubscribe(subscriber, campaign uuid.UUID) string {
	return l.base + "/u/" + l.UnsubscribeToken(subscriber, campaign)
}

// ParseUnsubscribe reads the token of an unsubscribe link.
func (l *Links) ParseUnsubscribe(tok string) (subscriber, campaign uuid.UUID, err error) {
	p, err := l.signer.Verify(token.Unsubscribe, tok)
	if err != nil || len(p) != 32 {
		return uuid.Nil, uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(p[:16]), uuid.UUID(p[16:]), nil
}

// Confirm returns the double opt-in confirmation link of a pending subscriber.
func (l *Links) Confirm(subscriber uuid.UUID) string {
	return l.base + "/confirm/" + l.signer.Sign(token.Confirm, subscriber[:])
}

// ParseConfirm reads the token of a confirmation link.
func (l *Links) ParseConfirm(tok string) (uuid.UUID, error) {
	p, err := l.signer.Verify(token.Confirm, tok)
	if err != nil || len(p) != 16 {
		return uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(p), nil
}

// WebView returns the public web version of a campaign's edition.
func (l *Links) WebView(campaign uuid.UUID) string {
	return l.base + "/v/" + campaign.String()
}

// Media returns the public URL of a file next to an edition.
func (l *Links) Media(editionSlug, file string) string {
	return l.base + "/media/" + url.PathEscape(editionSlug) + "/" + url.PathEscape(file)
}

// DeliveryToken signs a delivery, for VERP, X-Bulletin-Delivery and mailto
// unsubscribes.
func (l *Links) DeliveryToken(delivery uuid.UUID) string {
	return l.signer.Sign(token.Delivery, delivery[:])
}

// ParseDeliveryToken reads a delivery token; an unverified one is ErrInvalid.
func (l *Links) ParseDeliveryToken(tok string) (uuid.UUID, error) {
	p, err := l.signer.Verify(token.Delivery, tok)
	if err != nil || len(p) != 16 {
		return uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(p), nil
}

// Tagged returns addr with "+tag" added to its local part:
// Tagged("bounces@example.org", t) = "bounces+t@example.org" (VERP, mailto
// unsubscribe).
func Tagged(addr, tag string) (string, error) {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" {
		return "", errors.New("links: not an address: " + addr)
	}
	return local + "+" + tag + "@" + domain, nil
}
