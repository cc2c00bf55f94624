package cli

import (
	"context"
	"encoding/csv"
	"flag"
	"io"
	"os"
	"time"

	"bulletin/internal/store"
)

// exportColumns are the fixed columns of an export; the subscribers' free
// attributes follow, one column each. The importer reads these names back.
var exportColumns = []string{"email", "first_name", "last_name", "organisation", "status", "status_changed_at",
	"consent_source", "consent_at", "consent_ip", "created_at"}

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
				st, err := e.store(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				filter := store.SubscriberFilter{List: *list, Status: store.Status(*status)}
				if *list != "" {
					if _, err := st.ListByName(ctx, *list); err != nil {
						return usagef("no list named %q", *list)
					}
				}
				w := e.stdout
				if *out != "" {
					f, err := os.Create(*out)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				if err := export(ctx, st, filter, w, *excel); err != nil {
					return err
				}
				if f, ok := w.(*os.File); ok && *out != "" {
					return f.Close()
				}
				return nil
			}
		},
	}}
}

func export(ctx context.Context, st *store.Storage, filter store.SubscriberFilter, w io.Writer, excel bool) error {
	keys, err := st.AttributeKeys(ctx, filter)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if excel {
		cw.Comma = ';'
		cw.UseCRLF = true
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return err
		}
	}
	if err := cw.Write(append(append([]string{}, exportColumns...), keys...)); err != nil {
		return err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err = st.Subscribers(ctx, filter, func(s *store.Subscriber) error {
		rec := []string{s.Email, s.FirstName, s.LastName, s.Organisation, string(s.Status), stamp(s.StatusChangedAt),
			s.Consent.Source, stamp(s.Consent.At), s.Consent.IP, stamp(s.CreatedAt)}
		for _, k := range keys {
			rec = append(rec, s.Attributes[k])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
