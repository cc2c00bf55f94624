package web

import (
	"errors"
	"net/http"
	"strings"

	"bulletin/internal/store"
)

// maxPublicForm bounds the body of a form posted without a login: login,
// subscribe, unsubscribe, preferences.
const maxPublicForm = 64 << 10

type loginData struct {
	Email, Next, Token, Error string
}

// loginPage shows the login form.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	next := safeNext(r.URL.Query().Get("next"))
	if sess, err := s.session(r); err == nil && sess != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, loginData{Next: next})
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, code int, d loginData) {
	d.Token = s.formToken(purposeLogin, nil)
	p := s.newPage(r, "login.title", d)
	if ok := r.URL.Query().Get("ok"); ok == "password_changed" {
		p.Flash = "flash." + ok
	}
	s.render(w, r, code, "admin/login", p)
}

// login checks the address and password and opens a session. Attempts are
// limited per client IP, and failures per account, so that guessing a
// password takes years; a success clears the account's failures.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	email := strings.TrimSpace(r.PostFormValue("email"))
	d := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	// Login CSRF: a signed form token and a same-origin request, so that
	// another site cannot log a browser into an account of its choosing.
	if !s.sameOrigin(r) || !s.checkFormToken(purposeLogin, r.PostFormValue("form"), nil, 0, formMaxAge) {
		d.Error = "login.expired"
		s.showLogin(w, r, http.StatusForbidden, d)
		return
	}
	now := s.now()
	account := strings.ToLower(email)
	if !s.loginIP.allow(s.clientIP(r), now) || s.loginAccount.blocked(account, now) {
		s.log.Warn("web: login rate limited", "ip", s.clientIP(r))
		d.Error = "login.too_many"
		s.showLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	user, err := s.store.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, store.ErrBadPassword) {
		s.loginAccount.allow(account, now)
		d.Error = "login.wrong"
		s.showLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.loginAccount.forget(account)
	// A new session every time: a session id planted before login is
	// worthless (no fixation).
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.store.DeleteSession(r.Context(), c.Value)
	}
	id, sess, err := s.store.CreateSession(r.Context(), user, s.clientIP(r), r.UserAgent(), s.cfg.Server.SessionTTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, id, sess.ExpiresAt)
	s.log.Info("web: login", "user", user.UUID.String())
	// Logins are rare: a good moment to forget the sessions that expired.
	if _, err := s.store.PurgeSessions(r.Context()); err != nil {
		s.log.Warn("web: purge sessions", "err", err)
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setSessionCookie(w, "", s.now())
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
