package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
)

// Status is a subscriber's standing.
type Status string

// The statuses of a subscriber.
const (
	Active       Status = "active"
	Pending      Status = "pending" // double opt-in not yet confirmed
	Unsubscribed Status = "unsubscribed"
	Bounced      Status = "bounced"
	Complained   Status = "complained"
)

// Suppressed reports whether a subscriber with this status must never be
// mailed (invariant 1). Pending is not suppressed but is not mailed either.
func (st Status) Suppressed() bool {
	return st == Unsubscribed || st == Bounced || st == Complained
}

// Valid reports whether st is one of the statuses.
func (st Status) Valid() bool {
	switch st {
	case Active, Pending, Unsubscribed, Bounced, Complained:
		return true
	}
	return false
}

// ErrSuppressed is returned when adding an address that was erased or is
// suppressed: only the person's own opt-in may bring it back.
var ErrSuppressed = errors.New("address is suppressed")

// Subscriber is one address with its status, attributes and consent.
type Subscriber struct {
	ID           int64
	UUID         uuid.UUID
	Email        string
	FirstName    string
	LastName     string
	Organisation string
	Attributes   map[string]string
	Status       Status
	StatusReason string // why, in English or in the words of a relay or a person
	// StatusNote is StatusReason for a page, in the reader's language.
	StatusNote      i18n.Message
	StatusChangedAt time.Time
	Consent         Consent
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Consent records how a subscriber came to be on the lists.
type Consent struct {
	Source string    // "import FILE", "form", "admin", "api"
	At     time.Time // zero when unknown
	IP     string
	Text   string // what the person was shown when they agreed
}

const subscriberColumns = `id, uuid, email, first_name, last_name, organisation, attributes, status,
	status_reason, status_reason_code, status_reason_params, status_changed_at, consent_source, consent_at, consent_ip,
	consent_text, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanSubscriber(row scanner) (*Subscriber, error) {
	var (
		sub                      Subscriber
		attrs                    string
		consentAt                sql.NullTime
		reasonCode, reasonParams string
	)
	err := row.Scan(&sub.ID, &sub.UUID, &sub.Email, &sub.FirstName, &sub.LastName, &sub.Organisation, &attrs,
		&sub.Status, &sub.StatusReason, &reasonCode, &reasonParams, &sub.StatusChangedAt, &sub.Consent.Source, &consentAt, &sub.Consent.IP,
		&sub.Consent.Text, &sub.CreatedAt, &sub.UpdatedAt)
	if err != nil {
		return nil, err
	}
	sub.Consent.At = consentAt.Time
	sub.StatusNote = i18n.Stored(reasonCode, reasonParams, sub.StatusReason)
	if err := json.Unmarshal([]byte(attrs), &sub.Attributes); err != nil {
		return nil, fmt.Errorf("attributes of subscriber %d: %w", sub.ID, err)
	}
	return &sub, nil
}

func (s *Storage) subscriber(ctx context.Context, where string, arg any) (*Subscriber, error) {
	sub, err := scanSubscriber(s.r.QueryRowContext(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: subscriber: %w", err)
	}
	return sub, nil
}

// SubscriberByEmail returns the subscriber with this address, whatever its case.
func (s *Storage) SubscriberByEmail(ctx context.Context, email string) (*Subscriber, error) {
	return s.subscriber(ctx, "email_key = ?", address.Key(email))
}

// SubscriberByUUID returns the subscriber with this public identifier.
func (s *Storage) SubscriberByUUID(ctx context.Context, id uuid.UUID) (*Subscriber, error) {
	return s.subscriber(ctx, "uuid = ?", id.String())
}

// SubscriberByID returns the subscriber with this row id.
func (s *Storage) SubscriberByID(ctx context.Context, id int64) (*Subscriber, error) {
	return s.subscriber(ctx, "id = ?", id)
}

// IsErased reports whether an address was erased and so must not be re-added.
func (s *Storage) IsErased(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM suppressions WHERE email_hash = ?", s.erasure.hash(email)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: suppressions: %w", err)
	}
	return n > 0, nil
}

// AddSubscriber creates a subscriber (from the admin console, the API or the
// subscribe form) and puts it on lists. An address that exists is
// ErrDuplicate; one that was erased is ErrSuppressed, unless optIn says the
// person asked for it themselves (the erasure record is then lifted).
func (s *Storage) AddSubscriber(ctx context.Context, sub *Subscriber, lists []string, optIn bool) error {
	if !sub.Status.Valid() {
		return fmt.Errorf("store: add subscriber: bad status %q", sub.Status)
	}
	attrs, err := json.Marshal(nonNil(sub.Attributes))
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		hash := s.erasure.hash(sub.Email)
		var erased int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM suppressions WHERE email_hash = ?", hash).Scan(&erased); err != nil {
			return err
		}
		if erased > 0 {
			if !optIn {
				return ErrSuppressed
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM suppressions WHERE email_hash = ?", hash); err != nil {
				return err
			}
		}
		t := now()
		sub.UUID = uuid.New()
		sub.CreatedAt, sub.UpdatedAt, sub.StatusChangedAt = t, t, t
		err := tx.QueryRowContext(ctx, `INSERT INTO subscribers (uuid, email, email_key, first_name, last_name,
			organisation, attributes, status, status_reason, status_changed_at, consent_source, consent_at, consent_ip,
			consent_text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sub.UUID.String(), sub.Email, address.Key(sub.Email), sub.FirstName, sub.LastName, sub.Organisation,
			string(attrs), sub.Status, sub.StatusReason, t, sub.Consent.Source, nullTime(sub.Consent.At),
			sub.Consent.IP, sub.Consent.Text, t, t).Scan(&sub.ID)
		if isUnique(err) {
			return ErrDuplicate
		}
		if err != nil {
			return err
		}
		if err := addEvent(ctx, tx, event{subscriber: sub.ID, kind: "created", status: sub.Status, source: sub.Consent.Source}); err != nil {
			return err
		}
		for _, name := range lists {
			if err := joinList(ctx, tx, sub.ID, name, sub.Consent.Source); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateSubscriber saves the name, organisation and attributes of sub.
// Status changes go through SetStatus, which keeps their history.
func (s *Storage) UpdateSubscriber(ctx context.Context, sub *Subscriber) error {
	attrs, err := json.Marshal(nonNil(sub.Attributes))
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE subscribers SET first_name = ?, last_name = ?, organisation = ?,
		attributes = ?, updated_at = ? WHERE id = ?`, sub.FirstName, sub.LastName, sub.Organisation, string(attrs), now(), sub.ID)
	if err != nil {
		return fmt.Errorf("store: update subscriber: %w", err)
	}
	return oneRow(res)
}

// StatusChange is one change of a subscriber's status and why.
type StatusChange struct {
	Status Status
	Reason string // e.g. the bounce's diagnostic: words from outside, kept as they are
	// Note, when set, is what Bulletin says of the change, shown in the
	// reader's language; it is then kept as the reason (Reason is ignored).
	Note       i18n.Message
	Source     string // one-click, link, mailto, bounce, complaint, admin, api, form, import FILE
	CampaignID int64  // the campaign it is attributed to, or 0
	// Force lets the change leave a suppressed status. Only the person's own
	// opt-in (a confirmed subscription, "resubscribe") may set it, or an
	// admin lifting a complaint or a bounce with a reason.
	Force bool
}

// SetStatus changes a subscriber's status and records the change. Leaving a
// suppressed status without Force is ErrSuppressed (invariant 1). It reports
// whether the status changed.
func (s *Storage) SetStatus(ctx context.Context, id int64, c StatusChange) (bool, error) {
	return s.updateStatus(ctx, id, c, nil)
}

// SetStatusAndConsent is SetStatus for a person's own opt-in (a double
// opt-in confirmed, say): when the status changes, consent becomes the
// subscriber's consent record in the same transaction. An address that
// comes back after a suppression is then on file with the consent that
// brought it back, not the one it had before it left.
func (s *Storage) SetStatusAndConsent(ctx context.Context, id int64, c StatusChange, consent Consent) (bool, error) {
	return s.updateStatus(ctx, id, c, &consent)
}

// updateStatus is SetStatus, and SetStatusAndConsent when consent is not nil.
func (s *Storage) updateStatus(ctx context.Context, id int64, c StatusChange, consent *Consent) (bool, error) {
	if !c.Status.Valid() {
		return false, fmt.Errorf("store: set status: bad status %q", c.Status)
	}
	var changed bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		if _, changed, err = changeStatus(ctx, tx, id, c); err != nil || !changed || consent == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET consent_source = ?, consent_at = ?, consent_ip = ?,
			consent_text = ? WHERE id = ?`, consent.Source, nullTime(consent.At), consent.IP, consent.Text, id)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrSuppressed) {
		err = fmt.Errorf("store: set status: %w", err)
	}
	return changed, err
}

