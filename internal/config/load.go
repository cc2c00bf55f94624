package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration problem, named by where it is and which key.
type Error struct {
	Where string // "config.yaml:12", "environment BULLETIN_SMTP_PORT" or "default"
	Key   string // "smtp.port"; empty for a syntax error
	Msg   string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.Where, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Where, e.Key, e.Msg)
}

// Load reads the configuration. An empty path means config.yaml in the working
// directory, which may be missing (the defaults then apply); a path that was
// named must exist. env is the process environment (os.Environ()), passed in
// so that tests need not change the real one.
func Load(path string, env []string) (Config, error) {
	cfg := Default()
	cfg.where = map[string]string{}
	named := path != ""
	if !named {
		path = "config.yaml"
	}
	src, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := cfg.apply(path, src); err != nil {
			return Config{}, err
		}
	case !named && errors.Is(err, fs.ErrNotExist):
	default:
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.applyEnv(env); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Where says where key's value came from, for messages that point at it.
func (c *Config) Where(key string) string {
	if w, ok := c.where[key]; ok {
		return w
	}
	return "default"
}

// apply sets the keys present in a YAML document, rejecting unknown keys and
// values of the wrong type with their line.
func (c *Config) apply(file string, src []byte) error {
	if err := checkText(file, src); err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			return &Error{Where: file + ":" + m[1], Msg: m[2]}
		}
		return &Error{Where: file, Msg: msg}
	}
	if len(doc.Content) == 0 { // an empty or all-comments file
		return nil
	}
	root := doc.Content[0]
	at := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", file, n.Line) }
	if root.Kind != yaml.MappingNode {
		return &Error{Where: at(root), Msg: "expected sections such as \"server:\" and \"smtp:\""}
	}
	sections := reflect.ValueOf(c).Elem()
	// YAML decoded into nodes keeps both of two equal keys, and the last
	// would silently win: a key given twice is a mistake to point at.
	seen := map[string]*yaml.Node{}
	twice := func(key string, n *yaml.Node) error {
		if first, dup := seen[key]; dup {
			return &Error{Where: at(n), Key: key, Msg: fmt.Sprintf("given twice (first at line %d)", first.Line)}
		}
		seen[key] = n
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		name, body := root.Content[i], root.Content[i+1]
		section, ok := field(sections, name.Value)
		if !ok {
			return &Error{Where: at(name), Key: name.Value, Msg: "unknown section (known: " + strings.Join(names(sections.Type()), ", ") + ")"}
		}
		if err := twice(name.Value, name); err != nil {
			return err
		}
		if body.Kind == yaml.ScalarNode && body.Tag == "!!null" {
			continue // "imap:" with every key left out
		}
		if body.Kind != yaml.MappingNode {
			return &Error{Where: at(body), Key: name.Value, Msg: "expected keys under the section"}
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			k, v := body.Content[j], body.Content[j+1]
			key := name.Value + "." + k.Value
			f, ok := field(section, k.Value)
			if !ok {
				return &Error{Where: at(k), Key: key, Msg: "unknown key (known in " + name.Value + ": " + strings.Join(names(section.Type()), ", ") + ")"}
			}
			if err := twice(key, k); err != nil {
				return err
			}
			if v.Kind != yaml.ScalarNode {
				return &Error{Where: at(v), Key: key, Msg: "expected a single value"}
			}
			value := v.Value
			if v.Tag == "!!null" {
				value = ""
			}
			if err := set(f, value); err != nil {
				return &Error{Where: at(v), Key: key, Msg: err.Error()}
			}
			c.where[key] = at(v)
		}
	}
	return nil
}

