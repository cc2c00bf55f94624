package web

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/store"
)

// trackedEdition is the test edition with a link readers may follow.
const (
	agenda         = "https://mics34.example.org/agenda?x=1&y=2"
	trackedEdition = testEdition + "\nVoir [l’agenda](" + agenda + ").\n"
)

var clickRE = regexp.MustCompile(`href="([^"]*/t/c/[^"]*)"`)

// sendFromConsole creates a campaign of slug to Partenaires on the console
// form, with the extra fields, sends it through the real engine into the
// harness's mailer, and returns it with the messages sent, by address.
func sendFromConsole(t *testing.T, h *harness, a *browser, slug string, extra url.Values) (*store.Campaign, map[string]string) {
	t.Helper()
	form := url.Values{"edition": {slug}, "list": {"Partenaires"}}
	for k, v := range extra {
		form[k] = v
	}
	resp, body := a.post("/admin/campaigns", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	id, _, _ := strings.Cut(strings.TrimPrefix(resp.Header.Get("Location"), "/admin/campaigns/"), "?")
	resp, body = a.post("/admin/campaigns/"+id+"/send", url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	ctx := context.Background()
	c, err := h.st.CampaignByUUID(ctx, uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	before := len(h.mailer.messages())
	e := campaign.NewEngine(h.st, unclosable{h.mailer}, h.srv.content, campaign.Options{Workers: 1}, slog.New(slog.DiscardHandler))
	if err := e.RunCampaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range h.mailer.messages()[before:] {
		out[m.To.Addr] = m.HTML
		if !strings.Contains(m.Text, agenda) {
			t.Errorf("the plain-text part to %s lacks the link as written", m.To.Addr)
		}
	}
	return c, out
}

// Issue 6 item 5: a campaign that tracks carries a pixel and sends its
// links through the signed redirect, which leads to the link and counts
// in the report; one that does not carries neither; a forged click never
// redirects.
func TestTrackedCampaign(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	se, _ := h.editionAndList(2)
	se.Source = trackedEdition
	if _, err := h.st.SaveEdition(ctx, se); err != nil {
		t.Fatal(err)
	}
	a := h.user("editor@example.org", store.RoleEditor)
	_, body := a.get("/admin/campaigns/new")
	wantContains(t, body, `name="track" value="1"`, "La CNIL demande le consentement", "Apple Mail")

	c, msgs := sendFromConsole(t, h, a, se.Slug, url.Values{"track": {"1"}})
	if !c.Track || len(msgs) != 2 {
		t.Fatalf("campaign tracks: %v, %d messages; want true, 2", c.Track, len(msgs))
	}
	_, body = a.get("/admin/campaigns/" + c.UUID.String())
	wantContains(t, body, `href="/admin/reports/campaigns/`+c.UUID.String()+`"`, "ouvertures et clics comptés")

	deliveries := map[string]*store.Delivery{}
	h.st.CampaignDeliveries(ctx, c.ID, "", func(d *store.Delivery) error {
		deliveries[d.Email] = d
		return nil
	})
	email := "pa@example.org"
	d, sub := deliveries[email], h.subscriberNamed(email)
	m := msgs[email]
	wantContains(t, m,
		`<img src="`+h.links.OpenURL(d.UUID)+`" width="1" height="1" alt=""`,
		`href="`+h.links.ClickURL(d.UUID, agenda)+`"`,
		`href="`+h.links.UnsubscribeURL(sub.UUID, c.UUID)+`"`,
		`href="`+h.links.WebViewURL(c.UUID)+`"`)
	if strings.Contains(m, `href="`+html.EscapeString(agenda)+`"`) {
		t.Error("a tracked message links to the page directly")
	}

	// The reader clicks and opens, through the real router.
	b := h.browser()
	var click string
	for _, mm := range clickRE.FindAllStringSubmatch(m, -1) {
		if u, _ := url.Parse(html.UnescapeString(mm[1])); u.Query().Get("u") == agenda {
			click = u.RequestURI()
		}
	}
	if click == "" {
		t.Fatal("no tracked link to the agenda")
	}
	resp, _ := b.get(click)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != agenda {
		t.Fatalf("click: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), agenda)
	}
	open, _ := url.Parse(h.links.OpenURL(d.UUID))
	resp, _ = b.get(open.RequestURI())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("pixel: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	data, err := h.st.CampaignReportData(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tc := data.Tracking; tc == nil || tc.Opened != 1 || tc.Clicked != 1 || len(tc.Links) != 1 || tc.Links[0].URL != agenda {
		t.Errorf("tracking = %+v, want one open and one click on %s", data.Tracking, agenda)
	}
	_, body = a.get("/admin/reports/campaigns/" + c.UUID.String())
	wantContains(t, body, html.EscapeString(agenda))

	// Forged clicks: no redirect, whatever is changed.
	tok := strings.TrimPrefix(strings.Split(click, "?")[0], "/t/c/")
	flip := byte('0') // one hex digit of the token's MAC changed
	if tok[len(tok)-1] == '0' {
		flip = '1'
	}
	for _, bad := range []string{
		"/t/c/" + tok + "?u=" + url.QueryEscape("https://evil.example/"),
		"/t/c/" + tok + "?u=" + url.QueryEscape(agenda+"&z=3"),
		"/t/c/" + tok[:len(tok)-1] + string(flip) + "?u=" + url.QueryEscape(agenda),
		"/t/c/" + h.links.UnsubscribeToken(sub.UUID, c.UUID) + "?u=" + url.QueryEscape(agenda),
	} {
		resp, _ := b.get(bad)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s: %d to %q, want 404 and no redirect", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// Off by default: no pixel, no redirect.
	plain, msgs := sendFromConsole(t, h, a, se.Slug, nil)
	if plain.Track {
		t.Error("a campaign tracks without being asked to")
	}
	for to, m := range msgs {
		if strings.Contains(m, "/t/o/") || strings.Contains(m, "/t/c/") || !strings.Contains(m, `href="`+html.EscapeString(agenda)+`"`) {
			t.Errorf("the untracked message to %s has tracking, or lacks the link as written", to)
		}
	}
}

// subscriberNamed returns the subscriber with this address.
func (h *harness) subscriberNamed(email string) *store.Subscriber {
	h.t.Helper()
	sub, err := h.st.SubscriberByEmail(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	return sub
}

// The console names stored editions only: a slug that is also the name of
// a file where the daemon runs is the stored edition, never the file.
func TestCampaignOfSlugNamingAFile(t *testing.T) {
	t.Chdir(t.TempDir())
	h := newHarness(t)
	se, _ := h.editionAndList(1)
	if err := os.WriteFile(se.Slug, []byte("---\ntitle: Un fichier\nsubject: Pas cette édition\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := h.user("editor@example.org", store.RoleEditor)
	resp, body := a.post("/admin/campaigns", url.Values{"edition": {se.Slug}, "list": {"Partenaires"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	all, _ := h.st.Campaigns(context.Background())
	if len(all) != 1 || all[0].EditionSlug != se.Slug || all[0].Subject != "La lettre de la MICS 34 : édition spéciale" {
		t.Fatalf("campaigns %+v, want one of the stored edition", all)
	}
	code, out := h.apiToken(store.RoleEditor).json("POST", "/api/v1/campaigns", `{"edition": "`+se.Slug+`", "lists": ["Partenaires"], "track": true}`)
	wantAPI(t, "create", code, out, http.StatusCreated, "")
	if out["track"] != true || out["edition"] != se.Slug {
		t.Errorf("API campaign %v, want the stored edition, tracked", out)
	}
}
