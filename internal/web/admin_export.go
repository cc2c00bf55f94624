package web

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"time"

	"bulletin/internal/store"
)

// exportColumns are the fixed columns of an export, the same as the
// command line's "bulletin export", so that the importer reads either back;
// the free attributes follow, one column each.
var exportColumns = []string{"email", "first_name", "last_name", "organisation", "status", "status_changed_at",
	"consent_source", "consent_at", "consent_ip", "created_at"}

// exportSubscribers downloads the subscribers matching the page's filter as
// CSV; excel=1 gives semicolons and a byte order mark, as French Excel
// expects.
func (s *Server) exportSubscribers(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	f := readSubscriberQuery(r.URL.Query())
	excel := r.URL.Query().Get("excel") == "1"
	name := "abonnes-" + s.now().In(s.loc).Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := writeCSV(r.Context(), s.store, f.filter(), w, excel); err != nil {
		// Headers are gone: all that is left is to log and cut the file short.
		s.log.Error("web: export", "err", err)
	}
}

func writeCSV(ctx context.Context, st *store.Storage, filter store.SubscriberFilter, w io.Writer, excel bool) error {
	keys, err := st.AttributeKeys(ctx, filter)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if excel {
		cw.Comma, cw.UseCRLF = ';', true
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return err
		}
	}
	if err := cw.Write(append(append([]string{}, exportColumns...), keys...)); err != nil {
		return err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err = st.Subscribers(ctx, filter, func(s *store.Subscriber) error {
		rec := []string{csvSafe(s.Email), csvSafe(s.FirstName), csvSafe(s.LastName), csvSafe(s.Organisation), string(s.Status),
			stamp(s.StatusChangedAt), csvSafe(s.Consent.Source), stamp(s.Consent.At), s.Consent.IP, stamp(s.CreatedAt)}
		for _, k := range keys {
			rec = append(rec, csvSafe(s.Attributes[k]))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas: a cell from the subscribe form that
// starts with = + - @ would run as a formula when staff open the export in
// Excel or LibreOffice, so it gets a leading apostrophe.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
