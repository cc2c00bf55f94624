package web

import (
	"errors"
	"net/http"

	"bulletin/internal/store"
)

type accountData struct {
	Error string
	Wait  int // minutes a throttled change must wait, or 0
}

// accountPage shows the logged-in user's account, to change the password.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.render(w, r, http.StatusOK, "admin/account", s.adminPage(r, sess, "account", "account.title", accountData{}))
}

// changePassword changes the user's own password, given the current one.
// All their sessions end, this one included, and so do the device cookies
// of every other browser: they log in again. Wrong current passwords are
// limited per account, so that a borrowed session cannot be used to guess
// the password faster than the login allows.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	show := func(code int, d accountData) {
		s.render(w, r, code, "admin/account", s.adminPage(r, sess, "account", "account.title", d))
	}
	now := s.now()
	key := sess.User.UUID.String()
	// A try is taken before the check, so that parallel posts cannot all
	// slip in while the first ones are checked.
	wait, err := s.passwordTry.take(r.Context(), key, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wait > 0 {
		tooMany(w, wait)
		show(http.StatusTooManyRequests, accountData{Wait: waitMinutes(wait)})
		return
	}
	if _, err := s.store.Authenticate(r.Context(), sess.User.Email, r.PostFormValue("current")); err != nil {
		if errors.Is(err, store.ErrBadPassword) {
			show(http.StatusUnprocessableEntity, accountData{Error: "account.error.current"})
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.passwordTry.forget(r.Context(), key); err != nil {
		s.fail(w, r, err)
		return
	}
	next := r.PostFormValue("new")
	if next != r.PostFormValue("repeat") {
		show(http.StatusUnprocessableEntity, accountData{Error: "account.error.repeat"})
		return
	}
	err = s.store.SetPassword(r.Context(), sess.User.ID, next)
	var pe *store.PasswordError
	if errors.As(err, &pe) {
		show(http.StatusUnprocessableEntity, accountData{Error: "users.error.password"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The new password changed the account's stamp, revoking every device
	// cookie: this browser, which just proved the password, is known again.
	user, err := s.store.UserByUUID(r.Context(), sess.User.UUID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setDeviceCookie(w, user, "")
	s.setSessionCookie(w, "", s.now())
	http.Redirect(w, r, "/admin/login?ok=password_changed", http.StatusSeeOther)
}
