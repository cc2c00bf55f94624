package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"bulletin/internal/store"
)

// adminHandler is a handler of the console, called with the logged-in
// session.
type adminHandler func(w http.ResponseWriter, r *http.Request, sess *store.Session)

// maxAdminBody bounds what a console form may post; CSV uploads are the
// largest (a few thousand subscribers are well under a megabyte).
const maxAdminBody = 32 << 20

// cookieName is the session cookie's name: with the __Host- prefix over
// https, which makes browsers refuse it unless it is Secure, host-only and
// for the whole site, so that a sibling sub-domain cannot plant one.
func (s *Server) cookieName() string {
	if s.https {
		return "__Host-bulletin_session"
	}
	return "bulletin_session"
}

func (s *Server) setSessionCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := &http.Cookie{
		Name:     s.cookieName(),
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.https,
		// Lax: the cookie comes along when an admin follows a link to the
		// console from a mail, but not on another site's POST.
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

// session returns the request's live session, or nil.
func (s *Server) session(r *http.Request) (*store.Session, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.store.Session(r.Context(), c.Value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// admin wraps a console handler: it requires a session (else the login
// page, coming back here after), the role when one is given, and on every
// method but GET and HEAD the session's CSRF token and a same-origin
// request (else 403, and nothing is changed).
func (s *Server) admin(role store.Role, h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		sess, err := s.session(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if sess == nil {
			next := "/admin/"
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(safeNext(next)), http.StatusSeeOther)
			return
		}
		if role == store.RoleAdmin && sess.User.Role != store.RoleAdmin {
			s.adminError(w, r, sess, http.StatusForbidden, "error.forbidden")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
			if !s.sameOrigin(r) || !validCSRF(r, sess.CSRF) {
				s.adminError(w, r, sess, http.StatusForbidden, "error.csrf")
				return
			}
		}
		if s.now().Sub(sess.LastSeen) > 5*time.Minute {
			if err := s.store.TouchSession(r.Context(), sess); err != nil {
				s.log.Warn("web: touch session", "err", err)
			}
		}
		h(w, r, sess)
	})
}

// validCSRF reports whether the form (or the X-CSRF-Token header, for the
// console's own scripts) carries the session's token. PostFormValue parses
// multipart forms too (CSV uploads), keeping large files on disk.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
