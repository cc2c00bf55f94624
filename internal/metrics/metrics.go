// Package metrics exposes the daemon's state to Prometheus at /metrics.
//
// Most figures are read from the database at each scrape (a custom
// Collector): the messages sent and failed, the queue, the mailbox events by
// kind are counted from the ledger and the events, so they survive restarts
// and agree with the reports. What only the running process knows (the
// relay's errors, the mailbox connection) comes from the Relay wrapper
// around the transport and from the watcher's health.
//
// Each daemon owns its registry: nothing is registered in the global
// default one, so that tests and several daemons in one process do not
// clash.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"bulletin/internal/mailbox"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
)

// Source is what the metrics read from the database at each scrape.
type Source interface {
	Metrics(ctx context.Context) (*store.MetricsSnapshot, error)
	// UnverifiedMailboxEvents counts by kind the bounces, complaints and
	// unsubscribe requests read without a verified token.
	UnverifiedMailboxEvents(ctx context.Context) (map[string]int, error)
}

var _ Source = (*store.Storage)(nil)

// Options configure the metrics.
type Options struct {
	Store Source
	// Mailbox returns the mailbox watcher's health; nil when the watcher
	// is off.
	Mailbox func() mailbox.Health
	// Transport describes the configured sender ("SMTP relay
	// smtp.example.org:587", "outbox data/outbox").
	Transport string
	// Timeout bounds the database reads of one scrape. Default 5s.
	Timeout time.Duration
	Log     *slog.Logger
}

// Metrics is the daemon's registry and what feeds it.
type Metrics struct {
	reg   *prometheus.Registry
	relay *Relay
	log   *slog.Logger
}

// New returns the metrics of one daemon.
func New(o Options) *Metrics {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), relay: newRelay(o.Transport), log: o.Log}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{src: o.Store, timeout: o.Timeout, log: o.Log},
		m.relay,
	)
	if o.Mailbox != nil {
		m.reg.MustRegister(&mailboxCollector{health: o.Mailbox})
	} else {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bulletin_mailbox_watcher_enabled",
			Help: "Whether the mailbox watcher runs (imap.host is set)."}, func() float64 { return 0 }))
	}
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the /metrics handler.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogErrors{m.log}, Registry: m.reg})
}

// Relay returns the counters of the transport: wrap the sender with it.
func (m *Metrics) Relay() *Relay { return m.relay }

type slogErrors struct{ log *slog.Logger }

func (s slogErrors) Println(v ...any) { s.log.Error("metrics", slog.Any("err", v)) }

var (
	deliveriesDesc = prometheus.NewDesc("bulletin_deliveries", "Ledger rows of all campaigns, by state.", []string{"state"}, nil)
	sentDesc       = prometheus.NewDesc("bulletin_messages_sent_total", "Messages accepted by the relay (ledger rows sent), all campaigns.", nil, nil)
	failedDesc     = prometheus.NewDesc("bulletin_messages_failed_total", "Messages refused for good (ledger rows failed), all campaigns.", nil, nil)
	skippedDesc    = prometheus.NewDesc("bulletin_messages_skipped_total", "Ledger rows skipped (suppressed, left the list, cancelled), all campaigns.", nil, nil)
	queueDesc      = prometheus.NewDesc("bulletin_queue_depth", "Deliveries waiting to be sent in the campaigns being sent (queued, retries included).", nil, nil)
	retryDesc      = prometheus.NewDesc("bulletin_queue_retrying", "Queued deliveries of the campaigns being sent that wait for another attempt after a temporary failure.", nil, nil)
	inFlightDesc   = prometheus.NewDesc("bulletin_queue_in_flight", "Deliveries in an SMTP transaction (ledger rows sending).", nil, nil)
	mailboxDesc    = prometheus.NewDesc("bulletin_mailbox_events_total", "Messages read from the mailbox, by kind (hard, soft, delayed, complaint, autoreply, unsubscribe, reply, unknown).", []string{"kind"}, nil)
	unverifiedDesc = prometheus.NewDesc("bulletin_mailbox_unverified_total", "Bounces and complaints read without a verified token or a Message-ID of ours (held for an admin, never acted on by themselves), and mailto unsubscribe requests honoured on their From address only, by kind (hard, soft, complaint, unsubscribe).", []string{"kind"}, nil)
	campaignsDesc  = prometheus.NewDesc("bulletin_campaigns", "Campaigns by state.", []string{"state"}, nil)
	subsDesc       = prometheus.NewDesc("bulletin_subscribers", "Subscribers by status.", []string{"status"}, nil)
	trackingDesc   = prometheus.NewDesc("bulletin_tracking_hits_total", "Opens and clicks counted, for the campaigns that track them.", []string{"kind"}, nil)
	storeUpDesc    = prometheus.NewDesc("bulletin_store_up", "Whether the database answered this scrape.", nil, nil)
)

