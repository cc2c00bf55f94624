package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/i18n"
)

// CampaignState is where a campaign is in its life. The allowed moves
// between states are decided in one place, campaign.Transition; the store
// only checks, in the same transaction as the change, that the campaign is
// still in a state the move starts from.
type CampaignState string

// The states of a campaign.
const (
	Draft     CampaignState = "draft"
	Scheduled CampaignState = "scheduled"
	Sending   CampaignState = "sending"
	Paused    CampaignState = "paused"
	Sent      CampaignState = "sent"
	Cancelled CampaignState = "cancelled"
	Failed    CampaignState = "failed"
)

// Campaign is one send of an edition to some lists.
type Campaign struct {
	ID          int64
	UUID        uuid.UUID
	Name        string
	EditionID   int64
	EditionSlug string // filled when read
	Subject     string
	From        string // "Name <addr>"
	ReplyTo     string
	Filter      string // the attribute filter as written; see campaign.ParseFilter
	// Track counts opens and clicks: a pixel and redirected links in each
	// message. Off unless staff choose it (CNIL: readers' consent first).
	Track       bool
	State       CampaignState
	StateReason string // why it is paused or failed, in English
	// Reason is StateReason for a page, in the reader's language.
	Reason     i18n.Message
	SendAt     time.Time // zero unless scheduled
	StartedAt  time.Time // when the recipients were fixed
	FinishedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// ListIDs are the lists it goes to; Lists their names, filled when read.
	ListIDs []int64
	Lists   []string
}

