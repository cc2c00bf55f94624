package report_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/outgoing"
	"bulletin/internal/report"
	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

var paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// The report's tests run twice: on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// openStore opens a new store, a SQLite file or a PostgreSQL database
// (pgtest.Location), and returns it with its location.
func openStore(t testing.TB) (*store.Storage, string) {
	t.Helper()
	location := pgtest.Location(t)
	st, err := store.Open(context.Background(), location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, location
}

func TestForCampaign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ForCampaign(ctx, st, f.Campaign, report.Options{Location: paris, Addresses: "problems"})
	if err != nil {
		t.Fatal(err)
	}
	w := reporttest.Want
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"recipients", r.Recipients, w.Recipients}, {"sent", r.Sent, w.Sent}, {"failed", r.Failed, w.Failed},
		{"skipped", r.Skipped, w.Skipped}, {"pending", r.Pending, w.Pending}, {"queued", r.Queued, 1}, {"sending", r.Sending, 0},
		{"retrying", r.Retrying, w.Retrying}, {"sent after retry", r.SentAfterRetry, w.SentRetried},
		{"bounced hard", r.BouncedHard, w.BouncedHard}, {"bounced soft", r.BouncedSoft, w.BouncedSoft},
		{"complaints", r.Complaints, w.Complaints}, {"unsubscribed", r.Unsubscribed, w.Unsubscribed},
		{"delivered", r.Delivered, w.Delivered}, {"delayed", r.Delayed, 1}, {"duplicates", r.Duplicates, 0},
		{"5xx", r.FailuresByClass["5xx"], 1}, {"4xx", r.FailuresByClass["4xx"], 0},
		{"addresses", r.Addresses.Total, w.Affected}, {"addresses listed", len(r.Addresses.Items), w.Affected},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"delivery rate", r.DeliveryRate, w.DeliveryRate}, {"bounce rate", r.BounceRate, 2.0 / 7},
		{"complaint rate", r.ComplaintRate, 1.0 / 5}, {"unsubscribe rate", r.UnsubscribeRate, 1.0 / 5},
	} {
		if c.got == nil || *c.got < c.want-1e-9 || *c.got > c.want+1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Tracking != nil {
		t.Error("tracking figures for a campaign that does not track")
	}
	if r.Done() {
		t.Error("Done with a delivery pending")
	}
	outcomes := map[string]string{}
	for _, a := range r.Addresses.Items {
		outcomes[a.Email] = a.Outcome
		if a.Outcome != report.OutcomeComplaint && a.Detail == "" {
			t.Errorf("%s (%s) has no detail", a.Email, a.Outcome)
		}
	}
	for o, want := range map[reporttest.Outcome]string{
		reporttest.Failed5xx: report.OutcomeFailed, reporttest.HardBounce: report.OutcomeBouncedHard,
		reporttest.SoftBounce: report.OutcomeBouncedSoft, reporttest.Complaint: report.OutcomeComplaint,
		reporttest.Unsubscribed: report.OutcomeUnsubscribed, reporttest.Retrying: report.OutcomeRetrying,
		reporttest.Skipped: report.OutcomeSkipped,
	} {
		if got := outcomes[reporttest.Email(o)]; got != want {
			t.Errorf("outcome of %s = %q, want %q", o, got, want)
		}
	}
	// The sends fall in the hours of the sending, in Paris time.
	var sent, failed int
	for _, p := range r.Timeline.Sends {
		sent += p.Sent
		failed += p.Failed
		if p.At.Location() != paris || p.At.Minute() != 0 {
			t.Errorf("send bucket %v is not an hour in Paris", p.At)
		}
	}
	if r.Timeline.SendBucket != report.Hour || sent != w.Sent || failed != w.Failed {
		t.Errorf("timeline: %s buckets, %d sent, %d failed", r.Timeline.SendBucket, sent, failed)
	}
	top, rest, others := r.TopDomains(3)
	if len(top) != 3 || others != len(r.Domains)-3 || top[0].Recipients+top[1].Recipients+top[2].Recipients+rest.Recipients != w.Recipients {
		t.Errorf("top domains = %+v, rest %+v (%d)", top, rest, others)
	}

	if err := f.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = report.ForCampaign(ctx, st, f.Campaign, report.Options{Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Done() || r.Pending != 0 || r.Sent != w.Sent+1 || r.Delivered != w.Delivered+1 || r.State != "sent" {
		t.Errorf("after Finish: %+v", r)
	}
}

// fakeMailer records what it sends, or fails.
type fakeMailer struct {
	mu   sync.Mutex
	sent []*outgoing.Message
	err  error
}

func (m *fakeMailer) Send(_ context.Context, msg *outgoing.Message) (outgoing.Receipt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return outgoing.Receipt{}, m.err
	}
	m.sent = append(m.sent, msg)
	return outgoing.Receipt{}, nil
}

func (m *fakeMailer) take() []*outgoing.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sent
	m.sent = nil
	return out
}

