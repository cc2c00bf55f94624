package store

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// ErrDuplicate is returned when creating something whose name or address is
// already taken.
var ErrDuplicate = errors.New("already exists")

// isUnique tells a violated uniqueness (or primary key) constraint, on
// either store.
func isUnique(err error) bool {
	var se sqlite3.Error
	var pe *pgconn.PgError
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) ||
		errors.As(err, &pe) && pe.Code == "23505"
}

// oneRow turns an UPDATE or DELETE that touched nothing into ErrNotFound.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
