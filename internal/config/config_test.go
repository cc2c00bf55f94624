package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The shipped config.yaml must show every key with its true default, so that
// reading it tells the truth about a bare install.
func TestShippedConfigIsTheDefault(t *testing.T) {
	cfg, err := Load("../../config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	cfg.where, want.where = nil, nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml differs from Default():\n got %+v\nwant %+v", cfg, want)
	}
	src, _ := os.ReadFile("../../config.yaml")
	c := Default()
	sections := reflect.ValueOf(&c).Elem()
	for _, s := range names(sections.Type()) {
		section, _ := field(sections, s)
		for _, k := range names(section.Type()) {
			if !strings.Contains(string(src), "\n  "+k+":") {
				t.Errorf("config.yaml does not show %s.%s", s, k)
			}
		}
	}
}

func TestMissingDefaultFileUsesDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Path != "data/bulletin.db" || cfg.SMTP.Host != "" {
		t.Errorf("Load() = %+v, want the defaults", cfg)
	}
	if _, err := Load("nope.yaml", nil); err == nil {
		t.Error("Load(named missing file) = nil error, want one")
	}
}

func TestValuesAndEnvironment(t *testing.T) {
	p := write(t, "smtp:\n  host: relay.example.org\n  port: 465\n  tls: tls\n  timeout: 10s\nsending:\n  rate: 2.5\n  verp: false\nimap:\n")
	cfg, err := Load(p, []string{"BULLETIN_SMTP_PORT=2525", "BULLETIN_SENDING_HOURLY_QUOTA=500", "OTHER=1", "BULLETIN_CONFIG=x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Host != "relay.example.org" || cfg.SMTP.Port != 2525 || cfg.SMTP.TLS != "tls" ||
		cfg.SMTP.Timeout != 10*time.Second || cfg.Sending.Rate != 2.5 || cfg.Sending.VERP || cfg.Sending.HourlyQuota != 500 {
		t.Errorf("Load = %+v", cfg)
	}
	if got := cfg.Where("smtp.host"); got != p+":2" {
		t.Errorf("Where(smtp.host) = %q, want %q", got, p+":2")
	}
	if got := cfg.Where("smtp.port"); got != "environment BULLETIN_SMTP_PORT" {
		t.Errorf("Where(smtp.port) = %q", got)
	}
}

func TestErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  []string
		want string // the error must contain this
	}{
		{"unknown key", "server:\n  listen: :8080\nsmtp:\n  hots: x\n", nil, ":4: smtp.hots: unknown key"},
		{"unknown section", "smpt:\n  host: x\n", nil, ":1: smpt: unknown section"},
		{"bad duration", "sending:\n  retry_max_age: 24 hours\n", nil, ":2: sending.retry_max_age: bad duration \"24 hours\""},
		{"bad int", "smtp:\n  port: many\n", nil, ":2: smtp.port: expected a whole number"},
		{"bad bool", "sending:\n  verp: perhaps\n", nil, ":2: sending.verp: expected true or false"},
		{"not scalar", "smtp:\n  host: [a, b]\n", nil, ":2: smtp.host: expected a single value"},
		{"syntax", "smtp:\n  host: x\n port: 1\n", nil, ":2: did not find expected key"},
		{"missing required", "sending:\n  from: \"\"\n", nil, ":2: sending.from: required"},
		{"required with", "imap:\n  host: imap.example.org\n  password: x\n", nil, "default: imap.username: required"},
		{"bad enum", "smtp:\n  tls: maybe\n", nil, ":2: smtp.tls: \"maybe\" is not one of"},
		{"bad address", "sending:\n  from: not an address\n", nil, ":2: sending.from: not an e-mail address"},
		{"bad url", "server:\n  public_url: example.org\n", nil, ":2: server.public_url: expected an http(s) URL"},
		{"bad zone", "schedule:\n  timezone: Europe/Pariss\n", nil, ":2: schedule.timezone: unknown time zone"},
		{"bad quiet hours", "sending:\n  quiet_hours: night\n", nil, ":2: sending.quiet_hours: expected HH:MM-HH:MM"},
		{"partial dkim", "smtp:\n  dkim_domain: example.org\n", nil, "smtp.dkim_key_file: DKIM needs"},
		{"env unknown key", "", []string{"BULLETIN_SMTP_HOTS=x"}, "environment BULLETIN_SMTP_HOTS: smtp.hots: unknown key"},
		{"env bad value", "", []string{"BULLETIN_SMTP_TIMEOUT=soon"}, "environment BULLETIN_SMTP_TIMEOUT: smtp.timeout: bad duration"},
		{"key twice", "smtp:\n  host: a.example.org\n  port: 25\n  host: b.example.org\n", nil, ":4: smtp.host: given twice (first at line 2)"},
		{"section twice", "smtp:\n  host: a.example.org\nimap:\nsmtp:\n  port: 25\n", nil, ":4: smtp: given twice (first at line 1)"},
		{"zero session ttl", "server:\n  session_ttl: 0s\n", nil, ":2: server.session_ttl: must be longer than 0s"},
		{"zero shutdown", "server:\n  shutdown_timeout: 0s\n", nil, ":2: server.shutdown_timeout: must be longer than 0s"},
		{"zero retry backoff", "sending:\n  retry_backoff: 0s\n", nil, ":2: sending.retry_backoff: must be longer than 0s"},
		{"zero smtp timeout", "smtp:\n  timeout: 0s\n", nil, ":2: smtp.timeout: must be longer than 0s"},
		{"zero soft window", "bounces:\n  soft_window: 0h\n", nil, ":2: bounces.soft_window: must be longer than 0s"},
		{"env zero session ttl", "", []string{"BULLETIN_SERVER_SESSION_TTL=0s"}, "environment BULLETIN_SERVER_SESSION_TTL: server.session_ttl: must be longer than 0s"},
		{"missing templates", "sending:\n  templates_dir: /nonexistent/bulletin-layouts\n", nil, `:2: sending.templates_dir: "/nonexistent/bulletin-layouts": no such folder`},
		{"NUL byte", "server:\n  listen: :8080\nsmtp:\n  host: relay\x00.example.org\n", nil, ":4: smtp.host: binary data (a NUL byte)"},
		{"binary file", "\x7fELF\x02\x01\x01\x00\x00", nil, ":1: binary data (a NUL byte)"},
		{"Latin-1", "organisation:\n  name: Mission \xe9galit\xe9\n", nil, ":2: organisation.name: not UTF-8 text (byte 0xE9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(write(t, tt.src), tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) error = %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

// The passwords are checked by the commands that connect, not by Load:
// offline commands run where only the daemon's environment holds them
// (issue 13).
func TestSecretsOnlyWhenConnecting(t *testing.T) {
	p := write(t, "smtp:\n  host: relay.example.org\n  username: u\nimap:\n  host: imap.example.org\n  username: bounces\n")
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatalf("Load without the passwords = %v, want the configuration", err)
	}
	if err := cfg.SMTPSecret(); err == nil || !strings.Contains(err.Error(), "default: smtp.password: required when smtp.username is set") {
		t.Errorf("SMTPSecret = %v", err)
	}
	if err := cfg.IMAPSecret(); err == nil || !strings.Contains(err.Error(), "default: imap.password: required when imap.host is set") {
		t.Errorf("IMAPSecret = %v", err)
	}
	if n := len(cfg.Problems()); n != 2 {
		t.Errorf("Problems = %v, want the two passwords", cfg.Problems())
	}
	cfg, err = Load(p, []string{"BULLETIN_SMTP_PASSWORD=s", "BULLETIN_IMAP_PASSWORD=i"})
	if err != nil || cfg.SMTPSecret() != nil || cfg.IMAPSecret() != nil {
		t.Errorf("with the passwords in the environment: %v, %v, %v", err, cfg.SMTPSecret(), cfg.IMAPSecret())
	}
}

// store.driver and store.dsn: PostgreSQL needs a postgres:// URL, whose
// password comes from the environment only, and no error shows the value.
func TestStoreDriverAndDSN(t *testing.T) {
	const secret = "s3cret-pw"
	for _, tt := range []struct {
		name string
		src  string
		env  []string
		want string // the error must contain this; "" for none
	}{
		{"unknown driver", "store:\n  driver: mysql\n", nil, `:2: store.driver: "mysql" is not one of sqlite, postgres`},
		{"postgres without dsn", "store:\n  driver: postgres\n", nil, "default: store.dsn: required when store.driver is postgres"},
		{"not a postgres URL", "store:\n  driver: postgres\n  dsn: mysql://u:" + secret + "@db/x\n", nil, ":3: store.dsn: expected a URL such as postgres://"},
		{"unreadable URL", "store:\n  driver: postgres\n  dsn: \"postgres://u:" + secret + "@db:port/x\"\n", nil, ":3: store.dsn: expected a URL"},
		{"password in the file", "store:\n  driver: postgres\n  dsn: postgres://u:" + secret + "@db/x\n", nil, ":3: store.dsn: holds a password: give this connection string in the environment variable BULLETIN_STORE_DSN"},
		{"dsn without postgres", "store:\n  dsn: postgres://u@db/x\n", nil, `:2: store.dsn: set, but store.driver is "sqlite"`},
		{"env dsn without postgres", "", []string{"BULLETIN_STORE_DSN=postgres://u@db/x"}, `environment BULLETIN_STORE_DSN: store.dsn: set, but store.driver is "sqlite"`},
		{"password in the environment", "store:\n  driver: postgres\n", []string{"BULLETIN_STORE_DSN=postgres://u:" + secret + "@db/x"}, ""},
		{"no password in the file", "store:\n  driver: postgres\n  dsn: postgresql://bulletin@db.example.org/bulletin?sslmode=require\n", nil, ""},
		{"socket", "store:\n  driver: postgres\n  dsn: postgres:///bulletin?host=/run/postgresql\n", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(write(t, tt.src), tt.env)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load = %v, want no error", err)
			case tt.want == "":
				if cfg.Store.Location() != cfg.Store.DSN || cfg.Store.DSN == "" {
					t.Errorf("Location() = %q, want the DSN", cfg.Store.Location())
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Errorf("Load error = %v, want it to contain %q", err, tt.want)
			case strings.Contains(err.Error(), secret):
				t.Errorf("Load error = %v: it shows the password", err)
			}
		})
	}
	cfg, err := Load(write(t, ""), nil)
	if err != nil || cfg.Store.Location() != cfg.Store.Path {
		t.Errorf("default Location() = %q, %v; want store.path", cfg.Store.Location(), err)
	}
}

func TestPathsMustBeWhatTheyName(t *testing.T) {
	dir := t.TempDir()
	p := write(t, "store:\n  path: "+dir+"\n")
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), p+":2: store.path: ") || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("Load(store.path a folder) = %v, want %s:2: store.path: … is a folder", err, p)
	}
	file := filepath.Join(dir, "layout.html")
	os.WriteFile(file, []byte("x"), 0o600)
	p = write(t, "sending:\n  templates_dir: "+file+"\n")
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), p+":2: sending.templates_dir: ") {
		t.Errorf("Load(templates_dir a file) = %v, want %s:2: sending.templates_dir", err, p)
	}
	// What is valid still loads: a folder of layouts, a database file in
	// a folder that exists.
	p = write(t, "store:\n  path: "+filepath.Join(dir, "bulletin.db")+"\nsending:\n  templates_dir: "+dir+"\n")
	if _, err := Load(p, nil); err != nil {
		t.Errorf("Load(valid paths) = %v", err)
	}
}
