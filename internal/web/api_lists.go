package web

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"bulletin/internal/store"
)

// apiList is a list as the API shows it.
type apiList struct {
	UUID        string         `json:"uuid"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Public      bool           `json:"public"`
	CreatedAt   time.Time      `json:"created_at"`
	Counts      map[string]int `json:"counts,omitempty"` // members by status
}

func toAPIList(l *store.List) apiList {
	out := apiList{UUID: l.UUID.String(), Name: l.Name, Description: l.Description, Public: l.Public, CreatedAt: l.CreatedAt}
	if l.Counts != nil {
		out.Counts = map[string]int{}
		for _, st := range allStatuses {
			out.Counts[string(st)] = l.Counts[st]
		}
	}
	return out
}

// apiLists: GET /api/v1/lists.
func (s *Server) apiLists(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	lists, err := s.store.Lists(r.Context())
	if err != nil {
		return err
	}
	out := []apiList{}
	for _, l := range lists {
		out = append(out, toAPIList(l))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"lists": out})
}

// listInput is the body of POST and PATCH /api/v1/lists; absent fields of a
// PATCH are left as they are.
type listInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Public      *bool   `json:"public"`
}

func (in listInput) apply(l *store.List) error {
	if in.Name != nil {
		l.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		l.Description = strings.TrimSpace(*in.Description)
	}
	if in.Public != nil {
		l.Public = *in.Public
	}
	switch {
	case l.Name == "":
		return invalid("name", "a list needs a name")
	case utf8.RuneCountInString(l.Name) > maxListName:
		return invalid("name", "a list name has at most %d characters", maxListName)
	case utf8.RuneCountInString(l.Description) > maxListDescription:
		return invalid("description", "a description has at most %d characters", maxListDescription)
	}
	return nil
}

// apiCreateList: POST /api/v1/lists.
func (s *Server) apiCreateList(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	var in listInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	l := &store.List{}
	if err := in.apply(l); err != nil {
		return err
	}
	if err := s.store.CreateList(r.Context(), l); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return apiErr(http.StatusConflict, codeConflict, "a list named %q already exists", l.Name)
		}
		return err
	}
	return writeJSON(w, http.StatusCreated, toAPIList(l))
}

// apiListOf returns the list of the {list} path value: a UUID or a name.
func (s *Server) apiListOf(r *http.Request) (*store.List, error) {
	ref := r.PathValue("list")
	if id, err := uuid.Parse(ref); err == nil {
		return s.store.ListByUUID(r.Context(), id)
	}
	return s.store.ListByName(r.Context(), ref)
}

// apiGetList: GET /api/v1/lists/{list}.
func (s *Server) apiGetList(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	l, err := s.apiListOf(r)
	if err != nil {
		return err
	}
	lists, err := s.store.Lists(r.Context())
	if err != nil {
		return err
	}
	for _, x := range lists {
		if x.ID == l.ID {
			l = x // with its counts
		}
	}
	return writeJSON(w, http.StatusOK, toAPIList(l))
}

// apiUpdateList: PATCH /api/v1/lists/{list}.
func (s *Server) apiUpdateList(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	l, err := s.apiListOf(r)
	if err != nil {
		return err
	}
	var in listInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.apply(l); err != nil {
		return err
	}
	if err := s.store.UpdateList(r.Context(), l); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return apiErr(http.StatusConflict, codeConflict, "a list named %q already exists", l.Name)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, toAPIList(l))
}

// apiDeleteList: DELETE /api/v1/lists/{list}.
func (s *Server) apiDeleteList(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	l, err := s.apiListOf(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteList(r.Context(), l.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
