package render

import (
	"net/url"
	"strings"
	"testing"
)

// A tracked edition: each http(s) link of the HTML part goes through
// ClickURL and a pixel ends the body; the recipient's own links, other
// schemes and the plain-text part are left alone. Without the hooks, it
// renders exactly as Prepare does.
func TestPrepareTracked(t *testing.T) {
	tm, ed := loadExample(t, "https://lettre.example.org")
	plain, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	tracked, err := tm.PrepareTracked(ed)
	if err != nil {
		t.Fatal(err)
	}
	r := exampleRecipient()
	want, got := plain.Render(r), tracked.Render(r)
	if string(got.HTML) != string(want.HTML) || string(got.Text) != string(want.Text) {
		t.Fatal("PrepareTracked without OpenURL nor ClickURL renders otherwise than Prepare")
	}

	var seen []string
	r.OpenURL = "https://lettre.example.org/t/o/abc.gif"
	r.ClickURL = func(link string) string {
		seen = append(seen, link)
		return "https://lettre.example.org/t/c/tok?u=" + url.QueryEscape(link)
	}
	m := tracked.Render(r)
	html := string(m.HTML)
	if len(seen) == 0 {
		t.Fatal("ClickURL was never called")
	}
	for _, link := range seen {
		if strings.Contains(html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Errorf("%s is in the HTML as written", link)
		}
		if strings.Contains(link, "/u/") || strings.Contains(link, "/v/") || !strings.HasPrefix(link, "http") {
			t.Errorf("ClickURL(%q): a recipient field or a non-web link went through", link)
		}
	}
	mustContain(t, "tracked HTML", html,
		`href="https://lettre.example.org/t/c/tok?u=https%3A%2F%2Fwww.facebook.com%2Fmics34"`,
		`<img src="https://lettre.example.org/t/o/abc.gif" width="1" height="1" alt=""`,
		`href="`+r.UnsubscribeURL+`"`, `href="`+r.WebViewURL+`"`)
	if i, j := strings.Index(html, "/t/o/abc.gif"), strings.LastIndex(html, "</body>"); i < 0 || i > j {
		t.Error("the pixel is not at the end of the body")
	}
	if string(m.Text) != string(want.Text) {
		t.Error("tracking changed the plain-text part")
	}
	// The other ways to render fill the same slots.
	if s, _ := tracked.RenderStrings(r); s != html {
		t.Error("RenderStrings differs from Render")
	}
	var b strings.Builder
	if err := tracked.WriteHTML(&b, r); err != nil || b.String() != html {
		t.Errorf("WriteHTML differs from Render (%v)", err)
	}

	// Still cheap per recipient: no parsing, and no allocation but what
	// ClickURL itself makes.
	r.ClickURL = func(string) string { return "https://lettre.example.org/t/c/tok" }
	dst := tracked.AppendHTML(nil, r)
	if n := testing.AllocsPerRun(100, func() { dst = tracked.AppendHTML(dst[:0], r) }); n != 0 {
		t.Errorf("AppendHTML of a tracked edition allocates %v times per message, want 0", n)
	}
}
