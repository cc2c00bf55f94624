package render

import (
	"strings"
	"testing"
)

// TestBlocks renders each kind of block alone and checks what a reader gets
// in both parts.
func TestBlocks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		html    []string
		text    []string
		htmlNot []string
		textNot []string
	}{
		{
			name: "markdown",
			body: "Du **gras**, une [page](https://example.org/p) et une liste :\n\n- un\n- deux\n\n## Sous-titre\n",
			html: []string{
				`<div class="md"><p style=`,
				`<strong>gras</strong>`,
				`<a href="https://example.org/p" style="color:#0f5c6e;text-decoration:underline">page</a>`,
				`<li style="margin:0 0 6px">un</li>`,
				`>Sous-titre</h2>`,
			},
			text: []string{"Du gras, une page [1] et une liste\u00a0:", "- un\n- deux", "Sous-titre\n----------", "[1] https://example.org/p"},
		},
		{
			name: "section",
			body: "# Sur le terrain en Hérault\n",
			html: []string{`<td class="row-section main"`, `<h2 class="section-title" style="margin:0;padding:0 0 10px;border-bottom:3px solid #b34d17;`, `>Sur le terrain en Hérault</h2>`},
			text: []string{strings.Repeat("=", 72) + "\nSUR LE TERRAIN EN HÉRAULT\n" + strings.Repeat("=", 72)},
		},
		{
			name: "edito",
			body: "::: edito title=\"Tous solidaires\" signature=\"Mme Florence GRANDVALET\" role=\"Chargée de mission\"\nCette année…\n:::\n",
			html: []string{`>Édito</p>`, `<h2 class="box-title"`, `>Tous solidaires</h2>`, `>Cette année…</p>`, `<span class="signature-name" style="color:#0f5c6e;font-weight:bold">Mme Florence GRANDVALET</span><br><span class="signature-role"`, `>Chargée de mission</span>`},
			text: []string{"ÉDITO\u00a0: Tous solidaires\n-----------------------\n\nCette année…\n\nMme Florence GRANDVALET\nChargée de mission"},
		},
		{
			name: "notice",
			body: "::: notice title=\"COVID-19\"\nNos bureaux sont fermés.\n:::\n",
			html: []string{`<td class="notice-cell" style=`, `border-left:5px solid #b34d17`, `>COVID-19</p>`, `>Nos bureaux sont fermés.</p>`},
			text: []string{"*** COVID-19 ***\nNos bureaux sont fermés."},
		},
		{
			name: "article with credit",
			body: "::: article title=\"Le Forum de l’achat public\" author=\"Olivier SALAS, Conseil départemental\"\nLe 27 février…\n:::\n",
			html: []string{`<h2 class="article-title"`, `>Le Forum de l’achat public</h2>`, `>Article rédigé par Olivier SALAS, Conseil départemental</p>`, `>Le 27 février…</p>`},
			text: []string{"Le Forum de l’achat public\n--------------------------\n[Article rédigé par Olivier SALAS, Conseil départemental]\n\nLe 27 février…"},
		},
		{
			name: "divider between articles",
			body: "::: article title=\"Un\"\na\n:::\n\n::: article title=\"Deux\"\nb\n:::\n",
			html: []string{`<div class="divider"`},
		},
		{
			name: "timeline",
			body: "::: timeline\n### 2010 : Création de la MICS 34\nLe Collectif IAE 34…\n\n### 2015\nAvec le recul…\n:::\n",
			html: []string{
				`<td class="tl-date" width="68" align="right" valign="top"`, `>2010</td>`,
				`<p class="tl-title"`, `>Création de la MICS 34</p>`, `>Le Collectif IAE 34…</p>`,
				`>2015</td>`, `>Avec le recul…</p>`,
			},
			text: []string{"2010 · Création de la MICS 34\nLe Collectif IAE 34…", "2015\nAvec le recul…"},
		},
		{
			name: "image with caption and link",
			body: "::: image src=\"https://cdn.example.org/infographie.png\" alt=\"Infographie 2019\" link=\"https://example.org/rapport\" width=\"400\"\nLes activités de *2019*.\n:::\n",
			html: []string{
				`<a href="https://example.org/rapport"`,
				`<img class="figure-img" src="https://cdn.example.org/infographie.png" alt="Infographie 2019" width="400" style="`,
				`max-width:400px`,
				`<p class="caption"`, `>Les activités de <em>2019</em>.</p>`,
			},
			text: []string{"[Image\u00a0: Infographie 2019]\nLes activités de 2019. [1]", "[1] https://example.org/rapport"},
		},
		{
			name: "markdown image",
			body: "![Photo du forum](https://cdn.example.org/forum.jpg)\n",
			html: []string{`<img src="https://cdn.example.org/forum.jpg" alt="Photo du forum" width="536" class="md-img" style="`, `width:100%;max-width:536px;height:auto"`},
			text: []string{"[Image\u00a0: Photo du forum]"},
		},
		{
			name: "qa",
			body: "::: qa title=\"Portrait chinois\"\n### Si j’étais un sens, je serais ?\nL’ouïe.\n\n### Si j’étais un outil, je serais ?\nInternet.\n:::\n",
			html: []string{`<h2 class="qa-heading"`, `>Portrait chinois</h2>`, `<p class="qa-q"`, ">Si j’étais un sens, je serais\u00a0?</p>", `<div class="md qa-a"`, `>L’ouïe.</p>`, `>Internet.</p>`},
			text: []string{"Portrait chinois\n----------------\n\nSi j’étais un sens, je serais\u00a0?\nL’ouïe.\n\nSi j’étais un outil, je serais\u00a0?\nInternet."},
		},
		{
			name: "button",
			body: "::: button href=\"https://example.org/enquete?id=1&lang=fr\"\nRépondre à l’enquête\n:::\n",
			html: []string{`<td class="btn-cell" align="center" style=`, `background-color:#0f5c6e`, `<a class="btn-link" href="https://example.org/enquete?id=1&amp;lang=fr" style="color:#ffffff;`, `>Répondre à l’enquête</a>`},
			text: []string{"Répondre à l’enquête\u00a0:\nhttps://example.org/enquete?id=1&lang=fr"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html, text := renderBody(t, tc.body, testOptions(), exampleRecipient())
			mustContain(t, "HTML", html, tc.html...)
			mustContain(t, "text", text, tc.text...)
			mustNotContain(t, "HTML", html, tc.htmlNot...)
			mustNotContain(t, "text", text, tc.textNot...)
		})
	}
}