func TestSummaries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	f, err := reporttest.Build(ctx, st, time.Now().Add(-3*time.Hour).Truncate(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mail := &fakeMailer{}
	now := time.Now()
	clock := func() time.Time { return now }
	opts := report.SummaryOptions{To: []string{"direction@mics34.example.org", "chloe@mics34.example.org"},
		From: outgoing.Address{Name: "MICS 34", Addr: "lettre@mics34.example.org"}, EnvelopeFrom: "bounces@mics34.example.org",
		BounceWindow: 72 * time.Hour, PublicURL: "https://lettre.mics34.example.org/", Location: paris, Language: "fr",
		Now: func() time.Time { return clock() }}
	sum := report.NewSummarizer(st, mail, opts, nil)

	// Not finished: nothing.
	if err := sum.RunOnce(ctx); err != nil || len(mail.take()) != 0 {
		t.Fatalf("summary of a campaign still sending: %v", err)
	}
	if err := f.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	now = time.Now()
	if err := sum.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := mail.take()
	if len(msgs) != 2 {
		t.Fatalf("finished: %d mails, want one per admin", len(msgs))
	}
	m := msgs[0]
	for _, want := range []string{"Lettre n°42", "envoi terminé", "66,7\u202f%"} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
	}
	for _, want := range []string{"Destinataires", "Remis", "Rebonds durs", "550 5.1.1 (1)", "adresse inconnue (1)",
		"https://lettre.mics34.example.org/admin/reports/campaigns/" + f.Campaign.UUID.String(), "un bilan suivra"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Headers["Auto-Submitted"] != "auto-generated" || m.EnvelopeFrom != "bounces@mics34.example.org" {
		t.Errorf("summary headers %v, envelope %q", m.Headers, m.EnvelopeFrom)
	}

	// Never twice, even from a restarted daemon.
	sum2 := report.NewSummarizer(st, mail, opts, nil)
	sum.RunOnce(ctx)
	sum2.RunOnce(ctx)
	if n := len(mail.take()); n != 0 {
		t.Fatalf("%d more mails before the bounce window is over", n)
	}

	// After the bounce window: the final summary, once; a refusing
	// transport is tried again, a few times only.
	now = now.Add(73 * time.Hour)
	mail.err = errors.New("relay down")
	for range 5 {
		sum2.RunOnce(ctx)
	}
	recs, _ := st.CampaignSummaries(ctx, f.Campaign.ID)
	if len(recs) != 2 || recs[1].Kind != store.SummaryFinal || recs[1].Status != store.SummaryFailed || recs[1].Attempts != 3 {
		t.Fatalf("summaries = %+v", recs)
	}
}

func TestSummaryAfterDowntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	mail := &fakeMailer{}
	now := time.Now().Add(80 * time.Hour) // the daemon was down for the whole window
	sum := report.NewSummarizer(st, mail, report.SummaryOptions{To: []string{"direction@example.org"}, BounceWindow: 72 * time.Hour,
		Language: "en", Now: func() time.Time { return now }}, nil)
	if err := sum.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := mail.take()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "72-hour summary") {
		t.Fatalf("after downtime: %d mails (%v), want the final summary only", len(msgs), msgs)
	}
	recs, _ := st.CampaignSummaries(ctx, f.Campaign.ID)
	if len(recs) != 2 || recs[0].Status != store.SummarySkipped || recs[1].Status != store.SummarySent {
		t.Errorf("summaries = %+v", recs)
	}
	// Much later (beyond the grace): never mailed for an old campaign.
	now = now.Add(30 * 24 * time.Hour)
	sum.RunOnce(ctx)
	if n := len(mail.take()); n != 0 {
		t.Errorf("%d mails about an old campaign", n)
	}
}

