package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/edition"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

func editionCommands() []command {
	var (
		subscriber, out, to string
		text                bool
	)
	return []command{
		{
			name:    "edition add",
			args:    "FILE",
			summary: "store an edition file (by its slug; adding it again replaces it)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usagef("expected one edition file")
					}
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						if _, err := checkFile(e, cfg, args[0]); err != nil {
							return err
						}
						se, _, created, err := campaign.AddEdition(ctx, st, args[0])
						if err != nil {
							return err
						}
						verb := "updated"
						if created {
							verb = "added"
						}
						fmt.Fprintf(e.stdout, "%s edition %s (%q), media from %s\n", verb, se.Slug, se.Title, se.Dir)
						return nil
					})
				}
			},
		},
		{
			name:    "edition ls",
			summary: "list the stored editions",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						eds, err := st.Editions(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "slug\ttitle\tupdated")
						for _, ed := range eds {
							fmt.Fprintf(tw, "%s\t%s\t%s\n", ed.Slug, printable(ed.Title), ed.UpdatedAt.In(cfg.Location()).Format("2006-01-02 15:04"))
						}
						return tw.Flush()
					})
				}
			},
		},
		{
			name:    "edition check",
			args:    "FILE",
			summary: "check an edition file: errors (exit 1) block sending, warnings are shown",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usagef("expected one edition file")
					}
					cfg, err := e.config()
					if err != nil {
						return err
					}
					n, err := checkFile(e, cfg, args[0])
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "%s: no errors, %d warning(s)\n", args[0], n)
					return nil
				}
			},
		},
		{
			name:    "edition render",
			args:    "FILE",
			summary: "render an edition file as HTML (or text), as one subscriber or as the web view",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.StringVar(&subscriber, "subscriber", "", "render as this subscriber (`email`) would receive it")
				fs.BoolVar(&text, "text", false, "the plain-text part instead of the HTML")
				fs.StringVar(&out, "out", "", "write to this `file` instead of standard output")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usagef("expected one edition file")
					}
					cfg, err := e.config()
					if err != nil {
						return err
					}
					ed, err := edition.ParseFile(args[0])
					if err != nil {
						return err
					}
					tpl, err := render.Load(cfg.Sending.TemplatesDir, daemon.RenderOptions(cfg))
					if err != nil {
						return err
					}
					p, err := tpl.Prepare(ed)
					if err != nil {
						return err
					}
					var r render.Recipient
					if subscriber != "" {
						err := withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
							sub, err := st.SubscriberByEmail(ctx, subscriber)
							if errors.Is(err, store.ErrNotFound) {
								return fmt.Errorf("no subscriber %s", subscriber)
							}
							if err != nil {
								return err
							}
							signer, err := daemon.Signer(ctx, cfg, st)
							if err != nil {
								return err
							}
							links := daemon.Links(cfg, signer)
							r = render.Recipient{Email: sub.Email, FirstName: sub.FirstName, LastName: sub.LastName,
								Organisation: sub.Organisation, Attributes: sub.Attributes,
								UnsubscribeURL: links.UnsubscribeURL(sub.UUID, uuid.Nil)}
							return nil
						})
						if err != nil {
							return err
						}
					}
					m := p.Render(r)
					body := m.HTML
					if text {
						body = m.Text
					}
					if out == "" {
						_, err = e.stdout.Write(body)
						return err
					}
					if err := os.WriteFile(out, body, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "wrote %s (%d KB)\n", out, (len(body)+1023)/1024)
					return nil
				}
			},
		},
		{
			name:    "edition test",
			args:    "FILE|SLUG",
			summary: "send a test copy (subject \"[TEST] …\", kept out of reports) to the given addresses",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.StringVar(&to, "to", "", "comma-separated `addresses` (required)")
				return func(ctx context.Context, e *env, args []string) error {
					var addrs []string
					for _, a := range strings.Split(to, ",") {
						if a = strings.TrimSpace(a); a != "" {
							addrs = append(addrs, a)
						}
					}
					if len(args) != 1 || len(addrs) == 0 {
						return usagef("expected an edition file or slug, and --to")
					}
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						var ed *edition.Edition
						var err error
						if fi, serr := os.Stat(args[0]); serr == nil && !fi.IsDir() {
							ed, err = edition.ParseFile(args[0])
						} else {
							var se *store.Edition
							if se, err = st.EditionBySlug(ctx, args[0]); err == nil {
								ed, err = campaign.ParseStored(se)
							}
						}
						if err != nil {
							return fmt.Errorf("edition %s: %w", args[0], err)
						}
						signer, err := daemon.Signer(ctx, cfg, st)
						if err != nil {
							return err
						}
						content, err := daemon.Content(cfg, daemon.Links(cfg, signer))
						if err != nil {
							return err
						}
						if fs := render.Check(content.Templates, ed); render.HasErrors(fs) {
							for _, f := range fs {
								fmt.Fprintln(e.stderr, f)
							}
							return fmt.Errorf("edition %s has errors", args[0])
						}
						comp, err := content.EditionComposer(&store.Campaign{UUID: uuid.New(), EditionSlug: ed.Slug, Subject: ed.Subject}, ed)
						if err != nil {
							return err
						}
						sender, transport, err := daemon.Transport(cfg)
						if err != nil {
							return err
						}
						defer sender.Close()
						replies, errs := campaign.SendTests(ctx, sender, comp, addrs)
						failed := 0
						for i, a := range addrs {
							if errs[i] != nil {
								failed++
								fmt.Fprintf(e.stdout, "%s: not sent: %v\n", a, errs[i])
								continue
							}
							fmt.Fprintf(e.stdout, "%s: sent (%s)\n", a, replies[i])
						}
						fmt.Fprintf(e.stdout, "test copies through %s; they are not counted in any report\n", transport)
						if failed > 0 {
							return fmt.Errorf("%d test cop(ies) not sent", failed)
						}
						return nil
					})
				}
			},
		},
	}
}

// checkFile parses and checks an edition file with the configured layout,
// printing the findings; errors make it fail. It returns the warnings' count.
func checkFile(e *env, cfg *config.Config, path string) (int, error) {
	ed, err := edition.ParseFile(path)
	if err != nil {
		return 0, err
	}
	tpl, err := render.Load(cfg.Sending.TemplatesDir, daemon.RenderOptions(cfg))
	if err != nil {
		return 0, err
	}
	findings := render.Check(tpl, ed)
	for _, f := range findings {
		fmt.Fprintln(e.stderr, f)
	}
	if render.HasErrors(findings) {
		return 0, fmt.Errorf("%s has errors", path)
	}
	return len(findings), nil
}
