package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/mattn/go-sqlite3"
)

// DeliveryState is where one (campaign, subscriber) pair of the ledger is.
// Every row ends in sent, failed or skipped (invariant 2).
type DeliveryState string

// The states of a delivery.
const (
	Queued      DeliveryState = "queued"
	InFlight    DeliveryState = "sending" // committed before the SMTP transaction starts
	Delivered   DeliveryState = "sent"
	Undelivered DeliveryState = "failed"
	Skipped     DeliveryState = "skipped"
)

// Delivery is one row of the ledger, with what the engine needs of its
// subscriber to write the message.
type Delivery struct {
	ID             int64
	UUID           uuid.UUID
	CampaignID     int64
	Email          string
	State          DeliveryState
	Attempts       int
	FirstAttemptAt time.Time
	NextAttemptAt  time.Time
	SMTPCode       int
	EnhancedCode   string
	Reply          string
	SkipReason     string
	MessageID      string
	Duplicates     int
	SentAt         time.Time
	// ClaimedBy is the engine that marked it in flight (ClaimDeliveries).
	ClaimedBy string

	// Subscriber is filled by ClaimDeliveries: the recipient as it is now.
	Subscriber *Subscriber
}

// ErrLeaseLost is returned to an engine that holds no lease on the campaign
// (it never took one, gave it up, or was presumed dead), or whose campaign
// is no longer sending.
var ErrLeaseLost = errors.New("campaign lease lost or campaign no longer sending")

