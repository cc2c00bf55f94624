package store

import (
	"context"
	"fmt"
	"time"
)

// Several daemons may share one database (PostgreSQL). Two kinds of lease
// keep them in step, each renewed by its holder's heartbeat and presumed
// dead once it has expired:
//
//   - a campaign lease (campaign_leases, see AcquireLease) is held by every
//     engine sending the campaign: many at once, each claiming deliveries
//     of its own;
//   - a named lease (leases, see TakeLease) is held by one daemon only, for
//     what must run once whatever the number of daemons: the mailbox
//     watcher.
//
// Expiry is judged on each daemon's own clock: the machines' clocks must
// agree to well within a lease's length (NTP does).

// TakeLease takes the named lease for owner until until, or renews it when
// owner holds it already, and reports whether owner holds it now. A lease
// another owner holds is taken only once it has expired.
func (s *Storage) TakeLease(ctx context.Context, name, owner string, until time.Time) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("store: lease %s: no owner", name)
	}
	// One statement, atomic on both stores: of two daemons taking a free
	// or expired lease at once, the second finds the first's row and its
	// WHERE fails.
	res, err := s.w.ExecContext(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at < ?`, name, owner, until.UTC(), now())
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return n == 1, nil
}

// GiveUpLease ends owner's hold on the named lease, so that another daemon
// takes it at once rather than when it would have expired.
func (s *Storage) GiveUpLease(ctx context.Context, name, owner string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM leases WHERE name = ? AND owner = ?", name, owner); err != nil {
		return fmt.Errorf("store: lease %s: %w", name, err)
	}
	return nil
}

// LiveEngines counts the engines holding a live lease on a campaign at t:
// the daemons sending now, among which the sending rate is shared.
func (s *Storage) LiveEngines(ctx context.Context, t time.Time) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(DISTINCT owner) FROM campaign_leases WHERE expires_at >= ?", t.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: live engines: %w", err)
	}
	return n, nil
}

// rowLock returns clause (" FOR UPDATE OF d SKIP LOCKED") on PostgreSQL,
// where transactions that do not take the writer lock (rowTx) lock the rows
// they change; on SQLite, the single writer makes every write transaction
// exclusive already, and the syntax does not exist.
func (s *Storage) rowLock(clause string) string {
	if s.postgres {
		return " " + clause
	}
	return ""
}