// checkText refuses a file that is not UTF-8 text (a binary file, or one
// saved as Latin-1) before YAML reads it, naming the line of the first bad
// byte and the key written there, if any.
func checkText(file string, src []byte) error {
	bad := bytes.IndexByte(src, 0)
	msg := "binary data (a NUL byte): the configuration must be a text file"
	if bad < 0 && !utf8.Valid(src) {
		for bad = 0; bad < len(src); {
			r, n := utf8.DecodeRune(src[bad:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			bad += n
		}
		msg = fmt.Sprintf("not UTF-8 text (byte 0x%02X): save the file as UTF-8", src[bad])
	}
	if bad < 0 {
		return nil
	}
	lines := strings.Split(string(src[:bad]), "\n")
	return &Error{Where: fmt.Sprintf("%s:%d", file, len(lines)), Key: keyAt(lines), Msg: msg}
}

var keyLineRE = regexp.MustCompile(`^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:`)

// keyAt returns "section.key" (or "section") written on the last of lines,
// found by its indentation, or "" when that line holds no key.
func keyAt(lines []string) string {
	m := keyLineRE.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		return ""
	}
	if m[1] == "" {
		return m[2]
	}
	for i := len(lines) - 2; i >= 0; i-- {
		if s := keyLineRE.FindStringSubmatch(lines[i]); s != nil && s[1] == "" {
			return s[2] + "." + m[2]
		}
	}
	return m[2]
}

// applyEnv applies BULLETIN_SECTION_KEY variables. A variable naming a known
// section but no key of it is an error: it is almost always a typo that would
// otherwise be silently ignored.
func (c *Config) applyEnv(env []string) error {
	sections := reflect.ValueOf(c).Elem()
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, "BULLETIN_")
		if !ok {
			continue
		}
		for _, sname := range names(sections.Type()) {
			k, ok := strings.CutPrefix(rest, strings.ToUpper(sname)+"_")
			if !ok {
				continue
			}
			section, _ := field(sections, sname)
			key := sname + "." + strings.ToLower(k)
			where := envPrefix + name
			f, ok := field(section, strings.ToLower(k))
			if !ok {
				return &Error{Where: where, Key: key, Msg: "unknown key (known in " + sname + ": " + strings.Join(names(section.Type()), ", ") + ")"}
			}
			if err := set(f, value); err != nil {
				return &Error{Where: where, Key: key, Msg: err.Error()}
			}
			c.where[key] = where
		}
	}
	return nil
}

