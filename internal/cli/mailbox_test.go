package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
)

func TestMailboxClassifyContract(t *testing.T) {
	hard, err := filepath.Abs(filepath.Join("..", "..", "testdata", "bounces", "lhost-postfix-05.eml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A config.yaml that does not even parse: classify must not read it.
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("store: [broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	reply := filepath.Join(dir, "reply.eml")
	os.WriteFile(reply, []byte("From: Paul <paul@example.net>\r\nTo: newsletter@example.org\r\nSubject: Re: Lettre\r\n\r\nMerci !\r\n"), 0o644)

	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"mailbox", "classify", hard, reply, "--json"}, &out, &errOut); err != nil {
		t.Fatalf("Run = %v (%s)", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per file:\n%s", len(lines), out.String())
	}
	// The contract: exactly these keys, recipients an array (never null).
	want := []string{"diagnostic", "file", "kind", "recipients", "status"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, line)
			}
		}
		if _, ok := m["recipients"].([]any); !ok {
			t.Errorf("line %d: recipients = %v, want an array", i, m["recipients"])
		}
	}
	var first struct {
		File       string
		Kind       string
		Recipients []string
		Status     string
	}
	json.Unmarshal([]byte(lines[0]), &first)
	if first.File != hard || first.Kind != "hard" || len(first.Recipients) != 1 || first.Recipients[0] != "kijitora@example.org" || first.Status != "4.1.1" {
		t.Errorf("first line = %+v", first)
	}
	if !strings.Contains(lines[1], `"kind":"reply","recipients":[]`) {
		t.Errorf("second line = %s", lines[1])
	}
}

func TestMailboxClassifyMissingFile(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"mailbox", "classify", "--json", filepath.Join(t.TempDir(), "nope.eml")}, &out, &errOut)
	if err == nil || ExitCode(err, &errOut) != 1 || !strings.Contains(errOut.String(), "nope.eml") {
		t.Errorf("Run = %v, stderr %q; want exit 1 naming the file", err, errOut.String())
	}
	if err := Run(context.Background(), []string{"mailbox", "classify"}, &out, &errOut); ExitCode(err, &errOut) != 2 {
		t.Errorf("no files: Run = %v, want a usage error", err)
	}
}

func TestMailboxEvents(t *testing.T) {
	dir := setup(t)
	cfgPath := filepath.Join(dir, "config.yaml")
	ctx := context.Background()
	st, err := store.Open(ctx, storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	for i, kind := range []string{"hard", "reply"} {
		ev := &store.MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Kind: kind, Reason: "user_unknown",
			Recipients: []string{"a@example.fr"}, From: "mailer-daemon@example.net", ProcessedAt: time.Now()}
		if _, err := st.RecordMailboxEvent(ctx, ev, store.MailboxEffect{}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"--config", cfgPath, "mailbox", "events", "--kind", "hard"}, &out, &errOut); err != nil {
		t.Fatalf("Run = %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "hard") || strings.Contains(out.String(), "reply") || !strings.Contains(out.String(), "a@example.fr") {
		t.Errorf("output:\n%s", out.String())
	}
	out.Reset()
	if err := Run(ctx, []string{"--config", cfgPath, "mailbox", "events", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d JSON lines, want 2:\n%s", n, out.String())
	}
	if err := Run(ctx, []string{"--config", cfgPath, "mailbox", "events", "--kind", "bounce"}, &out, &errOut); ExitCode(err, &errOut) != 2 {
		t.Errorf("--kind bounce: Run = %v, want a usage error", err)
	}
}
