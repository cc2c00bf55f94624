package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/edition"
	"bulletin/internal/links"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

func editionCommands() []command {
	var (
		subscriber, out, to string
		text, empty         bool
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
						if _, err := checkFile(ctx, e, cfg, st, args[0]); err != nil {
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
					// With a store, the lists the edition names are
					// checked too; without one (a writer's laptop), not.
					// A PostgreSQL store is always there.
					var st *store.Storage
					if _, err := os.Stat(cfg.Store.Path); err == nil || cfg.Store.Driver == "postgres" {
						if st, err = e.store(ctx); err != nil {
							return err
						}
						defer st.Close()
					}
					n, err := checkFile(ctx, e, cfg, st, args[0])
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
					if !text {
						// A file preview is opened without the daemon:
						// its images are embedded (real sends keep the
						// public links).
						if body, err = embedMedia(body, cfg.Server.PublicURL, ed); err != nil {
							return err
						}
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
			name:    "edition next",
			args:    "SLUG|FILE",
			summary: "start the next edition from a past one: date, quarter and number advanced, text kept (or --empty)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.BoolVar(&empty, "empty", false, "empty the text, keeping the structure, headings and signatures")
				fs.StringVar(&out, "out", "", "write the new edition to this `file` (required)")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 || out == "" {
						return usagef("expected an edition file or slug, and --out")
					}
					var ed *edition.Edition
					var err error
					if fi, serr := os.Stat(args[0]); serr == nil && !fi.IsDir() {
						ed, err = edition.ParseFile(args[0])
					} else {
						err = withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
							se, err := st.EditionBySlug(ctx, args[0])
							if err != nil {
								return err
							}
							ed, err = campaign.ParseStored(se)
							return err
						})
					}
					if err != nil {
						return fmt.Errorf("edition %s: %w", args[0], err)
					}
					doc, quarterOK := edition.Next(ed, empty)
					src, err := doc.Source(nil)
					if err != nil {
						return err
					}
					if _, err := os.Stat(out); err == nil {
						return fmt.Errorf("%s exists: choose another --out", out)
					}
					if err := os.WriteFile(out, src, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "wrote %s: %s, %s\n", out, doc.Front.Date, doc.Front.Quarter)
					if !quarterOK {
						fmt.Fprintf(e.stderr, "quarter %q could not be read: change it by hand\n", doc.Front.Quarter)
					}
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

// checkFile parses and checks an edition file with the configured layout
// (and, with st, that the lists it names exist), printing the findings;
// errors make it fail. It returns the warnings' count.
func checkFile(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, path string) (int, error) {
	ed, err := edition.ParseFile(path)
	if err != nil {
		return 0, err
	}
	tpl, err := render.Load(cfg.Sending.TemplatesDir, daemon.RenderOptions(cfg))
	if err != nil {
		return 0, err
	}
	findings := render.Check(tpl, ed)
	if st != nil {
		fs, err := campaign.ListFindings(ctx, st, ed)
		if err != nil {
			return 0, err
		}
		findings = append(findings, fs...)
	}
	for _, f := range findings {
		fmt.Fprintln(e.stderr, f)
	}
	if render.HasErrors(findings) {
		return 0, fmt.Errorf("%s has errors", path)
	}
	return len(findings), nil
}

// embedMedia replaces the links to the edition's own files (its images, a
// logo kept beside it) by data: URIs, so that a preview written to a file
// shows them with no daemon running. One file is easier to pass around
// than a file and a folder of copies.
func embedMedia(html []byte, publicURL string, ed *edition.Edition) ([]byte, error) {
	prefix := links.MediaURL(publicURL, ed.Slug, "")
	var b bytes.Buffer
	rest := html
	for {
		i := bytes.Index(rest, []byte(prefix))
		if i < 0 {
			b.Write(rest)
			return b.Bytes(), nil
		}
		b.Write(rest[:i])
		rest = rest[i+len(prefix):]
		j := bytes.IndexAny(rest, "\"' )<>")
		if j < 0 {
			j = len(rest)
		}
		ref := string(rest[:j])
		data, ok := dataURI(ed, ref)
		if !ok {
			b.WriteString(prefix) // not a file of the edition's: left as it is
			continue
		}
		b.WriteString(data)
		rest = rest[j:]
	}
}

// dataURI reads a file of the edition's folder named by the path part of
// a media URL and returns it as a data: URI.
func dataURI(ed *edition.Edition, ref string) (string, bool) {
	p, err := ed.LocalPath(ref)
	if err != nil {
		return "", false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	ctype := mime.TypeByExtension(strings.ToLower(filepath.Ext(p)))
	if !strings.HasPrefix(ctype, "image/") {
		return "", false
	}
	return "data:" + ctype + ";base64," + base64.StdEncoding.EncodeToString(data), true
}
