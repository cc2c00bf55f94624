package web

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"bulletin/internal/store"
)

// TestSubscribersPager: the filter of the subscriber table is kept in the
// link to the next page and in the export link, rather than escaped whole
// into a query nobody reads ("list%3d…").
func TestSubscribersPager(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.list("Les Partenaires", false)
	for i := range 55 {
		h.subscriber(fmt.Sprintf("partenaire%02d@example.org", i), store.Active, "Les Partenaires")
	}
	h.subscriber("parti@example.org", store.Unsubscribed, "Les Partenaires")
	for i := range 60 {
		h.subscriber(fmt.Sprintf("autre%02d@example.org", i), store.Active)
	}
	admin := h.user("admin@example.org", store.RoleAdmin)

	const filter = "list=Les+Partenaires&status=active"
	resp, first := admin.get("/admin/subscribers?" + filter)
	wantStatus(t, resp, first, http.StatusOK)
	wantContains(t, first, "Page 1 sur 2",
		`href="/admin/subscribers?list=Les&#43;Partenaires&amp;status=active&amp;page=2"`,
		`href="/admin/subscribers/export?list=Les&#43;Partenaires&amp;status=active"`)

	// Follow the links as a browser would.
	link := func(page, prefix string) string {
		m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(prefix) + `[^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no link to %s", prefix)
		}
		return html.UnescapeString(m[1])
	}
	resp, second := admin.get(link(first, "/admin/subscribers?"))
	wantStatus(t, resp, second, http.StatusOK)
	wantContains(t, second, "Page 2 sur 2", `href="/admin/subscribers?list=Les&#43;Partenaires&amp;status=active&amp;page=1"`)
	if n := strings.Count(second, "<tr>") - 1; n != 5 {
		t.Errorf("page 2 has %d rows, want the last 5 of the 55 active partners", n)
	}
	for _, out := range []string{"autre", "parti@"} {
		if strings.Contains(second, out) {
			t.Errorf("page 2 lists %q, outside the filter", out)
		}
	}
	resp, export := admin.get(link(first, "/admin/subscribers/export?"))
	wantStatus(t, resp, export, http.StatusOK)
	if n := strings.Count(export, "partenaire"); n != 55 || strings.Contains(export, "autre") || strings.Contains(export, "parti@") {
		t.Errorf("export of the filter: %d partners, others %v", n, strings.Contains(export, "autre"))
	}
}
