package web

import (
	"net/http"

	"bulletin/internal/importer"
	"bulletin/internal/store"
)

// exportSubscribers downloads the subscribers matching the page's filter as
// CSV, the same file as "bulletin export"; excel=1 gives semicolons and a
// byte order mark, as French Excel expects.
func (s *Server) exportSubscribers(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f := readSubscriberQuery(r.URL.Query())
	opts := importer.ExportOptions{Filter: f.filter(), Excel: r.URL.Query().Get("excel") == "1"}
	name := "abonnes-" + s.now().In(s.loc).Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := importer.Export(r.Context(), s.store, w, opts); err != nil {
		// Headers are gone: all that is left is to log and cut the file short.
		s.log.Error("web: export", "err", err)
	}
}