// storeCollector reads the figures from the database at each scrape.
type storeCollector struct {
	src     Source
	timeout time.Duration
	log     *slog.Logger
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{deliveriesDesc, sentDesc, failedDesc, skippedDesc, queueDesc, retryDesc, inFlightDesc,
		mailboxDesc, unverifiedDesc, campaignsDesc, subsDesc, trackingDesc, storeUpDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	// A scrape has no context of its own; the timeout keeps a stuck
	// database from piling up scrapes.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.src.Metrics(ctx)
	var unverified map[string]int
	if err == nil {
		unverified, err = c.src.UnverifiedMailboxEvents(ctx)
	}
	if err != nil {
		c.log.Warn("metrics: reading the store", slog.Any("err", err))
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
	for _, st := range []store.DeliveryState{store.Queued, store.InFlight, store.Delivered, store.Undelivered, store.Skipped} {
		ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(s.Deliveries[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.Deliveries[store.Delivered]))
	ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(s.Deliveries[store.Undelivered]))
	ch <- prometheus.MustNewConstMetric(skippedDesc, prometheus.CounterValue, float64(s.Deliveries[store.Skipped]))
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(s.Due))
	ch <- prometheus.MustNewConstMetric(retryDesc, prometheus.GaugeValue, float64(s.Retrying))
	ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(s.Deliveries[store.InFlight]))
	// Every kind, zero included, so that a rate() over a kind never sees
	// the series appear from nowhere.
	for _, k := range []string{"hard", "soft", "delayed", "complaint", "autoreply", "unsubscribe", "reply", "unknown"} {
		ch <- prometheus.MustNewConstMetric(mailboxDesc, prometheus.CounterValue, float64(s.MailboxEvents[k]), k)
	}
	for _, k := range []string{"hard", "soft", "complaint", "unsubscribe"} {
		ch <- prometheus.MustNewConstMetric(unverifiedDesc, prometheus.CounterValue, float64(unverified[k]), k)
	}
	for _, st := range []store.CampaignState{store.Draft, store.Scheduled, store.Sending, store.Paused, store.Sent, store.Cancelled, store.Failed} {
		ch <- prometheus.MustNewConstMetric(campaignsDesc, prometheus.GaugeValue, float64(s.Campaigns[st]), string(st))
	}
	for _, st := range []store.Status{store.Active, store.Pending, store.Unsubscribed, store.Bounced, store.Complained} {
		ch <- prometheus.MustNewConstMetric(subsDesc, prometheus.GaugeValue, float64(s.Subscribers[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(trackingDesc, prometheus.CounterValue, float64(s.Opens), "open")
	ch <- prometheus.MustNewConstMetric(trackingDesc, prometheus.CounterValue, float64(s.Clicks), "click")
}

var (
	mbEnabledDesc   = prometheus.NewDesc("bulletin_mailbox_watcher_enabled", "Whether the mailbox watcher runs (imap.host is set).", nil, nil)
	mbConnectedDesc = prometheus.NewDesc("bulletin_mailbox_connected", "Whether the mailbox watcher is connected to the IMAP server.", nil, nil)
	mbSyncDesc      = prometheus.NewDesc("bulletin_mailbox_last_sync_timestamp_seconds", "When the mailbox was last searched for new messages.", nil, nil)
	mbEventDesc     = prometheus.NewDesc("bulletin_mailbox_last_event_timestamp_seconds", "When a message was last recorded.", nil, nil)
	mbReconnDesc    = prometheus.NewDesc("bulletin_mailbox_reconnects_total", "Connections to the IMAP server lost and made again since the daemon started.", nil, nil)
	mbProcDesc      = prometheus.NewDesc("bulletin_mailbox_processed_total", "Messages recorded by the watcher since the daemon started.", nil, nil)
	mbUnparsedDesc  = prometheus.NewDesc("bulletin_mailbox_unparsed_total", "Messages kept aside as unreadable since the daemon started.", nil, nil)
)

// mailboxCollector reports the watcher's health.
type mailboxCollector struct {
	health func() mailbox.Health
}

func (c *mailboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mbEnabledDesc, mbConnectedDesc, mbSyncDesc, mbEventDesc, mbReconnDesc, mbProcDesc, mbUnparsedDesc} {
		ch <- d
	}
}

func (c *mailboxCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.health()
	ch <- prometheus.MustNewConstMetric(mbEnabledDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(mbConnectedDesc, prometheus.GaugeValue, boolean(h.Connected))
	ch <- prometheus.MustNewConstMetric(mbSyncDesc, prometheus.GaugeValue, unix(h.LastSync))
	ch <- prometheus.MustNewConstMetric(mbEventDesc, prometheus.GaugeValue, unix(h.LastEvent))
	ch <- prometheus.MustNewConstMetric(mbReconnDesc, prometheus.CounterValue, float64(h.Reconnects))
	ch <- prometheus.MustNewConstMetric(mbProcDesc, prometheus.CounterValue, float64(h.Processed))
	ch <- prometheus.MustNewConstMetric(mbUnparsedDesc, prometheus.CounterValue, float64(h.Unparsed))
}

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// Sender is a transport: what the campaign engine, the reminders and the
// summaries send through. Both transports satisfy it.
type Sender interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
	Close() error
}

// Relay counts what the transport answers: the sends, and the errors by
// scope (recipient or relay) and kind (temporary or permanent). It is the
// relay's health for /healthz: unhealthy while the last attempt failed on
// the relay's side.
type Relay struct {
	transport string
	attempts  prometheus.Counter
	errors    *prometheus.CounterVec
	up        prometheus.Gauge
	lastOK    prometheus.Gauge
	lastErr   prometheus.Gauge
	info      prometheus.Gauge

	mu        sync.Mutex
	failing   bool // the last attempt failed on the relay's side
	lastError string
	lastAt    time.Time
}

func newRelay(transport string) *Relay {
	r := &Relay{
		transport: transport,
		attempts:  prometheus.NewCounter(prometheus.CounterOpts{Name: "bulletin_relay_attempts_total", Help: "Messages handed to the transport since the daemon started."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulletin_relay_errors_total",
			Help: "Sends the transport refused since the daemon started, by scope (recipient: this address; relay: every send) and kind (temporary, permanent)."},
			[]string{"scope", "kind"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulletin_relay_up",
			Help: "0 while the last attempt failed on the relay's side (connection, authentication, refusal of everything), else 1."}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulletin_relay_last_success_timestamp_seconds",
			Help: "When the transport last accepted a message."}),
		lastErr: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulletin_relay_last_error_timestamp_seconds",
			Help: "When the transport last refused a message."}),
		info: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bulletin_relay_info", Help: "The configured transport.",
			ConstLabels: prometheus.Labels{"transport": transport}}),
	}
	r.up.Set(1)
	r.info.Set(1)
	// Every label pair exists from the start, at 0.
	for _, scope := range []string{outgoing.ScopeRecipient.String(), outgoing.ScopeRelay.String()} {
		for _, kind := range []string{"temporary", "permanent"} {
			r.errors.WithLabelValues(scope, kind)
		}
	}
	return r
}

