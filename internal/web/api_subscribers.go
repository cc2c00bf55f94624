package web

import (
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/erasure"
	"bulletin/internal/store"
)

// apiSubscriber is a subscriber as the API shows it.
type apiSubscriber struct {
	UUID            string            `json:"uuid"`
	Email           string            `json:"email"`
	FirstName       string            `json:"first_name"`
	LastName        string            `json:"last_name"`
	Organisation    string            `json:"organisation"`
	Attributes      map[string]string `json:"attributes"`
	Status          store.Status      `json:"status"`
	StatusReason    string            `json:"status_reason,omitempty"`
	StatusChangedAt time.Time         `json:"status_changed_at"`
	Consent         apiConsent        `json:"consent"`
	Lists           []string          `json:"lists,omitempty"` // the lists they are on (single subscriber only)
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

type apiConsent struct {
	Source string    `json:"source"`
	At     time.Time `json:"at,omitzero"`
	IP     string    `json:"ip,omitempty"`
	Text   string    `json:"text,omitempty"`
}

func toAPISubscriber(sub *store.Subscriber) apiSubscriber {
	attrs := sub.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return apiSubscriber{
		UUID: sub.UUID.String(), Email: sub.Email, FirstName: sub.FirstName, LastName: sub.LastName,
		Organisation: sub.Organisation, Attributes: attrs, Status: sub.Status, StatusReason: sub.StatusReason,
		StatusChangedAt: sub.StatusChangedAt,
		Consent:         apiConsent{Source: sub.Consent.Source, At: sub.Consent.At, IP: sub.Consent.IP, Text: sub.Consent.Text},
		CreatedAt:       sub.CreatedAt, UpdatedAt: sub.UpdatedAt,
	}
}

// apiSubscribers: GET /api/v1/subscribers?list=&status=&q=&limit=&offset=.
func (s *Server) apiSubscribers(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	q := r.URL.Query()
	f := store.SubscriberFilter{List: q.Get("list"), Status: store.Status(q.Get("status")), Search: q.Get("q")}
	if f.Status != "" && !f.Status.Valid() {
		return invalid("status", "unknown status %q (active, pending, unsubscribed, bounced, complained)", f.Status)
	}
	var err error
	if f.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		return err
	}
	if f.Offset, err = intParam(r, "offset", 0, 0, 1<<31-1); err != nil {
		return err
	}
	total, err := s.store.CountSubscribers(r.Context(), f)
	if err != nil {
		return err
	}
	out := []apiSubscriber{}
	err = s.store.Subscribers(r.Context(), f, func(sub *store.Subscriber) error {
		out = append(out, toAPISubscriber(sub))
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"total": total, "limit": f.Limit, "offset": f.Offset, "subscribers": out})
}

// apiSubscriberOf returns the subscriber of the {subscriber} path value: a
// UUID or an address.
func (s *Server) apiSubscriberOf(r *http.Request) (*store.Subscriber, error) {
	ref := r.PathValue("subscriber")
	if id, err := uuid.Parse(ref); err == nil {
		return s.store.SubscriberByUUID(r.Context(), id)
	}
	email, err := address.Normalize(ref)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return s.store.SubscriberByEmail(r.Context(), email)
}

func (s *Server) withLists(r *http.Request, sub *store.Subscriber) (apiSubscriber, error) {
	out := toAPISubscriber(sub)
	lists, err := s.store.SubscriberLists(r.Context(), sub.ID)
	if err != nil {
		return out, err
	}
	out.Lists = []string{}
	for name, on := range lists {
		if on {
			out.Lists = append(out.Lists, name)
		}
	}
	sort.Strings(out.Lists)
	return out, nil
}

