// Package importer brings subscribers in from CSV files: SendinBlue exports
// and French spreadsheets alike. The command line, the admin console and the
// API all call Import; Export writes the file that Import reads back.
package importer

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strconv"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// maxRejects bounds the rejected rows kept for the report, so that memory
// stays flat even for a file where every row is bad; the rest are counted.
const maxRejects = 10000

// Options says where rows go and how.
type Options struct {
	List   string // the list the rows join
	DryRun bool   // report what would happen, change nothing
	// ExistingList refuses a List that does not exist with an
	// *UnknownListError naming the close ones, where a typo would
	// otherwise make a new list ("bulletin import" without --create-list,
	// the console). Without it the list is made when needed, except on a
	// dry run, which changes nothing.
	ExistingList bool
	// Progress, when not nil, is called now and then with the bytes read.
	Progress func(read int64)
}

// Report is what an import did, or would do for a dry run.
type Report struct {
	File       string
	List       string
	DryRun     bool
	Columns    []Column
	Added      int
	Updated    int
	Unchanged  int
	Suppressed int // left or made unsubscribed, bounced, complained, or erased
	// SuppressedRows are the first maxRejects suppressed rows, by line, each
	// with why and what of it was not applied (a suppressed person's name
	// is never overwritten by a file).
	SuppressedRows []RowError
	Rejected       int
	Rejects        []RowError // the first maxRejects rejected rows, by line
	// Notes are the first maxRejects rows imported with a value left out
	// (a sign-up date that cannot be read), by line, each saying which.
	Notes []RowError
}

// Import reads a CSV file and applies its valid rows to the store in one
// transaction. Bad rows are rejected with their line and reason and the rest
// go in; an error reading the file changes nothing.
func Import(ctx context.Context, st *store.Storage, r io.Reader, name string, opts Options) (*Report, error) {
	if opts.List == "" {
		return nil, errors.New("import: no list given")
	}
	if opts.ExistingList {
		if err := checkList(ctx, st, opts.List); err != nil {
			return nil, err
		}
	}
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	rep := &Report{File: name, List: opts.List, DryRun: opts.DryRun, Columns: rd.Columns()}
	im, err := st.BeginImport(ctx, opts.List, "import "+filepath.Base(name))
	if err != nil {
		return nil, err
	}
	defer im.Rollback()
	reject := func(e RowError) {
		rep.Rejected++
		if len(rep.Rejects) < maxRejects {
			rep.Rejects = append(rep.Rejects, e)
		}
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if opts.Progress != nil {
				opts.Progress(rd.Progress())
			}
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			reject(*re)
			continue
		}
		if err != nil {
			return nil, err // a *FileError, which names the file and line
		}
		out, detail, err := im.Apply(ctx, store.ImportRow{
			Line: row.Line, Email: row.Email, FirstName: row.FirstName, LastName: row.LastName,
			Organisation: row.Organisation, Attributes: row.Attributes, Status: store.Status(row.Status), ConsentAt: row.ConsentAt,
		})
		if err != nil {
			return nil, err
		}
		if out != store.Duplicate {
			for _, n := range row.Notes {
				if len(rep.Notes) < maxRejects {
					rep.Notes = append(rep.Notes, RowError{Line: row.Line, Reason: n})
				}
			}
		}
		switch out {
		case store.Added:
			rep.Added++
		case store.Updated:
			rep.Updated++
		case store.Unchanged:
			rep.Unchanged++
		case store.Suppressed:
			rep.Suppressed++
			if len(rep.SuppressedRows) < maxRejects {
				rep.SuppressedRows = append(rep.SuppressedRows, RowError{Line: row.Line, Reason: detail.Reason})
			}
		case store.Duplicate:
			reject(RowError{Line: row.Line, Reason: i18n.M("import.reject.duplicate", row.Email, strconv.Itoa(detail.First))})
		}
	}
	if opts.Progress != nil {
		opts.Progress(rd.Progress())
	}
	if opts.DryRun {
		return rep, nil // the deferred Rollback discards everything
	}
	if err := im.Commit(ctx); err != nil {
		return nil, err
	}
	return rep, nil
}
