package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"bulletin/internal/address"
	"bulletin/internal/config"
	"bulletin/internal/store"
)

func userCommands() []command {
	return []command{
		{
			name:    "user add",
			args:    "EMAIL",
			summary: "create an account of the admin console (password from a file, a pipe or a prompt)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				role := fs.String("role", "editor", "`role`: admin (everything) or editor (no settings, accounts or erasure)")
				name := fs.String("name", "", "the person's `name`, shown in the console")
				pwFile := passwordFileFlag(fs)
				return func(ctx context.Context, e *env, args []string) error {
					email, err := oneAddress(args)
					if err != nil {
						return err
					}
					if !store.Role(*role).Valid() {
						return usagef("--role must be admin or editor, not %q", *role)
					}
					pw, err := readPassword(e, *pwFile, true)
					if err != nil {
						return err
					}
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						err := st.CreateUser(ctx, &store.User{Email: email, Name: *name, Role: store.Role(*role)}, pw)
						if errors.Is(err, store.ErrDuplicate) {
							return fmt.Errorf("an account for %s already exists (bulletin user passwd to change its password)", email)
						}
						if err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "created %s account %s\n", *role, email)
						return nil
					})
				}
			},
		},
		{
			name:    "user ls",
			summary: "list the accounts of the admin console",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(ctx context.Context, e *env, args []string) error {
					return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
						users, err := st.Users(ctx)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "email\trole\tname\tlast login")
						for _, u := range users {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(u.Email), u.Role, printable(u.Name), localOrNever(u.LastLoginAt))
						}
						return tw.Flush()
					})
				}
			},
		},
		{
			name:    "user passwd",
			args:    "EMAIL",
			summary: "set an account's password (and end its sessions)",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				pwFile := passwordFileFlag(fs)
				return func(ctx context.Context, e *env, args []string) error {
					return withUser(ctx, e, args, func(st *store.Storage, u *store.User) error {
						pw, err := readPassword(e, *pwFile, true)
						if err != nil {
							return err
						}
						if err := st.SetPassword(ctx, u.ID, pw); err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "password of %s changed; its sessions are closed\n", u.Email)
						return nil
					})
				}
			},
		},
		{
			name:    "user rm",
			args:    "EMAIL",
			summary: "delete an account of the admin console",
			flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
				force := fs.Bool("force", false, "delete even the last admin account")
				return func(ctx context.Context, e *env, args []string) error {
					return withUser(ctx, e, args, func(st *store.Storage, u *store.User) error {
						err := st.DeleteUser(ctx, u.ID, *force)
						if errors.Is(err, store.ErrLastAdmin) {
							return fmt.Errorf("%s is the last admin account: add another admin first, or use --force", u.Email)
						}
						if err != nil {
							return err
						}
						fmt.Fprintf(e.stdout, "deleted account %s\n", u.Email)
						return nil
					})
				}
			},
		},
	}
}

func passwordFileFlag(fs *flag.FlagSet) *string {
	return fs.String("password-file", "", "read the password from the first line of this `file` "+
		"(default: standard input when it is not a terminal, else a prompt; never on the command line)")
}

// withUser runs fn with the store open and the account args names.
func withUser(ctx context.Context, e *env, args []string, fn func(*store.Storage, *store.User) error) error {
	if len(args) != 1 {
		return usagef("expected one e-mail address")
	}
	email, err := address.Normalize(args[0])
	if err != nil {
		email = strings.TrimSpace(args[0])
	}
	return withStore(ctx, e, func(_ *config.Config, st *store.Storage) error {
		u, err := st.UserByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no account %s (see bulletin user ls)", email)
		}
		if err != nil {
			return err
		}
		return fn(st, u)
	})
}

// localOrNever writes when an account or a token was last used: local time
// to the minute, or "never" for the zero time.
func localOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// readPassword reads a new password from a file, from standard input when
// it is a pipe, or from the terminal without echo, asking twice. It is
// never taken from the command line, which shell history and ps keep.
func readPassword(e *env, file string, confirm bool) (string, error) {
	var pw string
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if pw, err = firstLine(f); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
	case !isTerminal(os.Stdin):
		var err error
		if pw, err = firstLine(os.Stdin); err != nil {
			return "", fmt.Errorf("standard input: %w", err)
		}
	default:
		fmt.Fprint(e.stderr, "Password: ")
		first, err := readHidden(os.Stdin)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if err := store.CheckPassword(first); err != nil {
			return "", err
		}
		if confirm {
			fmt.Fprint(e.stderr, "Again: ")
			again, err := readHidden(os.Stdin)
			fmt.Fprintln(e.stderr)
			if err != nil {
				return "", err
			}
			if again != first {
				return "", errors.New("the two passwords differ")
			}
		}
		pw = first
	}
	return pw, store.CheckPassword(pw)
}

// firstLine returns the first line of r without its line end.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given")
	}
	return line, nil
}
