package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"bulletin/internal/store"
)

func versionCommands() []command {
	return []command{{
		name:    "version",
		summary: "print the version of this binary and the schema level of the database (applied, and known to this binary)",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("version takes no arguments")
				}
				info, _ := debug.ReadBuildInfo()
				printVersion(e.stdout, info)
				cfg, err := e.config()
				if err != nil {
					return err
				}
				// Read-only, not store.Open: looking at the version before an
				// upgrade must not run the upgrade's migrations.
				lvl, err := store.ReadSchemaLevel(ctx, cfg.Store.Location())
				if err != nil {
					return err
				}
				printSchema(e.stdout, lvl)
				return nil
			}
		},
	}}
}

// printVersion prints the module version the binary was built as (go
// install module@version), else the commit it was built from, with its
// time and whether the tree had uncommitted changes.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	if info == nil {
		fmt.Fprintln(w, "bulletin: no build information in this binary")
		return
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var revision, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	fmt.Fprintf(w, "bulletin %s\n", version)
	if revision != "" {
		line := "commit " + revision
		if at != "" {
			line += " of " + at
		}
		if modified == "true" {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "built with", info.GoVersion)
}

// printSchema prints the schema level, and what the next start will do.
func printSchema(w io.Writer, lvl store.SchemaLevel) {
	path := lvl.Database
	fmt.Fprintf(w, "schema: this binary knows migrations up to %d (%s)\n", lvl.Known, lvl.KnownName)
	switch {
	case lvl.Applied == 0:
		fmt.Fprintf(w, "database %s: not created yet; the first start creates it\n", path)
	case lvl.Applied < lvl.Known:
		fmt.Fprintf(w, "database %s: at migration %d (%s); the next start applies the migrations after it, up to %d (back it up first)\n",
			path, lvl.Applied, lvl.AppliedName, lvl.Known)
	case lvl.Applied > lvl.Known:
		fmt.Fprintf(w, "database %s: at migration %d (%s), newer than this binary: run the newer binary\n", path, lvl.Applied, lvl.AppliedName)
	default:
		fmt.Fprintf(w, "database %s: at migration %d (%s), up to date\n", path, lvl.Applied, lvl.AppliedName)
	}
}
