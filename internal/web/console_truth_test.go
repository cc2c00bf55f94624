package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/i18n"
	"bulletin/internal/report"
	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
)

// withRelay configures an SMTP relay: the daemon sends for real.
func withRelay(c *config.Config, _ *Options) { c.SMTP.Host = "smtp.example.org" }

// Issue 12 §1: without smtp.host every console page says that nothing is
// sent and where the files are; the dashboard's relay and /healthz say
// "outbox", not "ok". With a relay, none of it.
func TestOutboxModeIsUnmistakable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.health["relay"] = func(context.Context) error { return nil }
	a := h.user("editor@example.org", store.RoleEditor)
	dir, _ := filepath.Abs(h.cfg.Sending.OutboxDir)
	for _, path := range []string{"/admin/", "/admin/campaigns", "/admin/subscribers", "/admin/import", "/admin/reports"} {
		resp, body := a.get(path)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `class="outbox-banner"`, "Mode boîte d’envoi\u00a0: aucun message n’est envoyé.", dir)
	}
	_, body := a.get("/admin/")
	wantContains(t, body, "Boîte d’envoi (rien n’est envoyé)")
	if strings.Contains(body, `<span class="badge ok">Opérationnel</span>`) {
		t.Error("the dashboard calls the outbox an operational relay")
	}
	var health map[string]string
	_, body = h.browser().get("/healthz")
	if err := json.Unmarshal([]byte(body), &health); err != nil || health["relay"] != "outbox" || health["status"] != "ok" {
		t.Errorf("healthz = %v (%v), want relay outbox, status ok", health, err)
	}

	r := newHarness(t, withRelay)
	r.health["relay"] = func(context.Context) error { return nil }
	b := r.user("editor@example.org", store.RoleEditor)
	_, body = b.get("/admin/")
	if strings.Contains(body, "outbox-banner") || strings.Contains(body, "Boîte d’envoi (rien") {
		t.Error("with a relay the console still shows the outbox mode")
	}
	wantContains(t, body, `<span class="badge ok">Opérationnel</span>`)
	_, body = r.browser().get("/healthz")
	if err := json.Unmarshal([]byte(body), &health); err != nil || health["relay"] != "ok" {
		t.Errorf("healthz with a relay = %v, want relay ok", health)
	}
}

