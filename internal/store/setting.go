package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
	// Insert unless there is one, then read: two processes starting together agree.
	if _, err := s.w.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('secret', ?) ON CONFLICT DO NOTHING", hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	v, err := s.Setting(ctx, "secret")
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// Settings returns the settings whose key starts with prefix, keyed by
// the rest of their key: Settings(ctx, "console:") returns what staff
// changed in the console, by configuration key.
func (s *Storage) Settings(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	err := eachRow(ctx, s.r, "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?", []any{len(prefix), prefix},
		func(rows *sql.Rows) error {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			out[strings.TrimPrefix(k, prefix)] = v
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: settings %s: %w", prefix, err)
	}
	return out, nil
}

// ReplaceSettings makes values, keyed without prefix, the only settings
// whose key starts with prefix, in one transaction: a form saved whole
// replaces what it saved before, and a value taken back is removed.
func (s *Storage) ReplaceSettings(ctx context.Context, prefix string, values map[string]string) error {
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM settings WHERE substr(key, 1, ?) = ?", len(prefix), prefix); err != nil {
			return err
		}
		for k, v := range values {
			if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", prefix+k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: replace settings %s: %w", prefix, err)
	}
	return nil
}
