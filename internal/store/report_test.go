package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

func openStore(t *testing.T) *store.Storage {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.Location(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestCampaignReportData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.CampaignReportData(ctx, f.Campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := reporttest.Want
	tot := d.Totals
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"recipients", tot.Recipients, w.Recipients},
		{"sent", tot.States[store.Delivered], w.Sent},
		{"failed", tot.States[store.Undelivered], w.Failed},
		{"skipped", tot.States[store.Skipped], w.Skipped},
		{"pending", tot.States[store.Queued] + tot.States[store.InFlight], w.Pending},
		{"retrying", tot.Retrying, w.Retrying},
		{"sent after a retry", tot.SentRetried, w.SentRetried},
		{"bounced hard", tot.BouncedHard, w.BouncedHard},
		{"bounced soft", tot.BouncedSoft, w.BouncedSoft},
		{"complaints", tot.Complaints, w.Complaints},
		{"unsubscribed", tot.Unsubscribed, w.Unsubscribed},
		{"delivered", tot.Delivered(), w.Delivered},
		{"delayed", tot.Delayed, 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if want := f.Start; !tot.FirstSent.Equal(want) {
		t.Errorf("first sent = %v, want %v", tot.FirstSent, want)
	}
	if len(d.Failures) != 1 || d.Failures[0].SMTPCode != 550 || d.Failures[0].EnhancedCode != "5.1.1" || d.Failures[0].Count != 1 {
		t.Errorf("failures = %+v, want one 550 5.1.1", d.Failures)
	}
	if len(d.Skips) != 1 || d.Skips[0] != (store.Count{Key: "unsubscribed", Count: 1}) {
		t.Errorf("skips = %+v, want unsubscribed: 1", d.Skips)
	}
	if len(d.Bounces) != 2 || d.Bounces[0].Kind != "hard" || d.Bounces[0].Reason != "user_unknown" || d.Bounces[1].Reason != "mailbox_full" {
		t.Errorf("bounces = %+v", d.Bounces)
	}
	if len(d.UnsubscribeSources) != 1 || d.UnsubscribeSources[0] != (store.Count{Key: "one-click", Count: 1}) {
		t.Errorf("unsubscribe sources = %+v", d.UnsubscribeSources)
	}

	// The domains add up to the totals.
	var sum store.DomainCounts
	byDomain := map[string]store.DomainCounts{}
	for _, x := range d.Domains {
		byDomain[x.Domain] = x
		sum.Recipients += x.Recipients
		sum.Sent += x.Sent
		sum.Delivered += x.Delivered
		sum.BouncedHard += x.BouncedHard
		sum.BouncedSoft += x.BouncedSoft
		sum.Complaints += x.Complaints
		sum.Unsubscribed += x.Unsubscribed
	}
	if sum.Recipients != w.Recipients || sum.Sent != w.Sent || sum.Delivered != w.Delivered || sum.BouncedHard != 1 ||
		sum.BouncedSoft != 1 || sum.Complaints != 1 || sum.Unsubscribed != 1 {
		t.Errorf("domains add up to %+v", sum)
	}
	if o := byDomain["orange.fr"]; o.Recipients != 2 || o.Delivered != 1 || o.BouncedSoft != 1 {
		t.Errorf("orange.fr = %+v, want 2 recipients, 1 delivered, 1 soft bounce", o)
	}

	// The timeline adds up too.
	var sent, failed, hard, soft, compl, unsub int
	for _, h := range d.Timeline {
		sent += h.Sent
		failed += h.Failed
		hard += h.BouncedHard
		soft += h.BouncedSoft
		compl += h.Complaints
		unsub += h.Unsubscribed
	}
	if sent != w.Sent || failed != w.Failed || hard != 1 || soft != 1 || compl != 1 || unsub != 1 {
		t.Errorf("timeline adds up to sent %d failed %d hard %d soft %d complaints %d unsubscribed %d", sent, failed, hard, soft, compl, unsub)
	}
	if d.Timeline[0].Hour != f.Start {
		t.Errorf("timeline starts at %v, want %v", d.Timeline[0].Hour, f.Start)
	}
	if d.Track || d.Tracking != nil {
		t.Errorf("tracking on a campaign that did not ask for it")
	}
}

func TestCampaignAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	rows, total, err := st.CampaignAddresses(ctx, f.Campaign.ID, store.AddressFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != reporttest.Want.Affected || len(rows) != total {
		t.Fatalf("problems: %d rows of %d, want %d", len(rows), total, reporttest.Want.Affected)
	}
	want := []reporttest.Outcome{reporttest.Failed5xx, reporttest.HardBounce, reporttest.SoftBounce, reporttest.Complaint,
		reporttest.Unsubscribed, reporttest.Retrying, reporttest.Skipped}
	for i, o := range want {
		if rows[i].Email != reporttest.Email(o) {
			t.Errorf("row %d = %s, want %s (%s)", i, rows[i].Email, reporttest.Email(o), o)
		}
	}
	if r := rows[1]; r.BounceKind != "hard" || r.BounceStatus != "5.1.1" || r.BounceDiagnostic == "" || r.BouncedAt.IsZero() {
		t.Errorf("hard bounce row = %+v", r)
	}
	if r := rows[0]; r.SMTPCode != 550 || r.Reply == "" {
		t.Errorf("failed row = %+v", r)
	}
	if r := rows[4]; r.UnsubscribedBy != "one-click" || r.UnsubscribedAt.IsZero() {
		t.Errorf("unsubscribed row = %+v", r)
	}
	for show, n := range map[string]int{"all": 10, "sent": 7, "delivered": 5, "failed": 1, "skipped": 1, "pending": 1,
		"retrying": 1, "bounced": 2, "hard": 1, "soft": 1, "complaint": 1, "unsubscribed": 1, "problems": 7} {
		rows, total, err := st.CampaignAddresses(ctx, f.Campaign.ID, store.AddressFilter{Show: show, Limit: 3, Offset: 0})
		if err != nil {
			t.Fatal(err)
		}
		if total != n || len(rows) != min(n, 3) {
			t.Errorf("%s: %d rows of %d, want %d of %d", show, len(rows), total, min(n, 3), n)
		}
	}
	if _, _, err := st.CampaignAddresses(ctx, f.Campaign.ID, store.AddressFilter{Show: "nope"}); err == nil {
		t.Error("an unknown filter is accepted")
	}
}

func TestTrackingOnlyWhenChosen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	location := pgtest.Location(t)
	st, err := store.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	d := f.Deliveries[reporttest.Email(reporttest.Sent)]
	at := f.Start.Add(time.Hour)
	if ok, err := st.RecordTracking(ctx, d.UUID, store.TrackOpen, "", at); err != nil || ok {
		t.Fatalf("open of an untracked campaign: recorded %v, %v", ok, err)
	}
	// No screen turns tracking on once a campaign has gone out; the test
	// does, to see both cases on one campaign.
	driver := "sqlite3"
	if pgtest.Postgres() {
		driver = "pgx"
	}
	db, err := sql.Open(driver, location)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE campaigns SET track = 1 WHERE id = %d", f.Campaign.ID)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ok, err := st.RecordTracking(ctx, d.UUID, store.TrackOpen, "", at); err != nil || !ok {
			t.Fatalf("open: recorded %v, %v", ok, err)
		}
	}
	if _, err := st.RecordTracking(ctx, d.UUID, store.TrackClick, "https://mics34.example.org/agenda", at); err != nil {
		t.Fatal(err)
	}
	other := f.Deliveries[reporttest.Email(reporttest.RetrySent)]
	if _, err := st.RecordTracking(ctx, other.UUID, store.TrackClick, "https://mics34.example.org/agenda", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	data, err := st.CampaignReportData(ctx, f.Campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	tc := data.Tracking
	if tc == nil || tc.Opened != 2 || tc.OpenHits != 3 || tc.Clicked != 2 || tc.ClickHits != 2 || len(tc.Links) != 1 || tc.Links[0].Readers != 2 {
		t.Fatalf("tracking = %+v", tc)
	}
	m, err := st.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Opens != 3 || m.Clicks != 2 || m.Deliveries[store.Delivered] != 7 || m.MailboxEvents["hard"] != 1 || m.Due != 1 || m.Retrying != 1 {
		t.Errorf("metrics = %+v", m)
	}
}

func TestSummaryClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	f, err := reporttest.Build(ctx, st, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour)
	if cs, err := st.SummaryCandidates(ctx, since); err != nil || len(cs) != 0 {
		t.Fatalf("candidates of an unfinished campaign: %v, %v", cs, err)
	}
	if err := f.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := st.SummaryCandidates(ctx, since)
	if err != nil || len(cs) != 1 || len(cs[0].Status) != 0 {
		t.Fatalf("candidates = %+v, %v", cs, err)
	}
	id := f.Campaign.ID
	if ok, err := st.ClaimSummary(ctx, id, store.SummaryFinished, 3); !ok || err != nil {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if ok, _ := st.ClaimSummary(ctx, id, store.SummaryFinished, 3); ok {
		t.Fatal("a summary being sent is claimed again")
	}
	st.FinishSummary(ctx, id, store.SummaryFinished, store.SummaryFailed, "relay down")
	if ok, _ := st.ClaimSummary(ctx, id, store.SummaryFinished, 3); !ok {
		t.Fatal("a failed summary is not tried again")
	}
	st.FinishSummary(ctx, id, store.SummaryFinished, store.SummarySent, "")
	if ok, _ := st.ClaimSummary(ctx, id, store.SummaryFinished, 3); ok {
		t.Fatal("a sent summary is claimed again")
	}
	cs, _ = st.SummaryCandidates(ctx, since)
	if cs[0].Status[store.SummaryFinished] != store.SummarySent || cs[0].Attempts[store.SummaryFinished] != 2 {
		t.Errorf("candidate = %+v", cs[0])
	}
}
