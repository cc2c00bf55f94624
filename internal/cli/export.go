package cli

import (
	"context"
	"flag"
	"os"

	"bulletin/internal/config"
	"bulletin/internal/importer"
	"bulletin/internal/store"
)

func exportCommands() []command {
	return []command{{
		name:    "export",
		summary: "write a list's subscribers as CSV, with status and consent",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			list := fs.String("list", "", "the `list` to export (empty: every subscriber)")
			status := fs.String("status", "", "only this `status` (active, pending, unsubscribed, bounced, complained)")
			out := fs.String("out", "", "write to this `file` instead of standard output")
			excel := fs.Bool("excel", false, "semicolons and a UTF-8 byte order mark, as French Excel expects")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("export takes no arguments")
				}
				if *status != "" && !store.Status(*status).Valid() {
					return usagef("unknown status %q", *status)
				}
				return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
					if *list != "" {
						if _, err := st.ListByName(ctx, *list); err != nil {
							return usagef("no list named %q", *list)
						}
					}
					opts := importer.ExportOptions{Filter: store.SubscriberFilter{List: *list, Status: store.Status(*status)}, Excel: *excel}
					if *out == "" {
						return importer.Export(ctx, st, e.stdout, opts)
					}
					f, err := os.Create(*out)
					if err != nil {
						return err
					}
					defer f.Close()
					if err := importer.Export(ctx, st, f, opts); err != nil {
						return err
					}
					return f.Close()
				})
			}
		},
	}}
}
