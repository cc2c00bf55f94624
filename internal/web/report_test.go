package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"bulletin/internal/config"
	"bulletin/internal/metrics"
	"bulletin/internal/outgoing"
	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
)

// reportHarness is the real router over a store holding the fixture
// campaign, with an editor logged in.
func reportHarness(t *testing.T, opts ...harnessOption) (*harness, *browser, *reporttest.Fixture) {
	t.Helper()
	h := newHarness(t, opts...)
	f, err := reporttest.Build(context.Background(), h.st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	return h, h.user("editor@example.org", store.RoleEditor), f
}

func parseHTML(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// plain removes the narrow no-break spaces of French numbers.
func plain(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(s))
}

func TestReportPage(t *testing.T) {
	t.Parallel()
	h, b, f := reportHarness(t)
	b.header.Set("Accept-Language", "fr")
	path := "/admin/reports/campaigns/" + f.Campaign.UUID.String()
	resp, body := b.get(path)
	wantStatus(t, resp, body, http.StatusOK)
	doc := parseHTML(t, body)

	// The big figures, by their label.
	w := reporttest.Want
	got := map[string]string{}
	doc.Find(".report-fig").Each(func(_ int, s *goquery.Selection) {
		got[plain(s.Find(".l").Text())] = plain(s.Find(".n").Text())
	})
	for label, n := range map[string]int{
		"Destinataires": w.Recipients, "Envoyés": w.Sent, "Remis": w.Delivered, "Échecs": w.Failed, "Non envoyés": w.Skipped,
		"En attente": w.Pending, "Rebonds durs": w.BouncedHard, "Rebonds doux": w.BouncedSoft, "Plaintes": w.Complaints,
		"Désabonnements": w.Unsubscribed, "Refusées par le relais (adresse inconnue)": 0, "Adresses mortes trouvées": w.BouncedHard,
	} {
		if got[label] != itoa(n) {
			t.Errorf("figure %q = %q, want %d", label, got[label], n)
		}
	}
	notes := plain(doc.Find(".report-fig .note").Text())
	for _, want := range []string{"taux de remise 62,5 %", "dont 1 après un nouvel essai", "dont 1 en nouvel essai"} {
		if !strings.Contains(notes, want) {
			t.Errorf("figure notes lack %q: %q", want, notes)
		}
	}

	// Failures by code, bounces and skips by reason, unsubscribes by source.
	text := plain(doc.Find("main").Text())
	for _, want := range []string{"550 5.1.1", "refus définitif (5xx)", "adresse inconnue", "boîte pleine", "4.2.2",
		"désabonné avant l’envoi", "bouton de désabonnement de la messagerie (un clic)", "Envoi en cours",
		"suivi des ouvertures et des clics est désactivé"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// The domains.
	domains := map[string][]string{}
	doc.Find("#domains").Parent().Find("tbody tr").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, plain(c.Text())) })
		domains[cells[0]] = cells[1:]
	})
	// recipients, delivered, failed, bounced, complaints, unsubscribed, skipped, rate
	for dom, want := range map[string]string{
		"orange.fr":       "2 1 0 1 0 0 0 50,0 %",
		"gmail.com":       "2 2 0 0 1 0 0 100,0 %",
		"wanadoo.fr":      "1 0 1 0 0 0 0 0,0 %",
		"herault.gouv.fr": "1 0 0 1 0 0 0 0,0 %",
		"free.fr":         "1 0 0 0 0 0 1 –",
	} {
		if g := strings.Join(domains[dom], " "); g != want {
			t.Errorf("domain %s = %q, want %q", dom, g, want)
		}
	}

	// The addresses to look at, most serious first, with their diagnostics.
	var rows [][]string
	doc.Find("table.addresses tbody tr").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, plain(c.Text())) })
		rows = append(rows, cells)
	})
	want := []struct {
		o       reporttest.Outcome
		outcome string
		detail  string
	}{
		{reporttest.Failed5xx, "échec", "Recipient address rejected: User unknown"},
		{reporttest.HardBounce, "rebond dur", "adresse inconnue"},
		{reporttest.SoftBounce, "rebond doux", "Mailbox full"},
		{reporttest.Complaint, "plainte", ""},
		{reporttest.Unsubscribed, "désabonné", "un clic"},
		{reporttest.Retrying, "nouvel essai prévu", "421 4.3.0"},
		{reporttest.Skipped, "non envoyé", "désabonné avant l’envoi"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d addresses listed, want %d", len(rows), len(want))
	}
	for i, wr := range want {
		r := rows[i]
		if r[0] != reporttest.Email(wr.o) || !strings.HasPrefix(r[1], wr.outcome) || !strings.Contains(r[3], wr.detail) {
			t.Errorf("address %d = %q, want %s, %s, %q", i, r, reporttest.Email(wr.o), wr.outcome, wr.detail)
		}
	}

	// Charts drawn on the server, no script anywhere.
	if n := doc.Find("svg.chart").Length(); n < 3 {
		t.Errorf("%d charts, want the share, the sends and the returns", n)
	}
	if doc.Find("script").Length() != 0 {
		t.Error("the report page carries a script")
	}

	// Another tab, another page.
	_, body = b.get(path + "?show=all&page=1")
	if n := parseHTML(t, body).Find("table.addresses tbody tr").Length(); n != w.Recipients {
		t.Errorf("show=all lists %d addresses, want %d", n, w.Recipients)
	}
	resp, _ = b.get(path + "?show=failed&page=9")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "page=1") {
		t.Errorf("a page past the end: %d %s, want a redirect to the last", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get("/admin/reports/campaigns/" + "00000000-0000-4000-8000-000000000000")
	wantStatus(t, resp, body, http.StatusNotFound)

	// The reports' index links to it with the same figures.
	_, body = b.get("/admin/reports")
	idx := parseHTML(t, body)
	cells := []string{}
	idx.Find("tbody tr").First().Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, plain(c.Text())) })
	// recipients, delivered, rate, failed, bounced, complaints, unsubscribed
	if got := strings.Join(cells[1:], " "); got != "10 5 62,5 % 1 2 1 1" {
		t.Errorf("index row = %q", cells)
	}
	if href, _ := idx.Find("tbody tr a").Attr("href"); href != path {
		t.Errorf("index links to %q, want %q", href, path)
	}

	// Logged out: the login page, not the report.
	resp, _ = h.browser().get(path)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("report without a session: %d, want a redirect to the login", resp.StatusCode)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestReportCSVAndJSON(t *testing.T) {
	t.Parallel()
	h, b, f := reportHarness(t)
	path := "/admin/reports/campaigns/" + f.Campaign.UUID.String()
	resp, body := b.get(path + "/addresses.csv?show=all")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("CSV not a download: %q", resp.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+reporttest.Want.Recipients {
		t.Fatalf("CSV has %d rows, want %d and a header", len(recs), reporttest.Want.Recipients)
	}
	count := map[string]int{}
	for _, r := range recs[1:] {
		count[r[2]]++
	}
	for outcome, n := range map[string]int{"delivered": 3, "failed": 1, "bounced_hard": 1, "bounced_soft": 1, "complaint": 1,
		"unsubscribed": 1, "retrying": 1, "skipped": 1} {
		if count[outcome] != n {
			t.Errorf("CSV: %d rows %s, want %d", count[outcome], outcome, n)
		}
	}
	resp, body = b.get(path + "/addresses.csv?excel=1")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.HasPrefix(body, "\uFEFFemail;domain;outcome") {
		t.Errorf("Excel CSV starts %q", body[:min(40, len(body))])
	}

	resp, body = b.get(path + "/report.json")
	wantStatus(t, resp, body, http.StatusOK)
	checkContract(t, "page JSON", body)

	// The API: a bearer token, the same object; addresses on request.
	secret, _, err := h.st.CreateAPIToken(context.Background(), "rapports", store.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	api := h.browser()
	api.header.Set("Authorization", "Bearer "+secret)
	resp, body = api.get("/api/v1/campaigns/" + f.Campaign.UUID.String() + "/report")
	wantStatus(t, resp, body, http.StatusOK)
	checkContract(t, "API", body)
	resp, body = api.get("/api/v1/campaigns/" + f.Campaign.UUID.String()[:8] + "/report?addresses=problems&limit=3&offset=3")
	wantStatus(t, resp, body, http.StatusOK)
	var page struct {
		Addresses struct {
			Show          string
			Total, Offset int
			Items         []struct{ Email string }
		}
	}
	json.Unmarshal([]byte(body), &page)
	a := page.Addresses
	if a.Show != "problems" || a.Total != reporttest.Want.Affected || a.Offset != 3 || len(a.Items) != 3 ||
		a.Items[0].Email != reporttest.Email(reporttest.Complaint) {
		t.Errorf("API addresses page = %+v", page)
	}
	resp, body = api.get("/api/v1/campaigns/" + f.Campaign.UUID.String() + "/report?addresses=everything")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = h.browser().get("/api/v1/campaigns/" + f.Campaign.UUID.String() + "/report")
	wantStatus(t, resp, body, http.StatusUnauthorized)
	resp, body = api.get("/api/v1/reports/lists")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, `"Partenaires"`) || !strings.Contains(body, `"editions"`) {
		t.Errorf("API lists = %s", body)
	}
}

// checkContract checks the fields of "bulletin report --json" in body.
func checkContract(t *testing.T, what, body string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	w := reporttest.Want
	for name, want := range map[string]int{"recipients": w.Recipients, "sent": w.Sent, "failed": w.Failed, "skipped": w.Skipped,
		"pending": w.Pending, "bounced_hard": w.BouncedHard, "bounced_soft": w.BouncedSoft, "complaints": w.Complaints,
		"unsubscribed": w.Unsubscribed, "delivered": w.Delivered} {
		if n, ok := got[name].(float64); !ok || n != float64(want) {
			t.Errorf("%s: %s = %v, want %d", what, name, got[name], want)
		}
	}
}

func TestReportListsPage(t *testing.T) {
	t.Parallel()
	_, b, _ := reportHarness(t)
	resp, body := b.get("/admin/reports/lists")
	wantStatus(t, resp, body, http.StatusOK)
	doc := parseHTML(t, body)
	if n := doc.Find("svg.chart").Length(); n != 2 {
		t.Errorf("%d charts, want the sizes and the flows", n)
	}
	figs := doc.Find(".report-fig")
	if all, part := plain(figs.Eq(0).Text()), plain(figs.Eq(1).Text()); !strings.HasPrefix(all, "6") || !strings.HasPrefix(part, "6") ||
		!strings.Contains(part, "Partenaires") {
		t.Errorf("current figures = %q, %q; want 6 active in all and on Partenaires", all, part)
	}
	// The current quarter: 6 at the end, 10 new, 2 unsubscribed, 1 bounced,
	// 1 complained (no other departure: no column for them), 1 campaign.
	var cells []string
	doc.Find("#quarters").Parent().Find("tbody tr").First().Find("td").Each(func(_ int, c *goquery.Selection) {
		cells = append(cells, plain(c.Text()))
	})
	if got := strings.Join(cells, " "); !strings.HasPrefix(got, "6 +6 10 2 1 1 1 ") {
		t.Errorf("quarter row = %q", got)
	}
	for _, p := range []string{"/admin/reports/lists/quarters.csv", "/admin/reports/lists/editions.csv"} {
		resp, body := b.get(p)
		wantStatus(t, resp, body, http.StatusOK)
		if !strings.Contains(body, "Partenaires") && !strings.Contains(body, "Lettre n°42") {
			t.Errorf("%s = %s", p, body)
		}
	}
	resp, body = b.get("/admin/reports/lists/nothing.csv")
	wantStatus(t, resp, body, http.StatusNotFound)
}

func TestTrackingEndpoints(t *testing.T) {
	t.Parallel()
	h, _, f := reportHarness(t)
	ctx := context.Background()
	d := f.Deliveries[reporttest.Email(reporttest.Sent)]
	link := "https://mics34.example.org/agenda?x=1"
	click, _ := url.Parse(h.links.ClickURL(d.UUID, link))
	open, _ := url.Parse(h.links.OpenURL(d.UUID))
	b := h.browser()

	// Off by default: the reader gets the image and the page, nothing is counted.
	resp, body := b.get(open.RequestURI())
	wantStatus(t, resp, body, http.StatusOK)
	if resp.Header.Get("Content-Type") != "image/gif" || len(body) != len(pixel) {
		t.Errorf("pixel: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
	}
	resp, _ = b.get(click.RequestURI())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != link {
		t.Fatalf("click: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), link)
	}
	data, _ := h.st.CampaignReportData(ctx, f.Campaign.ID)
	if data.Tracking != nil {
		t.Fatal("tracking counted for a campaign that did not ask")
	}

	// On: counted, and on the report with the Apple caveat.
	h.setTracking(f.Campaign.ID, true)
	b.get(open.RequestURI())
	b.get(click.RequestURI())
	data, _ = h.st.CampaignReportData(ctx, f.Campaign.ID)
	if tc := data.Tracking; tc == nil || tc.Opened != 1 || tc.Clicked != 1 || tc.Links[0].URL != link {
		t.Errorf("tracking = %+v", data.Tracking)
	}
	ed := h.user("staff@example.org", store.RoleEditor)
	ed.header.Set("Accept-Language", "fr")
	_, page := ed.get("/admin/reports/campaigns/" + f.Campaign.UUID.String())
	if !strings.Contains(plain(page), "Apple Mail") || !strings.Contains(page, "https://mics34.example.org/agenda?x=1") {
		t.Error("the report of a tracked campaign lacks the opens, the links or the Apple caveat")
	}

	// Never an open redirect.
	for _, bad := range []string{
		"/t/c/" + strings.TrimPrefix(click.Path, "/t/c/") + "?u=" + url.QueryEscape("https://evil.example/"),
		"/t/c/" + strings.TrimPrefix(click.Path, "/t/c/"),
		"/t/c/00?u=" + url.QueryEscape(link),
		"/t/c/" + strings.TrimSuffix(strings.TrimPrefix(open.Path, "/t/o/"), ".gif") + "?u=" + url.QueryEscape(link),
	} {
		resp, _ := b.get(bad)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s: %d to %q, want 404 and no redirect", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestMetricsAndHealthz(t *testing.T) {
	t.Parallel()
	var met *metrics.Metrics
	h, _, _ := reportHarness(t, func(_ *config.Config, o *Options) {
		met = metrics.New(metrics.Options{Store: o.Store, Transport: "outbox test"})
		o.Metrics = met.Handler()
		o.Health["relay"] = met.Relay().HealthCheck
	})
	resp, body := h.browser().get("/metrics")
	wantStatus(t, resp, body, http.StatusOK)
	for _, want := range []string{
		"bulletin_messages_sent_total 7", "bulletin_messages_failed_total 1", "bulletin_queue_depth 1", "bulletin_queue_retrying 1",
		`bulletin_mailbox_events_total{kind="hard"} 1`, `bulletin_mailbox_events_total{kind="complaint"} 1`,
		`bulletin_deliveries{state="skipped"} 1`, "bulletin_relay_up 1", "bulletin_mailbox_watcher_enabled 0", "bulletin_store_up 1",
		`bulletin_relay_errors_total{kind="temporary",scope="relay"} 0`, "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A relay that refuses everything: counted, and /healthz says so.
	s := met.Relay().Wrap(failing{})
	s.Send(context.Background(), &outgoing.Message{})
	_, body = h.browser().get("/metrics")
	if !strings.Contains(body, `bulletin_relay_errors_total{kind="temporary",scope="relay"} 1`) || !strings.Contains(body, "bulletin_relay_up 0") {
		t.Errorf("/metrics after a relay failure:\n%s", grep(body, "bulletin_relay"))
	}
	resp, body = h.browser().get("/healthz")
	wantStatus(t, resp, body, http.StatusOK)
	var hz map[string]string
	json.Unmarshal([]byte(body), &hz)
	if hz["status"] != "degraded" || !strings.Contains(hz["relay"], "connection refused") || hz["mailbox"] != "off" || hz["store"] != "ok" {
		t.Errorf("healthz = %v", hz)
	}
	resp, body = h.browser().get("/healthz?strict=1")
	wantStatus(t, resp, body, http.StatusServiceUnavailable)
}

type failing struct{}

func (failing) Send(context.Context, *outgoing.Message) (outgoing.Receipt, error) {
	return outgoing.Receipt{}, &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay, Command: "connect",
		Message: "dial tcp 192.0.2.1:587: connection refused", Err: errors.New("connection refused")}
}

func (failing) Close() error { return nil }

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
