package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// The unsubscribe intake is a small SQLite file beside the database
// (path + "-intake") where a reader's unsubscribe is kept when the
// database's writer cannot be had at once: an import holds it for its whole
// run, another process may hold the lock for longer than the busy timeout.
// Mail providers do not retry a one-click POST, so it must be answered, and
// kept, whatever the writer is doing. The intake has its own lock, so it is
// free while the database is busy; it is synced on every write
// (synchronous=FULL), so that an answered unsubscribe survives even a power
// cut. The daemon applies it as soon as the writer is free (ApplyIntake),
// and the engine applies it before it claims deliveries, so that nobody is
// mailed after their unsubscribe was answered.

// intakeWait is how long Unsubscribe waits for the writer before it keeps
// the unsubscribe in the intake: short enough for a mail provider's POST,
// long enough that an ordinary write is never put aside.
const intakeWait = 2 * time.Second

// AUTOINCREMENT: ids are never reused, so that "every id up to the last one
// applied" never takes in one recorded after it was read.
const intakeSchema = `CREATE TABLE IF NOT EXISTS unsubscribes (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	subscriber_id INTEGER NOT NULL,
	campaign_id   INTEGER NOT NULL DEFAULT 0,
	source        TEXT NOT NULL,
	at            TIMESTAMP NOT NULL
)`

// openIntake opens (creating if needed) the intake at path.
func (s *Storage) openIntake(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+fmt.Sprintf(
		"?_journal_mode=WAL&_busy_timeout=%d&_synchronous=FULL&_txlock=immediate&_secure_delete=on", busyTimeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("store: intake: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, intakeSchema); err != nil {
		db.Close()
		return fmt.Errorf("store: intake %s: %w", path, err)
	}
	s.intake = db
	s.intakeWake = make(chan struct{}, 1)
	return nil
}

// Unsubscribe records a reader's own unsubscribe (the one-click POST, the
// button of the unsubscribe page), attributed to campaignID (or 0), and
// never loses it: when the writer cannot be had within a moment, or fails,
// the unsubscribe is kept in the intake and nil is returned, the status
// changing when the intake is applied. A subscriber already suppressed, or
// erased, is what the reader asked for: nil too. An error means that the
// unsubscribe could be recorded nowhere.
func (s *Storage) Unsubscribe(ctx context.Context, subscriberID int64, source string, campaignID int64) error {
	// The reader has clicked: a dropped connection does not take it back.
	ctx = context.WithoutCancel(ctx)
	at := now()
	err := s.unsubscribeNow(ctx, subscriberID, StatusChange{Status: Unsubscribed, Source: source, CampaignID: campaignID})
	if err == nil || errors.Is(err, ErrSuppressed) || errors.Is(err, ErrNotFound) {
		return nil
	}
	// Had the write gone through after all (a deadline at COMMIT), the
	// entry is skipped when applied: the status changed after it.
	if _, ierr := s.intake.ExecContext(ctx, "INSERT INTO unsubscribes (subscriber_id, campaign_id, source, at) VALUES (?, ?, ?, ?)",
		subscriberID, campaignID, source, at); ierr != nil {
		return fmt.Errorf("store: unsubscribe: %w", errors.Join(err, ierr))
	}
	s.wakeIntake()
	return nil
}

// unsubscribeNow is SetStatus waiting no longer than intakeWait for the
// writer: for its connection, held by an import of this process, and for
// the database's lock, held by another process. The lock's wait is SQLite's
// busy timeout, which a context does not cut short, so it is lowered on the
// writer's connection for this transaction only. On PostgreSQL, the lock is
// the writers' advisory lock, whose wait a context does cut short.
func (s *Storage) unsubscribeNow(ctx context.Context, id int64, c StatusChange) error {
	ctx, cancel := context.WithTimeout(ctx, intakeWait)
	defer cancel()
	if s.postgres { // the wait for the writers' lock ends with ctx
		return s.tx(ctx, func(tx *sql.Tx) error {
			_, _, err := changeStatus(ctx, tx, id, c)
			return err
		})
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", intakeWait.Milliseconds())); err != nil {
		return err
	}
	err = inTx(ctx, conn, func(tx *sql.Tx) error {
		_, _, err := changeStatus(ctx, tx, id, c)
		return err
	})
	// Back to the writer's own timeout, whatever happened: the next
	// writer on this connection must wait as long as ever. A context that
	// expired must not stop it.
	_, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds()))
	return errors.Join(err, rerr)
}

// IntakeWake is signalled when an unsubscribe is kept in the intake, or
// when the engine applied some that are still to be cleared: the intake's
// applier then runs ApplyIntake.
func (s *Storage) IntakeWake() <-chan struct{} { return s.intakeWake }

func (s *Storage) wakeIntake() {
	select {
	case s.intakeWake <- struct{}{}:
	default: // a wake is already waiting
	}
}

// intakeEntry is one unsubscribe waiting in the intake.
type intakeEntry struct {
	id, subscriber, campaign int64
	source                   string
	at                       time.Time
}

// pendingIntake returns the unsubscribes waiting in the intake, in the order
// they came.
func (s *Storage) pendingIntake(ctx context.Context) ([]intakeEntry, error) {
	out, err := queryAll(ctx, s.intake, func(row scanner) (intakeEntry, error) {
		var e intakeEntry
		err := row.Scan(&e.id, &e.subscriber, &e.campaign, &e.source, &e.at)
		return e, err
	}, "SELECT id, subscriber_id, campaign_id, source, at FROM unsubscribes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: intake: %w", err)
	}
	return out, nil
}

// applyIntake applies entries within tx. Each applies at most once in
// effect: an unsubscribe is skipped when the subscriber's status changed
// after it was recorded (it was applied already, or a later word, the
// reader's own opt-in again or a bounce, stands), when the subscriber is
// suppressed already, or erased.
func applyIntake(ctx context.Context, tx dbtx, entries []intakeEntry) error {
	for _, e := range entries {
		var (
			cur      Status
			changed  time.Time
			campaign bool
		)
		err := tx.QueryRowContext(ctx, `SELECT status, status_changed_at, EXISTS (SELECT 1 FROM campaigns WHERE id = ?)
			FROM subscribers WHERE id = ?`, e.campaign, e.subscriber).Scan(&cur, &changed, &campaign)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if cur.Suppressed() || changed.After(e.at) {
			continue
		}
		c := StatusChange{Status: Unsubscribed, Source: e.source}
		if campaign { // a campaign deleted since is no longer named
			c.CampaignID = e.campaign
		}
		if err := setStatus(ctx, tx, e.subscriber, c); err != nil {
			return err
		}
	}
	return nil
}

// ApplyIntake applies the unsubscribes waiting in the intake, waiting for
// the writer as long as ctx allows, then clears them from the intake. It
// returns how many it took. Applying twice changes nothing more than
// applying once, so a crash between the two steps loses nothing.
func (s *Storage) ApplyIntake(ctx context.Context) (int, error) {
	entries, err := s.pendingIntake(ctx)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	if err := s.tx(ctx, func(tx *sql.Tx) error { return applyIntake(ctx, tx, entries) }); err != nil {
		return 0, fmt.Errorf("store: apply intake: %w", err)
	}
	if _, err := s.intake.ExecContext(ctx, "DELETE FROM unsubscribes WHERE id <= ?", entries[len(entries)-1].id); err != nil {
		return 0, fmt.Errorf("store: clear intake: %w", err)
	}
	return len(entries), nil
}
