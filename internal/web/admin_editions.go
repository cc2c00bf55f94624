package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"bulletin/internal/campaign"
	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// maxEditionSource bounds an edition's source posted from the console.
const maxEditionSource = 1 << 20

type editionsData struct {
	Editions []*store.Edition
	Source   string
	Errors   []i18n.Message // the parser's, one per problem, with its line
}

// editionsPage lists the editions, with a form to paste a new one.
func (s *Server) editionsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	src := strings.Replace(newEditionTemplate, "DATE", s.now().In(s.loc).Format("2006-01-02"), 1)
	s.showEditions(w, r, sess, http.StatusOK, editionsData{Source: src})
}

func (s *Server) showEditions(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d editionsData) {
	var err error
	if d.Editions, err = s.store.Editions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, code, "admin/editions", s.adminPage(r, sess, "editions", "editions.title", d))
}

// newEditionTemplate is the source a new edition starts from.
const newEditionTemplate = `---
title: Lettre d’information n° 1
subject: "La lettre : n° 1"
date: DATE
preheader: Les nouvelles du trimestre
---

::: edito title="Édito" signature="Prénom NOM"
Le mot de la présidente.
:::

# Sur le terrain

::: article title="Un titre"
Le texte de l’article.
:::
`

// postedSource returns the edition source of the posted form. Browsers
// send a textarea's lines with CRLF ends; an edition file has LF, as one
// added with "bulletin edition add" does.
func postedSource(r *http.Request) string {
	return strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n")
}

// parseErrors lists an edition's parse errors, each with its line, for a
// page to show in the reader's language.
func parseErrors(err error) []i18n.Message {
	var list edition.ErrorList
	if errors.As(err, &list) {
		out := make([]i18n.Message, len(list))
		for i, e := range list {
			out[i] = e.Message()
		}
		return out
	}
	return []i18n.Message{i18n.MessageOf(err)}
}

// inEnglish writes messages in English, for the API.
func inEnglish(msgs []i18n.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.String()
	}
	return out
}

