package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// The kinds of recurring schedule.
const (
	ScheduleReminder = "reminder" // mail a reminder to staff
	ScheduleCampaign = "campaign" // send a copy of a campaign
)

// Schedule is a recurring schedule: a cron specification read in the
// configured time zone, and what to do each time it fires.
type Schedule struct {
	ID           int64
	UUID         uuid.UUID
	Spec         string
	Kind         string
	Reminder     string
	CampaignID   int64     // for ScheduleCampaign
	CampaignName string    // filled when read
	NextAt       time.Time // the next firing
	LastFiredAt  time.Time
	LastResult   string
	Enabled      bool
	CreatedAt    time.Time
}

// CreateSchedule stores a new schedule; sch.NextAt must be set.
func (s *Storage) CreateSchedule(ctx context.Context, sch *Schedule) error {
	t := now()
	sch.UUID, sch.CreatedAt, sch.Enabled = uuid.New(), t, true
	err := s.w.QueryRowContext(ctx, `INSERT INTO schedules (uuid, spec, kind, reminder, campaign_id, next_at, enabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?) RETURNING id`, sch.UUID.String(), sch.Spec, sch.Kind, sch.Reminder, nullID(sch.CampaignID), sch.NextAt.UTC(), t).Scan(&sch.ID)
	if err != nil {
		return fmt.Errorf("store: create schedule: %w", err)
	}
	return err
}

const scheduleColumns = `s.id, s.uuid, s.spec, s.kind, s.reminder, s.campaign_id, coalesce(c.name, ''), s.next_at, s.last_fired_at,
	s.last_result, s.enabled, s.created_at FROM schedules s LEFT JOIN campaigns c ON c.id = s.campaign_id`

func (s *Storage) schedules(ctx context.Context, rest string, args ...any) ([]*Schedule, error) {
	var out []*Schedule
	err := s.each(ctx, "SELECT "+scheduleColumns+" "+rest, args, func(rows *sql.Rows) error {
		var sch Schedule
		var cid sql.NullInt64
		var last sql.NullTime
		if err := rows.Scan(&sch.ID, &sch.UUID, &sch.Spec, &sch.Kind, &sch.Reminder, &cid, &sch.CampaignName, &sch.NextAt,
			&last, &sch.LastResult, &sch.Enabled, &sch.CreatedAt); err != nil {
			return err
		}
		sch.CampaignID, sch.LastFiredAt = cid.Int64, last.Time
		out = append(out, &sch)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: schedules: %w", err)
	}
	return out, nil
}

// Schedules returns every schedule, by next firing.
func (s *Storage) Schedules(ctx context.Context) ([]*Schedule, error) {
	return s.schedules(ctx, "ORDER BY s.enabled DESC, s.next_at, s.id")
}

// DueSchedules returns the enabled schedules whose next firing is at or
// before t.
func (s *Storage) DueSchedules(ctx context.Context, t time.Time) ([]*Schedule, error) {
	return s.schedules(ctx, "WHERE s.enabled = 1 AND s.next_at <= ? ORDER BY s.next_at, s.id", t.UTC())
}

// NextScheduleAt returns the earliest next firing of the enabled schedules
// and of the scheduled campaigns, or the zero time when there is none: the
// scheduler sleeps until then.
func (s *Storage) NextScheduleAt(ctx context.Context) (time.Time, error) {
	var v sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT min(t) FROM (SELECT min(next_at) AS t FROM schedules WHERE enabled = 1
		UNION ALL SELECT min(send_at) FROM campaigns WHERE state = 'scheduled') AS firings`).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next schedule: %w", err)
	}
	return parseTime(v.String), nil
}

// AdvanceSchedule moves a schedule's next firing from from to next, and
// reports whether this call did it. Moving it is what claims a firing: of
// two processes that see the same due schedule, only the one whose update
// finds next_at still at from fires it, so that a schedule never fires twice.
func (s *Storage) AdvanceSchedule(ctx context.Context, id int64, from, next time.Time, fired bool) (bool, error) {
	q := "UPDATE schedules SET next_at = ? WHERE id = ? AND next_at = ?"
	args := []any{next.UTC(), id, from.UTC()}
	if fired {
		q = "UPDATE schedules SET next_at = ?, last_fired_at = ? WHERE id = ? AND next_at = ?"
		args = []any{next.UTC(), now(), id, from.UTC()}
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("store: advance schedule: %w", err)
	}
	return oneRow(res) == nil, nil
}

// SetScheduleResult records what the last firing did.
func (s *Storage) SetScheduleResult(ctx context.Context, id int64, result string) error {
	if _, err := s.w.ExecContext(ctx, "UPDATE schedules SET last_result = ? WHERE id = ?", result, id); err != nil {
		return fmt.Errorf("store: schedule result: %w", err)
	}
	return nil
}

// DeleteSchedule deletes the schedule whose UUID starts with ref.
func (s *Storage) DeleteSchedule(ctx context.Context, ref string) error {
	var ids []int64
	err := s.each(ctx, "SELECT id FROM schedules WHERE uuid LIKE ? LIMIT 2", []any{ref + "%"}, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		ids = append(ids, id)
		return err
	})
	switch {
	case err != nil:
		return err
	case len(ids) == 0 || ref == "":
		return ErrNotFound
	case len(ids) > 1:
		return ErrAmbiguous
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM schedules WHERE id = ?", ids[0])
	if err != nil {
		return fmt.Errorf("store: delete schedule: %w", err)
	}
	if err := oneRow(res); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
