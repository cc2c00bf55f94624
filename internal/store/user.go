package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// Role is what an account of the admin console or the API may do.
type Role string

// The roles. An editor prepares and sends campaigns and manages lists and
// subscribers; only an admin changes settings, accounts and tokens, or
// erases a person.
const (
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleEditor }

// User is an account of the admin console.
type User struct {
	ID          int64
	UUID        uuid.UUID
	Email       string
	Name        string
	Role        Role
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time // zero: never
}

// Password limits. bcrypt reads at most 72 bytes; refusing longer passwords
// is better than silently ignoring their end.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// bcryptCost is bcrypt's work factor: about 60 ms per check on a small
// server, slow enough for an offline attack on a stolen database, quick
// enough that login stays pleasant.
const bcryptCost = bcrypt.DefaultCost

// ErrBadPassword is returned by Authenticate when the address or the
// password is wrong: it never says which.
var ErrBadPassword = errors.New("wrong address or password")

// PasswordError says why a new password is refused.
type PasswordError struct{ Reason string }

// Error returns "password " and the reason.
func (e *PasswordError) Error() string { return "password " + e.Reason }

// CheckPassword returns a *PasswordError when p is too short or too long
// to be a password.
func CheckPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return &PasswordError{fmt.Sprintf("is shorter than %d characters", MinPasswordLen)}
	case len(p) > MaxPasswordLen:
		return &PasswordError{fmt.Sprintf("is longer than %d bytes", MaxPasswordLen)}
	case strings.TrimSpace(p) == "":
		return &PasswordError{"is blank"}
	}
	return nil
}

func hashPassword(p string) (string, error) {
	if err := CheckPassword(p); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

const userColumns = "id, uuid, email, name, role, created_at, updated_at, last_login_at"

func scanUser(row scanner) (*User, error) {
	var u User
	var last sql.NullTime
	if err := row.Scan(&u.ID, &u.UUID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.UpdatedAt, &last); err != nil {
		return nil, err
	}
	u.LastLoginAt = last.Time
	return &u, nil
}

// CreateUser creates an account with this password (hashed with bcrypt). An
// address already taken is ErrDuplicate; a bad password a *PasswordError.
func (s *Storage) CreateUser(ctx context.Context, u *User, password string) error {
	if !u.Role.Valid() {
		return fmt.Errorf("store: create user: bad role %q", u.Role)
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	t := now()
	u.UUID, u.CreatedAt, u.UpdatedAt = uuid.New(), t, t
	err = s.w.QueryRowContext(ctx, `INSERT INTO users (uuid, email, name, role, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, u.UUID.String(), u.Email, u.Name, u.Role, hash, t, t).Scan(&u.ID)
	if isUnique(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return err
}

// Users returns every account, by address.
func (s *Storage) Users(ctx context.Context) ([]*User, error) {
	users, err := queryAll(ctx, s.r, scanUser, "SELECT "+userColumns+" FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return users, nil
}

func (s *Storage) user(ctx context.Context, where string, arg any) (*User, error) {
	return queryOne(ctx, s.r, "user", scanUser, "SELECT "+userColumns+" FROM users WHERE "+where, arg)
}

// UserByEmail returns the account with this address, whatever its case.
func (s *Storage) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.user(ctx, "email = ?", email)
}

// UserByUUID returns the account with this public identifier.
func (s *Storage) UserByUUID(ctx context.Context, id uuid.UUID) (*User, error) {
	return s.user(ctx, "uuid = ?", id.String())
}

// dummyHash is compared against when the address is unknown, so that a
// login for an unknown address takes as long as one with a wrong password
// and the timing does not tell which addresses have accounts.
const dummyHash = "$2a$10$Ucw8yf9VCSf99CEefY38kOdmbWnfbrgDnBwiSevWpP3egy3XX1Wcy"

// Authenticate returns the account when the password is right, and records
// the login. A wrong address or password is ErrBadPassword.
func (s *Storage) Authenticate(ctx context.Context, email, password string) (*User, error) {
	var id int64
	var hash string
	err := s.r.QueryRowContext(ctx, "SELECT id, password_hash FROM users WHERE email = ?", email).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return nil, ErrBadPassword
	}
	if err != nil {
		return nil, fmt.Errorf("store: authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, ErrBadPassword
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE users SET last_login_at = ? WHERE id = ?", now(), id); err != nil {
		return nil, fmt.Errorf("store: authenticate: %w", err)
	}
	return s.user(ctx, "id = ?", id)
}

// SetPassword changes an account's password and ends its sessions, so that
// a password changed because it leaked locks the intruder out.
func (s *Storage) SetPassword(ctx context.Context, userID int64, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, now(), userID)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if err := oneRow(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
}

// SetRole changes an account's role. Demoting the last admin is ErrLastAdmin.
func (s *Storage) SetRole(ctx context.Context, userID int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("store: set role: bad role %q", role)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if role != RoleAdmin {
			if err := keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, updated_at = ? WHERE id = ?", role, now(), userID)
		if err != nil {
			return fmt.Errorf("store: set role: %w", err)
		}
		return oneRow(res)
	})
}

// ErrLastAdmin is returned when a change would leave no admin account, and
// so nobody able to manage accounts from the console.
var ErrLastAdmin = errors.New("the last admin account cannot be removed or demoted")

func keepAnAdmin(ctx context.Context, tx *sql.Tx, leaving int64) error {
	var others int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND id != ?", leaving).Scan(&others)
	if err != nil {
		return err
	}
	var isAdmin int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND id = ?", leaving).Scan(&isAdmin); err != nil {
		return err
	}
	if isAdmin > 0 && others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// DeleteUser deletes an account and its sessions. Deleting the last admin
// is ErrLastAdmin; the command line can still do it with force, for a
// server being taken apart.
func (s *Storage) DeleteUser(ctx context.Context, userID int64, force bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if !force {
			if err := keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", userID)
		if err != nil {
			return fmt.Errorf("store: delete user: %w", err)
		}
		return oneRow(res)
	})
}
