package web

import (
	"errors"
	"net/http"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

type confirmData struct {
	Token  string
	Masked string
	Done   bool
}

// linkError answers a confirmation token that cannot be used: never
// issued (404, or 410 for a link of the old signed kind, which asks to
// subscribe again), spent (409) or expired (410).
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound) && s.links.IsLegacyConfirmToken(r.PathValue("token")):
		s.publicError(w, r, http.StatusGone, "confirm.expired")
	case errors.Is(err, store.ErrNotFound):
		s.publicError(w, r, http.StatusNotFound, "error.bad_link")
	case errors.Is(err, store.ErrConfirmationUsed):
		s.publicError(w, r, http.StatusConflict, "confirm.used")
	case errors.Is(err, store.ErrConfirmationExpired):
		s.publicError(w, r, http.StatusGone, "confirm.expired")
	case errors.Is(err, store.ErrSuppressed):
		s.publicError(w, r, http.StatusConflict, "confirm.suppressed")
	default:
		s.fail(w, r, err)
	}
}

// confirmPage shows a button: confirming is a POST, because mail scanners
// open the links of the confirmation mail too. After the POST (?done=1) it
// says the subscription is confirmed.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	conf, err := s.store.ConfirmationByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		s.linkError(w, r, err)
		return
	}
	sub, err := s.store.SubscriberByID(r.Context(), conf.SubscriberID)
	if err != nil {
		s.linkError(w, r, err)
		return
	}
	d := confirmData{Token: r.PathValue("token"), Masked: address.Mask(sub.Email)}
	used := !conf.UsedAt.IsZero()
	switch {
	case used && r.URL.Query().Get("done") == "1" && sub.Status == store.Active:
		d.Done = true
	case used:
		s.linkError(w, r, store.ErrConfirmationUsed)
		return
	case s.now().After(conf.ExpiresAt):
		s.linkError(w, r, store.ErrConfirmationExpired)
		return
	}
	s.render(w, r, http.StatusOK, "public/confirm", s.newPage(r, "confirm.title", d))
}

// confirm spends the link's token (store.Confirm): a pending or
// unsubscribed subscriber becomes active, the click coming from the
// address's own mailbox being the person's own opt-in, and joins the lists
// the link carries. The confirmation, with the IP it came from, is recorded
// in the subscriber's history and becomes the subscriber's consent record,
// with the sentence the form shows: an address that comes back after
// unsubscribing is not left with the consent it had before. A bounced or
// complained address is never lifted here, and a second POST changes
// nothing and says so.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	if r.PostFormValue("confirm") != "1" {
		s.publicError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	ip := s.clientIP(r)
	_, err := s.store.Confirm(r.Context(), r.PathValue("token"), s.now(),
		store.StatusChange{Source: "form", Note: i18n.M("history.detail.confirmed", ip)},
		store.Consent{Source: "form", At: s.now(), IP: ip, Text: s.consentText(s.newPage(r, "", nil))})
	if err != nil {
		s.linkError(w, r, err)
		return
	}
	http.Redirect(w, r, "/confirm/"+r.PathValue("token")+"?done=1", http.StatusSeeOther)
}