// formBadge returns the dashboard's badge of the subscribe form.
func formBadge(t *testing.T, a *browser) string {
	t.Helper()
	_, body := a.get("/admin/")
	m := regexp.MustCompile(`<td>Formulaire d’inscription</td><td class="num"><span class="badge[^"]*">([^<]+)</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form badge on the dashboard:\n%s", body)
	}
	return m[1]
}

// Issue 12 §1: the "Formulaire d'inscription" badge says what /subscribe
// does: closed without a public list or without a mailer.
func TestFormBadgeFollowsSubscribe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("editor@example.org", store.RoleEditor)
	h.list("Interne", false)
	const closed = "Les inscriptions ne sont pas ouvertes pour le moment."
	_, page := h.browser().get("/subscribe")
	if got := formBadge(t, a); got != "Fermé" || !strings.Contains(page, closed) {
		t.Errorf("no public list: badge %q, /subscribe closed: %v", got, strings.Contains(page, closed))
	}
	h.list("Partenaires", true)
	_, page = h.browser().get("/subscribe")
	if got := formBadge(t, a); got != "Ouvert" || strings.Contains(page, closed) {
		t.Errorf("a public list and a mailer: badge %q, /subscribe closed: %v", got, strings.Contains(page, closed))
	}

	n := newHarness(t, func(_ *config.Config, o *Options) { o.Mailer = nil })
	n.list("Partenaires", true)
	if got := formBadge(t, n.user("editor@example.org", store.RoleEditor)); got != "Fermé" {
		t.Errorf("no mailer: badge %q, want Fermé", got)
	}
}

// sendThroughOutbox starts c and sends it with the real engine through the
// real outbox transport, into a folder of the test.
func sendThroughOutbox(t *testing.T, h *harness, c *store.Campaign) string {
	t.Helper()
	ctx := context.Background()
	if err := campaign.Transition(ctx, h.st, c, campaign.Change{To: store.Sending, Cause: i18n.Text("test")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ob, err := outbox.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := campaign.NewEngine(h.st, ob, h.srv.content, campaign.Options{Workers: 1}, slog.New(slog.DiscardHandler))
	if err := e.RunCampaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Issue 12 §1: a campaign the outbox wrote reads "écrits dans la boîte
// d'envoi" on its report page, in its JSON ("transport": "outbox", the
// contract's fields unchanged) and in the summary, never "remis" with a
// delivery rate.
func TestReportSaysOutbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c, _ := h.st.CampaignByID(context.Background(), h.campaign("Lettre 10").ID)
	for _, e := range []string{"a@example.org", "b@example.org"} {
		h.subscriber(e, store.Active, c.Lists...)
	}
	dir := sendThroughOutbox(t, h, c)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(files) != 2 {
		t.Fatalf("%d files in the outbox, want 2", len(files))
	}
	a := h.user("editor@example.org", store.RoleEditor)
	page := "/admin/reports/campaigns/" + c.UUID.String()
	resp, body := a.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Rien n’a été envoyé.", "2 messages ont été écrits dans la boîte d’envoi", "Écrits dans la boîte d’envoi",
		"non envoyés\u00a0: pas de relais SMTP")
	if strings.Contains(body, "taux de remise 100") {
		t.Error("the report of an outbox campaign shows a delivery rate of 100 %")
	}
	for _, path := range []string{"/admin/", "/admin/campaigns/" + c.UUID.String()} {
		_, body := a.get(path)
		wantContains(t, body, `<span class="l">Écrits dans la boîte d’envoi</span>`)
	}
	resp, body = a.get(page + "/report.json")
	wantStatus(t, resp, body, http.StatusOK)
	var r map[string]any
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r["transport"] != "outbox" || r["outboxed"] != float64(2) || r["sent"] != float64(2) || r["recipients"] != float64(2) {
		t.Errorf("report.json: transport %v outboxed %v sent %v recipients %v", r["transport"], r["outboxed"], r["sent"], r["recipients"])
	}

	// The summary mailed to admins.
	rep, err := report.ForCampaign(context.Background(), h.st, c, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	subject, text := report.SummaryText(rep, store.SummaryFinished, report.SummaryTextOptions{Printer: i18n.New("fr"), URL: h.ts.URL + page})
	if !strings.Contains(subject, "rien n’est parti, 2 messages écrits dans la boîte d’envoi") || strings.Contains(subject, "remis") {
		t.Errorf("summary subject = %q", subject)
	}
	if !strings.Contains(text, "Écrits dans la boîte d’envoi") || !strings.Contains(text, "personne ne les a reçus") || strings.Contains(text, "Remis") {
		t.Errorf("summary text:\n%s", text)
	}
}

// Issue 12 §3: "Envoyer maintenant" shows a confirmation with the people
// who will get it once the suppressed are left out, the lists, the subject
// and the sender; it warns when the edition already went to these lists.
// Drafts show their expected recipients rather than 0.
func TestSendConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	se, l := h.editionAndList(3)
	h.subscriber("parti@example.org", store.Unsubscribed, "Partenaires")
	h.subscriber("rebond@example.org", store.Bounced, "Partenaires")
	a := h.user("editor@example.org", store.RoleEditor)
	resp, body := a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}, "name": {"Lettre 10"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	page := strings.SplitN(resp.Header.Get("Location"), "?", 2)[0]

	_, body = a.get("/admin/campaigns")
	wantContains(t, body, `3 <small class="muted">prévus</small>`)
	_, body = a.get(page)
	wantContains(t, body, `id="expected"`, "Destinataires prévus", "2 adresses écartées", page+"/send")

	resp, body = a.get(page + "/send")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `<span class="n">3</span> destinataires recevront cette lettre`, "2 adresses désabonnées, en rebond",
		"Partenaires", "La lettre de la MICS 34", html.EscapeString(h.cfg.Sending.From), "Envoyer à 3 destinataires", `name="confirm" value="1"`)
	if strings.Contains(body, `id="already-sent"`) {
		t.Error("a first send warns of an earlier one")
	}
	resp, body = a.post(page+"/send", url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	first, _ := h.st.CampaignByUUID(ctx, uuid.MustParse(strings.TrimPrefix(page, "/admin/campaigns/")))
	if n, _ := h.st.CampaignDeliveryCounts(ctx, first.ID); first.State != store.Sending || n.Pending() != 3 {
		t.Fatalf("after the confirmed send: %s, %d pending", first.State, n.Pending())
	}

	// The same edition to the same list again: a warning naming the first.
	c := &store.Campaign{Name: "Lettre 10 bis", EditionID: se.ID, Subject: "Encore", ListIDs: []int64{l.ID}}
	if err := h.st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	_, body = a.get("/admin/campaigns/" + c.UUID.String() + "/send")
	wantContains(t, body, `id="already-sent"`, "déjà été envoyée à ces listes par la campagne «\u00a0Lettre 10\u00a0»")
	// The button of the campaign page (no confirm=1) never sends.
	resp, body = a.post("/admin/campaigns/"+c.UUID.String()+"/send", nil)
	wantStatus(t, resp, body, http.StatusOK)
	if got, _ := h.st.CampaignByID(ctx, c.ID); got.State != store.Draft {
		t.Errorf("an unconfirmed send moved the campaign to %s", got.State)
	}
}

// uploadCSV posts a file to the import form as the console's form does.
func uploadCSV(t *testing.T, a *browser, fields map[string]string, name, csv string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.WriteField("csrf", a.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(csv))
	mw.Close()
	return a.postRaw("/admin/import", mw.FormDataContentType(), buf.String(), a.h.ts.URL)
}

// Issue 12 §3: the console's import previews the file (columns → fields,
// first rows, rejected rows), then runs a dry run and the real import on
// the kept file without choosing it again; an unknown list is refused
// with the close names; a dry run creates nothing.
func TestImportPreviewDryRunThenImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.list("Partenaires", false)
	a := h.user("editor@example.org", store.RoleEditor)
	_, body := a.get("/admin/import")
	wantContains(t, body, `<option value="Partenaires">Partenaires</option>`, `name="preview" value="1"`, "/static/import.js")

	csv := "Email;Prénom;Nom;Ville\njean@example.org;Jean;Martin;Sète\npas-une-adresse;X;Y;Z\nmarie@example.org;Marie;Curie;Paris\n"
	resp, body := uploadCSV(t, a, map[string]string{"preview": "1", "list": "Partenaires"}, "contacts.csv", csv)
	wantStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/admin/import/([0-9a-f]{32})\?`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("upload redirects to %q", loc)
	}
	token := m[1]
	kept := filepath.Join(filepath.Dir(h.cfg.Store.Path), "imports", token+".csv")
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the upload is not kept: %v", err)
	}

	resp, body = a.get(loc)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="mapping"`, "<td>Prénom</td>", `id="first-rows"`, "jean@example.org", "marie@example.org",
		`id="preview-rejects"`, "pas-une-adresse", "2 lignes valides, 1 ligne rejetée.", `action="/admin/import/`+token+`"`)
	if n, _ := h.st.CountSubscribers(ctx, store.SubscriberFilter{}); n != 0 {
		t.Fatalf("the preview imported %d subscribers", n)
	}

	// A list chosen that does not exist (a forged or stale form): refused
	// with the close name, and nothing made.
	resp, body = a.post("/admin/import/"+token, url.Values{"name": {"contacts.csv"}, "list": {"Partenaire"}, "dry_run": {"1"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "Cette liste n’existe pas", "Partenaires")
	if _, err := h.st.ListByName(ctx, "Partenaire"); err == nil {
		t.Error("the refused import made the list")
	}
	// A dry run into a new list creates neither the list nor anyone.
	resp, body = a.post("/admin/import/"+token, url.Values{"name": {"contacts.csv"}, "new_list": {"Nouvelle"}, "dry_run": {"1"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="report"`, `action="/admin/import/`+token+`"`)
	if _, err := h.st.ListByName(ctx, "Nouvelle"); err == nil {
		t.Error("the dry run made the list")
	}

	// The dry run, then the import, of the kept file.
	resp, body = a.post("/admin/import/"+token, url.Values{"name": {"contacts.csv"}, "list": {"Partenaires"}, "dry_run": {"1"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "essai à blanc", `action="/admin/import/`+token+`"`)
	if n, _ := h.st.CountSubscribers(ctx, store.SubscriberFilter{}); n != 0 {
		t.Fatalf("the dry run imported %d subscribers", n)
	}
	resp, body = a.post("/admin/import/"+token, url.Values{"name": {"contacts.csv"}, "list": {"Partenaires"}, "dry_run": {"0"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="report"`, "contacts.csv → Partenaires")
	if n, _ := h.st.CountSubscribers(ctx, store.SubscriberFilter{List: "Partenaires"}); n != 2 {
		t.Errorf("%d subscribers on Partenaires after the import, want 2", n)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Errorf("the kept file outlives its import: %v", err)
	}
	resp, body = a.post("/admin/import/"+token, url.Values{"name": {"contacts.csv"}, "list": {"Partenaires"}})
	wantStatus(t, resp, body, http.StatusNotFound)
	resp, body = a.get("/admin/import/../../etc/passwd")
	if resp.StatusCode == http.StatusOK && strings.Contains(body, "root:") {
		t.Error("a token reaches outside the upload folder")
	}

	// A kept file older than an hour is gone.
	resp, _ = uploadCSV(t, a, map[string]string{"preview": "1"}, "old.csv", csv)
	loc = resp.Header.Get("Location")
	h.clock.Advance(uploadTTL)
	resp, body = a.get(loc)
	wantStatus(t, resp, body, http.StatusNotFound)
	wantContains(t, body, "Ce fichier n’est plus disponible")
}
