package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
)

// MailboxAction is what Bulletin did about one mailbox event.
type MailboxAction string

// The actions recorded on mailbox events.
const (
	// MailboxSuppressed: the subscriber became bounced or complained.
	MailboxSuppressed MailboxAction = "suppressed"
	// MailboxUnsubscribed: the subscriber became unsubscribed (mailto).
	MailboxUnsubscribed MailboxAction = "unsubscribed"
	// MailboxCounted: a soft bounce was counted, below the limit.
	MailboxCounted MailboxAction = "counted"
	// MailboxNoAction: nothing to do, or nothing could be done (the event's
	// Error says why).
	MailboxNoAction MailboxAction = "none"
	// MailboxDuplicate: the same message (by Message-ID) was already read
	// under an earlier UIDVALIDITY of the mailbox; nothing done twice.
	MailboxDuplicate MailboxAction = "duplicate"
	// MailboxUnverified: a bounce or complaint that proves nothing (no
	// verified token, no Message-ID of ours) names a subscriber, the
	// event's SubscriberID: nothing done until an admin applies it
	// (ApplyMailboxEvent), since anyone can write such a message.
	MailboxUnverified MailboxAction = "unverified"
)

// ErrNotUnverified is ApplyMailboxEvent's answer for an event that is not
// waiting for an admin: verified and acted on already, applied before, or
// naming no subscriber (any more).
var ErrNotUnverified = errors.New("store: the mailbox event is not an unverified one naming a subscriber")

// MailboxEvent is one message read from the IMAP mailbox (invariant 4): its
// classification, what it was matched to, what was done and where the
// message went.
type MailboxEvent struct {
	ID          int64
	UUID        uuid.UUID // the event's public identifier, which the console's links carry
	Mailbox     string    // the watched mailbox, "INBOX"
	UIDValidity uint32
	UID         uint32
	MessageID   string // of the message read, without angle brackets
	From        string
	Subject     string
	Kind        string // hard, soft, delayed, complaint, autoreply, unsubscribe, reply, unknown
	Reason      string
	Status      string // RFC 3463 code or ""
	Diagnostic  string
	Recipients  []string // the failed addresses, lower-cased

	// The match; zero when none. For an unverified event (Action
	// MailboxUnverified) SubscriberID is only the candidate the message
	// names, and DeliveryID and CampaignID stay zero, so that reports do
	// not count what anyone could have written.
	DeliveryID   int64
	CampaignID   int64
	SubscriberID int64
	MatchedBy    string // verp, header, token, message-id, address, from

	Action MailboxAction
	Folder string // where the message was moved, "flagged ...", or "" while not yet done
	Error  string // why it could not be parsed, matched or acted on

	ReceivedAt  time.Time // the server's INTERNALDATE; zero when unknown
	ProcessedAt time.Time

	// Filled by MailboxEvents, for display: the campaign's public
	// identifier and name, and the subscriber's identifier and address as
	// they are now.
	CampaignUUID    string
	CampaignName    string
	SubscriberUUID  string
	SubscriberEmail string
}

// MailboxEffect is what RecordMailboxEvent does to the event's subscriber,
// in the same transaction as the event.
type MailboxEffect struct {
	// Status, when set, is the subscriber's new status: bounced,
	// complained or unsubscribed. A suppressed subscriber stays as it is
	// (invariant 1).
	Status Status
	Source string // subscriber_events source: bounce, complaint, mailto
	Reason string // the status reason kept on the subscriber

	// SoftBounce counts the event toward the soft-bounce rule instead: at
	// SoftLimit soft bounces on distinct campaigns within SoftWindow of the
	// event, the subscriber becomes bounced.
	SoftBounce bool
	SoftLimit  int
	SoftWindow time.Duration

	// Unverified holds the effect: the event is recorded as
	// MailboxUnverified and the subscriber left as it is.
	Unverified bool
}

