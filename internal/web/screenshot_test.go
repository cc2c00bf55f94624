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
	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/store"
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
	c := context.Background()
	part := h.list("Partenaires", true)
	part.Description = "La lettre trimestrielle des partenaires de la MICS 34"
	h.st.UpdateList(c, part)
	ach := h.list("Acheteurs publics", true)
	ach.Description = "Actualités des clauses sociales dans la commande publique"
	h.st.UpdateList(c, ach)
	h.list("Équipe interne", false)
	people := []struct{ email, first, last, org string }{
		{"florence.grandvalet@herault.fr", "Florence", "Grandvalet", "Département de l’Hérault"},
		{"olivier.salas@montpellier3m.fr", "Olivier", "Salas", "Montpellier Méditerranée Métropole"},
		{"contact@insertion-34.org", "Nadia", "Benali", "Insertion 34"},
		{"j.dupre@btp-occitanie.fr", "Jérôme", "Dupré", "BTP Occitanie"},
		{"achats@ville-sete.fr", "Claire", "Martin", "Ville de Sète"},
		{"marc.roux@pole-emploi.fr", "Marc", "Roux", "France Travail"},
	}
	var subs []*store.Subscriber
	for i, p := range people {
		st := store.Active
		if i == 3 {
			st = store.Pending
		}
		sub := &store.Subscriber{Email: p.email, FirstName: p.first, LastName: p.last, Organisation: p.org, Status: st,
			Consent: store.Consent{Source: "import contacts-2025.csv", At: h.clock.Now()}}
		if err := h.st.AddSubscriber(c, sub, []string{"Partenaires", "Acheteurs publics"}[:1+i%2], false); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	h.st.SetStatus(c, subs[5].ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"})
	h.st.SetStatus(c, subs[4].ID, store.StatusChange{Status: store.Bounced, Source: "bounce", Reason: "550 5.1.1 user unknown"})
	if err := h.st.CreateUser(c, &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	h.st.CreateAPIToken(c, "site web", store.RoleEditor)

	// The example edition, a campaign sent from it (the ledger as the
	// engine leaves it), and the next one scheduled.
	se, _, _, err := campaign.AddEdition(c, h.st, "../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := campaign.Create(c, h.st, campaign.Spec{Edition: se.Slug, Lists: []string{"Partenaires", "Acheteurs publics"}, Name: "Lettre n° 10 : édition spéciale 10 ans"})
	if err != nil {
		t.Fatal(err)
	}
	if err := campaign.Transition(c, h.st, sent, campaign.Change{To: store.Sending, Cause: "console"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.AcquireLease(c, sent.ID, "shots", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ds, err := h.st.ClaimDeliveries(c, sent.ID, "shots", 1000, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var results []store.Result
	for _, d := range ds {
		results = append(results, store.Result{DeliveryID: d.ID, Outcome: store.OutcomeSent, Reply: "250 2.0.0 Ok: queued", At: time.Now()})
	}
	if err := h.st.RecordResults(c, results); err != nil {
		t.Fatal(err)
	}
	h.st.ReleaseLease(c, sent.ID, "shots")
	campaign.Transition(c, h.st, sent, campaign.Change{To: store.Sent, Cause: "engine"})
	next, err := campaign.Create(c, h.st, campaign.Spec{Edition: se.Slug, Lists: []string{"Partenaires"}, Name: "Lettre n° 11 : printemps 2026"})
	if err != nil {
		t.Fatal(err)
	}
	campaign.Transition(c, h.st, next, campaign.Change{To: store.Scheduled, Cause: "console", SendAt: time.Date(2026, 3, 20, 9, 0, 0, 0, h.srv.loc)})

	// Public pages, as a reader on a phone and on a computer.
	unsub := h.unsubPath(subs[0], uuid.Nil)
	shoot(t, ctx, h.ts.URL, unsub, "public-unsubscribe", 1024)
	shoot(t, ctx, h.ts.URL, unsub, "public-unsubscribe-mobile", 390)
	shoot(t, ctx, h.ts.URL, unsub+"/preferences", "public-preferences", 1024)
	shoot(t, ctx, h.ts.URL, h.unsubPath(subs[5], uuid.Nil)+"?done=unsubscribed", "public-unsubscribed", 1024)
	shoot(t, ctx, h.ts.URL, "/subscribe", "public-subscribe", 1024)
	confirmTok, err := h.st.CreateConfirmation(c, subs[3].ID, nil, h.clock.Now(), h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, h.ts.URL, "/confirm/"+confirmTok, "public-confirm", 1024)
	shoot(t, ctx, h.ts.URL, "/archive/"+part.UUID.String(), "public-archive", 1024)
	// Past the undo window, coming back goes through a mail to the address.
	h.clock.Advance(time.Hour)
	shoot(t, ctx, h.ts.URL, h.unsubPath(subs[5], uuid.Nil), "public-unsubscribed-later-mobile", 390)

	// The console: log in through the form, as a person does.
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = chromedp.Do(lctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.ts.URL+"/admin/login"),
		chromedp.WaitVisible("#email"),
	)
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, h.ts.URL, "/admin/login", "admin-login", 1280)
	h.clock.Advance(time.Second)
	err = chromedp.Do(lctx,
		chromedp.SendKeys("#email", "communication@mics34.fr"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Submit("#password"),
		chromedp.WaitVisible(".shell"),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ path, name string }{
		{"/admin/", "admin-dashboard"},
		{"/admin/lists", "admin-lists"},
		{"/admin/subscribers", "admin-subscribers"},
		{"/admin/subscribers/" + subs[0].UUID.String(), "admin-subscriber"},
		{"/admin/subscribers/" + subs[4].UUID.String(), "admin-subscriber-bounced"},
		{"/admin/import", "admin-import"},
		{"/admin/form", "admin-form"},
		{"/admin/users", "admin-users"},
		{"/admin/settings", "admin-settings"},
		{"/admin/editions", "admin-editions"},
		{"/admin/editions/" + se.Slug, "admin-edition"},
		{"/admin/campaigns", "admin-campaigns"},
		{"/admin/campaigns/new", "admin-campaign-new"},
		{"/admin/campaigns/" + next.UUID.String(), "admin-campaign"},
		{"/admin/subscribers?q=" + url.QueryEscape("' OR 1=1 --"), "admin-search-hostile"},
	} {
		shoot(t, ctx, h.ts.URL, p.path, p.name, 1280)
	}
}
