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

func listCommands() []command {
	return []command{
		{
			name:    "list create",
			args:    "NAME",
			summary: "create a subscriber list",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				desc := fs.String("description", "", "what the list is for")
				public := fs.Bool("public", false, "offer the list on the subscribe form and publish its archive")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 || args[0] == "" {
						return usagef("expected one list name")
					}
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						err := st.CreateList(ctx, &store.List{Name: args[0], Description: *desc, Public: *public})
						if errors.Is(err, store.ErrDuplicate) {
							return fmt.Errorf("a list named %q already exists", args[0])
						}
						if err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "created list %q\n", args[0])
						return nil
					})
				}
			},
		},
		{
			name:    "list ls",
			summary: "show the lists and how many subscribers each has, by status",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						lists, err := st.Lists(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
						fmt.Fprintln(tw, "list\tactive\tpending\tunsubscribed\tbounced\tcomplained\tpublic\t")
						for _, l := range lists {
							c := l.Counts
							fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%v\t\n", printable(l.Name), c[store.Active], c[store.Pending],
								c[store.Unsubscribed], c[store.Bounced], c[store.Complained], l.Public)
						}
						return tw.Flush()
					})
				}
			},
		},
	}
}
