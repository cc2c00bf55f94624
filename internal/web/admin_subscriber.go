package web

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"bulletin/internal/erasure"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

type subscriberData struct {
	Sub        *store.Subscriber
	Personal   *store.PersonalData
	Lists      []subscriberList
	Attributes string // "key = value" lines
	Error      string
	Line       int
}

type subscriberList struct {
	UUID, Name string
	On         bool
}

// subscriberOf returns the subscriber named by the {subscriber} UUID of the
// path, or answers 404.
func (s *Server) subscriberOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.Subscriber, bool) {
	return byPathUUID(s, w, r, sess, "subscriber", s.store.SubscriberByUUID)
}

func attributeLines(attrs map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		b.WriteString(k + " = " + attrs[k] + "\n")
	}
	return b.String()
}

// subscriberPage shows one subscriber: their fields to edit, their lists,
// their consent and history.
func (s *Server) subscriberPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	sub, ok := s.subscriberOf(w, r, sess)
	if !ok {
		return
	}
	s.showSubscriber(w, r, sess, http.StatusOK, &subscriberData{Sub: sub, Attributes: attributeLines(sub.Attributes)})
}

func (s *Server) showSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d *subscriberData) {
	ctx := r.Context()
	var err error
	if d.Personal, err = s.store.PersonalData(ctx, d.Sub.Email); err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.Lists(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, l := range all {
		d.Lists = append(d.Lists, subscriberList{UUID: l.UUID.String(), Name: l.Name, On: d.Personal.Lists[l.Name]})
	}
	s.render(w, r, code, "admin/subscriber", s.adminPage(r, sess, "subscribers", "subscribers.edit_title", d))
}

// saveSubscriber saves the names, organisation and attributes, and the
// lists the staff member ticked. Adding someone back to a list they left
// themselves is their choice alone: such lists stay as they are.
func (s *Server) saveSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	ctx := r.Context()
	sub, ok := s.subscriberOf(w, r, sess)
	if !ok {
		return
	}
	sub.FirstName = clip(r.PostFormValue("first_name"), 100)
	sub.LastName = clip(r.PostFormValue("last_name"), 100)
	sub.Organisation = clip(r.PostFormValue("organisation"), 200)
	text := r.PostFormValue("attributes")
	attrs, line := parseAttributes(text)
	if line > 0 {
		s.showSubscriber(w, r, sess, http.StatusUnprocessableEntity, &subscriberData{Sub: sub, Attributes: text, Error: "subscribers.error.attribute", Line: line})
		return
	}
	sub.Attributes = attrs
	if err := s.store.UpdateSubscriber(ctx, sub); err != nil {
		s.fail(w, r, err)
		return
	}
	member, err := s.store.SubscriberLists(ctx, sub.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists, err := s.store.Lists(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := map[string]bool{}
	for _, id := range r.PostForm["list"] {
		chosen[id] = true
	}
	for _, l := range lists {
		on, known := member[l.Name]
		want := chosen[l.UUID.String()]
		switch {
		case want && !known:
			err = s.store.AddToList(ctx, sub.ID, l.Name, "admin")
		case !want && on:
			err = s.store.SetMembership(ctx, sub.ID, l.ID, false, "admin")
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	redirectOK(w, r, "/admin/subscribers/"+sub.UUID.String(), "subscriber_saved")
}

// unsubscribeSubscriber unsubscribes someone at their request (a phone
// call, a letter). Staff can suppress; only an admin may lift a complaint
// or a bounce, with a reason (liftSuppression).
func (s *Server) unsubscribeSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	sub, ok := s.subscriberOf(w, r, sess)
	if !ok {
		return
	}
	_, err := s.store.SetStatus(r.Context(), sub.ID, store.StatusChange{
		Status: store.Unsubscribed, Source: "admin", Reason: clip(r.PostFormValue("reason"), 500),
	})
	if err != nil && !errors.Is(err, store.ErrSuppressed) {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/subscribers/"+sub.UUID.String(), "subscriber_unsubscribed")
}

// liftSuppression lifts a complaint or a hard bounce, when the person asks
// for it outside the site (they wrote in that the complaint was a slip, the
// mailbox works again): admins only, and only with the reason typed in,
// recorded with the admin's login in the subscriber's history. The public
// side never lifts these, and an unsubscribe is lifted by the person's own
// confirmation alone.
func (s *Server) liftSuppression(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	sub, ok := s.subscriberOf(w, r, sess)
	if !ok {
		return
	}
	refuse := func(key string) {
		s.showSubscriber(w, r, sess, http.StatusUnprocessableEntity, &subscriberData{Sub: sub, Attributes: attributeLines(sub.Attributes), Error: key})
	}
	if sub.Status != store.Bounced && sub.Status != store.Complained {
		refuse("subscribers.error.lift_status")
		return
	}
	reason := clip(r.PostFormValue("reason"), 500)
	if reason == "" {
		refuse("subscribers.error.lift_reason")
		return
	}
	_, err := s.store.SetStatus(r.Context(), sub.ID, store.StatusChange{
		Status: store.Active, Source: "admin", Force: true,
		Note: i18n.M("history.detail.lifted", i18n.Key("import.status."+string(sub.Status)), sess.User.Email, reason),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/subscribers/"+sub.UUID.String(), "subscriber_lifted")
}

// eraseSubscriber erases a person (GDPR): only a hash of the address is
// kept, so that they are never mailed again. Admins only; the form asks to
// type the address again, as there is no undo.
func (s *Server) eraseSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	sub, ok := s.subscriberOf(w, r, sess)
	if !ok {
		return
	}
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm_email")), sub.Email) {
		s.showSubscriber(w, r, sess, http.StatusUnprocessableEntity, &subscriberData{Sub: sub, Attributes: attributeLines(sub.Attributes), Error: "subscribers.error.erase_confirm"})
		return
	}
	if err := erasure.Erase(r.Context(), s.store, s.cfg.Sending.OutboxDir, sub.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.log.Info("web: subscriber erased", "by", sess.User.UUID.String())
	redirectOK(w, r, "/admin/subscribers", "subscriber_erased")
}
