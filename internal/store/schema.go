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
}

// ReadSchemaLevel reads the schema level of the database at path, read-only
// and without migrating it (unlike Open), so that "bulletin version" tells
// what the next start of this binary will do before it does it. A missing
// file is a database not created yet: level 0, no error.
func ReadSchemaLevel(ctx context.Context, path string) (SchemaLevel, error) {
	all, err := embeddedMigrations()
	if err != nil {
		return SchemaLevel{}, err
	}
	var lvl SchemaLevel
	if len(all) > 0 {
		last := all[len(all)-1]
		lvl.Known, lvl.KnownName = last.version, last.name
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return lvl, nil
	}
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=ro&_query_only=true")
	if err != nil {
		return lvl, fmt.Errorf("store: %s: %w", path, err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").Scan(&tables); err != nil {
		return lvl, fmt.Errorf("store: %s: %w", path, err)
	}
	if tables == 0 {
		return lvl, nil
	}
	err = db.QueryRowContext(ctx, "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1").Scan(&lvl.Applied, &lvl.AppliedName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return lvl, fmt.Errorf("store: %s: schema_migrations: %w", path, err)
	}
	return lvl, nil
}
