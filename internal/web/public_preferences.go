package web

import (
	"errors"
	"net/http"
	"slices"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

type prefList struct {
	UUID        string
	Name        string
	Description string
	On          bool
}

type preferencesData struct {
	Token      string
	Masked     string
	Status     store.Status
	Suppressed bool
	Lists      []prefList
	Saved      bool
	Mailed     bool // lists to join wait for the confirmation just mailed
}

// readerLists returns the lists a reader may choose from on their
// preference page: the public ones and those they are or were on. A private
// list they were never on stays unknown to them.
func (s *Server) readerLists(r *http.Request, sub *store.Subscriber) ([]prefList, map[string]*store.List, error) {
	all, err := s.store.Lists(r.Context())
	if err != nil {
		return nil, nil, err
	}
	mine, err := s.store.SubscriberLists(r.Context(), sub.ID)
	if err != nil {
		return nil, nil, err
	}
	var out []prefList
	byUUID := map[string]*store.List{}
	for _, l := range all {
		on, member := mine[l.Name]
		if !l.Public && !member {
			continue
		}
		out = append(out, prefList{UUID: l.UUID.String(), Name: l.Name, Description: l.Description, On: on})
		byUUID[l.UUID.String()] = l
	}
	return out, byUUID, nil
}

// preferencesPage shows the lists the reader is on, to change them.
func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	rd, err := s.readerOf(r)
	if err != nil {
		s.readerError(w, r, err)
		return
	}
	if rd.sub == nil {
		s.publicError(w, r, http.StatusNotFound, "error.gone")
		return
	}
	lists, _, err := s.readerLists(r, rd.sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := preferencesData{
		Token: rd.token, Masked: address.Mask(rd.sub.Email), Status: rd.sub.Status,
		Suppressed: rd.sub.Status.Suppressed(), Lists: lists, Saved: r.URL.Query().Get("done") == "saved",
		Mailed: r.URL.Query().Get("join") == "mailed",
	}
	s.render(w, r, http.StatusOK, "public/preferences", s.newPage(r, "preferences.title", d))
}

// savePreferences applies the reader's choice: each offered list on or
// off, or (action=all) unsubscribe from everything. Like the unsubscribe
// button it needs no CSRF token (the link's token is the secret) but only
// acts on the form's own fields.
//
// Leaving a list applies at once; joining one does not, as whoever holds a
// forwarded mail holds this page: the lists to join go into a confirmation
// link mailed to the address alone (double opt-in), and the page says so.
// A bounced or complained address is sent nothing.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	action := r.PostFormValue("action")
	if action != "save" && action != "all" {
		s.publicError(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	rd, err := s.readerOf(r)
	if err != nil {
		s.readerError(w, r, err)
		return
	}
	if rd.sub == nil {
		s.publicError(w, r, http.StatusNotFound, "error.gone")
		return
	}
	if action == "all" {
		_, err := s.store.SetStatus(r.Context(), rd.sub.ID, store.StatusChange{
			Status: store.Unsubscribed, Source: "link", CampaignID: rd.campaignID,
		})
		if err != nil && !errors.Is(err, store.ErrSuppressed) {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/u/"+rd.token+"?done=unsubscribed", http.StatusSeeOther)
		return
	}
	_, offered, err := s.readerLists(r, rd.sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := map[string]bool{}
	for _, id := range r.PostForm["list"] {
		chosen[id] = true
	}
	mine, err := s.store.SubscriberLists(r.Context(), rd.sub.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var join []int64
	for id, l := range offered {
		switch on := mine[l.Name]; {
		case chosen[id] && !on:
			join = append(join, l.ID)
		case !chosen[id] && on:
			if err := s.store.SetMembership(r.Context(), rd.sub.ID, l.ID, false, "link"); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	next := "/u/" + rd.token + "/preferences?done=saved"
	if len(join) > 0 && rd.sub.Status != store.Bounced && rd.sub.Status != store.Complained {
		slices.Sort(join)
		if err := s.mailConfirmation(r.Context(), s.newPage(r, "", nil), rd.sub, join); err != nil {
			s.log.Error("web: confirmation mail", "err", err)
			s.publicError(w, r, http.StatusServiceUnavailable, "subscribe.failed")
			return
		}
		next += "&join=mailed"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
