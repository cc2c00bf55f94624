package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
	"bulletin/internal/web"
)

// liveDaemon is "bulletin serve" run in-process with its real wiring (web,
// engine, scheduler) on loopback, sending to an outbox folder.
type liveDaemon struct {
	base   string // http://127.0.0.1:PORT
	dir    string
	outbox string
	cfg    *config.Config
	st     *store.Storage
}

// startDaemon writes a config.yaml in a fresh folder and runs the daemon
// until the test ends.
func startDaemon(t testing.TB) *liveDaemon {
	t.Helper()
	dir := t.TempDir()
	// The links in mails carry public_url, so its port must be known
	// before the daemon listens: take a free one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := &liveDaemon{base: "http://" + addr, dir: dir, outbox: filepath.Join(dir, "outbox")}
	// On PostgreSQL (pgtest), the folder of store.path still holds the
	// local files.
	storeYAML := "  path: " + filepath.Join(dir, "bulletin.db") + "\n"
	if pgtest.Postgres() {
		storeYAML += "  driver: postgres\n  dsn: " + pgtest.DSN(t) + "\n"
	}
	yaml := fmt.Sprintf(`server:
  listen: %s
  public_url: %s
store:
%sorganisation:
  name: MICS 34
  website: https://mics34.example.org
  address: "Hôtel du Département, 34087 Montpellier"
sending:
  from: MICS 34 <lettre@mics34.example.org>
  outbox_dir: %s
`, addr, d.base, storeYAML, d.outbox)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.cfg = &cfg
	ctx, cancel := context.WithCancel(context.Background())
	if d.st, err = store.Open(ctx, cfg.Store.Location()); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- daemon.Run(ctx, d.cfg, d.st, log, func(string) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		d.st.Close()
	})
	return d
}

// emls returns the .eml files of the outbox, in the order they were written.
func (d *liveDaemon) emls(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(d.outbox, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

var unsubURL = regexp.MustCompile(`https?://[^\s"<>]+/u/[0-9a-f]+`)

// unsubscribeLink reads the recipient of an .eml file and the unsubscribe
// link of its text part. (Over plain http, as here, List-Unsubscribe
// carries only the mailto: RFC 8058 one-click needs https.)
func unsubscribeLink(t testing.TB, path string) (link, to string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("%s: no unsubscribe link in the text part (%v)", path, err)
		}
		body, _ := io.ReadAll(part) // NextPart decodes quoted-printable
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			if link = unsubURL.FindString(string(body)); link != "" {
				return link, addr.Address
			}
		}
	}
}

// markPage marks the current document, so that waitNewPage can tell when
// the browser has moved on to the next one.
func markPage(ctx context.Context, tg *chromedp.Target) error {
	_, err := chromedp.Evaluate[bool](`window.bulletinOld = true`)(ctx, tg)
	return err
}

// waitNewPage waits until the marked document has been replaced by a
// loaded one.
func waitNewPage(t *testing.T, ctx context.Context) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fresh, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`!window.bulletinOld && document.readyState === "complete"`))
		cancel()
		if err == nil && fresh {
			return
		}
	}
	t.Fatal("the next page did not load")
}

