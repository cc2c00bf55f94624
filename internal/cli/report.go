package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/report"
	"bulletin/internal/store"
)

// addressChoices is the help text of --addresses.
const addressChoices = "problems (failed, bounced, complaint, unsubscribed, retrying, skipped), sent, delivered, failed, skipped, pending, retrying, bounced, hard, soft, complaint, unsubscribed, all"

func reportCommands() []command {
	var (
		asJSON, asCSV, excel bool
		show                 string
	)
	return []command{
		oneCampaign("report", "a campaign's delivery report: figures, failures, bounces, domains, the addresses concerned (--json, --csv)",
			func(fs *flag.FlagSet) {
				fs.BoolVar(&asJSON, "json", false, "print one JSON object (the figures; with --addresses, the addresses too)")
				fs.BoolVar(&asCSV, "csv", false, "print the addresses --addresses selects as CSV, one row per delivery")
				fs.BoolVar(&excel, "excel", false, "with --csv: semicolons and a byte order mark, for French Excel")
				fs.StringVar(&show, "addresses", "", "which addresses to list: "+addressChoices+" (default: problems for the text and --csv, none for --json)")
			},
			func(ctx context.Context, e *env, cfg *config.Config, st *store.Storage, c *store.Campaign) error {
				if asJSON && asCSV {
					return usagef("--json and --csv are exclusive")
				}
				if show != "" && !store.ValidAddressFilter(show) {
					return usagef("--addresses %q: choose one of %s", show, addressChoices)
				}
				o := report.Options{Location: cfg.Location(), Addresses: show}
				switch {
				case asCSV:
					if show == "" {
						show = "problems"
					}
					rows, _, err := report.Addresses(ctx, st, c.ID, show, 0, 0)
					if err != nil {
						return err
					}
					return report.WriteAddressesCSV(e.stdout, rows, excel)
				case asJSON:
					r, err := report.ForCampaign(ctx, st, c, o)
					if err != nil {
						return err
					}
					return jsonEncoder(e.stdout).Encode(r)
				}
				if o.Addresses == "" {
					o.Addresses = "problems"
				}
				o.Limit = 20
				r, err := report.ForCampaign(ctx, st, c, o)
				if err != nil {
					return err
				}
				return printReport(e.stdout, r, cfg)
			}),
		{
			name:    "report lists",
			summary: "the lists quarter by quarter: active subscribers, new, unsubscribed, bounced, complained; campaigns and messages sent (--json, --csv)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.BoolVar(&asJSON, "json", false, "print one JSON object: the quarters and the editions")
				fs.BoolVar(&asCSV, "csv", false, "print the quarters as CSV: one row per quarter for all lists, then one per quarter and list")
				fs.BoolVar(&excel, "excel", false, "with --csv: semicolons and a byte order mark, for French Excel")
				return func(ctx context.Context, e *env, args []string) error {
					return withOverview(ctx, e, args, func(cfg *config.Config, o *report.Overview) error {
						switch {
						case asJSON:
							return jsonEncoder(e.stdout).Encode(o)
						case asCSV:
							return report.WriteQuartersCSV(e.stdout, o, excel)
						}
						return printQuarters(e.stdout, o)
					})
				}
			},
		},
		{
			name:    "report editions",
			summary: "every campaign sent, with its figures: recipients, delivered, bounces, complaints, unsubscribes (--csv)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				fs.BoolVar(&asCSV, "csv", false, "print the editions as CSV")
				fs.BoolVar(&excel, "excel", false, "with --csv: semicolons and a byte order mark, for French Excel")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 0 {
						return usagef("this command takes only flags")
					}
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						eds, err := report.Editions(ctx, st, cfg.Location())
						if err != nil {
							return err
						}
						o := &report.Overview{Editions: eds}
						if asCSV {
							return report.WriteEditionsCSV(e.stdout, o, excel)
						}
						return printEditions(e.stdout, o, cfg.Location())
					})
				}
			},
		},
	}
}

