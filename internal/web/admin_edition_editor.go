package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// editorPage is the JSON the visual editor's script reads from the page
// (<script type="application/json" id="editor-data">).
type editorPage struct {
	Front       edition.Front       `json:"front"`
	Document    edition.Blocks      `json:"document"`
	Lists       []string            `json:"lists"`
	MediaURL    string              `json:"media_url"`
	MediaBase   string              `json:"media_base"`
	Messages    map[string]string   `json:"messages"`
	FieldErrors map[string][]string `json:"field_errors"`
	CSRF        string              `json:"csrf"`
}

// postedEdition returns the edition source of the posted form: from the
// visual editor's "document" when present (converted with the stored
// source as the original, so that unchanged blocks keep their text), else
// the Source tab's "source".
func postedEdition(r *http.Request, se *store.Edition) (string, *edition.Doc, error) {
	doc := r.PostFormValue("document")
	if strings.TrimSpace(doc) == "" {
		return postedSource(r), nil, nil
	}
	if len(doc) > 4*maxEditionSource {
		return "", nil, i18n.Errorf("editions.error.too_big")
	}
	d, err := edition.ParseDoc([]byte(doc))
	if err != nil {
		return "", nil, err
	}
	var orig *edition.Edition
	if se != nil && se.Source != "" {
		orig, _ = edition.Parse("edition", []byte(se.Source)) // nil when it does not parse: all canonical
	}
	src, err := d.Source(orig)
	if err != nil {
		return "", nil, err
	}
	return string(src), d, nil
}

// fillEditor sets the page data of the visual editor from d.Source, and
// maps the parse errors and the findings about front matter keys to their
// field.
func (s *Server) fillEditor(r *http.Request, sess *store.Session, d *editionData, parseErr error) {
	if d.Tab == "" {
		d.Tab = "visual"
	}
	pr := s.newPage(r, "", nil)
	keys := frontKeyLines(d.Source)
	d.FieldErrors = map[string][]string{}
	addAt := func(line int, msg string) {
		if k, ok := keys[line]; ok {
			d.FieldErrors[k] = append(d.FieldErrors[k], msg)
		}
	}
	if list, ok := parseErr.(edition.ErrorList); ok {
		for _, e := range list {
			addAt(e.Line, pr.Msg(e.Msg))
		}
	}
	for _, f := range d.Findings {
		if f.Message.Key == "check.no_preheader" {
			// The key is absent, so its finding points at no line.
			d.FieldErrors["preheader"] = append(d.FieldErrors["preheader"], pr.Msg(f.Message))
			continue
		}
		if i := strings.LastIndex(f.Where, ":"); i >= 0 {
			if n, err := strconv.Atoi(f.Where[i+1:]); err == nil {
				addAt(n, pr.Msg(f.Message))
			}
		}
	}
	page := editorPage{
		MediaURL:    "/admin/editions/" + d.Edition.Slug + "/media",
		MediaBase:   "/admin/editions/" + d.Edition.Slug + "/files/",
		Messages:    i18n.EditorMessages(pr.Lang()),
		FieldErrors: d.FieldErrors,
		CSRF:        sess.CSRF,
		Lists:       []string{},
		Document:    edition.Blocks{Blocks: []edition.DocBlock{}},
	}
	if ls, err := s.store.Lists(r.Context()); err == nil {
		for _, l := range ls {
			page.Lists = append(page.Lists, l.Name)
		}
	}
	if ed, err := campaign.ParseStored(&store.Edition{Slug: d.Edition.Slug, Source: d.Source, Dir: d.Edition.Dir}); err == nil {
		doc := edition.ToDoc(ed)
		page.Front, page.Document = doc.Front, doc.Document
	} else if d.posted != nil && d.Tab == "visual" {
		// Shown again as posted, with the errors by their field.
		page.Front, page.Document = d.posted.Front, d.posted.Document
	} else if d.Tab == "visual" {
		d.Tab = "source" // the visual editor cannot show a source that does not parse
	}
	j, err := json.Marshal(page)
	if err != nil {
		s.log.Error("web: editor data", "err", err)
		return
	}
	d.EditorData = template.JS(j)
}

// frontKeyLines maps the lines of a source's front matter to their key
// ("subject" at line 5), so that an error at a line shows by its field.
func frontKeyLines(src string) map[int]string {
	keys := map[int]string{}
	lines := strings.Split(src, "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return keys
	}
	for i := 1; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t\r")
		if l == "---" || l == "..." {
			break
		}
		if k, _, ok := strings.Cut(l, ":"); ok && k != "" && !strings.ContainsAny(k, " \t#-") {
			keys[i+1] = k
		}
	}
	return keys
}

// newEditionSource is the source of an edition started from its title
// alone in the console: the front matter in the canonical form, its
// subject the title until staff change it, and an empty body.
func newEditionSource(title string, today time.Time) string {
	d := &edition.Doc{Front: edition.Front{Title: title, Subject: title, Date: today.Format("2006-01-02")}}
	src, _ := d.Source(nil) // a document without blocks always writes
	return string(src)
}

// nextEdition starts a new edition from a past one ("Nouvelle édition à
// partir de…"): its structure with the text kept or emptied (form field
// "text": "keep" or "empty"), the date, quarter and number advanced, under
// a new slug; it opens in the editor. The new edition shares the old one's
// media folder, so that the images it keeps still show.
func (s *Server) nextEdition(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	ed, err := campaign.ParseStored(se)
	if err != nil {
		d := &editionData{Edition: se, Source: se.Source, TestTo: sess.User.Email, Tab: "source"}
		s.showEdition(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	doc, quarterOK := edition.Next(ed, r.PostFormValue("text") == "empty")
	src, err := doc.Source(nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := edition.Slugify(doc.Front.Quarter)
	if base == "" || !quarterOK {
		base = se.Slug + "-suite"
	}
	slug := base
	for i := 2; ; i++ {
		_, err := s.store.EditionBySlug(r.Context(), slug)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		slug = base + "-" + strconv.Itoa(i)
	}
	ne := &store.Edition{Slug: slug, Title: doc.Front.Title, Source: string(src), Dir: se.Dir}
	if _, err := s.store.SaveEdition(r.Context(), ne); err != nil {
		s.fail(w, r, err)
		return
	}
	q := url.Values{"from": {se.Slug}}
	if !quarterOK {
		q.Set("quarter", "unread")
	}
	http.Redirect(w, r, "/admin/editions/"+slug+"?"+q.Encode(), http.StatusSeeOther)
}

// nextNotice is the message an edition made by nextEdition opens with.
func nextNotice(pr *i18n.Printer, q url.Values, quarter string) string {
	from := q.Get("from")
	if from == "" {
		return ""
	}
	msg := pr.T("editor.next.done", from)
	if q.Get("quarter") == "unread" {
		msg += " " + pr.T("editor.next.quarter_unread", quarter)
	}
	return msg
}
