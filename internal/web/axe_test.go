package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeScript is axe-core, vendored for the tests only (see its README).
const axeScript = "testdata/axe-core@4.14.1/axe.min.js"

// axeSkip lists the GET routes of routes.go that are not pages a person
// reads, with the reason. Every other GET route must be in axeVisits.
var axeSkip = map[string]string{
	"GET /healthz":                "JSON",
	"GET /metrics":                "Prometheus text",
	"GET /static/":                "assets",
	"GET /theme.css":              "CSS",
	"GET /{$}":                    "redirects to the subscription form",
	"GET /media/{slug}/{file...}": "images of the editions",
	"GET /admin/editions/{slug}/files/{file...}": "images of an edition",
	"GET /t/o/{file}":                                       "the tracking pixel",
	"GET /t/c/{token}":                                      "a redirect to the link clicked",
	"GET /admin/campaigns/{campaign}/status":                "JSON for the campaign page's script",
	"GET /admin/subscribers/export":                         "CSV",
	"GET /admin/reports/campaigns/{campaign}/addresses.csv": "CSV",
	"GET /admin/reports/campaigns/{campaign}/report.json":   "JSON",
	"GET /admin/reports/lists/{which}":                      "CSV",
	"/api/v1/":                                              "JSON API",
}

// axeVisit is one page to check: the route pattern it comes from, and the
// path to open, with the data seedConsole made.
type axeVisit struct {
	route, path string
}

// axeVisits lists the pages to check, public ones first (opened logged
// out), then the console's (logged in as an admin). A new GET route in
// routes.go makes TestAxe fail until it is added here or to axeSkip.
func axeVisits(d consoleData) []axeVisit {
	return []axeVisit{
		{"GET /u/{token}", d.unsub},
		{"GET /u/{token}", d.unsubscribed + "?done=unsubscribed"},
		{"GET /u/{token}/preferences", d.unsub + "/preferences"},
		{"GET /subscribe", "/subscribe"},
		{"GET /subscribe/embed", "/subscribe/embed"},
		{"GET /confirm/{token}", "/confirm/" + d.confirm},
		{"GET /v/{campaign}", "/v/" + d.sent.String()},
		{"GET /unsubscribe", "/unsubscribe"},
		{"GET /archive/{list}", "/archive/" + d.list.String()},
		{"GET /admin/login", "/admin/login"},
		// Logged in from here on.
		{"GET /admin/{$}", "/admin/"},
		{"GET /admin/editions", "/admin/editions"},
		{"GET /admin/editions/{slug}", "/admin/editions/" + d.edition},
		{"GET /admin/editions/{slug}/preview", "/admin/editions/" + d.edition + "/preview"},
		{"GET /admin/campaigns", "/admin/campaigns"},
		{"GET /admin/campaigns/new", "/admin/campaigns/new"},
		{"GET /admin/campaigns/{campaign}", "/admin/campaigns/" + d.scheduled.String()},
		{"GET /admin/campaigns/{campaign}", "/admin/campaigns/" + d.sent.String()},
		{"GET /admin/campaigns/{campaign}/send", "/admin/campaigns/" + d.scheduled.String() + "/send"},
		{"GET /admin/lists", "/admin/lists"},
		{"GET /admin/lists/{list}", "/admin/lists/" + d.list.String()},
		{"GET /admin/subscribers", "/admin/subscribers"},
		{"GET /admin/subscribers/new", "/admin/subscribers/new"},
		{"GET /admin/subscribers/{subscriber}", "/admin/subscribers/" + d.subscriber.String()},
		{"GET /admin/subscribers/{subscriber}", "/admin/subscribers/" + d.bounced.String()},
		{"GET /admin/import", "/admin/import"},
		{"GET /admin/import/{token}", "/admin/import/" + d.upload + "?name=sample.csv&list=Partenaires"},
		{"GET /admin/form", "/admin/form"},
		{"GET /admin/reports", "/admin/reports"},
		{"GET /admin/reports/campaigns/{campaign}", "/admin/reports/campaigns/" + d.sent.String()},
		{"GET /admin/reports/lists", "/admin/reports/lists"},
		{"GET /admin/mailbox", "/admin/mailbox"},
		{"GET /admin/account", "/admin/account"},
		{"GET /admin/settings", "/admin/settings"},
		{"GET /admin/users", "/admin/users"},
		{"/admin/", "/admin/no-such-page"},
	}
}

// routeRE finds the patterns of routes.go that answer GET: "GET /x" and
// those without a method.
var routeRE = regexp.MustCompile(`mux\.Handle(?:Func)?\("((?:GET )?/[^"]*)"`)

// TestAxeCoversEveryPage fails when a page of the route table is neither
// checked by TestAxe nor skipped with a reason. It needs no browser.
func TestAxeCoversEveryPage(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	visited := map[string]bool{}
	for _, v := range axeVisits(consoleData{}) {
		visited[v.route] = true
	}
	for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
		route := m[1]
		if visited[route] || axeSkip[route] != "" || strings.HasPrefix(route, "GET /api/") {
			continue
		}
		t.Errorf("routes.go: %q is not checked by TestAxe: add it to axeVisits with realistic data, or to axeSkip with the reason", route)
	}
}

