package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"bulletin/internal/store"
	"bulletin/internal/token"
)

// A device cookie marks a browser that has logged into an account before.
// Failed logins from such a browser count against its own budget only, so
// that an attacker failing from elsewhere, who can hold back the account
// for every unknown browser, cannot lock its owner out.
//
// The cookie is signed with the server's signer and binds the account and
// its last change (password or role): changing the password revokes every
// device cookie of the account, which is what an owner who fears a leak
// wants. Its payload is: issued (8 bytes, Unix seconds), device id (8),
// user UUID (16), account stamp (8, updated_at in Unix nanoseconds).
const purposeDevice token.Purpose = "web-device"

// deviceMaxAge is how long a browser stays known without logging in.
const deviceMaxAge = 365 * 24 * time.Hour

const devicePayloadLen = 8 + 8 + 16 + 8

// deviceCookieName has the __Host- prefix over https, like the session's,
// so that a sibling sub-domain cannot plant one.
func (s *Server) deviceCookieName() string {
	if s.https {
		return "__Host-bulletin_device"
	}
	return "bulletin_device"
}

// setDeviceCookie marks the browser as known for u. id is the device's
// id (hex) when the browser already had one; "" makes a new one.
func (s *Server) setDeviceCookie(w http.ResponseWriter, u *store.User, id string) {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != 8 {
		raw = make([]byte, 8)
		rand.Read(raw) // never fails (crypto/rand)
	}
	payload := binary.BigEndian.AppendUint64(nil, uint64(s.now().Unix()))
	payload = append(payload, raw...)
	payload = append(payload, u.UUID[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(u.UpdatedAt.UnixNano()))
	http.SetCookie(w, &http.Cookie{
		Name:     s.deviceCookieName(),
		Value:    s.links.Signer.Sign(purposeDevice, payload),
		Path:     "/",
		MaxAge:   int(deviceMaxAge / time.Second),
		HttpOnly: true,
		Secure:   s.https,
		// Strict: the console's own login form is the only page that
		// needs it.
		SameSite: http.SameSiteStrictMode,
	})
}

// knownDevice returns the device id (hex) of the request's device cookie
// when it is valid for the account of this address, and "" otherwise.
func (s *Server) knownDevice(ctx context.Context, r *http.Request, email string) (string, error) {
	c, err := r.Cookie(s.deviceCookieName())
	if err != nil {
		return "", nil
	}
	payload, err := s.links.Signer.Verify(purposeDevice, c.Value)
	if err != nil || len(payload) != devicePayloadLen {
		return "", nil
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	if s.now().Sub(issued) > deviceMaxAge {
		return "", nil
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	stamp := binary.BigEndian.AppendUint64(nil, uint64(u.UpdatedAt.UnixNano()))
	if !bytes.Equal(payload[16:32], u.UUID[:]) || !bytes.Equal(payload[32:], stamp) {
		return "", nil
	}
	return hex.EncodeToString(payload[8:16]), nil
}

// loginNetwork is the key the login limit per client counts under: an IPv4
// address alone, not its /24 as the subscribe form does, since an office
// behind one NAT already shares it and a shared /24 (a provider's pool)
// would let a neighbour hold the staff back; an IPv6 address by its /64
// (netKey), which a single line usually gets whole, so that hopping
// addresses within it buys nothing.
func loginNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	return netKey(a.WithZone("").String())
}

// waitMinutes is a wait as the pages say it: in whole minutes, rounded up.
func waitMinutes(d time.Duration) int {
	return int(math.Ceil(d.Minutes()))
}

// tooMany sets Retry-After for a 429 answer.
func tooMany(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}