// RecordMailboxEvent records ev, applies the effect to ev.SubscriberID and
// moves the mailbox's checkpoint to ev.UID, all in one transaction. It sets
// ev.ID, ev.Action and adds to ev.Error what the effect ran into.
//
// It is idempotent per (mailbox, UIDVALIDITY, UID): for a message already
// recorded it changes nothing, loads the recorded event into ev and reports
// false, so that reading a message twice never counts it twice.
func (s *Storage) RecordMailboxEvent(ctx context.Context, ev *MailboxEvent, eff MailboxEffect) (bool, error) {
	recipients, err := json.Marshal(nonNilStrings(ev.Recipients))
	if err != nil {
		return false, err
	}
	if ev.ProcessedAt.IsZero() {
		ev.ProcessedAt = now()
	}
	inserted := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		prev, err := scanMailboxEvent(tx.QueryRowContext(ctx, "SELECT "+mailboxEventColumns+
			" FROM mailbox_events e WHERE mailbox = ? AND uid_validity = ? AND uid = ?", ev.Mailbox, ev.UIDValidity, ev.UID))
		if err == nil {
			*ev = *prev
			return advanceCheckpoint(ctx, tx, ev.Mailbox, ev.UIDValidity, ev.UID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		// A message already read under an earlier UIDVALIDITY (a rebuilt
		// server index, a message copied back) is recorded again, as every
		// message read is, but not acted on twice. Same Message-ID, kind
		// and match: a sloppy MTA reusing Message-IDs does not hide a
		// second bounce.
		var dup string // the UUID of the earlier event: the note is shown in the console
		if ev.MessageID != "" {
			err := tx.QueryRowContext(ctx, `SELECT uuid FROM mailbox_events WHERE mailbox = ? AND message_id = ?
				AND uid_validity != ? AND kind = ? AND coalesce(delivery_id, 0) = ? AND coalesce(subscriber_id, 0) = ?
				ORDER BY id LIMIT 1`, ev.Mailbox, ev.MessageID, ev.UIDValidity, ev.Kind, ev.DeliveryID, ev.SubscriberID).Scan(&dup)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}

		ev.UUID = uuid.New()
		err = tx.QueryRowContext(ctx, `INSERT INTO mailbox_events (uuid, mailbox, uid_validity, uid, message_id, from_addr,
			subject, kind, reason, status, diagnostic, recipients, delivery_id, campaign_id, subscriber_id, matched_by,
			action, folder, error, received_at, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id`,
			ev.UUID.String(), ev.Mailbox, ev.UIDValidity, ev.UID, ev.MessageID, ev.From, ev.Subject, ev.Kind, ev.Reason, ev.Status,
			ev.Diagnostic, string(recipients), nullID(ev.DeliveryID), nullID(ev.CampaignID), nullID(ev.SubscriberID),
			ev.MatchedBy, ev.Folder, ev.Error, nullTime(ev.ReceivedAt), ev.ProcessedAt.UTC()).Scan(&ev.ID)
		if err != nil {
			return err
		}
		inserted = true

		action, problem := MailboxNoAction, ""
		switch {
		case dup != "":
			action, problem = MailboxDuplicate, "already read as event "+dup+" under another UIDVALIDITY"
		case ev.SubscriberID == 0 || (eff.Status == "" && !eff.SoftBounce):
			// Nothing to act on; the caller said why in ev.Error.
		case eff.Unverified:
			action = MailboxUnverified
		default:
			action, problem, err = applyEffect(ctx, tx, ev, eff)
			if err != nil {
				return err
			}
		}
		ev.Action = action
		ev.Error = joinProblems(ev.Error, problem)
		if _, err := tx.ExecContext(ctx, "UPDATE mailbox_events SET action = ?, error = ? WHERE id = ?", ev.Action, ev.Error, ev.ID); err != nil {
			return err
		}
		return advanceCheckpoint(ctx, tx, ev.Mailbox, ev.UIDValidity, ev.UID)
	})
	if err != nil {
		return false, fmt.Errorf("store: record mailbox event: %w", err)
	}
	return inserted, nil
}

