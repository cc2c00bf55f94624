package web

import (
	"errors"
	"net/http"
	"strings"

	"bulletin/internal/importer"
	"bulletin/internal/store"
)

type importData struct {
	Lists  []*store.List
	List   string
	DryRun bool
	Error  string
	// Reason is the importer's own words for a file it could not read:
	// they name the file, line or column at fault (invariant 6).
	Reason string
	Report *importer.Report
	// Skipped is how many rejected rows the report does not list.
	Skipped int
	// SuppressedSkipped is how many suppressed rows it does not list.
	SuppressedSkipped int
}

// importPage shows the CSV upload form.
func (s *Server) importPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.showImport(w, r, sess, http.StatusOK, importData{List: r.URL.Query().Get("list")})
}

func (s *Server) showImport(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d importData) {
	var err error
	if d.Lists, err = s.store.Lists(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, code, "admin/import", s.adminPage(r, sess, "subscribers", "import.title", d))
}

// importCSV runs the uploaded file through the same importer as "bulletin
// import", and shows its report: counts, and each rejected line with its
// reason. A dry run changes nothing.
func (s *Server) importCSV(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := importData{List: strings.TrimSpace(r.PostFormValue("list")), DryRun: r.PostFormValue("dry_run") == "1"}
	if d.List == "" {
		d.List = strings.TrimSpace(r.PostFormValue("new_list"))
	}
	if d.List == "" {
		d.Error = "import.error.no_list"
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		d.Error = "import.error.no_file"
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	defer file.Close()
	rep, err := importer.Import(r.Context(), s.store, file, hdr.Filename, importer.Options{List: d.List, DryRun: d.DryRun})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.Error = "import.error.too_big"
		} else {
			// A file the importer cannot read at all (not CSV, no address
			// column): its message names the problem, and nothing changed.
			s.log.Info("web: import refused", "file", hdr.Filename, "err", err)
			d.Error = "import.error.unreadable"
		}
		d.Reason = err.Error()
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	d.Report = rep
	d.Skipped = rep.Rejected - len(rep.Rejects)
	if len(rep.Rejects) > 1000 {
		d.Skipped += len(rep.Rejects) - 1000
		rep.Rejects = rep.Rejects[:1000]
	}
	d.SuppressedSkipped = rep.Suppressed - len(rep.SuppressedRows)
	if len(rep.SuppressedRows) > 1000 {
		d.SuppressedSkipped += len(rep.SuppressedRows) - 1000
		rep.SuppressedRows = rep.SuppressedRows[:1000]
	}
	s.showImport(w, r, sess, http.StatusOK, d)
}
