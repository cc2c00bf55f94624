package cli

import (
	"context"
	"flag"

	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/store"
)

func serveCommands() []command {
	return []command{{
		name:    "serve",
		summary: "run the daemon: scheduler, sending, mailbox watcher, web",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			demo := fs.Bool("demo", false, "on an empty database, import subscribers/sample.csv into \"Partenaires\" and send it the example edition (through the outbox unless smtp.host is set)")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("serve takes no arguments")
				}
				log, err := e.logger()
				if err != nil {
					return err
				}
				return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
					// Bind first: on a port already taken, the demo must not
					// queue a campaign that nothing would then send.
					ln, err := daemon.Listen(cfg)
					if err != nil {
						return err
					}
					if *demo {
						if err := daemon.Demo(ctx, cfg, st, log); err != nil {
							ln.Close()
							return err
						}
					}
					return daemon.Serve(ctx, cfg, st, log, ln, nil)
				})
			}
		},
	}}
}