// applyEffect changes the subscriber's status as eff says, within tx, and
// returns the action taken, or why none was.
func applyEffect(ctx context.Context, tx *sql.Tx, ev *MailboxEvent, eff MailboxEffect) (MailboxAction, string, error) {
	change := StatusChange{Status: eff.Status, Reason: eff.Reason, Source: eff.Source, CampaignID: ev.CampaignID}
	done := MailboxSuppressed
	if eff.Status == Unsubscribed {
		done = MailboxUnsubscribed
	}
	if eff.SoftBounce {
		if ev.CampaignID == 0 {
			return MailboxNoAction, "soft bounce not counted: no campaign to attribute it to", nil
		}
		at := ev.ReceivedAt
		if at.IsZero() {
			at = ev.ProcessedAt
		}
		var reached bool
		var err error
		change, reached, err = softLimitChange(ctx, tx, ev.SubscriberID, ev.CampaignID, at, eff.SoftLimit, eff.SoftWindow, eff.Source, eff.Reason)
		if err != nil {
			return "", "", err
		}
		if !reached {
			return MailboxCounted, "", nil
		}
	}
	// Invariant 1: nothing here lifts or replaces a suppression; the first
	// cause stays the recorded one.
	cur, changed, err := changeStatus(ctx, tx, ev.SubscriberID, change)
	switch {
	case errors.Is(err, ErrNotFound):
		return MailboxNoAction, "subscriber erased", nil
	case err != nil && !errors.Is(err, ErrSuppressed):
		return "", "", err
	case eff.SoftBounce && cur == Bounced:
		return MailboxCounted, "already bounced", nil
	case !changed:
		return MailboxNoAction, "already " + string(cur), nil
	}
	return done, "", nil
}

