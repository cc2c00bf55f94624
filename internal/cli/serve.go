package cli

import (
	"context"
	"flag"

	"bulletin/internal/daemon"
)

func serveCommands() []command {
	return []command{{
		name:    "serve",
		summary: "run the daemon: scheduler, sending, mailbox watcher, web",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("serve takes no arguments")
				}
				cfg, err := e.config()
				if err != nil {
					return err
				}
				log, err := e.logger()
				if err != nil {
					return err
				}
				st, err := e.store(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				return daemon.Run(ctx, cfg, st, log, nil)
			}
		},
	}}
}
