package web

import (
	"bytes"
	"encoding/binary"
	"time"

	"bulletin/internal/token"
)

// Purposes of the tokens the web side signs for its own forms, kept apart
// from the link tokens by the purpose in the MAC.
const (
	purposeLogin       token.Purpose = "web-login"       // the login form
	purposeSubscribe   token.Purpose = "web-subscribe"   // the subscribe form of this site
	purposeSnippet     token.Purpose = "web-snippet"     // the form pasted in the organisation's site
	purposeResubscribe token.Purpose = "web-resubscribe" // the "resubscribe" button after unsubscribing
)

// Form token ages. A person takes more than two seconds to type an address;
// a bot filling the form the moment it loads does not. A form left open all
// day still works.
const (
	formMinAge = 2 * time.Second
	formMaxAge = 24 * time.Hour
	// undoWindow is how long after an unsubscribe (as the store dated it,
	// not the page view) its "resubscribe" button works: it is for a
	// mistake noticed at once. Past it, coming back goes through a fresh
	// confirmation mail (double opt-in), so that whoever holds an old
	// forwarded mail cannot re-subscribe its reader.
	undoWindow = 30 * time.Minute
)

// formToken signs the time a form was shown, bound to extra (a subscriber's
// UUID, or nothing).
func (s *Server) formToken(p token.Purpose, extra []byte) string {
	payload := binary.BigEndian.AppendUint64(nil, uint64(s.now().Unix()))
	return s.links.Signer.Sign(p, append(payload, extra...))
}

// checkFormToken reports whether tok is a form token of purpose p for extra,
// between minAge and maxAge old.
func (s *Server) checkFormToken(p token.Purpose, tok string, extra []byte, minAge, maxAge time.Duration) bool {
	payload, err := s.links.Signer.Verify(p, tok)
	if err != nil || len(payload) != 8+len(extra) || !bytes.Equal(payload[8:], extra) {
		return false
	}
	shown := time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	age := s.now().Sub(shown)
	// A second of slack: the stamp is in whole seconds.
	return age >= minAge-time.Second && age <= maxAge
}

// snippetToken signs the form the admin console gives for pasting into the
// organisation's own site. It has no age, as the page it is pasted in is
// static, so a post that carries it is never taken as it is: the subscribe
// handler shows it again on our own page, filled in, with a fresh
// time-checked form token, for the person to send (see subscribe).
func (s *Server) snippetToken() string {
	return s.links.Signer.Sign(purposeSnippet, []byte("v1"))
}

// checkSnippetToken reports whether tok is the pasted form's token.
func (s *Server) checkSnippetToken(tok string) bool {
	p, err := s.links.Signer.Verify(purposeSnippet, tok)
	return err == nil && string(p) == "v1"
}
