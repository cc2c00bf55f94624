package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
	"bulletin/internal/report"
	"bulletin/internal/schedule"
	"bulletin/internal/store"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// findCampaign resolves a campaign reference with a helpful error.
func findCampaign(ctx context.Context, st *store.Storage, ref string) (*store.Campaign, error) {
	c, err := st.FindCampaign(ctx, ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("no campaign %q (see bulletin campaign list)", ref)
	case errors.Is(err, store.ErrAmbiguous):
		return nil, fmt.Errorf("%q names several campaigns: give more of the identifier", ref)
	}
	return c, err
}

// oneCampaign is a command that acts on one campaign named by its argument.
func oneCampaign(name, summary string, extra func(fs *flag.FlagSet), run func(context.Context, *env, *config.Config, *store.Storage, *store.Campaign) error) command {
	return command{
		name: name, args: "CAMPAIGN", summary: summary,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			if extra != nil {
				extra(fs)
			}
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("expected one campaign: its identifier, a unique prefix of it, or its name")
				}
				return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
					c, err := findCampaign(ctx, st, args[0])
					if err != nil {
						return err
					}
					return run(ctx, e, cfg, st, c)
				})
			}
		},
	}
}

// move applies a state change and says what happened.
func move(ctx context.Context, e *env, st *store.Storage, c *store.Campaign, ch campaign.Change) error {
	from := c.State
	err := campaign.Transition(ctx, st, c, ch)
	var se *store.StateError
	if errors.As(err, &se) {
		return fmt.Errorf("campaign %q is %s: it cannot become %s", c.Name, se.Current, ch.To)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "campaign %q (%s): %s → %s\n", c.Name, short(c), from, c.State)
	return nil
}

func short(c *store.Campaign) string { return c.UUID.String()[:8] }