// TestBrowserEndToEnd follows staff and a reader through the real daemon
// in headless Chromium: log in, upload a CSV, create and schedule a
// campaign, watch it finish, open the unsubscribe link of a sent message,
// click, and find the subscriber unsubscribed in the console.
func TestBrowserEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := web.Chrome(t)
	d := startDaemon(t)
	bg := context.Background()
	if err := d.st.CreateUser(bg, &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := campaign.AddEdition(bg, d.st, "../../docs/examples/2020-edition-10-ans/edition.md"); err != nil {
		t.Fatal(err)
	}
	// Twenty people of the sample file, and two bad rows.
	sample, err := os.ReadFile("../../subscribers/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	csv := strings.Join(lines[:21], "") + "Jean;Sans;pas-une-adresse;X;;;abonné;01/01/2020\n" + lines[1]
	csvPath := filepath.Join(d.dir, "contacts.csv")
	os.WriteFile(csvPath, []byte(csv), 0o600)

	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		if !web.Shots() {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join("../../docs/screenshots", name+".png"), png, 0o644)
	}

	// Log in.
	web.BrowserStep(t, ctx, "viewport", chromedp.EmulateViewport(1280, 860))
	web.BrowserLogin(t, ctx, d.base+"/admin/", "communication@mics34.fr", "correct horse battery")

	// Upload the CSV into a new list: the preview, then the import of the
	// kept file.
	web.BrowserStep(t, ctx, "import",
		chromedp.Navigate(d.base+"/admin/import"),
		chromedp.WaitVisible(chromedp.CSS("#file")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csvPath}),
		chromedp.SendKeys(chromedp.CSS("#new_list"), "Partenaires"),
		chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mapping")),
		chromedp.Click(chromedp.CSS(`#run-form button[name=dry_run][value="0"]`)),
		chromedp.WaitVisible(chromedp.CSS("#report")),
	)
	report := text("#report")
	if !strings.Contains(report, "pas-une-adresse") || !strings.Contains(report, "figure déjà ligne 2") {
		t.Errorf("import report lacks the rejected lines:\n%s", report)
	}
	shot("admin-import-report")
	active, err := d.st.CountSubscribers(bg, store.SubscriberFilter{List: "Partenaires", Status: store.Active})
	if err != nil || active < 15 {
		t.Fatalf("%d active subscribers after the import (%v)", active, err)
	}

	// Create a campaign of the edition to the list.
	web.BrowserStep(t, ctx, "create campaign",
		chromedp.Navigate(d.base+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#campaign-form")),
		chromedp.Click(chromedp.CSS(`input[name=list][value="Partenaires"]`)),
		chromedp.Click(chromedp.CSS(`#campaign-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#schedule-form")),
	)
	shot("admin-campaign-draft")

	// Schedule it a few seconds ahead, in Europe/Paris time. The picker
	// counts in minutes; a test does not wait a minute, so it sets seconds
	// (the server reads both) and skips the picker's step check.
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Now().Add(15 * time.Second).In(paris).Format("2006-01-02T15:04:05")
	web.BrowserStep(t, ctx, "schedule",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(function(){ var f = document.getElementById("schedule-form"); f.noValidate = true; var i = document.getElementById("at"); i.step = "1"; i.value = "`+at+`"; return true })()`)(ctx, tg)
			return err
		}),
		chromedp.Func(markPage),
		chromedp.Click(chromedp.CSS(`#schedule-form button[type=submit]`)),
	)
	// The draft page had a flash of its own ("created"): wait for the page
	// the form leads to, then read its state.
	waitNewPage(t, ctx)
	if got := text("#state-badge"); got != "Programmée" {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("div.error") || {}).textContent || ""`))
		t.Fatalf("state after scheduling: %q (%s)", got, msg)
	}
	shot("admin-campaign-scheduled")

	// Watch it: the page polls its status and reloads when the state
	// changes; wait for "Envoyée". A read that meets a reload is simply
	// tried again.
	deadline := time.Now().Add(3 * time.Minute)
	for state := ""; state != "Envoyée"; {
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish: state %q", state)
		}
		time.Sleep(500 * time.Millisecond)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		state, _ = chromedp.Run(sctx, chromedp.Evaluate[string](`(document.getElementById("state-badge") || {}).textContent || ""`))
		cancel()
	}
	shot("admin-campaign-sent")
	if sent := text(`[data-fig="sent"]`); sent != fmt.Sprint(active) {
		t.Errorf("sent figure %q, want %d", sent, active)
	}
	files := d.emls(t)
	if len(files) != active {
		t.Fatalf("%d messages in the outbox, want %d", len(files), active)
	}

	// A reader opens the unsubscribe link of one message and clicks.
	link, to := unsubscribeLink(t, files[len(files)/2])
	web.BrowserStep(t, ctx, "unsubscribe page",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action^="/u/"] button`)),
	)
	shot("public-unsubscribe-e2e")
	if sub, _ := d.st.SubscriberByEmail(bg, to); sub.Status != store.Active {
		t.Fatalf("opening the page changed the status to %s", sub.Status)
	}
	web.BrowserStep(t, ctx, "unsubscribe",
		chromedp.Click(chromedp.CSS(`form[action^="/u/"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice.ok`)),
	)

	// Staff see it in the console.
	web.BrowserStep(t, ctx, "console",
		chromedp.Navigate(d.base+"/admin/subscribers?q="+to),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	if got := text("tbody .badge"); got != "Désabonné" {
		t.Errorf("the console shows %s as %q, want Désabonné", to, got)
	}
	shot("admin-subscriber-unsubscribed")
	ev, _ := d.st.PersonalData(bg, to)
	last := ev.Events[len(ev.Events)-1]
	if last.Source != "link" || last.Campaign == "" {
		t.Errorf("unsubscribe event %+v: want source link, attributed to the campaign", last)
	}
}
