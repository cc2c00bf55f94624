package render_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"bulletin/internal/edition"
	"bulletin/internal/render"
)

// What `bulletin edition check` and `bulletin edition render` do, and what a
// campaign does once per edition and then once per recipient.
func Example() {
	dir, _ := os.MkdirTemp("", "edition")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "edition.md")
	os.WriteFile(path, []byte(`---
title: Lettre de printemps
date: 2026-04-15
subject: "La lettre de la MICS 34 : printemps 2026"
preheader: Les nouvelles du trimestre
---

::: notice title="À noter"
Nos bureaux ferment le 1er mai.
:::
`), 0o644)

	ed, err := edition.ParseFile(path) // errors are "file:line: why"
	if err != nil {
		log.Fatal(err)
	}
	tm, err := render.Load("templates", render.Options{
		Organisation: "MICS 34",
		Address:      []string{"59 Avenue de Fès", "34080 Montpellier"},
		PublicURL:    "https://lettre.example.org",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range render.Check(tm, ed) {
		fmt.Println(f) // "edition.md:12: error: …"
	}
	p, err := tm.Prepare(ed) // once per edition
	if err != nil {
		log.Fatal(err)
	}
	m := p.Render(render.Recipient{ // once per recipient
		Email:          "claire@example.org",
		FirstName:      "Claire",
		UnsubscribeURL: "https://lettre.example.org/u/abc",
		WebViewURL:     "https://lettre.example.org/v/abc",
	})
	fmt.Println(p.Subject())
	fmt.Println(strings.Contains(string(m.HTML), "Bonjour Claire,"))
	fmt.Println(strings.Contains(string(m.Text), "*** À NOTER ***\nNos bureaux ferment le 1er mai."))
	// Output:
	// La lettre de la MICS 34 : printemps 2026
	// true
	// true
}
