package campaign

import (
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
)

// The outbox transport: one .eml file per message, each a valid message,
// and the ledger says where it went.
func TestCampaignToOutbox(t *testing.T) {
	f := newFixture(t, 5)
	dir := filepath.Join(f.dir, "outbox")
	ob, err := outbox.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.start()
	if c := f.runUntil(f.engine(ob, Options{Workers: 1}), 30*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s", c.State)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 5 {
		t.Fatalf("%d .eml files, want 5", len(files))
	}
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(m.Header.Get("Return-Path"), "<bounces+") || m.Header.Get("X-Bulletin-Campaign") != f.c.UUID.String() {
			t.Errorf("%s: Return-Path %q, campaign %q", name, m.Header.Get("Return-Path"), m.Header.Get("X-Bulletin-Campaign"))
		}
	}
	for e, d := range f.ledger() {
		if d.State != store.Delivered || !strings.HasPrefix(d.Reply, "outbox: "+dir) {
			t.Errorf("%s: %s %q", e, d.State, d.Reply)
		}
	}
}

// Test sends are marked and stay out of the ledger.
func TestSendTests(t *testing.T) {
	f := newFixture(t, 2)
	dir := filepath.Join(f.dir, "outbox")
	ob, _ := outbox.New(dir)
	ed, err := ParseStored(&store.Edition{Slug: "2020-edition-10-ans", Source: mustRead(t, examplePath), Dir: filepath.Dir(examplePath)})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := f.content.EditionComposer(f.c, ed)
	if err != nil {
		t.Fatal(err)
	}
	_, errs := SendTests(f.ctx, ob, comp, []string{"staff@example.org", "chef@example.org"})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}
	fh, _ := os.Open(files[0])
	defer fh.Close()
	m, _ := mail.ReadMessage(fh)
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if m.Header.Get("X-Bulletin-Test") != "yes" || !strings.HasPrefix(strings.TrimSpace(subj), "[TEST] ") || m.Header.Get("X-Bulletin-Delivery") != "" {
		t.Errorf("test copy: X-Bulletin-Test %q, subject %q, delivery %q", m.Header.Get("X-Bulletin-Test"), subj, m.Header.Get("X-Bulletin-Delivery"))
	}
	if n := f.counts(); n.Total != 0 {
		t.Errorf("test sends wrote %d ledger rows", n.Total)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
