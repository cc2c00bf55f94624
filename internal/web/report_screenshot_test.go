package web

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// TestReportScreenshots captures the report pages for docs/, over two
// years of quarterly editions to two lists of a French network:
//
//	go test ./internal/web -run TestReportScreenshots -screenshots
func TestReportScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("pass -screenshots to capture docs/screenshots/report-*.png")
	}
	ctx := Chrome(t)
	c := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	st, err := store.Open(c, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC)
	var sends []time.Time
	for _, d := range []string{"2025-01-16", "2025-04-15", "2025-07-08", "2025-10-14", "2026-01-15", "2026-04-14", "2026-07-07", "2026-10-13", "2026-11-23"} {
		at, _ := time.Parse("2006-01-02", d)
		sends = append(sends, at.Add(8*time.Hour))
	}
	sim, err := reporttest.Simulate(c, st, path, reporttest.SimOptions{Subscribers: 1900, Arrivals: 130,
		Start: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), Campaigns: sends, Now: now, Seed: 34})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Organisation.Name = "MICS 34"
	srv, err := New(Options{Config: &cfg, Store: st, Links: &links.Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), PublicURL: cfg.Server.PublicURL},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	u := &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}
	if err := st.CreateUser(c, u, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	BrowserLogin(t, ctx, ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
	last := sim.Campaigns[len(sim.Campaigns)-1]
	shoot(t, ctx, ts.URL, "/admin/reports/campaigns/"+last.UUID.String(), "report-campaign", 1280)
	shoot(t, ctx, ts.URL, "/admin/reports/lists", "report-lists", 1280)
	shoot(t, ctx, ts.URL, "/admin/reports", "report-index", 1280)
}