// ClaimDeliveries takes up to limit queued deliveries of a campaign that are
// due at t and marks them in flight, in one transaction, so that the mark is
// on disk before any of their SMTP transactions starts (invariant 3). It
// checks each recipient again first: one who was unsubscribed, bounced,
// complained, erased or left the campaign's lists since the campaign started
// is skipped ("unsubscribed-during-send", ...) and not returned (invariant
// 1). When every row of a batch is skipped so, it takes the next batch, so
// that an empty result always means that nothing is due: the engine then
// waits, and must not wait while readers who left mid-send stand before
// those still to be sent. It fails with ErrLeaseLost unless owner holds a
// lease on the campaign (AcquireLease) and the campaign is sending.
// Unsubscribes waiting in the intake are applied first, in the same
// transaction, so that a reader whose unsubscribe was answered while the
// writer was busy is not mailed.
//
// Several engines claim from one campaign at once: the rows are marked with
// owner (claimed_by). On PostgreSQL the claim does not take the writer lock
// but locks the rows it takes, passing over those another engine is taking
// (SKIP LOCKED), so that daemons claim in parallel; on SQLite the single
// writer makes each claim exclusive.
func (s *Storage) ClaimDeliveries(ctx context.Context, campaignID int64, owner string, limit int, t time.Time) ([]*Delivery, error) {
	pending, err := s.pendingIntake(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Delivery
	claim := func(tx *sql.Tx) error {
		// The lease row is held (shared) until the claim commits, so that
		// an engine presuming this one dead waits for the rows claimed
		// here, and sends them again, rather than miss them.
		var state CampaignState
		err := tx.QueryRowContext(ctx, "SELECT c.state FROM campaign_leases l JOIN campaigns c ON c.id = l.campaign_id WHERE l.campaign_id = ? AND l.owner = ?"+
			s.rowLock("FOR SHARE OF l"), campaignID, owner).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) || err == nil && state != Sending {
			return ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if err := applyIntake(ctx, tx, pending); err != nil {
			return err
		}
		t = t.UTC()
		for {
			batch, skipped, err := claimBatch(ctx, tx, campaignID, limit, t, s.rowLock("FOR UPDATE OF d SKIP LOCKED"))
			if err != nil {
				return err
			}
			out = batch
			if len(out) > 0 || skipped == 0 {
				break
			}
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET state = 'sending', claimed_by = ?, email = ?, last_attempt_at = ?,
			first_attempt_at = coalesce(first_attempt_at, ?), updated_at = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range out {
			d.ClaimedBy = owner
			if _, err := stmt.ExecContext(ctx, owner, d.Email, t, t, t, d.ID); err != nil {
				return err
			}
		}
		return nil
	}
	if len(pending) > 0 && s.postgres {
		// Applying unsubscribes changes subscribers, as other writers do:
		// that takes the writer lock, which is rare enough here.
		claim = locked(ctx, claim)
	}
	if err := s.rowTx(ctx, claim); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return nil, err
		}
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	if len(pending) > 0 {
		s.wakeIntake() // the applier clears what was applied here
	}
	return out, nil
}

// claimBatch reads up to limit queued deliveries of a campaign due at t,
// skips at once those whose recipient may no longer be mailed, and returns
// the others, with how many it skipped. lock ends the query: the rows'
// lock on PostgreSQL.
func claimBatch(ctx context.Context, tx *sql.Tx, campaignID int64, limit int, t time.Time, lock string) ([]*Delivery, int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.uuid, d.email, d.attempts, d.first_attempt_at, d.duplicates,
		s.id, s.uuid, s.email, s.first_name, s.last_name, s.organisation, s.attributes, s.status,
		(SELECT count(*) FROM list_members m JOIN campaign_lists cl ON cl.list_id = m.list_id
			WHERE cl.campaign_id = d.campaign_id AND m.subscriber_id = s.id AND m.status = 'subscribed')
		FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.campaign_id = ? AND d.state = 'queued' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
		ORDER BY d.id LIMIT ?`+lock, campaignID, t, limit)
	if err != nil {
		return nil, 0, err
	}
	type skip struct {
		id     int64
		reason string
	}
	var (
		out   []*Delivery
		skips []skip
	)
	for rows.Next() {
		var (
			d      = &Delivery{CampaignID: campaignID, State: InFlight}
			first  sql.NullTime
			sid    sql.NullInt64
			su     uuid.NullUUID
			email  sql.NullString
			fn, ln sql.NullString
			org    sql.NullString
			attrs  sql.NullString
			status sql.NullString
			onList int
		)
		if err := rows.Scan(&d.ID, &d.UUID, &d.Email, &d.Attempts, &first, &d.Duplicates,
			&sid, &su, &email, &fn, &ln, &org, &attrs, &status, &onList); err != nil {
			rows.Close()
			return nil, 0, err
		}
		d.FirstAttemptAt = first.Time
		switch {
		case !sid.Valid:
			skips = append(skips, skip{d.ID, "erased-during-send"})
			continue
		case Status(status.String) != Active:
			skips = append(skips, skip{d.ID, status.String + "-during-send"})
			continue
		case onList == 0:
			skips = append(skips, skip{d.ID, "left-list-during-send"})
			continue
		}
		sub := &Subscriber{ID: sid.Int64, UUID: su.UUID, Email: email.String, FirstName: fn.String,
			LastName: ln.String, Organisation: org.String, Status: Active}
		if err := json.Unmarshal([]byte(attrs.String), &sub.Attributes); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("attributes of subscriber %d: %w", sub.ID, err)
		}
		// The address as it is now: a corrected address is used, and the
		// ledger records the one actually mailed.
		d.Email, d.Subscriber = sub.Email, sub
		if d.FirstAttemptAt.IsZero() {
			d.FirstAttemptAt = t
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, sk := range skips {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'skipped', skip_reason = ?, updated_at = ?
			WHERE id = ?`, sk.reason, t, sk.id); err != nil {
			return nil, 0, err
		}
	}
	return out, len(skips), nil
}

// SendOutcome is what became of one delivery in flight.
type SendOutcome int

// The outcomes of a send.
const (
	// OutcomeSent: the relay accepted the message.
	OutcomeSent SendOutcome = iota + 1
	// OutcomeFailed: refused for good, or retried until too old.
	OutcomeFailed
	// OutcomeRetry: refused for now; queued again for NextAttemptAt, the
	// attempt counted.
	OutcomeRetry
	// OutcomeRequeue: not tried after all (the relay refused everything, the
	// engine stopped); queued again without counting an attempt.
	OutcomeRequeue
)

// Result is the outcome of one delivery in flight, as the engine records it.
type Result struct {
	DeliveryID    int64
	Outcome       SendOutcome
	At            time.Time
	SMTPCode      int
	EnhancedCode  string
	Reply         string // the relay's reply, or the error
	MessageID     string
	NextAttemptAt time.Time // OutcomeRetry, and OutcomeRequeue when not at once
	// Refusal, with OutcomeFailed, is the relay's permanent refusal of the
	// recipient judged like a bounce: recorded on the row, it acts on the
	// subscriber in the same transaction. Nil for any other failure.
	Refusal *Refusal
	// ClaimedBy is the engine whose claim this is (Delivery.ClaimedBy): the
	// outcome is recorded only while the row is still that engine's, so
	// that an engine presumed dead, whose rows were sent again by another,
	// does not overwrite the outcome of the new send. Tools that record
	// rows they claimed themselves may leave it empty.
	ClaimedBy string
}

