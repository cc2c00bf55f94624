package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"bulletin/internal/i18n"
)

// Errors of a confirmation token that is known but cannot be used.
var (
	ErrConfirmationUsed    = errors.New("confirmation already used")
	ErrConfirmationExpired = errors.New("confirmation expired")
)

// Confirmation is one double opt-in link: a subscriber, the lists they asked
// for, and how long the link works. Only the hash of its token is stored.
type Confirmation struct {
	SubscriberID int64
	Lists        []int64 // joined on confirming
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       time.Time // zero until used
}

// confirmationHash is what is stored of a confirmation token.
func confirmationHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// CreateConfirmation makes a confirmation link's token for a subscriber and
// the lists they asked for, valid from at until expires, and returns it: 64
// lower-case hex characters from 32 random bytes. The token is not stored,
// only its hash, so it must be mailed now or never.
func (s *Storage) CreateConfirmation(ctx context.Context, subscriberID int64, lists []int64, at, expires time.Time) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: confirmation token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	ids, err := json.Marshal(nonNilIDs(lists))
	if err != nil {
		return "", err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO confirmations (token_hash, subscriber_id, lists, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, confirmationHash(tok), subscriberID, string(ids), at.UTC(), expires.UTC())
	if err != nil {
		return "", fmt.Errorf("store: create confirmation: %w", err)
	}
	return tok, nil
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

const confirmationColumns = "subscriber_id, lists, created_at, expires_at, used_at"

func scanConfirmation(row scanner) (*Confirmation, error) {
	var (
		c     Confirmation
		lists string
		used  sql.NullTime
	)
	if err := row.Scan(&c.SubscriberID, &lists, &c.CreatedAt, &c.ExpiresAt, &used); err != nil {
		return nil, err
	}
	c.UsedAt = used.Time
	if err := json.Unmarshal([]byte(lists), &c.Lists); err != nil {
		return nil, fmt.Errorf("lists of a confirmation: %w", err)
	}
	return &c, nil
}

// ConfirmationByToken returns the confirmation a token names, used or not,
// expired or not; ErrNotFound for a token never issued (or purged).
func (s *Storage) ConfirmationByToken(ctx context.Context, tok string) (*Confirmation, error) {
	return queryOne(ctx, s.r, "confirmation", scanConfirmation,
		"SELECT "+confirmationColumns+" FROM confirmations WHERE token_hash = ?", confirmationHash(tok))
}

// Confirm spends a confirmation token at time at, in one transaction:
//
//   - a pending or unsubscribed subscriber becomes active (the person's own
//     opt-in, from their own mailbox) with consent as their consent record,
//     and reason in their history;
//   - the lists the token carries are joined, including lists the person
//     had left: asking for them again is their own choice;
//   - a bounced or complained subscriber is left as it is: the public side
//     never lifts those (only an admin, with a reason). The token is spent
//     all the same, the refusal is recorded in the subscriber's history,
//     and Confirm returns ErrSuppressed.
//
// A token never issued is ErrNotFound, one already used
// ErrConfirmationUsed, one past its expiry ErrConfirmationExpired; those
// change nothing.
func (s *Storage) Confirm(ctx context.Context, tok string, at time.Time, c StatusChange, consent Consent) (*Confirmation, error) {
	var (
		conf    *Confirmation
		outcome error
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		conf, err = scanConfirmation(tx.QueryRowContext(ctx, "SELECT "+confirmationColumns+" FROM confirmations WHERE token_hash = ?", confirmationHash(tok)))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch {
		case !conf.UsedAt.IsZero():
			return ErrConfirmationUsed
		case at.After(conf.ExpiresAt):
			return ErrConfirmationExpired
		}
		res, err := tx.ExecContext(ctx, "UPDATE confirmations SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", at.UTC(), confirmationHash(tok))
		if err != nil {
			return err
		}
		if oneRow(res) != nil {
			return ErrConfirmationUsed // spent a moment ago by another request
		}
		conf.UsedAt = at
		var cur Status
		if err := tx.QueryRowContext(ctx, "SELECT status FROM subscribers WHERE id = ?", conf.SubscriberID).Scan(&cur); err != nil {
			return err
		}
		switch cur {
		case Bounced, Complained:
			outcome = ErrSuppressed
			return addEvent(ctx, tx, event{subscriber: conf.SubscriberID, kind: "refused", source: c.Source,
				note: i18n.M("history.detail.confirm_suppressed", i18n.Key("import.status."+string(cur)))})
		case Pending, Unsubscribed:
			c.Status, c.Force = Active, true
			if err := setStatus(ctx, tx, conf.SubscriberID, c); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET consent_source = ?, consent_at = ?, consent_ip = ?,
				consent_text = ? WHERE id = ?`, consent.Source, nullTime(consent.At), consent.IP, consent.Text, conf.SubscriberID); err != nil {
				return err
			}
		}
		for _, l := range conf.Lists {
			if err := setMembership(ctx, tx, conf.SubscriberID, l, true, c.Source); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConfirmationUsed) || errors.Is(err, ErrConfirmationExpired) {
			return conf, err
		}
		return nil, fmt.Errorf("store: confirm: %w", err)
	}
	return conf, outcome
}

// RecordRefused records, in a subscriber's history, a request the public
// side refused (a subscription for a complained address, say). With
// subscriberID 0 (an erased address, of which nothing may be kept) the
// event is recorded keyed by no one, with detail alone: it counts the
// attempt and holds no personal data.
func (s *Storage) RecordRefused(ctx context.Context, subscriberID int64, source, detail string) error {
	err := addEvent(ctx, s.w, event{subscriber: subscriberID, kind: "refused", source: source, detail: detail})
	if err != nil {
		return fmt.Errorf("store: record refused: %w", err)
	}
	return nil
}

// TransactionalLimits are the caps on the mails of the public pages over
// the last hour; 0 is no cap.
type TransactionalLimits struct {
	Hourly       int // all of them
	DomainHourly int // to one domain
}

// ReserveTransactional records one mail of the public pages (kind
// "confirm", "already") to an address at domain, unless the limits say it
// may not go: it reports whether it was recorded. The count and the record
// are one transaction, so that concurrent posts cannot pass a cap together.
// The record counts against the relay's quotas (SentSince) whether or not
// the relay then takes the mail: a cap errs on the side of fewer mails.
func (s *Storage) ReserveTransactional(ctx context.Context, kind, domain string, lim TransactionalLimits) (bool, error) {
	ok := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		since := t.Add(-time.Hour)
		for _, c := range []struct {
			cap   int
			where string
			args  []any
		}{
			{lim.Hourly, "sent_at >= ?", []any{since}},
			{lim.DomainHourly, "domain = ? AND sent_at >= ?", []any{domain, since}},
		} {
			if c.cap <= 0 {
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM transactional_sends WHERE "+c.where, c.args...).Scan(&n); err != nil {
				return err
			}
			if n >= c.cap {
				return nil
			}
		}
		ok = true
		_, err := tx.ExecContext(ctx, "INSERT INTO transactional_sends (kind, domain, sent_at) VALUES (?, ?, ?)", kind, domain, t)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: reserve transactional mail: %w", err)
	}
	return ok, nil
}

// PurgeExpired deletes the pending subscribers of the subscribe form whose
// status has not changed since before (they never confirmed: nothing may be
// kept about them; pending rows that staff made through the console, the
// API or an import are theirs to keep), the
// confirmations that expired before at, and the records of mails of the
// public pages older than a day (the quotas look no further back). It
// returns how many subscribers it deleted.
func (s *Storage) PurgeExpired(ctx context.Context, at, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM subscribers WHERE status = 'pending' AND consent_source = 'form' AND status_changed_at < ?", before.UTC())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM confirmations WHERE expires_at < ?", at.UTC()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM transactional_sends WHERE sent_at < ?", at.UTC().Add(-24*time.Hour))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge expired: %w", err)
	}
	return int(n), nil
}
