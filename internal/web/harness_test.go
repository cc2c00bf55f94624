package web

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/outgoing"
	"bulletin/internal/render"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
	"bulletin/internal/token"
)

// clock is a test clock that tests move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeMailer records the messages the web side sends.
type fakeMailer struct {
	mu   sync.Mutex
	sent []*outgoing.Message
	err  error
}

func (f *fakeMailer) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return outgoing.Receipt{}, f.err
	}
	f.sent = append(f.sent, m)
	return outgoing.Receipt{MessageID: "test@example.org", Reply: "250 ok"}, nil
}

func (f *fakeMailer) messages() []*outgoing.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*outgoing.Message(nil), f.sent...)
}

// harness is the real router over a real store, on loopback: a SQLite file,
// or a PostgreSQL database when BULLETIN_TEST_STORE=postgres (pgtest).
type harness struct {
	t        *testing.T
	st       *store.Storage
	location string // the store's file or URL, for the rare test that must set a column by hand
	srv      *Server
	ts       *httptest.Server
	cfg      *config.Config
	mailer   *fakeMailer
	clock    *clock
	links    *links.Links
	health   map[string]func(context.Context) error
	engine   *fakeEngine
}

// fakeEngine counts how often the web side wakes the engine.
type fakeEngine struct {
	mu    sync.Mutex
	wakes int
}

func (e *fakeEngine) Wake() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wakes++
}

func (e *fakeEngine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.wakes
}

type harnessOption func(*config.Config, *Options)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	ctx := context.Background()
	location := pgtest.Location(t)
	st, err := store.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.Server.PublicURL = "http://" + ts.Listener.Addr().String()
	cfg.Organisation.Name = "MICS 34"
	cfg.Organisation.Website = "https://mics34.example.org"
	// Uploads wait for their import beside the SQLite file, in its folder
	// on PostgreSQL too.
	cfg.Store.Path = filepath.Join(t.TempDir(), "data", "bulletin.db")
	if pgtest.Postgres() {
		cfg.Store.Driver, cfg.Store.DSN = "postgres", location
	} else {
		cfg.Store.Path = location
	}
	h := &harness{t: t, st: st, location: location, ts: ts, cfg: &cfg, mailer: &fakeMailer{},
		clock: &clock{t: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)}, health: map[string]func(context.Context) error{}}
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	tpl, err := render.Load("", render.Options{Organisation: cfg.Organisation.Name, PublicURL: cfg.Server.PublicURL})
	if err != nil {
		t.Fatal(err)
	}
	h.links = &links.Links{Signer: signer, PublicURL: cfg.Server.PublicURL, BounceAddress: "bounces@example.org", VERP: true}
	content := &campaign.Content{Templates: tpl, From: cfg.Sending.From, Organisation: cfg.Organisation.Name, Links: h.links}
	h.engine = &fakeEngine{}
	o := Options{Config: h.cfg, Store: st, Links: h.links, Log: slog.New(slog.NewTextHandler(testLog{t}, nil)), Mailer: h.mailer,
		Now: h.clock.Now, Health: h.health, Content: content, Engine: h.engine}
	for _, opt := range opts {
		opt(h.cfg, &o)
	}
	h.srv, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h.srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return h
}

// user creates an account and returns a browser logged into it.
func (h *harness) user(email string, role store.Role) *browser {
	h.t.Helper()
	if err := h.st.CreateUser(context.Background(), &store.User{Email: email, Role: role}, "correct horse battery"); err != nil {
		h.t.Fatal(err)
	}
	b := h.browser()
	b.login(email, "correct horse battery", http.StatusSeeOther)
	return b
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	h      *harness
	c      *http.Client
	csrf   string
	header http.Header // added to each request
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, header: http.Header{}, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formRE = regexp.MustCompile(`name="form" value="([^"]+)"`)
)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.h.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.ts.URL+path, nil)
	return b.do(req)
}

// post posts a form as a page of the site would: with the session's CSRF
// token (unless the form has one) and the site's Origin.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	return b.postRaw(path, "application/x-www-form-urlencoded", form.Encode(), b.h.ts.URL)
}

