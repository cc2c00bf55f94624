package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// CopyReport is what Copy copied: every table of the source with its rows,
// counted in the source's snapshot and in the target after the commit.
type CopyReport struct {
	Tables []TableCount
}

// TableCount is the rows of one table in the source and in the target.
type TableCount struct {
	Table          string
	Source, Target int64
}

// ErrTargetNotEmpty is returned by Copy when the target already holds data:
// a copy never merges two databases.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// ErrCountsDiffer is returned by Copy, with the report, when a table of the
// target does not hold the rows the source held.
var ErrCountsDiffer = errors.New("the target's rows differ from the source's")

// openerSettings are the settings Open writes into a new database (the
// secret it generated when given none, and the check of the erasure key):
// a target holding only these is empty, and they give way to the source's.
var openerSettings = []string{"secret", "erasure_key_check"}

// Copy copies the whole database from into to, SQLite or PostgreSQL either
// way: every table of the source's schema but schema_migrations (to's own,
// at the same level since both were opened by this binary), with their ids
// kept so that references hold, in one transaction on to, then counts the
// rows of each table on both sides. The unsubscribes waiting in from's
// intake are applied first, so that none is left behind. to must be empty,
// and both must have been opened with the same server secret (WithSecret),
// or the copy's erased addresses and signed links would not be recognised.
// PostgreSQL keeps times to the microsecond: a SQLite time's nanoseconds
// beyond it are dropped.
func Copy(ctx context.Context, from, to *Storage) (CopyReport, error) {
	var report CopyReport
	if from == to {
		return report, errors.New("store: copy: the source and the target are the same database")
	}
	if _, err := from.ApplyIntake(ctx); err != nil {
		return report, fmt.Errorf("store: copy: %w", err)
	}
	src, err := from.schemaTables(ctx)
	if err != nil {
		return report, fmt.Errorf("store: copy: the source's tables: %w", err)
	}
	dst, err := to.schemaTables(ctx)
	if err != nil {
		return report, fmt.Errorf("store: copy: the target's tables: %w", err)
	}
	if err := to.checkEmpty(ctx, dst); err != nil {
		return report, fmt.Errorf("store: copy: %w", err)
	}
	key, err := targetKey(ctx, from, to)
	if err != nil {
		return report, fmt.Errorf("store: copy: %w", err)
	}
	order, err := copyOrder(src, dst)
	if err != nil {
		return report, fmt.Errorf("store: copy: %w", err)
	}
	err = from.readTx(ctx, func(rtx *sql.Tx) error {
		for _, t := range order {
			n, err := countRows(ctx, rtx, t)
			if err != nil {
				return err
			}
			if dst[t] == nil && n > 0 {
				return fmt.Errorf("table %s of the source (%d rows) has no place in the target", t, n)
			}
			report.Tables = append(report.Tables, TableCount{Table: t, Source: n})
		}
		return to.tx(ctx, func(wtx *sql.Tx) error {
			if _, err := wtx.ExecContext(ctx, "DELETE FROM settings"); err != nil {
				return err
			}
			for _, t := range order {
				if dst[t] == nil {
					continue // empty, as checked above: the intake of PostgreSQL going to SQLite
				}
				if err := copyTable(ctx, rtx, wtx, t, src[t].columns, dst[t].columns); err != nil {
					return fmt.Errorf("table %s: %w", t, err)
				}
			}
			if to.postgres {
				return resetIdentities(ctx, wtx)
			}
			return nil
		})
	})
	if err != nil {
		return CopyReport{}, fmt.Errorf("store: copy: %w", err)
	}
	// to now holds from's erasure records, and its secret when to had none.
	to.erasure = key
	var differ []string
	for i, tc := range report.Tables {
		if dst[tc.Table] == nil {
			continue
		}
		if report.Tables[i].Target, err = countRows(ctx, to.r, tc.Table); err != nil {
			return report, fmt.Errorf("store: copy: counting the target: %w", err)
		}
		if report.Tables[i].Target != tc.Source {
			differ = append(differ, tc.Table)
		}
	}
	if len(differ) > 0 {
		return report, fmt.Errorf("store: copy: %w: %s", ErrCountsDiffer, strings.Join(differ, ", "))
	}
	return report, nil
}

// tableSchema is what Copy needs to know of a table.
type tableSchema struct {
	columns []string
	refs    []string // the tables its foreign keys reference
}