func campaignCommands() []command {
	var (
		spec   campaign.Spec
		lists  listFlag
		at     string
		wait   bool
		yes    bool
		asJSON bool
	)
	return []command{
		{
			name:    "campaign create",
			summary: "create a draft campaign of an edition to lists",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.StringVar(&spec.Edition, "edition", "", "the edition: a `FILE` (added on the way) or the slug of an added one (required)")
				fs.Var(&lists, "list", "a `list` to send to (repeat for several; default: the edition's lists:)")
				fs.StringVar(&spec.Subject, "subject", "", "subject line (default: the edition's)")
				fs.StringVar(&spec.From, "from", "", "From: `address`, \"Name <addr>\" (default: sending.from)")
				fs.StringVar(&spec.ReplyTo, "reply-to", "", "Reply-To: `address` (default: sending.reply_to)")
				fs.StringVar(&spec.Filter, "filter", "", "only subscribers whose attributes match, e.g. \"secteur=public,ville!=Sète\"")
				fs.StringVar(&spec.Name, "name", "", "the campaign's name (default: the edition's title)")
				fs.BoolVar(&spec.Track, "track", false, "count opens and clicks: a 1×1 image and redirected links in each message (off by default; the CNIL asks for the readers' consent first)")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 0 {
						return usagef("campaign create takes only flags")
					}
					if spec.Edition == "" {
						return usagef("--edition is required")
					}
					spec.Lists = lists
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						// A file is added (or updated) on the way; campaign.Create
						// itself only knows stored editions.
						if fi, err := os.Stat(spec.Edition); err == nil && !fi.IsDir() {
							se, _, _, err := campaign.AddEdition(ctx, st, spec.Edition)
							if err != nil {
								return err
							}
							spec.Edition = se.Slug
						}
						c, err := campaign.Create(ctx, st, spec)
						if err != nil {
							return err
						}
						if err := checkCampaign(ctx, e, cfg, st, c); err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "created campaign %q: %s\nnext: bulletin campaign schedule %s --at \"YYYY-MM-DD HH:MM\", or bulletin campaign send %s\n",
							c.Name, c.UUID, short(c), short(c))
						return nil
					})
				}
			},
		},
		oneCampaign("campaign schedule", "schedule a campaign to go out at a time (in schedule.timezone)",
			func(fs *flag.FlagSet) {
				fs.StringVar(&at, "at", "", "the send `time`, \"2026-01-15 09:00\" (required)")
			},
			func(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
				t, err := parseAt(at, cfg.Location())
				if err != nil {
					return err
				}
				if err := checkCampaign(ctx, e, cfg, st, c); err != nil {
					return err
				}
				if err := move(ctx, e, st, c, campaign.Change{To: store.Scheduled, Cause: i18n.M("campaign.cause.cli", "bulletin campaign schedule --at "+at), SendAt: t}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "it goes out at %s (the daemon, bulletin serve, sends it)\n", t.In(cfg.Location()).Format("2006-01-02 15:04 MST"))
				return nil
			}),
		oneCampaign("campaign send", "send a campaign now, after confirming who gets it (asked on a terminal; --yes in scripts): hand it to the daemon, or send it from here with --wait",
			func(fs *flag.FlagSet) {
				fs.BoolVar(&wait, "wait", false, "wait until it is sent, sending it from this process when no daemon does")
				fs.BoolVar(&yes, "yes", false, "send without asking for confirmation (for scripts; required when standard input is not a terminal)")
			},
			func(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
				if c.State != store.Sending {
					if err := checkCampaign(ctx, e, cfg, st, c); err != nil {
						return err
					}
					p, err := campaign.Confirm(ctx, st, c, cfg.Sending.From)
					if err != nil {
						return err
					}
					printPreview(e.stdout, p, cfg)
					if !yes {
						if !isTerminal(os.Stdin) {
							return errors.New("not sent: confirm on a terminal, or add --yes to send from a script")
						}
						if !confirmed(os.Stdin, e.stdout) {
							fmt.Fprintln(e.stdout, "not sent: nothing changed")
							return nil
						}
					}
					if err := move(ctx, e, st, c, campaign.Change{To: store.Sending, Cause: i18n.M("campaign.cause.cli", "bulletin campaign send")}); err != nil {
						return err
					}
				}
				if !wait {
					fmt.Fprintf(e.stdout, "the daemon (bulletin serve) sends it within seconds; follow it with: bulletin campaign status %s\n(no daemon running? send it from here with: bulletin campaign send %s --wait)\n", short(c), short(c))
					return nil
				}
				return sendHere(ctx, e, cfg, st, c)
			}),
		oneCampaign("campaign pause", "pause a campaign being sent (the messages in flight finish)", nil,
			func(ctx context.Context, e *env, _ *config.Config, st *store.Storage, c *store.Campaign) error {
				return move(ctx, e, st, c, campaign.Change{To: store.Paused, Cause: i18n.M("campaign.cause.cli", "bulletin campaign pause"), Reason: i18n.M("campaign.reason.paused_by_staff")})
			}),
		oneCampaign("campaign resume", "resume a paused campaign", nil,
			func(ctx context.Context, e *env, _ *config.Config, st *store.Storage, c *store.Campaign) error {
				return move(ctx, e, st, c, campaign.Change{To: store.Sending, Cause: i18n.M("campaign.cause.cli", "bulletin campaign resume")})
			}),
		oneCampaign("campaign cancel", "cancel a campaign: what is not sent yet is skipped", nil,
			func(ctx context.Context, e *env, _ *config.Config, st *store.Storage, c *store.Campaign) error {
				return move(ctx, e, st, c, campaign.Change{To: store.Cancelled, Cause: i18n.M("campaign.cause.cli", "bulletin campaign cancel"), Reason: i18n.M("campaign.reason.cancelled_by_staff")})
			}),
		oneCampaign("campaign status", "show where a campaign stands: counts by state, duplicates, next retry, expected end",
			func(fs *flag.FlagSet) {
				fs.BoolVar(&asJSON, "json", false, "print one JSON object")
			},
			func(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
				opts, err := daemon.EngineOptions(cfg, "")
				if err != nil {
					return err
				}
				s, err := campaign.CampaignStatus(ctx, st, c, opts)
				if err != nil {
					return err
				}
				outboxed, err := st.CampaignOutboxed(ctx, c.ID)
				if err != nil {
					return err
				}
				if asJSON {
					return printStatusJSON(e.stdout, s, outboxed)
				}
				return printStatus(ctx, e.stdout, st, s, outboxed, cfg.Location())
			}),
		{
			name:    "campaign list",
			summary: "list the campaigns, newest first",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						cs, err := st.Campaigns(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "id\tname\tstate\tlists\tsend at\tsent\tfailed\tskipped\tpending")
						for _, c := range cs {
							n, err := st.CampaignDeliveryCounts(ctx, c.ID)
							if err != nil {
								return err
							}
							when := ""
							if !c.SendAt.IsZero() {
								when = c.SendAt.In(cfg.Location()).Format("2006-01-02 15:04")
							}
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", short(c), printable(c.Name), c.State, strings.Join(printables(c.Lists), ", "), when,
								n.ByState[store.Delivered], n.ByState[store.Undelivered], n.ByState[store.Skipped], n.Pending())
						}
						return tw.Flush()
					})
				}
			},
		},
		scheduleAdd(),
		{
			name:    "schedule ls",
			summary: "list the recurring schedules",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						all, err := st.Schedules(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "id\tcron\twhat\tnext\tlast")
						for _, s := range all {
							what := "reminder: " + s.Reminder
							if s.Kind == store.ScheduleCampaign {
								what = "campaign: " + s.CampaignName
							}
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.UUID.String()[:8], s.Spec, printable(what),
								s.NextAt.In(cfg.Location()).Format("2006-01-02 15:04 MST"), printable(s.LastResult))
						}
						return tw.Flush()
					})
				}
			},
		},
		{
			name:    "schedule rm",
			args:    "SCHEDULE",
			summary: "delete a recurring schedule",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usagef("expected one schedule identifier (see bulletin schedule ls)")
					}
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						if err := st.DeleteSchedule(ctx, args[0]); err != nil {
							return fmt.Errorf("schedule %q: %w", args[0], err)
						}
						fmt.Fprintln(e.stdout, "deleted")
						return nil
					})
				}
			},
		},
	}
}

