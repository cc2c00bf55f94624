package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// APITokenPrefix starts every bearer token, so that one pasted in the wrong
// place (a log, a repository) is easy to recognise and search for.
const APITokenPrefix = "bulletin_"

// APIToken is a bearer token of the JSON API. The secret itself is only
// known when it is created.
type APIToken struct {
	ID         int64
	UUID       uuid.UUID
	Name       string
	Role       Role
	Prefix     string // the first characters of the secret
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
	RevokedAt  time.Time // zero: live
}

const apiTokenColumns = "id, uuid, name, role, prefix, created_at, last_used_at, revoked_at"

func scanAPIToken(row scanner) (*APIToken, error) {
	var t APIToken
	var used, revoked sql.NullTime
	if err := row.Scan(&t.ID, &t.UUID, &t.Name, &t.Role, &t.Prefix, &t.CreatedAt, &used, &revoked); err != nil {
		return nil, err
	}
	t.LastUsedAt, t.RevokedAt = used.Time, revoked.Time
	return &t, nil
}

// CreateAPIToken creates a token and returns its secret, which is not kept:
// only its hash is. A name already taken is ErrDuplicate.
func (s *Storage) CreateAPIToken(ctx context.Context, name string, role Role) (string, *APIToken, error) {
	if !role.Valid() {
		return "", nil, fmt.Errorf("store: create token: bad role %q", role)
	}
	if strings.TrimSpace(name) == "" {
		return "", nil, errors.New("store: create token: empty name")
	}
	secret := APITokenPrefix + newSecret(32)
	t := &APIToken{UUID: uuid.New(), Name: name, Role: role, Prefix: secret[:len(APITokenPrefix)+6], CreatedAt: now()}
	err := s.w.QueryRowContext(ctx, `INSERT INTO api_tokens (uuid, name, role, token_hash, prefix, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, t.UUID.String(), t.Name, t.Role, secretHash(secret), t.Prefix, t.CreatedAt).Scan(&t.ID)
	if isUnique(err) {
		return "", nil, ErrDuplicate
	}
	if err != nil {
		return "", nil, fmt.Errorf("store: create token: %w", err)
	}
	return secret, t, nil
}

// APITokens returns every token, revoked ones included, by name.
func (s *Storage) APITokens(ctx context.Context) ([]*APIToken, error) {
	toks, err := queryAll(ctx, s.r, scanAPIToken, "SELECT "+apiTokenColumns+" FROM api_tokens ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return toks, nil
}

// APITokenBySecret returns the live token whose secret this is, and records
// its use (at most once a minute, to spare the writer). An unknown or
// revoked token is ErrNotFound.
func (s *Storage) APITokenBySecret(ctx context.Context, secret string) (*APIToken, error) {
	if !strings.HasPrefix(secret, APITokenPrefix) {
		return nil, ErrNotFound
	}
	t, err := queryOne(ctx, s.r, "token", scanAPIToken, "SELECT "+apiTokenColumns+
		" FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", secretHash(secret))
	if err != nil {
		return nil, err
	}
	at := now()
	if at.Sub(t.LastUsedAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", at, t.ID); err != nil {
			return nil, fmt.Errorf("store: token: %w", err)
		}
		t.LastUsedAt = at
	}
	return t, nil
}

// RevokeAPIToken revokes the token with this name or UUID. An unknown or
// already revoked token is ErrNotFound.
func (s *Storage) RevokeAPIToken(ctx context.Context, nameOrUUID string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE (name = ? OR uuid = ?) AND revoked_at IS NULL",
		now(), nameOrUUID, strings.ToLower(nameOrUUID))
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	return oneRow(res)
}
