package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/store"
)

// TestConsoleTruthInChromium follows staff in headless Chromium through
// issue 12's guards: the outbox banner on the dashboard, the import's
// progress and preview then the import of the kept file, and the send
// confirmation with the number of people once the suppressed are left
// out. With -screenshots it captures each at 1280 and 390 px.
func TestConsoleTruthInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := Chrome(t)
	// The outbox folder as an installation has it, for the screenshots.
	h := newHarness(t, func(c *config.Config, _ *Options) { c.Sending.OutboxDir = "/srv/bulletin/data/outbox" })
	bg := context.Background()
	if err := h.st.CreateUser(bg, &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	h.list("Partenaires", true)
	h.list("Acheteurs publics", true)
	h.health["relay"] = func(context.Context) error { return nil } // the outbox folder is there

	eval := func(js string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	text := func(sel string) string {
		return eval(`(document.querySelector(` + fmt.Sprintf("%q", sel) + `) || {}).textContent || ""`)
	}
	// shots captures the current page at both widths, then goes back to
	// the desktop width.
	shots := func(name string) {
		t.Helper()
		if !Shots() {
			return
		}
		for _, w := range []struct {
			width  int64
			suffix string
		}{{390, "-mobile"}, {1280, ""}} {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := chromedp.Do(sctx, chromedp.EmulateViewport(w.width, 800)); err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(screenshotDir, name+w.suffix+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	BrowserStep(t, ctx, "viewport", chromedp.EmulateViewport(1280, 800))
	BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")

	// The outbox banner, on the dashboard and every console page.
	BrowserStep(t, ctx, "dashboard", chromedp.Navigate(h.ts.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS(".outbox-banner")))
	if b := text(".outbox-banner"); !strings.Contains(b, "aucun message n’est envoyé") || !strings.Contains(b, "outbox") {
		t.Errorf("outbox banner = %q", b)
	}
	if got := text("#health + table"); !strings.Contains(got, "Boîte d’envoi (rien n’est envoyé)") {
		t.Errorf("dashboard health = %q, want the outbox named", got)
	}
	shots("admin-outbox-banner")

	// The import: a file of a few thousand rows, its upload progress, its
	// preview, then the import of the kept file without choosing it again.
	var csv strings.Builder
	csv.WriteString("Email;Prénom;Nom;Organisme;Ville\n")
	for i := range 3000 {
		fmt.Fprintf(&csv, "personne%04d@exemple.fr;Camille;Martin %d;Mairie de Sète;Sète\n", i, i)
	}
	csv.WriteString("pas-une-adresse;X;Y;Z;W\n")
	path := filepath.Join(t.TempDir(), "contacts-2025.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	BrowserStep(t, ctx, "import form",
		chromedp.Navigate(h.ts.URL+"/admin/import"),
		chromedp.WaitVisible(chromedp.CSS("#file")),
	)
	if opts := eval(`Array.from(document.querySelectorAll("#list option")).map(o => o.textContent).join("|")`); !strings.Contains(opts, "Partenaires") || !strings.Contains(opts, "Acheteurs publics") {
		t.Errorf("the list select offers %q", opts)
	}
	// The progress box is shown while the file goes up, then says the file
	// is being read: sessionStorage keeps what was seen past the page load.
	eval(`(function(){ sessionStorage.clear(); var box = document.getElementById("upload-progress"), label = document.getElementById("upload-label");
		new MutationObserver(function(){ if (!box.hidden) { sessionStorage.setItem("progress", "shown"); } }).observe(box, {attributes: true});
		new MutationObserver(function(){ sessionStorage.setItem("label", label.textContent); }).observe(label, {childList: true, characterData: true, subtree: true});
		return "" })()`)
	BrowserStep(t, ctx, "upload",
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}),
		chromedp.SetValue(chromedp.CSS("#list"), "Partenaires"),
		chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mapping")),
	)
	if got := eval(`sessionStorage.getItem("progress") + " " + sessionStorage.getItem("label")`); got != "shown Lecture du fichier…" {
		t.Errorf("upload progress seen: %q, want the bar shown then the reading step", got)
	}
	mapping := text("#mapping")
	for _, want := range []string{"Email", "adresse e-mail", "Prénom", "Organisme", "Ville"} {
		if !strings.Contains(strings.ToLower(mapping), strings.ToLower(want)) {
			t.Errorf("the mapping lacks %q:\n%s", want, mapping)
		}
	}
	if rows := text("#first-rows"); !strings.Contains(rows, "personne0000@exemple.fr") {
		t.Errorf("the first rows lack the first address:\n%s", rows)
	}
	if rej := text("#preview-rejects"); !strings.Contains(rej, "pas-une-adresse") {
		t.Errorf("the preview lacks the rejected row:\n%s", rej)
	}
	if n, _ := h.st.CountSubscribers(bg, store.SubscriberFilter{}); n != 0 {
		t.Fatalf("the preview imported %d people", n)
	}
	shots("admin-import-preview")
	BrowserStep(t, ctx, "dry run",
		chromedp.Click(chromedp.CSS(`#run-form button[name=dry_run][value="1"]`)),
		chromedp.WaitVisible(chromedp.CSS("#report")),
		chromedp.WaitVisible(chromedp.CSS("#run-form")),
	)
	if n, _ := h.st.CountSubscribers(bg, store.SubscriberFilter{}); n != 0 {
		t.Fatalf("the dry run imported %d people", n)
	}
	BrowserStep(t, ctx, "import",
		chromedp.Click(chromedp.CSS(`#run-form button[name=dry_run][value="0"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("#run-form")), // the file is gone with its import
		chromedp.WaitVisible(chromedp.CSS("#report")),
	)
	if n, _ := h.st.CountSubscribers(bg, store.SubscriberFilter{List: "Partenaires", Status: store.Active}); n != 3000 {
		t.Fatalf("%d active on Partenaires after the import, want 3000", n)
	}

	// The send confirmation: two of them have left.
	for _, e := range []string{"personne0001@exemple.fr", "personne0002@exemple.fr"} {
		sub, err := h.st.SubscriberByEmail(bg, e)
		if err != nil {
			t.Fatal(err)
		}
		h.st.SetStatus(bg, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"})
	}
	se, _, _, err := campaign.AddEdition(bg, h.st, "../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Create(bg, h.st, campaign.Spec{Edition: se.Slug, Lists: []string{"Partenaires"}, Name: "Lettre n° 10"})
	if err != nil {
		t.Fatal(err)
	}
	BrowserStep(t, ctx, "campaign", chromedp.Navigate(h.ts.URL+"/admin/campaigns/"+c.UUID.String()), chromedp.WaitVisible(chromedp.CSS("#expected")))
	if got := text("#expected .n"); got != "2\u202f998" {
		t.Errorf("the draft expects %q recipients, want 2 998", got)
	}
	BrowserStep(t, ctx, "confirm page",
		chromedp.Click(chromedp.CSS(`a[href$="/send"]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-count")),
	)
	if got := text("#confirm-count"); !strings.Contains(got, "2\u202f998 destinataires recevront cette lettre") {
		t.Errorf("confirmation = %q", got)
	}
	if got := text("#confirm-suppressed"); !strings.Contains(got, "2 adresses désabonnées") {
		t.Errorf("left out = %q", got)
	}
	shots("admin-send-confirm")
	BrowserStep(t, ctx, "send",
		chromedp.Click(chromedp.CSS(`form[action$="/send"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#state-badge")),
	)
	if got, _ := h.st.CampaignByID(bg, c.ID); got.State != store.Sending {
		t.Errorf("after confirming: %s, want sending", got.State)
	}
}
