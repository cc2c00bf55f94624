package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"bulletin/internal/config"
)

// Keyword is the IMAP keyword set on a message that was processed but could
// not be moved (no MOVE on the server): with the checkpoint, it keeps the
// message from being read again.
const Keyword = "$BulletinProcessed"

// Options configures a Watcher.
type Options struct {
	// Addr is the server's host:port.
	Addr string
	// TLS is "tls" (implicit TLS, usually port 993), "starttls" or "none".
	TLS string
	// TLSConfig is used for TLS and STARTTLS; nil means the system's roots
	// and the host of Addr as server name.
	TLSConfig *tls.Config
	// Username and Password log in, with AUTHENTICATE PLAIN when the server
	// offers it and LOGIN otherwise.
	Username string
	Password string
	// Mailbox is the mailbox watched; "INBOX" when empty.
	Mailbox string
	// PollInterval is how often a server without IDLE is asked for new
	// messages (default one minute).
	PollInterval time.Duration
	// IdleRefresh is how long one IDLE lasts before it is re-issued and the
	// mailbox searched again (default 25 minutes: servers may drop an IDLE
	// client after 30, RFC 2177 says re-issue within 29).
	IdleRefresh time.Duration
	// Folders are where messages go once recorded.
	Folders Folders
	// ReconnectMin and ReconnectMax bound the delay between connection
	// attempts, which doubles after each failure (default 1s and 5m).
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// CommandTimeout bounds the wait for the server's answer to one
	// command; past it the connection is dropped and made again (default
	// two minutes).
	CommandTimeout time.Duration
	// MaxMessageBytes is how much of one message is read (default 16 MiB):
	// a bounce says what it has to say long before that.
	MaxMessageBytes int64
	// HealthGrace is how long the watcher may be disconnected before
	// HealthCheck reports it (default ten minutes): a reconnection, a
	// server restart, is not worth an alert.
	HealthGrace time.Duration
	// Log receives what the watcher does; nil discards it.
	Log *slog.Logger
}

