package web

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"bulletin/internal/campaign"
	"bulletin/internal/links"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// mediaTypes are the files served next to an edition: images and PDF.
// Anything else in the folder (the edition's source, an HTML file) is not
// served, so that nothing from it runs on this site's origin.
var mediaTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".pdf": "application/pdf",
}

// media serves a file next to an edition (/media/{slug}/{file...}), only
// an image the edition shows, and only from inside the edition's folder:
// links.ParseMediaPath refuses ".." and absolute paths, and os.Root refuses
// symbolic links that lead outside.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	slug, file, ok := links.ParseMediaPath(r.URL.Path)
	ctype := mediaTypes[strings.ToLower(path.Ext(file))]
	if !ok || ctype == "" {
		http.NotFound(w, r)
		return
	}
	ed, err := s.store.EditionBySlug(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ed.Dir == "") {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	shown, err := s.showsImage(r.Context(), ed, file)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !shown {
		http.NotFound(w, r)
		return
	}
	serveFolderFile(w, r, ed.Dir, file, http.Header{
		"Content-Type": {ctype},
		// An SVG can hold scripts: sandboxed, with no script source.
		"Content-Security-Policy": {"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"},
		"Cache-Control":           {"public, max-age=3600"},
	})
}

// serveFolderFile serves file (a clean relative path) from inside the
// folder dir with the headers hdr, or answers 404 when it is not a regular
// file there: os.Root refuses symbolic links that lead outside dir. The
// headers are set only when the file is served, so that a 404 does not
// carry the file's type. Both the public /media/ route and the staff
// editor serve an edition's images through it, each with its own rule of
// which files it may serve.
func serveFolderFile(w http.ResponseWriter, r *http.Request, dir, file string, hdr http.Header) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(file))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// showsImage reports whether file is an image that edition se shows, now or
// in the source a campaign of it froze when it was sent (so that mails
// already delivered keep their images after the edition changes), or the
// organisation's logo when it is kept next to the edition (as
// docs/examples shows). Other files of the folder are not published.
func (s *Server) showsImage(ctx context.Context, se *store.Edition, file string) (bool, error) {
	if s.conf().Organisation.LogoURL == links.MediaURL(s.cfg.Server.PublicURL, se.Slug, file) {
		return true, nil
	}
	sent, err := s.store.SentSources(ctx, se.ID)
	if err != nil {
		return false, err
	}
	for _, src := range append([]string{se.Source}, sent...) {
		ed, err := campaign.ParseStored(&store.Edition{Slug: se.Slug, Source: src, Dir: se.Dir})
		if err != nil {
			continue // a source that no longer parses shows nothing
		}
		if slices.Contains(render.LocalImages(ed), file) {
			return true, nil
		}
	}
	return false, nil
}
