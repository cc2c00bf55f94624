// Package store keeps Bulletin's data in one SQLite file, or in a
// PostgreSQL database that several daemons share: one Storage type, one
// file per entity with its SQL next to the method, and embedded numbered
// migrations, one set per dialect (see postgres.go for how the queries are
// written once for both).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"
)

// ErrNotFound is returned when the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// busyTimeout is how long a write waits for another process's lock on the
// database before it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Storage is the database. Writes go through a single connection, because
// SQLite has one writer anyway and queuing in Go is kinder than SQLITE_BUSY;
// reads use a pool that WAL lets run beside the writer.
type Storage struct {
	w *sql.DB
	r *sql.DB
	// erasure is the key of the hashes that erased addresses leave behind.
	erasure erasureKey
	// intake holds the unsubscribes that could not wait for the writer
	// (see intake.go); intakeWake tells the applier that one arrived.
	intake     *sql.DB
	intakeWake chan struct{}
	// postgres is true on PostgreSQL, where w, r and intake are one pool.
	postgres bool
}

// Option is an option of Open.
type Option func(*openOptions)

type openOptions struct {
	secret []byte
}

// WithSecret gives Open the server secret (server.secret), from which the
// key of erasure hashes is derived. Without it, or when it is empty, the
// secret the store generated on first start is used, as for tokens. Every
// process that opens a database must give the same secret.
func WithSecret(secret []byte) Option {
	return func(o *openOptions) { o.secret = secret }
}

