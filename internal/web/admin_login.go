package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"bulletin/internal/store"
)

// maxPublicForm bounds the body of a form posted without a login: login,
// subscribe, unsubscribe, preferences.
const maxPublicForm = 64 << 10

type loginData struct {
	Email, Next, Token, Error string
	// Wait is how many minutes a throttled attempt must wait; 0 when it
	// was not throttled.
	Wait int
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
	// Under the site's Referrer-Policy: no-referrer, browsers post forms
	// with "Origin: null", which the login refuses; same-origin makes them
	// send the real origin, and still no Referer to any other site.
	w.Header().Set("Referrer-Policy", "same-origin")
	d.Token = s.formToken(purposeLogin, nil)
	p := s.newPage(r, "login.title", d)
	if ok := r.URL.Query().Get("ok"); ok == "password_changed" {
		p.Flash = "flash." + ok
	}
	s.render(w, r, code, "admin/login", p)
}

// login checks the address and password and opens a session.
//
// Attempts are limited so that guessing a password takes years, without
// letting an attacker lock the owner out: a browser that has logged into
// the account before (device cookie) answers only for its own failures;
// any other browser for those of its network (loginNetwork) and of the
// account (see loginTry). A success clears the account's or the device's
// budget, never the network's, which would let an attacker with an
// account of their own go on guessing others.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	email := strings.TrimSpace(r.PostFormValue("email"))
	d := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	// Login CSRF: a signed form token and a same-origin request, so that
	// another site cannot log a browser into an account of its choosing.
	// "Origin: null" (a sandboxed frame, a data: page) is refused here,
	// unlike on console forms: the login page has browsers send its origin.
	if r.Header.Get("Origin") == "null" || !s.sameOrigin(r) || !s.checkFormToken(purposeLogin, r.PostFormValue("form"), nil, 0, formMaxAge) {
		d.Error = "login.expired"
		s.showLogin(w, r, http.StatusForbidden, d)
		return
	}
	now := s.now()
	account := strings.ToLower(email)
	network := loginNetwork(s.clientIP(r))
	device, err := s.knownDevice(r.Context(), r, email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wait, err := s.loginTry(r.Context(), device, network, account, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wait > 0 {
		s.log.Warn("web: login rate limited", "ip", s.clientIP(r), "known_device", device != "")
		tooMany(w, wait)
		d.Wait = waitMinutes(wait)
		s.showLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	user, err := s.store.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, store.ErrBadPassword) {
		d.Error = "login.wrong"
		s.showLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The try taken was not a failure: give it back, with the others.
	if device != "" {
		err = s.loginDevice.forget(r.Context(), device)
	} else {
		err = s.loginAccount.forget(r.Context(), account)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
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
	// Known for another year from now on, under the same id if it was.
	s.setDeviceCookie(w, user, device)
	s.log.Info("web: login", "user", user.UUID.String())
	// Logins are rare: a good moment to forget the sessions that expired.
	if _, err := s.store.PurgeSessions(r.Context()); err != nil {
		s.log.Warn("web: purge sessions", "err", err)
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// loginTry takes a try from the budgets a login attempt answers to, and
// returns how long to wait when one of them has none left: a known device
// answers to its own; any other browser to its network's and the
// account's. The try is taken before the password is checked, so that
// parallel attempts cannot all slip in while the first ones are checked.
// When the budgets cannot be counted (the store is down), the attempt is
// refused with the error.
func (s *Server) loginTry(ctx context.Context, device, network, account string, now time.Time) (time.Duration, error) {
	if device != "" {
		return s.loginDevice.take(ctx, device, now)
	}
	// Look before taking, so that a refused attempt costs the other
	// budget nothing.
	ipWait, err := s.loginIP.retryAfter(ctx, network, now)
	if err != nil {
		return 0, err
	}
	accountWait, err := s.loginAccount.retryAfter(ctx, account, now)
	if err != nil {
		return 0, err
	}
	if wait := max(ipWait, accountWait); wait > 0 {
		return wait, nil
	}
	// A parallel attempt may have taken the last try since the look.
	if wait, err := s.loginIP.take(ctx, network, now); wait > 0 || err != nil {
		return wait, err
	}
	return s.loginAccount.take(ctx, account, now)
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
