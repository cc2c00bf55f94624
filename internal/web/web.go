// Package web is Bulletin's HTTP side: public pages, admin console, JSON API
// and the health endpoint, all in the one route table of routes.go.
//
// Public pages (unsubscribe, preferences, subscribe, confirmation, web view,
// archive, media) need no login: the signed token in their URL is the
// credential, and a GET never changes anything (invariant 5). The admin
// console under /admin/ needs a session cookie and a CSRF token on every
// form; the JSON API under /api/v1/ needs a bearer token.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/outgoing"
	"bulletin/internal/settings"
	"bulletin/internal/store"
)

// Mailer sends one message: the confirmation mail of the subscribe form.
// The SMTP and outbox transports satisfy it.
type Mailer interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
}

// Waker is the campaign engine as the web side sees it: something to wake
// when a campaign should start sending now.
type Waker interface{ Wake() }

// Pacer is the campaign engine's sending rate and relay quotas, which the
// mails of the public pages share with the campaigns (campaign.Engine
// satisfies it).
type Pacer interface {
	Admit(ctx context.Context) error
}

// unclosable lends the mailer to code that wants a campaign.Sender (test
// sends): the daemon owns the transport and closes it at shutdown, never
// a request.
type unclosable struct{ Mailer }

// Close does nothing: see unclosable.
func (unclosable) Close() error { return nil }

var _ campaign.Sender = unclosable{}

// Options are what the web side is built from.
type Options struct {
	Config *config.Config
	// Settings is the configuration in force, with the console's changes
	// over Config; nil: read from Store.
	Settings *settings.Provider
	Store    *store.Storage
	// Links read the tokens of public links, and make the links of the
	// mails the web side sends; their signer also signs its form tokens.
	Links *links.Links
	Log   *slog.Logger
	// Mailer sends the subscribe form's confirmation mails; nil closes
	// the form (it says so) rather than leave people waiting for a mail.
	Mailer Mailer
	// Health are the checks /healthz runs besides the store's, by name
	// ("relay", "mailbox"). A nil error is healthy.
	Health map[string]func(context.Context) error
	// Content renders editions (previews, test sends, web views) with the
	// configured layout; nil turns those pages off.
	Content *campaign.Content
	// Engine is woken when a campaign is sent now or resumed, so that it
	// starts at once rather than at its next look; nil leaves it to that.
	Engine Waker
	// EngineOptions are the engine's rate, quotas and quiet hours, for the
	// estimated end of a campaign.
	EngineOptions campaign.Options
	// Pacer holds the subscribe form's mails to the campaigns' rate and
	// quotas; nil: only the form's own caps apply.
	Pacer Pacer
	// Metrics serves /metrics (package metrics); nil answers 404.
	Metrics http.Handler
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

// Server holds what the handlers need. It is safe for concurrent use.
type Server struct {
	cfg *config.Config
	// settings has the organisation and sending keys in force, which
	// staff change in the console: read them with s.conf(), never cfg.
	settings *settings.Provider
	store    *store.Storage
	links    *links.Links // its signer also signs the forms' tokens
	log      *slog.Logger
	mailer   Mailer
	health   map[string]func(context.Context) error
	now      func() time.Time

	metricsHandler http.Handler // /metrics

	content   *campaign.Content
	engine    Waker
	engineOpt campaign.Options
	pacer     Pacer
	webViews  webViews

	views *views
	loc   *time.Location // schedule.timezone: how dates are shown and read
	https bool           // public_url is https: cookies are Secure and __Host-
	// frameOrigin is the organisation's web site origin, allowed to frame
	// the subscribe form (/subscribe/embed) and nothing else.
	frameOrigin string

	// Rate limits, counted in the store for all daemons (see limiter).
	subscribeIP  *limiter // subscribe form posts per client network (netKey)
	confirmMail  *limiter // confirmation mails per address
	loginIP      *limiter // failed logins per client network (loginNetwork), from unknown browsers
	loginAccount *limiter // failed logins per account, from unknown browsers
	loginDevice  *limiter // failed logins per known browser (device cookie)
	passwordTry  *limiter // wrong current passwords per account, on the password change
}

// New returns the web server over the given parts.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Store == nil || o.Links == nil || o.Links.Signer == nil {
		return nil, fmt.Errorf("web: config, store and links with their signer are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	loc, err := time.LoadLocation(o.Config.Schedule.Timezone)
	if err != nil {
		return nil, fmt.Errorf("web: schedule.timezone: %w", err)
	}
	v, err := loadViews()
	if err != nil {
		return nil, err
	}
	if o.Settings == nil {
		if o.Settings, err = settings.Load(context.Background(), o.Config, o.Store); err != nil {
			return nil, err
		}
	}
	s := &Server{
		cfg:      o.Config,
		settings: o.Settings,
		store:    o.Store,
		links:    o.Links,
		log:      o.Log,
		mailer:   o.Mailer,
		health:   o.Health,
		now:      o.Now,

		metricsHandler: o.Metrics,

		content:   o.Content,
		engine:    o.Engine,
		engineOpt: o.EngineOptions,
		pacer:     o.Pacer,

		views: v,
		loc:   loc,
		https: strings.HasPrefix(o.Config.Server.PublicURL, "https://"),
		// A person who made a typo tries again a few times; a bot posting
		// hundreds of addresses is held to one every few minutes.
		subscribeIP: newLimiter(o.Store, "subscribe_ip", 2*time.Minute, 5),
		// One confirmation mail per address per quarter hour, whoever asks:
		// the form must not become a way to flood someone's mailbox.
		confirmMail:  newLimiter(o.Store, "confirm_mail", 15*time.Minute, 1),
		loginIP:      newLimiter(o.Store, "login_ip", time.Minute, 10),
		loginAccount: newLimiter(o.Store, "login_account", 5*time.Minute, 5),
		loginDevice:  newLimiter(o.Store, "login_device", 5*time.Minute, 5),
		passwordTry:  newLimiter(o.Store, "password_try", 5*time.Minute, 5),
	}
	_, s.frameOrigin = policies(o.Config)
	return s, nil
}

// conf returns the configuration in force: the organisation and sending
// keys as staff last saved them in the console.
func (s *Server) conf() *config.Config { return s.settings.Current() }

// contentPolicy returns the Content-Security-Policy of ordinary pages,
// which allows images from the origin of the logo in force: staff may
// move the logo to another site in the console.
func (s *Server) contentPolicy() string {
	csp, _ := policies(s.conf())
	return csp
}

// Handler returns the root handler: the route table inside the headers every
// response carries.
func (s *Server) Handler() http.Handler {
	return s.secure(s.routes())
}

// origin returns the scheme://host of an absolute http(s) URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// policies returns the Content-Security-Policy of the pages and the origin
// allowed to frame the embeddable subscribe form.
func policies(cfg *config.Config) (csp, frame string) {
	img := "'self' data:"
	if o := origin(cfg.Organisation.LogoURL); o != "" {
		img += " " + o
	}
	csp = "default-src 'self'; script-src 'self'; style-src 'self' " + editorStyleHashes + "; img-src " + img +
		"; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
	return csp, origin(cfg.Organisation.Website)
}