// TestLayout checks what every message has, whatever the edition: the
// e-mail client essentials of item 2 of the issue.
func TestLayout(t *testing.T) {
	opts := testOptions()
	opts.LogoURL = "https://lettre.example.org/logo.png"
	opts.Website = "https://mics34.example.org"
	opts.Colors.Primary = "#123456"
	html, text := renderBody(t, "Bonjour.\n", opts, exampleRecipient())
	mustContain(t, "HTML", html,
		`<!DOCTYPE html><html lang="fr"`,
		`<meta name="color-scheme" content="light dark">`,
		`<table role="presentation" class="wrapper" width="100%"`,
		`max-width:600px`,
		`<!--[if mso]><table role="presentation" width="600" align="center"`,
		`<div class="preheader" style="display:none;`, `>Un aperçu`,
		`<img class="logo" src="https://lettre.example.org/logo.png" alt="MICS 34" width="180"`,
		`bgcolor="#123456"`, `background-color:#123456`,
		`<a href="https://www.facebook.com/mics34"`,
		`<a href="https://lettre.example.org/v/3f2a9c1e7b" style="text-decoration:underline;color:#5b6770">Voir la version en ligne</a>`,
		`<a href="https://lettre.example.org/u/3f2a9c1e7b" style="text-decoration:underline;color:#ffffff">Se désinscrire</a>`,
		`59 Avenue de Fès<br>34080 Montpellier`,
		`<a href="https://mics34.example.org"`,
		"<p style=\"margin:0 0 12px\">Bonjour Claire,</p>",
		`@media screen and (max-width: 620px)`, `@media (prefers-color-scheme: dark)`,
	)
	mustNotContain(t, "HTML", html, "<script", `rel="stylesheet"`, "SendinBlue", "Brevo", "BLTNSLOT", "data-premailer", `class="body" style="margin:0;padding:0;"`)
	if strings.Count(html, "<style") != 2 {
		t.Errorf("HTML has %d <style> blocks, want 2 (responsive and dark mode; the rest is inlined)", strings.Count(html, "<style"))
	}
	mustContain(t, "text", text,
		"Voir la version en ligne\u00a0: https://lettre.example.org/v/3f2a9c1e7b",
		"Lettre de test\n==============",
		"Bonjour Claire,",
		"Se désinscrire\u00a0: https://lettre.example.org/u/3f2a9c1e7b",
		"59 Avenue de Fès\n34080 Montpellier",
		"Facebook\u00a0: https://www.facebook.com/mics34",
	)
	for i, line := range strings.Split(text, "\n") {
		if n := len([]rune(line)); n > TextWidth && strings.Contains(line, " ") {
			t.Errorf("text line %d is %d characters, want at most %d: %q", i+1, n, TextWidth, line)
		}
	}
}

func TestGreetingFallback(t *testing.T) {
	html, text := renderBody(t, "x\n", testOptions(), Recipient{Email: "a@example.org"})
	mustContain(t, "HTML", html, ">Bonjour Madame, Monsieur,</p>")
	mustContain(t, "text", text, "Bonjour Madame, Monsieur,")

	html, _ = renderBody(t, "x\n", testOptions(), Recipient{})
	mustContain(t, "web view", html, "a été envoyée à ses abonnés.", `<a href="#" style="text-decoration:underline;color:#ffffff">Se désinscrire</a>`)
}

func TestTextWrap(t *testing.T) {
	long := strings.Repeat("mot ", 40)
	_, text := renderBody(t, long+"\n\n- "+long+"\n\n> "+long+"\n\nhttps://example.org/"+strings.Repeat("a", 90)+"\n", testOptions(), exampleRecipient())
	mustContain(t, "text", text,
		"\n- mot mot", "\n  mot mot", // list continuation indented under the text
		"\n> mot mot", // quote continuation keeps its mark
		"\nhttps://example.org/"+strings.Repeat("a", 90)+"\n", // a URL is never broken
	)
}