// field finds the struct field whose yaml tag is name.
func field(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func names(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

var durationType = reflect.TypeFor[time.Duration]()

// set parses s into f according to f's type.
func set(f reflect.Value, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("bad duration %q (write e.g. 90s, 30m, 24h)", s)
		}
		if d < 0 {
			return fmt.Errorf("duration %q is negative", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("expected a whole number ≥ 0, got %q", s)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || x < 0 {
			return fmt.Errorf("expected a number ≥ 0, got %q", s)
		}
		f.SetFloat(x)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", s)
		}
		f.SetBool(b)
	default:
		panic("config: unsupported field type " + f.Type().String())
	}
	return nil
}

var (
	yamlLineRE   = regexp.MustCompile(`^line (\d+): (.*)$`)
	colourRE     = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	quietHoursRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
)

// validate checks what single values cannot: required values, formats, and
// keys that only make sense together. The first problem is returned, named by
// the key and the line it came from.
func (c *Config) validate() error {
	for _, check := range c.checks() {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// Problems returns every problem validate would find, not only the first,
// each an *Error naming its key: the console's settings form shows each
// next to its field, with the very rules the loader applies.
func (c *Config) Problems() []*Error {
	var out []*Error
	for _, check := range append(c.checks(), c.SMTPSecret, c.IMAPSecret) {
		var e *Error
		if err := check(); errors.As(err, &e) {
			out = append(out, e)
		}
	}
	return out
}

// SMTPSecret checks the relay's password, which Load leaves out: only the
// commands that connect to the relay need it (serve, a send from the
// command line, a test send), and it is often set in the daemon's
// environment only, so that "report" or "edition check" run without it.
func (c *Config) SMTPSecret() error {
	if c.SMTP.Host != "" && c.SMTP.Username != "" && c.SMTP.Password == "" {
		return &Error{Where: c.Where("smtp.password"), Key: "smtp.password", Msg: "required when smtp.username is set"}
	}
	return nil
}

// IMAPSecret checks the mailbox's password, which Load leaves out for the
// same reason as SMTPSecret: only the mailbox watcher and "mailbox check"
// connect to it.
func (c *Config) IMAPSecret() error {
	if c.IMAP.Host != "" && c.IMAP.Password == "" {
		return &Error{Where: c.Where("imap.password"), Key: "imap.password", Msg: "required when imap.host is set"}
	}
	return nil
}

// checks are validate's rules, one function each.
func (c *Config) checks() []func() error {
	bad := func(key, format string, args ...any) error {
		return &Error{Where: c.Where(key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	required := func(key, value string) error {
		if value == "" {
			return bad(key, "required")
		}
		return nil
	}
	address := func(key, value string) error {
		if value == "" {
			return nil
		}
		if _, err := mail.ParseAddress(value); err != nil {
			return bad(key, "not an e-mail address: %q", value)
		}
		return nil
	}
	oneOf := func(key, value string, allowed ...string) error {
		for _, a := range allowed {
			if value == a {
				return nil
			}
		}
		return bad(key, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
	return []func() error{
		func() error { return required("server.listen", c.Server.Listen) },
		func() error {
			u, err := url.Parse(c.Server.PublicURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad("server.public_url", "expected an http(s) URL such as https://news.example.org, got %q", c.Server.PublicURL)
			}
			return nil
		},
		func() error {
			if c.Server.Secret != "" && len(c.Server.Secret) < 32 {
				return bad("server.secret", "too short: use at least 32 random characters, or leave it empty to let Bulletin generate one")
			}
			return nil
		},
		func() error { return oneOf("store.driver", c.Store.Driver, "sqlite", "postgres") },
		c.checkDSN,
		func() error {
			if err := required("store.path", c.Store.Path); err != nil {
				return err
			}
			if fi, err := os.Stat(c.Store.Path); err == nil && fi.IsDir() {
				return bad("store.path", "%q is a folder: name the database file in it, such as %s", c.Store.Path, filepath.Join(c.Store.Path, "bulletin.db"))
			}
			return nil
		},
		func() error {
			// Zero would mean no session lasts, no wait for in-flight
			// sends, no retry, no relay timeout or no bounce window: never
			// what is meant, and some parts would swap in their own default
			// behind the operator's back.
			for _, d := range []struct {
				key string
				v   time.Duration
			}{
				{"server.session_ttl", c.Server.SessionTTL},
				{"server.shutdown_timeout", c.Server.ShutdownTimeout},
				{"sending.retry_max_age", c.Sending.RetryMaxAge},
				{"sending.retry_backoff", c.Sending.RetryBackoff},
				{"smtp.timeout", c.SMTP.Timeout},
				{"bounces.soft_window", c.Bounces.SoftWindow},
				{"subscribe.confirm_ttl", c.Subscribe.ConfirmTTL},
				{"subscribe.pending_ttl", c.Subscribe.PendingTTL},
			} {
				if d.v <= 0 {
					return bad(d.key, "must be longer than 0s (write e.g. 90s, 30m, 24h)")
				}
			}
			return nil
		},
		func() error { return required("organisation.name", c.Organisation.Name) },
		func() error {
			if !colourRE.MatchString(c.Organisation.Colour) {
				return bad("organisation.colour", "expected a colour like #1d4e89, got %q", c.Organisation.Colour)
			}
			return nil
		},
		func() error { return oneOf("organisation.language", c.Organisation.Language, "fr", "en") },
		func() error {
			if err := required("sending.from", c.Sending.From); err != nil {
				return err
			}
			return address("sending.from", c.Sending.From)
		},
		func() error { return address("sending.reply_to", c.Sending.ReplyTo) },
		func() error {
			if err := required("sending.bounce_address", c.Sending.BounceAddress); err != nil {
				return err
			}
			return address("sending.bounce_address", c.Sending.BounceAddress)
		},
		func() error { return address("sending.unsubscribe_address", c.Sending.UnsubscribeAddress) },
		func() error { return required("sending.outbox_dir", c.Sending.OutboxDir) },
		func() error {
			if err := required("sending.templates_dir", c.Sending.TemplatesDir); err != nil {
				return err
			}
			// At its default (which the shipped config.yaml repeats), a
			// missing folder means the built-in layout; any other folder
			// must be there, or the operator's layout would be silently
			// replaced by the built-in one.
			if c.Sending.TemplatesDir == Default().Sending.TemplatesDir {
				return nil
			}
			fi, err := os.Stat(c.Sending.TemplatesDir)
			if err != nil {
				return bad("sending.templates_dir", "%q: no such folder", c.Sending.TemplatesDir)
			}
			if !fi.IsDir() {
				return bad("sending.templates_dir", "%q is not a folder", c.Sending.TemplatesDir)
			}
			return nil
		},
		func() error {
			if c.Sending.QuietHours != "" && !quietHoursRE.MatchString(c.Sending.QuietHours) {
				return bad("sending.quiet_hours", "expected HH:MM-HH:MM such as 20:00-08:00, got %q", c.Sending.QuietHours)
			}
			return nil
		},
		func() error { return oneOf("smtp.tls", c.SMTP.TLS, "tls", "starttls", "opportunistic", "none") },
		func() error { return oneOf("smtp.auth", c.SMTP.Auth, "auto", "plain", "login", "cram-md5") },
		func() error {
			if c.SMTP.Host != "" && (c.SMTP.Port == 0 || c.SMTP.Port > 65535) {
				return bad("smtp.port", "expected a port between 1 and 65535")
			}
			return nil
		},
		func() error {
			if c.SMTP.Connections == 0 {
				return bad("smtp.connections", "must be at least 1")
			}
			return nil
		},
		func() error {
			set := 0
			for _, v := range []string{c.SMTP.DKIMDomain, c.SMTP.DKIMSelector, c.SMTP.DKIMKeyFile} {
				if v != "" {
					set++
				}
			}
			if set != 0 && set != 3 {
				return bad("smtp.dkim_key_file", "DKIM needs smtp.dkim_domain, smtp.dkim_selector and smtp.dkim_key_file together")
			}
			return nil
		},
		func() error { return oneOf("imap.tls", c.IMAP.TLS, "tls", "starttls", "none") },
		func() error {
			if c.IMAP.Host == "" {
				return nil
			}
			if c.IMAP.Port == 0 || c.IMAP.Port > 65535 {
				return bad("imap.port", "expected a port between 1 and 65535")
			}
			if err := required("imap.username", c.IMAP.Username); err != nil {
				return err
			}
			return required("imap.mailbox", c.IMAP.Mailbox)
		},
		func() error {
			if c.IMAP.PollInterval < time.Second {
				return bad("imap.poll_interval", "must be at least 1s")
			}
			return nil
		},
		func() error {
			if c.Bounces.SoftLimit == 0 {
				return bad("bounces.soft_limit", "must be at least 1")
			}
			return nil
		},
		func() error {
			if _, err := time.LoadLocation(c.Schedule.Timezone); err != nil || c.Schedule.Timezone == "" {
				return bad("schedule.timezone", "unknown time zone %q (write e.g. Europe/Paris)", c.Schedule.Timezone)
			}
			return nil
		},
		func() error {
			for _, a := range c.SummaryTo() {
				if _, err := mail.ParseAddress(a); err != nil {
					return bad("reports.summary_to", "not an e-mail address: %q", a)
				}
			}
			return nil
		},
		func() error { return oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error") },
		func() error { return oneOf("log.format", c.Log.Format, "text", "json") },
	}
}

// checkDSN checks store.dsn against store.driver. The value itself is
// never written in the error: it may hold a password.
func (c *Config) checkDSN() error {
	bad := func(format string, args ...any) error {
		return &Error{Where: c.Where("store.dsn"), Key: "store.dsn", Msg: fmt.Sprintf(format, args...)}
	}
	dsn := c.Store.DSN
	if c.Store.Driver != "postgres" {
		// Daemons that were meant to share one PostgreSQL database would
		// each run on a SQLite file of their own, without a word.
		if dsn != "" {
			return bad("set, but store.driver is %q: set store.driver to postgres, or remove store.dsn", c.Store.Driver)
		}
		return nil
	}
	if dsn == "" {
		return bad("required when store.driver is postgres: a URL such as postgres://bulletin@db.example.org/bulletin, best given in BULLETIN_STORE_DSN")
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return bad("expected a URL such as postgres://bulletin@db.example.org/bulletin (the value is not shown: it may hold a password)")
	}
	// config.yaml is read by many and often kept in version control; the
	// environment is where passwords go, as for smtp.password.
	if _, ok := u.User.Password(); ok && c.EnvVar("store.dsn") == "" {
		return bad("holds a password: give this connection string in the environment variable BULLETIN_STORE_DSN instead " +
			"(or the password alone in PGPASSWORD or ~/.pgpass), so that the configuration file holds no secret")
	}
	return nil
}

// SummaryTo returns the admins' addresses for campaign summaries.
func (c *Config) SummaryTo() []string {
	var out []string
	for _, a := range strings.Split(c.Reports.SummaryTo, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Location returns the schedule's time zone; validate has checked it loads.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Schedule.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
