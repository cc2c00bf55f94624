// Package links builds and reads every public link and address that carries
// a signed token: unsubscribe and preference pages, web views, media files,
// VERP bounce addresses, mailto unsubscribes, and the open and click
// tracking links of the campaigns that count them; and the double opt-in
// confirmation links, whose token is random (store.CreateConfirmation). The composer, the web side and the mailbox watcher share one
// Links, built by the daemon, so a link always reads back the way it was
// written.
//
// Tracking is off unless a campaign asks for it (the CNIL wants consent
// before an open-tracking pixel). An open is a 1×1 image,
// <public_url>/t/o/<token>.gif, whose token signs the delivery. A click goes
// through <public_url>/t/c/<token>?u=<link>, whose token signs the delivery
// and the link together: the redirect follows only a link signed with the
// daemon's key for that message, so it can never send people elsewhere (no
// open redirect).
package links

import (
	"crypto/sha256"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/edition"
	"bulletin/internal/token"
)

// Links makes, and reads back, the addresses and URLs that carry a
// subscriber's, a campaign's or a delivery's identifiers.
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

// ParseDeliveryToken returns the delivery a token names, if it verifies,
// whatever the case an MTA gave it; else token.ErrInvalid.
func (l *Links) ParseDeliveryToken(tok string) (uuid.UUID, error) {
	return l.parseUUID(token.Delivery, tok)
}

// EnvelopeFrom returns the SMTP envelope sender of a delivery:
// bounces+TOKEN@domain with VERP, the bounce address itself without.
func (l *Links) EnvelopeFrom(delivery uuid.UUID) string {
	if !l.VERP || delivery == uuid.Nil {
		return l.BounceAddress
	}
	return tagged(l.BounceAddress, l.DeliveryToken(delivery))
}

// UnsubscribeMailto returns unsubscribe+TOKEN@domain, or "" when no
// unsubscribe address is configured.
func (l *Links) UnsubscribeMailto(delivery uuid.UUID) string {
	if l.UnsubscribeAddress == "" || delivery == uuid.Nil {
		return ""
	}
	return tagged(l.UnsubscribeAddress, l.DeliveryToken(delivery))
}

// tagged returns local+tag@domain for addr = local@domain, and addr itself
// when it has no @ (config validation names that mistake).
func tagged(addr, tag string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return addr[:i] + "+" + tag + addr[i:]
}

// UnsubscribeToken returns the token of a subscriber's unsubscribe and
// preference link for a campaign (uuid.Nil outside any campaign): it signs
// both UUIDs, so that the unsubscribe is attributed to the campaign.
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

// PreferencesURL returns the page where a subscriber chooses their lists,
// <public_url>/u/<token>/preferences.
func (l *Links) PreferencesURL(subscriber, campaign uuid.UUID) string {
	return l.UnsubscribeURL(subscriber, campaign) + "/preferences"
}

// ConfirmURL returns the double opt-in confirmation link of a random
// token (store.CreateConfirmation), <public_url>/confirm/<token>.
func (l *Links) ConfirmURL(tok string) string {
	return l.PublicURL + "/confirm/" + tok
}

// IsLegacyConfirmToken reports whether tok is a confirmation token of the
// old kind, signed for a subscriber and never expiring. Such links were
// mailed before confirmations became random, single-use and time-limited:
// they no longer confirm anything, and are told apart from forged links
// only to tell their holder to subscribe again.
func (l *Links) IsLegacyConfirmToken(tok string) bool {
	_, err := l.parseUUID(token.Confirm, tok)
	return err == nil
}

// WebViewURL returns <public_url>/v/<campaign UUID>, the online version.
func (l *Links) WebViewURL(campaign uuid.UUID) string {
	return l.PublicURL + "/v/" + campaign.String()
}

// OpenURL returns the address of the tracking pixel of one delivery,
// <public_url>/t/o/<token>.gif.
func (l *Links) OpenURL(delivery uuid.UUID) string {
	return l.PublicURL + "/t/o/" + l.Signer.Sign(token.Open, delivery[:]) + ".gif"
}

// ParseOpenToken returns the delivery of a pixel's token, with or without
// its ".gif".
func (l *Links) ParseOpenToken(tok string) (uuid.UUID, error) {
	return l.parseUUID(token.Open, strings.TrimSuffix(tok, ".gif"))
}

