package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// TestMessageKeys checks that every message key the templates and the
// handlers use is in the catalogues, so that no page shows a raw key.
func TestMessageKeys(t *testing.T) {
	t.Parallel()
	keys := map[string]string{} // key → where
	tmplKey := regexp.MustCompile(`\.[TN] "([a-z_.0-9]+)"`)
	fs.WalkDir(assets, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := fs.ReadFile(assets, path)
		for _, m := range tmplKey.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = path
		}
		return nil
	})
	// Keys in Go: the string literals that look like "section.key" and are
	// passed as page titles or error messages.
	goKey := regexp.MustCompile(`"((?:error|login|subscribe|lists|subscribers|users|tokens|account|import|settings|reports|form|dashboard|unsubscribe|preferences|confirm|editions|campaigns|archive|severity)\.[a-z_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		for _, m := range goKey.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = f
		}
	}
	for _, st := range allStatuses {
		keys["status."+string(st)] = "allStatuses"
	}
	for _, st := range []store.CampaignState{store.Draft, store.Scheduled, store.Sending, store.Paused, store.Sent, store.Cancelled, store.Failed} {
		keys["state."+string(st)] = "campaign states"
	}
	for _, st := range []store.DeliveryState{store.Queued, store.InFlight, store.Delivered, store.Undelivered, store.Skipped} {
		keys["delivery."+string(st)] = "delivery states"
	}
	for _, k := range []string{"created", "status", "list_added", "list_removed", "erased"} {
		keys["event."+k] = "subscriber events"
	}
	keys["severity.error"], keys["severity.warning"] = "render severities", "render severities"
	for _, r := range []store.Role{store.RoleAdmin, store.RoleEditor} {
		keys["role."+string(r)] = "roles"
	}
	for k := range flashes {
		keys["flash."+k] = "flashes"
	}
	for _, e := range nav {
		keys[e.Label] = "nav"
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d keys: the scan is broken", len(keys))
	}
	for _, lang := range i18n.Languages() {
		p := i18n.New(lang)
		for k, where := range keys {
			if strings.HasSuffix(k, ".") {
				continue
			}
			if p.T(k) == k && p.T(k+".one") == k+".one" {
				t.Errorf("%s: key %q (used in %s) is missing", lang, k, where)
			}
		}
	}
}
