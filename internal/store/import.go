package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
)

// ImportRow is one valid row of an import file.
type ImportRow struct {
	Line         int
	Email        string // normalised
	FirstName    string
	LastName     string
	Organisation string
	Attributes   map[string]string
	Status       Status    // "" when the file does not say
	ConsentAt    time.Time // zero when the file does not say
}

// Outcome is what applying an ImportRow did.
type Outcome int

// The outcomes of an import row.
const (
	Added      Outcome = iota // a new subscriber
	Updated                   // an existing one changed, or joined the list
	Unchanged                 // nothing to change
	Suppressed                // unsubscribed, bounced, complained or erased: left or made so
	Duplicate                 // the address already appeared earlier in this file
)

// Import applies the rows of one file in one transaction: either every valid
// row goes in, or (Rollback, or a dry run) nothing does.
//
// The transaction is run by hand (BEGIN IMMEDIATE ... COMMIT) on a *sql.Conn
// rather than through a *sql.Tx: database/sql starts a goroutine to watch the
// context of every query in a Tx, which at a million rows costs more than
// SQLite itself. Apply runs its statements without cancellation for the same
// reason; the caller checks its context between rows.
type Import struct {
	conn   *sql.Conn
	done   bool // committed or rolled back
	run    int64
	listID int64
	source string
	// at is the import's time, written once as SQLite text: binding a
	// time.Time formats it anew for every column of every row.
	at string
	// lastID is the highest subscriber id before the import: the rows above
	// it are the ones it created, joined to the list in one statement at
	// Commit rather than one by one.
	lastID int64
	// anyErased is false when no address was ever erased: then the per-row
	// lookup of erasure records is skipped, which matters at a million rows.
	anyErased bool
	// erasure hashes the addresses looked up in the erasure records.
	erasure erasureKey

	find, erased, insert, update, touch, member, event *sql.Stmt
}

