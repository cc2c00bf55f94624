package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

func storeCommands() []command {
	return []command{{
		name:    "store copy",
		args:    "--to LOCATION",
		summary: "copy the whole database into an empty one (postgres:// URL or SQLite file) and compare the counts; daemons stopped",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			to := fs.String("to", "", "the target `LOCATION`: a postgres:// URL (its password best in PGPASSWORD or ~/.pgpass, not on the command line) or a SQLite file")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("store copy takes no arguments, only --to")
				}
				if *to == "" {
					return usagef("expected --to: a postgres:// URL, or a SQLite file")
				}
				return withStore(ctx, e, func(cfg *config.Config, from *store.Storage) error {
					if sameLocation(cfg.Store.Location(), *to) {
						return usagef("--to names the database the configuration uses: copy it into another one")
					}
					// The same secret as the source's, which keys its erasure
					// records and its signed links: Copy checks they agree.
					target, err := store.Open(ctx, *to, store.WithSecret([]byte(cfg.Server.Secret)))
					if err != nil {
						return err
					}
					defer target.Close()
					report, err := store.Copy(ctx, from, target)
					printCopy(e.stdout, report)
					return err
				})
			}
		},
	}}
}

// sameLocation reports whether two store locations name one database: the
// same URL, or the same file however written.
func sameLocation(a, b string) bool {
	if a == b {
		return true
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && !strings.Contains(a, "://") && absA == absB
}

// printCopy prints the rows of each table on both sides; a table whose
// counts differ is marked, and Copy's error says which.
func printCopy(w io.Writer, r store.CopyReport) {
	if len(r.Tables) == 0 {
		return
	}
	fmt.Fprintf(w, "%-24s %10s %10s\n", "table", "source", "target")
	var rows int64
	for _, tc := range r.Tables {
		mark := ""
		if tc.Source != tc.Target {
			mark = "  differs"
		}
		fmt.Fprintf(w, "%-24s %10d %10d%s\n", tc.Table, tc.Source, tc.Target, mark)
		rows += tc.Source
	}
	fmt.Fprintf(w, "%d tables, %d rows copied\n", len(r.Tables), rows)
}