// Describe implements prometheus.Collector.
func (r *Relay) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{r.attempts, r.errors, r.up, r.lastOK, r.lastErr, r.info} {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (r *Relay) Collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{r.attempts, r.errors, r.up, r.lastOK, r.lastErr, r.info} {
		c.Collect(ch)
	}
}

// Wrap returns s counted by r. Its errors are s's, unchanged: the engine
// still tells them apart.
func (r *Relay) Wrap(s Sender) Sender { return &counted{s: s, r: r} }

type counted struct {
	s Sender
	r *Relay
}

func (c *counted) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	rcpt, err := c.s.Send(ctx, m)
	c.r.record(err)
	return rcpt, err
}

func (c *counted) Close() error { return c.s.Close() }

func (r *Relay) record(err error) {
	now := time.Now()
	r.attempts.Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastAt = now
	if err == nil {
		r.failing, r.lastError = false, ""
		r.up.Set(1)
		r.lastOK.Set(unix(now))
		return
	}
	kind := "permanent"
	if outgoing.IsTemporary(err) {
		kind = "temporary"
	}
	scope := outgoing.ScopeRecipient.String()
	if outgoing.IsRelayFault(err) || !isSendError(err) {
		scope = outgoing.ScopeRelay.String()
	}
	r.errors.WithLabelValues(scope, kind).Inc()
	r.lastErr.Set(unix(now))
	if scope == outgoing.ScopeRelay.String() {
		// Only the relay's own failures make it unhealthy: a refused
		// recipient means the relay answered.
		r.failing, r.lastError = true, err.Error()
		r.up.Set(0)
	} else {
		r.failing, r.lastError = false, ""
		r.up.Set(1)
	}
}

// HealthCheck returns nil unless the last attempt failed on the relay's
// side, and then what it said: the check /healthz runs as "relay".
func (r *Relay) HealthCheck(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.failing {
		return nil
	}
	return &RelayError{Transport: r.transport, At: r.lastAt, Err: r.lastError}
}

// RelayError is the relay's health when its last attempt failed.
type RelayError struct {
	Transport string
	At        time.Time
	Err       string
}

// Error says which transport failed, when, and how.
func (e *RelayError) Error() string {
	return e.Transport + ": the last send failed at " + e.At.UTC().Format(time.RFC3339) + ": " + e.Err
}

func isSendError(err error) bool {
	var se *outgoing.SendError
	return errors.As(err, &se)
}
