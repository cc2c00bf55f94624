// Package track builds and reads the links that count opens and clicks, for
// the campaigns that choose to (off by default: the CNIL asks for consent
// before an open-tracking pixel).
//
// An open is a 1×1 image, <public_url>/t/o/<token>.gif, whose token signs
// the delivery. A click goes through <public_url>/t/c/<token>?u=<link>,
// whose token signs the delivery and the link together: the redirect
// follows only a link signed with the daemon's key for that message, so it
// can never be used to send people to another address (no open redirect).
//
// The composer calls OpenURL and ClickURL when it writes each recipient's
// message; the web side calls ParseOpen and ParseClick.
package track

import (
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/token"
)

// The purposes of the tokens, part of their MAC: a tracking token is worth
// nothing as an unsubscribe or delivery token, nor the other way round.
const (
	purposeOpen  token.Purpose = "open"
	purposeClick token.Purpose = "click"
)

// ErrInvalid is returned for a tracking token or link that does not verify.
var ErrInvalid = errors.New("track: invalid link")

// Links builds and reads tracking links under a public base URL.
type Links struct {
	base   string
	signer *token.Signer
}

// New returns the tracking links of publicURL, signed with signer.
func New(publicURL string, signer *token.Signer) *Links {
	return &Links{base: strings.TrimRight(publicURL, "/"), signer: signer}
}

// OpenURL returns the address of the pixel of one delivery.
func (l *Links) OpenURL(delivery uuid.UUID) string {
	return l.base + "/t/o/" + l.signer.Sign(purposeOpen, delivery[:]) + ".gif"
}

// ParseOpen returns the delivery of a pixel's token, with or without its
// ".gif".
func (l *Links) ParseOpen(tok string) (uuid.UUID, error) {
	p, err := l.signer.Verify(purposeOpen, strings.TrimSuffix(tok, ".gif"))
	if err != nil || len(p) != 16 {
		return uuid.Nil, ErrInvalid
	}
	return uuid.UUID(p), nil
}

// Trackable reports whether a link may be tracked: an absolute http or
// https URL. Others (mailto:, tel:, #anchors, the unsubscribe link, which
// the composer must leave alone) are left as written.
func Trackable(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ClickURL returns the tracked form of link for one delivery, or link
// itself when it is not Trackable.
func (l *Links) ClickURL(delivery uuid.UUID, link string) string {
	if !Trackable(link) {
		return link
	}
	return l.base + "/t/c/" + l.signer.Sign(purposeClick, clickPayload(delivery, link)) + "?u=" + url.QueryEscape(link)
}

// ParseClick checks that tok signs link for a delivery, and returns the
// delivery. link is the u parameter of the request, as received.
func (l *Links) ParseClick(tok, link string) (uuid.UUID, error) {
	p, err := l.signer.Verify(purposeClick, tok)
	if err != nil || len(p) != 16+linkHashLen || !Trackable(link) {
		return uuid.Nil, ErrInvalid
	}
	d := uuid.UUID(p[:16])
	if string(clickPayload(d, link)) != string(p) {
		return uuid.Nil, ErrInvalid
	}
	return d, nil
}

// linkHashLen is how much of the link's SHA-256 the token carries: the
// token's MAC covers it, so it only has to tell links apart, not resist
// forgery on its own.
const linkHashLen = 8

func clickPayload(delivery uuid.UUID, link string) []byte {
	h := sha256.Sum256([]byte(link))
	return append(append([]byte{}, delivery[:]...), h[:linkHashLen]...)
}
