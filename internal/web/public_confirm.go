package web

import (
	"errors"
	"net/http"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

type confirmData struct {
	Token  string
	Masked string
	Status store.Status
	Done   bool
}

// confirmTarget resolves /confirm/{token}; a token that does not verify
// or a subscriber since erased is a dead link.
func (s *Server) confirmTarget(w http.ResponseWriter, r *http.Request) (*store.Subscriber, bool) {
	id, err := s.links.ParseConfirmToken(r.PathValue("token"))
	if err != nil {
		s.publicError(w, r, http.StatusNotFound, "error.bad_link")
		return nil, false
	}
	sub, err := s.store.SubscriberByUUID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.publicError(w, r, http.StatusNotFound, "error.gone")
		return nil, false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return sub, true
}

// confirmPage shows a button: confirming is a POST, because mail scanners
// open the links of the confirmation mail too.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	sub, ok := s.confirmTarget(w, r)
	if !ok {
		return
	}
	d := confirmData{Token: r.PathValue("token"), Masked: address.Mask(sub.Email), Status: sub.Status, Done: r.URL.Query().Get("done") == "1"}
	s.render(w, r, http.StatusOK, "public/confirm", s.newPage(r, "confirm.title", d))
}

// confirm makes a subscription active. The link reached the address's own
// mailbox, so the click is the person's own opt-in: it may lift a
// suppression (Force), and the confirmation, with the IP it came from, is
// recorded in the subscriber's history and becomes the subscriber's consent
// record, with the sentence the form shows: an address that comes back
// after unsubscribing is not left with the consent it had before.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	if r.PostFormValue("confirm") != "1" {
		s.publicError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	sub, ok := s.confirmTarget(w, r)
	if !ok {
		return
	}
	if sub.Status != store.Active {
		ip := s.clientIP(r)
		_, err := s.store.SetStatusAndConsent(r.Context(), sub.ID, store.StatusChange{
			Status: store.Active, Source: "form", Force: true,
			Reason: "double opt-in confirmed from " + ip,
		}, store.Consent{Source: "form", At: s.now(), IP: ip, Text: s.consentText(s.newPage(r, "", nil))})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/confirm/"+r.PathValue("token")+"?done=1", http.StatusSeeOther)
}
