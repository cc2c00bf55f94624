package daemon

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/outgoing"
	"bulletin/internal/report/reporttest"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

type recordingMailer struct {
	mu   sync.Mutex
	sent []*outgoing.Message
}

func (m *recordingMailer) Send(_ context.Context, msg *outgoing.Message) (outgoing.Receipt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return outgoing.Receipt{}, nil
}

func (m *recordingMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// The summaries run beside the daemon when reports.summary_to names
// someone, mail a finished campaign's summary, and stop when asked.
func TestSummariesBesideTheDaemon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.Location(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	mail := &recordingMailer{}

	off, err := startSummaries(ctx, &cfg, st, mail, log)
	if err != nil || off.stop(ctx) != nil {
		t.Fatalf("summaries without summary_to: %v", err)
	}

	f, err := reporttest.Build(ctx, st, reporttest.RecentStart())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Reports.SummaryTo = "Direction <direction@mics34.example.org>, chloe@mics34.example.org"
	cfg.Server.PublicURL = "https://lettre.mics34.example.org"
	sum, err := startSummaries(ctx, &cfg, st, mail, log)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for mail.count() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sum.stop(stop); err != nil {
		t.Fatal(err)
	}
	mail.mu.Lock()
	defer mail.mu.Unlock()
	if len(mail.sent) != 2 || mail.sent[0].To.Addr != "direction@mics34.example.org" ||
		!strings.Contains(mail.sent[0].Text, "https://lettre.mics34.example.org/admin/reports/campaigns/"+f.Campaign.UUID.String()) {
		t.Fatalf("mailed %d summaries: %+v", len(mail.sent), mail.sent)
	}

	cfg.Reports.SummaryTo = "not an address"
	if _, err := startSummaries(ctx, &cfg, st, mail, log); err == nil || !strings.Contains(err.Error(), "reports.summary_to") {
		t.Errorf("a bad summary_to = %v, want an error naming it", err)
	}
}
