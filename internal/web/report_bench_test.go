package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// BenchmarkReportPage renders the report page of a campaign of 100,000
// deliveries through the real router: session, figures, charts, the first
// page of the addresses to look at, template.
//
//	go test ./internal/web -run '^$' -bench ReportPage -benchtime 20x
func BenchmarkReportPage(b *testing.B) {
	ctx := context.Background()
	st, sim, err := reporttest.Campaign100k(ctx, filepath.Join(b.TempDir(), "bulletin.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	srv, err := New(Options{Config: &cfg, Store: st, Links: &links.Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), PublicURL: cfg.Server.PublicURL},
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	u := &store.User{Email: "admin@example.org", Role: store.RoleAdmin}
	if err := st.CreateUser(ctx, u, "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	secret, _, err := st.CreateSession(ctx, u, "127.0.0.1", "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	req := httptest.NewRequest(http.MethodGet, "/admin/reports/campaigns/"+sim.Campaigns[0].UUID.String(), nil)
	req.AddCookie(&http.Cookie{Name: srv.cookieName(), Value: secret})
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	size := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		size = w.Body.Len()
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := (ru1.Utime.Nano() + ru1.Stime.Nano()) - (ru0.Utime.Nano() + ru0.Stime.Nano())
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(size), "page-bytes")
}