func scheduleAdd() command {
	var spec, reminder, ref string
	return command{
		name:    "schedule add",
		summary: "add a recurring schedule (cron, in schedule.timezone): a reminder to staff, or a campaign sent again each time",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			fs.StringVar(&spec, "cron", "", "cron `specification`: minute hour day month weekday, e.g. \"0 9 15 3,6,9,12 *\" (required)")
			fs.StringVar(&reminder, "reminder", "", "mail this `text` to reports.summary_to (or sending.from)")
			fs.StringVar(&ref, "campaign", "", "send a copy of this `campaign` each time")
			return func(ctx context.Context, e *env, args []string) error {
				if spec == "" || (reminder == "") == (ref == "") {
					return usagef("--cron and one of --reminder or --campaign are required")
				}
				return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
					next, err := schedule.Next(spec, cfg.Location(), time.Now())
					if err != nil {
						return err
					}
					sch := &store.Schedule{Spec: spec, Kind: store.ScheduleReminder, Reminder: reminder, NextAt: next}
					if ref != "" {
						c, err := findCampaign(ctx, st, ref)
						if err != nil {
							return err
						}
						sch.Kind, sch.CampaignID = store.ScheduleCampaign, c.ID
					}
					if err := st.CreateSchedule(ctx, sch); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "schedule %s: first at %s\n", sch.UUID.String()[:8], next.Format("2006-01-02 15:04 MST"))
					return nil
				})
			}
		},
	}
}

// parseAt reads a send time in the schedule's time zone.
func parseAt(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("--at is required, e.g. --at \"2026-01-15 09:00\"")
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if t.Before(time.Now().Add(-time.Minute)) {
				return time.Time{}, fmt.Errorf("--at %q is in the past (time zone %s)", s, loc)
			}
			return t, nil
		}
	}
	return time.Time{}, usagef("--at %q: expected \"YYYY-MM-DD HH:MM\" (in %s)", s, loc)
}

// checkCampaign renders the campaign's edition with the layout and refuses
// an edition with errors; warnings are printed.
func checkCampaign(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
	se, err := st.EditionByID(ctx, c.EditionID)
	if err != nil {
		return err
	}
	ed, err := campaign.ParseStored(se)
	if err != nil {
		return err
	}
	tpl, err := render.Load(cfg.Sending.TemplatesDir, daemon.RenderOptions(cfg))
	if err != nil {
		return err
	}
	findings := render.Check(tpl, ed)
	for _, f := range findings {
		fmt.Fprintln(e.stderr, f)
	}
	if render.HasErrors(findings) {
		return fmt.Errorf("edition %s has errors: fix them and add it again (bulletin edition add FILE)", se.Slug)
	}
	return nil
}

