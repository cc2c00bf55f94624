package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/i18n"
	"bulletin/internal/report"
	"bulletin/internal/store"
)

//go:embed templates static
var assets embed.FS

// views are the parsed page templates: each page is its layout plus its own
// file, so that every page defines "content" without clashing.
type views struct {
	pages map[string]*template.Template // "public/unsubscribe", "admin/lists"
	mails map[string]mailViews          // the subscribe form's mails: "confirm", "already"
}

// mailViews are one mail of the subscribe form: its words (KIND.tmpl) in the
// shared layout, the HTML part and the text part, the latter through
// text/template so that it is not HTML-escaped.
type mailViews struct {
	html *template.Template
	text *texttemplate.Template
}

// funcs are the template helpers that do not depend on the request; what
// does (the language) is reached through the page's methods.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	// active counts a list's active members (templates cannot index a
	// map by a typed key).
	"active": func(l *store.List) int { return l.Counts[store.Active] },
	"sub":    func(a, b int) int { return a - b },
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

func loadViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}}
	for _, dir := range []string{"public", "admin"} {
		files, err := fs.Glob(assets, "templates/"+dir+"/*.html")
		if err != nil {
			return nil, err
		}
		shared := []string{"templates/" + dir + "/layout.html"}
		// Partials are templates several pages share (a form's fields).
		partials, err := fs.Glob(assets, "templates/"+dir+"/partials/*.html")
		if err != nil {
			return nil, err
		}
		shared = append(shared, partials...)
		for _, f := range files {
			name := path.Base(f)
			if name == "layout.html" {
				continue
			}
			t, err := template.New(name).Funcs(funcs).ParseFS(assets, append(slices.Clone(shared), f)...)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", f, err)
			}
			v.pages[dir+"/"+strings.TrimSuffix(name, ".html")] = t
		}
	}
	v.mails = map[string]mailViews{}
	words, err := fs.Glob(assets, "templates/mail/*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, f := range words {
		html, err := template.New("layout").Funcs(funcs).ParseFS(assets, "templates/mail/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("web: mail template %s: %w", f, err)
		}
		text, err := texttemplate.New("layout").ParseFS(assets, "templates/mail/layout.txt", f)
		if err != nil {
			return nil, fmt.Errorf("web: mail template %s: %w", f, err)
		}
		v.mails[strings.TrimSuffix(path.Base(f), ".tmpl")] = mailViews{html: html, text: text}
	}
	return v, nil
}

// page is what every template gets: the request's language, the
// organisation, the logged-in user if any, and the page's own Data.
type page struct {
	*i18n.Printer
	Title string
	Org   config.Organisation
	// Base is the public base URL, for absolute links in snippets.
	Base string
	// Embed marks the subscribe form shown inside another site's frame:
	// no header, no footer.
	Embed bool

	// Admin console only.
	User  *store.User
	CSRF  string
	Nav   string // the nav entry to highlight
	Flash string // a message key from the query (?ok=…), already checked
	Path  string // the request's path and query, for the login's next
	// Outbox is the folder messages are written to when no relay is
	// configured (smtp.host empty): every console page says that nothing
	// is sent. "" when a relay sends.
	Outbox string
	Data   any

	loc *time.Location
}

// IsAdmin reports whether the logged-in user may see settings and accounts.
func (p *page) IsAdmin() bool { return p.User != nil && p.User.Role == store.RoleAdmin }

// When writes a time in the schedule's time zone, with the day.
func (p *page) When(t time.Time) string { return p.DateTime(t.In(p.loc)) }

// Source writes where a subscriber's change came from ("import FILE",
// "one-click", "bounce"…) in the reader's language; a source the catalogue
// does not know shows as it is.
func (p *page) Source(src string) string {
	if file, ok := strings.CutPrefix(src, "import "); ok {
		return p.T("history.source.import", file)
	}
	if key := "history.source." + src; p.T(key) != key {
		return p.T(key)
	}
	return src
}

// BounceReason writes the reason the classifier gave a mailbox message
// ("user_unknown") in the reader's language, as the reports do.
func (p *page) BounceReason(code string) string { return report.ReasonLabel(p.Printer, code) }

// Day writes a date in the schedule's time zone.
func (p *page) Day(t time.Time) string { return p.Date(t.In(p.loc)) }

// newPage returns the page data for r, in the reader's language.
func (s *Server) newPage(r *http.Request, title string, data any) *page {
	pr := i18n.New(i18n.Negotiate(r.Header.Get("Accept-Language"), s.conf().Organisation.Language))
	p := &page{Printer: pr, Org: s.conf().Organisation, Base: s.links.PublicURL, Data: data, loc: s.loc, Path: r.URL.RequestURI()}
	p.Title = pr.T(title)
	return p
}

// render writes the page named name ("public/unsubscribe") with status code.
// It renders into a buffer first, so that a template error becomes a clean
// 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	t, ok := s.views.pages[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("web: no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.fail(w, r, fmt.Errorf("web: template %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang())
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// fail logs an unexpected error and answers 500 without its details, which
// may name files or SQL.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "method", r.Method, "path", redactPath(r.URL.Path), "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// redactPath hides the token of a public link in logs: whoever reads the
// log must not be able to unsubscribe the reader.
func redactPath(p string) string {
	for _, prefix := range []string{"/u/", "/confirm/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			tok, tail, _ := strings.Cut(rest, "/")
			if len(tok) > 8 {
				tok = tok[:8] + "…"
			}
			if tail != "" {
				tail = "/" + tail
			}
			return prefix + tok + tail
		}
	}
	return p
}

// publicError shows a public page saying what went wrong, in words a
// reader understands (key is a message key).
func (s *Server) publicError(w http.ResponseWriter, r *http.Request, code int, key string) {
	noStore(w)
	p := s.newPage(r, "error.title", map[string]string{"Message": key})
	s.render(w, r, code, "public/error", p)
}