func (o *Options) defaults() error {
	if o.Addr == "" {
		return errors.New("mailbox: no server address")
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("mailbox: server address %q: %w", o.Addr, err)
	}
	switch o.TLS {
	case "":
		o.TLS = "tls"
	case "tls", "starttls", "none":
	default:
		return fmt.Errorf("mailbox: TLS mode %q: expected tls, starttls or none", o.TLS)
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.PollInterval, time.Minute},
		{&o.IdleRefresh, 25 * time.Minute},
		{&o.ReconnectMin, time.Second},
		{&o.ReconnectMax, 5 * time.Minute},
		{&o.CommandTimeout, 2 * time.Minute},
		{&o.HealthGrace, 10 * time.Minute},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 16 << 20
	}
	def := config.Default().IMAP
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&o.Folders.Processed, def.ProcessedFolder},
		{&o.Folders.Replies, def.RepliesFolder},
		{&o.Folders.Unparsed, def.UnparsedFolder},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	for _, name := range []string{o.Folders.Processed, o.Folders.Replies, o.Folders.Unparsed} {
		if strings.EqualFold(name, o.Mailbox) {
			return fmt.Errorf("mailbox: folder %q is the watched mailbox itself", name)
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// OptionsFromConfig returns the watcher's options from the imap keys of the
// configuration.
func OptionsFromConfig(cfg *config.Config, log *slog.Logger) Options {
	c := cfg.IMAP
	return Options{
		Addr:         net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		TLS:          c.TLS,
		Username:     c.Username,
		Password:     c.Password,
		Mailbox:      c.Mailbox,
		PollInterval: c.PollInterval,
		Folders:      Folders{Processed: c.ProcessedFolder, Replies: c.RepliesFolder, Unparsed: c.UnparsedFolder},
		Log:          log,
	}
}

// RulesFromConfig returns the processing rules from the configuration: the
// local parts of sending.bounce_address and sending.unsubscribe_address, and
// the bounces keys.
func RulesFromConfig(cfg *config.Config) Rules {
	local := func(addr string) string {
		if i := strings.LastIndexByte(addr, '@'); i > 0 {
			addr = addr[:i]
		}
		if i := strings.LastIndexByte(addr, '<'); i >= 0 {
			addr = addr[i+1:]
		}
		return strings.TrimSpace(addr)
	}
	r := Rules{SoftLimit: cfg.Bounces.SoftLimit, SoftWindow: cfg.Bounces.SoftWindow}
	r.Classify.BounceLocal = local(cfg.Sending.BounceAddress)
	r.Classify.UnsubscribeLocal = local(cfg.Sending.UnsubscribeAddress)
	return r
}

// Health is what the watcher says of itself, for /healthz and metrics.
type Health struct {
	Connected   bool
	Mode        string // "idle" or "poll" while connected
	Move        bool   // the server has MOVE; otherwise messages are copied and flagged
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32    // the checkpoint: last UID recorded
	ConnectedAt time.Time // start of the current connection
	LastSync    time.Time // last time the mailbox was searched for new messages
	LastEvent   time.Time // last time a message was recorded
	LastError   string
	LastErrorAt time.Time
	// DisconnectedSince is when the watcher started or lost its
	// connection; zero while connected.
	DisconnectedSince time.Time
	Processed         int64 // messages recorded since start
	Unparsed          int64 // of which kept aside as unreadable or unrecognised
	Reconnects        int64
}

// Watcher watches one mailbox. Create it with New, run it with Run.
type Watcher struct {
	opts Options
	proc *Processor
	log  *slog.Logger

	mu     sync.Mutex
	health Health
}

// New returns a watcher over the processor's store.
func New(opts Options, proc *Processor) (*Watcher, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if proc == nil {
		return nil, errors.New("mailbox: no processor")
	}
	return &Watcher{opts: opts, proc: proc, log: opts.Log, health: Health{Mailbox: opts.Mailbox, DisconnectedSince: proc.now()}}, nil
}

// Health returns the watcher's state. It is safe for concurrent use.
func (w *Watcher) Health() Health {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health
}

// HealthCheck returns nil while the watcher is connected or has been
// disconnected for less than HealthGrace, else why it is not connected: the
// shape /healthz wants.
func (w *Watcher) HealthCheck(context.Context) error {
	h := w.Health()
	if h.Connected || w.proc.now().Sub(h.DisconnectedSince) < w.opts.HealthGrace {
		return nil
	}
	why := h.LastError
	if why == "" {
		why = "no connection yet"
	}
	return fmt.Errorf("mailbox not connected since %s: %s", h.DisconnectedSince.UTC().Format(time.RFC3339), why)
}

func (w *Watcher) update(fn func(*Health)) {
	w.mu.Lock()
	fn(&w.health)
	w.mu.Unlock()
}

func (w *Watcher) fail(err error) {
	w.update(func(h *Health) {
		h.LastError = err.Error()
		h.LastErrorAt = w.proc.now()
	})
}

// Run watches the mailbox until ctx is cancelled, reconnecting after any
// failure with a delay that doubles up to ReconnectMax. Every message is
// checkpointed as it is recorded, so Run has nothing left to save when it
// returns; it returns nil once ctx is cancelled.
func (w *Watcher) Run(ctx context.Context) error {
	delay := w.opts.ReconnectMin
	for {
		start := time.Now()
		selected, err := w.session(ctx)
		w.update(func(h *Health) {
			if h.Connected {
				h.DisconnectedSince = w.proc.now()
			}
			h.Connected, h.Mode = false, ""
		})
		if ctx.Err() != nil {
			w.log.Info("mailbox watcher stopped", slog.String("mailbox", w.opts.Mailbox))
			return nil
		}
		w.fail(err)
		// A connection that worked for a while starts the delays over; one
		// that fails at once, or soon after, keeps them growing, so that a
		// server that drops every session is not hammered.
		if selected && time.Since(start) >= w.opts.ReconnectMax {
			delay = w.opts.ReconnectMin
		}
		msg := "mailbox connection failed; will retry"
		if selected {
			msg = "mailbox connection lost; will reconnect"
		}
		w.log.Warn(msg, slog.String("addr", w.opts.Addr), slog.String("error", err.Error()), slog.Duration("in", delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			w.log.Info("mailbox watcher stopped", slog.String("mailbox", w.opts.Mailbox))
			return nil
		case <-t.C:
		}
		w.update(func(h *Health) { h.Reconnects++ })
		delay = min(2*delay, w.opts.ReconnectMax)
	}
}
