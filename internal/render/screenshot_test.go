package render

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"bulletin/internal/links"
)

// Screenshots of the example edition, as a reader sees it, for docs/:
//
//	apt-get install -y chromium
//	go test ./internal/render -run TestScreenshots -screenshots
var (
	screenshots = flag.Bool("screenshots", false, "capture docs/screenshots/edition-*.png with headless Chromium (desktop, 375 px, 375 px in dark mode)")
	chromium    = flag.String("chromium", "/usr/bin/chromium", "the Chromium binary for -screenshots")
)

const screenshotDir = "../../docs/screenshots"

func TestScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("pass -screenshots to capture docs/screenshots/edition-*.png")
	}
	if _, err := os.Stat(*chromium); err != nil {
		t.Fatalf("%v (apt-get install -y chromium)", err)
	}

	// The daemon's two roles in a reader's view: the message itself (here
	// its web view) and the /media/ files next to the edition.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tm, ed := loadExample(t, srv.URL)
	p, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /media/", func(w http.ResponseWriter, r *http.Request) {
		slug, file, ok := links.ParseMediaPath(r.URL.Path)
		if !ok || slug != ed.Slug {
			http.NotFound(w, r)
			return
		}
		path, err := ed.LocalPath(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, path)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := p.WriteHTML(w, exampleRecipient()); err != nil {
			t.Error(err)
		}
	})

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(*chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first Run starts the browser and must not carry a timeout (it
	// would stop the browser); later steps do.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}

	for _, shot := range []struct {
		file   string
		width  int64
		mobile bool
		dark   bool
	}{
		{"edition-desktop.png", 900, false, false},
		{"edition-mobile.png", 375, true, false},
		{"edition-mobile-dark.png", 375, true, true},
	} {
		sctx, scancel := context.WithTimeout(ctx, time.Minute)
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if shot.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		scheme := "light"
		if shot.dark {
			scheme = "dark"
		}
		err := chromedp.Do(sctx,
			chromedp.EmulateViewport(shot.width, 800, opts...),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
				return err
			}),
			chromedp.Navigate(srv.URL+"/"),
		)
		if err != nil {
			scancel()
			t.Fatalf("%s: %v", shot.file, err)
		}
		// Wait for the images: Navigate returns at the load event, but be
		// sure they decoded before the capture.
		if _, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null))).then(() => true)`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise)); err != nil {
			scancel()
			t.Fatalf("%s: waiting for images: %v", shot.file, err)
		}
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		scancel()
		if err != nil {
			t.Fatalf("%s: %v", shot.file, err)
		}
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, shot.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d KB)", shot.file, len(png)/1024)
	}
}
