package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store"
)

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"550 user unknown\x1b[2J":   "550 user unknown[2J",
		"a\tb\nc\rd\x00e\x7ff":      "a\tb\ncdef",
		"csi \u009b31m, nel \u0085": "csi 31m, nel ",
		"latin-1 csi \x9b2J":        "latin-1 csi \uFFFD2J",
		"Chloé « Sète » 10 %":       "Chloé « Sète » 10 %",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEventsPrintNoEscapes records a bounce whose diagnostic clears the
// screen (a remote server writes it, or anyone who mails the bounce
// address) and prints the events: as text the escape is gone; as JSON it
// is escaped and reads back unchanged.
func TestEventsPrintNoEscapes(t *testing.T) {
	dir := setup(t)
	cfgPath := filepath.Join(dir, "config.yaml")
	ctx := context.Background()
	st, err := store.Open(ctx, storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	const diag = "550 5.1.1 unknown\x1b[2J\x1b]0;pwned\x07 \u009b31m\x7f"
	ev := &store.MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Kind: "hard", Reason: "user_unknown\x1b[2J",
		Diagnostic: diag, Error: "no match\x1b[2J", Recipients: []string{"a@example.fr"}, ProcessedAt: time.Now()}
	if _, err := st.RecordMailboxEvent(ctx, ev, store.MailboxEffect{}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"--config", cfgPath, "mailbox", "events"}, &out, &errOut); err != nil {
		t.Fatalf("Run = %v (%s)", err, errOut.String())
	}
	if s := out.String(); strings.ContainsAny(s, "\x1b\x07\x7f\u009b") || !strings.Contains(s, "user_unknown[2J") {
		t.Errorf("text output holds control characters or lost the text: %q", s)
	}

	out.Reset()
	if err := Run(ctx, []string{"--config", cfgPath, "mailbox", "events", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\x07\x7f\u009b") || !strings.Contains(s, `\u001b[2J`) || !strings.Contains(s, `\u009b31m\u007f`) {
		t.Errorf("JSON output holds raw control characters: %q", s)
	}
	var got struct{ Diagnostic string }
	if err := json.Unmarshal([]byte(s), &got); err != nil || got.Diagnostic != diag {
		t.Errorf("JSON diagnostic = %q, %v; want %q back", got.Diagnostic, err, diag)
	}
}
