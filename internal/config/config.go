// Package config loads Bulletin's configuration: config.yaml, then the
// BULLETIN_SECTION_KEY environment overrides, then validation. A Config is
// loaded once by the command line and passed down; nothing reads it globally.
package config

import "time"

// Config is the whole configuration. Every key is section.key; the yaml tags
// are the names used in config.yaml and, upper-cased, in the environment.
type Config struct {
	Server       Server       `yaml:"server"`
	Store        Store        `yaml:"store"`
	Organisation Organisation `yaml:"organisation"`
	Sending      Sending      `yaml:"sending"`
	SMTP         SMTP         `yaml:"smtp"`
	IMAP         IMAP         `yaml:"imap"`
	Bounces      Bounces      `yaml:"bounces"`
	Schedule     Schedule     `yaml:"schedule"`
	Reports      Reports      `yaml:"reports"`
	Subscribe    Subscribe    `yaml:"subscribe"`
	Log          Log          `yaml:"log"`

	// where records, for each key, where its value came from ("config.yaml:12",
	// "environment BULLETIN_SMTP_PORT" or "default"), so that errors found
	// after parsing still point at the line to fix.
	where map[string]string
}

// Server is the HTTP side of the daemon.
type Server struct {
	Listen          string        `yaml:"listen"`
	PublicURL       string        `yaml:"public_url"`
	Secret          string        `yaml:"secret"`
	BehindProxy     bool          `yaml:"behind_proxy"`
	SessionTTL      time.Duration `yaml:"session_ttl"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Store is where the data lives.
type Store struct {
	// Driver is "sqlite" (the default: the file Path) or "postgres" (the
	// database DSN names, which several daemons may share).
	Driver string `yaml:"driver"`
	// Path is the SQLite file; with PostgreSQL, its folder still holds this
	// daemon's local files (imports under way, edition media).
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string (postgres://...); its
	// password is best given in BULLETIN_STORE_DSN.
	DSN string `yaml:"dsn"`
}

// Location is what store.Open takes: the SQLite file, or the PostgreSQL
// connection string.
func (s Store) Location() string {
	if s.Driver == "postgres" {
		return s.DSN
	}
	return s.Path
}

// Organisation is what readers see of the sender: footer, pages, colours.
type Organisation struct {
	Name      string `yaml:"name"`
	Address   string `yaml:"address"`
	Website   string `yaml:"website"`
	LogoURL   string `yaml:"logo_url"`
	Colour    string `yaml:"colour"`
	Facebook  string `yaml:"facebook"`
	LinkedIn  string `yaml:"linkedin"`
	X         string `yaml:"x"`
	Instagram string `yaml:"instagram"`
	Mastodon  string `yaml:"mastodon"`
	Language  string `yaml:"language"`
}

// Sending is how campaigns go out, whatever the transport.
type Sending struct {
	From               string        `yaml:"from"`
	ReplyTo            string        `yaml:"reply_to"`
	BounceAddress      string        `yaml:"bounce_address"`
	VERP               bool          `yaml:"verp"`
	UnsubscribeAddress string        `yaml:"unsubscribe_address"`
	OutboxDir          string        `yaml:"outbox_dir"`
	TemplatesDir       string        `yaml:"templates_dir"`
	Rate               float64       `yaml:"rate"`
	HourlyQuota        int           `yaml:"hourly_quota"`
	DailyQuota         int           `yaml:"daily_quota"`
	RetryMaxAge        time.Duration `yaml:"retry_max_age"`
	RetryBackoff       time.Duration `yaml:"retry_backoff"`
	QuietHours         string        `yaml:"quiet_hours"`
	QuietWeekends      bool          `yaml:"quiet_weekends"`
}

// SMTP is the organisation's relay. An empty host means the outbox.
type SMTP struct {
	Host         string        `yaml:"host"`
	Port         int           `yaml:"port"`
	TLS          string        `yaml:"tls"`
	Username     string        `yaml:"username"`
	Password     string        `yaml:"password"`
	Auth         string        `yaml:"auth"`
	HELO         string        `yaml:"helo"`
	Timeout      time.Duration `yaml:"timeout"`
	Connections  int           `yaml:"connections"`
	PauseAfter   int           `yaml:"pause_after"`
	DKIMDomain   string        `yaml:"dkim_domain"`
	DKIMSelector string        `yaml:"dkim_selector"`
	DKIMKeyFile  string        `yaml:"dkim_key_file"`
}

// IMAP is the mailbox where bounces, complaints and replies arrive. An empty
// host turns the watcher off.
type IMAP struct {
	Host            string        `yaml:"host"`
	Port            int           `yaml:"port"`
	TLS             string        `yaml:"tls"`
	Username        string        `yaml:"username"`
	Password        string        `yaml:"password"`
	Mailbox         string        `yaml:"mailbox"`
	PollInterval    time.Duration `yaml:"poll_interval"`
	ProcessedFolder string        `yaml:"processed_folder"`
	RepliesFolder   string        `yaml:"replies_folder"`
	UnparsedFolder  string        `yaml:"unparsed_folder"`
}

// Bounces says when soft bounces add up to a bounced subscriber.
type Bounces struct {
	SoftLimit  int           `yaml:"soft_limit"`
	SoftWindow time.Duration `yaml:"soft_window"`
}

// Schedule is the calendar campaigns are scheduled in.
type Schedule struct {
	Timezone string        `yaml:"timezone"`
	Grace    time.Duration `yaml:"grace"`
}

// Reports configures the summaries mailed to admins.
type Reports struct {
	SummaryTo    string        `yaml:"summary_to"`
	BounceWindow time.Duration `yaml:"bounce_window"`
}

// Subscribe is the public subscribe form and its double opt-in.
type Subscribe struct {
	// ConfirmTTL is how long a confirmation link works.
	ConfirmTTL time.Duration `yaml:"confirm_ttl"`
	// PendingTTL is how long an address that subscribed on the form and
	// never confirmed is kept.
	PendingTTL time.Duration `yaml:"pending_ttl"`
	// HourlyConfirmations caps the form's mails per hour, all addresses
	// together; DomainHourlyConfirmations those to one domain. 0: no cap.
	HourlyConfirmations       int `yaml:"hourly_confirmations"`
	DomainHourlyConfirmations int `yaml:"domain_hourly_confirmations"`
}

// Log configures the daemon's log.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the configuration used when config.yaml says nothing: the
// embedded default, which sends to an outbox folder and needs no server.
func Default() Config {
	return Config{
		Server: Server{
			Listen:          "127.0.0.1:8080",
			PublicURL:       "http://127.0.0.1:8080",
			SessionTTL:      12 * time.Hour,
			ShutdownTimeout: 30 * time.Second,
		},
		Store: Store{Driver: "sqlite", Path: "data/bulletin.db"},
		Organisation: Organisation{
			Name:     "Bulletin",
			Colour:   "#1d4e89",
			Language: "fr",
		},
		Sending: Sending{
			From:               "Bulletin <newsletter@example.org>",
			BounceAddress:      "bounces@example.org",
			VERP:               true,
			UnsubscribeAddress: "unsubscribe@example.org",
			OutboxDir:          "data/outbox",
			TemplatesDir:       "templates",
			Rate:               10,
			RetryMaxAge:        24 * time.Hour,
			RetryBackoff:       time.Minute,
		},
		SMTP: SMTP{
			Port:        587,
			TLS:         "starttls",
			Auth:        "auto",
			Timeout:     30 * time.Second,
			Connections: 2,
			PauseAfter:  5,
		},
		IMAP: IMAP{
			Port:            993,
			TLS:             "tls",
			Mailbox:         "INBOX",
			PollInterval:    time.Minute,
			ProcessedFolder: "Bulletin/Traités",
			RepliesFolder:   "Bulletin/Réponses",
			UnparsedFolder:  "Bulletin/Illisibles",
		},
		Bounces:  Bounces{SoftLimit: 3, SoftWindow: 30 * 24 * time.Hour},
		Schedule: Schedule{Timezone: "Europe/Paris", Grace: 6 * time.Hour},
		Reports:  Reports{BounceWindow: 72 * time.Hour},
		Subscribe: Subscribe{
			ConfirmTTL:                7 * 24 * time.Hour,
			PendingTTL:                14 * 24 * time.Hour,
			HourlyConfirmations:       100,
			DomainHourlyConfirmations: 20,
		},
		Log: Log{Level: "info", Format: "text"},
	}
}
