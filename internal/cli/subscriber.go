package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"bulletin/internal/address"
	"bulletin/internal/config"
	"bulletin/internal/erasure"
	"bulletin/internal/store"
)

func subscriberCommands() []command {
	return []command{
		oneSubscriber("subscriber show", "print everything held about one person, as JSON",
			func(ctx context.Context, e *env, st *store.Storage, email string) error {
				p, err := st.PersonalData(ctx, email)
				if err != nil {
					return err
				}
				enc := jsonEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}),
		oneSubscriber("subscriber erase", "erase a person (GDPR): keep only a hash so they are never mailed again",
			func(ctx context.Context, e *env, st *store.Storage, email string) error {
				cfg, err := e.config()
				if err != nil {
					return err
				}
				if err := erasure.Erase(ctx, st, cfg.Sending.OutboxDir, email); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "erased %s: only a hash of the address is kept, so that it is never mailed again\n", email)
				return nil
			}),
	}
}

// oneSubscriber is a command that acts on the subscriber whose address is
// its argument; store.ErrNotFound from run says there is none.
func oneSubscriber(name, summary string, run func(ctx context.Context, e *env, st *store.Storage, email string) error) command {
	return command{
		name: name, args: "EMAIL", summary: summary,
		flags: func(*flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				email, err := oneAddress(args)
				if err != nil {
					return err
				}
				return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
					err := run(ctx, e, st, email)
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no subscriber %s", email)
					}
					return err
				})
			}
		},
	}
}

// oneAddress checks that args is one e-mail address and normalises it.
func oneAddress(args []string) (string, error) {
	if len(args) != 1 {
		return "", usagef("expected one e-mail address, got %d arguments", len(args))
	}
	email, err := address.Normalize(args[0])
	if err != nil {
		return "", usagef("%q: %v", args[0], err)
	}
	return email, nil
}