// apiGetSubscriber: GET /api/v1/subscribers/{subscriber}.
func (s *Server) apiGetSubscriber(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	sub, err := s.apiSubscriberOf(r)
	if err != nil {
		return err
	}
	out, err := s.withLists(r, sub)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// subscriberInput is the body of POST and PATCH /api/v1/subscribers.
type subscriberInput struct {
	Email        *string           `json:"email"`
	FirstName    *string           `json:"first_name"`
	LastName     *string           `json:"last_name"`
	Organisation *string           `json:"organisation"`
	Attributes   map[string]string `json:"attributes"`
	Status       *store.Status     `json:"status"`
	Lists        []string          `json:"lists"`      // POST: the lists to join (created if needed)
	Membership   map[string]bool   `json:"membership"` // PATCH: list name → on or off
	Consent      *apiConsent       `json:"consent"`    // POST: how consent was given
}

func (in *subscriberInput) names(sub *store.Subscriber) {
	if in.FirstName != nil {
		sub.FirstName = clip(*in.FirstName, 100)
	}
	if in.LastName != nil {
		sub.LastName = clip(*in.LastName, 100)
	}
	if in.Organisation != nil {
		sub.Organisation = clip(*in.Organisation, 200)
	}
	if in.Attributes != nil {
		sub.Attributes = in.Attributes
	}
}

// apiCreateSubscriber: POST /api/v1/subscribers. The status is active
// (the default) or pending; an address that exists is a conflict, one that
// is erased is suppressed (invariant 1).
func (s *Server) apiCreateSubscriber(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	var in subscriberInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Email == nil {
		return invalid("email", "email is required")
	}
	email, err := address.Normalize(*in.Email)
	if err != nil {
		return invalid("email", "%v", err)
	}
	if in.Membership != nil {
		return invalid("membership", "membership is for PATCH; give lists when creating")
	}
	sub := &store.Subscriber{Email: email, Status: store.Active, Consent: store.Consent{Source: "api", At: s.now()}}
	in.names(sub)
	if in.Status != nil {
		if *in.Status != store.Active && *in.Status != store.Pending {
			return invalid("status", "a new subscriber is active or pending")
		}
		sub.Status = *in.Status
	}
	if c := in.Consent; c != nil {
		if c.Source != "" {
			sub.Consent.Source = clip(c.Source, 200)
		}
		if !c.At.IsZero() {
			sub.Consent.At = c.At
		}
		sub.Consent.IP, sub.Consent.Text = clip(c.IP, 100), clip(c.Text, 2000)
	}
	for _, l := range in.Lists {
		if l == "" {
			return invalid("lists", "empty list name")
		}
	}
	if err := s.store.AddSubscriber(r.Context(), sub, in.Lists, false); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return apiErr(http.StatusConflict, codeConflict, "%s is already a subscriber", email)
		}
		return err
	}
	out, err := s.withLists(r, sub)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// apiUpdateSubscriber: PATCH /api/v1/subscribers/{subscriber}. Names,
// attributes (replaced as a whole), list membership, and the status, which
// may only become unsubscribed: a suppression is lifted by the person
// alone.
func (s *Server) apiUpdateSubscriber(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	ctx := r.Context()
	sub, err := s.apiSubscriberOf(r)
	if err != nil {
		return err
	}
	var in subscriberInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	switch {
	case in.Email != nil && *in.Email != sub.Email:
		return invalid("email", "an address cannot change: add the new one and unsubscribe the old")
	case in.Lists != nil || in.Consent != nil:
		return invalid("lists", "lists and consent are given when creating; use membership to change lists")
	case in.Status != nil && *in.Status != sub.Status && *in.Status != store.Unsubscribed:
		return invalid("status", "the API can only unsubscribe; a suppression is lifted by the person alone")
	}
	in.names(sub)
	if err := s.store.UpdateSubscriber(ctx, sub); err != nil {
		return err
	}
	if in.Status != nil && *in.Status == store.Unsubscribed {
		if _, err := s.store.SetStatus(ctx, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "api"}); err != nil && !errors.Is(err, store.ErrSuppressed) {
			return err
		}
	}
	if len(in.Membership) > 0 {
		lists, err := s.store.Lists(ctx)
		if err != nil {
			return err
		}
		byName := map[string]*store.List{}
		for _, l := range lists {
			byName[l.Name] = l
		}
		for name, on := range in.Membership {
			l := byName[name]
			switch {
			case l == nil && on:
				err = s.store.AddToList(ctx, sub.ID, name, "api") // creates the list
			case l == nil:
				continue
			case on:
				err = s.store.AddToList(ctx, sub.ID, l.Name, "api")
			default:
				err = s.store.SetMembership(ctx, sub.ID, l.ID, false, "api")
			}
			if err != nil {
				return err
			}
		}
	}
	if sub, err = s.store.SubscriberByID(ctx, sub.ID); err != nil {
		return err
	}
	out, err := s.withLists(r, sub)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiEraseSubscriber: DELETE /api/v1/subscribers/{subscriber}, a GDPR
// erasure (admin tokens only): only a hash of the address is kept.
func (s *Server) apiEraseSubscriber(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	sub, err := s.apiSubscriberOf(r)
	if err != nil {
		return err
	}
	if err := erasure.Erase(r.Context(), s.store, s.cfg.Sending.OutboxDir, sub.Email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