// sendHere waits for the campaign to leave state sending, sending it from
// this process while no daemon holds it.
func sendHere(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
	log, err := e.logger()
	if err != nil {
		return err
	}
	signer, err := daemon.Signer(ctx, cfg, st)
	if err != nil {
		return err
	}
	sender, transport, err := daemon.Transport(cfg)
	if err != nil {
		return err
	}
	defer sender.Close()
	content, err := daemon.Content(cfg, daemon.Links(cfg, signer))
	if err != nil {
		return err
	}
	opts, err := daemon.EngineOptions(cfg, transport)
	if err != nil {
		return err
	}
	engine := campaign.NewEngine(st, sender, content, opts, log)
	var last string
	for {
		err := engine.RunCampaign(ctx, c.ID)
		if err != nil && !errors.Is(err, campaign.ErrBusy) {
			return err
		}
		if c, err = st.CampaignByID(ctx, c.ID); err != nil {
			return err
		}
		s, err := campaign.CampaignStatus(ctx, st, c, opts)
		if err != nil {
			return err
		}
		n := s.Counts
		line := fmt.Sprintf("%s: %d sent, %d failed, %d skipped, %d to go", c.State, n.ByState[store.Delivered],
			n.ByState[store.Undelivered], n.ByState[store.Skipped], n.Pending())
		if line != last {
			fmt.Fprintln(e.stdout, line)
			last = line
		}
		if c.State != store.Sending {
			if c.StateReason != "" {
				fmt.Fprintln(e.stdout, "reason:", printable(c.StateReason))
			}
			if c.State == store.Sent && cfg.SMTP.Host == "" {
				fmt.Fprintf(e.stdout, "the messages are .eml files in %s\n", strings.TrimPrefix(transport, "outbox "))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// statusFigures is the JSON of "campaign status"; outboxed is how many of
// the sent messages the outbox wrote to its folder instead (see
// report.Campaign.Transport).
func statusFigures(s *campaign.Status, outboxed int) map[string]any {
	c, n := s.Campaign, s.Counts
	out := map[string]any{
		"outboxed": outboxed, "transport": report.Transport(n.ByState[store.Delivered], outboxed),
		"id": c.UUID.String(), "name": c.Name, "state": string(c.State), "state_reason": c.StateReason,
		"edition": c.EditionSlug, "lists": c.Lists, "subject": c.Subject,
		"recipients": n.Total, "sent": n.ByState[store.Delivered], "failed": n.ByState[store.Undelivered],
		"skipped": n.ByState[store.Skipped], "queued": n.ByState[store.Queued], "sending": n.ByState[store.InFlight],
		"pending": n.Pending(), "retrying": n.Retrying, "duplicates": n.Duplicates, "waiting": s.Waiting.String(),
	}
	for k, t := range map[string]time.Time{"send_at": c.SendAt, "started_at": c.StartedAt, "finished_at": c.FinishedAt,
		"next_retry": n.NextRetry, "estimated_end": s.EstimatedEnd} {
		if !t.IsZero() {
			out[k] = t.Format(time.RFC3339)
		} else {
			out[k] = nil
		}
	}
	return out
}

func printStatusJSON(w io.Writer, s *campaign.Status, outboxed int) error {
	return jsonEncoder(w).Encode(statusFigures(s, outboxed))
}

func printStatus(ctx context.Context, w io.Writer, st *store.Storage, s *campaign.Status, outboxed int, loc *time.Location) error {
	c, n := s.Campaign, s.Counts
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	fmt.Fprintf(w, "campaign %q (%s)\nstate: %s", c.Name, c.UUID, c.State)
	if c.StateReason != "" {
		fmt.Fprintf(w, " (%s)", printable(c.StateReason))
	}
	fmt.Fprintf(w, "\nedition: %s  lists: %s  subject: %s\n", c.EditionSlug, strings.Join(printables(c.Lists), ", "), printable(c.Subject))
	if !c.SendAt.IsZero() {
		fmt.Fprintf(w, "send at: %s\n", when(c.SendAt))
	}
	if c.StartedAt.IsZero() {
		conds, err := campaign.ParseFilter(c.Filter)
		if err != nil {
			return err
		}
		x, err := st.ExpectedRecipients(ctx, c.ID, conds)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "recipients: fixed when it starts sending; now %d (left out: %d suppressed or unconfirmed, %d no longer on the lists)\n",
			x.Queued, x.Suppressed, x.LeftList)
	} else {
		fmt.Fprintf(w, "recipients: %d  sent: %d  failed: %d  skipped: %d  queued: %d  in flight: %d\n", n.Total,
			n.ByState[store.Delivered], n.ByState[store.Undelivered], n.ByState[store.Skipped], n.ByState[store.Queued], n.ByState[store.InFlight])
	}
	if outboxed > 0 {
		fmt.Fprintf(w, "written to the outbox, not sent: %d of the %d sent (no relay: smtp.host is empty; nobody received them)\n",
			outboxed, n.ByState[store.Delivered])
	}
	if n.Duplicates > 0 {
		fmt.Fprintf(w, "possibly sent twice (in flight at a crash): %d\n", n.Duplicates)
	}
	if n.Retrying > 0 {
		fmt.Fprintf(w, "waiting for a retry: %d, next at %s\n", n.Retrying, when(n.NextRetry))
	}
	if !s.Waiting.IsZero() {
		fmt.Fprintf(w, "waiting: %s\n", printable(s.Waiting.String()))
	}
	if !s.EstimatedEnd.IsZero() {
		fmt.Fprintf(w, "fin estimée (expected end): %s\n", when(s.EstimatedEnd))
	}
	if !c.FinishedAt.IsZero() {
		fmt.Fprintf(w, "finished: %s\n", when(c.FinishedAt))
	}
	shown := 0
	err := st.CampaignDeliveries(ctx, c.ID, store.Undelivered, func(d *store.Delivery) error {
		if shown == 0 {
			fmt.Fprintln(w, "failures:")
		}
		if shown++; shown <= 10 {
			fmt.Fprintf(w, "  %s: %s\n", printable(d.Email), printable(d.Reply))
		}
		return nil
	})
	if shown > 10 {
		fmt.Fprintf(w, "  … and %d more (bulletin report %s)\n", shown-10, short(c))
	}
	return err
}

// printPreview writes what "campaign send" asks staff to confirm: who gets
// the campaign once suppressed addresses are left out, from whom, and the
// earlier sends of the same edition to the same lists.
func printPreview(w io.Writer, p *campaign.Preview, cfg *config.Config) {
	c, n := p.Campaign, p.Expected
	fmt.Fprintf(w, "campaign %q (%s)\nsubject: %s\nfrom: %s\nlists: %s\n", c.Name, short(c), printable(c.Subject),
		printable(p.From), strings.Join(printables(c.Lists), ", "))
	if c.Filter != "" {
		fmt.Fprintf(w, "filter: %s\n", printable(c.Filter))
	}
	fmt.Fprintf(w, "recipients: %d (left out: %d suppressed or unconfirmed, %d no longer on the lists)\n", n.Queued, n.Suppressed, n.LeftList)
	for _, o := range p.Earlier {
		when := o.StartedAt.In(cfg.Location()).Format("2006-01-02 15:04 MST")
		fmt.Fprintf(w, "WARNING: this edition was already sent to these lists by campaign %q (%s, %s, started %s)\n",
			o.Name, short(o), o.State, when)
	}
	if cfg.SMTP.Host == "" {
		fmt.Fprintf(w, "OUTBOX: smtp.host is empty, the messages will be written to %s, not sent\n", cfg.Sending.OutboxDir)
	}
}

// confirmed asks on out whether to send, and reads the answer from in: yes
// only for "y" or "yes" (or the French "o", "oui"), no for anything else.
func confirmed(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "Send it now? [y/N] ")
	answer, err := firstLine(in)
	if err != nil {
		fmt.Fprintln(out)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes", "o", "oui":
		return true
	}
	return false
}
