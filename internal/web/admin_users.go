package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

type usersData struct {
	Users  []*store.User
	Tokens []*store.APIToken
	Form   userForm
	Error  string
	// NewToken is a token just created: shown once, never again.
	NewToken string
}

type userForm struct {
	Email, Name string
	Role        store.Role
}

// usersPage lists the accounts and API tokens (admins only).
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.showUsers(w, r, sess, http.StatusOK, usersData{Form: userForm{Role: store.RoleEditor}})
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d usersData) {
	var err error
	if d.Users, err = s.store.Users(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Tokens, err = s.store.APITokens(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, code, "admin/users", s.adminPage(r, sess, "users", "users.title", d))
}

// createUser adds an account with the password the admin chose; the new
// user changes it on their account page.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f := userForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: clip(r.PostFormValue("name"), 100), Role: store.Role(r.PostFormValue("role"))}
	d := usersData{Form: f}
	email, err := address.Normalize(f.Email)
	switch {
	case err != nil:
		d.Error = "users.error.bad_email"
	case !f.Role.Valid():
		d.Error = "users.error.bad_role"
	default:
		err = s.store.CreateUser(r.Context(), &store.User{Email: email, Name: f.Name, Role: f.Role}, r.PostFormValue("password"))
		var pe *store.PasswordError
		switch {
		case errors.As(err, &pe):
			d.Error = "users.error.password"
		case errors.Is(err, store.ErrDuplicate):
			d.Error = "users.error.duplicate"
		case err != nil:
			s.fail(w, r, err)
			return
		}
	}
	if d.Error != "" {
		s.showUsers(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	s.log.Info("web: user created", "by", sess.User.UUID.String(), "role", string(f.Role))
	redirectOK(w, r, "/admin/users", "user_created")
}

// userOf returns the account named by the {user} UUID of the path.
func (s *Server) userOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.User, bool) {
	return byPathUUID(s, w, r, sess, "user", s.store.UserByUUID)
}

// setUserRole changes an account's role; the last admin stays admin.
func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	u, ok := s.userOf(w, r, sess)
	if !ok {
		return
	}
	role := store.Role(r.PostFormValue("role"))
	if !role.Valid() {
		s.showUsers(w, r, sess, http.StatusUnprocessableEntity, usersData{Error: "users.error.bad_role"})
		return
	}
	err := s.store.SetRole(r.Context(), u.ID, role)
	if errors.Is(err, store.ErrLastAdmin) {
		s.showUsers(w, r, sess, http.StatusConflict, usersData{Error: "users.error.last_admin"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/users", "user_saved")
}

// deleteUser deletes an account and its sessions; the last admin stays.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	u, ok := s.userOf(w, r, sess)
	if !ok {
		return
	}
	err := s.store.DeleteUser(r.Context(), u.ID, false)
	if errors.Is(err, store.ErrLastAdmin) {
		s.showUsers(w, r, sess, http.StatusConflict, usersData{Error: "users.error.last_admin"})
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.log.Info("web: user deleted", "by", sess.User.UUID.String(), "user", u.UUID.String())
	redirectOK(w, r, "/admin/users", "user_deleted")
}

// createToken creates an API token and shows its secret, once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	name := clip(r.PostFormValue("name"), 100)
	role := store.Role(r.PostFormValue("role"))
	d := usersData{Form: userForm{Role: store.RoleEditor}}
	if name == "" || !role.Valid() {
		d.Error = "tokens.error.bad"
		s.showUsers(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	secret, _, err := s.store.CreateAPIToken(r.Context(), name, role)
	if errors.Is(err, store.ErrDuplicate) {
		d.Error = "tokens.error.duplicate"
		s.showUsers(w, r, sess, http.StatusConflict, d)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.NewToken = secret
	s.showUsers(w, r, sess, http.StatusOK, d)
}

// revokeToken revokes an API token.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	id, err := uuid.Parse(r.PathValue("token"))
	if err != nil {
		s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
		return
	}
	if err := s.store.RevokeAPIToken(r.Context(), id.String()); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/users", "token_revoked")
}