// CreateCampaign creates a draft campaign and records its first transition.
func (s *Storage) CreateCampaign(ctx context.Context, c *Campaign) error {
	if len(c.ListIDs) == 0 {
		return errors.New("store: create campaign: no list")
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		c.UUID, c.State, c.CreatedAt, c.UpdatedAt = uuid.New(), Draft, t, t
		err := tx.QueryRowContext(ctx, `INSERT INTO campaigns (uuid, name, edition_id, subject, from_addr, reply_to,
			filter, track, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.UUID.String(), c.Name, c.EditionID, c.Subject, c.From, c.ReplyTo, c.Filter, c.Track, c.State, t, t).Scan(&c.ID)
		if err != nil {
			return err
		}
		for _, l := range c.ListIDs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO campaign_lists (campaign_id, list_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.ID, l); err != nil {
				return err
			}
		}
		cause := i18n.M("campaign.cause.created")
		code, params := cause.Encode()
		_, err = tx.ExecContext(ctx, `INSERT INTO campaign_transitions (campaign_id, from_state, to_state, cause, cause_code, cause_params, at)
			VALUES (?, '', ?, ?, ?, ?, ?)`, c.ID, c.State, cause.String(), code, params, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create campaign: %w", err)
	}
	return nil
}

const campaignColumns = `c.id, c.uuid, c.name, c.edition_id, e.slug, c.subject, c.from_addr, c.reply_to, c.filter, c.track,
	c.state, c.state_reason, c.state_reason_code, c.state_reason_params, c.send_at, c.started_at, c.finished_at, c.created_at, c.updated_at,
	(SELECT string_agg(l.id || ':' || l.name, '
') FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = c.id)`

const campaignFrom = " FROM campaigns c JOIN editions e ON e.id = c.edition_id "

func scanCampaign(row scanner) (*Campaign, error) {
	var (
		c                         Campaign
		sendAt, started, finished sql.NullTime
		lists                     sql.NullString
		reasonCode, reasonParams  string
	)
	err := row.Scan(&c.ID, &c.UUID, &c.Name, &c.EditionID, &c.EditionSlug, &c.Subject, &c.From, &c.ReplyTo, &c.Filter, &c.Track,
		&c.State, &c.StateReason, &reasonCode, &reasonParams, &sendAt, &started, &finished, &c.CreatedAt, &c.UpdatedAt, &lists)
	if err != nil {
		return nil, err
	}
	c.SendAt, c.StartedAt, c.FinishedAt = sendAt.Time, started.Time, finished.Time
	c.Reason = i18n.Stored(reasonCode, reasonParams, c.StateReason)
	for _, l := range strings.Split(lists.String, "\n") {
		id, name, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var n int64
		fmt.Sscan(id, &n)
		c.ListIDs = append(c.ListIDs, n)
		c.Lists = append(c.Lists, name)
	}
	return &c, nil
}

// CampaignByID returns the campaign with this row id.
func (s *Storage) CampaignByID(ctx context.Context, id int64) (*Campaign, error) {
	return s.campaign(ctx, "c.id = ?", id)
}

// CampaignByUUID returns the campaign with this public identifier.
func (s *Storage) CampaignByUUID(ctx context.Context, id uuid.UUID) (*Campaign, error) {
	return s.campaign(ctx, "c.uuid = ?", id.String())
}

func (s *Storage) campaign(ctx context.Context, where string, arg any) (*Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, "SELECT "+campaignColumns+campaignFrom+"WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: campaign: %w", err)
	}
	return c, nil
}

// ErrAmbiguous is returned when a short reference matches several things.
var ErrAmbiguous = errors.New("ambiguous")

// FindCampaign returns the campaign that ref names: its UUID, a unique
// prefix of it (4 characters or more), or its exact name.
func (s *Storage) FindCampaign(ctx context.Context, ref string) (*Campaign, error) {
	ref = strings.TrimSpace(ref)
	if id, err := uuid.Parse(ref); err == nil {
		return s.CampaignByUUID(ctx, id)
	}
	var found []*Campaign
	q := "SELECT " + campaignColumns + campaignFrom + "WHERE c.name = ?"
	args := []any{ref}
	if len(ref) >= 4 && strings.Trim(strings.ToLower(ref), "0123456789abcdef-") == "" {
		q = "SELECT " + campaignColumns + campaignFrom + "WHERE c.uuid LIKE ? OR c.name = ?"
		args = []any{strings.ToLower(ref) + "%", ref}
	}
	err := s.each(ctx, q+" LIMIT 2", args, func(rows *sql.Rows) error {
		c, err := scanCampaign(rows)
		if err == nil {
			found = append(found, c)
		}
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: find campaign: %w", err)
	case len(found) == 0:
		return nil, ErrNotFound
	case len(found) > 1:
		return nil, ErrAmbiguous
	}
	return found[0], nil
}

// Campaigns returns every campaign, the newest first.
func (s *Storage) Campaigns(ctx context.Context) ([]*Campaign, error) {
	return s.campaigns(ctx, "ORDER BY c.created_at DESC, c.id DESC")
}

// CampaignsToSend returns the campaigns in state sending: every engine
// takes part in each (see AcquireLease).
func (s *Storage) CampaignsToSend(ctx context.Context) ([]*Campaign, error) {
	return s.campaigns(ctx, "WHERE c.state = 'sending' ORDER BY c.id")
}

// DueCampaigns returns the scheduled campaigns whose send time is at or
// before t.
func (s *Storage) DueCampaigns(ctx context.Context, t time.Time) ([]*Campaign, error) {
	return s.campaigns(ctx, "WHERE c.state = 'scheduled' AND c.send_at <= ? ORDER BY c.send_at, c.id", t.UTC())
}

func (s *Storage) campaigns(ctx context.Context, rest string, args ...any) ([]*Campaign, error) {
	var out []*Campaign
	err := s.each(ctx, "SELECT "+campaignColumns+campaignFrom+rest, args, func(rows *sql.Rows) error {
		c, err := scanCampaign(rows)
		if err == nil {
			out = append(out, c)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	return out, nil
}

// CampaignContent returns the edition source frozen when the campaign
// started sending, and the folder of its media files. A campaign that has
// not started has no content yet: ErrNotFound.
func (s *Storage) CampaignContent(ctx context.Context, id int64) (content, dir string, err error) {
	var c sql.NullString
	err = s.r.QueryRowContext(ctx, "SELECT c.content, e.dir"+campaignFrom+"WHERE c.id = ?", id).Scan(&c, &dir)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !c.Valid {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("store: campaign content: %w", err)
	}
	return c.String, dir, nil
}

// UpdateCampaign saves what may change before a campaign starts: name,
// subject, sender, reply-to, filter and lists. A campaign that has started
// is ErrState.
func (s *Storage) UpdateCampaign(ctx context.Context, c *Campaign) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, subject = ?, from_addr = ?, reply_to = ?,
			filter = ?, updated_at = ? WHERE id = ? AND state IN ('draft', 'scheduled')`,
			c.Name, c.Subject, c.From, c.ReplyTo, c.Filter, now(), c.ID)
		if err != nil {
			return err
		}
		if oneRow(res) != nil {
			return &StateError{To: c.State}
		}
		if len(c.ListIDs) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM campaign_lists WHERE campaign_id = ?", c.ID); err != nil {
			return err
		}
		for _, l := range c.ListIDs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO campaign_lists (campaign_id, list_id) VALUES (?, ?) ON CONFLICT DO NOTHING", c.ID, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// CampaignTransitionRecord is one recorded change of a campaign's state.
type CampaignTransitionRecord struct {
	From, To CampaignState
	Cause    i18n.Message // who or what moved it, and why
	At       time.Time
}

// CampaignTransitions returns the history of a campaign's states, oldest first.
func (s *Storage) CampaignTransitions(ctx context.Context, id int64) ([]CampaignTransitionRecord, error) {
	var out []CampaignTransitionRecord
	err := s.each(ctx, "SELECT from_state, to_state, cause, cause_code, cause_params, at FROM campaign_transitions WHERE campaign_id = ? ORDER BY id", []any{id},
		func(rows *sql.Rows) error {
			var r CampaignTransitionRecord
			var cause, code, params string
			if err := rows.Scan(&r.From, &r.To, &cause, &code, &params, &r.At); err != nil {
				return err
			}
			r.Cause = i18n.Stored(code, params, cause)
			out = append(out, r)
			return nil
		})
	return out, err
}

// StateError is returned when a campaign is not in a state the requested
// change starts from (someone else changed it meanwhile, or the change makes
// no sense: resuming a sent campaign).
type StateError struct {
	Current CampaignState // "" when unknown
	To      CampaignState
}

func (e *StateError) Error() string {
	if e.Current == "" {
		return fmt.Sprintf("campaign cannot become %s now", e.To)
	}
	return fmt.Sprintf("campaign is %s: it cannot become %s", e.Current, e.To)
}

// AttrCond is one condition of a campaign's filter on subscriber attributes,
// compared without regard to case.
type AttrCond struct {
	Key    string
	Negate bool // key != value
	Value  string
}

// Transition is one change of a campaign's state.
type Transition struct {
	CampaignID int64
	From       []CampaignState // the states it may start from
	To         CampaignState
	Cause      i18n.Message // recorded in campaign_transitions
	Reason     i18n.Message // shown with the state (state_reason): why it is paused or failed
	// SendAt is the send time, when To is Scheduled.
	SendAt time.Time
	// LeaseOwner, when set, requires this engine to hold a lease on the
	// campaign: an engine ends or pauses only what it is sending.
	LeaseOwner string
	// Filter narrows the recipients when the campaign starts (To is
	// Sending and its recipients are not fixed yet).
	Filter []AttrCond
}

// TransitionCampaign applies tr in one transaction: it checks the current
// state, changes it, records the transition with its cause, and does what
// entering the new state implies:
//
//   - entering sending for the first time freezes the edition's source in
//     the campaign and fixes its recipients (the ledger): one row per
//     subscriber on its lists, deduplicated; a subscriber who is not active
//     (unsubscribed, bounced, complained, pending) or who left the list gets
//     a skipped row with the reason;
//   - entering cancelled or failed skips the rows not yet sent (reason
//     "cancelled" or "campaign-failed"), including rows left in flight by a
//     crashed engine;
//   - entering sent, cancelled or failed records the end time.
//
// It returns the state the campaign was in, or a *StateError.
func (s *Storage) TransitionCampaign(ctx context.Context, tr Transition) (CampaignState, error) {
	var cur CampaignState
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var started sql.NullTime
		err := tx.QueryRowContext(ctx, "SELECT state, started_at FROM campaigns WHERE id = ?", tr.CampaignID).
			Scan(&cur, &started)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		ok := false
		for _, f := range tr.From {
			ok = ok || f == cur
		}
		if ok && tr.LeaseOwner != "" {
			var held int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM campaign_leases WHERE campaign_id = ? AND owner = ?",
				tr.CampaignID, tr.LeaseOwner).Scan(&held); err != nil {
				return err
			}
			ok = held > 0
		}
		if !ok {
			return &StateError{Current: cur, To: tr.To}
		}
		t := now()
		reasonCode, reasonParams := tr.Reason.Encode()
		set := "state = ?, state_reason = ?, state_reason_code = ?, state_reason_params = ?, updated_at = ?"
		args := []any{tr.To, tr.Reason.String(), reasonCode, reasonParams, t}
		switch tr.To {
		case Scheduled:
			set += ", send_at = ?"
			args = append(args, tr.SendAt.UTC())
		case Sent, Cancelled, Failed:
			set += ", finished_at = ?"
			args = append(args, t)
		}
		if tr.To == Sending && !started.Valid {
			set += ", started_at = ?, content = (SELECT source FROM editions WHERE id = campaigns.edition_id)"
			args = append(args, t)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE campaigns SET "+set+" WHERE id = ?", append(args, tr.CampaignID)...); err != nil {
			return err
		}
		causeCode, causeParams := tr.Cause.Encode()
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_transitions (campaign_id, from_state, to_state, cause, cause_code, cause_params, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tr.CampaignID, cur, tr.To, tr.Cause.String(), causeCode, causeParams, t); err != nil {
			return err
		}
		switch {
		case tr.To == Sending && !started.Valid:
			return fixRecipients(ctx, tx, tr.CampaignID, tr.Filter, t)
		case tr.To == Cancelled || tr.To == Failed:
			// Rows in flight of a live engine are its own to record; those
			// of an engine whose lease has expired (a crash) nobody will.
			reason := "cancelled"
			if tr.To == Failed {
				reason = "campaign-failed"
			}
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'skipped', skip_reason = ?, updated_at = ?
				WHERE campaign_id = ? AND (state = 'queued' OR state = 'sending' AND NOT EXISTS (SELECT 1 FROM campaign_leases l
					WHERE l.campaign_id = deliveries.campaign_id AND l.owner = deliveries.claimed_by AND l.expires_at >= ?))`,
				reason, t, tr.CampaignID, t)
			return err
		}
		return nil
	})
	if err != nil {
		var se *StateError
		if !errors.As(err, &se) && !errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("store: campaign transition: %w", err)
		}
		return cur, err
	}
	return cur, nil
}

// fixRecipients writes the ledger of a campaign that starts sending, in one
// statement: 100,000 subscribers take well under a second and no memory in
// Go. Delivery UUIDs are made from SQLite's randomblob (a CSPRNG); the CTE is
// materialised so that each row's bytes are drawn once.
func fixRecipients(ctx context.Context, tx *sql.Tx, campaignID int64, filter []AttrCond, t time.Time) error {
	cand, args := candidates(campaignID, filter)
	q := cand + `
	INSERT INTO deliveries (uuid, campaign_id, subscriber_id, email, state, skip_reason, created_at, updated_at)
	SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||
			substr('89ab', instr('0123456789abcdef', substr(h, 13, 1)) % 4 + 1, 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12),
		?, sid, email,
		CASE WHEN status = 'active' AND on_list THEN 'queued' ELSE 'skipped' END,
		CASE WHEN status != 'active' THEN status WHEN NOT on_list THEN 'left-list' ELSE '' END,
		?, ?
	FROM cand ORDER BY sid`
	_, err := tx.ExecContext(ctx, q, append(args, campaignID, t, t)...)
	return err
}

// Expected is who a campaign not yet started would go to if it started
// now: the ledger fixRecipients would write, counted.
type Expected struct {
	Recipients int // the ledger's rows: everyone on the lists who matches the filter
	Queued     int // those who would be mailed
	Suppressed int // skipped: unsubscribed, bounced, complained, pending or erased
	LeftList   int // skipped: on the lists no more
}

// ExpectedRecipients counts the ledger the campaign would get if it
// started sending now, with the same query as the start itself, so that
// the confirmation staff read is the number that goes out.
func (s *Storage) ExpectedRecipients(ctx context.Context, campaignID int64, filter []AttrCond) (Expected, error) {
	cand, args := candidates(campaignID, filter)
	var e Expected
	err := s.r.QueryRowContext(ctx, cand+`
	SELECT count(*), coalesce(sum(status = 'active' AND on_list), 0), coalesce(sum(status != 'active'), 0),
		coalesce(sum(status = 'active' AND NOT on_list), 0) FROM cand`, args...).Scan(&e.Recipients, &e.Queued, &e.Suppressed, &e.LeftList)
	if err != nil {
		return Expected{}, fmt.Errorf("store: expected recipients: %w", err)
	}
	return e, nil
}

// candidates returns the CTE "cand" of a campaign's recipients, one row per
// subscriber on its lists who matches filter, and its arguments.
func candidates(campaignID int64, filter []AttrCond) (string, []any) {
	var conds []string
	args := []any{campaignID}
	for _, f := range filter {
		op := "="
		if f.Negate {
			op = "!="
		}
		conds = append(conds, "lower(coalesce(json_extract(s.attributes, ?), '')) "+op+" lower(?)")
		args = append(args, `$."`+f.Key+`"`, f.Value)
	}
	where := ""
	if len(conds) > 0 {
		where = " AND " + strings.Join(conds, " AND ")
	}
	q := `WITH cand AS MATERIALIZED (
		SELECT s.id AS sid, s.email AS email, s.status AS status, max(m.status = 'subscribed') AS on_list,
			lower(hex(randomblob(16))) AS h
		FROM list_members m JOIN subscribers s ON s.id = m.subscriber_id
		WHERE m.list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = ?)` + where + `
		GROUP BY s.id)`
	return q, args
}

// AcquireLease makes owner one of the engines sending the campaign, until
// until unless renewed, provided the campaign is sending, and reports
// whether it is. Several engines (several daemons on one database) send a
// campaign together, each claiming deliveries of its own; the lease says
// that this one is alive.
func (s *Storage) AcquireLease(ctx context.Context, campaignID int64, owner string, until time.Time) (bool, error) {
	if owner == "" {
		return false, errors.New("store: acquire lease: no owner")
	}
	// SQLite wants a WHERE in INSERT … SELECT … ON CONFLICT, to tell the
	// upsert's ON from a join's: this one has it.
	res, err := s.w.ExecContext(ctx, `INSERT INTO campaign_leases (campaign_id, owner, expires_at)
		SELECT id, ?, ? FROM campaigns WHERE id = ? AND state = 'sending'
		ON CONFLICT (campaign_id, owner) DO UPDATE SET expires_at = excluded.expires_at`, owner, until.UTC(), campaignID)
	if err != nil {
		return false, fmt.Errorf("store: acquire lease: %w", err)
	}
	return oneRow(res) == nil, nil
}

// RenewLease extends owner's lease. It reports false when the lease is lost
// (another engine found it expired and sent its deliveries again) or the
// campaign is no longer sending (paused or cancelled by someone): the
// engine then stops taking new deliveries.
func (s *Storage) RenewLease(ctx context.Context, campaignID int64, owner string, until time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE campaign_leases SET expires_at = ? WHERE campaign_id = ? AND owner = ?
		AND (SELECT state FROM campaigns WHERE id = ?) = 'sending'`, until.UTC(), campaignID, owner, campaignID)
	if err != nil {
		return false, fmt.Errorf("store: renew lease: %w", err)
	}
	return oneRow(res) == nil, nil
}

// ReleaseLease gives up owner's lease, whatever the campaign's state. What
// it still had in flight is then anyone's to send again.
func (s *Storage) ReleaseLease(ctx context.Context, campaignID int64, owner string) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM campaign_leases WHERE campaign_id = ? AND owner = ?", campaignID, owner)
	if err != nil {
		return fmt.Errorf("store: release lease: %w", err)
	}
	return nil
}

// CopyCampaign makes a new draft campaign with c's edition, lists, subject,
// sender, filter and tracking choice, named name: each firing of a
// recurring campaign sends such a copy.
func (s *Storage) CopyCampaign(ctx context.Context, c *Campaign, name string) (*Campaign, error) {
	cp := &Campaign{Name: name, EditionID: c.EditionID, Subject: c.Subject, From: c.From, ReplyTo: c.ReplyTo,
		Filter: c.Filter, Track: c.Track, ListIDs: c.ListIDs}
	if err := s.CreateCampaign(ctx, cp); err != nil {
		return nil, err
	}
	return s.CampaignByID(ctx, cp.ID)
}
