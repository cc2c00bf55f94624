package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"bulletin/internal/mailbox"
	"bulletin/internal/store"
)

// mailboxPerPage is the length of a page of the mailbox events.
const mailboxPerPage = 50

// mailboxKinds are the kinds the classifier gives, for the filter.
var mailboxKinds = []string{"hard", "soft", "delayed", "complaint", "autoreply", "unsubscribe", "reply", "unknown"}

type mailboxData struct {
	Events      []*store.MailboxEvent
	Total       int
	Page, Pages int
	Filter      mailboxQuery
	Kinds       []string
	Campaigns   []*store.Campaign
	Query       template.URL // the filter, for the pager and the apply forms' way back (filterQuery)
	// Waiting counts the unverified events, whatever the filter: the
	// page says how many wait for an admin.
	Waiting int
}

// mailboxQuery is the page's filter, as read from the query string.
type mailboxQuery struct {
	Kind, Campaign string
	Unverified     bool // only the events waiting for an admin
}

func readMailboxQuery(q url.Values) mailboxQuery {
	f := mailboxQuery{Kind: q.Get("kind"), Campaign: clip(q.Get("campaign"), 100), Unverified: q.Get("unverified") == "1"}
	if !slices.Contains(mailboxKinds, f.Kind) {
		f.Kind = ""
	}
	return f
}

func (f mailboxQuery) filter() store.MailboxEventFilter {
	mf := store.MailboxEventFilter{Kind: f.Kind, Campaign: f.Campaign}
	if f.Unverified {
		mf.Action = store.MailboxUnverified
	}
	return mf
}

func (f mailboxQuery) values() url.Values {
	v := url.Values{}
	if f.Kind != "" {
		v.Set("kind", f.Kind)
	}
	if f.Campaign != "" {
		v.Set("campaign", f.Campaign)
	}
	if f.Unverified {
		v.Set("unverified", "1")
	}
	return v
}

// mailboxPage lists what the watcher read from the mailbox, newest first,
// 50 a page, filtered by kind and campaign, with the unverified bounces
// and complaints an admin can apply.
func (s *Server) mailboxPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	ctx := r.Context()
	d := mailboxData{Filter: readMailboxQuery(r.URL.Query()), Kinds: mailboxKinds}
	d.Query = filterQuery(d.Filter.values())
	var err error
	if d.Campaigns, err = s.store.Campaigns(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	f := d.Filter.filter()
	if d.Total, err = s.store.CountMailboxEvents(ctx, f); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Waiting, err = s.store.CountMailboxEvents(ctx, store.MailboxEventFilter{Action: store.MailboxUnverified}); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Pages = max(1, (d.Total+mailboxPerPage-1)/mailboxPerPage)
	d.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	f.Limit, f.Offset = mailboxPerPage, (d.Page-1)*mailboxPerPage
	if d.Events, err = s.store.MailboxEvents(ctx, f); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin/mailbox", s.adminPage(r, sess, "mailbox", "mailbox.title", d))
}

// applyMailboxEvent applies an unverified bounce or complaint to the
// subscriber it names, as a verified one would have been (admins only):
// the admin has read it and vouches for it, and their login goes into the
// subscriber's history.
func (s *Server) applyMailboxEvent(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	ctx := r.Context()
	ev, ok := byPathUUID(s, w, r, sess, "id", s.store.MailboxEventByUUID)
	if !ok {
		return
	}
	_, err := s.store.ApplyMailboxEvent(ctx, ev.ID, mailbox.EffectOf(ev, mailbox.RulesFromConfig(s.cfg)), sess.User.Email)
	switch {
	case errors.Is(err, store.ErrNotUnverified):
		s.adminError(w, r, sess, http.StatusConflict, "mailbox.error.not_unverified")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.log.Info("web: mailbox event applied", "event", ev.UUID.String(), "kind", ev.Kind, "by", sess.User.UUID.String())
	back := "/admin/mailbox"
	if q := readMailboxQuery(readQuery(r.PostFormValue("back"))).values().Encode(); q != "" {
		back += "?" + q
	}
	redirectOK(w, r, back, "mailbox_applied")
}

// readQuery parses a query string carried in a form, empty when it is not
// one.
func readQuery(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		return url.Values{}
	}
	return v
}
