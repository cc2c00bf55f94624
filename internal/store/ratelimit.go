package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// RateLimit is a token bucket per key, counted in the store (table
// rate_limits) so that every daemon on the database takes its tries from
// the same bucket. It behaves as golang.org/x/time/rate's limiter, which
// the web side used in memory: the bucket holds Burst tries, one comes back
// every Every, a try refused takes nothing.
//
// A bucket is kept as the moment it will be full again (GCRA): it holds
// Burst - (full_at - now)/Every tries, so a try may be taken while full_at
// is at most (Burst-1)·Every ahead, and moves full_at Every further from
// max(full_at, now).
type RateLimit struct {
	Name  string        // the limiter, as stored: "login_ip"
	Every time.Duration // a try comes back every Every
	Burst int           // the bucket holds this many tries, at least 1
}

// rateKey returns how key is stored: an HMAC-SHA-256 under a key derived
// from the server secret, hex. A plain hash of an IPv4 network would be
// undone by trying the 2^24 of them; keyed, a copy of the database tells
// nothing about who tried what.
func (s *Storage) rateKey(key string) string {
	m := hmac.New(sha256.New, s.erasure)
	m.Write([]byte("bulletin rate limit key v1"))
	m = hmac.New(sha256.New, m.Sum(nil))
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// TakeTry takes a try from key's bucket of l at now, and reports whether
// there was one. One statement, atomic on both stores: parallel tries,
// from any daemon, never take more than the bucket holds.
func (s *Storage) TakeTry(ctx context.Context, l RateLimit, key string, now time.Time) (bool, error) {
	at, every := now.UnixMicro(), l.Every.Microseconds()
	// A new bucket is full: the try is taken. Otherwise the upsert's WHERE
	// refuses the try, and nothing is written, when the bucket is empty.
	res, err := s.w.ExecContext(ctx, `INSERT INTO rate_limits (name, key_hash, full_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (name, key_hash) DO UPDATE
		SET full_at = CASE WHEN rate_limits.full_at > ?4 THEN rate_limits.full_at ELSE ?4 END + ?5
		WHERE rate_limits.full_at <= ?6`,
		l.Name, s.rateKey(key), at+every, at, every, at+int64(l.Burst-1)*every)
	if err != nil {
		return false, fmt.Errorf("store: rate limit %s: %w", l.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: rate limit %s: %w", l.Name, err)
	}
	return n == 1, nil
}

// TryWait returns how long key must wait at now for a try from its bucket
// of l, or 0 when it has one. It takes nothing.
func (s *Storage) TryWait(ctx context.Context, l RateLimit, key string, now time.Time) (time.Duration, error) {
	var fullAt int64
	err := s.r.QueryRowContext(ctx, "SELECT full_at FROM rate_limits WHERE name = ? AND key_hash = ?",
		l.Name, s.rateKey(key)).Scan(&fullAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: rate limit %s: %w", l.Name, err)
	}
	wait := time.Duration(fullAt-now.UnixMicro())*time.Microsecond - time.Duration(l.Burst-1)*l.Every
	return max(wait, 0), nil
}

// ForgetTries fills key's bucket of the limiter named name again (a
// successful login clears its failures).
func (s *Storage) ForgetTries(ctx context.Context, name, key string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM rate_limits WHERE name = ? AND key_hash = ?", name, s.rateKey(key)); err != nil {
		return fmt.Errorf("store: rate limit %s: %w", name, err)
	}
	return nil
}

// PurgeRateLimits deletes the buckets that are full again at now: a full
// bucket is the same as none. It returns how many went.
func (s *Storage) PurgeRateLimits(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM rate_limits WHERE full_at <= ?", now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("store: purge rate limits: %w", err)
	}
	return res.RowsAffected()
}
