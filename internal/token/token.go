// Package token makes and checks the signed tokens that Bulletin puts in
// addresses, headers and public links.
//
// A token is the hex encoding of a payload followed by the first 8 bytes of
// HMAC-SHA256(key, purpose || payload). Lower-case hex survives MTAs that fold
// the case of a VERP local part, and the purpose in the MAC stops a token made
// for one job (a bounce address) from being replayed for another (an
// unsubscribe link).
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Purpose says what a token is for; it is part of the MAC.
type Purpose string

// The purposes Bulletin signs.
const (
	Delivery    Purpose = "delivery"    // VERP, X-Bulletin-Delivery, mailto unsubscribe
	Unsubscribe Purpose = "unsubscribe" // unsubscribe and preference links
	Confirm     Purpose = "confirm"     // confirmation links of old, only recognised now (links.IsLegacyConfirmToken)
	Open        Purpose = "open"        // tracking pixels
	Click       Purpose = "click"       // tracked links, with the link's hash
)

const macLen = 8

// ErrInvalid is returned for a token that is malformed or whose MAC does not verify.
var ErrInvalid = errors.New("token: invalid")

// Signer signs and verifies tokens with one secret key.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for key, which should hold at least 32 random bytes.
func NewSigner(key []byte) *Signer {
	return &Signer{key: append([]byte(nil), key...)}
}

// Sign returns the token for payload.
func (s *Signer) Sign(p Purpose, payload []byte) string {
	return hex.EncodeToString(payload) + hex.EncodeToString(s.mac(p, payload))
}

// Verify returns the payload of tok, or ErrInvalid. It accepts upper-case hex,
// since some MTAs change the case of local parts.
func (s *Signer) Verify(p Purpose, tok string) ([]byte, error) {
	raw, err := hex.DecodeString(strings.ToLower(tok))
	if err != nil || len(raw) <= macLen {
		return nil, ErrInvalid
	}
	payload, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, s.mac(p, payload)) {
		return nil, ErrInvalid
	}
	return payload, nil
}

func (s *Signer) mac(p Purpose, payload []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(p))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}
