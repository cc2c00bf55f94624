package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
)

// reportFixture builds the fixture campaign in dir's database.
func reportFixture(t *testing.T, dir string) *reporttest.Fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReportJSON(t *testing.T) {
	dir := setup(t)
	f := reportFixture(t, dir)
	w := reporttest.Want
	for _, ref := range []string{f.Campaign.UUID.String(), f.Campaign.UUID.String()[:8], "Lettre n°42"} {
		out, err := run(t, dir, "report", ref, "--json")
		if err != nil {
			t.Fatalf("report %s --json: %v", ref, err)
		}
		if n := strings.Count(strings.TrimSpace(out), "\n"); n != 0 {
			t.Fatalf("report --json printed %d lines, want one JSON object", n+1)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("report --json: %v\n%s", err, out)
		}
		// The contract: integer fields with these names.
		for name, want := range map[string]int{
			"recipients": w.Recipients, "sent": w.Sent, "failed": w.Failed, "skipped": w.Skipped, "pending": w.Pending,
			"bounced_hard": w.BouncedHard, "bounced_soft": w.BouncedSoft, "complaints": w.Complaints, "unsubscribed": w.Unsubscribed,
			"delivered": w.Delivered, "retrying": w.Retrying, "sent_after_retry": w.SentRetried,
		} {
			n, ok := got[name].(float64)
			if !ok || n != float64(want) || n != float64(int(n)) {
				t.Errorf("%s: %q = %v, want the integer %d", ref, name, got[name], want)
			}
		}
		if r, _ := got["delivery_rate"].(float64); r < w.DeliveryRate-1e-9 || r > w.DeliveryRate+1e-9 {
			t.Errorf("delivery_rate = %v, want %v", got["delivery_rate"], w.DeliveryRate)
		}
		if _, listed := got["addresses"]; listed {
			t.Error("--json lists addresses without --addresses")
		}
	}

	out, err := run(t, dir, "report", f.Campaign.UUID.String(), "--json", "--addresses", "failed")
	if err != nil {
		t.Fatal(err)
	}
	var withAddr struct {
		Addresses struct {
			Total int
			Items []struct{ Email, Outcome, Detail string }
		}
	}
	json.Unmarshal([]byte(out), &withAddr)
	if a := withAddr.Addresses; a.Total != 1 || len(a.Items) != 1 || a.Items[0].Email != reporttest.Email(reporttest.Failed5xx) ||
		!strings.Contains(a.Items[0].Detail, "550 5.1.1") {
		t.Errorf("--addresses failed = %+v", withAddr.Addresses)
	}
	if _, err := run(t, dir, "report", f.Campaign.UUID.String(), "--addresses", "nope"); ExitCode(err, &strings.Builder{}) != 2 {
		t.Errorf("--addresses nope = %v, want a usage error", err)
	}
	if _, err := run(t, dir, "report", "nothing-like-it"); err == nil || !strings.Contains(err.Error(), "no campaign") {
		t.Errorf("report of an unknown campaign = %v", err)
	}
}

func TestReportCSVAndText(t *testing.T) {
	dir := setup(t)
	f := reportFixture(t, dir)
	out, err := run(t, dir, "report", f.Campaign.UUID.String(), "--csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+reporttest.Want.Affected {
		t.Fatalf("--csv: %d rows, want a header and %d", len(recs), reporttest.Want.Affected)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	outcomes := map[string]string{}
	for _, r := range recs[1:] {
		outcomes[r[col["email"]]] = r[col["outcome"]]
	}
	for email, want := range map[string]string{
		reporttest.Email(reporttest.Failed5xx): "failed", reporttest.Email(reporttest.HardBounce): "bounced_hard",
		reporttest.Email(reporttest.SoftBounce): "bounced_soft", reporttest.Email(reporttest.Complaint): "complaint",
		reporttest.Email(reporttest.Unsubscribed): "unsubscribed", reporttest.Email(reporttest.Retrying): "retrying",
		reporttest.Email(reporttest.Skipped): "skipped",
	} {
		if outcomes[email] != want {
			t.Errorf("--csv: %s is %q, want %q", email, outcomes[email], want)
		}
	}
	all, _ := run(t, dir, "report", f.Campaign.UUID.String(), "--csv", "--addresses", "all")
	if n := strings.Count(all, "\n"); n != 1+reporttest.Want.Recipients {
		t.Errorf("--csv --addresses all: %d lines, want %d", n, 1+reporttest.Want.Recipients)
	}

	text, err := run(t, dir, "report", f.Campaign.UUID.String()[:8])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"recipients          10", "delivered            5   delivery rate 62.5%", "dead_addresses       1   = bounced_hard 1 + refused_hard 0", "550 5.1.1",
		"user_unknown", "one-click: 1", "orange.fr", "addresses to look at (7)", "inconnu@wanadoo.fr", "still sending"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
}

func TestReportListsAndEditions(t *testing.T) {
	dir := setup(t)
	reportFixture(t, dir)
	out, err := run(t, dir, "report", "lists", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Lists    []string
		Quarters []struct {
			Quarter     string
			Campaigns   int
			Subscribers struct{ Start, New, Unsubscribed, Bounced, Complained, Other, End int }
		}
		Editions []struct {
			Name                                  string
			Recipients, Delivered, BouncedHard    int
			Complaints, Unsubscribed, BouncedSoft int
		}
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Lists) != 1 || o.Lists[0] != "Partenaires" || len(o.Editions) != 1 || o.Editions[0].Recipients != 10 || o.Editions[0].Delivered != 5 {
		t.Fatalf("report lists --json = %s", out)
	}
	// The subscribers were created today: the current quarter holds them.
	last := o.Quarters[len(o.Quarters)-1].Subscribers
	// 10 joined; 1 left before the campaign (skipped), then 1 hard bounce,
	// 1 complaint and 1 unsubscribe. The soft bounce stays (one is not enough).
	if last.New != 10 || last.Unsubscribed != 2 || last.Bounced != 1 || last.Complained != 1 || last.End != 6 {
		t.Errorf("current quarter = %+v", last)
	}
	if csvOut, err := run(t, dir, "report", "lists", "--csv"); err != nil || !strings.HasPrefix(csvOut, "quarter,start,end,list,") {
		t.Errorf("report lists --csv = %v\n%s", err, csvOut)
	}
	if ed, err := run(t, dir, "report", "editions", "--csv"); err != nil || !strings.Contains(ed, "Lettre n°42") {
		t.Errorf("report editions --csv = %v\n%s", err, ed)
	}
	if text, err := run(t, dir, "report", "lists"); err != nil || !strings.Contains(text, `list "Partenaires"`) {
		t.Errorf("report lists = %v\n%s", err, text)
	}
}
