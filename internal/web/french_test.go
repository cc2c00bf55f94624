package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// sameInBothLanguages lists English words that a French page may show
// because French uses them too, or because they are names and syntax.
var sameInBothLanguages = []string{}

// verbRE splits a catalogue entry into the text around its fmt verbs.
var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// englishPhrases returns the pieces of the English catalogue a French page
// must not contain: the text between the verbs of each entry that is not
// the same in French, when it is more than two words long.
func englishPhrases() map[string]string {
	fr, en := i18n.Entries("fr"), i18n.Entries("en")
	out := map[string]string{} // phrase → key
	for k, v := range en {
		if fr[k] == v {
			continue
		}
		for _, piece := range verbRE.Split(v, -1) {
			piece = strings.TrimSpace(piece)
			if len(strings.Fields(piece)) > 2 && !strings.Contains(fr[k], piece) {
				out[piece] = k
			}
		}
	}
	for _, s := range sameInBothLanguages {
		delete(out, s)
	}
	return out
}

// TestFrenchPagesHaveNoEnglish renders every console and public page in
// French, with data that makes them say the most (an import with rejected
// and suppressed rows, an edition with findings and one with parse errors,
// campaigns with a history and a reason, a subscriber with a history,
// the settings), and fails when a page holds a phrase of the English
// catalogue: each message reaches the page through the catalogue, in the
// reader's language, stored events included.
func TestFrenchPagesHaveNoEnglish(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	a := h.user("communication@mics34.fr", store.RoleAdmin)
	a.header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5")
	pages := map[string]string{} // what → HTML
	keep := func(what string, resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: status %d\n%s", what, resp.StatusCode, body)
		}
		pages[what] = body
	}
	get := func(b *browser, path string) {
		t.Helper()
		resp, body := b.get(path)
		keep("GET "+path, resp, body)
	}

	part := h.list("Partenaires", true)
	h.list("Acheteurs publics", true)
	bounced := h.subscriber("achats@ville-sete.fr", store.Active, "Partenaires")
	if _, err := h.st.SetStatus(ctx, bounced.ID, store.StatusChange{Status: store.Bounced, Source: "bounce", Reason: "550 5.1.1 user unknown"}); err != nil {
		t.Fatal(err)
	}
	left := h.subscriber("marc.roux@pole-emploi.fr", store.Active, "Partenaires")
	if _, err := h.st.SetStatus(ctx, left.ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"}); err != nil {
		t.Fatal(err)
	}
	reader := h.subscriber("florence.grandvalet@herault.fr", store.Active, "Partenaires")

	// An import with every kind of rejected and suppressed row, as a dry
	// run and for real, and a file that is no CSV at all.
	csv := "Email;Prénom;Statut;Désinscrit;Date d'inscription\n" +
		"jean.martin@example.org;Jean;actif;non;14/03/2019\n" +
		"jean.martin.example.org;Jean;actif;non;14/03/2019\n" +
		"paul durand@example.org;Paul;actif;non;14/03/2019\n" +
		"a@b@example.org;A;actif;non;14/03/2019\n" +
		"x@localhost;X;actif;non;14/03/2019\n" +
		"marie@example.org;Marie;en attente;non;14/03/2019\n" +
		"luc@example.org;Luc;actif;peut-être;14/03/2019\n" +
		"anne@example.org;Anne;actif;non;03/14/2019\n" +
		"court@example.org;Court\n" +
		";Personne;actif;non;\n" +
		"JEAN.MARTIN@example.org;Jean;actif;non;14/03/2019\n" +
		"marc.roux@pole-emploi.fr;Marc;actif;non;14/03/2019\n" +
		"zoe@example.org;Zoé;désinscrit;oui;14/03/2019\n"
	for _, form := range []map[string]string{
		{"list": "Partenaires", "dry_run": "1"},
		{"list": "Partenaires"},
	} {
		resp, body := uploadCSV(t, a, form, "contacts.csv", csv)
		keep("POST /admin/import "+form["dry_run"], resp, body)
	}
	wantContains(t, pages["POST /admin/import "], "il manque le @", "figure déjà ligne 2")
	resp, body := uploadCSV(t, a, map[string]string{"list": "Partenaires"}, "contacts.xlsx", "PK\x03\x04 not a csv")
	keep("POST /admin/import (a workbook)", resp, body)
	resp, body = uploadCSV(t, a, map[string]string{"list": "Partenaires"}, "sans-adresse.csv", "Prénom;Nom\nJean;Martin\n")
	keep("POST /admin/import (no address column)", resp, body)
	if resp, _ := uploadCSV(t, a, map[string]string{"list": "Partenaires", "preview": "1"}, "contacts.csv", csv); resp.StatusCode == http.StatusSeeOther {
		get(a, resp.Header.Get("Location"))
	}

	// An edition with findings, and sources that do not parse.
	findings := &store.Edition{Slug: "lettre-10", Title: "Lettre n° 10",
		Source: "---\ntitle: Lettre n° 10\nsubject: \"" + strings.Repeat("La lettre des partenaires de la MICS 34, ", 3) + "\"\ndate: 2020-03-25\n---\n\n" +
			"Bonjour.\n\n![](http://example.org/photo.png)\n\n[Le site](ftp://example.org/)\n\n<div>brut</div>\n\n![Logo](/images/logo.png)\n"}
	if _, err := h.st.SaveEdition(ctx, findings); err != nil {
		t.Fatal(err)
	}
	get(a, "/admin/editions/lettre-10")
	wantContains(t, pages["GET /admin/editions/lettre-10"], "texte alternatif")
	bad := "---\ntitle: Lettre\nsubject: Objet\ndate: 25/03/2020\nauteur: moi\n---\n\n::: encadre\ntexte\n:::\n\n::: article\n"
	resp, body = a.post("/admin/editions/lettre-10", map[string][]string{"source": {bad}})
	keep("POST /admin/editions/lettre-10 (errors)", resp, body)
	resp, body = a.post("/admin/editions", map[string][]string{"source": {bad}})
	keep("POST /admin/editions (errors)", resp, body)
	wantContains(t, pages["POST /admin/editions/lettre-10 (errors)"], "clé «\u00a0auteur\u00a0» inconnue", "bloc «\u00a0encadre\u00a0» inconnu")

	// Campaigns with a history: one sent, paused by staff on the way and
	// by the relay; one put back to draft by the scheduler.
	sent := h.campaign("Lettre n° 10, édition spéciale 10 ans")
	console := i18n.M("campaign.cause.console", "communication@mics34.fr")
	for _, ch := range []campaign.Change{
		{To: store.Sending, Cause: i18n.M("campaign.cause.action", console, i18n.Key("campaign.action.send"))},
		{To: store.Paused, Cause: i18n.M("campaign.cause.action", console, i18n.Key("campaign.action.pause")), Reason: i18n.M("campaign.reason.paused_by_staff")},
		{To: store.Sending, Cause: i18n.M("campaign.cause.cli", "bulletin campaign resume")},
		{To: store.Paused, Cause: i18n.M("campaign.cause.relay_fault"), Reason: i18n.M("campaign.reason.relay_down", 5, "dial tcp 192.0.2.1:587: connection refused")},
		{To: store.Sending, Cause: i18n.M("campaign.cause.action", console, i18n.Key("campaign.action.resume"))},
		{To: store.Sent, Cause: i18n.M("campaign.cause.done_twice", 302, 282, 12, 8, 1)},
	} {
		if err := campaign.Transition(ctx, h.st, sent, ch); err != nil {
			t.Fatal(err)
		}
	}
	paused := h.campaign("Lettre n° 11, printemps 2026")
	for _, ch := range []campaign.Change{
		{To: store.Scheduled, Cause: i18n.M("campaign.cause.action_at", console, i18n.Key("campaign.action.schedule"), "2026-03-20 09:00 CET"), SendAt: h.clock.Now().Add(time.Hour)},
		{To: store.Sending, Cause: i18n.M("campaign.cause.send_time_late", "20/03/2026 09:00", "2m0s")},
		{To: store.Paused, Cause: i18n.M("campaign.cause.render_failed"), Reason: i18n.M("campaign.reason.render_failed", i18n.Text("template: layout.html:3: unexpected EOF"))},
	} {
		if err := campaign.Transition(ctx, h.st, paused, ch); err != nil {
			t.Fatal(err)
		}
	}
	missed := h.campaign("Lettre n° 12")
	why := i18n.M("campaign.reason.missed", "20/03/2026 09:00", "26h0m0s", "6h0m0s")
	for _, ch := range []campaign.Change{
		{To: store.Scheduled, Cause: i18n.M("campaign.cause.cli", "bulletin campaign schedule --at 2026-03-20"), SendAt: h.clock.Now().Add(time.Hour)},
		{To: store.Draft, Cause: i18n.M("campaign.cause.scheduler", why), Reason: why},
	} {
		if err := campaign.Transition(ctx, h.st, missed, ch); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*store.Campaign{sent, paused, missed} {
		get(a, "/admin/campaigns/"+c.UUID.String())
		get(a, "/admin/reports/campaigns/"+c.UUID.String())
	}
	wantContains(t, pages["GET /admin/campaigns/"+sent.UUID.String()], "les 302 envois sont faits", "moteur d’envoi : panne du relais")
	wantContains(t, pages["GET /admin/campaigns/"+paused.UUID.String()], "l’édition ne peut pas être mise en forme")
	get(a, "/admin/campaigns/"+missed.UUID.String()+"/send")

	// A subscriber's history: a bounce lifted by staff, a reader who
	// came back, a confirmed subscription.
	resp, body = a.post("/admin/subscribers/"+bounced.UUID.String()+"/lift", map[string][]string{"reason": {"adresse corrigée par le partenaire"}})
	keep("POST lift", resp, body)
	pub := h.browser()
	pub.header.Set("Accept-Language", "fr")
	unsub := h.unsubPath(reader, sent.UUID)
	get(pub, unsub)
	get(pub, unsub+"/preferences")
	resp, body = pub.post(unsub, map[string][]string{"confirm": {"1"}})
	keep("POST unsubscribe", resp, body)
	h.unsubscribedAt(reader, h.clock.Now().Add(-5*time.Minute))
	get(pub, unsub+"?done=unsubscribed")
	undo := formRE.FindStringSubmatch(pages["GET "+unsub+"?done=unsubscribed"])
	if undo == nil {
		t.Fatal("no undo button after unsubscribing")
	}
	resp, body = pub.post(unsub+"/resubscribe", map[string][]string{"form": {undo[1]}})
	keep("POST resubscribe", resp, body)
	for _, s := range []*store.Subscriber{bounced, left, reader} {
		get(a, "/admin/subscribers/"+s.UUID.String())
	}
	wantContains(t, pages["GET /admin/subscribers/"+bounced.UUID.String()], "exclusion levée", "retour en erreur")
	wantContains(t, pages["GET /admin/subscribers/"+reader.UUID.String()], "réabonnement par la personne", "lien de désabonnement")
	wantContains(t, pages["GET /admin/subscribers/"+left.UUID.String()], "désabonnement en un clic")

	// Public pages.
	get(pub, "/subscribe")
	get(pub, "/subscribe/embed")
	get(pub, "/unsubscribe")
	get(pub, "/v/"+sent.UUID.String())
	get(pub, "/archive/"+part.UUID.String())
	get(pub, "/admin/login")
	resp, body = h.subscribeFrom(pub, "198.51.100.7", "nadia.benali@insertion-34.org", part.UUID.String())
	keep("POST /subscribe", resp, body)
	{
		confirm := h.confirmLink()
		get(pub, confirm)
		resp, body = pub.post(confirm, url.Values{"confirm": {"1"}})
		keep("POST confirm", resp, body)
		sub, err := h.st.SubscriberByEmail(ctx, "nadia.benali@insertion-34.org")
		if err != nil {
			t.Fatal(err)
		}
		get(a, "/admin/subscribers/"+sub.UUID.String())
		wantContains(t, pages["GET /admin/subscribers/"+sub.UUID.String()], "double confirmation depuis ")
	}

	// The rest of the console.
	for _, p := range []string{"/admin/", "/admin/editions", "/admin/editions/lettre-10/preview", "/admin/campaigns",
		"/admin/campaigns/new", "/admin/lists", "/admin/lists/" + part.UUID.String(), "/admin/subscribers",
		"/admin/subscribers/new", "/admin/import", "/admin/form", "/admin/reports", "/admin/reports/lists",
		"/admin/mailbox", "/admin/account", "/admin/settings", "/admin/users", "/admin/no-such-page"} {
		get(a, p)
	}

	phrases := englishPhrases()
	if len(phrases) < 100 {
		t.Fatalf("only %d English phrases: the catalogue scan is broken", len(phrases))
	}
	whats := make([]string, 0, len(pages))
	for what := range pages {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	for _, what := range whats {
		text := html.UnescapeString(pages[what])
		for phrase, key := range phrases {
			if strings.Contains(text, phrase) {
				t.Errorf("%s: English %q (%s) on a French page", what, phrase, key)
			}
		}
	}
}
