package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	admin := &User{Email: "Chloe@Example.org", Name: "Chloé", Role: RoleAdmin}
	if err := s.CreateUser(ctx, admin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &User{Email: "chloe@example.org", Role: RoleEditor}, "another password"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same address in another case: err = %v, want ErrDuplicate", err)
	}
	var pe *PasswordError
	if err := s.CreateUser(ctx, &User{Email: "x@example.org", Role: RoleEditor}, "short"); !errors.As(err, &pe) {
		t.Errorf("short password: err = %v, want *PasswordError", err)
	}
	if err := s.CreateUser(ctx, &User{Email: "x@example.org", Role: RoleEditor}, strings.Repeat("é", 40)); !errors.As(err, &pe) {
		t.Errorf("80-byte password: err = %v, want *PasswordError", err)
	}
	if err := s.CreateUser(ctx, &User{Email: "x@example.org", Role: "root"}, "long enough password"); err == nil {
		t.Error("role root accepted")
	}

	u, err := s.Authenticate(ctx, "chloe@example.org", "correct horse battery")
	if err != nil || u.ID != admin.ID || u.LastLoginAt.IsZero() {
		t.Fatalf("Authenticate = %+v, %v; want user %d with a login time", u, err, admin.ID)
	}
	for _, c := range []struct{ email, pw string }{
		{"chloe@example.org", "wrong horse battery"},
		{"nobody@example.org", "correct horse battery"},
		{"chloe@example.org' OR '1'='1", "x"},
	} {
		if _, err := s.Authenticate(ctx, c.email, c.pw); !errors.Is(err, ErrBadPassword) {
			t.Errorf("Authenticate(%q, %q) err = %v, want ErrBadPassword", c.email, c.pw, err)
		}
	}

	// The last admin can be neither demoted nor deleted.
	if err := s.SetRole(ctx, admin.ID, RoleEditor); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the last admin: err = %v", err)
	}
	if err := s.DeleteUser(ctx, admin.ID, false); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("deleting the last admin: err = %v", err)
	}
	ed := &User{Email: "ed@example.org", Role: RoleEditor}
	if err := s.CreateUser(ctx, ed, "editor password"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, ed.ID, RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, admin.ID, RoleEditor); err != nil {
		t.Errorf("demoting one of two admins: %v", err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Email != "Chloe@Example.org" || users[0].Role != RoleEditor {
		t.Errorf("Users = %v, %v", users, err)
	}

	// A new password ends the sessions.
	id, _, err := s.CreateSession(ctx, admin, "192.0.2.1", "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, admin.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after a password change: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Authenticate(ctx, "chloe@example.org", "a brand new password"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	if err := s.DeleteUser(ctx, admin.ID, false); err != nil {
		t.Errorf("deleting an editor: %v", err)
	}
	if _, err := s.UserByUUID(ctx, admin.UUID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted user: err = %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u := &User{Email: "a@example.org", Role: RoleEditor}
	if err := s.CreateUser(ctx, u, "long enough password"); err != nil {
		t.Fatal(err)
	}
	id, sess, err := s.CreateSession(ctx, u, "192.0.2.1", strings.Repeat("UA", 400), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) < 40 || sess.CSRF == "" || sess.CSRF == id {
		t.Fatalf("session id %q csrf %q: want two different long random values", id, sess.CSRF)
	}
	var stored int
	s.r.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE id_hash = ? OR csrf = ?", id, id).Scan(&stored)
	if stored != 0 {
		t.Error("the session id is stored in clear")
	}
	got, err := s.Session(ctx, id)
	if err != nil || got.User.ID != u.ID || got.CSRF != sess.CSRF || got.User.Role != RoleEditor {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if err := s.TouchSession(ctx, got); err != nil {
		t.Error(err)
	}
	if _, err := s.Session(ctx, id+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("altered id: err = %v", err)
	}
	expired, _, err := s.CreateSession(ctx, u, "", "", -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, expired); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: err = %v", err)
	}
	if n, err := s.PurgeSessions(ctx); n != 1 || err != nil {
		t.Errorf("PurgeSessions = %d, %v; want 1", n, err)
	}
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("after logout: err = %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	secret, tok, err := s.CreateAPIToken(ctx, "site web", RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, APITokenPrefix) || !strings.HasPrefix(secret, tok.Prefix) || len(secret) < 50 {
		t.Errorf("secret %q, prefix %q", secret, tok.Prefix)
	}
	if _, _, err := s.CreateAPIToken(ctx, "Site Web", RoleAdmin); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate name: err = %v", err)
	}
	got, err := s.APITokenBySecret(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Role != RoleEditor || got.LastUsedAt.IsZero() {
		t.Fatalf("APITokenBySecret = %+v, %v", got, err)
	}
	for _, bad := range []string{"", secret + "x", secret[:len(secret)-1], "Bearer " + secret, "bulletin_' OR 1=1 --"} {
		if _, err := s.APITokenBySecret(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("APITokenBySecret(%q) err = %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.RevokeAPIToken(ctx, "site web"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APITokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token: err = %v", err)
	}
	if err := s.RevokeAPIToken(ctx, tok.UUID.String()); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking twice: err = %v", err)
	}
	all, err := s.APITokens(ctx)
	if err != nil || len(all) != 1 || all[0].RevokedAt.IsZero() {
		t.Errorf("APITokens = %+v, %v", all, err)
	}
}
