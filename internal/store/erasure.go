package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"bulletin/internal/address"
)

// erasureKey is the key of the hashes that erased addresses leave behind
// (table suppressions). A keyed hash, unlike a plain SHA-256, cannot be
// tested against a list of known addresses by whoever holds a copy of the
// database but not the server secret.
type erasureKey []byte

// newErasureKey derives the key from the server secret, apart from the key
// that signs tokens: one purpose, one key.
func newErasureKey(secret []byte) erasureKey {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bulletin erasure hash v1"))
	return m.Sum(nil)
}

// hash is what an erased address leaves behind: HMAC(key, SHA-256(address
// key)), hex. The inner SHA-256 is what the store kept before keyed hashes,
// so that old records are re-keyed without knowing their addresses.
func (k erasureKey) hash(email string) string {
	inner := sha256.Sum256([]byte(address.Key(email)))
	return k.rekey(inner[:])
}

// rekey is hash from the inner digest.
func (k erasureKey) rekey(inner []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write(inner)
	return hex.EncodeToString(m.Sum(nil))
}

// check is what the store keeps to know which key its hashes were made
// with: a MAC of a fixed text, from which the key cannot be found.
func (k erasureKey) check() string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("erasure key check"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// ErrErasureKey is returned by Open when the erasure records were hashed
// with another secret than the one given: the erased addresses would no
// longer be recognised, and could be mailed again (invariant 1).
var ErrErasureKey = errors.New("erased addresses were hashed with another server secret: " +
	"set server.secret back to the one in use when they were erased")

// keyErasures sets the key of erasure hashes from secret (or the secret the
// store generated), checks that the records on file were made with it, and
// re-keys once those kept as a plain SHA-256 before keyed hashes (migration
// 0007 marks them keyed = 0).
func (s *Storage) keyErasures(ctx context.Context, secret []byte) error {
	if len(secret) == 0 {
		var err error
		if secret, err = s.Secret(ctx); err != nil {
			return err
		}
	}
	s.erasure = newErasureKey(secret)
	check := s.erasure.check()
	var onFile string
	var legacy, keyed int
	err := s.r.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM settings WHERE key = 'erasure_key_check'), ''),
		(SELECT count(*) FROM suppressions WHERE keyed = 0), (SELECT count(*) FROM suppressions WHERE keyed = 1)`).Scan(&onFile, &legacy, &keyed)
	if err != nil {
		return fmt.Errorf("store: erasure records: %w", err)
	}
	if onFile != "" && onFile != check && keyed > 0 {
		return fmt.Errorf("store: %w", ErrErasureKey)
	}
	if onFile == check && legacy == 0 {
		return nil
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('erasure_key_check', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, check); err != nil {
			return err
		}
		var old []string
		err := eachRow(ctx, tx, "SELECT email_hash FROM suppressions WHERE keyed = 0", nil, func(rows *sql.Rows) error {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			old = append(old, h)
			return nil
		})
		if err != nil {
			return err
		}
		for _, h := range old {
			inner, err := hex.DecodeString(h)
			if err != nil || len(inner) != sha256.Size {
				return fmt.Errorf("suppression %q is not a SHA-256", h)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE suppressions SET email_hash = ?, keyed = 1 WHERE email_hash = ?",
				s.erasure.rekey(inner), h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: re-keying erasure records: %w", err)
	}
	return nil
}