// ApplyMailboxEvent applies an unverified event to the subscriber it names,
// on the word of an admin (by: their login): the event is attributed to the
// subscriber's most recent delivery, eff acts as it would on a verified
// event, and the subscriber's history records who applied what. All in one
// transaction. ErrNotFound: no such event; ErrNotUnverified: nothing to
// apply (acted on already, applied before, or its subscriber erased).
func (s *Storage) ApplyMailboxEvent(ctx context.Context, id int64, eff MailboxEffect, by string) (*MailboxEvent, error) {
	var ev *MailboxEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		ev, err = scanMailboxEvent(tx.QueryRowContext(ctx, "SELECT "+mailboxEventColumns+" FROM mailbox_events e WHERE e.id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if ev.Action != MailboxUnverified || ev.SubscriberID == 0 {
			return ErrNotUnverified
		}
		err = tx.QueryRowContext(ctx, "SELECT id, campaign_id FROM deliveries WHERE subscriber_id = ? ORDER BY "+latestDelivery+" LIMIT 1",
			ev.SubscriberID).Scan(&ev.DeliveryID, &ev.CampaignID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Attributed before the effect: the soft-bounce rule counts this
		// event's campaign with the others.
		if _, err := tx.ExecContext(ctx, "UPDATE mailbox_events SET delivery_id = ?, campaign_id = ? WHERE id = ?",
			nullID(ev.DeliveryID), nullID(ev.CampaignID), ev.ID); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, event{subscriber: ev.SubscriberID, kind: "mailbox_applied", source: "admin", campaign: ev.CampaignID,
			detail: strings.TrimSpace(by + ": " + ev.Kind + " " + eff.Reason)}); err != nil {
			return err
		}
		eff.Unverified = false
		action, problem, err := applyEffect(ctx, tx, ev, eff)
		if err != nil {
			return err
		}
		ev.Action = action
		ev.Error = joinProblems(joinProblems(ev.Error, "applied by "+by), problem)
		_, err = tx.ExecContext(ctx, "UPDATE mailbox_events SET action = ?, error = ? WHERE id = ?", ev.Action, ev.Error, ev.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply mailbox event %d: %w", id, err)
	}
	return ev, nil
}

// days writes a window as people say it: "30 days", or the duration when it
// is not a whole number of days.
func days(d time.Duration) string {
	n := d.Hours() / 24
	switch {
	case n == 1:
		return "1 day"
	case n == math.Trunc(n):
		return fmt.Sprintf("%d days", int(n))
	}
	return d.String()
}

func joinProblems(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// advanceCheckpoint moves the mailbox's checkpoint to uid, never back within
// one UIDVALIDITY; a new UIDVALIDITY replaces the old checkpoint.
func advanceCheckpoint(ctx context.Context, tx *sql.Tx, mailbox string, validity, uid uint32) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mailbox_checkpoints (mailbox, uid_validity, last_uid, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET
		last_uid = CASE WHEN mailbox_checkpoints.uid_validity = excluded.uid_validity AND mailbox_checkpoints.last_uid > excluded.last_uid
			THEN mailbox_checkpoints.last_uid ELSE excluded.last_uid END,
		uid_validity = excluded.uid_validity, updated_at = excluded.updated_at`, mailbox, validity, uid, now())
	return err
}

// MailboxCheckpoint is how far the watcher has read a mailbox: every message
// with a UID up to LastUID under UIDValidity has its event.
type MailboxCheckpoint struct {
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32
	UpdatedAt   time.Time
}

// LoadMailboxCheckpoint returns the checkpoint of a mailbox, or ErrNotFound
// when it was never read.
func (s *Storage) LoadMailboxCheckpoint(ctx context.Context, mailbox string) (*MailboxCheckpoint, error) {
	cp := MailboxCheckpoint{Mailbox: mailbox}
	err := s.r.QueryRowContext(ctx, "SELECT uid_validity, last_uid, updated_at FROM mailbox_checkpoints WHERE mailbox = ?", mailbox).
		Scan(&cp.UIDValidity, &cp.LastUID, &cp.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: mailbox checkpoint: %w", err)
	}
	return &cp, nil
}

// ResetMailboxCheckpoint starts a mailbox again from UID 1 of a new
// UIDVALIDITY, when the server says the old UIDs mean nothing any more.
func (s *Storage) ResetMailboxCheckpoint(ctx context.Context, mailbox string, validity uint32) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO mailbox_checkpoints (mailbox, uid_validity, last_uid, updated_at)
		VALUES (?, ?, 0, ?) ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = 0,
		updated_at = excluded.updated_at`, mailbox, validity, now())
	if err != nil {
		return fmt.Errorf("store: reset mailbox checkpoint: %w", err)
	}
	return nil
}

// MailboxEventAt returns the event of one message, or ErrNotFound.
func (s *Storage) MailboxEventAt(ctx context.Context, mailbox string, validity, uid uint32) (*MailboxEvent, error) {
	ev, err := scanMailboxEvent(s.r.QueryRowContext(ctx, "SELECT "+mailboxEventColumns+
		" FROM mailbox_events e WHERE mailbox = ? AND uid_validity = ? AND uid = ?", mailbox, validity, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: mailbox event: %w", err)
	}
	return ev, nil
}

// MailboxEventByUUID returns the event with this public identifier, or
// ErrNotFound.
func (s *Storage) MailboxEventByUUID(ctx context.Context, id uuid.UUID) (*MailboxEvent, error) {
	ev, err := scanMailboxEvent(s.r.QueryRowContext(ctx, "SELECT "+mailboxEventColumns+" FROM mailbox_events e WHERE e.uuid = ?", id.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: mailbox event: %w", err)
	}
	return ev, nil
}

// SetMailboxEventFolder records where the message of event id went, and
// adds problem, when not empty, to the event's error.
func (s *Storage) SetMailboxEventFolder(ctx context.Context, id int64, folder, problem string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE mailbox_events SET folder = ?,
		error = CASE WHEN ? = '' THEN error WHEN error = '' THEN ? ELSE error || '; ' || ? END WHERE id = ?`,
		folder, problem, problem, problem, id)
	if err != nil {
		return fmt.Errorf("store: mailbox event folder: %w", err)
	}
	return oneRow(res)
}

// MailboxEventFilter selects mailbox events.
type MailboxEventFilter struct {
	Campaign string        // the campaign's UUID or name; empty: all
	Kind     string        // empty: all
	Action   MailboxAction // empty: all
	Limit    int           // 0: no limit
	Offset   int
}

const mailboxEventsFrom = ` FROM mailbox_events e LEFT JOIN campaigns c ON c.id = e.campaign_id
	LEFT JOIN subscribers sub ON sub.id = e.subscriber_id`

func (f MailboxEventFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.Campaign != "" {
		conds = append(conds, "(c.uuid = ? OR c.name = ?)")
		args = append(args, strings.ToLower(f.Campaign), f.Campaign)
	}
	if f.Kind != "" {
		conds = append(conds, "e.kind = ?")
		args = append(args, f.Kind)
	}
	if f.Action != "" {
		conds = append(conds, "e.action = ?")
		args = append(args, f.Action)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// MailboxEvents returns the events matching f, newest first.
func (s *Storage) MailboxEvents(ctx context.Context, f MailboxEventFilter) ([]*MailboxEvent, error) {
	where, args := f.where()
	q := "SELECT " + mailboxEventColumns + ", coalesce(c.uuid, ''), coalesce(c.name, ''), coalesce(sub.uuid, ''), coalesce(sub.email, '')" +
		mailboxEventsFrom + where + " ORDER BY e.id DESC"
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	var out []*MailboxEvent
	err := s.each(ctx, q, args, func(rows *sql.Rows) error {
		var extra [4]string
		ev, err := scanMailboxEvent(rows, &extra[0], &extra[1], &extra[2], &extra[3])
		if err != nil {
			return err
		}
		ev.CampaignUUID, ev.CampaignName, ev.SubscriberUUID, ev.SubscriberEmail = extra[0], extra[1], extra[2], extra[3]
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox events: %w", err)
	}
	return out, nil
}

// CountMailboxEvents returns how many events match f (Limit and Offset
// aside): the length of the console's list.
func (s *Storage) CountMailboxEvents(ctx context.Context, f MailboxEventFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*)"+mailboxEventsFrom+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count mailbox events: %w", err)
	}
	return n, nil
}

// UnverifiedMailboxEvents counts, by kind, the bounces, complaints and
// mailto unsubscribe requests read without a verified token or a
// Message-ID of ours (matched_by empty, "address" or "from"): what anyone
// could have written. The count survives an admin applying them, so that
// /metrics can expose it as a counter.
func (s *Storage) UnverifiedMailboxEvents(ctx context.Context) (map[string]int, error) {
	cs, err := counts(ctx, s.r, `SELECT kind, count(*) FROM mailbox_events WHERE kind IN ('hard', 'soft', 'complaint', 'unsubscribe')
		AND matched_by NOT IN ('token', 'verp', 'header', 'message-id') GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("store: unverified mailbox events: %w", err)
	}
	out := map[string]int{}
	for _, c := range cs {
		out[c.Key] = c.Count
	}
	return out, nil
}

const mailboxEventColumns = `e.id, e.uuid, e.mailbox, e.uid_validity, e.uid, e.message_id, e.from_addr, e.subject, e.kind, e.reason,
	e.status, e.diagnostic, e.recipients, coalesce(e.delivery_id, 0), coalesce(e.campaign_id, 0), coalesce(e.subscriber_id, 0),
	e.matched_by, e.action, e.folder, e.error, e.received_at, e.processed_at`

func scanMailboxEvent(row scanner, extra ...any) (*MailboxEvent, error) {
	var (
		ev         MailboxEvent
		recipients string
		received   sql.NullTime
	)
	dest := []any{&ev.ID, &ev.UUID, &ev.Mailbox, &ev.UIDValidity, &ev.UID, &ev.MessageID, &ev.From, &ev.Subject, &ev.Kind,
		&ev.Reason, &ev.Status, &ev.Diagnostic, &recipients, &ev.DeliveryID, &ev.CampaignID, &ev.SubscriberID,
		&ev.MatchedBy, &ev.Action, &ev.Folder, &ev.Error, &received, &ev.ProcessedAt}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	ev.ReceivedAt = received.Time
	if err := json.Unmarshal([]byte(recipients), &ev.Recipients); err != nil {
		return nil, fmt.Errorf("recipients of mailbox event %d: %w", ev.ID, err)
	}
	return &ev, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DeliveryRef names what a message read from the mailbox was matched to: a
// delivery, its campaign and its subscriber. DeliveryID and CampaignID are 0
// when only the subscriber is known; SubscriberID is 0 when the subscriber
// was erased.
type DeliveryRef struct {
	DeliveryID   int64
	DeliveryUUID uuid.UUID
	CampaignID   int64
	SubscriberID int64
	Email        string // the address the delivery went to, or the subscriber's
}

// latestDelivery orders a subscriber's deliveries, the one a message about
// them most likely concerns first: the last one sent.
const latestDelivery = "state = 'sent' DESC, coalesce(sent_at, created_at) DESC, id DESC"

const deliveryRefQuery = `SELECT d.id, d.uuid, d.campaign_id, coalesce(d.subscriber_id, 0), d.email FROM deliveries d`

func (s *Storage) deliveryRef(ctx context.Context, where string, args ...any) (*DeliveryRef, error) {
	var ref DeliveryRef
	err := s.r.QueryRowContext(ctx, deliveryRefQuery+" WHERE "+where, args...).
		Scan(&ref.DeliveryID, &ref.DeliveryUUID, &ref.CampaignID, &ref.SubscriberID, &ref.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: match delivery: %w", err)
	}
	return &ref, nil
}

// MatchDelivery returns the delivery with this public identifier: the
// payload of a verified delivery token.
func (s *Storage) MatchDelivery(ctx context.Context, id uuid.UUID) (*DeliveryRef, error) {
	return s.deliveryRef(ctx, "d.uuid = ?", id.String())
}

// MatchDeliveryByMessageID returns the delivery sent with this Message-ID,
// with or without its angle brackets.
func (s *Storage) MatchDeliveryByMessageID(ctx context.Context, messageID string) (*DeliveryRef, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(messageID), "<"), ">")
	if id == "" {
		return nil, ErrNotFound
	}
	return s.deliveryRef(ctx, "d.message_id IN (?, ?) ORDER BY d.id DESC LIMIT 1", id, "<"+id+">")
}

// MatchAddress returns the subscriber with this address and its delivery:
// the one of the campaign whose UUID is given when there is one, else the
// most recent one sent. DeliveryID is 0 when the subscriber was never sent
// anything; ErrNotFound means no subscriber has the address.
func (s *Storage) MatchAddress(ctx context.Context, email, campaignUUID string) (*DeliveryRef, error) {
	var subID int64
	var subEmail string
	err := s.r.QueryRowContext(ctx, "SELECT id, email FROM subscribers WHERE email_key = ?", address.Key(email)).Scan(&subID, &subEmail)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: match address: %w", err)
	}
	if campaignUUID != "" {
		ref, err := s.deliveryRef(ctx, "d.subscriber_id = ? AND d.campaign_id = (SELECT id FROM campaigns WHERE uuid = ?)",
			subID, strings.ToLower(campaignUUID))
		if !errors.Is(err, ErrNotFound) {
			return ref, err
		}
	}
	ref, err := s.deliveryRef(ctx, "d.subscriber_id = ? ORDER BY "+latestDelivery+" LIMIT 1", subID)
	if errors.Is(err, ErrNotFound) {
		return &DeliveryRef{SubscriberID: subID, Email: subEmail}, nil
	}
	return ref, err
}
