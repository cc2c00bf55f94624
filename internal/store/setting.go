package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// Setting returns the value of a setting, or ErrNotFound.
func (s *Storage) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting sets a setting.
func (s *Storage) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// Secret returns the key that signs tokens, generating and keeping one on
// first use, so that a fresh install needs no set-up and links stay valid
// across restarts.
func (s *Storage) Secret(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	// INSERT OR IGNORE then SELECT: two processes starting together agree.
	if _, err := s.w.ExecContext(ctx, "INSERT OR IGNORE INTO settings (key, value) VALUES ('secret', ?)", hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	v, err := s.Setting(ctx, "secret")
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}
