package web

import (
	"errors"
	"net/http"

	"bulletin/internal/store"
)

type accountData struct {
	Error string
}

// accountPage shows the logged-in user's account, to change the password.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.render(w, r, http.StatusOK, "admin/account", s.adminPage(r, sess, "account", "account.title", accountData{}))
}

// changePassword changes the user's own password, given the current one.
// All their sessions end, this one included: they log in again.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	show := func(code int, key string) {
		s.render(w, r, code, "admin/account", s.adminPage(r, sess, "account", "account.title", accountData{Error: key}))
	}
	if _, err := s.store.Authenticate(r.Context(), sess.User.Email, r.PostFormValue("current")); err != nil {
		if errors.Is(err, store.ErrBadPassword) {
			show(http.StatusUnprocessableEntity, "account.error.current")
			return
		}
		s.fail(w, r, err)
		return
	}
	next := r.PostFormValue("new")
	if next != r.PostFormValue("repeat") {
		show(http.StatusUnprocessableEntity, "account.error.repeat")
		return
	}
	err := s.store.SetPassword(r.Context(), sess.User.ID, next)
	var pe *store.PasswordError
	if errors.As(err, &pe) {
		show(http.StatusUnprocessableEntity, "users.error.password")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, "", s.now())
	http.Redirect(w, r, "/admin/login?ok=password_changed", http.StatusSeeOther)
}
