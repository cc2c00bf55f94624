package web

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

// overflowJS lists what spills out sideways: the page itself, a card, or a
// table inside its scrolling wrapper.
const overflowJS = `(() => {
	const bad = [];
	if (document.documentElement.scrollWidth > window.innerWidth) bad.push("page " + document.documentElement.scrollWidth);
	document.querySelectorAll(".panel, .table-wrap").forEach(el => {
		if (el.scrollWidth > el.clientWidth + 1) {
			const h = el.closest(".panel").querySelector("h2, h3");
			bad.push((h ? h.textContent.trim() : el.className) + " " + el.scrollWidth + ">" + el.clientWidth);
		}
	});
	return bad.join("; ");
})()`

// byLabel selects the input whose label says text.
func byLabel(text string) chromedp.Search {
	return chromedp.Search(`//input[@id=//label[contains(normalize-space(), "` + text + `")]/@for]`)
}

// TestSettingsFormInBrowser drives the settings form as an admin does, in
// Chromium: nothing spills out of its card at 1280 and 390 px, a bad
// colour is refused next to its field, a good one is saved and the next
// page uses the new name. With -screenshots it captures
// docs/screenshots/admin-settings.png and admin-settings-mobile.png.
func TestSettingsFormInBrowser(t *testing.T) {
	ctx := Chrome(t)
	// Loaded in the folder of config.yaml, as the service runs: the page
	// names "config.yaml:3" as an operator sees it.
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	file := "config.yaml"
	yaml := "organisation:\n  address: \"Hôtel du Département, 1000 rue d'Alco, 34087 Montpellier Cedex 4\"\n" +
		"  logo_url: https://mics34.example.org/images/logo-mission-clauses-sociales-herault-2020.png\n" +
		"  linkedin: https://www.linkedin.com/company/mission-insertion-clauses-sociales-herault\n" +
		"sending:\n  rate: 5\n  hourly_quota: 500\n  quiet_hours: \"20:00-08:00\"\n" +
		"  unsubscribe_address: desinscription+lettre-partenaires@mission-clauses-sociales-herault.example.org\n" +
		"smtp:\n  host: smtp-relay.prestataire-messagerie.example.net\n  username: mics34-lettre-trimestrielle@prestataire-messagerie.example.net\n  password: x\n" +
		"imap:\n  host: imap.mission-clauses-sociales-herault.example.org\n  username: retours@mission-clauses-sociales-herault.example.org\n  password: y\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *config.Config, _ *Options) {
		loaded, err := config.Load(file, []string{"BULLETIN_SENDING_REPLY_TO=communication@mics34.example.org",
			"BULLETIN_SMTP_PASSWORD=not-shown", "BULLETIN_SERVER_SECRET=0123456789abcdef0123456789abcdef-long"})
		if err != nil {
			t.Fatal(err)
		}
		loaded.Server.PublicURL, loaded.Store.Path = c.Server.PublicURL, c.Store.Path
		loaded.Organisation.Name = c.Organisation.Name
		*c = loaded
	})
	t.Chdir(pkg) // back where the screenshots are written
	if err := h.st.CreateUser(context.Background(), &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	BrowserLogin(t, tctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
	err = chromedp.Do(tctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.ts.URL+"/admin/settings"),
		chromedp.WaitVisible(byLabel("Nom de l’organisation")),
	)
	if err != nil {
		t.Fatal(err)
	}
	noOverflow := func(width int64) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(h.ts.URL+"/admin/settings"),
			chromedp.WaitVisible(chromedp.CSS(".settings-form"))); err != nil {
			t.Fatal(err)
		}
		bad, err := chromedp.Run(tctx, chromedp.Evaluate[string](overflowJS))
		if err != nil {
			t.Fatal(err)
		}
		if bad != "" {
			t.Errorf("at %d px, spills out: %s", width, bad)
		}
	}
	noOverflow(1280)
	noOverflow(390)

	// The field the environment sets is locked, with its variable.
	locked, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.getElementById("sending-reply_to").readOnly`))
	if err != nil || !locked {
		t.Errorf("Reply-To set by the environment: readOnly = %v, %v", locked, err)
	}

	// A bad colour is refused next to its field; nothing is saved.
	err = chromedp.Do(tctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Clear(byLabel("Nom de l’organisation")),
		chromedp.SendKeys(byLabel("Nom de l’organisation"), "Mission Clauses"),
		chromedp.Clear(byLabel("Couleur principale")),
		chromedp.SendKeys(byLabel("Couleur principale"), "bleu"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Enregistrer les réglages"]`)),
		chromedp.WaitVisible(chromedp.CSS("#organisation-colour-error")),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#organisation-colour-error")))
	if err != nil || !strings.Contains(msg, "Écrivez une couleur comme #1d4e89") {
		t.Errorf("colour error = %q, %v", msg, err)
	}
	if got := h.srv.conf().Organisation.Name; got != "MICS 34" {
		t.Errorf("organisation.name = %q after a refused save", got)
	}

	// Corrected, it is saved, and the next page is titled with the new name.
	err = chromedp.Do(tctx,
		chromedp.Clear(byLabel("Couleur principale")),
		chromedp.SendKeys(byLabel("Couleur principale"), "#8a2b06"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Enregistrer les réglages"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(tctx, chromedp.Title())
	if err != nil || title != "Paramètres · Mission Clauses" {
		t.Errorf("title = %q, %v; want Paramètres · Mission Clauses", title, err)
	}
	if Shots() {
		shoot(t, ctx, h.ts.URL, "/admin/settings", "admin-settings", 1280)
		shoot(t, ctx, h.ts.URL, "/admin/settings", "admin-settings-mobile", 390)
	}
}
