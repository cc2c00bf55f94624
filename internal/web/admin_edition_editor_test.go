package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"bulletin/internal/store"
)

var editorDataRE = regexp.MustCompile(`(?s)<script type="application/json" id="editor-data">(.*?)</script>`)

// TestEditorSaveUnchangedKeepsSource loads the example edition into the
// visual editor's data, posts the document back unchanged, and finds the
// stored source byte for byte; to_source shows the converted text unsaved.
func TestEditorSaveUnchangedKeepsSource(t *testing.T) {
	h := newHarness(t)
	b := h.user("redaction@example.org", store.RoleEditor)
	src, err := os.ReadFile("../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	se := &store.Edition{Slug: "dix-ans", Title: "10 ans", Source: string(src)}
	if _, err := h.st.SaveEdition(context.Background(), se); err != nil {
		t.Fatal(err)
	}
	resp, body := b.get("/admin/editions/dix-ans")
	wantStatus(t, resp, body, http.StatusOK)
	m := editorDataRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no editor data in the page:\n%s", body)
	}
	var page struct {
		Front    json.RawMessage `json:"front"`
		Document json.RawMessage `json:"document"`
		Messages map[string]string
	}
	if err := json.Unmarshal([]byte(m[1]), &page); err != nil {
		t.Fatalf("editor data: %v\n%s", err, m[1])
	}
	if page.Messages["editor.media.alt_required"] == "" {
		t.Errorf("editor data has no messages")
	}
	doc := `{"front":` + string(page.Front) + `,"document":` + string(page.Document) + `}`
	edited := strings.Replace(doc, "Prenez soin de vous", "Prenez bien soin de vous", 1)
	resp, body = b.post("/admin/editions/dix-ans/preview", url.Values{"document": {edited}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Prenez bien soin de vous")
	resp, body = b.post("/admin/editions/dix-ans", url.Values{"document": {doc}, "action": {"to_source"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, html.EscapeString("::: timeline"))
	resp, body = b.post("/admin/editions/dix-ans", url.Values{"document": {doc}, "action": {"save"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	got, err := h.st.EditionBySlug(context.Background(), "dix-ans")
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != string(src) {
		t.Errorf("saving the unchanged document changed the source:\n%s", got.Source)
	}
}

// TestEditorMediaUpload: alt text is required, a wide photo is scaled to
// 1200 px, and the file lands in a folder made for a console edition.
func TestEditorMediaUpload(t *testing.T) {
	h := newHarness(t)
	h.cfg.Store.Path = t.TempDir() + "/bulletin.db"
	b := h.user("redaction@example.org", store.RoleEditor)
	se := &store.Edition{Slug: "console", Title: "Console", Source: "---\ntitle: Console\nsubject: Console\ndate: 2026-01-15\n---\n"}
	if _, err := h.st.SaveEdition(context.Background(), se); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 2400, 1600))); err != nil {
		t.Fatal(err)
	}
	uploadFile := func(alt string, file []byte) (*http.Response, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", b.csrf)
		mw.WriteField("alt", alt)
		fw, _ := mw.CreateFormFile("file", "Photo du Forum.png")
		fw.Write(file)
		mw.Close()
		return b.postRaw("/admin/editions/console/media", mw.FormDataContentType(), body.String(), h.ts.URL)
	}
	upload := func(alt string) (*http.Response, string) { return uploadFile(alt, img.Bytes()) }
	resp, body := upload("")
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "texte alternatif")
	resp, body = uploadFile("Un PDF", []byte("%PDF-1.4"))
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "PNG, JPEG ou GIF")
	// A PNG whose header says 20000×20000 (a few bytes can claim that).
	var tiny bytes.Buffer
	png.Encode(&tiny, image.NewGray(image.Rect(0, 0, 1, 1)))
	huge := tiny.Bytes()
	binary.BigEndian.PutUint32(huge[16:], 20000)
	binary.BigEndian.PutUint32(huge[20:], 20000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	resp, body = uploadFile("Immense", huge)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "20000×20000")
	resp, body = upload("Le forum")
	wantStatus(t, resp, body, http.StatusOK)
	var got struct {
		Src           string
		Width, Height int
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Src != "photo-du-forum.png" || got.Width != 1200 || got.Height != 800 {
		t.Errorf("upload = %+v, want photo-du-forum.png 1200×800", got)
	}
	resp, body = b.get("/admin/editions/console/files/" + got.Src)
	wantStatus(t, resp, body, http.StatusOK)
	cfg, _, err := image.DecodeConfig(bytes.NewReader([]byte(body)))
	if err != nil || cfg.Width != 1200 {
		t.Errorf("stored image: %v, width %d", err, cfg.Width)
	}
}

// TestEditorNextEdition starts the next letter from a past one and finds
// it open in the editor with its quarter advanced.
func TestEditorNextEdition(t *testing.T) {
	h := newHarness(t)
	b := h.user("redaction@example.org", store.RoleEditor)
	src := "---\ntitle: La lettre\nnumber: 4\nquarter: T4 2025\ndate: 2025-12-15\nsubject: La lettre\n---\n\n::: edito title=\"Édito\" signature=\"Marie DURAND\"\nLe texte d’hiver.\n:::\n"
	if _, err := h.st.SaveEdition(context.Background(), &store.Edition{Slug: "t4-2025", Title: "La lettre", Source: src}); err != nil {
		t.Fatal(err)
	}
	resp, body := b.post("/admin/editions/t4-2025/next", url.Values{"text": {"empty"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/admin/editions/t1-2026?from=t4-2025" {
		t.Fatalf("next: Location = %q", loc)
	}
	got, err := h.st.EditionBySlug(context.Background(), "t1-2026")
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, got.Source, "number: 5\n", "quarter: T1 2026\n", "date: 2026-03-15\n", `signature="Marie DURAND"`, "\n…\n")
	if bytes.Contains([]byte(got.Source), []byte("hiver")) {
		t.Errorf("emptied edition kept the text:\n%s", got.Source)
	}
	resp, body = b.get("/admin/editions/t1-2026?from=t4-2025")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "t4-2025")
}

// TestEditorFieldErrors: a problem with a front matter key shows by its
// field, in the visual tab, and nothing is saved; to_visual with a source
// that does not parse stays on the Source tab with its errors.
func TestEditorFieldErrors(t *testing.T) {
	h := newHarness(t)
	b := h.user("redaction@example.org", store.RoleEditor)
	src := "---\ntitle: T\nsubject: S\ndate: 2026-01-15\n---\n\nBonjour.\n"
	if _, err := h.st.SaveEdition(context.Background(), &store.Edition{Slug: "t", Title: "T", Source: src}); err != nil {
		t.Fatal(err)
	}
	doc := `{"front":{"title":"T","subject":"S","date":"2026-01-15","number":"dix"},"document":{"blocks":[{"id":"a","type":"paragraph","data":{"text":"Bonjour."}}]}}`
	resp, body := b.post("/admin/editions/t", url.Values{"document": {doc}, "action": {"save"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	m := editorDataRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the visual tab is not shown again:\n%s", body)
	}
	var page struct {
		FieldErrors map[string][]string `json:"field_errors"`
	}
	if err := json.Unmarshal([]byte(m[1]), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.FieldErrors["number"]) != 1 {
		t.Errorf("field errors = %v, want one for number", page.FieldErrors)
	}
	// A finding of the check about a field shows by it too.
	resp, body = b.get("/admin/editions/t")
	wantStatus(t, resp, body, http.StatusOK)
	m = editorDataRE.FindStringSubmatch(body)
	page.FieldErrors = nil
	if err := json.Unmarshal([]byte(m[1]), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.FieldErrors["preheader"]) != 1 {
		t.Errorf("field errors = %v, want the missing preheader", page.FieldErrors)
	}
	wantContains(t, body, `<p class="field-error">`)
	bad := "---\ntitle: T\nsubject: S\ndate: 15/01/2026\n---\n\nBonjour.\n"
	resp, body = b.post("/admin/editions/t", url.Values{"source": {bad}, "action": {"to_visual"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `name="source"`, "15/01/2026")
	got, _ := h.st.EditionBySlug(context.Background(), "t")
	if got.Source != src {
		t.Errorf("the source changed:\n%s", got.Source)
	}
}

// TestEditionListsPreselected: the lists an edition names are checked on
// the new campaign form and used by the API when none are given; a list
// that does not exist is a warning on the edition's page.
func TestEditionListsPreselected(t *testing.T) {
	h := newHarness(t)
	b := h.user("redaction@example.org", store.RoleEditor)
	h.list("Partenaires", false)
	h.list("Acheteurs", false)
	src := "---\ntitle: T\nsubject: S\ndate: 2026-01-15\npreheader: P\nlists: [Partenaires, Inconnue]\n---\n\nBonjour.\n"
	if _, err := h.st.SaveEdition(context.Background(), &store.Edition{Slug: "t", Title: "T", Source: src}); err != nil {
		t.Fatal(err)
	}
	resp, body := b.get("/admin/campaigns/new?edition=t")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `value="Partenaires" checked`)
	if bytes.Contains([]byte(body), []byte(`value="Acheteurs" checked`)) {
		t.Errorf("a list the edition does not name is checked")
	}
	resp, body = b.get("/admin/editions/t")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Inconnue")

	if _, err := h.st.SaveEdition(context.Background(), &store.Edition{Slug: "u", Title: "U",
		Source: "---\ntitle: U\nsubject: U\ndate: 2026-01-15\nlists: [Acheteurs]\n---\n\nBonjour.\n"}); err != nil {
		t.Fatal(err)
	}
	api := h.apiToken(store.RoleEditor)
	code, out := api.json(http.MethodPost, "/api/v1/campaigns", `{"edition":"u"}`)
	if code != http.StatusCreated {
		t.Fatalf("API create without lists = %d %v", code, out)
	}
	if lists, _ := out["lists"].([]any); len(lists) != 1 || lists[0] != "Acheteurs" {
		t.Errorf("API campaign lists = %v, want the edition's Acheteurs", out["lists"])
	}
}

// TestEditorCreateFromTitle: a new edition can start from its title alone,
// without any Markdown, and its source passes the parser.
func TestEditorCreateFromTitle(t *testing.T) {
	h := newHarness(t)
	b := h.user("redaction@example.org", store.RoleEditor)
	resp, body := b.post("/admin/editions", url.Values{"title": {"Lettre n° 12 : printemps"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/admin/editions/lettre-n-12-printemps?ok=edition_saved" {
		t.Errorf("Location = %q", loc)
	}
	se, err := h.st.EditionBySlug(context.Background(), "lettre-n-12-printemps")
	if err != nil {
		t.Fatal(err)
	}
	if want := "---\ntitle: \"Lettre n° 12 : printemps\"\ndate: 2026-01-15\nsubject: \"Lettre n° 12 : printemps\"\n---\n"; se.Source != want {
		t.Errorf("source = %q, want %q", se.Source, want)
	}
}

// TestEditorMediaOrientation: a phone photo stored sideways with an EXIF
// orientation is turned upright when it is stored (re-encoding drops the
// tag that told mail clients to turn it).
func TestEditorMediaOrientation(t *testing.T) {
	raw := image.NewRGBA(image.Rect(0, 0, 1600, 800))
	for y := 0; y < 100; y++ {
		for x := 0; x < 100; x++ {
			raw.Set(x, y, color.RGBA{R: 255, A: 255}) // red top-left, as stored
		}
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, raw, nil); err != nil {
		t.Fatal(err)
	}
	// APP1 Exif, big-endian TIFF, one entry: orientation 6 (turn 90° right).
	exif := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	app1 := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	photo := append(append([]byte{0xFF, 0xD8}, app1...), j.Bytes()[2:]...)
	if o := jpegOrientation(photo); o != 6 {
		t.Fatalf("jpegOrientation = %d, want 6", o)
	}
	out, w, h, err := scaleDown(photo, "jpeg", 6)
	if err != nil {
		t.Fatal(err)
	}
	if w != 800 || h != 1600 {
		t.Fatalf("scaleDown = %d×%d, want 800×1600 upright", w, h)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := img.At(790, 10).RGBA(); r < 0xc000 {
		t.Errorf("the stored top-left corner is not at the top right once turned")
	}
}
