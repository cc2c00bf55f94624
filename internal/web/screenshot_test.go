package web

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Screenshots of the public pages and the console, for docs/:
//
//	go test ./internal/web -run TestScreenshots -screenshots
var screenshots = flag.Bool("screenshots", false, "capture docs/screenshots/public-*.png and admin-*.png with headless Chromium")

const screenshotDir = "../../docs/screenshots"

// shoot captures the page at path, full length, into name.png.
func shoot(t *testing.T, ctx context.Context, base, path, name string, width int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(base+path),
		chromedp.WaitReady("body"),
	)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Frames (the edition preview) load after the page: wait for them.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Promise.all(Array.from(document.querySelectorAll("iframe")).map(f => new Promise(r => { f.addEventListener("load", r); setTimeout(r, 3000); }))).then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s: waiting for frames: %v", path, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("pass -screenshots to capture docs/screenshots/public-*.png and admin-*.png")
	}
	ctx := Chrome(t)
	h := newHarness(t)
	d := seedConsole(t, h)

	// Public pages, as a reader on a phone and on a computer.
	shoot(t, ctx, h.ts.URL, d.unsub, "public-unsubscribe", 1024)
	shoot(t, ctx, h.ts.URL, d.unsub, "public-unsubscribe-mobile", 390)
	shoot(t, ctx, h.ts.URL, d.unsub+"/preferences", "public-preferences", 1024)
	shoot(t, ctx, h.ts.URL, d.unsubscribed+"?done=unsubscribed", "public-unsubscribed", 1024)
	shoot(t, ctx, h.ts.URL, "/subscribe", "public-subscribe", 1024)
	shoot(t, ctx, h.ts.URL, "/confirm/"+d.confirm, "public-confirm", 1024)
	shoot(t, ctx, h.ts.URL, "/archive/"+d.list.String(), "public-archive", 1024)
	// Past the undo window, coming back goes through a mail to the address.
	h.clock.Advance(time.Hour)
	shoot(t, ctx, h.ts.URL, d.unsubscribed, "public-unsubscribed-later-mobile", 390)

	// The console.
	shoot(t, ctx, h.ts.URL, "/admin/login", "admin-login", 1280)
	BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
	for _, p := range []struct{ path, name string }{
		{"/admin/", "admin-dashboard"},
		{"/admin/lists", "admin-lists"},
		{"/admin/subscribers", "admin-subscribers"},
		{"/admin/subscribers/" + d.subscriber.String(), "admin-subscriber"},
		{"/admin/subscribers/" + d.bounced.String(), "admin-subscriber-bounced"},
		{"/admin/import", "admin-import"},
		{"/admin/form", "admin-form"},
		{"/admin/users", "admin-users"},
		{"/admin/settings", "admin-settings"},
		{"/admin/editions", "admin-editions"},
		{"/admin/editions/" + d.edition, "admin-edition"},
		{"/admin/campaigns", "admin-campaigns"},
		{"/admin/campaigns/new", "admin-campaign-new"},
		{"/admin/campaigns/" + d.scheduled.String(), "admin-campaign"},
		{"/admin/subscribers?q=" + url.QueryEscape("' OR 1=1 --"), "admin-search-hostile"},
	} {
		shoot(t, ctx, h.ts.URL, p.path, p.name, 1280)
	}
}