// Open opens (creating if needed) the database at path, with its folder, and
// brings its schema up to date. It also opens the unsubscribe intake beside
// it, path + "-intake". A path that is a postgres:// URL opens that
// PostgreSQL database instead, which must exist (its tables are created).
func Open(ctx context.Context, path string, opts ...Option) (*Storage, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	if isPostgresURL(path) {
		return openPostgresStore(ctx, path, o)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	dsn := sqliteDSN(path)
	w, err := sql.Open("sqlite3", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Storage{w: w}
	// SQLite keeps the page buffers of big transactions and scans (an
	// import, a campaign's 100,000 ledger rows) for reuse; a soft limit on
	// its heap (process-wide) makes it give them back, so that the daemon's
	// memory does not grow with the size of the lists: measured peak RSS of
	// a 100k-recipient send, 122 MB without it, 60 MB with it (as for 10k).
	if _, err := w.ExecContext(ctx, "PRAGMA soft_heap_limit = 16777216"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite3", dsn+"&_query_only=true")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	if err := s.keyErasures(ctx, o.secret); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openIntake(ctx, path+"-intake"); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN is the connection string of the SQLite file at path.
//
// _mutex=no: database/sql never shares a connection between goroutines
// (sqlite3_interrupt, which it calls on cancellation, is safe from
// another thread), so SQLite's own per-call mutex only costs time.
// _txlock=immediate (added by the writers): a write transaction takes the
// lock at BEGIN, so two writers never deadlock upgrading a read lock.
// synchronous=NORMAL in WAL mode loses nothing on a process crash
// (kill -9), only on power loss. _secure_delete=on: deleted content is
// overwritten with zeros, so that an erased person cannot be read back
// from the file (GDPR erasure).
func sqliteDSN(path string) string {
	return fmt.Sprintf("file:%s?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=%d&_synchronous=NORMAL&_mutex=no&_secure_delete=on",
		url.PathEscape(path), busyTimeout.Milliseconds())
}

// OpenSQL opens the database at location (as Open takes it) for plain SQL
// written in SQLite's dialect, translated on PostgreSQL as the store's own
// queries are. It neither creates nor migrates anything: it is for test
// fixtures that write history in bulk, rows that no call of Storage makes
// (a year of campaigns), into a database that Open prepared.
func OpenSQL(location string) (*sql.DB, error) {
	if isPostgresURL(location) {
		return openPostgres(location)
	}
	return sql.Open("sqlite3", sqliteDSN(location)+"&_txlock=immediate")
}

// openPostgresStore opens the PostgreSQL database of dsn: one pool for
// reads, writes and the intake, whose table is in the database itself.
func openPostgresStore(ctx context.Context, dsn string, o openOptions) (*Storage, error) {
	db, err := openPostgres(dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(postgresConns)
	s := &Storage{w: db, r: db, intake: db, intakeWake: make(chan struct{}, 1), postgres: true}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: PostgreSQL %s: %w", redactDSN(dsn), err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.keyErasures(ctx, o.secret); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// postgresConns is the size of a daemon's pool of PostgreSQL connections:
// the engine's claims and results, the web pages, the mailbox watcher and
// an import at once, with room to spare.
const postgresConns = 12

// Close closes the database.
func (s *Storage) Close() error {
	if s.postgres {
		return s.w.Close()
	}
	err := errors.Join(s.r.Close(), s.w.Close())
	if s.intake != nil {
		err = errors.Join(err, s.intake.Close())
	}
	return err
}

// checkpoint copies the write-ahead log into the database file and empties
// it, so that what was just deleted (with secure_delete, overwritten in the
// file) is not left readable in the log either. It waits for readers of an
// older snapshot, as the busy timeout allows.
func (s *Storage) checkpoint(ctx context.Context) error {
	if s.postgres {
		return nil // no log of ours to empty: PostgreSQL's is its own (see docs/several-daemons.md)
	}
	var busy, logFrames, done int
	if err := s.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return err
	}
	if busy != 0 {
		return errors.New("a reader kept the write-ahead log in use")
	}
	return nil
}

// Ping checks that the database answers, for the health endpoint.
func (s *Storage) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Backup writes a consistent copy of the database to dest, which must not
// exist. It runs beside a live daemon: VACUUM INTO reads one snapshot. It
// goes through the writer because query_only connections refuse it, and so
// holds writes back for the time of the copy.
func (s *Storage) Backup(ctx context.Context, dest string) error {
	if s.postgres {
		return errors.New("store: backup: on PostgreSQL, use pg_dump (or bulletin store copy to a SQLite file)")
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("store: backup: %s already exists", dest)
	}
	// The copy is of the database file alone: unsubscribes still waiting in
	// the intake go in first, or a restore would forget them.
	if _, err := s.ApplyIntake(ctx); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations not yet applied, each in its own
// transaction together with the record of its version.
func (s *Storage) migrate(ctx context.Context) error {
	timestamp := "TIMESTAMP"
	if s.postgres {
		timestamp = "TIMESTAMPTZ"
	}
	// In a write transaction: daemons starting together on one PostgreSQL
	// database take turns.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at `+timestamp+` NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	all, err := embeddedMigrations(s.dialect())
	if err != nil {
		return err
	}
	// An older binary on a newer database (an upgrade rolled back by
	// swapping the binary only) would run on a schema it does not know.
	var newest sql.NullInt64
	var newestName sql.NullString
	if err := s.w.QueryRowContext(ctx, "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1").Scan(&newest, &newestName); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if last := all[len(all)-1]; newest.Valid && int(newest.Int64) > last.version {
		return fmt.Errorf("store: the database is at migration %s, newer than this binary (up to %s): run the newer binary, or restore the backup taken before the upgrade",
			newestName.String, last.name)
	}
	for _, m := range all {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			src, err := migrations.ReadFile("migrations/" + s.dialect() + "/" + m.name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(src)); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, now())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// migration is one embedded migration file.
type migration struct {
	version int
	name    string
}

// embeddedMigrations lists the migrations this binary carries for a dialect
// ("sqlite" or "postgres"), in order. Both sets are numbered alike.
func embeddedMigrations(dialect string) ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/"+dialect+"/*.sql")
	if err != nil {
		return nil, err
	}
	var all []migration
	for _, f := range files {
		name := filepath.Base(f)
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with its number", name)
		}
		all = append(all, migration{v, name})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	return all, nil
}

// dbtx is what runs statements within a write transaction: a *sql.Tx, or
// the *sql.Conn of an import (see BeginImport).
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx runs fn in a write transaction, committed when fn returns nil. Write
// transactions run one at a time: SQLite has one writer, and on PostgreSQL
// each takes the writer lock (see writerLock), so that the store's code,
// which reads then writes, means the same on both.
func (s *Storage) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.postgres {
		fn = locked(ctx, fn)
	}
	return inTx(ctx, s.w, fn)
}

// writerLock is the PostgreSQL advisory lock that every write transaction
// of every daemon takes, as SQLite's BEGIN IMMEDIATE takes its file lock.
// The sending engine's claims and results are the exception: they lock
// only their rows (FOR UPDATE SKIP LOCKED), so that daemons send in
// parallel.
const writerLock = 0x42756c6c // "Bull"

// locked makes fn take the writer lock first, in its transaction.
func locked(ctx context.Context, fn func(*sql.Tx) error) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", writerLock); err != nil {
			return err
		}
		return fn(tx)
	}
}

// rowTx runs fn in a write transaction that, on PostgreSQL, does not take
// the writer lock: fn locks the rows it changes itself.
func (s *Storage) rowTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.w, fn)
}

// readTx runs fn in a read transaction on the reader pool: one snapshot of
// the database (WAL; on PostgreSQL, repeatable read), however long the
// queries take while the engine writes.
func (s *Storage) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.postgres {
		return inTxOpts(ctx, s.r, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, fn)
	}
	return inTx(ctx, s.r, fn)
}

// dialect names the store's SQL dialect, as its migrations folder does.
func (s *Storage) dialect() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

// txBeginner is what starts a transaction: a *sql.DB, or one of its
// connections held for a setting of its own (see Unsubscribe).
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// inTx runs fn in a transaction on db, committed when fn returns nil and
// rolled back otherwise.
func inTx(ctx context.Context, db txBeginner, fn func(*sql.Tx) error) error {
	return inTxOpts(ctx, db, nil, fn)
}

// inTxOpts is inTx with transaction options.
func inTxOpts(ctx context.Context, db txBeginner, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// eachRow runs q and calls fn for every row.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryAll runs query on q and returns every row as scan reads it. Like
// eachRow it leaves the error as it is, for the caller to say what failed.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryOne runs query on q and returns its row as scan reads it:
// ErrNotFound when there is none, other errors wrapped with what was
// looked up ("store: user: ...").
func queryOne[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("store: %s: %w", what, err)
	}
	return v, nil
}

// now is the time written to the database: UTC, so that SQLite's date
// functions and string comparisons agree.
func now() time.Time { return time.Now().UTC() }

// stamp formats t as go-sqlite3 writes a time.Time (its first timestamp
// format), for hot paths that bind one time to many rows.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") }

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()}
}
