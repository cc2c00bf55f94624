package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"bulletin/internal/importer"
	"bulletin/internal/store"
)

// uploadTTL is how long an uploaded file waits for its import after the
// preview or a dry run; it is deleted after the import, or after this.
const uploadTTL = time.Hour

// previewRows is how many rows the preview shows as they will be read.
const previewRows = 5

type importData struct {
	Lists []*store.List
	List  string
	// NewList is the name typed for a list to create: only then may the
	// import make one (a chosen list must exist).
	NewList string
	DryRun  bool
	Error   string
	// Reason is the importer's own words for a file it could not read, in
	// the reader's language: they name the file, line or column at fault
	// (invariant 6).
	Reason string
	Report *importer.Report
	// Skipped is how many rejected rows the report does not list.
	Skipped int
	// SuppressedSkipped is how many suppressed rows it does not list.
	SuppressedSkipped int

	// Token names the uploaded file kept for the import after a preview
	// or a dry run, so that it is not chosen again; Name is its name.
	Token string
	Name  string
	// Preview is the file as the importer reads it, before any import.
	Preview *importPreview
}

// importPreview is the column mapping and the first rows of a file.
type importPreview struct {
	Columns  []importer.Column
	Rows     []importer.Row
	Valid    int // valid rows in the whole file
	Rejected []importer.RowError
	Total    int // rejected rows in the whole file
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

// importTarget reads the list of an import form: a list chosen among the
// existing ones, or the name of a new one typed in.
func importTarget(r *http.Request) (list, newList string) {
	list = strings.TrimSpace(r.PostFormValue("list"))
	if list == "" {
		newList = strings.TrimSpace(r.PostFormValue("new_list"))
		list = newList
	}
	return list, newList
}

// importCSV takes the uploaded file. With preview=1 (the console's form)
// it keeps the file under a random token and shows how it will be read;
// otherwise it imports it at once, as the form did before previews.
func (s *Server) importCSV(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := importData{DryRun: r.PostFormValue("dry_run") == "1"}
	d.List, d.NewList = importTarget(r)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		d.Error = "import.error.no_file"
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.Error = "import.error.too_big"
		}
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	defer file.Close()
	if r.PostFormValue("preview") == "1" {
		token, err := s.keepUpload(file)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		q := url.Values{"name": {filepath.Base(hdr.Filename)}}
		if d.NewList != "" {
			q.Set("new_list", d.NewList)
		} else if d.List != "" {
			q.Set("list", d.List)
		}
		http.Redirect(w, r, "/admin/import/"+token+"?"+q.Encode(), http.StatusSeeOther)
		return
	}
	s.runImport(w, r, sess, d, file, hdr.Filename)
}

// importPreviewPage shows how a kept upload will be read: which column
// goes to which field, the first rows, the rejected rows; and the form
// that runs the dry run or the import without choosing the file again.
func (s *Server) importPreviewPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	q := r.URL.Query()
	d := importData{Token: r.PathValue("token"), Name: q.Get("name"), List: q.Get("list"), NewList: q.Get("new_list")}
	if d.NewList != "" {
		d.List = d.NewList
	}
	f, ok := s.openUpload(w, r, sess, d.Token)
	if !ok {
		return
	}
	defer f.Close()
	var err error
	if d.Preview, err = previewFile(f, d.Name); err != nil {
		d.Error, d.Reason, d.Token = "import.error.unreadable", s.newPage(r, "", nil).Err(err), ""
		s.removeUpload(r.PathValue("token"))
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return
	}
	s.showImport(w, r, sess, http.StatusOK, d)
}

// importKept runs the dry run or the import of a kept upload. The file is
// deleted after a real import; a dry run keeps it for the import.
func (s *Server) importKept(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := importData{Token: r.PathValue("token"), Name: r.PostFormValue("name"), DryRun: r.PostFormValue("dry_run") == "1"}
	d.List, d.NewList = importTarget(r)
	f, ok := s.openUpload(w, r, sess, d.Token)
	if !ok {
		return
	}
	defer f.Close()
	if s.runImport(w, r, sess, d, f, d.Name) && !d.DryRun {
		s.removeUpload(d.Token)
	}
}

