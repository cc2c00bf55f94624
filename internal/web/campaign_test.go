package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

const testEdition = `---
title: Édition spéciale 10 ans !
subject: "La lettre de la MICS 34 : édition spéciale"
preheader: Dix ans de clauses sociales
date: 2026-03-20
---

::: edito title="Tous solidaires" signature="Florence G."
Cette année, la MICS 34 a 10 ans !
:::

# Sur le terrain

::: article title="Le forum de l’achat public"
Le 27 février, <b>plus de 100</b> acheteurs.
:::
`

func TestEditionsConsole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("editor@example.org", store.RoleEditor)
	resp, body := a.get("/admin/editions")
	wantStatus(t, resp, body, http.StatusOK)

	// A source that does not parse is refused with its lines.
	resp, body = a.post("/admin/editions", url.Values{"source": {"---\ntitle: x\nbogus: [\n---\n"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/editions", url.Values{"source": {testEdition}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/admin/editions/edition-speciale-10-ans") {
		t.Fatalf("created at %q", loc)
	}
	slug := strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/editions/")
	resp, body = a.post("/admin/editions", url.Values{"source": {testEdition}})
	wantStatus(t, resp, body, http.StatusConflict)

	resp, body = a.get("/admin/editions/" + slug)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `sandbox`, `/admin/editions/`+slug+`/preview`, "Version texte", "/static/preview.js", "ÉDITO")
	// The preview: the edition's HTML, with a policy of its own.
	resp, body = a.get("/admin/editions/" + slug + "/preview")
	wantStatus(t, resp, body, http.StatusOK)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("preview CSP = %q", csp)
	}
	wantContains(t, body, "Tous solidaires", "Bonjour")
	if strings.Contains(body, "<b>plus de 100</b>") {
		t.Error("raw HTML in the edition came through")
	}
	resp, body = a.get("/admin/editions/" + slug + "/preview?format=text")
	wantStatus(t, resp, body, http.StatusOK)
	// A draft preview, without saving.
	resp, body = a.post("/admin/editions/"+slug+"/preview", url.Values{"source": {strings.Replace(testEdition, "Tous solidaires", "Brouillon", 1)}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Brouillon")
	se, _ := h.st.EditionBySlug(context.Background(), slug)
	if strings.Contains(se.Source, "Brouillon") {
		t.Error("the preview saved the draft")
	}
	// Save: a broken source is not saved.
	resp, body = a.post("/admin/editions/"+slug, url.Values{"source": {"::: nope\n"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/editions/"+slug, url.Values{"source": {strings.Replace(testEdition, "Tous solidaires", "Ensemble", 1)}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	se, _ = h.st.EditionBySlug(context.Background(), slug)
	if !strings.Contains(se.Source, "Ensemble") {
		t.Error("not saved")
	}
	// Test send.
	resp, body = a.post("/admin/editions/"+slug+"/test", url.Values{"to": {"editor@example.org, autre@example.org"}})
	wantStatus(t, resp, body, http.StatusOK)
	msgs := h.mailer.messages()
	if len(msgs) != 2 || !msgs[0].Test || !strings.HasPrefix(msgs[0].Subject, "[TEST]") {
		t.Fatalf("test sends: %+v", msgs)
	}
	resp, body = a.get("/admin/editions/nope")
	wantStatus(t, resp, body, http.StatusNotFound)
}

// editionAndList stores the test edition and a list with subscribers.
func (h *harness) editionAndList(n int) (*store.Edition, *store.List) {
	h.t.Helper()
	se := &store.Edition{Slug: "lettre-10", Title: "Lettre 10", Source: testEdition}
	if _, err := h.st.SaveEdition(context.Background(), se); err != nil {
		h.t.Fatal(err)
	}
	l := h.list("Partenaires", true)
	for i := range n {
		h.subscriber("p"+string(rune('a'+i))+"@example.org", store.Active, "Partenaires")
	}
	return se, l
}

func TestCampaignsConsole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	se, _ := h.editionAndList(3)
	a := h.user("editor@example.org", store.RoleEditor)
	ctx := context.Background()

	resp, body := a.get("/admin/campaigns/new?edition=" + se.Slug)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Partenaires", "3 abonnés actifs")
	// An edition named by a path is refused, whatever the file.
	for _, bad := range []string{"/etc/passwd", "../config.yaml", "go.mod"} {
		resp, body := a.post("/admin/campaigns", url.Values{"edition": {bad}, "list": {"Partenaires"}})
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
		if strings.Contains(body, "root:") || strings.Contains(body, "module bulletin") {
			t.Errorf("edition %q: the page shows a file's content", bad)
		}
	}
	resp, body = a.post("/admin/campaigns", url.Values{"edition": {se.Slug}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}, "name": {"Lettre <10>"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	all, _ := h.st.Campaigns(ctx)
	if len(all) != 1 || all[0].Name != "Lettre <10>" || all[0].Subject != "La lettre de la MICS 34 : édition spéciale" {
		t.Fatalf("campaigns %+v", all)
	}
	c := all[0]
	page := "/admin/campaigns/" + c.UUID.String()
	resp, body = a.get(page)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `type="datetime-local"`, "Europe/Paris", "Lettre &lt;10&gt;", "/static/progress.js")

	// Schedule: a past time is refused; a time is read in Europe/Paris.
	resp, body = a.post(page+"/schedule", url.Values{"at": {"2020-01-01T09:00"}})
	wantStatus(t, resp, body, http.StatusConflict)
	resp, body = a.post(page+"/schedule", url.Values{"at": {"not a date"}})
	wantStatus(t, resp, body, http.StatusConflict)
	resp, body = a.post(page+"/schedule", url.Values{"at": {"2026-07-01T09:30"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	c, _ = h.st.CampaignByUUID(ctx, c.UUID)
	want := time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC) // 09:30 in Paris, summer time
	if c.State != store.Scheduled || !c.SendAt.Equal(want) {
		t.Errorf("scheduled %s at %s, want %s", c.State, c.SendAt, want)
	}
	_, body = a.get("/admin/")
	wantContains(t, body, "Lettre &lt;10&gt;", "1er juillet 2026 à 09:30")
	resp, body = a.post(page+"/unschedule", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)

	// Status JSON for the progress script.
	resp, body = a.get(page + "/status")
	wantStatus(t, resp, body, http.StatusOK)
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); err != nil || st["state"] != "draft" || st["state_label"] != "Brouillon" {
		t.Errorf("status %v, %v", st, err)
	}

	// Send now: the button's post without confirm=1 only shows the
	// confirmation; confirmed, the recipients are fixed, the engine woken.
	resp, body = a.post(page+"/send", nil)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `name="confirm" value="1"`)
	if h.engine.count() != 0 {
		t.Fatalf("the unconfirmed send woke the engine")
	}
	resp, body = a.post(page+"/send", url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if h.engine.count() != 1 {
		t.Errorf("engine woken %d times", h.engine.count())
	}
	_, body = a.get(page + "/status")
	json.Unmarshal([]byte(body), &st)
	if st["state"] != "sending" || st["recipients"] != float64(3) || st["pending"] != float64(3) {
		t.Errorf("after send: %v", st)
	}
	resp, body = a.post(page+"/pause", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = a.post(page+"/pause", nil)
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "En pause")
	resp, body = a.post(page+"/resume", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if h.engine.count() != 2 {
		t.Errorf("resume did not wake the engine")
	}
	resp, body = a.post(page+"/explode", nil)
	wantStatus(t, resp, body, http.StatusNotFound)

	// The web view now exists, personalised for nobody.
	resp, body = h.browser().get("/v/" + c.UUID.String())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Tous solidaires", "Bonjour Madame, Monsieur")
	if strings.Contains(body, "/u/") {
		t.Error("the web view carries an unsubscribe link")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("web view CSP %q", csp)
	}
	resp, body = a.post(page+"/cancel", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	c, _ = h.st.CampaignByUUID(ctx, c.UUID)
	if c.State != store.Cancelled {
		t.Errorf("state %s", c.State)
	}
	resp, body = a.get("/admin/campaigns")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Annulée")
	resp, body = a.get("/admin/reports")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Lettre &lt;10&gt;")

	// Test send of the campaign.
	resp, body = a.post(page+"/test", url.Values{"to": {"x@example.org"}})
	wantStatus(t, resp, body, http.StatusOK)
	if msgs := h.mailer.messages(); len(msgs) != 1 || msgs[0].To.Addr != "x@example.org" {
		t.Errorf("test: %+v", msgs)
	}
}

func TestWebViewAndArchive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	c := h.campaign("Brouillon secret")
	// A draft has no web view, and a made-up campaign neither.
	for _, p := range []string{"/v/" + c.UUID.String(), "/v/00000000-0000-0000-0000-000000000000", "/v/nope"} {
		resp, body := b.get(p)
		wantStatus(t, resp, body, http.StatusNotFound)
	}
	se, l := h.editionAndList(1)
	a := h.user("a@example.org", store.RoleAdmin)
	resp, body := a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}, "name": {"Lettre 10"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	all, _ := h.st.Campaigns(context.Background())
	var sent *store.Campaign
	for _, x := range all {
		if x.Name == "Lettre 10" {
			sent = x
		}
	}
	a.post("/admin/campaigns/"+sent.UUID.String()+"/send", url.Values{"confirm": {"1"}})
	// Finish it as the engine would.
	if _, err := h.st.TransitionCampaign(context.Background(), store.Transition{CampaignID: sent.ID, From: []store.CampaignState{store.Sending}, To: store.Sent, Cause: i18n.Text("test")}); err != nil {
		t.Fatal(err)
	}
	resp, body = b.get("/archive/" + l.UUID.String())
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "/v/"+sent.UUID.String(), "La lettre de la MICS 34")
	if strings.Contains(body, "Brouillon secret") {
		t.Error("the archive lists a draft")
	}
	// A private list has no archive.
	private := h.list("Interne", false)
	resp, body = b.get("/archive/" + private.UUID.String())
	wantStatus(t, resp, body, http.StatusNotFound)
}

func TestAPICampaigns(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.editionAndList(2)
	c := h.apiToken(store.RoleEditor)

	code, body := c.call("PUT", "/api/v1/editions/lettre-11", "text/markdown", strings.NewReader(strings.Replace(testEdition, "10 ans", "11 ans", 1)))
	wantAPI(t, "put edition", code, body, http.StatusCreated, "")
	code, body = c.call("PUT", "/api/v1/editions/lettre-11", "text/markdown", strings.NewReader("::: nope\n"))
	wantAPI(t, "bad edition", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.call("PUT", "/api/v1/editions/Bad%20Slug", "text/markdown", strings.NewReader(testEdition))
	wantAPI(t, "bad slug", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.json("GET", "/api/v1/editions", "")
	if eds, _ := body["editions"].([]any); code != 200 || len(eds) != 2 {
		t.Errorf("editions %d %v", code, body)
	}
	code, body = c.json("GET", "/api/v1/editions/lettre-11", "")
	wantAPI(t, "get edition", code, body, http.StatusOK, "")
	if !strings.Contains(body["source"].(string), "11 ans") {
		t.Errorf("source %v", body["source"])
	}

	code, body = c.json("POST", "/api/v1/campaigns", `{"edition": "../../etc/passwd", "lists": ["Partenaires"]}`)
	wantAPI(t, "path edition", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.json("POST", "/api/v1/campaigns", `{"edition": "lettre-11"}`)
	wantAPI(t, "no list", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.json("POST", "/api/v1/campaigns", `{"edition": "lettre-11", "lists": ["Nulle part"]}`)
	wantAPI(t, "unknown list", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.json("POST", "/api/v1/campaigns", `{"edition": "lettre-11", "lists": ["Partenaires"], "name": "Lettre 11"}`)
	wantAPI(t, "create", code, body, http.StatusCreated, "")
	id := body["uuid"].(string)
	base := "/api/v1/campaigns/" + id
	code, body = c.json("POST", base+"/schedule", `{"at": "2020-01-01T09:00"}`)
	wantAPI(t, "past", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.json("POST", base+"/schedule", `{"at": "2026-12-24T09:00"}`)
	wantAPI(t, "schedule", code, body, http.StatusOK, "")
	if st := body["status"].(map[string]any); st["state"] != "scheduled" || st["send_at"] != "2026-12-24T08:00:00Z" {
		t.Errorf("scheduled: %v", st)
	}
	code, body = c.json("POST", base+"/resume", "")
	wantAPI(t, "resume a scheduled campaign", code, body, http.StatusConflict, "bad_state")
	code, body = c.json("POST", base+"/send", "")
	wantAPI(t, "send", code, body, http.StatusOK, "")
	code, body = c.json("POST", base+"/fly", "")
	wantAPI(t, "unknown action", code, body, http.StatusNotFound, "not_found")
	code, body = c.json("GET", "/api/v1/campaigns/Lettre 11", "")
	if code != http.StatusOK || body["name"] != "Lettre 11" {
		t.Errorf("campaign by name: %d %v", code, body)
	}
	code, body = c.json("GET", base, "")
	if st := body["status"].(map[string]any); code != 200 || st["recipients"] != float64(2) || body["web_view"] == nil {
		t.Errorf("campaign %v", body)
	}
	code, body = c.json("GET", base+"/report", "")
	if code != 200 || body["recipients"] != float64(2) || body["pending"] != float64(2) {
		t.Errorf("report %v", body)
	}
	code, body = c.json("POST", base+"/pause", "")
	wantAPI(t, "pause", code, body, http.StatusOK, "")
	code, body = c.json("POST", base+"/cancel", "")
	wantAPI(t, "cancel", code, body, http.StatusOK, "")
	code, body = c.json("GET", "/api/v1/campaigns", "")
	if cs, _ := body["campaigns"].([]any); code != 200 || len(cs) != 1 {
		t.Errorf("campaigns %v", body)
	}
	code, body = c.json("GET", "/api/v1/campaigns/"+strings.Repeat("0", 8), "")
	wantAPI(t, "unknown campaign", code, body, http.StatusNotFound, "not_found")
	_ = os.Getenv
}
