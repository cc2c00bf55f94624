package store

import (
	"database/sql"
	"errors"

	"github.com/mattn/go-sqlite3"
)

// ErrDuplicate is returned when creating something whose name or address is
// already taken.
var ErrDuplicate = errors.New("already exists")

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
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
