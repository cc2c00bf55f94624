package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"bulletin/internal/classify"
	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/mailbox"
	"bulletin/internal/store"
)

var mailboxKinds = []string{"hard", "soft", "delayed", "complaint", "autoreply", "unsubscribe", "reply", "unknown"}

func mailboxCommands() []command {
	return []command{
		{
			name:    "mailbox classify",
			args:    "FILE.eml...",
			summary: "classify saved messages as the mailbox watcher would (offline; no config needed)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				asJSON := fs.Bool("json", false, "print one JSON object per file: file, kind, recipients, status, diagnostic")
				bounceLocal := fs.String("bounce-local", "bounces", "local part of the VERP bounce address, before \"+token\"")
				unsubLocal := fs.String("unsubscribe-local", "unsubscribe", "local part of the mailto unsubscribe address, before \"+token\"")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) == 0 {
						return usagef("expected one or more message files")
					}
					opts := classify.Options{BounceLocal: *bounceLocal, UnsubscribeLocal: *unsubLocal}
					return classifyFiles(e.stdout, e.stderr, args, opts, *asJSON)
				}
			},
		},
		{
			name:    "mailbox events",
			summary: "list what the mailbox watcher read: bounces, complaints, unsubscribes, replies",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				campaign := fs.String("campaign", "", "only the events of this campaign (`UUID or name`)")
				kind := fs.String("kind", "", "only events of this `kind`: "+strings.Join(mailboxKinds, ", "))
				limit := fs.Int("limit", 50, "at most this many events, newest first (0: all)")
				asJSON := fs.Bool("json", false, "print one JSON object per event")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) > 0 {
						return usagef("mailbox events takes no arguments")
					}
					if *kind != "" && !slices.Contains(mailboxKinds, *kind) {
						return usagef("--kind %q: expected one of %s", *kind, strings.Join(mailboxKinds, ", "))
					}
					if *limit < 0 {
						return usagef("--limit must be 0 or more")
					}
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						evs, err := st.MailboxEvents(ctx, store.MailboxEventFilter{Campaign: *campaign, Kind: *kind, Limit: *limit})
						if err != nil {
							return err
						}
						if *asJSON {
							return printMailboxEventsJSON(e.stdout, evs)
						}
						return printMailboxEvents(e.stdout, evs, cfg.Location())
					})
				}
			},
		},
		{
			name:    "mailbox check",
			summary: "connect to the IMAP mailbox once and report what the server offers and holds (changes nothing)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) > 0 {
						return usagef("mailbox check takes no arguments")
					}
					cfg, err := e.config()
					if err != nil {
						return err
					}
					if cfg.IMAP.Host == "" {
						return fmt.Errorf("imap.host is empty (%s): the mailbox watcher is off", cfg.Where("imap.host"))
					}
					if err := cfg.IMAPSecret(); err != nil {
						return err
					}
					return withStore(ctx, e, func(cfg *config.Config, st *store.Storage) error {
						signer, err := daemon.Signer(ctx, cfg, st)
						if err != nil {
							return err
						}
						proc := mailbox.NewProcessor(st, daemon.Links(cfg, signer), mailbox.RulesFromConfig(cfg), nil)
						w, err := mailbox.New(mailbox.OptionsFromConfig(cfg, nil), proc)
						if err != nil {
							return err
						}
						r, err := w.Check(ctx)
						if err != nil {
							return fmt.Errorf("%s:%d: %w", cfg.IMAP.Host, cfg.IMAP.Port, err)
						}
						printMailboxCheck(e.stdout, r)
						return nil
					})
				}
			},
		},
	}
}

// classifyFiles prints the classification of each file; a file that cannot
// be read is named on stderr, the others are still classified, and the
// command fails at the end.
func classifyFiles(stdout, stderr io.Writer, files []string, opts classify.Options, asJSON bool) error {
	enc := jsonEncoder(stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "bulletin: mailbox classify: %v\n", err)
			failed++
			continue
		}
		res := classify.Classify(raw, opts)
		if asJSON {
			if err := enc.Encode(res.Contract(name)); err != nil {
				return err
			}
			continue
		}
		line := name + ": " + string(res.Kind)
		if res.Status != "" {
			line += " " + res.Status
		}
		if res.Reason != "" {
			line += " (" + res.Reason + ")"
		}
		if rcpts := res.FailedAddresses(); len(rcpts) > 0 {
			line += " " + strings.Join(rcpts, ", ")
		}
		if res.Diagnostic != "" {
			line += ": " + res.Diagnostic
		}
		fmt.Fprintln(stdout, printable(line))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be read", failed, len(files))
	}
	return nil
}

// eventAddress is the address an event is about: the subscriber's, else
// the first failed recipient, else the sender.
func eventAddress(ev *store.MailboxEvent) string {
	switch {
	case ev.SubscriberEmail != "":
		return ev.SubscriberEmail
	case len(ev.Recipients) > 0:
		return ev.Recipients[0]
	}
	return ev.From
}

