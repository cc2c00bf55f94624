package report

import (
	"io"
	"strconv"
	"strings"
	"time"

	"bulletin/internal/spreadsheet"
)

// CSV files follow RFC 4180 with English column names, UTC times in RFC
// 3339 and rates as decimal fractions, like "bulletin export"; Excel-flavoured
// files (semicolons, a byte order mark, decimal commas) open as they should
// in a French spreadsheet. spreadsheet.Writer defuses every cell.

// AddressColumns are the columns of the addresses CSV.
var AddressColumns = []string{"email", "domain", "outcome", "state", "detail", "attempts", "smtp_code", "enhanced_code",
	"reply", "skip_reason", "sent_at", "last_attempt_at", "next_attempt_at", "bounce_kind", "bounce_status", "bounce_reason",
	"bounce_diagnostic", "bounced_at", "complained_at", "unsubscribed_at", "unsubscribed_by", "refusal", "refusal_reason"}

// csvRate writes a rate as a decimal fraction, with a decimal comma in an
// Excel-flavoured file.
func csvRate(c *spreadsheet.Writer, f *float64) string {
	if f == nil {
		return ""
	}
	s := strconv.FormatFloat(*f, 'f', 4, 64)
	if c.Excel() {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// WriteAddressesCSV writes one row per delivery.
func WriteAddressesCSV(w io.Writer, rows []Address, excel bool) error {
	c := spreadsheet.NewWriter(w, excel)
	c.Write(AddressColumns...)
	stamp := spreadsheet.Time
	for _, a := range rows {
		c.Write(a.Email, a.Domain, a.Outcome, a.State, a.Detail, strconv.Itoa(a.Attempts), code(a.SMTPCode),
			a.EnhancedCode, a.Reply, a.SkipReason, stamp(a.SentAt), stamp(a.LastAttemptAt), stamp(a.NextAttemptAt),
			a.BounceKind, a.BounceStatus, a.BounceReason, a.BounceDiag, stamp(a.BouncedAt), stamp(a.ComplainedAt),
			stamp(a.UnsubscribedAt), a.UnsubscribedBy, a.Refusal, a.RefusalReason)
	}
	return c.Flush()
}

// QuarterColumns are the columns of the quarters CSV: one row per quarter
// for all lists (list empty), then one per quarter and list. The campaign
// figures are on the all-lists rows only.
var QuarterColumns = []string{"quarter", "start", "end", "list", "members_start", "new", "unsubscribed", "bounced",
	"complained", "other", "members_end", "campaigns", "recipients", "sent", "bounced_hard", "bounced_soft", "complaints"}

// WriteQuartersCSV writes the quarters of o.
func WriteQuartersCSV(w io.Writer, o *Overview, excel bool) error {
	c := spreadsheet.NewWriter(w, excel)
	c.Write(QuarterColumns...)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	flow := func(f Flow) []string {
		return []string{strconv.Itoa(f.Start), strconv.Itoa(f.New), strconv.Itoa(f.Unsubscribed), strconv.Itoa(f.Bounced),
			strconv.Itoa(f.Complained), strconv.Itoa(f.Other), strconv.Itoa(f.End)}
	}
	for _, q := range o.Quarters {
		rec := append([]string{q.Quarter, day(q.Start), day(q.End), ""}, flow(q.Subscribers)...)
		c.Write(append(rec, strconv.Itoa(q.Campaigns), strconv.Itoa(q.Recipients), strconv.Itoa(q.Sent),
			strconv.Itoa(q.BouncedHard), strconv.Itoa(q.BouncedSoft), strconv.Itoa(q.Complaints))...)
		for _, l := range q.Lists {
			rec := append([]string{q.Quarter, day(q.Start), day(q.End), l.List}, flow(l)...)
			c.Write(append(rec, "", "", "", "", "", "")...)
		}
	}
	return c.Flush()
}

// EditionColumns are the columns of the editions CSV.
var EditionColumns = []string{"id", "name", "state", "lists", "started_at", "quarter", "recipients", "sent", "failed",
	"skipped", "pending", "delivered", "delivery_rate", "bounced_hard", "bounced_soft", "complaints", "unsubscribed",
	"refused_hard", "refused_soft", "dead_addresses"}

// WriteEditionsCSV writes one row per campaign of o.
func WriteEditionsCSV(w io.Writer, o *Overview, excel bool) error {
	c := spreadsheet.NewWriter(w, excel)
	c.Write(EditionColumns...)
	for _, e := range o.Editions {
		c.Write(e.ID, e.Name, e.State, strings.Join(e.Lists, ", "),
			spreadsheet.Time(e.StartedAt), e.Quarter,
			strconv.Itoa(e.Recipients), strconv.Itoa(e.Sent), strconv.Itoa(e.Failed), strconv.Itoa(e.Skipped),
			strconv.Itoa(e.Pending), strconv.Itoa(e.Delivered), csvRate(c, e.DeliveryRate), strconv.Itoa(e.BouncedHard),
			strconv.Itoa(e.BouncedSoft), strconv.Itoa(e.Complaints), strconv.Itoa(e.Unsubscribed),
			strconv.Itoa(e.RefusedHard), strconv.Itoa(e.RefusedSoft), strconv.Itoa(e.DeadAddresses))
	}
	return c.Flush()
}

func code(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