// ClickURL returns the tracked form of link for one delivery,
// <public_url>/t/c/<token>?u=<link>, or link itself when it is not to be
// tracked: anything but an absolute http(s) URL (mailto:, tel:, #anchors),
// and the links to this site's own pages for one reader (unsubscribe,
// preferences, confirmation, web view), which must reach them as written.
func (l *Links) ClickURL(delivery uuid.UUID, link string) string {
	if !trackable(link) || l.ours(link) {
		return link
	}
	return l.PublicURL + "/t/c/" + l.Signer.Sign(token.Click, clickPayload(delivery, link)) + "?u=" + url.QueryEscape(link)
}

// ParseClickToken checks that tok signs link for a delivery, and returns the
// delivery. link is the u parameter of the request, as received.
func (l *Links) ParseClickToken(tok, link string) (uuid.UUID, error) {
	p, err := l.Signer.Verify(token.Click, tok)
	if err != nil || len(p) != 16+linkHashLen || !trackable(link) {
		return uuid.Nil, token.ErrInvalid
	}
	d := uuid.UUID(p[:16])
	if string(clickPayload(d, link)) != string(p) {
		return uuid.Nil, token.ErrInvalid
	}
	return d, nil
}

// trackable reports whether link is an absolute http or https URL, the only
// kind a click redirect may lead to.
func trackable(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ours reports whether link is one of this site's pages made for one
// reader or one campaign.
func (l *Links) ours(link string) bool {
	rest, ok := strings.CutPrefix(link, l.PublicURL+"/")
	if !ok {
		return false
	}
	for _, p := range []string{"u/", "confirm/", "v/", "t/"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}

// linkHashLen is how much of the link's SHA-256 a click token carries: the
// token's MAC covers it, so it only has to tell links apart, not resist
// forgery on its own.
const linkHashLen = 8

func clickPayload(delivery uuid.UUID, link string) []byte {
	h := sha256.Sum256([]byte(link))
	return append(append(make([]byte, 0, 16+linkHashLen), delivery[:]...), h[:linkHashLen]...)
}

// parseUUID verifies a token whose payload is one UUID.
func (l *Links) parseUUID(p token.Purpose, tok string) (uuid.UUID, error) {
	b, err := l.Signer.Verify(p, tok)
	if err != nil || len(b) != 16 {
		return uuid.Nil, token.ErrInvalid
	}
	return uuid.UUID(b), nil
}

// MediaPrefix is the public URL path under which the daemon serves the
// files that sit next to an edition.
const MediaPrefix = "/media/"

// MediaPath returns the URL path of a file next to an edition:
// MediaPath("2020-edition-10-ans", "images/logo.png") is
// "/media/2020-edition-10-ans/images/logo.png". file is slash-separated and
// relative to the edition's folder (see edition.CleanLocal); each segment is
// escaped.
func MediaPath(slug, file string) string {
	var b strings.Builder
	b.WriteString(MediaPrefix)
	b.WriteString(url.PathEscape(slug))
	for _, seg := range strings.Split(file, "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// MediaURL returns the absolute URL readers load a file next to an edition
// from: publicURL followed by MediaPath. With no public URL it is just the
// path, which works in the daemon's own web view but not in a mail client
// (render.Check says so). It takes the URL rather than a Links because the
// layout renders editions before, and without, any signing key.
func MediaURL(publicURL, slug, file string) string {
	return strings.TrimRight(publicURL, "/") + MediaPath(slug, file)
}

// ParseMediaPath splits a URL path served under MediaPrefix into the
// edition's slug and the file's slash-separated path inside the edition's
// folder, refusing anything that would leave that folder. It is the inverse
// of MediaPath, for the daemon's /media/ handler.
func ParseMediaPath(p string) (slug, file string, ok bool) {
	rest, found := strings.CutPrefix(p, MediaPrefix)
	if !found {
		return "", "", false
	}
	slug, file, found = strings.Cut(rest, "/")
	if !found || slug == "" || edition.Slugify(slug) != slug {
		return "", "", false
	}
	file, err := edition.CleanLocal(file)
	if err != nil {
		return "", "", false
	}
	return slug, file, true
}
