package render

import (
	"strings"
	"testing"
)

// TestHostileEdition: what staff paste into an edition cannot run script or
// break out of an attribute.
func TestHostileEdition(t *testing.T) {
	body := `<script>alert(1)</script>

Un lien [piégé](javascript:alert(1)) et <img src=x onerror=alert(2)>.

::: article title="</h2><script>alert(3)</script>" author="Jean &quot;Jo&quot; O'Brien <jo@example.org>"
Texte.
:::

::: image src="https://example.org/a.png" alt="\" onerror=\"alert(4)" link="https://example.org/?a=1&b=2"
:::
`
	html, text := renderBody(t, body, testOptions(), exampleRecipient())
	mustNotContain(t, "HTML", html, "<script", "alert(1)", "onerror=alert", `onerror="alert`, "javascript:")
	mustContain(t, "HTML", html,
		`&lt;/h2&gt;&lt;script&gt;alert(3)&lt;/script&gt;</h2>`,
		`Article rédigé par Jean &amp;quot;Jo&amp;quot; O'Brien &lt;jo@example.org&gt;</p>`,
		`alt="&quot; onerror=&quot;alert(4)"`,
		`<a href="https://example.org/?a=1&amp;b=2"`,
	)
	mustContain(t, "text", text, `</h2><script>alert(3)</script>`) // plain text is not HTML: shown as written
}

// TestHostileRecipient: subscriber fields come from imports and sign-up
// forms; they are escaped for where they land, per message.
func TestHostileRecipient(t *testing.T) {
	opts := testOptions()
	tm, err := Load("", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tm.Prepare(testEdition(t, "x\n", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		r       Recipient
		html    []string
		htmlNot []string
		text    []string
		textNot []string
	}{
		{
			name:    "script in first name",
			r:       Recipient{FirstName: "<script>alert(1)</script>"},
			html:    []string{"Bonjour &lt;script&gt;alert(1)&lt;/script&gt;,"},
			htmlNot: []string{"<script>"},
			text:    []string{"Bonjour <script>alert(1)</script>,"},
		},
		{
			name: "quotes in names",
			r:    Recipient{FirstName: `Jean "Jo" O'Brien & fils`},
			html: []string{`Bonjour Jean "Jo" O'Brien &amp; fils,`},
			text: []string{`Bonjour Jean "Jo" O'Brien & fils,`},
		},
		{
			name:    "newline in name cannot add lines",
			r:       Recipient{FirstName: "Claire\r\nBcc: x@example.org"},
			text:    []string{"Bonjour Claire  Bcc: x@example.org,"},
			textNot: []string{"\nBcc:"},
		},
		{
			name:    "javascript unsubscribe URL",
			r:       Recipient{UnsubscribeURL: "javascript:alert(1)"},
			html:    []string{`<a href="#" style="text-decoration:underline;color:#ffffff">Se désinscrire</a>`},
			htmlNot: []string{"javascript:"},
		},
		{
			name:    "quote in URL cannot leave the attribute",
			r:       Recipient{UnsubscribeURL: `https://example.org/u/a"onmouseover="alert(1)`, WebViewURL: "https://example.org/v?a=1&b=2"},
			html:    []string{`href="https://example.org/u/a%22onmouseover=%22alert(1)"`, `href="https://example.org/v?a=1&amp;b=2"`},
			htmlNot: []string{`"onmouseover`},
		},
		{
			name: "quotes in address",
			r:    Recipient{Email: `"o'hara"@example.org`},
			html: []string{`a été envoyée à "o'hara"@example.org.`},
		},
		{
			name: "invalid UTF-8",
			r:    Recipient{FirstName: "Cl\xffaire"},
			html: []string{"Bonjour Cl\uFFFDaire,"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := p.Render(tc.r)
			mustContain(t, "HTML", string(m.HTML), tc.html...)
			mustNotContain(t, "HTML", string(m.HTML), tc.htmlNot...)
			mustContain(t, "text", string(m.Text), tc.text...)
			mustNotContain(t, "text", string(m.Text), tc.textNot...)
		})
	}
}

// TestSlotContexts checks the escaping of recipient fields in each place a
// layout can put them, including a query value inside a URL.
func TestSlotContexts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HTMLFile, `<!DOCTYPE html><html><head><title>{{.Recipient.FirstName}}</title></head><body>
<p title="{{.Recipient.FullName "Madame, Monsieur"}}">{{.Recipient.Attr "VILLE" "Hérault"}}</p>
<a href="https://example.org/prefs?email={{.Recipient.Email}}&amp;x=1">prefs</a>
<a href="{{.Recipient.WebViewURL}}">web</a>
</body></html>`)
	writeFile(t, dir, TextFile, `{{.Recipient.FullName "?"}} / {{.Recipient.Attr "VILLE" "Hérault"}}`)
	tm, err := Load(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := tm.Prepare(testEdition(t, "x\n", nil))
	if err != nil {
		t.Fatal(err)
	}
	m := p.Render(Recipient{
		FirstName: `<Jo>`, LastName: `"D'Arc"`, Email: "jo+news@example.org",
		Attributes: map[string]string{"VILLE": "Sète & Agde"},
		WebViewURL: "https://example.org/v/é",
	})
	mustContain(t, "HTML", string(m.HTML),
		"<title>&lt;Jo&gt;</title>",
		`<p title="<Jo> &quot;D'Arc&quot;">Sète &amp; Agde</p>`,
		`href="https://example.org/prefs?email=jo%2Bnews%40example.org&amp;x=1"`,
		`href="https://example.org/v/%C3%A9"`,
	)
	if got, want := string(m.Text), "<Jo> \"D'Arc\" / Sète & Agde\n"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	m = p.Render(Recipient{})
	mustContain(t, "HTML", string(m.HTML), `<p title="Madame, Monsieur">Hérault</p>`, `href="#"`)
}

func TestSlotInUnsafePlaceIsATemplateError(t *testing.T) {
	for _, tmpl := range []string{
		`<html><head><style>p { color: {{.Recipient.Attr "C"}} }</style></head><body><p>x</p></body></html>`,
		`<html><head><style data-premailer="ignore">p { color: {{.Recipient.Attr "C"}} }</style></head><body></body></html>`,
		`<html><body><p style="color:{{.Recipient.Attr "C"}}">x</p></body></html>`,
		`<html><body><p onclick="f('{{.Recipient.Email}}')">x</p></body></html>`,
	} {
		dir := t.TempDir()
		writeFile(t, dir, HTMLFile, tmpl)
		tm, err := Load(dir, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.Prepare(testEdition(t, "x\n", nil)); err == nil || !strings.Contains(err.Error(), "cannot be escaped") {
			t.Errorf("Prepare(%q) error = %v, want 'cannot be escaped'", tmpl, err)
		}
	}
}

func TestReservedMarkerInEdition(t *testing.T) {
	tm, err := Load("", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Prepare(testEdition(t, "BLTNSLOT001X\n", nil)); err == nil {
		t.Errorf("Prepare with the slot marker in the text = nil error, want one")
	}
}