// schemaTables reads the store's tables, their columns and their foreign
// keys from the database's own catalogue, so that a table a later
// migration adds is copied without anyone listing it. schema_migrations is
// left out: each database keeps its own.
func (s *Storage) schemaTables(ctx context.Context) (map[string]*tableSchema, error) {
	tablesQ, columnsQ, refsQ := `SELECT name FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, 7) != 'sqlite_'`,
		"SELECT name FROM pragma_table_info(?) ORDER BY cid",
		`SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`
	if s.postgres {
		tablesQ = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
		columnsQ = `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
		refsQ = `SELECT DISTINCT r.relname FROM pg_constraint c
			JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
			WHERE c.contype = 'f' AND t.relname = ? AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`
	}
	names, err := queryAll(ctx, s.r, scanString, tablesQ)
	if err != nil {
		return nil, err
	}
	out := map[string]*tableSchema{}
	for _, name := range names {
		if name == "schema_migrations" {
			continue
		}
		t := &tableSchema{}
		if t.columns, err = queryAll(ctx, s.r, scanString, columnsQ, name); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if t.refs, err = queryAll(ctx, s.r, scanString, refsQ, name); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// scanString reads a row of one text column.
func scanString(row scanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}

// checkEmpty refuses a database that holds any row of ours, but the
// settings Open itself writes.
func (s *Storage) checkEmpty(ctx context.Context, tables map[string]*tableSchema) error {
	for _, t := range slices.Sorted(maps.Keys(tables)) {
		query := "SELECT count(*) FROM " + quoteName(t)
		var args []any
		if t == "settings" {
			query += " WHERE key NOT IN (?, ?)"
			args = []any{openerSettings[0], openerSettings[1]}
		}
		var n int64
		if err := s.r.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: table %s holds rows already (%d; copy into a new, empty database)", ErrTargetNotEmpty, t, n)
		}
	}
	return nil
}

// targetKey returns the erasure key to will derive when opened again as it
// was opened now, once it holds from's settings, and checks that it is the
// key from's erasure records were made with (the key of signed links comes
// from the same secret). A target opened without a server secret generated
// one of its own, which the source's replaces in the copy.
func targetKey(ctx context.Context, from, to *Storage) (erasureKey, error) {
	key := to.erasure
	if _, err := to.Setting(ctx, "secret"); err == nil {
		key = nil
		secret, err := from.Setting(ctx, "secret")
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if b, err := hex.DecodeString(secret); err == nil && secret != "" {
			key = newErasureKey(b)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// The check on file, rather than from's key in memory: from may itself
	// be the target of an earlier copy.
	check, err := from.Setting(ctx, "erasure_key_check")
	if errors.Is(err, ErrNotFound) {
		check, err = from.erasure.check(), nil
	}
	if err != nil {
		return nil, err
	}
	if key == nil || key.check() != check {
		return nil, errors.New("the two databases are opened with different server secrets (server.secret): " +
			"the copy would not recognise the erased addresses nor the links already sent; open both with the same one")
	}
	return key, nil
}

// copyOrder orders the source's tables so that a table comes after those
// its foreign keys reference in the target, and by name otherwise.
func copyOrder(src, dst map[string]*tableSchema) ([]string, error) {
	var order []string
	state := map[string]int{} // 1: being visited, 2: done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("the foreign keys of table %s form a cycle", t)
		case 2:
			return nil
		}
		state[t] = 1
		if d := dst[t]; d != nil {
			for _, ref := range slices.Sorted(slices.Values(d.refs)) {
				if _, ok := src[ref]; ok && ref != t {
					if err := visit(ref); err != nil {
						return err
					}
				}
			}
		}
		state[t] = 2
		order = append(order, t)
		return nil
	}
	for _, t := range slices.Sorted(maps.Keys(src)) {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// copyBatch bounds the values of one INSERT, well under what both
// databases take (SQLite 32,766, PostgreSQL 65,535).
const copyBatch = 4000

// copyTable copies the rows of table t from rtx into wtx, several rows per
// INSERT. Every column of the source must be in the target.
func copyTable(ctx context.Context, rtx, wtx *sql.Tx, t string, columns, target []string) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		if !slices.Contains(target, c) {
			return fmt.Errorf("column %s is not in the target", c)
		}
		quoted[i] = quoteName(c)
	}
	cols := strings.Join(quoted, ", ")
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	perInsert := max(1, copyBatch/len(columns))
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		rows := len(args) / len(columns)
		query := "INSERT INTO " + quoteName(t) + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
		_, err := wtx.ExecContext(ctx, query, args...)
		args = args[:0]
		return err
	}
	values := make([]any, len(columns))
	dest := make([]any, len(columns))
	for i := range values {
		dest[i] = &values[i]
	}
	err := eachRow(ctx, rtx, "SELECT "+cols+" FROM "+quoteName(t), nil, func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for _, v := range values {
			// Times are written in UTC, as the store writes them: SQLite's
			// queries compare them as text.
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC()
			}
			args = append(args, v)
		}
		if len(args) >= perInsert*len(columns) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// resetIdentities moves each identity sequence of the PostgreSQL database
// past the ids the copy wrote, so that the next row inserted does not take
// one of them.
func resetIdentities(ctx context.Context, tx *sql.Tx) error {
	type identity struct{ table, column string }
	ids, err := queryAll(ctx, tx, func(row scanner) (identity, error) {
		var i identity
		err := row.Scan(&i.table, &i.column)
		return i, err
	}, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	for _, i := range ids {
		// setval of NULL (an empty table) changes nothing.
		if _, err := tx.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence(?, ?), (SELECT max("+quoteName(i.column)+") FROM "+quoteName(i.table)+"))",
			quoteName(i.table), i.column); err != nil {
			return fmt.Errorf("the identity of %s.%s: %w", i.table, i.column, err)
		}
	}
	return nil
}

// countRows counts the rows of table t.
func countRows(ctx context.Context, q querier, t string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteName(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", t, err)
	}
	return n, nil
}

// quoteName quotes a table or column name read from the catalogue, as both
// dialects read a quoted name.
func quoteName(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