// RecordResults writes the outcomes of deliveries in flight, in one
// transaction. Only rows still in flight, and still claimed by the engine
// that sent them (Result.ClaimedBy), change: a row that another engine has
// meanwhile taken back is left to it. A row sent back to the queue of a
// campaign cancelled meanwhile is skipped instead. A failure with a Refusal
// acts on its subscriber in the same transaction (see Refusal), so that the
// ledger and the suppression never disagree.
func (s *Storage) RecordResults(ctx context.Context, results []Result) error {
	if len(results) == 0 {
		return nil
	}
	// The rows are the engine's own: on PostgreSQL the writer lock is only
	// taken when a refusal changes a subscriber, as other writers do.
	write := s.rowTx
	if slices.ContainsFunc(results, func(r Result) bool { return r.Refusal != nil }) {
		write = s.tx
	}
	err := write(ctx, func(tx *sql.Tx) error {
		sent, err := tx.PrepareContext(ctx, `UPDATE deliveries SET state = ?, attempts = attempts + 1, sent_at = ?,
			smtp_code = ?, enhanced_code = ?, reply = ?, message_id = ?, next_attempt_at = NULL, updated_at = ?,
			refusal = ?, refusal_reason = ? WHERE id = ? AND state = 'sending' AND (claimed_by = ? OR ? = '')`)
		if err != nil {
			return err
		}
		defer sent.Close()
		again, err := tx.PrepareContext(ctx, `UPDATE deliveries SET
			state = CASE WHEN (SELECT state FROM campaigns WHERE id = deliveries.campaign_id) IN ('cancelled', 'failed') THEN 'skipped' ELSE 'queued' END,
			skip_reason = CASE (SELECT state FROM campaigns WHERE id = deliveries.campaign_id) WHEN 'cancelled' THEN 'cancelled'
				WHEN 'failed' THEN 'campaign-failed' ELSE '' END,
			attempts = attempts + ?, smtp_code = ?, enhanced_code = ?, reply = ?, next_attempt_at = ?, updated_at = ?
			WHERE id = ? AND state = 'sending' AND (claimed_by = ? OR ? = '')`)
		if err != nil {
			return err
		}
		defer again.Close()
		for _, r := range results {
			at := r.At.UTC()
			switch r.Outcome {
			case OutcomeSent:
				_, err = sent.ExecContext(ctx, Delivered, at, r.SMTPCode, r.EnhancedCode, r.Reply, r.MessageID, at, "", "", r.DeliveryID, r.ClaimedBy, r.ClaimedBy)
			case OutcomeFailed:
				err = recordFailure(ctx, tx, sent, r, at)
			case OutcomeRetry, OutcomeRequeue:
				attempt := 1
				if r.Outcome == OutcomeRequeue {
					attempt = 0
				}
				_, err = again.ExecContext(ctx, attempt, r.SMTPCode, r.EnhancedCode, r.Reply, nullTime(r.NextAttemptAt), at, r.DeliveryID, r.ClaimedBy, r.ClaimedBy)
			default:
				err = fmt.Errorf("delivery %d: bad outcome %d", r.DeliveryID, r.Outcome)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record results: %w", err)
	}
	return nil
}

// recordFailure writes a failed outcome with the statement sent of
// RecordResults, and acts on the subscriber of a refusal.
func recordFailure(ctx context.Context, tx *sql.Tx, sent *sql.Stmt, r Result, at time.Time) error {
	kind, reason := "", ""
	if r.Refusal != nil {
		kind, reason = r.Refusal.Kind, r.Refusal.Reason
	}
	res, err := sent.ExecContext(ctx, Undelivered, nil, r.SMTPCode, r.EnhancedCode, r.Reply, r.MessageID, at, kind, reason, r.DeliveryID, r.ClaimedBy, r.ClaimedBy)
	if err != nil || r.Refusal == nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // taken back by another engine: not ours to act on
	}
	return applyRefusal(ctx, tx, r.DeliveryID, r.Refusal, r.Reply, at)
}

// RecoverInFlight puts back in the queue the deliveries of a campaign left
// in flight by owner itself before it (re)started, and by the engines whose
// lease has expired (they crashed): each may or may not have reached the
// relay, so it is sent again and counted in duplicates (invariant 3). owner
// must hold a lease on the campaign, and call it before it claims. It
// returns how many were recovered.
func (s *Storage) RecoverInFlight(ctx context.Context, campaignID int64, owner string) (int, error) {
	return s.recoverInFlight(ctx, campaignID, owner, true)
}

// RecoverAbandoned is RecoverInFlight for an engine that is sending: only
// the deliveries of engines whose lease has expired go back to the queue,
// not owner's own in flight. Every engine sending a campaign calls it with
// its heartbeat, so that whoever is alive finishes what a dead one left.
func (s *Storage) RecoverAbandoned(ctx context.Context, campaignID int64, owner string) (int, error) {
	return s.recoverInFlight(ctx, campaignID, owner, false)
}

func (s *Storage) recoverInFlight(ctx context.Context, campaignID int64, owner string, own bool) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		var held int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM campaign_leases WHERE campaign_id = ? AND owner = ?", campaignID, owner).Scan(&held); err != nil {
			return err
		}
		if held == 0 {
			return ErrLeaseLost
		}
		// An expired lease goes with the rows it covered, in this
		// transaction: its engine, if it was only slow, finds it gone at its
		// next renewal or claim and stops (see ClaimDeliveries).
		if _, err := tx.ExecContext(ctx, "DELETE FROM campaign_leases WHERE campaign_id = ? AND expires_at < ? AND owner != ?",
			campaignID, t, owner); err != nil {
			return err
		}
		q := `UPDATE deliveries SET state = 'queued', duplicates = duplicates + 1, next_attempt_at = NULL, claimed_by = '', updated_at = ?
			WHERE campaign_id = ? AND state = 'sending' AND (NOT EXISTS (SELECT 1 FROM campaign_leases l
				WHERE l.campaign_id = deliveries.campaign_id AND l.owner = deliveries.claimed_by)`
		args := []any{t, campaignID}
		if own {
			q += " OR claimed_by = ?"
			args = append(args, owner)
		}
		res, err := tx.ExecContext(ctx, q+")", args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return 0, err
		}
		return 0, fmt.Errorf("store: recover in-flight deliveries: %w", err)
	}
	return int(n), nil
}

