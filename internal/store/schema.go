package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// SchemaLevel says where a database's schema stands against this binary's
// migrations.
type SchemaLevel struct {
	// Applied and AppliedName are the highest migration applied to the
	// database: 0 and "" for a database not created yet.
	Applied     int
	AppliedName string
	// Known and KnownName are the highest migration this binary carries,
	// which the next start applies.
	Known     int
	KnownName string
	// Database names the database as it may be shown: the file, or the
	// URL without its password.
	Database string
}

// ReadSchemaLevel reads the schema level of the database at location (a
// SQLite file, or a postgres:// URL), read-only and without migrating it
// (unlike Open), so that "bulletin version" tells what the next start of
// this binary will do before it does it. A missing file, or a PostgreSQL
// database without Bulletin's tables, is a database not created yet: level
// 0, no error.
func ReadSchemaLevel(ctx context.Context, location string) (SchemaLevel, error) {
	dialect, name := "sqlite", location
	if isPostgresURL(location) {
		dialect, name = "postgres", redactDSN(location)
	}
	all, err := embeddedMigrations(dialect)
	if err != nil {
		return SchemaLevel{}, err
	}
	lvl := SchemaLevel{Database: name}
	if len(all) > 0 {
		last := all[len(all)-1]
		lvl.Known, lvl.KnownName = last.version, last.name
	}
	var (
		db     *sql.DB
		exists string
	)
	if dialect == "postgres" {
		if db, err = openPostgres(location); err != nil {
			return lvl, err
		}
		exists = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
	} else {
		if _, err := os.Stat(location); errors.Is(err, fs.ErrNotExist) {
			return lvl, nil
		}
		if db, err = sql.Open("sqlite3", "file:"+url.PathEscape(location)+"?mode=ro&_query_only=true"); err != nil {
			return lvl, fmt.Errorf("store: %s: %w", name, err)
		}
		exists = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
	}
	defer db.Close()
	// One read-only transaction: on PostgreSQL, nothing can be written by
	// mistake either.
	err = inTxOpts(ctx, db, &sql.TxOptions{ReadOnly: dialect == "postgres"}, func(tx *sql.Tx) error {
		var tables int
		if err := tx.QueryRowContext(ctx, exists).Scan(&tables); err != nil || tables == 0 {
			return err
		}
		err := tx.QueryRowContext(ctx, "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1").Scan(&lvl.Applied, &lvl.AppliedName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		return nil
	})
	if err != nil {
		return lvl, fmt.Errorf("store: %s: %w", name, err)
	}
	return lvl, nil
}