func printMailboxEvents(w io.Writer, evs []*store.MailboxEvent, loc *time.Location) error {
	if len(evs) == 0 {
		fmt.Fprintln(w, "no mailbox events")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tREASON\tADDRESS\tCAMPAIGN\tACTION\tFOLDER\tNOTE")
	for _, ev := range evs {
		campaign := eventCell(ev.CampaignName, 40)
		// Empty: the move was not confirmed (not done yet, refused, or its
		// answer lost with the connection).
		folder := eventCell(ev.Folder, 60)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.ProcessedAt.In(loc).Format("2006-01-02 15:04"), ev.Kind,
			eventCell(ev.Reason, 40), eventCell(eventAddress(ev), 60), campaign, ev.Action, folder, eventCell(ev.Error, 80))
	}
	return tw.Flush()
}

// mailboxEventJSON is one line of `mailbox events --json`.
type mailboxEventJSON struct {
	Time         time.Time  `json:"time"`
	Mailbox      string     `json:"mailbox"`
	UIDValidity  uint32     `json:"uid_validity"`
	UID          uint32     `json:"uid"`
	MessageID    string     `json:"message_id"`
	From         string     `json:"from"`
	Subject      string     `json:"subject"`
	Kind         string     `json:"kind"`
	Reason       string     `json:"reason"`
	Status       string     `json:"status"`
	Diagnostic   string     `json:"diagnostic"`
	Recipients   []string   `json:"recipients"`
	Address      string     `json:"address"`
	Campaign     string     `json:"campaign"`
	CampaignName string     `json:"campaign_name"`
	MatchedBy    string     `json:"matched_by"`
	Action       string     `json:"action"`
	Folder       string     `json:"folder"`
	Error        string     `json:"error"`
	ReceivedAt   *time.Time `json:"received_at"`
}

func printMailboxEventsJSON(w io.Writer, evs []*store.MailboxEvent) error {
	enc := jsonEncoder(w)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		j := mailboxEventJSON{
			Time: ev.ProcessedAt.UTC(), Mailbox: ev.Mailbox, UIDValidity: ev.UIDValidity, UID: ev.UID,
			MessageID: ev.MessageID, From: ev.From, Subject: ev.Subject, Kind: ev.Kind, Reason: ev.Reason,
			Status: ev.Status, Diagnostic: ev.Diagnostic, Recipients: ev.Recipients, Address: eventAddress(ev),
			Campaign: ev.CampaignUUID, CampaignName: ev.CampaignName, MatchedBy: ev.MatchedBy,
			Action: string(ev.Action), Folder: ev.Folder, Error: ev.Error,
		}
		if j.Recipients == nil {
			j.Recipients = []string{}
		}
		if !ev.ReceivedAt.IsZero() {
			t := ev.ReceivedAt.UTC()
			j.ReceivedAt = &t
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

func printMailboxCheck(w io.Writer, r *mailbox.CheckReport) {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(w, "connected and logged in\n")
	fmt.Fprintf(w, "IDLE: %s (otherwise the mailbox is polled)\n", yes(r.IDLE))
	fmt.Fprintf(w, "MOVE: %s (otherwise messages are copied to their folder and flagged %s in place)\n", yes(r.MOVE), mailbox.Keyword)
	fmt.Fprintf(w, "hierarchy delimiter: %q, personal namespace prefix: %q\n", r.Delimiter, r.Prefix)
	fmt.Fprintf(w, "mailbox %s: %d messages, UIDVALIDITY %d, UIDNEXT %d\n", r.Mailbox, r.Messages, r.UIDValidity, r.UIDNext)
	switch cp := r.Checkpoint; {
	case cp == nil:
		fmt.Fprintln(w, "checkpoint: none; the watcher will read the whole mailbox first")
	case cp.UIDValidity != r.UIDValidity:
		fmt.Fprintf(w, "checkpoint: UIDVALIDITY %d, which the server no longer has; the watcher will read the mailbox again from UID 1\n", cp.UIDValidity)
	default:
		fmt.Fprintf(w, "checkpoint: last UID %d (%s)\n", cp.LastUID, cp.UpdatedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "messages to read: %d\n", r.Pending)
	for _, f := range r.Folders {
		state := "exists"
		if !f.Exists {
			state = "missing, will be created"
		}
		fmt.Fprintf(w, "folder %s: %q, %s\n", f.Role, f.Name, state)
	}
	fmt.Fprintf(w, "capabilities: %s\n", printable(strings.Join(r.Capabilities, " ")))
}

// eventCell fits a value into a column of the events table: printable, on
// one line, "-" when empty, cut to n bytes on a character boundary.
func eventCell(s string, n int) string {
	s = strings.NewReplacer("\t", " ", "\n", " ").Replace(printable(s))
	if s == "" {
		return "-"
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
