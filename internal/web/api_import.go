package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"bulletin/internal/importer"
	"bulletin/internal/store"
)

type apiReject struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// apiImport: POST /api/v1/subscribers/import?list=NAME[&dry_run=1], with
// the CSV as the body (text/csv) or as the "file" field of a multipart
// form. It runs the same importer as "bulletin import" and answers its
// report; a file that cannot be read at all is 422 and changes nothing.
func (s *Server) apiImport(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	list := strings.TrimSpace(r.URL.Query().Get("list"))
	if list == "" {
		return invalid("list", "list is required: the list the subscribers join (created if needed)")
	}
	dry := r.URL.Query().Get("dry_run")
	opts := importer.Options{List: list, DryRun: dry == "1" || dry == "true"}
	var (
		body io.Reader = r.Body
		name           = "api.csv"
	)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		f, hdr, err := r.FormFile("file")
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return invalid("file", "the multipart form has no file field")
		}
		defer f.Close()
		body, name = f, hdr.Filename
	case "text/csv", "text/plain", "application/csv", "":
	default:
		return apiErr(http.StatusUnsupportedMediaType, codeBadRequest, "send the CSV as text/csv or multipart/form-data, not %s", mt)
	}
	rep, err := importer.Import(r.Context(), s.store, body, name, opts)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		var fe *importer.FileError
		if errors.As(err, &fe) {
			return invalid("file", "%v", err)
		}
		return err
	}
	rows := func(res []importer.RowError) []apiReject {
		out := []apiReject{}
		for _, re := range res {
			out = append(out, apiReject{Line: re.Line, Reason: re.Reason.String()})
		}
		return out
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"file": rep.File, "list": rep.List, "dry_run": rep.DryRun,
		"added": rep.Added, "updated": rep.Updated, "unchanged": rep.Unchanged,
		"suppressed": rep.Suppressed, "suppressed_rows": rows(rep.SuppressedRows),
		"rejected": rep.Rejected, "rejects": rows(rep.Rejects), "notes": rows(rep.Notes),
	})
}
