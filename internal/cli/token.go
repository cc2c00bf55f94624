package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

func tokenCommands() []command {
	return []command{
		{
			name:    "token create",
			args:    "NAME",
			summary: "create a bearer token for the JSON API and print it (once: only its hash is kept)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				role := fs.String("role", "editor", "`role`: admin (may erase subscribers) or editor")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 || args[0] == "" {
						return usagef("expected one token name (what it is for: \"site web\", \"crm\")")
					}
					if !store.Role(*role).Valid() {
						return usagef("--role must be admin or editor, not %q", *role)
					}
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						secret, _, err := st.CreateAPIToken(ctx, args[0], store.Role(*role))
						if errors.Is(err, store.ErrDuplicate) {
							return fmt.Errorf("a token named %q already exists (bulletin token ls)", args[0])
						}
						if err != nil {
							return err
						}
						// The secret alone on standard output, for scripts; the
						// advice on standard error.
						fmt.Fprintln(e.stdout, secret)
						fmt.Fprintf(e.stderr, "created %s token %q: keep it now, it is not shown again.\n"+
							"Use it as: Authorization: Bearer %s…\n", *role, args[0], secret[:len(store.APITokenPrefix)+6])
						return nil
					})
				}
			},
		},
		{
			name:    "token ls",
			summary: "list the API tokens (never their secrets)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						toks, err := st.APITokens(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "name\trole\tstarts with\tcreated\tlast used\tstate")
						for _, t := range toks {
							state := "live"
							if !t.RevokedAt.IsZero() {
								state = "revoked " + t.RevokedAt.Local().Format("2006-01-02")
							}
							fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", printable(t.Name), t.Role, t.Prefix, t.CreatedAt.Local().Format("2006-01-02"),
								localOrNever(t.LastUsedAt), state)
						}
						return tw.Flush()
					})
				}
			},
		},
		{
			name:    "token revoke",
			args:    "NAME|UUID",
			summary: "revoke an API token: it stops working at once",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usagef("expected one token name or UUID")
					}
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						err := st.RevokeAPIToken(ctx, args[0])
						if errors.Is(err, store.ErrNotFound) {
							return fmt.Errorf("no live token %q (bulletin token ls)", args[0])
						}
						if err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "revoked token %q\n", args[0])
						return nil
					})
				}
			},
		},
	}
}