// runImport runs the file through the same importer as "bulletin import"
// and shows its report: counts, and each rejected line with its reason. A
// dry run changes nothing. A list chosen in the form must exist; only a
// name typed as a new list may create one. It reports whether the import
// ran.
func (s *Server) runImport(w http.ResponseWriter, r *http.Request, sess *store.Session, d importData, file io.Reader, name string) bool {
	if d.List == "" {
		d.Error = "import.error.no_list"
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return false
	}
	opts := importer.Options{List: d.List, DryRun: d.DryRun, ExistingList: d.NewList == ""}
	rep, err := importer.Import(r.Context(), s.store, file, name, opts)
	if err != nil {
		var (
			mbe *http.MaxBytesError
			ule *importer.UnknownListError
		)
		switch {
		case errors.As(err, &mbe):
			d.Error = "import.error.too_big"
		case errors.As(err, &ule):
			d.Error = "import.error.unknown_list"
		default:
			// A file the importer cannot read at all (not CSV, no address
			// column): its message names the problem, and nothing changed.
			s.log.Info("web: import refused", "file", name, "err", err)
			d.Error = "import.error.unreadable"
		}
		d.Reason = s.newPage(r, "", nil).Err(err)
		s.showImport(w, r, sess, http.StatusUnprocessableEntity, d)
		return false
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
	if !d.DryRun {
		d.Token = ""
	}
	s.showImport(w, r, sess, http.StatusOK, d)
	return true
}

// previewFile reads a whole file as the importer will, keeping its column
// mapping, its first rows and its first rejected rows.
func previewFile(f io.Reader, name string) (*importPreview, error) {
	rd, err := importer.NewReader(f, name)
	if err != nil {
		return nil, err
	}
	p := &importPreview{Columns: rd.Columns()}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return p, nil
		}
		var re *importer.RowError
		if errors.As(err, &re) {
			if p.Total++; len(p.Rejected) < 100 {
				p.Rejected = append(p.Rejected, *re)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.Valid++; len(p.Rows) < previewRows {
			p.Rows = append(p.Rows, row)
		}
	}
}

// tokenPattern is what a kept upload's token looks like: nothing from the
// URL reaches the file system unless it is one.
var tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// uploadDir is where uploads wait for their import: beside the database.
func (s *Server) uploadDir() string {
	return filepath.Join(filepath.Dir(s.cfg.Store.Path), "imports")
}

// keepUpload copies an uploaded file under a new random token, after
// deleting the uploads older than uploadTTL, and returns the token.
func (s *Server) keepUpload(src io.Reader) (string, error) {
	dir := s.uploadDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("web: uploads: %w", err)
	}
	s.sweepUploads(dir)
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	f, err := os.OpenFile(filepath.Join(dir, token+".csv"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("web: uploads: %w", err)
	}
	_, err = io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Its age is read on the daemon's clock, which tests move.
		now := s.now()
		err = os.Chtimes(f.Name(), now, now)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("web: uploads: %w", err)
	}
	return token, nil
}

// openUpload opens the kept upload of token, or answers the request with a
// page saying it is gone (imported already, or older than uploadTTL).
func (s *Server) openUpload(w http.ResponseWriter, r *http.Request, sess *store.Session, token string) (*os.File, bool) {
	if tokenPattern.MatchString(token) {
		path := filepath.Join(s.uploadDir(), token+".csv")
		if fi, err := os.Stat(path); err == nil && s.now().Sub(fi.ModTime()) < uploadTTL {
			if f, err := os.Open(path); err == nil {
				return f, true
			}
		}
	}
	s.showImport(w, r, sess, http.StatusNotFound, importData{Error: "import.error.expired"})
	return nil, false
}

func (s *Server) removeUpload(token string) {
	if tokenPattern.MatchString(token) {
		os.Remove(filepath.Join(s.uploadDir(), token+".csv"))
	}
}

// sweepUploads deletes the uploads older than uploadTTL: those previewed
// and never imported.
func (s *Server) sweepUploads(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && s.now().Sub(fi.ModTime()) >= uploadTTL {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
