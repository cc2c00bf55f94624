package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session is a login to the admin console.
type Session struct {
	User      *User
	CSRF      string // the token every form of this session carries
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	idHash    string
}

// secretHash is how sessions and API tokens are kept: the SHA-256 of the
// random value the client holds. A plain hash is enough (unlike passwords)
// because the value has 256 bits of entropy: nothing to guess.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// newSecret returns n random bytes, base64url-encoded without padding.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession opens a session for a user that lasts ttl, and returns the
// value for the cookie; only its hash is stored.
func (s *Storage) CreateSession(ctx context.Context, user *User, ip, userAgent string, ttl time.Duration) (string, *Session, error) {
	id := newSecret(32)
	t := now()
	sess := &Session{User: user, CSRF: newSecret(32), CreatedAt: t, LastSeen: t, ExpiresAt: t.Add(ttl), idHash: secretHash(id)}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sess.idHash, user.ID, sess.CSRF, ip, userAgent, t, t, sess.ExpiresAt)
	if err != nil {
		return "", nil, fmt.Errorf("store: create session: %w", err)
	}
	return id, sess, nil
}

// Session returns the live session whose cookie value is id, with its user.
// An unknown or expired session is ErrNotFound.
func (s *Storage) Session(ctx context.Context, id string) (*Session, error) {
	var (
		sess Session
		last sql.NullTime
		u    User
	)
	sess.idHash = secretHash(id)
	err := s.r.QueryRowContext(ctx, `SELECT s.csrf, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.uuid, u.email, u.name, u.role, u.created_at, u.updated_at, u.last_login_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?`, sess.idHash, now()).
		Scan(&sess.CSRF, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt,
			&u.ID, &u.UUID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.UpdatedAt, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	u.LastLoginAt = last.Time
	sess.User = &u
	return &sess, nil
}

// TouchSession records that a session was used now. Callers do it at most
// once a minute or so: it is a write, and reading pages should not queue
// behind a sending campaign's writes for nothing.
func (s *Storage) TouchSession(ctx context.Context, sess *Session) error {
	t := now()
	if _, err := s.w.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", t, sess.idHash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	sess.LastSeen = t
	return nil
}

// DeleteSession ends a session (logout). An unknown one is not an error.
func (s *Storage) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", secretHash(id)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// PurgeSessions deletes expired sessions and returns how many.
func (s *Storage) PurgeSessions(ctx context.Context) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", now())
	if err != nil {
		return 0, fmt.Errorf("store: purge sessions: %w", err)
	}
	return res.RowsAffected()
}