func TestSummaryText(t *testing.T) {
	t.Parallel()
	r := &report.Campaign{Name: "Lettre n°43", State: "sent", Recipients: 2431, Sent: 2380, Delivered: 2333, Failed: 12,
		FinishedAt: time.Date(2026, 11, 23, 11, 40, 0, 0, time.UTC)}
	rate := float64(r.Delivered) / float64(r.Sent+r.Failed)
	r.DeliveryRate = &rate
	subject, text := report.SummaryText(r, store.SummaryFinal, report.SummaryTextOptions{Printer: i18n.New("fr"), Location: paris,
		BounceWindow: 72 * time.Hour, URL: "https://x/admin/reports/campaigns/1"})
	if subject != "[Bulletin] Lettre n°43\u00a0: bilan à 72 h, 97,5\u202f% remis" {
		t.Errorf("subject = %q", subject)
	}
	if !strings.Contains(text, "2\u202f431") || !strings.Contains(text, "23 novembre 2026 à 12:40") || strings.Contains(text, "un bilan suivra") {
		t.Errorf("text:\n%s", text)
	}
}

// fakeHistory is a Source with a made-up history, for the lists' replay
// across quarters.
type fakeHistory struct {
	report.Source
	lists  []*store.List
	events []store.HistoryEvent
}

