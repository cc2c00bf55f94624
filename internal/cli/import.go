package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/importer"
	"bulletin/internal/store"
)

func importCommands() []command {
	return []command{{
		name:    "import",
		args:    "FILE.csv",
		summary: "import subscribers from a CSV file (SendinBlue export, spreadsheet) into a list",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			list := fs.String("list", "", "the `list` the subscribers join, an existing one unless --create-list (required)")
			createList := fs.Bool("create-list", false, "make the list when it does not exist (a dry run still creates nothing)")
			dryRun := fs.Bool("dry-run", false, "report what would happen without changing anything")
			return func(ctx context.Context, e *env, args []string) error {
				if *list == "" {
					return usagef("--list is required")
				}
				if len(args) != 1 {
					return usagef("expected one CSV file")
				}
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
					opts := importer.Options{List: *list, DryRun: *dryRun, ExistingList: !*createList, Progress: progress(e.stderr, f)}
					rep, err := importer.Import(ctx, st, f, args[0], opts)
					if err != nil {
						return err
					}
					printImport(e.stdout, rep)
					return nil
				})
			}
		},
	}}
}

// progress returns a progress display for stderr when it is a terminal, and
// nil otherwise (logs and pipes get the summary only).
func progress(stderr io.Writer, f *os.File) func(int64) {
	term, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := term.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	var last time.Time
	return func(read int64) {
		if time.Since(last) < 200*time.Millisecond && read < fi.Size() {
			return
		}
		last = time.Now()
		fmt.Fprintf(term, "\rimporting: %3d%%", read*100/fi.Size())
		if read >= fi.Size() {
			fmt.Fprint(term, "\r               \r")
		}
	}
}

func printImport(w io.Writer, rep *importer.Report) {
	if rep.DryRun {
		fmt.Fprintln(w, "dry run: nothing was changed")
	}
	var cols []string
	for _, c := range rep.Columns {
		cols = append(cols, c.String())
	}
	fmt.Fprintf(w, "%s → list %q\ncolumns: %s\n", rep.File, rep.List, printable(strings.Join(cols, ", ")))
	fmt.Fprintf(w, "added: %d\nupdated: %d\nunchanged: %d\nsuppressed: %d (unsubscribed, bounced, complained or erased; never mailed)\n",
		rep.Added, rep.Updated, rep.Unchanged, rep.Suppressed)
	printRows(w, rep.SuppressedRows, rep.Suppressed)
	fmt.Fprintf(w, "rejected: %d\n", rep.Rejected)
	printRows(w, rep.Rejects, rep.Rejected)
	if len(rep.Notes) > 0 {
		fmt.Fprintf(w, "imported with a value left out: %d\n", len(rep.Notes))
		printRows(w, rep.Notes, len(rep.Notes))
	}
}

// printRows prints the rows an import listed, each with its line and reason,
// then how many more there were of total.
func printRows(w io.Writer, rows []importer.RowError, total int) {
	for _, r := range rows {
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, printable(r.Reason.String()))
	}
	if more := total - len(rows); more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
}
