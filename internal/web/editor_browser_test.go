package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"bulletin/internal/campaign"
	"bulletin/internal/cli"
	"bulletin/internal/store"
	"bulletin/internal/web"
)

// editorSession drives the edition page in Chromium for one test, failing
// it on the first step that does not happen.
type editorSession struct {
	t   *testing.T
	ctx context.Context
	d   *liveDaemon

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newEditorSession(t *testing.T) *editorSession {
	ctx := web.Chrome(t)
	d := startDaemon(t)
	e := &editorSession{t: t, ctx: ctx, d: d}
	// Every message of the console, kept to check that the CSP refused
	// nothing and that no script failed.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			e.mu.Lock()
			e.console = append(e.console, m)
			e.mu.Unlock()
		}
	}()
	bg := context.Background()
	if err := d.st.CreateUser(bg, &store.User{Email: "nouvelle@mics34.fr", Name: "Camille N.", Role: store.RoleEditor}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Partenaires", "Acheteurs publics"} {
		if err := d.st.CreateList(bg, &store.List{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	e.do("login", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(d.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	e.do("login",
		chromedp.SendKeys(chromedp.CSS("#email"), "nouvelle@mics34.fr"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".shell")))
	return e
}

func (e *editorSession) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		if png, err := chromedp.Run(e.ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(os.TempDir(), "editor-failure.png"), png, 0o644)
		}
		e.t.Fatalf("%s: %v (page: %s)", what, err, filepath.Join(os.TempDir(), "editor-failure.png"))
	}
}

// eval runs a script in the page and returns its value.
func eval[T any](e *editorSession, what, script string) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// byLabel is the form control whose <label> starts with text, the way a
// person finds a field (an XPath search: labels, not CSS paths).
func byLabel(text string, within ...string) chromedp.Search {
	scope := "//"
	if len(within) > 0 {
		scope = within[0] + "//"
	}
	return chromedp.Search(fmt.Sprintf(`%s*[@id=%slabel[starts-with(normalize-space(.), %q)]/@for]`, scope, scope, text))
}

// button is the button (or link styled as one) that reads text.
func button(text string, within ...string) chromedp.Search {
	scope := "//"
	if len(within) > 0 {
		scope = within[0] + "//"
	}
	return chromedp.Search(fmt.Sprintf(`%s*[self::button or self::label or self::a][normalize-space(.)=%q]`, scope, text))
}

// pressEnter presses Enter as a keyboard does (keydown with its text), so
// that a handler that cancels the keydown cancels the key: chromedp's
// KeyEvent sends the text in a separate event that nothing can cancel.
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text, p.UnmodifiedText = "\r", "\r"
		}
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, p); err != nil {
			return err
		}
	}
	return nil
})

// addBlock opens the "+" menu of the editor that holds the element at
// scope (the outer editor, or a card's nested one), filters it by the
// block's name and picks it with the keyboard.
func (e *editorSession) addBlock(plus, name string) {
	e.t.Helper()
	e.do("add "+name,
		chromedp.Click(chromedp.CSS(plus)),
		chromedp.WaitVisible(chromedp.CSS(".ce-popover--opened .cdx-search-field__input")),
		chromedp.KeyEvent(name),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.KeyEvent(kb.ArrowDown),
		pressEnter,
		chromedp.Sleep(500*time.Millisecond))
}

// selectText selects text in the first element of sel holding it, as a
// double-click or a drag over it would.
func (e *editorSession) selectText(sel, text string) {
	e.t.Helper()
	ok := eval[bool](e, "select "+text, fmt.Sprintf(`(() => {
		for (const root of document.querySelectorAll(%q)) {
			const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
			for (let n = w.nextNode(); n; n = w.nextNode()) {
				const i = n.data.indexOf(%q);
				if (i < 0) continue;
				const r = document.createRange();
				r.setStart(n, i);
				r.setEnd(n, i + %d);
				getSelection().removeAllRanges();
				getSelection().addRange(r);
				return true;
			}
		}
		return false;
	})()`, sel, text, len([]rune(text))))
	if !ok {
		e.t.Fatalf("no %q to select in %s", text, sel)
	}
	e.do("selection", chromedp.Sleep(400*time.Millisecond))
}