func withOverview(ctx context.Context, e *env, args []string, fn func(*config.Config, *report.Overview) error) error {
	if len(args) != 0 {
		return usagef("this command takes only flags")
	}
	return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
		o, err := report.Lists(ctx, st, cfg.Location(), time.Now())
		if err != nil {
			return err
		}
		return fn(cfg, o)
	})
}

func pct(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(100**f, 'f', 1, 64) + "%"
}

// printReport writes a campaign's report for people: the figures, then
// what went wrong, grouped, then the first addresses concerned.
func printReport(w io.Writer, r *report.Campaign, cfg *config.Config) error {
	loc := cfg.Location()
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	fmt.Fprintf(w, "campaign %q (%s): %s", r.Name, r.ID, r.State)
	if r.StateReason != "" {
		fmt.Fprintf(w, " (%s)", printable(r.StateReason))
	}
	fmt.Fprintf(w, "\nsubject: %s\nlists: %s\n", printable(r.Subject), strings.Join(printables(r.Lists), ", "))
	if !r.FirstSentAt.IsZero() {
		fmt.Fprintf(w, "sent from %s to %s\n", when(r.FirstSentAt), when(r.LastSentAt))
	}
	if r.Pending > 0 {
		fmt.Fprintf(w, "still sending: the figures will move\n")
	} else if !r.FinishedAt.IsZero() && time.Since(r.FinishedAt) < cfg.Reports.BounceWindow {
		fmt.Fprintf(w, "bounces may still come in until %s\n", when(r.FinishedAt.Add(cfg.Reports.BounceWindow)))
	}
	if r.Transport == "outbox" || r.Transport == "mixed" {
		fmt.Fprintf(w, "OUTBOX: %d messages were written to the outbox folder (.eml files), not sent: nobody received them (set smtp.host to send)\n", r.Outboxed)
	}
	fmt.Fprintln(w)
	type figure struct {
		name string
		n    int
		note string
	}
	rows := []figure{
		{"recipients", r.Recipients, ""},
		{"sent", r.Sent, fmt.Sprintf("%d after a retry", r.SentAfterRetry)},
		{"delivered", r.Delivered, "delivery rate " + pct(r.DeliveryRate) + " = delivered / (sent + failed)"},
		{"failed", r.Failed, ""},
		{"skipped", r.Skipped, ""},
		{"pending", r.Pending, fmt.Sprintf("%d waiting for a retry", r.Retrying)},
		{"bounced_hard", r.BouncedHard, ""},
		{"bounced_soft", r.BouncedSoft, ""},
		{"refused_hard", r.RefusedHard, "refused by the relay as unknown addresses (part of failed)"},
		{"refused_soft", r.RefusedSoft, "refused by the relay for another reason (part of failed)"},
		{"dead_addresses", r.DeadAddresses, fmt.Sprintf("= bounced_hard %d + refused_hard %d", r.BouncedHard, r.RefusedHard)},
		{"complaints", r.Complaints, "complaint rate " + pct(r.ComplaintRate) + " of delivered"},
		{"unsubscribed", r.Unsubscribed, "unsubscribe rate " + pct(r.UnsubscribeRate) + " of delivered"},
	}
	if r.Outbox() {
		rows = slices.Replace(rows, 1, 3, figure{"written to the outbox", r.Outboxed, "not sent: files in sending.outbox_dir, no relay"})
	}
	if r.Duplicates > 0 {
		rows = append(rows, figure{"duplicates", r.Duplicates, "possibly sent twice (in flight at a crash)"})
	}
	if r.Delayed > 0 {
		rows = append(rows, figure{"delayed", r.Delayed, "reported delayed by the remote server (not a failure)"})
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row.name))
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-*s %7d", width, row.name, row.n)
		if row.note != "" {
			fmt.Fprintf(w, "   %s", row.note)
		}
		fmt.Fprintln(w)
	}

	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		return true
	}
	if section("failures by reply", len(r.Failures)) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, f := range r.Failures {
			fmt.Fprintf(tw, "  %s %s\t%s\t%d\t%s\n", codeOr(f.SMTPCode), f.EnhancedCode, f.Class, f.Count, printable(f.Example))
		}
		tw.Flush()
	}
	if section("bounces by reason", len(r.Bounces)) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, b := range r.Bounces {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", b.Kind, printable(b.Reason), printable(b.Status), b.Count, printable(b.Example))
		}
		tw.Flush()
	}
	if section("refused by the relay, by reason", len(r.Refusals)) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, x := range r.Refusals {
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%d\t%s\n", x.Kind, printable(x.Reason), codeOr(x.SMTPCode), x.EnhancedCode, x.Count, printable(x.Example))
		}
		tw.Flush()
	}
	if section("skipped by reason", len(r.SkippedBy)) {
		for _, s := range r.SkippedBy {
			fmt.Fprintf(w, "  %s: %d\n", printable(s.Reason), s.Count)
		}
	}
	if section("unsubscribed by source", len(r.UnsubscribedBy)) {
		for _, s := range r.UnsubscribedBy {
			fmt.Fprintf(w, "  %s: %d\n", printable(s.Reason), s.Count)
		}
	}
	top, rest, others := r.TopDomains(10)
	if section("domains", len(r.Domains)) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  domain\trecipients\tdelivered\tfailed\tbounced\tcomplaints\tunsubscribed\tskipped\trate\t")
		line := func(name string, d report.Domain) {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", name, d.Recipients, d.Delivered, d.Failed,
				d.BouncedHard+d.BouncedSoft, d.Complaints, d.Unsubscribed, d.Skipped, pct(d.DeliveryRate))
		}
		for _, d := range top {
			line(printable(d.Domain), d)
		}
		if others > 0 {
			line(fmt.Sprintf("(%d others)", others), rest)
		}
		tw.Flush()
	}
	if r.Tracking != nil {
		t := r.Tracking
		fmt.Fprintf(w, "\nopened: %d (%s of delivered), clicked: %d (%s)\n  %s\n", t.Opened, pct(t.OpenRate), t.Clicked, pct(t.ClickRate), t.Caveat)
	}
	if l := r.Addresses; l != nil && section(fmt.Sprintf("addresses to look at (%d)", l.Total), l.Total) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, a := range l.Items {
			email := printable(a.Email)
			if email == "" {
				email = "(erased)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", email, a.Outcome, printable(a.Detail))
		}
		tw.Flush()
		if n := l.Total - len(l.Items); n > 0 {
			fmt.Fprintf(w, "  … and %d more: bulletin report %s --csv\n", n, r.ID[:8])
		}
	}
	return nil
}

