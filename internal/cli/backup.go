package cli

import (
	"context"
	"flag"
	"fmt"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

func backupCommands() []command {
	return []command{{
		name:    "backup",
		args:    "FILE",
		summary: "write a consistent copy of the database, even while the daemon runs",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("expected the backup file's name")
				}
				return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
					if err := st.Backup(ctx, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "backed up to %s\n", args[0])
					return nil
				})
			}
		},
	}}
}
