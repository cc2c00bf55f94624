package web

import (
	"net/http"

	"bulletin/internal/store"
)

type formSnippetData struct {
	EmbedURL   string
	Action     string
	Snippet    string // the snippet's form token
	Lists      []*store.List
	FrameAllow string // the origin allowed to frame the form, or ""
}

// formSnippetPage gives staff the code to put the subscribe form on the
// organisation's site: an <iframe> of /subscribe/embed (recommended), or a
// plain HTML form posting here.
func (s *Server) formSnippetPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	lists, err := s.publicLists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := formSnippetData{
		EmbedURL: s.links.PublicURL + "/subscribe/embed", Action: s.links.PublicURL + "/subscribe",
		Snippet: s.snippetToken(), Lists: lists, FrameAllow: s.frameOrigin,
	}
	s.render(w, r, http.StatusOK, "admin/form", s.adminPage(r, sess, "form", "form.title", d))
}

// adminNotFound answers paths under /admin/ that are no page.
func (s *Server) adminNotFound(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
}

// home sends visitors of the bare site to the subscribe form.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/subscribe", http.StatusFound)
}
