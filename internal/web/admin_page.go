package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/store"
)

// flashes are the messages a console page shows after a redirect, named by
// ?ok=KEY. Only these keys are shown, so the query cannot put words on the
// page.
var flashes = map[string]bool{
	"list_created": true, "list_saved": true, "list_deleted": true,
	"subscriber_added": true, "subscriber_saved": true, "subscriber_unsubscribed": true, "subscriber_erased": true,
	"user_created": true, "user_deleted": true, "user_saved": true, "password_changed": true,
	"token_revoked": true,
	"edition_saved": true, "campaign_created": true, "campaign_saved": true, "campaign_scheduled": true,
	"campaign_paused": true, "campaign_resumed": true, "campaign_cancelled": true, "campaign_started": true,
	"test_sent": true, "mailbox_applied": true, "settings_saved": true,
}

// adminPage returns the page data of a console page.
func (s *Server) adminPage(r *http.Request, sess *store.Session, nav, title string, data any) *page {
	p := s.newPage(r, title, data)
	p.User, p.CSRF, p.Nav = sess.User, sess.CSRF, nav
	p.Outbox = s.outboxDir()
	if ok := r.URL.Query().Get("ok"); flashes[ok] {
		p.Flash = "flash." + ok
	}
	return p
}

// HeadTitle is the console's window title: the page, then the
// organisation ("Campagnes · Mission Clauses"), each once; "Bulletin"
// stands for an organisation without a name.
func (p *page) HeadTitle() string {
	site := p.Org.Name
	if site == "" {
		site = "Bulletin"
	}
	if p.Title == "" || p.Title == site {
		return site
	}
	return p.Title + " · " + site
}

// adminError shows a console page saying what went wrong.
func (s *Server) adminError(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, key string) {
	p := s.adminPage(r, sess, "", "error.title", map[string]string{"Message": key})
	s.render(w, r, code, "admin/error", p)
}

// adminFound turns the result of looking up what a console URL names into
// the handler's next step: v and true, or false once the request has been
// answered, with the console's 404 page for store.ErrNotFound and a 500 for
// any other error.
func adminFound[T any](s *Server, w http.ResponseWriter, r *http.Request, sess *store.Session, v T, err error) (T, bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
	case err != nil:
		s.fail(w, r, err)
	default:
		return v, true
	}
	var zero T
	return zero, false
}

// byPathUUID finds, with find, what the UUID in the path value named key
// identifies ("/admin/lists/{list}"), as adminFound answers: a value that
// is not a UUID names nothing.
func byPathUUID[T any](s *Server, w http.ResponseWriter, r *http.Request, sess *store.Session, key string,
	find func(context.Context, uuid.UUID) (T, error)) (T, bool) {
	id, err := uuid.Parse(r.PathValue(key))
	if err != nil {
		var zero T
		return adminFound(s, w, r, sess, zero, store.ErrNotFound)
	}
	v, err := find(r.Context(), id)
	return adminFound(s, w, r, sess, v, err)
}

// filterQuery is a list page's filter as the query string its links carry
// after "?" (pager, export). A plain string there is escaped whole by
// html/template ("kind%3dreply"), so the next page would lose the filter;
// v.Encode has escaped every key and value, which makes it a safe URL.
func filterQuery(v url.Values) template.URL {
	return template.URL(v.Encode())
}

// redirectOK sends the browser to path with a flash message (Post/Redirect/Get).
func redirectOK(w http.ResponseWriter, r *http.Request, path, flash string) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"ok="+flash, http.StatusSeeOther)
}

// navEntry is one entry of the console's menu. Adding a page to the
// console is one line here and one route in routes.go.
type navEntry struct {
	Key   string // matched against page.Nav to mark the current page
	Path  string
	Label string // message key
	Icon  string // a character shown before the label
	Admin bool   // shown to admins only
	Sep   bool   // a separator before it
}

// nav is the console's menu, in order.
var nav = []navEntry{
	{Key: "dashboard", Path: "/admin/", Label: "nav.dashboard", Icon: "◧"},
	{Key: "editions", Path: "/admin/editions", Label: "nav.editions", Icon: "✎"},
	{Key: "campaigns", Path: "/admin/campaigns", Label: "nav.campaigns", Icon: "➤"},
	{Key: "lists", Path: "/admin/lists", Label: "nav.lists", Icon: "☰", Sep: true},
	{Key: "subscribers", Path: "/admin/subscribers", Label: "nav.subscribers", Icon: "☺"},
	{Key: "form", Path: "/admin/form", Label: "nav.form", Icon: "✉"},
	{Key: "reports", Path: "/admin/reports", Label: "nav.reports", Icon: "▤", Sep: true},
	{Key: "mailbox", Path: "/admin/mailbox", Label: "nav.mailbox", Icon: "⇄"},
	{Key: "users", Path: "/admin/users", Label: "nav.users", Icon: "☻", Admin: true, Sep: true},
	{Key: "settings", Path: "/admin/settings", Label: "nav.settings", Icon: "⚙", Admin: true},
}

// Menu returns the menu entries the user may see.
func (p *page) Menu() []navEntry {
	var out []navEntry
	for _, e := range nav {
		if !e.Admin || p.IsAdmin() {
			out = append(out, e)
		}
	}
	return out
}
