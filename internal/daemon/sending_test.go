package daemon

import (
	"context"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

// The README's run command on a fresh machine: "serve --demo" with no
// configuration imports the sample list and sends it the example edition
// through the outbox, one readable .eml file per subscriber.
func TestDemoThroughOutbox(t *testing.T) {
	d := newOutboxDaemon(t) // from the repository's root, where the command is typed
	cfg, st := &d.cfg, d.st
	ctx := context.Background()
	if err := Demo(ctx, cfg, st, d.log); err != nil {
		t.Fatal(err)
	}
	snd := d.startSending(ctx, t)
	c := d.demoCampaign(ctx, t)
	stop, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := snd.stop(stop); err != nil {
		t.Fatal(err)
	}
	if c.State != store.Sent {
		t.Fatalf("demo campaign %s after a minute", c.State)
	}
	n, _ := st.CampaignDeliveryCounts(ctx, c.ID)
	files, _ := filepath.Glob(filepath.Join(cfg.Sending.OutboxDir, "*.eml"))
	if len(files) == 0 || len(files) != n.ByState[store.Delivered] {
		t.Fatalf("%d .eml files for %d sent", len(files), n.ByState[store.Delivered])
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	// A second start adds nothing: the demo is never sent twice.
	if err := Demo(ctx, cfg, st, d.log); err != nil {
		t.Fatal(err)
	}
	if cs, _ := st.Campaigns(ctx); len(cs) != 1 {
		t.Errorf("%d campaigns after a second demo, want 1", len(cs))
	}
}

func TestRemindThroughOutbox(t *testing.T) {
	cfg := config.Default()
	cfg.Sending.OutboxDir = t.TempDir()
	cfg.Reports.SummaryTo = "a@example.org, b@example.org"
	sender, transport, err := Transport(&cfg)
	if err != nil || !strings.HasPrefix(transport, "outbox ") {
		t.Fatalf("Transport with no smtp.host = %q, %v; want the outbox", transport, err)
	}
	defer sender.Close()
	sch := &store.Schedule{Spec: "0 9 15 3,6,9,12 *", Reminder: "Préparer la lettre\ndu trimestre"}
	if err := Remind(context.Background(), &cfg, sender, sch); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.Sending.OutboxDir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("%d reminders written, want one per address in reports.summary_to", len(files))
	}
}