func (b *browser) postRaw(path, ctype, body, origin string) (*http.Response, string) {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

func (b *browser) login(email, password string, want int) (*http.Response, string) {
	b.h.t.Helper()
	_, page := b.get("/admin/login")
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		b.h.t.Fatalf("login page has no form token:\n%s", page)
	}
	resp, body := b.post("/admin/login", url.Values{"form": {m[1]}, "email": {email}, "password": {password}, "next": {"/admin/"}})
	if want != 0 && resp.StatusCode != want {
		b.h.t.Fatalf("login %s: status %d, want %d\n%s", email, resp.StatusCode, want, body)
	}
	if want == http.StatusSeeOther {
		b.get("/admin/") // picks up the CSRF token
	}
	return resp, body
}

// subscriber adds a subscriber on lists.
func (h *harness) subscriber(email string, st store.Status, lists ...string) *store.Subscriber {
	h.t.Helper()
	sub := &store.Subscriber{Email: email, Status: st, FirstName: "Chloé", Consent: store.Consent{Source: "test"}}
	if err := h.st.AddSubscriber(context.Background(), sub, lists, false); err != nil {
		h.t.Fatal(err)
	}
	return sub
}

func (h *harness) reload(sub *store.Subscriber) *store.Subscriber {
	h.t.Helper()
	got, err := h.st.SubscriberByID(context.Background(), sub.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

// list creates a list.
func (h *harness) list(name string, public bool) *store.List {
	h.t.Helper()
	l := &store.List{Name: name, Public: public}
	if err := h.st.CreateList(context.Background(), l); err != nil {
		h.t.Fatal(err)
	}
	return l
}

// unsubPath returns the path of a subscriber's unsubscribe link.
func (h *harness) unsubPath(sub *store.Subscriber, campaign uuid.UUID) string {
	return "/u/" + h.links.UnsubscribeToken(sub.UUID, campaign)
}

func (h *harness) events(sub *store.Subscriber) []store.SubscriberEvent {
	h.t.Helper()
	p, err := h.st.PersonalData(context.Background(), sub.Email)
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Events
}

func wantStatus(t *testing.T, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

func wantContains(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("body lacks %q:\n%s", p, body)
		}
	}
}

// testLog writes the server's log to the test's output.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// campaign creates a draft campaign of a small edition to a list of its own.
func (h *harness) campaign(name string) *store.Campaign {
	h.t.Helper()
	ctx := context.Background()
	ed := &store.Edition{Slug: "ed-" + uuid.NewString()[:8], Title: name,
		Source: "---\ntitle: " + name + "\nsubject: " + name + "\ndate: 2026-01-15\n---\n\nBonjour.\n"}
	if _, err := h.st.SaveEdition(ctx, ed); err != nil {
		h.t.Fatal(err)
	}
	l := h.list("Liste "+ed.Slug, false)
	c := &store.Campaign{Name: name, EditionID: ed.ID, Subject: name, From: "MICS 34 <lettre@example.org>", ListIDs: []int64{l.ID}}
	if err := h.st.CreateCampaign(ctx, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// setTracking turns a campaign's opens and clicks counting on or off behind
// the application's back: no screen changes it once a campaign has gone
// out, but the report must show both cases.
func (h *harness) setTracking(id int64, on bool) {
	h.t.Helper()
	track := 0
	if on {
		track = 1
	}
	h.exec("UPDATE campaigns SET track = $1 WHERE id = $2", track, id)
}

// db opens the test's database behind the application's back. Its queries
// number their parameters ($1, $2, each once and in order), which both
// SQLite and PostgreSQL read.
func (h *harness) db() *sql.DB {
	h.t.Helper()
	driver := "sqlite3"
	if pgtest.Postgres() {
		driver = "pgx"
	}
	db, err := sql.Open(driver, h.location)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	return db
}

// The tests run twice: on SQLite, then on PostgreSQL (see pgtest.Both).
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }
