package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"bulletin/internal/store"
)

type listsData struct {
	Lists []listRow
	Form  listForm
	Error string
}

// listRow is a list with its counts, as the table shows them.
type listRow struct {
	*store.List
	Active, Pending, Suppressed int
}

// Limits of a list's name and description, in characters, for the console
// and the API alike (listfields.html has them as maxlength).
const (
	maxListName        = 100
	maxListDescription = 1000
)

type listForm struct {
	Name, Description string
	Public            bool
}

// listFromForm reads and checks the list form; the error is a message key.
func listFromForm(r *http.Request) (listForm, string) {
	f := listForm{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Public:      r.PostFormValue("public") == "1",
	}
	switch {
	case f.Name == "":
		return f, "lists.error.name_missing"
	case utf8.RuneCountInString(f.Name) > maxListName || utf8.RuneCountInString(f.Description) > maxListDescription:
		return f, "lists.error.too_long"
	}
	return f, ""
}

// listsPage shows the lists with their counts, and the form to add one.
func (s *Server) listsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.showLists(w, r, sess, http.StatusOK, listsData{})
}

func (s *Server) showLists(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d listsData) {
	lists, err := s.store.Lists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Lists = nil
	for _, l := range lists {
		d.Lists = append(d.Lists, listRow{List: l, Active: l.Counts[store.Active], Pending: l.Counts[store.Pending],
			Suppressed: l.Counts[store.Unsubscribed] + l.Counts[store.Bounced] + l.Counts[store.Complained]})
	}
	s.render(w, r, code, "admin/lists", s.adminPage(r, sess, "lists", "lists.title", d))
}

// createList adds a list.
func (s *Server) createList(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f, bad := listFromForm(r)
	if bad != "" {
		s.showLists(w, r, sess, http.StatusUnprocessableEntity, listsData{Form: f, Error: bad})
		return
	}
	err := s.store.CreateList(r.Context(), &store.List{Name: f.Name, Description: f.Description, Public: f.Public})
	if errors.Is(err, store.ErrDuplicate) {
		s.showLists(w, r, sess, http.StatusConflict, listsData{Form: f, Error: "lists.error.duplicate"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/lists", "list_created")
}

// listOf returns the list named by the {list} UUID of the path, or answers 404.
func (s *Server) listOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.List, bool) {
	return byPathUUID(s, w, r, sess, "list", s.store.ListByUUID)
}

type listEditData struct {
	List  *store.List
	Form  listForm
	Error string
}

// listPage shows one list's form, with its delete button.
func (s *Server) listPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, ok := s.listOf(w, r, sess)
	if !ok {
		return
	}
	s.showList(w, r, sess, http.StatusOK, listEditData{List: l, Form: formOfList(l)})
}

func (s *Server) showList(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d listEditData) {
	s.render(w, r, code, "admin/list", s.adminPage(r, sess, "lists", "lists.edit_title", d))
}

// formOfList fills the list form with what the list holds now.
func formOfList(l *store.List) listForm {
	return listForm{Name: l.Name, Description: l.Description, Public: l.Public}
}

// saveList saves one list's name, description and visibility.
func (s *Server) saveList(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, ok := s.listOf(w, r, sess)
	if !ok {
		return
	}
	f, bad := listFromForm(r)
	if bad == "" {
		l.Name, l.Description, l.Public = f.Name, f.Description, f.Public
		err := s.store.UpdateList(r.Context(), l)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			bad = "lists.error.duplicate"
		case err != nil:
			s.fail(w, r, err)
			return
		}
	}
	if bad != "" {
		s.showList(w, r, sess, http.StatusUnprocessableEntity, listEditData{List: l, Form: f, Error: bad})
		return
	}
	redirectOK(w, r, "/admin/lists", "list_saved")
}

// deleteList deletes a list; its subscribers stay. A list that campaigns
// went to is kept for their reports.
func (s *Server) deleteList(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	l, ok := s.listOf(w, r, sess)
	if !ok {
		return
	}
	err := s.store.DeleteList(r.Context(), l.ID)
	if errors.Is(err, store.ErrInUse) {
		s.showList(w, r, sess, http.StatusConflict, listEditData{List: l, Form: formOfList(l), Error: "lists.error.in_use"})
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	redirectOK(w, r, "/admin/lists", "list_deleted")
}