// TestAxe runs axe-core in Chromium on every page a person sees, public
// and console (as an admin, with realistic data), and on the rendered
// edition, and on the mails of the subscription form: a serious or
// critical violation (WCAG 2.1 A/AA and axe's best practices) fails, the
// others are logged.
func TestAxe(t *testing.T) {
	axe, err := os.ReadFile(axeScript)
	if err != nil {
		t.Fatal(err)
	}
	ctx := Chrome(t)
	h := newHarness(t)
	d := seedConsole(t, h)
	axeMails(t, ctx, h, d, axe)
	loggedIn := false
	for _, v := range axeVisits(d) {
		if strings.HasPrefix(v.route, "GET /admin/") && v.route != "GET /admin/login" && !loggedIn {
			BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
			loggedIn = true
		}
		axeReport(t, ctx, h.ts.URL+v.path, v.path, axe)
	}
	// The edition once more, as mail clients in dark mode show it: the
	// layout has colours of its own for that.
	axeColorScheme(t, ctx, "dark")
	axeReport(t, ctx, h.ts.URL+"/v/"+d.sent.String(), "/v/ in dark mode", axe)
	axeColorScheme(t, ctx, "")
}

// axeColorScheme emulates prefers-color-scheme ("dark"), or stops ("").
func axeColorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	params := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, params)
		return err
	}))
	if err != nil {
		t.Fatalf("emulating prefers-color-scheme %q: %v", scheme, err)
	}
}

// axeReport checks the page at url, on a computer and on a phone.
func axeReport(t *testing.T, ctx context.Context, url, name string, axe []byte) {
	t.Helper()
	for _, width := range []int64{1280, 390} {
		for _, vi := range axeCheck(t, ctx, url, width, axe) {
			msg := fmt.Sprintf("%s at %d px: %s (%s): %s\n\t%s", name, width, vi.ID, vi.Impact, vi.Help, strings.Join(vi.targets(), "\n\t"))
			if vi.Impact == "serious" || vi.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
}

// axeMails checks the mails of the subscription form (confirm, already
// subscribed) as a mail client shows them: a page of their own, on a
// phone too, which only a viewport tag keeps from shrinking.
func axeMails(t *testing.T, ctx context.Context, h *harness, d consoleData, axe []byte) {
	t.Helper()
	h.subscribeFrom(h.browser(), "192.0.2.7", "nouvelle.adherente@example.org", d.list.String())
	h.subscribeFrom(h.browser(), "192.0.2.8", "florence.grandvalet@herault.fr", d.list.String())
	msgs := h.mailer.messages()
	if len(msgs) != 2 {
		t.Fatalf("the form sent %d mails, want the confirmation and the already-subscribed notice", len(msgs))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= len(msgs) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, msgs[i].HTML)
	}))
	defer srv.Close()
	for i, m := range msgs {
		if !strings.Contains(m.HTML, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("mail %q has no viewport tag", m.Subject)
		}
		axeReport(t, ctx, srv.URL+"/"+strconv.Itoa(i), "mail "+m.Subject, axe)
	}
}

// axeViolation is one rule that failed on a page, as axe reports it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// targets names the first elements that fail, with why.
func (v axeViolation) targets() []string {
	var out []string
	for i, n := range v.Nodes {
		if i == 5 {
			out = append(out, fmt.Sprintf("… and %d more", len(v.Nodes)-i))
			break
		}
		out = append(out, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
	}
	return out
}

// axeCheck opens url at width and returns axe's violations there.
func axeCheck(t *testing.T, ctx context.Context, url string, width int64, axe []byte) []axeViolation {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(url),
		chromedp.WaitReady("body"),
	)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	// Scripts that build the page (the editor) fade their parts in: axe
	// must see the colours they end at. Wait until no finite animation or
	// transition runs for a few frames, at most 600 frames.
	const settle = `new Promise(done => {
		let quiet = 0, frames = 0;
		const tick = () => {
			const busy = document.getAnimations().some(a => a.playState === "running" && a.effect && a.effect.getComputedTiming().endTime !== Infinity);
			quiet = busy ? 0 : quiet + 1;
			if (quiet >= 3 || ++frames > 600) { done(true); return; }
			requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
	})`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settle, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s: waiting for animations: %v", url, err)
	}
	// Through the DevTools protocol, which the pages' CSP does not govern.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+"\n;true")); err != nil {
		t.Fatalf("%s: injecting axe-core: %v", url, err)
	}
	// Frames (the edition's preview) are checked on their own URL.
	const run = `axe.run(document, {iframes: false, runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}).then(r => JSON.stringify(r.violations))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", url, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe's answer: %v", url, err)
	}
	return vs
}
