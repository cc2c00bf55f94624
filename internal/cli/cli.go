// Package cli is Bulletin's command line: one file per command group, all
// listed in the table below.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"bulletin/internal/config"
	"bulletin/internal/settings"
	"bulletin/internal/store"
)

// command is one subcommand such as "import" or "campaign create".
type command struct {
	name    string
	args    string // synopsis of the arguments after the flags
	summary string
	// flags declares the command's flags on fs and returns the function that
	// runs it with the remaining arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) error
}

// commands lists every command, in the order help shows them.
func commands() []command {
	var all []command
	for _, group := range [][]command{
		serveCommands(),
		importCommands(),
		exportCommands(),
		subscriberCommands(),
		listCommands(),
		mailboxCommands(),
		backupCommands(),
		storeCommands(),
		campaignCommands(),
		reportCommands(),
		editionCommands(),
		userCommands(),
		tokenCommands(),
		versionCommands(),
	} {
		all = append(all, group...)
	}
	return all
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	configPath     string
	cfg            *config.Config
}

// config loads the configuration on first use: commands that need none (help,
// mailbox classify) work without a valid config.yaml.
func (e *env) config() (*config.Config, error) {
	if e.cfg == nil {
		cfg, err := config.Load(e.configPath, os.Environ())
		if err != nil {
			return nil, err
		}
		e.cfg = &cfg
	}
	return e.cfg, nil
}

// store opens the database the configuration names, with the server
// secret that keys its erasure records.
func (e *env) store(ctx context.Context) (*store.Storage, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.Store.Location(), store.WithSecret([]byte(cfg.Server.Secret)))
}

// withStore runs fn with the database open and the configuration in force:
// config.yaml and the environment with, over them, what staff saved in the
// console's settings (the sender, the pace, the organisation), as the
// daemon uses it, so that a campaign sent or rendered from here is the one
// the daemon would send.
func withStore(ctx context.Context, e *env, fn func(*config.Config, *store.Storage) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	prov, err := settings.Load(ctx, cfg, st)
	if err != nil {
		return err
	}
	return fn(prov.Current(), st)
}

// logger returns the daemon's logger, as configured.
func (e *env) logger() (*slog.Logger, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
}

// usageError is a mistake in the command line itself: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// ExitCode turns the error of Run into the process's exit code, printing it.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "bulletin:", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// Run runs the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr}
	global := flag.NewFlagSet("bulletin", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&e.configPath, "config", "", "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(stdout)
			return nil
		}
		return usagef("%v", err)
	}
	args = global.Args()
	if len(args) == 0 || args[0] == "help" {
		if len(args) > 1 {
			args = append(args[1:], "--help")
			return dispatch(ctx, e, args)
		}
		help(stdout)
		return nil
	}
	return dispatch(ctx, e, args)
}

func dispatch(ctx context.Context, e *env, args []string) error {
	// The longest command name that prefixes args wins: "campaign create"
	// before "campaign".
	var best *command
	words := 0
	all := commands()
	for i := range all {
		name := strings.Fields(all[i].name)
		if len(name) <= len(args) && len(name) > words && strings.Join(args[:len(name)], " ") == all[i].name {
			best, words = &all[i], len(name)
		}
	}
	if best == nil {
		var group []string
		for _, c := range all {
			if strings.HasPrefix(c.name, args[0]+" ") {
				group = append(group, "  bulletin "+c.name+" "+c.args)
			}
		}
		if len(group) > 0 {
			return usagef("%q needs a subcommand:\n%s", args[0], strings.Join(group, "\n"))
		}
		return usagef("unknown command %q (see bulletin help)", strings.Join(args, " "))
	}
	fs := flag.NewFlagSet("bulletin "+best.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.configPath, "config", e.configPath, "configuration `file` (default config.yaml)")
	run := best.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: bulletin %s [flags] %s\n\n%s\n\nFlags:\n", best.name, best.args, best.summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(fs, args[words:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return run(ctx, e, fs.Args())
}

// interleave moves flags written after the arguments ("import FILE --list
// X") before them, as people type them both ways; "--" stops it.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, rest...)
}

func help(w io.Writer) {
	fmt.Fprint(w, `Bulletin: a self-hosted newsletter daemon.

Usage: bulletin [--config FILE] COMMAND [flags] [arguments]

Commands:
`)
	all := commands()
	sort.SliceStable(all, func(i, j int) bool { return strings.Fields(all[i].name)[0] < strings.Fields(all[j].name)[0] })
	for _, c := range all {
		fmt.Fprintf(w, "  %-22s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"bulletin COMMAND --help\" for a command's flags.\n")
}
