package importer

import (
	"context"
	"io"

	"bulletin/internal/spreadsheet"
	"bulletin/internal/store"
)

// exportColumns are the fixed columns of an export; the subscribers' free
// attributes follow, one column each. The Reader maps each of them back
// (status_changed_at, consent_source and consent_ip are read and ignored),
// so that Import takes an export again without change.
var exportColumns = []string{"email", "first_name", "last_name", "organisation", "status", "status_changed_at",
	"consent_source", "consent_at", "consent_ip", "created_at"}

// ExportOptions says which subscribers an export holds and how it is
// written.
type ExportOptions struct {
	Filter store.SubscriberFilter
	// Excel writes semicolons and a UTF-8 byte order mark, as French Excel
	// expects.
	Excel bool
}

// Export writes the subscribers opts.Filter selects as CSV, with their
// status and consent, for "bulletin export" and the console's download.
// Every cell is defused, headers included (spreadsheet.Writer): an export
// is opened in a spreadsheet, the subscribe form is open to anyone, and the
// attribute names come from partners' files. The Reader undoes it.
func Export(ctx context.Context, st *store.Storage, w io.Writer, opts ExportOptions) error {
	keys, err := st.AttributeKeys(ctx, opts.Filter)
	if err != nil {
		return err
	}
	c := spreadsheet.NewWriter(w, opts.Excel)
	c.Write(append(append([]string{}, exportColumns...), keys...)...)
	stamp := spreadsheet.Time
	err = st.Subscribers(ctx, opts.Filter, func(s *store.Subscriber) error {
		rec := []string{s.Email, s.FirstName, s.LastName, s.Organisation, string(s.Status),
			stamp(s.StatusChangedAt), s.Consent.Source, stamp(s.Consent.At), s.Consent.IP, stamp(s.CreatedAt)}
		for _, k := range keys {
			rec = append(rec, s.Attributes[k])
		}
		return c.Write(rec...) // stop at the first write error (a closed connection, a full disk)
	})
	if err != nil {
		return err
	}
	return c.Flush()
}
