package web

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// widestJS says, when the page is wider than the window, how wide it is
// and which element reaches furthest right: the deepest one of those that
// end the furthest, since its ancestors only follow it. What a scrolling
// or clipping box holds (a table in its wrapper) does not widen the page
// and is passed over. "" when the page fits.
const widestJS = `(() => {
	const root = document.documentElement;
	if (root.scrollWidth <= root.clientWidth) return "";
	const inScroller = el => {
		for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			if (getComputedStyle(a).overflowX !== "visible") return true;
		}
		return false;
	};
	let widest = null, right = -1;
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && r.right >= right && !inScroller(el)) { widest = el; right = r.right; }
	}
	let name = "?";
	if (widest) {
		name = widest.tagName.toLowerCase() + (widest.id ? "#" + widest.id : "") +
			Array.from(widest.classList, c => "." + c).join("");
		const text = widest.textContent.trim().replace(/\s+/g, " ").slice(0, 60);
		if (text) name += " «" + text + "»";
	}
	return "page " + root.scrollWidth + " px wide for " + root.clientWidth + ", widest: " + name + " ending at " + Math.round(right) + " px";
})()`

// TestNoSidewaysScroll opens every page TestAxe checks (axeVisits), public
// and console, with seedConsole's data, on a 390 px phone: none may be
// wider than the screen, which would make the reader scroll sideways to
// read a line. A wide table scrolls inside its own wrapper instead. With
// -screenshots it captures docs/screenshots/admin-dashboard-mobile.png.
func TestNoSidewaysScroll(t *testing.T) {
	ctx := Chrome(t)
	h := newHarness(t)
	// The dashboard as a daemon's shows it in outbox mode (the harness's),
	// its relay check passing and its mailbox down: the outbox badge, and
	// the error under the mailbox.
	h.health["relay"] = func(context.Context) error { return nil }
	h.health["mailbox"] = func(context.Context) error {
		return errors.New("dial tcp: lookup imap.mission-clauses-sociales-herault.example.org: i/o timeout")
	}
	d := seedConsole(t, h)
	loggedIn := false
	for _, v := range axeVisits(d) {
		if strings.HasPrefix(v.route, "GET /admin/") && v.route != "GET /admin/login" && !loggedIn {
			BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
			loggedIn = true
		}
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 800), chromedp.Navigate(h.ts.URL+v.path), chromedp.WaitReady("body"))
		var wide string
		if err == nil {
			wide, err = chromedp.Run(tctx, chromedp.Evaluate[string](widestJS))
		}
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", v.path, err)
		}
		if wide != "" {
			t.Errorf("%s at 390 px: %s", v.path, wide)
		}
		if *screenshots && v.path == "/admin/" {
			shoot(t, ctx, h.ts.URL, v.path, "admin-dashboard-mobile", 390)
		}
	}
}
