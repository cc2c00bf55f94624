package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

func subscriberCommands() []command {
	return []command{
		{
			name:    "subscriber show",
			args:    "EMAIL",
			summary: "print everything held about one person, as JSON",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					email, err := oneAddress(args)
					if err != nil {
						return err
					}
					st, err := e.store(ctx)
					if err != nil {
						return err
					}
					defer st.Close()
					p, err := st.PersonalData(ctx, email)
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no subscriber %s", email)
					}
					if err != nil {
						return err
					}
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(p)
				}
			},
		},
		{
			name:    "subscriber erase",
			args:    "EMAIL",
			summary: "erase a person (GDPR): keep only a hash so they are never mailed again",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					email, err := oneAddress(args)
					if err != nil {
						return err
					}
					st, err := e.store(ctx)
					if err != nil {
						return err
					}
					defer st.Close()
					err = st.EraseSubscriber(ctx, email)
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no subscriber %s", email)
					}
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "erased %s: only a hash of the address is kept, so that it is never mailed again\n", email)
					return nil
				}
			},
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
