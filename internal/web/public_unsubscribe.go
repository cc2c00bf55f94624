package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// reader is the person a public link was made for, as the link's token
// names them.
type reader struct {
	token      string
	sub        *store.Subscriber // nil: erased since the link was sent
	campaignID int64             // the campaign the link came in, or 0
}

// errBadLink is a token that does not verify: the link was altered or made
// up. It is answered 404 and changes nothing (invariant 5).
var errBadLink = errors.New("web: bad link")

// readerOf resolves the {token} of /u/{token}.
func (s *Server) readerOf(r *http.Request) (*reader, error) {
	tok := r.PathValue("token")
	subID, campID, err := s.links.ParseUnsubscribeToken(tok)
	if err != nil {
		return nil, errBadLink
	}
	rd := &reader{token: tok}
	rd.sub, err = s.store.SubscriberByUUID(r.Context(), subID)
	if errors.Is(err, store.ErrNotFound) {
		rd.sub = nil
	} else if err != nil {
		return nil, err
	}
	if campID != uuid.Nil {
		c, err := s.store.CampaignByUUID(r.Context(), campID)
		switch {
		case err == nil:
			rd.campaignID = c.ID
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return rd, nil
}

// readerError answers a link that cannot be resolved.
func (s *Server) readerError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBadLink) {
		s.publicError(w, r, http.StatusNotFound, "error.bad_link")
		return
	}
	s.fail(w, r, err)
}

type unsubscribeData struct {
	Token       string
	Masked      string
	Gone        bool // erased: nothing is held about the address any more
	Status      store.Status
	Suppressed  bool
	Resubscribe string // the resubscribe button's form token, within the undo window
	Reconfirm   bool   // past it: the button that mails a confirmation link
	Done        string // what was just done: "unsubscribed", "resubscribed", "mailed"
}

// unsubscribePage shows the masked address and one button. A GET never
// unsubscribes: mail scanners follow every link of a message.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	rd, err := s.readerOf(r)
	if err != nil {
		s.readerError(w, r, err)
		return
	}
	d := unsubscribeData{Token: rd.token, Gone: rd.sub == nil}
	switch r.URL.Query().Get("done") {
	case "unsubscribed", "resubscribed", "mailed":
		d.Done = r.URL.Query().Get("done")
	}
	if rd.sub != nil {
		d.Masked, d.Status, d.Suppressed = address.Mask(rd.sub.Email), rd.sub.Status, rd.sub.Status.Suppressed()
		if rd.sub.Status == store.Unsubscribed {
			if s.undoable(rd.sub) {
				d.Resubscribe = s.formToken(purposeResubscribe, rd.sub.UUID[:])
			} else {
				d.Reconfirm = true
			}
		}
	}
	s.render(w, r, http.StatusOK, "public/unsubscribe", s.newPage(r, "unsubscribe.title", d))
}

// unsubscribe unsubscribes at once, and is two things:
//
//   - the RFC 8058 one-click endpoint: a mail provider POSTs
//     "List-Unsubscribe=One-Click" with no cookie, no CSRF token and no
//     login, and gets 200;
//   - the target of the page's button, which posts confirm=1 and is sent
//     back to the page (Post/Redirect/Get).
//
// Either way it is idempotent, and the unsubscribe is attributed to the
// campaign named in the link. Any other POST changes nothing.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	oneClick := r.PostFormValue("List-Unsubscribe") == "One-Click"
	if !oneClick && r.PostFormValue("confirm") != "1" {
		s.publicError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	rd, err := s.readerOf(r)
	if err != nil {
		s.readerError(w, r, err)
		return
	}
	source := "link"
	if oneClick {
		source = "one-click"
	}
	// Kept even while the database's writer is busy (a long import):
	// mail providers do not retry, so it is answered 200 once on disk.
	if rd.sub != nil {
		if err := s.store.Unsubscribe(r.Context(), rd.sub.ID, source, rd.campaignID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(s.newPage(r, "", nil).T("unsubscribe.one_click") + "\n"))
		return
	}
	http.Redirect(w, r, "/u/"+rd.token+"?done=unsubscribed", http.StatusSeeOther)
}

// undoable reports whether sub unsubscribed recently enough for the undo
// button: within undoWindow of the unsubscribe as the store dated it (its
// status change), whenever the page was shown. A minute of slack allows for
// the web clock and the database's being read a moment apart.
func (s *Server) undoable(sub *store.Subscriber) bool {
	age := s.now().Sub(sub.StatusChangedAt)
	return age > -time.Minute && age <= undoWindow
}

// resubscribe brings back a reader who unsubscribed, in one of two ways:
//
//   - within undoWindow of the unsubscribe, the page's undo button: their
//     own opt-in, so it may lift the suppression (Force). The button
//     carries a signed token bound to the reader and as long as the window,
//     so that a link scanner replaying the page's forms later cannot flip
//     the reader back;
//   - past it (action=mail), a fresh confirmation link mailed to the
//     address alone (double opt-in): whoever holds an old forwarded mail
//     cannot re-subscribe its reader.
func (s *Server) resubscribe(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	rd, err := s.readerOf(r)
	if err != nil {
		s.readerError(w, r, err)
		return
	}
	if rd.sub == nil || rd.sub.Status != store.Unsubscribed {
		s.publicError(w, r, http.StatusBadRequest, "error.resubscribe")
		return
	}
	if r.PostFormValue("action") == "mail" {
		if err := s.mailConfirmation(r.Context(), s.newPage(r, "", nil), rd.sub, nil); err != nil {
			s.log.Error("web: confirmation mail", "err", err)
			s.publicError(w, r, http.StatusServiceUnavailable, "subscribe.failed")
			return
		}
		http.Redirect(w, r, "/u/"+rd.token+"?done=mailed", http.StatusSeeOther)
		return
	}
	if !s.undoable(rd.sub) || !s.checkFormToken(purposeResubscribe, r.PostFormValue("form"), rd.sub.UUID[:], 0, undoWindow) {
		s.publicError(w, r, http.StatusBadRequest, "error.resubscribe")
		return
	}
	_, err = s.store.SetStatus(r.Context(), rd.sub.ID, store.StatusChange{
		Status: store.Active, Source: "link", Note: i18n.M("history.detail.resubscribed"), CampaignID: rd.campaignID, Force: true,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/u/"+rd.token+"?done=resubscribed", http.StatusSeeOther)
}