// createEdition stores a new edition pasted in the console. Its slug comes
// from its front matter or its title; it has no media folder (images are
// then full URLs; an edition with images next to it is added with
// "bulletin edition add FILE").
func (s *Server) createEdition(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	src := postedSource(r)
	if title := strings.TrimSpace(r.PostFormValue("title")); strings.TrimSpace(src) == "" && title != "" {
		src = newEditionSource(title, s.now().In(s.loc))
	}
	d := editionsData{Source: src}
	if len(src) > maxEditionSource {
		d.Errors = []i18n.Message{i18n.M("editions.error.too_big")}
		s.showEditions(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	ed, err := edition.Parse("edition", []byte(src))
	if err != nil {
		d.Errors = parseErrors(err)
		s.showEditions(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	slug := ed.Slug
	if slug == "" || slug == "edition" {
		slug = edition.Slugify(ed.Title)
	}
	if slug == "" {
		d.Errors = []i18n.Message{i18n.M("editions.error.no_slug")}
		s.showEditions(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	if _, err := s.store.EditionBySlug(r.Context(), slug); err == nil {
		d.Errors = []i18n.Message{i18n.M("editions.error.exists", slug)}
		s.showEditions(w, r, sess, http.StatusConflict, d)
		return
	}
	se := &store.Edition{Slug: slug, Title: ed.Title, Source: src}
	if _, err := s.store.SaveEdition(r.Context(), se); err != nil {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/editions/"+slug, "edition_saved")
}

type editionData struct {
	Edition  *store.Edition
	Source   string
	Errors   []i18n.Message
	Findings []render.Finding
	Blocking bool
	Text     string // the plain-text part, as a reader's mail client shows it
	CanSend  bool   // test sends possible (a transport is configured)
	TestTo   string
	Result   []string // outcome of a test send, one line per address

	// The visual editor (admin_edition_editor.go).
	EditorData  template.JS         // the editor's page data, JSON
	Tab         string              // "visual" or "source": the tab shown
	FieldErrors map[string][]string // problems by front matter key, translated
	Notice      string              // a translated message above the editor
	posted      *edition.Doc        // the visual editor's document, when it was posted
}

// editionOf returns the edition of the {slug} path value, or answers 404.
func (s *Server) editionOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.Edition, bool) {
	se, err := s.store.EditionBySlug(r.Context(), r.PathValue("slug"))
	return adminFound(s, w, r, sess, se, err)
}

// editionPage shows an edition: its source to edit, its preview as HTML (a
// sandboxed frame) and as text, the check's findings and the test send.
func (s *Server) editionPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	d := &editionData{Edition: se, Source: se.Source, TestTo: sess.User.Email}
	if ed, err := campaign.ParseStored(se); err == nil {
		d.Notice = nextNotice(s.newPage(r, "", nil).Printer, r.URL.Query(), ed.Quarter)
	}
	s.showEdition(w, r, sess, http.StatusOK, d)
}

func (s *Server) showEdition(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d *editionData) {
	d.CanSend = s.mailer != nil && s.content != nil
	var parseErr error
	if d.Errors == nil && s.content != nil {
		ed, err := campaign.ParseStored(&store.Edition{Slug: d.Edition.Slug, Source: d.Source, Dir: d.Edition.Dir})
		if err != nil {
			d.Errors, parseErr = parseErrors(err), err
		} else {
			d.Findings = render.Check(s.content.Current().Templates, ed)
			if fs, err := campaign.ListFindings(r.Context(), s.store, ed); err == nil {
				d.Findings = append(d.Findings, fs...)
			}
			d.Blocking = render.HasErrors(d.Findings)
			if p, err := s.content.Current().Templates.Prepare(ed); err == nil {
				d.Text = string(p.Render(previewRecipient(sess.User)).Text)
			}
		}
	}
	if parseErr == nil && d.Errors != nil {
		_, parseErr = campaign.ParseStored(&store.Edition{Slug: d.Edition.Slug, Source: d.Source, Dir: d.Edition.Dir})
	}
	s.fillEditor(r, sess, d, parseErr)
	s.render(w, r, code, "admin/edition", s.adminPage(r, sess, "editions", "editions.edit_title", d))
}

// saveEdition saves the edition's source; one that does not parse is shown
// again with its errors, and not saved (invariant 6).
func (s *Server) saveEdition(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	src, doc, err := postedEdition(r, se)
	if err != nil {
		d := &editionData{Edition: se, Source: se.Source, TestTo: sess.User.Email, Errors: []i18n.Message{i18n.MessageOf(err)}}
		s.showEdition(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	d := &editionData{Edition: se, Source: src, TestTo: sess.User.Email, posted: doc}
	switch r.PostFormValue("action") {
	case "to_source": // nothing is saved until "Enregistrer"
		d.Tab = "source"
		s.showEdition(w, r, sess, http.StatusOK, d)
		return
	case "to_visual":
		d.Tab = "visual"
		s.showEdition(w, r, sess, http.StatusOK, d)
		return
	}
	if r.PostFormValue("document") == "" {
		d.Tab = "source"
	}
	if len(src) > maxEditionSource {
		d.Errors = []i18n.Message{i18n.M("editions.error.too_big")}
		s.showEdition(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	ed, err := campaign.ParseStored(&store.Edition{Slug: se.Slug, Source: src, Dir: se.Dir})
	if err != nil {
		d.Errors = parseErrors(err)
		s.showEdition(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	se.Source, se.Title = src, ed.Title
	if _, err := s.store.SaveEdition(r.Context(), se); err != nil {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/editions/"+se.Slug, "edition_saved")
}

// previewRecipient is who previews are personalised for: the staff member.
func previewRecipient(u *store.User) render.Recipient {
	first, last, _ := strings.Cut(u.Name, " ")
	return render.Recipient{Email: u.Email, FirstName: first, LastName: last, UnsubscribeURL: "#", WebViewURL: "#"}
}

// previewPolicy is the Content-Security-Policy of a rendered edition: its
// own inline styles and images from anywhere, no script at all, shown only
// in frames of the console.
const previewPolicy = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src *; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// editionPreview renders the edition as a reader's mail client shows it:
// GET the saved source, POST a draft from the edit form (its "preview"
// button targets the frame, so that staff see a change before saving).
// ?format=text gives the plain-text part.
//
// The console shows it in <iframe sandbox="allow-same-origin">: same
// origin so that the frame's request carries the session cookie, and no
// allow-scripts, which with previewPolicy's lack of any script source keeps
// an edition's markup from running anything on the console's origin.
func (s *Server) editionPreview(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	src := se.Source
	if r.Method == http.MethodPost {
		var err error
		if src, _, err = postedEdition(r, se); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
	}
	if s.content == nil {
		http.Error(w, "preview unavailable: no layout loaded", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Security-Policy", previewPolicy)
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	ed, err := campaign.ParseStored(&store.Edition{Slug: se.Slug, Source: src, Dir: se.Dir})
	var p *render.Prepared
	if err == nil {
		p, err = s.content.Current().Templates.Prepare(ed)
	}
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(err.Error() + "\n"))
		return
	}
	m := p.Render(previewRecipient(sess.User))
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(m.Text)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(m.HTML)
}

// testEdition sends test copies of the saved edition to the given
// addresses (subject "[TEST] …", kept out of every report).
func (s *Server) testEdition(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	d := &editionData{Edition: se, Source: se.Source, TestTo: r.PostFormValue("to")}
	d.Result = s.sendTests(r, se, nil, d.TestTo)
	s.showEdition(w, r, sess, http.StatusOK, d)
}

// sendTests sends test copies of an edition (as campaign c when given) and
// returns one line per address saying what happened.
func (s *Server) sendTests(r *http.Request, se *store.Edition, c *store.Campaign, to string) []string {
	p := s.newPage(r, "", nil)
	if s.content == nil || s.mailer == nil {
		return []string{p.T("editions.test_unavailable")}
	}
	var addrs []string
	for _, a := range strings.FieldsFunc(to, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' }) {
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 || len(addrs) > 10 {
		return []string{p.T("editions.test_addresses")}
	}
	ed, err := campaign.ParseStored(se)
	if err != nil {
		var out []string
		for _, m := range parseErrors(err) {
			out = append(out, p.Msg(m))
		}
		return out
	}
	if fs := render.Check(s.content.Current().Templates, ed); render.HasErrors(fs) {
		return []string{p.T("editions.blocking")}
	}
	if c == nil {
		c = &store.Campaign{EditionSlug: se.Slug, Subject: ed.Subject}
	}
	comp, err := s.content.EditionComposer(c, ed)
	if err != nil {
		return []string{p.Err(err)}
	}
	replies, errs := campaign.SendTests(r.Context(), unclosable{s.mailer}, comp, addrs)
	var out []string
	for i, a := range addrs {
		if errs[i] != nil {
			out = append(out, a+" : "+p.T("editions.test_failed")+" ("+errs[i].Error()+")")
			continue
		}
		out = append(out, a+" : "+p.T("editions.test_sent")+" ("+replies[i]+")")
	}
	return out
}