// changeStatus is SetStatus within tx. It also returns the status found, so
// that callers can say why nothing changed.
func changeStatus(ctx context.Context, tx dbtx, id int64, c StatusChange) (Status, bool, error) {
	var cur Status
	if err := tx.QueryRowContext(ctx, "SELECT status FROM subscribers WHERE id = ?", id).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", false, ErrNotFound
		}
		return "", false, err
	}
	if cur == c.Status {
		return cur, false, nil
	}
	if cur.Suppressed() && !c.Force {
		return cur, false, ErrSuppressed
	}
	return cur, true, setStatus(ctx, tx, id, c)
}

func setStatus(ctx context.Context, tx dbtx, id int64, c StatusChange) error {
	t := now()
	reason, code, params := c.Reason, "", ""
	if !c.Note.IsZero() {
		reason = c.Note.String()
		code, params = c.Note.Encode()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_reason = ?, status_reason_code = ?,
		status_reason_params = ?, status_changed_at = ?, updated_at = ? WHERE id = ?`, c.Status, reason, code, params, t, t, id); err != nil {
		return err
	}
	return addEvent(ctx, tx, event{subscriber: id, kind: "status", status: c.Status, source: c.Source, campaign: c.CampaignID, detail: c.Reason, note: c.Note})
}

// EraseSubscriber deletes everything held about an address (GDPR erasure)
// and leaves only the keyed hash of the address, so that it is never mailed
// again. Figures in reports keep their counts without the person. The
// deleted content is overwritten in the file (secure_delete) and the
// write-ahead log emptied, so that the person cannot be read back from
// either. Files outside the database are the caller's: see erasure.Erase.
func (s *Storage) EraseSubscriber(ctx context.Context, email string) error {
	if err := s.eraseSubscriber(ctx, email); err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("store: erase: %w", err)
	}
	if err := s.checkpoint(ctx); err != nil {
		return fmt.Errorf("store: erase: erased, but the write-ahead log still holds the old data: %w", err)
	}
	return nil
}

func (s *Storage) eraseSubscriber(ctx context.Context, email string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var st Status
		err := tx.QueryRowContext(ctx, "SELECT id, status FROM subscribers WHERE email_key = ?", address.Key(email)).Scan(&id, &st)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		steps := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, ?, ?)
				ON CONFLICT (email_hash) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at, keyed = 1`, []any{s.erasure.hash(email), "erased (" + string(st) + ")", now()}},
			{"UPDATE deliveries SET email = '', reply = '' WHERE subscriber_id = ?", []any{id}},
			{"UPDATE mailbox_events SET from_addr = '', recipients = '[]', diagnostic = '' WHERE subscriber_id = ?", []any{id}},
			{"UPDATE subscriber_events SET detail = '', detail_code = '', detail_params = '' WHERE subscriber_id = ?", []any{id}},
			{"INSERT INTO subscriber_events (kind, source, at) VALUES ('erased', 'admin', ?)", []any{now()}},
			{"DELETE FROM subscribers WHERE id = ?", []any{id}},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// SubscriberFilter selects subscribers for the console, the API and exports.
type SubscriberFilter struct {
	List   string // list name; empty: all
	Status Status // empty: all
	Search string // part of the address, name or organisation
	Limit  int    // 0: no limit
	Offset int
}

func (f SubscriberFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.List != "" {
		conds = append(conds, "id IN (SELECT m.subscriber_id FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name = ?)")
		args = append(args, f.List)
	}
	if f.Status != "" {
		conds = append(conds, "status = ?")
		args = append(args, f.Status)
	}
	if f.Search != "" {
		// The search string is a bound parameter; LIKE's own wildcards in it
		// are escaped so that "50%" finds "50%".
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Search)) + "%"
		conds = append(conds, `(email_key LIKE ? ESCAPE '\' OR lower(first_name || ' ' || last_name) LIKE ? ESCAPE '\' OR lower(organisation) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Subscribers calls fn for each subscriber matching f, ordered by address,
// without holding them all in memory.
func (s *Storage) Subscribers(ctx context.Context, f SubscriberFilter, fn func(*Subscriber) error) error {
	where, args := f.where()
	q := "SELECT " + subscriberColumns + " FROM subscribers" + where + " ORDER BY email_key"
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return fmt.Errorf("store: subscribers: %w", err)
		}
		if err := fn(sub); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountSubscribers counts the subscribers matching f (Limit and Offset aside).
func (s *Storage) CountSubscribers(ctx context.Context, f SubscriberFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM subscribers"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count subscribers: %w", err)
	}
	return n, nil
}

// event is one row of subscriber_events.
type event struct {
	subscriber int64 // 0: no one (an erased address's refused request)
	kind       string
	status     Status
	source     string
	campaign   int64
	list       int64
	detail     string       // words from outside, kept as they are
	note       i18n.Message // what Bulletin says of it; when set, detail is ignored
}

func addEvent(ctx context.Context, tx dbtx, e event) error {
	code, params := e.note.Encode()
	if !e.note.IsZero() {
		e.detail = e.note.String()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, kind, status, source, campaign_id, list_id, detail,
		detail_code, detail_params, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, nullID(e.subscriber), e.kind, e.status, e.source,
		nullID(e.campaign), nullID(e.list), e.detail, code, params, now())
	return err
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// AttributeKeys returns the free attribute names used by the subscribers
// matching f, sorted, so that an export can give each its column.
func (s *Storage) AttributeKeys(ctx context.Context, f SubscriberFilter) ([]string, error) {
	where, args := f.where()
	var keys []string
	err := s.each(ctx, "SELECT DISTINCT j.key FROM (SELECT attributes FROM subscribers"+where+") s, json_each(s.attributes) j ORDER BY j.key",
		args, func(rows *sql.Rows) error {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			keys = append(keys, k)
			return nil
		})
	return keys, err
}
