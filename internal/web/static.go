package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// staticFiles serves the embedded CSS, JavaScript and images. They change
// only with the binary, so a day of caching is safe.
func (s *Server) staticFiles() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the folder is embedded: cannot happen
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: the file server would list a folder, telling anyone
		// which scripts and vendored libraries (and versions) are inside.
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
		if fi, err := fs.Stat(sub, name); err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

var cssColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// theme serves the organisation's colour as CSS custom properties: the
// pages' CSP allows no inline style, so the colour from config.yaml comes
// in a stylesheet of its own.
func (s *Server) theme(w http.ResponseWriter, r *http.Request) {
	colour := s.conf().Organisation.Colour
	if !cssColour.MatchString(colour) {
		colour = "#1d4e89"
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, ":root { --brand: %s; }\n", colour)
}