func (f *fakeHistory) Lists(context.Context) ([]*store.List, error) { return f.lists, nil }
func (f *fakeHistory) CampaignsTotals(context.Context) ([]store.CampaignTotals, error) {
	return nil, nil
}
func (f *fakeHistory) SentPerHour(context.Context) ([]store.HourCount, error) { return nil, nil }
func (f *fakeHistory) SubscriberHistory(_ context.Context, fn func(*store.HistoryEvent) error) error {
	for i := range f.events {
		if err := fn(&f.events[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestListsReplay(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, paris) }
	h := &fakeHistory{lists: []*store.List{{ID: 1, Name: "Partenaires"}, {ID: 2, Name: "Acheteurs publics"}}}
	ev := func(sub int64, at time.Time, kind string, st store.Status, source string, list int64) {
		h.events = append(h.events, store.HistoryEvent{SubscriberID: sub, Kind: kind, Status: st, Source: source, ListID: list, At: at.UTC()})
	}
	// Q1 2026: three imported on Partenaires, one also on Acheteurs; one
	// pending from the form.
	ev(1, day(2026, 1, 10), "created", store.Active, "import a.csv", 1)
	ev(2, day(2026, 1, 10), "created", store.Active, "import a.csv", 1)
	ev(3, day(2026, 1, 10), "created", store.Active, "import a.csv", 1)
	ev(3, day(2026, 1, 10), "list_added", "", "import b.csv", 2)
	ev(4, day(2026, 2, 1), "created", store.Pending, "form", 0)
	ev(4, day(2026, 2, 1), "list_added", "", "form", 2)
	// Q2: 4 confirms; 1 bounces; 3 leaves Acheteurs only (preferences).
	ev(4, day(2026, 4, 2), "status", store.Active, "form", 0)
	ev(1, day(2026, 5, 5), "status", store.Bounced, "bounce", 0)
	ev(3, day(2026, 6, 30), "list_removed", "", "link", 2)
	// 00:30 on 1 July in Paris is 22:30 UTC on 30 June: Q3 in Paris.
	ev(2, time.Date(2026, 7, 1, 0, 30, 0, 0, paris), "status", store.Unsubscribed, "one-click", 0)
	// Q3: 4 complains, then 2 comes back.
	ev(4, day(2026, 8, 1), "status", store.Complained, "complaint", 0)
	ev(2, day(2026, 9, 1), "status", store.Active, "link", 0)

	o, err := report.Lists(context.Background(), h, paris, day(2026, 11, 25))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range o.Quarters {
		s := q.Subscribers
		p, a := q.Lists[0], q.Lists[1]
		got = append(got, strings.Join([]string{q.Quarter,
			fmtFlow(s), fmtFlow(p), fmtFlow(a)}, " | "))
		for _, f := range append([]report.Flow{s}, q.Lists...) {
			if f.End != f.Start+f.New-f.Unsubscribed-f.Bounced-f.Complained-f.Other {
				t.Errorf("%s %s does not balance: %+v", q.Quarter, f.List, f)
			}
		}
	}
	want := []string{
		"2026-Q1 | 0+3-0/0/0/0=3 | 0+3-0/0/0/0=3 | 0+1-0/0/0/0=1",
		"2026-Q2 | 3+1-0/1/0/0=3 | 3+0-0/1/0/0=2 | 1+1-1/0/0/0=1",
		"2026-Q3 | 3+1-1/0/1/0=2 | 2+1-1/0/0/0=2 | 1+0-0/0/1/0=0",
		"2026-Q4 | 2+0-0/0/0/0=2 | 2+0-0/0/0/0=2 | 0+0-0/0/0/0=0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("quarters:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// fmtFlow writes start+new-unsubscribed/bounced/complained/other=end.
func fmtFlow(f report.Flow) string {
	return itoa(f.Start) + "+" + itoa(f.New) + "-" + itoa(f.Unsubscribed) + "/" + itoa(f.Bounced) + "/" + itoa(f.Complained) +
		"/" + itoa(f.Other) + "=" + itoa(f.End)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestListsFromSimulation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, location := openStore(t)
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var sends []time.Time
	for _, m := range []time.Month{1, 4, 7, 10} {
		sends = append(sends, time.Date(2026, m, 15, 8, 0, 0, 0, time.UTC))
	}
	sim, err := reporttest.Simulate(ctx, st, location, reporttest.SimOptions{Subscribers: 400, Arrivals: 40,
		Start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Campaigns: sends, Now: now, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	o, err := report.Lists(ctx, st, paris, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Quarters) != 4 || len(o.Editions) != 4 {
		t.Fatalf("%d quarters, %d editions", len(o.Quarters), len(o.Editions))
	}
	for i, q := range o.Quarters {
		if q.Campaigns != 1 || q.Sent == 0 {
			t.Errorf("%s: %d campaigns, %d sent", q.Quarter, q.Campaigns, q.Sent)
		}
		if i > 0 && q.Subscribers.Start != o.Quarters[i-1].Subscribers.End {
			t.Errorf("%s starts at %d, the quarter before ended at %d", q.Quarter, q.Subscribers.Start, o.Quarters[i-1].Subscribers.End)
		}
		for _, f := range append([]report.Flow{q.Subscribers}, q.Lists...) {
			if f.End != f.Start+f.New-f.Unsubscribed-f.Bounced-f.Complained-f.Other {
				t.Errorf("%s %q does not balance: %+v", q.Quarter, f.List, f)
			}
		}
	}
	// Each edition's figures are its campaign report's.
	for i, c := range sim.Campaigns {
		r, err := report.ForCampaign(ctx, st, c, report.Options{Location: paris})
		if err != nil {
			t.Fatal(err)
		}
		e := o.Editions[i]
		if e.Recipients != r.Recipients || e.Delivered != r.Delivered || e.BouncedHard != r.BouncedHard ||
			e.Complaints != r.Complaints || e.Unsubscribed != r.Unsubscribed {
			t.Errorf("edition %s = %+v, report says %d/%d/%d/%d/%d", e.Name, e, r.Recipients, r.Delivered, r.BouncedHard, r.Complaints, r.Unsubscribed)
		}
	}
	// The last quarter ends with the subscribers active on a list now.
	lists, _ := st.Lists(ctx)
	last := o.Quarters[len(o.Quarters)-1]
	for i, l := range lists {
		if last.Lists[i].End != l.Counts[store.Active] {
			t.Errorf("list %s ends the replay with %d, has %d active members", l.Name, last.Lists[i].End, l.Counts[store.Active])
		}
	}
}

// BenchmarkCampaignReport computes the report of a campaign of 100,000
// deliveries, as its page does: the figures, the breakdowns, the timeline
// and the first page of the addresses to look at.
func BenchmarkCampaignReport(b *testing.B) {
	ctx := context.Background()
	st, sim, err := reporttest.Campaign100k(ctx, pgtest.Location(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := sim.Campaigns[0]
	var r *report.Campaign
	// CPU time per report besides wall time: on a busy machine the wall
	// time measures the neighbours too.
	cpu0 := cpuTime()
	for b.Loop() {
		r, err = report.ForCampaign(ctx, st, c, report.Options{Location: paris, Addresses: "problems", Limit: 50})
		if err != nil {
			b.Fatal(err)
		}
	}
	if r.Recipients != 100_000 {
		b.Fatalf("%d recipients", r.Recipients)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(r.Recipients), "deliveries")
}

// cpuTime returns the CPU time the process used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
