package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// List is a named set of subscribers.
type List struct {
	ID          int64
	UUID        uuid.UUID
	Name        string
	Description string
	Public      bool // offered on the subscribe form; its archive is public
	CreatedAt   time.Time
	// Counts of members by the subscriber's status, for members who have not
	// left this list; filled by Lists.
	Counts map[Status]int
}

// CreateList creates a list. A name already taken (whatever its case) is ErrDuplicate.
func (s *Storage) CreateList(ctx context.Context, l *List) error {
	l.UUID, l.CreatedAt = uuid.New(), now()
	err := s.w.QueryRowContext(ctx, "INSERT INTO lists (uuid, name, description, public, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		l.UUID.String(), l.Name, l.Description, l.Public, l.CreatedAt).Scan(&l.ID)
	if isUnique(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: create list: %w", err)
	}
	return err
}

// UpdateList saves a list's name, description and visibility.
func (s *Storage) UpdateList(ctx context.Context, l *List) error {
	res, err := s.w.ExecContext(ctx, "UPDATE lists SET name = ?, description = ?, public = ? WHERE id = ?", l.Name, l.Description, l.Public, l.ID)
	if isUnique(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: update list: %w", err)
	}
	return oneRow(res)
}

const listColumns = "id, uuid, name, description, public, created_at"

func scanList(row scanner) (*List, error) {
	var l List
	if err := row.Scan(&l.ID, &l.UUID, &l.Name, &l.Description, &l.Public, &l.CreatedAt); err != nil {
		return nil, err
	}
	return &l, nil
}

// ListByName returns the list with this name, whatever its case.
func (s *Storage) ListByName(ctx context.Context, name string) (*List, error) {
	return s.list(ctx, "name = ?", name)
}

// ListByUUID returns the list with this public identifier.
func (s *Storage) ListByUUID(ctx context.Context, id uuid.UUID) (*List, error) {
	return s.list(ctx, "uuid = ?", id.String())
}

func (s *Storage) list(ctx context.Context, where string, arg any) (*List, error) {
	return queryOne(ctx, s.r, "list", scanList, "SELECT "+listColumns+" FROM lists WHERE "+where, arg)
}

// Lists returns every list by name, with its counts.
func (s *Storage) Lists(ctx context.Context) ([]*List, error) {
	lists, err := queryAll(ctx, s.r, scanList, "SELECT "+listColumns+" FROM lists ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: lists: %w", err)
	}
	byID := map[int64]*List{}
	for _, l := range lists {
		l.Counts = map[Status]int{}
		byID[l.ID] = l
	}
	err = eachRow(ctx, s.r, `SELECT m.list_id, s.status, count(*) FROM list_members m
		JOIN subscribers s ON s.id = m.subscriber_id WHERE m.status = 'subscribed' GROUP BY m.list_id, s.status`, nil,
		func(rows *sql.Rows) error {
			var id int64
			var st Status
			var n int
			if err := rows.Scan(&id, &st, &n); err != nil {
				return err
			}
			if l := byID[id]; l != nil {
				l.Counts[st] = n
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: list counts: %w", err)
	}
	return lists, nil
}

// DeleteList deletes a list and its memberships; subscribers stay. A list
// that campaigns were sent to is kept for their reports: ErrInUse.
func (s *Storage) DeleteList(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM lists WHERE id = ?", id)
	if err != nil {
		var n int
		if s.r.QueryRowContext(ctx, "SELECT count(*) FROM campaign_lists WHERE list_id = ?", id).Scan(&n) == nil && n > 0 {
			return ErrInUse
		}
		return fmt.Errorf("store: delete list: %w", err)
	}
	return oneRow(res)
}

// ErrInUse is returned when deleting something other records still need.
var ErrInUse = errors.New("in use")

// SubscriberLists returns the names of the lists a subscriber is on, and for
// each whether they left it.
func (s *Storage) SubscriberLists(ctx context.Context, subscriberID int64) (map[string]bool, error) {
	out := map[string]bool{}
	err := eachRow(ctx, s.r, `SELECT l.name, m.status = 'subscribed' FROM list_members m
		JOIN lists l ON l.id = m.list_id WHERE m.subscriber_id = ? ORDER BY l.name`, []any{subscriberID},
		func(rows *sql.Rows) error {
			var name string
			var on bool
			if err := rows.Scan(&name, &on); err != nil {
				return err
			}
			out[name] = on
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: subscriber lists: %w", err)
	}
	return out, nil
}

// AddToList puts a subscriber on a list, creating the list if needed. A
// subscriber who left the list stays off it: only their own choice on the
// preference page brings them back (SetMembership).
func (s *Storage) AddToList(ctx context.Context, subscriberID int64, list, source string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return joinList(ctx, tx, subscriberID, list, source) })
}

// SetMembership records a subscriber's own choice to be on a list or not
// (preference page, admin).
func (s *Storage) SetMembership(ctx context.Context, subscriberID, listID int64, subscribed bool, source string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return setMembership(ctx, tx, subscriberID, listID, subscribed, source) })
}

// setMembership is SetMembership within tx (also used when a confirmation
// link joins the lists it carries).
func setMembership(ctx context.Context, tx dbtx, subscriberID, listID int64, subscribed bool, source string) error {
	status, kind := "unsubscribed", "list_removed"
	if subscribed {
		status, kind = "subscribed", "list_added"
	}
	t := now()
	res, err := tx.ExecContext(ctx, `INSERT INTO list_members (list_id, subscriber_id, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (list_id, subscriber_id) DO UPDATE SET status = excluded.status,
		updated_at = excluded.updated_at WHERE list_members.status != excluded.status`, listID, subscriberID, status, t, t)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return addEvent(ctx, tx, event{subscriber: subscriberID, kind: kind, source: source, list: listID})
}

func joinList(ctx context.Context, tx dbtx, subscriberID int64, name, source string) error {
	var listID int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM lists WHERE name = ?", name).Scan(&listID)
	if errors.Is(err, sql.ErrNoRows) {
		err := tx.QueryRowContext(ctx, "INSERT INTO lists (uuid, name, created_at) VALUES (?, ?, ?) RETURNING id", uuid.NewString(), name, now()).Scan(&listID)
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	t := now()
	res, err := tx.ExecContext(ctx, `INSERT INTO list_members (list_id, subscriber_id, created_at, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, listID, subscriberID, t, t)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return addEvent(ctx, tx, event{subscriber: subscriberID, kind: "list_added", source: source, list: listID})
}