// save submits the edition form with its "Enregistrer" button and waits
// for the page the server answers.
func (e *editorSession) save() {
	e.t.Helper()
	e.do("save", chromedp.Func(markPage), chromedp.Click(button("Enregistrer")))
	waitNewPage(e.t, e.ctx)
	e.waitEditor()
}

// waitEditor waits until the visual editor has loaded its document.
func (e *editorSession) waitEditor() {
	e.t.Helper()
	e.do("editor ready", chromedp.WaitReady(chromedp.CSS(`#visual[data-ready="true"]`)))
}

// problems returns what the console said that shows a fault: a refusal
// of the CSP, an exception, an error.
func (e *editorSession) problems() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.console {
		if strings.HasSuffix(m.URL, "/favicon.ico") { // the console has none
			continue
		}
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String()+" "+m.URL)
		}
	}
	return out
}

// photo writes a 2400×1600 JPEG, the size of a phone's photo.
func photo(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 2400, 1600))
	for y := 0; y < 1600; y++ {
		for x := 0; x < 2400; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 10), uint8(y / 7), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "chantier.jpg")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEditorNewStaffMember is a new member of staff making an edition in
// the visual editor without typing any Markdown, in Chromium against the
// real daemon: front matter, an edito with a bold word and a link, an
// article with an uploaded photo, a button; saved, reopened, previewed at
// phone width, sent as a test to the outbox; the stored source passes
// "bulletin edition check".
func TestEditorNewStaffMember(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEditorSession(t)
	d := e.d

	// A new edition from its title alone.
	e.do("new edition",
		chromedp.Navigate(d.base+"/admin/editions"),
		chromedp.SendKeys(byLabel("Titre de la nouvelle édition"), "Lettre n° 11 : le printemps"),
		chromedp.Func(markPage),
		chromedp.Click(button("Créer et ouvrir l’éditeur")))
	waitNewPage(t, e.ctx)
	e.waitEditor()
	slug := strings.TrimPrefix(eval[string](e, "slug", `location.pathname`), "/admin/editions/")

	// The front matter, field by field.
	for _, f := range []struct{ label, value string }{
		{"Numéro", "11"},
		{"Trimestre", "2e trimestre 2020"},
		{"Texte d’aperçu", "Le printemps de la MICS 34 : un édito, un chantier en photos."},
	} {
		e.do("front "+f.label, chromedp.SendKeys(byLabel(f.label), f.value))
	}
	e.do("subject", chromedp.Clear(byLabel("Objet du mail")), chromedp.SendKeys(byLabel("Objet du mail"), "La lettre de la MICS 34 : le printemps"))
	e.do("date", chromedp.SetValue(byLabel("Date"), "2020-06-15"))
	e.do("lists", chromedp.Click(button("Partenaires", `//*[@id="front-lists"]`)))

	// An edito: title, signature, role, then its text with a bold word
	// and a link, made with the inline toolbar.
	e.do("first block", chromedp.Click(chromedp.CSS("#editor .ce-paragraph")))
	e.addBlock("#editor .ce-toolbar__plus", "Édito")
	e.do("edito fields",
		chromedp.KeyEvent("Un printemps solidaire"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("Mme Florence GRANDVALET"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("Chargée de mission"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("Ce trimestre, la MICS 34 accueille de nouveaux partenaires. Voir le programme"))
	e.selectText(".card-edito .ce-paragraph", "MICS 34")
	e.do("bold", chromedp.Click(chromedp.CSS(".ce-popover--inline [data-item-name=bold]")))
	e.selectText(".card-edito .ce-paragraph", "le programme")
	e.do("link",
		chromedp.Click(chromedp.CSS(".ce-popover--inline [data-item-name=link]")),
		chromedp.WaitVisible(chromedp.CSS(".ce-inline-tool-input")),
		chromedp.KeyEvent("https://mics34.example.org/programme"),
		pressEnter)

	// An article after it, with a photo in its text.
	e.do("focus edito", chromedp.Click(chromedp.CSS(".card-edito .card-kind")))
	e.addBlock("#editor > .codex-editor > .ce-toolbar .ce-toolbar__plus", "Article")
	e.do("article fields",
		chromedp.KeyEvent("Un chantier d’insertion à Bédarieux"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("Nadia BENALI, Insertion 34"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("Douze personnes ont rénové la passerelle du village."))
	e.do("article text", chromedp.Click(chromedp.CSS(".card-article .ce-paragraph")))
	e.addBlock(".card-article .ce-toolbar__plus", "Image")
	e.do("upload",
		chromedp.SetUploadFiles(chromedp.CSS(".card-image input[type=file]"), []string{photo(t)}),
		chromedp.WaitVisible(byLabel("Texte alternatif", `//*[contains(@class,"alt-ask")]`)),
		chromedp.SendKeys(byLabel("Texte alternatif", `//*[contains(@class,"alt-ask")]`), "L’équipe du chantier sur la passerelle rénovée"),
		chromedp.Click(button("Envoyer l’image")),
		chromedp.WaitVisible(chromedp.CSS(".card-image img.card-preview")))
	if got := eval[string](e, "preview", `document.querySelector(".card-image img.card-preview").naturalWidth + "×" + document.querySelector(".card-image img.card-preview").naturalHeight`); got != "1200×800" {
		t.Errorf("the uploaded photo shows as %s, want 1200×800 (scaled down)", got)
	}

	// A button at the end.
	e.do("focus article", chromedp.Click(chromedp.CSS(".card-article > .card-head .card-kind")))
	e.addBlock("#editor > .codex-editor > .ce-toolbar .ce-toolbar__plus", "Bouton")
	e.do("button fields",
		chromedp.KeyEvent("Lire la lettre en ligne"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("https://mics34.example.org/lettre-11"))
	e.save()
	if p := eval[string](e, "errors", `(document.querySelector("[data-edition-errors]") || {}).textContent || ""`); p != "" {
		t.Fatalf("saving showed errors: %s", p)
	}

	// What was stored: the blocks, the photo scaled down with its alt text.
	se, err := d.st.EditionBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	src := se.Source
	for _, want := range []string{
		"number: 11", "2e trimestre 2020", "date: 2020-06-15", "Partenaires",
		"::: edito", "Un printemps solidaire", "Mme Florence GRANDVALET", "**MICS 34**",
		"[le programme](https://mics34.example.org/programme)",
		"::: article", "Un chantier d’insertion à Bédarieux", "::: image", "L’équipe du chantier sur la passerelle rénovée",
		"::: button", "https://mics34.example.org/lettre-11", "Lire la lettre en ligne",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("stored source lacks %q:\n%s", want, src)
		}
	}
	srcName := regexp.MustCompile(`src="([^"]+)"`).FindStringSubmatch(src)
	if srcName == nil {
		t.Fatalf("no image in the stored source:\n%s", src)
	}
	f, err := os.Open(filepath.Join(se.Dir, srcName[1]))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != 1200 {
		t.Errorf("stored photo: %d px wide (%v), want 1200", cfg.Width, err)
	}

	// The real "bulletin edition check" on the stored source, next to its
	// images.
	file := filepath.Join(se.Dir, "edition.md")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := cli.Run(context.Background(), []string{"--config", filepath.Join(d.dir, "config.yaml"), "edition", "check", file}, &out, &errOut); err != nil {
		t.Errorf("edition check: %v\n%s%s\n%s", err, out.String(), errOut.String(), src)
	}

	// Reopened, the page shows the same blocks.
	e.do("reopen", chromedp.Navigate(d.base+"/admin/editions/"+slug))
	e.waitEditor()
	got := eval[string](e, "blocks", `[...document.querySelectorAll("#editor > .codex-editor > .codex-editor__redactor > .ce-block")].map(b => {
		const c = b.querySelector(".card");
		return c ? c.className.replace("card card-", "") : b.querySelector(".ce-block__content > *").className;
	}).join(",")`)
	if got != "edito,article,button" {
		t.Errorf("reopened blocks = %s, want edito,article,button", got)
	}
	if html := eval[string](e, "edito text", `document.querySelector(".card-edito .ce-paragraph").innerHTML`); !strings.Contains(html, "<b>MICS 34</b>") || !strings.Contains(html, `<a href="https://mics34.example.org/programme">le programme</a>`) {
		t.Errorf("reopened edito text = %s", html)
	}
	if alt := eval[string](e, "image alt", `document.querySelector(".card-image img.card-preview").alt`); alt != "L’équipe du chantier sur la passerelle rénovée" {
		t.Errorf("reopened image alt = %q", alt)
	}

	// The preview at phone width shows the edition.
	e.do("phone", chromedp.Click(button("Téléphone")), chromedp.Sleep(300*time.Millisecond))
	if w := eval[float64](e, "frame width", `document.getElementById("html").getBoundingClientRect().width`); w != 390 {
		t.Errorf("phone preview is %v px wide, want 390", w)
	}
	if txt := eval[string](e, "frame text", `document.getElementById("html").contentDocument.body.innerText`); !strings.Contains(txt, "Un printemps solidaire") {
		t.Errorf("the preview frame does not show the edito: %.300q", txt)
	}

	// A test to the outbox.
	before := len(d.emls(t))
	e.do("test send", chromedp.Func(markPage), chromedp.Click(button("Envoyer un test")))
	waitNewPage(t, e.ctx)
	after := d.emls(t)
	if len(after) != before+1 {
		t.Fatalf("outbox: %d messages, want %d", len(after), before+1)
	}
	eml, _ := os.ReadFile(after[len(after)-1])
	if !strings.Contains(string(eml), "[TEST]") || !strings.Contains(string(eml), "nouvelle@mics34.fr") {
		t.Errorf("test message:\n%.600s", eml)
	}
	if p := e.problems(); len(p) > 0 {
		t.Errorf("the console reported:\n%s", strings.Join(p, "\n"))
	}
}

// TestEditorKeepsExampleUnchanged loads the example edition in the visual
// editor and saves it unchanged: the stored source is the same bytes.
func TestEditorKeepsExampleUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEditorSession(t)
	se, _, _, err := campaign.AddEdition(context.Background(), e.d.st, "../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	e.do("open", chromedp.Navigate(e.d.base+"/admin/editions/"+se.Slug))
	e.waitEditor()
	if n := eval[int](e, "cards", `document.querySelectorAll("#editor .card").length`); n < 8 {
		t.Errorf("the example shows %d cards", n)
	}
	e.save()
	after, err := e.d.st.EditionBySlug(context.Background(), se.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if after.Source != se.Source {
		t.Errorf("saved unchanged, the source changed:\n%s", firstDiff(se.Source, after.Source))
	}
	if p := e.problems(); len(p) > 0 {
		t.Errorf("the console reported:\n%s", strings.Join(p, "\n"))
	}
	if web.Shots() {
		e.do("desktop", chromedp.EmulateViewport(1280, 1400), chromedp.Sleep(500*time.Millisecond))
		shootEditor(t, e, "admin-editor")
		e.do("mobile", chromedp.EmulateViewport(390, 1600), chromedp.Sleep(500*time.Millisecond))
		shootEditor(t, e, "admin-editor-mobile")
	}
}

// firstDiff shows where two texts part.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %q\n+ %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

// shootEditor saves the top of the page (a whole edition's cards run to
// many screens) into docs/screenshots/name.png.
func shootEditor(t *testing.T, e *editorSession, name string) {
	t.Helper()
	eval[bool](e, "scroll", `window.scrollTo(0, 0), true`)
	png, err := chromedp.Run(e.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("../../docs/screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
