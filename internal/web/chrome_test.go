package web

import (
	"context"
	"os"
	"os/exec"
	"testing"

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