// BeginImport starts importing into list (created if needed); source is the
// consent source recorded for new subscribers ("import FILE"). It holds the
// writer until Commit or Rollback.
func (s *Storage) BeginImport(ctx context.Context, list, source string) (_ *Import, err error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: import: %w", err)
	}
	// The import is one transaction that holds the writer throughout: its
	// new rows are those above lastID. On PostgreSQL, the writer lock.
	begin := "BEGIN IMMEDIATE"
	if s.postgres {
		begin = "BEGIN; SELECT pg_advisory_xact_lock(" + strconv.Itoa(writerLock) + ")"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: import: %w", err)
	}
	tx := conn
	im := &Import{conn: conn, source: source, at: stamp(now()), erasure: s.erasure}
	defer func() {
		if err != nil {
			im.Rollback()
			err = fmt.Errorf("store: import: %w", err)
		}
	}()
	var last string
	err = tx.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'import_run'").Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	prev, _ := strconv.ParseInt(last, 10, 64)
	im.run = prev + 1
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('import_run', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(im.run, 10)); err != nil {
		return nil, err
	}
	if err = tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM subscribers").Scan(&im.lastID); err != nil {
		return nil, err
	}
	if err = tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM suppressions)").Scan(&im.anyErased); err != nil {
		return nil, err
	}
	err = tx.QueryRowContext(ctx, "SELECT id FROM lists WHERE name = ?", list).Scan(&im.listID)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, "INSERT INTO lists (uuid, name, created_at) VALUES (?, ?, ?) RETURNING id", uuid.NewString(), list, now()).Scan(&im.listID)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{
		{&im.find, `SELECT id, status, import_run, import_line, first_name, last_name, organisation, attributes
			FROM subscribers WHERE email_key = ?`},
		{&im.erased, "SELECT count(*) FROM suppressions WHERE email_hash = ?"},
		{&im.insert, `INSERT INTO subscribers (uuid, email, email_key, first_name, last_name, organisation, attributes,
			status, status_changed_at, consent_source, consent_at, import_run, import_line, created_at, updated_at, imported_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&im.update, `UPDATE subscribers SET first_name = ?, last_name = ?, organisation = ?, attributes = ?,
			import_run = ?, import_line = ?, updated_at = ? WHERE id = ?`},
		{&im.touch, "UPDATE subscribers SET import_run = ?, import_line = ? WHERE id = ?"},
		{&im.member, `INSERT INTO list_members (list_id, subscriber_id, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`},
		{&im.event, `INSERT INTO subscriber_events (subscriber_id, kind, status, source, list_id, at) VALUES (?, ?, ?, ?, ?, ?)`},
	} {
		if *p.stmt, err = tx.PrepareContext(ctx, p.q); err != nil {
			return nil, err
		}
	}
	return im, nil
}

// Detail says more about an Outcome.
type Detail struct {
	// First is, for a Duplicate, the line where the address first appeared
	// in the file.
	First int
	// Reason says, for a Suppressed row, why, and what of the row was not
	// applied, so that the import's report can list it.
	Reason i18n.Message
}

// Apply applies one row.
func (im *Import) Apply(ctx context.Context, r ImportRow) (Outcome, Detail, error) {
	out, d, err := im.apply(context.WithoutCancel(ctx), r)
	if err != nil {
		return 0, Detail{}, fmt.Errorf("store: import line %d: %w", r.Line, err)
	}
	return out, d, nil
}

func (im *Import) apply(ctx context.Context, r ImportRow) (Outcome, Detail, error) {
	if r.Status != "" && (!r.Status.Valid() || r.Status == Pending) {
		return 0, Detail{}, fmt.Errorf("bad status %q", r.Status)
	}
	key := address.Key(r.Email)
	t := im.at
	var (
		id                     int64
		cur                    Status
		run                    int64
		line                   int
		first, last, org, attr string
	)
	err := im.find.QueryRowContext(ctx, key).Scan(&id, &cur, &run, &line, &first, &last, &org, &attr)
	if errors.Is(err, sql.ErrNoRows) {
		return im.add(ctx, r, key, t)
	}
	if err != nil {
		return 0, Detail{}, err
	}
	if run == im.run {
		return Duplicate, Detail{First: line}, nil
	}

	// Known address: fill in what the file says, never erase what it leaves blank.
	attrs := map[string]string{}
	if err := json.Unmarshal([]byte(attr), &attrs); err != nil {
		return 0, Detail{}, err
	}
	merged := maps.Clone(attrs)
	maps.Copy(merged, r.Attributes)
	nf, nl, no := or(r.FirstName, first), or(r.LastName, last), or(r.Organisation, org)
	changed := nf != first || nl != last || no != org || !maps.Equal(merged, attrs)
	if cur.Suppressed() {
		// Someone who left keeps the record they left with: a partner's
		// file does not rename them or add to what is kept about them,
		// and the report says so rather than dropping the row silently.
		if _, err := im.touch.ExecContext(ctx, im.run, r.Line, id); err != nil {
			return 0, Detail{}, err
		}
		if _, err := im.join(ctx, id, t); err != nil {
			return 0, Detail{}, err
		}
		reason := i18n.M("import.suppressed.left", r.Email, i18n.Key("import.status."+string(cur)))
		if changed {
			reason.Key = "import.suppressed.left_unchanged"
		}
		return Suppressed, Detail{Reason: reason}, nil
	}
	if changed {
		b, err := json.Marshal(merged)
		if err != nil {
			return 0, Detail{}, err
		}
		if _, err := im.update.ExecContext(ctx, nf, nl, no, string(b), im.run, r.Line, t, id); err != nil {
			return 0, Detail{}, err
		}
	} else if _, err := im.touch.ExecContext(ctx, im.run, r.Line, id); err != nil {
		return 0, Detail{}, err
	}
	joined, err := im.join(ctx, id, t)
	if err != nil {
		return 0, Detail{}, err
	}
	// Suppression wins both ways: a file saying "unsubscribed" suppresses, a
	// file saying "active" never lifts a suppression (invariant 1).
	if r.Status.Suppressed() {
		c := StatusChange{Status: r.Status, Source: im.source, Note: i18n.M("history.detail.import")}
		if err := setStatus(ctx, im.conn, id, c); err != nil {
			return 0, Detail{}, err
		}
		return Suppressed, Detail{Reason: i18n.M("import.suppressed.marked", r.Email, i18n.Key("import.status."+string(r.Status)))}, nil
	}
	if changed || joined {
		return Updated, Detail{}, nil
	}
	return Unchanged, Detail{}, nil
}

func (im *Import) add(ctx context.Context, r ImportRow, key, t string) (Outcome, Detail, error) {
	if im.anyErased {
		var erased int
		if err := im.erased.QueryRowContext(ctx, im.erasure.hash(r.Email)).Scan(&erased); err != nil {
			return 0, Detail{}, err
		}
		if erased > 0 {
			// An erased person stays erased: nothing is written.
			return Suppressed, Detail{Reason: i18n.M("import.suppressed.erased", r.Email)}, nil
		}
	}
	st := r.Status
	if st == "" {
		st = Active
	}
	consent := t
	if !r.ConsentAt.IsZero() {
		consent = stamp(r.ConsentAt)
	}
	b, err := json.Marshal(nonNil(r.Attributes))
	if err != nil {
		return 0, Detail{}, err
	}
	// A time-ordered UUID (v7) keeps the uuid index's inserts sequential; its
	// 74 random bits leave it as unguessable as any public identifier needs
	// (the links that act are signed anyway).
	id7, err := uuid.NewV7()
	if err != nil {
		return 0, Detail{}, err
	}
	// A file that says when the person signed up (a SendinBlue export's
	// ADDED_TIME, a spreadsheet's "Date d'inscription") dates the record
	// and, through created_at, its "created" event and its membership of
	// the list (Commit): the reports then count the person in the quarter
	// they signed up in, not the day of the migration, which imported_at
	// keeps.
	if _, err := im.insert.ExecContext(ctx, id7.String(), r.Email, key, r.FirstName, r.LastName, r.Organisation,
		string(b), st, t, im.source, consent, im.run, r.Line, consent, t, t); err != nil {
		return 0, Detail{}, err
	}
	if st.Suppressed() {
		return Suppressed, Detail{Reason: i18n.M("import.suppressed.added", r.Email, i18n.Key("import.status."+string(st)))}, nil
	}
	return Added, Detail{}, nil
}

// join puts the subscriber on the import's list; one who left it stays off.
func (im *Import) join(ctx context.Context, id int64, t string) (bool, error) {
	res, err := im.member.ExecContext(ctx, im.listID, id, t, t)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = im.event.ExecContext(ctx, id, "list_added", "", im.source, im.listID, t)
	return true, err
}

// Commit puts the subscribers the import created on its list, with one
// "created" event each (set-based: a million single inserts cost more than
// the rest of the import), and makes the changes permanent.
func (im *Import) Commit(ctx context.Context) error {
	err := func() error {
		if _, err := im.conn.ExecContext(ctx, `INSERT INTO list_members (list_id, subscriber_id, created_at, updated_at)
			SELECT ?, id, created_at, created_at FROM subscribers WHERE id > ?`, im.listID, im.lastID); err != nil {
			return err
		}
		if _, err := im.conn.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, kind, status, source, list_id, at)
			SELECT id, 'created', status, consent_source, ?, created_at FROM subscribers WHERE id > ?`, im.listID, im.lastID); err != nil {
			return err
		}
		_, err := im.conn.ExecContext(ctx, "COMMIT")
		return err
	}()
	if err != nil {
		return errors.Join(fmt.Errorf("store: import: %w", err), im.Rollback())
	}
	im.done = true
	return im.release()
}

// Rollback discards the import's changes; after Commit it does nothing.
func (im *Import) Rollback() error {
	if im.done {
		return nil
	}
	im.done = true
	_, err := im.conn.ExecContext(context.Background(), "ROLLBACK")
	return errors.Join(err, im.release())
}

// release closes the statements and gives the writer back.
func (im *Import) release() error {
	var errs []error
	for _, st := range []*sql.Stmt{im.find, im.erased, im.insert, im.update, im.touch, im.member, im.event} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, im.conn.Close())...)
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}
