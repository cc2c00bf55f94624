package web

import (
	"errors"
	"net/http"
	"net/url"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

type subscriberNewData struct {
	Lists []*store.List
	Form  subscriberNewForm
	Error string
	Line  int // the bad attribute line
}

type subscriberNewForm struct {
	Email, FirstName, LastName, Organisation, Attributes, Consent string
	Lists                                                         []string
}

// newSubscriberPage shows the form to add one subscriber by hand.
func (s *Server) newSubscriberPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.showNewSubscriber(w, r, sess, http.StatusOK, subscriberNewData{})
}

func (s *Server) showNewSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d subscriberNewData) {
	var err error
	if d.Lists, err = s.store.Lists(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, code, "admin/subscriber_new", s.adminPage(r, sess, "subscribers", "subscribers.new_title", d))
}

// addSubscriber adds one subscriber, active, with the consent the staff
// member describes. An erased or suppressed address stays out (invariant
// 1): only the person may bring it back, through the subscribe form.
func (s *Server) addSubscriber(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f := subscriberNewForm{
		Email: r.PostFormValue("email"), FirstName: clip(r.PostFormValue("first_name"), 100),
		LastName: clip(r.PostFormValue("last_name"), 100), Organisation: clip(r.PostFormValue("organisation"), 200),
		Attributes: r.PostFormValue("attributes"), Consent: clip(r.PostFormValue("consent"), 1000),
		Lists: r.PostForm["list"],
	}
	d := subscriberNewData{Form: f}
	email, err := address.Normalize(f.Email)
	if err != nil {
		d.Error = "subscribers.error.bad_email"
		s.showNewSubscriber(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	attrs, line := parseAttributes(f.Attributes)
	if line > 0 {
		d.Error, d.Line = "subscribers.error.attribute", line
		s.showNewSubscriber(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	all, err := s.store.Lists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var names []string
	for _, l := range all {
		for _, id := range f.Lists {
			if id == l.UUID.String() {
				names = append(names, l.Name)
			}
		}
	}
	sub := &store.Subscriber{
		Email: email, FirstName: f.FirstName, LastName: f.LastName, Organisation: f.Organisation, Attributes: attrs,
		Status:  store.Active,
		Consent: store.Consent{Source: "admin", At: s.now(), Text: f.Consent},
	}
	err = s.store.AddSubscriber(r.Context(), sub, names, false)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		d.Error = "subscribers.error.duplicate"
	case errors.Is(err, store.ErrSuppressed):
		d.Error = "subscribers.error.erased"
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if d.Error != "" {
		s.showNewSubscriber(w, r, sess, http.StatusConflict, d)
		return
	}
	redirectOK(w, r, "/admin/subscribers/"+url.PathEscape(sub.UUID.String()), "subscriber_added")
}
