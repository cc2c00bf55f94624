package web

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chrome returns a chromedp context on a fresh headless Chromium (Debian's
// chromium package), closed when the test ends. Without Chromium the test
// is skipped, unless BULLETIN_INTEGRATION=required (CI), where it fails.
func Chrome(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("BULLETIN_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("BULLETIN_INTEGRATION") == "required" {
			t.Fatalf("chromium not found at %s (apt-get install -y chromium): %v", path, err)
		}
		t.Skipf("chromium not found at %s: apt-get install -y chromium", path)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	// The first Run starts the browser; it must not carry a timeout, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// Shots reports whether -screenshots was given, for the external tests.
func Shots() bool { return *screenshots }

// BrowserStep runs one step of a browser test, what it does named for the
// failure, within 30 seconds.
func BrowserStep(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// BrowserLogin logs in through the console's form at url (the login page,
// or a console page that sends there), as a person does, and waits for the
// console.
func BrowserLogin(t testing.TB, ctx context.Context, url, email, password string) {
	t.Helper()
	BrowserStep(t, ctx, "logging in as "+email+" at "+url,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".shell")),
	)
}
