package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store's queries are written once, in the SQL that SQLite reads. On
// PostgreSQL they go through a driver of ours that wraps pgx's and
// translates each query in the few places the two dialects differ:
//
//   - placeholders: ?, ?NNN and :name become $N;
//   - SQLite's planner hints (INDEXED BY) are dropped;
//   - LIKE becomes ILIKE, because SQLite's LIKE ignores ASCII case.
//
// The rest is common ground or comes from the PostgreSQL schema itself:
// migrations/postgres/0001_init.sql defines, for the types PostgreSQL sees,
// the SQLite functions the queries use (instr, substr of a timestamp,
// json_extract, json_each of text, sum of a boolean) and a case-insensitive
// collation for NOCASE. Code that differs more than that (locks, backups,
// the intake) asks Storage.postgres.

// isPostgresURL tells a PostgreSQL connection string from a file path.
func isPostgresURL(location string) bool {
	return strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://")
}

// openPostgres opens the pool of a PostgreSQL database. Every session runs
// in UTC, so that timestamps read back as text (substr of an hour) are the
// UTC times SQLite keeps.
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message repeats the connection string, password included.
		return nil, fmt.Errorf("store: the PostgreSQL connection string cannot be read (%s)", redactDSN(dsn))
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	return sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(scanUTC))}), nil
}

// scanUTC makes a connection read timestamps in UTC, as SQLite's driver
// does, rather than in the process's local zone: a time read back is then
// the one written, down to its location (== holds, and the console shows
// the same zone on both stores).
func scanUTC(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
	return nil
}

// redactDSN returns the connection string without its password, for errors
// and logs.
func redactDSN(dsn string) string {
	return dsnPassword.ReplaceAllString(dsn, "${1}xxxxx@")
}

// dsnPassword is the password of a URL's user information.
var dsnPassword = regexp.MustCompile(`(://[^:/@]*:)[^@]*@`)

// pgConnector makes connections that translate queries (see above).
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn.(pgxConn)}, nil
}

// pgxConn is what pgx's database/sql connection offers and database/sql
// looks for.
type pgxConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.NamedValueChecker
}

// pgConn is a pgx connection whose queries are translated first.
type pgConn struct{ pgxConn }

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	q, names := translate(query)
	st, err := c.pgxConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &pgStmt{st.(pgxStmt), names}, nil
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, names := translate(query)
	return c.pgxConn.ExecContext(ctx, q, bind(names, args))
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, names := translate(query)
	return c.pgxConn.QueryContext(ctx, q, bind(names, args))
}

// pgxStmt is what pgx's prepared statement offers.
type pgxStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// pgStmt is a prepared statement whose arguments are bound as translated.
type pgStmt struct {
	pgxStmt
	names []string
}

func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.pgxStmt.ExecContext(ctx, bind(s.names, args))
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.pgxStmt.QueryContext(ctx, bind(s.names, args))
}

// translate rewrites a query written for SQLite into PostgreSQL's dialect.
// It returns, for each $N it wrote, the name of the argument it stands for
// when the query named it (":name"), or "" for a positional one.
func translate(query string) (string, []string) {
	var (
		b     strings.Builder
		names []string // names[N-1] is what $N stands for
		next  = 1      // the number of the next bare "?"
	)
	b.Grow(len(query) + 16)
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"': // a literal or a quoted name, copied as it is
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				return b.String(), names
			}
			i += j
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n := next
			if j > i+1 {
				n, _ = strconv.Atoi(query[i+1 : j])
			}
			next = max(next, n+1)
			for len(names) < n {
				names = append(names, "")
			}
			b.WriteString("$" + strconv.Itoa(n))
			i = j
		case c == ':' && i+1 < len(query) && isNameStart(query[i+1]) && (i == 0 || query[i-1] != ':'):
			j := i + 1
			for j < len(query) && isNameByte(query[j]) {
				j++
			}
			name := query[i+1 : j]
			n := 0
			for k, have := range names {
				if have == name {
					n = k + 1
				}
			}
			if n == 0 {
				names = append(names, name)
				n = len(names)
			}
			b.WriteString("$" + strconv.Itoa(n))
			i = j
		case isNameStart(c) && (i == 0 || !isNameByte(query[i-1])):
			j := i
			for j < len(query) && isNameByte(query[j]) {
				j++
			}
			word := query[i:j]
			switch {
			case strings.EqualFold(word, "LIKE"):
				b.WriteString("ILIKE")
			case strings.EqualFold(word, "INDEXED") && indexedBy.MatchString(query[i:]):
				j = i + len(indexedBy.FindString(query[i:]))
			default:
				b.WriteString(word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), names
}

// indexedBy is SQLite's "INDEXED BY name" hint, which PostgreSQL does not
// take (its planner chooses).
var indexedBy = regexp.MustCompile(`^(?i)INDEXED\s+BY\s+\w+`)

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// bind orders the arguments as translate numbered them: a named argument
// goes to its name's place, positional ones keep their order. A Go bool
// becomes 1 or 0, as SQLite keeps it: the schema's flags are integers on
// both stores. A time loses its nanoseconds, which PostgreSQL would round
// to microseconds: truncated, a time stored is never later than the one
// the code holds, as on SQLite where it is exact.
func bind(names []string, args []driver.NamedValue) []driver.NamedValue {
	named := false
	for i, a := range args {
		named = named || a.Name != ""
		switch v := a.Value.(type) {
		case bool:
			args[i].Value = int64(0)
			if v {
				args[i].Value = int64(1)
			}
		case time.Time:
			args[i].Value = v.Truncate(time.Microsecond)
		case sql.NullTime: // pgx takes Valuers as they are: unwrapped here to be truncated
			args[i].Value = nil
			if v.Valid {
				args[i].Value = v.Time.Truncate(time.Microsecond)
			}
		}
	}
	if !named {
		return args
	}
	out := make([]driver.NamedValue, len(names))
	for k, name := range names {
		for _, a := range args {
			if name != "" && a.Name == name || name == "" && a.Name == "" && a.Ordinal == k+1 {
				out[k] = driver.NamedValue{Ordinal: k + 1, Value: a.Value}
			}
		}
	}
	return out
}
