package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bulletin/internal/store"
)

// The console refuses an edition whose subject holds a line break, as
// "bulletin edition check" does: sent, it would pause the campaign at its
// first message.
func TestConsoleRefusesLineBreakInSubject(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("editor@example.org", store.RoleEditor)
	src := "---\ntitle: Lettre 10\ndate: 2026-03-20\nsubject: |\n  La lettre\n  Bcc: everyone@example.org\n---\n\nBonjour.\n"
	resp, body := a.post("/admin/editions", url.Values{"source": {src}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "edition:4\u00a0: en-tête\u00a0: subject contient un saut de ligne (U&#43;000A")
	if eds, _ := h.st.Editions(context.Background()); len(eds) != 0 {
		t.Errorf("a refused edition was stored: %+v", eds)
	}
}

// A filter on an attribute no subscriber of the lists has is refused by the
// console and the API, at creation and at sending, naming the attribute.
func TestFilterOnUnknownAttributeRefusedOnline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	se, l := h.editionAndList(2)
	ctx := context.Background()
	sub := h.subscriber("secteur@example.org", store.Active, "Partenaires")
	sub.Attributes = map[string]string{"secteur": "BTP"}
	if err := h.st.UpdateSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	a := h.user("editor@example.org", store.RoleEditor)
	resp, body := a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}, "filter": {"sector=BTP"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "aucun abonné des listes Partenaires n’a l’attribut «\u00a0sector\u00a0»", "leurs attributs\u00a0: secteur")
	resp, body = a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}, "filter": {"secteur=BTP"}, "name": {"Lettre BTP"}})
	wantStatus(t, resp, body, http.StatusSeeOther)

	// Made with a filter that no longer matches anyone's attributes.
	c := &store.Campaign{Name: "Ancienne", EditionID: se.ID, Subject: "Lettre", From: "MICS 34 <lettre@example.org>",
		Filter: "sector=BTP", ListIDs: []int64{l.ID}}
	if err := h.st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	resp, body = a.post("/admin/campaigns/"+c.UUID.String()+"/send", nil)
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "l’attribut «\u00a0sector\u00a0»")
	api := h.apiToken(store.RoleEditor)
	code, out := api.json("POST", "/api/v1/campaigns", `{"edition": "`+se.Slug+`", "lists": ["Partenaires"], "filter": "sector=BTP"}`)
	if code != http.StatusUnprocessableEntity || !strings.HasPrefix(errField(out), `filter: filter: no subscriber on Partenaires has the attribute "sector"`) {
		t.Errorf("API create = %d %v, want 422 on the filter", code, out)
	}
	code, out = api.json("POST", "/api/v1/campaigns/"+c.UUID.String()+"/send", "")
	if code != http.StatusUnprocessableEntity || !strings.HasPrefix(errField(out), `filter: filter: no subscriber on Partenaires has the attribute "sector"`) {
		t.Errorf("API send = %d %v, want 422 on the filter", code, out)
	}
	if got, _ := h.st.CampaignByID(ctx, c.ID); got.State != store.Draft {
		t.Errorf("campaign is %s after refused sends, want draft", got.State)
	}
}

// errField returns the field an API error names, with its message.
func errField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	m, _ := e["message"].(string)
	return f + ": " + m
}

// An import naming someone who left lists that row, with why, in the
// console and the API, and leaves their record as it was.
func TestImportListsSuppressedRows(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	left := h.subscriber("left@example.org", store.Unsubscribed)
	left.FirstName = "Léa"
	if err := h.st.UpdateSubscriber(ctx, left); err != nil {
		t.Fatal(err)
	}
	csv := "Email;Prénom\njean@example.org;Jean\nleft@example.org;Renamed\n"
	a := h.user("editor@example.org", store.RoleEditor)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", "")
	mw.WriteField("new_list", "Partenaires")
	mw.WriteField("csrf", a.csrf)
	fw, _ := mw.CreateFormFile("file", "contacts.csv")
	fw.Write([]byte(csv))
	mw.Close()
	resp, body := a.postRaw("/admin/import", mw.FormDataContentType(), buf.String(), h.ts.URL)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Lignes laissées exclues", `id="suppressed"`, "left@example.org est désabonnée\u00a0: laissée exclue\u202f; le nom et les informations du fichier n’ont pas été appliqués")

	code, out := h.apiToken(store.RoleEditor).call("POST", "/api/v1/subscribers/import?list=Partenaires", "text/csv", strings.NewReader(csv))
	rows, _ := out["suppressed_rows"].([]any)
	if code != http.StatusOK || out["suppressed"] != float64(1) || len(rows) != 1 {
		t.Fatalf("API import = %d %v, want one suppressed row listed", code, out)
	}
	if row, _ := rows[0].(map[string]any); row["line"] != float64(3) || !strings.Contains(row["reason"].(string), "left suppressed") {
		t.Errorf("API suppressed row = %v", rows[0])
	}
	if got := h.reload(left); got.FirstName != "Léa" || got.Status != store.Unsubscribed {
		t.Errorf("after the imports: %q, %s; want Léa, still unsubscribed", got.FirstName, got.Status)
	}
}