func codeOr(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func printQuarters(w io.Writer, o *report.Overview) error {
	fmt.Fprintf(w, "active subscribers on at least one list, per quarter (%s)\n\n", o.Timezone)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "quarter\tstart\tnew\tunsubscribed\tbounced\tcomplained\tother\tend\tcampaigns\tsent\tbounces\tcomplaints\t")
	for _, q := range o.Quarters {
		s := q.Subscribers
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", q.Quarter, s.Start, s.New, s.Unsubscribed, s.Bounced,
			s.Complained, s.Other, s.End, q.Campaigns, q.Sent, q.BouncedHard+q.BouncedSoft, q.Complaints)
	}
	tw.Flush()
	for i, name := range o.Lists {
		fmt.Fprintf(w, "\nlist %q\n", name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "quarter\tstart\tnew\tunsubscribed\tbounced\tcomplained\tother\tend\t")
		for _, q := range o.Quarters {
			f := q.Lists[i]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", q.Quarter, f.Start, f.New, f.Unsubscribed, f.Bounced, f.Complained, f.Other, f.End)
		}
		tw.Flush()
	}
	return nil
}

func printEditions(w io.Writer, o *report.Overview, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tname\tstarted\trecipients\tdelivered\trate\thard\tsoft\tcomplaints\tunsubscribed")
	for _, e := range o.Editions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n", e.ID[:8], printable(e.Name), e.StartedAt.In(loc).Format("2006-01-02"),
			e.Recipients, e.Delivered, pct(e.DeliveryRate), e.BouncedHard, e.BouncedSoft, e.Complaints, e.Unsubscribed)
	}
	return tw.Flush()
}