// DeliveryCounts sums up a campaign's ledger.
type DeliveryCounts struct {
	ByState    map[DeliveryState]int
	Total      int
	Duplicates int       // sends that may have reached their reader twice
	NextRetry  time.Time // the earliest queued delivery waiting for a retry
	LastSent   time.Time
	Retrying   int // queued deliveries that were tried already
}

// Pending returns the deliveries not yet in a final state.
func (c *DeliveryCounts) Pending() int { return c.ByState[Queued] + c.ByState[InFlight] }

// CampaignDeliveryCounts returns the counts of a campaign's ledger.
func (s *Storage) CampaignDeliveryCounts(ctx context.Context, campaignID int64) (*DeliveryCounts, error) {
	c := &DeliveryCounts{ByState: map[DeliveryState]int{}}
	err := s.each(ctx, `SELECT state, count(*), coalesce(sum(duplicates), 0), min(next_attempt_at), max(sent_at),
		sum(state = 'queued' AND attempts > 0) FROM deliveries WHERE campaign_id = ? GROUP BY state`, []any{campaignID},
		func(rows *sql.Rows) error {
			var (
				st             DeliveryState
				n, dup, retry  int
				next, lastSent sql.NullString
			)
			if err := rows.Scan(&st, &n, &dup, &next, &lastSent, &retry); err != nil {
				return err
			}
			c.ByState[st] = n
			c.Total += n
			c.Duplicates += dup
			c.Retrying += retry
			if st == Queued && next.Valid {
				c.NextRetry = parseTime(next.String)
			}
			if t := parseTime(lastSent.String); t.After(c.LastSent) {
				c.LastSent = t
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	return c, nil
}

// parseTime reads a time that SQLite returned as text: aggregates such as
// min() lose the column's type, so the driver does not convert them. On
// PostgreSQL they keep it, and database/sql writes the time.Time into the
// string in RFC 3339 (or, through fmt, in Go's own format): the last ones tried.
func parseTime(s string) time.Time {
	for _, f := range append(sqlite3.SQLiteTimestampFormats, time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST") {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// CampaignDeliveries calls fn for each delivery of a campaign in state st
// ("" for all), in ledger order, without holding them all in memory.
func (s *Storage) CampaignDeliveries(ctx context.Context, campaignID int64, st DeliveryState, fn func(*Delivery) error) error {
	q := `SELECT id, uuid, campaign_id, email, state, attempts, first_attempt_at, next_attempt_at, smtp_code, enhanced_code,
		reply, skip_reason, message_id, duplicates, sent_at FROM deliveries WHERE campaign_id = ?`
	args := []any{campaignID}
	if st != "" {
		q += " AND state = ?"
		args = append(args, st)
	}
	return s.each(ctx, q+" ORDER BY id", args, func(rows *sql.Rows) error {
		var d Delivery
		var first, next, sent sql.NullTime
		if err := rows.Scan(&d.ID, &d.UUID, &d.CampaignID, &d.Email, &d.State, &d.Attempts, &first, &next, &d.SMTPCode,
			&d.EnhancedCode, &d.Reply, &d.SkipReason, &d.MessageID, &d.Duplicates, &sent); err != nil {
			return err
		}
		d.FirstAttemptAt, d.NextAttemptAt, d.SentAt = first.Time, next.Time, sent.Time
		return fn(&d)
	})
}

// sentTimes is every message the relay was given: the campaigns' deliveries
// accepted, and the mails of the public pages (confirmations), which share
// the relay's quotas.
const sentTimes = "SELECT sent_at FROM deliveries WHERE sent_at >= ?1 UNION ALL SELECT sent_at FROM transactional_sends WHERE sent_at >= ?1"

// SentSince counts the messages accepted by the relay at or after t, of
// every campaign and of the public pages: the relay's quotas are counted
// from the ledger, so that they hold across campaigns and restarts.
func (s *Storage) SentSince(ctx context.Context, t time.Time) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM ("+sentTimes+") AS sent", t.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: sent since: %w", err)
	}
	return n, nil
}

// InFlight counts the deliveries in flight now, claimed by the engines of
// every daemon and not yet recorded: with SentSince, what the relay's
// quotas count. Rows in flight belong to campaigns that engines hold
// leases on, which keeps the count on the index of each campaign's states.
func (s *Storage) InFlight(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
		WHERE campaign_id IN (SELECT campaign_id FROM campaign_leases) AND state = 'sending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: in flight: %w", err)
	}
	return n, nil
}

// NthSentSince returns the send time of the nth message (from 0) accepted
// at or after t, in time order, or the zero time when there are not that
// many: with a quota of q per window and n sent in the window, the window
// frees a place when its (n-q)th message leaves it.
func (s *Storage) NthSentSince(ctx context.Context, t time.Time, nth int) (time.Time, error) {
	var at sql.NullTime
	err := s.r.QueryRowContext(ctx, "SELECT sent_at FROM ("+sentTimes+") AS sent ORDER BY sent_at LIMIT 1 OFFSET ?2", t.UTC(), nth).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: sent since: %w", err)
	}
	return at.Time, nil
}

// DeliveryByUUID returns the delivery with this public identifier (the
// payload of the delivery token in VERP addresses and headers).
func (s *Storage) DeliveryByUUID(ctx context.Context, id uuid.UUID) (*Delivery, error) {
	var found *Delivery
	err := s.each(ctx, `SELECT id, campaign_id, email, state, attempts, smtp_code, enhanced_code, reply, skip_reason,
		message_id, duplicates FROM deliveries WHERE uuid = ?`, []any{id.String()}, func(rows *sql.Rows) error {
		d := Delivery{UUID: id}
		if err := rows.Scan(&d.ID, &d.CampaignID, &d.Email, &d.State, &d.Attempts, &d.SMTPCode, &d.EnhancedCode,
			&d.Reply, &d.SkipReason, &d.MessageID, &d.Duplicates); err != nil {
			return err
		}
		found = &d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: delivery: %w", err)
	}
	if found == nil {
		return nil, ErrNotFound
	}
	return found, nil
}
