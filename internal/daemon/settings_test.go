package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/store"
)

// Settings saved in the console while the daemon runs are used by the next
// campaign without a restart: its messages carry the new organisation and
// From, and the engine takes the new quiet hours when it starts it.
func TestConsoleSettingsReachTheNextCampaign(t *testing.T) {
	d := newOutboxDaemon(t)
	ctx := context.Background()
	snd := d.startSending(ctx, t)
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := snd.stop(stop); err != nil {
			t.Error(err)
		}
	}()

	// Quiet hours that do not hold this test back: two hours from now.
	now := time.Now().In(d.cfg.Location())
	quiet := now.Add(2*time.Hour).Format("15:04") + "-" + now.Add(3*time.Hour).Format("15:04")
	problems, err := snd.settings.Save(ctx, map[string]string{
		"organisation.name": "Mission Clauses Sociales", "sending.from": "Mission Clauses <lettre@mics34.example.org>",
		"sending.quiet_hours": quiet,
	})
	if err != nil || len(problems) > 0 {
		t.Fatalf("Save = %v, %v", problems, err)
	}

	if err := Demo(ctx, &d.cfg, d.st, d.log); err != nil {
		t.Fatal(err)
	}
	if c := d.demoCampaign(ctx, t); c.State != store.Sent {
		t.Fatalf("demo campaign is %s, want sent", c.State)
	}
	files, err := filepath.Glob(filepath.Join(d.cfg.Sending.OutboxDir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("outbox: %v, %v", files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	msg := string(raw)
	if !strings.Contains(msg, "lettre@mics34.example.org") {
		t.Errorf("message does not come from the saved From:\n%.600s", msg)
	}
	if !strings.Contains(msg, "Mission Clauses Sociales") {
		t.Errorf("message does not name the saved organisation")
	}
	want, err := campaign.ParseQuiet(quiet, false, d.cfg.Location())
	if err != nil {
		t.Fatal(err)
	}
	if got := snd.engine.Pace().Quiet; got.Start != want.Start || got.End != want.End {
		t.Errorf("engine's quiet hours = %+v, want the saved %s", got, quiet)
	}
}
