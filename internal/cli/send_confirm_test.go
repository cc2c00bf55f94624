package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/store"
)

// setupOutbox is setup with the outbox folder in the test's directory.
func setupOutbox(t *testing.T) (dir, outbox string) {
	t.Helper()
	dir = t.TempDir()
	outbox = filepath.Join(dir, "outbox")
	cfg := storeYAML(t, dir) + "sending:\n  outbox_dir: " + outbox + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, outbox
}

// Issue 12 §3: "campaign send" shows who gets the campaign once the
// suppressed are left out, and sends only when confirmed: without a
// terminal and without --yes it refuses and changes nothing. Issue 12 §1:
// once sent through the outbox, "campaign status" and "report" say the
// messages were written to the outbox, not sent.
func TestCampaignSendConfirmsAndOutboxWording(t *testing.T) {
	dir, outbox := setupOutbox(t)
	csv := writeFile(t, dir, "contacts.csv", "email\na@example.org\nb@example.org\nc@example.org\nd@example.org\n")
	if _, err := run(t, dir, "import", csv, "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.SubscriberByEmail(context.Background(), "d@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStatus(context.Background(), d.ID, store.StatusChange{Status: store.Unsubscribed, Source: "admin"}); err != nil {
		t.Fatal(err)
	}
	good := writeFile(t, dir, "lettre.md", goodEdition)
	if _, err := run(t, dir, "campaign", "create", "--edition", good, "--list", "Partenaires"); err != nil {
		t.Fatal(err)
	}

	// go test's standard input is not a terminal: refused, still a draft.
	out, err := run(t, dir, "campaign", "send", "Lettre 10")
	if err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("campaign send without --yes = %v, want a refusal naming --yes", err)
	}
	for _, want := range []string{"recipients: 3 (left out: 1 suppressed", "lists: Partenaires", "subject: La lettre de printemps", "from: ", "OUTBOX: "} {
		if !strings.Contains(out, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, out)
		}
	}
	if status, _ := run(t, dir, "campaign", "status", "Lettre 10"); !strings.Contains(status, "state: draft") ||
		!strings.Contains(status, "now 3 (left out: 1 suppressed") {
		t.Fatalf("a refused send changed the campaign:\n%s", status)
	}

	out, err = run(t, dir, "campaign", "send", "Lettre 10", "--yes", "--wait")
	if err != nil {
		t.Fatalf("campaign send --yes --wait = %v\n%s", err, out)
	}
	if files, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(files) != 3 {
		t.Fatalf("%d messages in the outbox, want 3", len(files))
	}
	status, err := run(t, dir, "campaign", "status", "Lettre 10")
	if err != nil || !strings.Contains(status, "written to the outbox, not sent: 3 of the 3 sent") {
		t.Errorf("campaign status = %v:\n%s", err, status)
	}
	var js map[string]any
	out, _ = run(t, dir, "campaign", "status", "Lettre 10", "--json")
	if json.Unmarshal([]byte(out), &js); js["transport"] != "outbox" || js["outboxed"] != float64(3) {
		t.Errorf("campaign status --json: transport %v, outboxed %v", js["transport"], js["outboxed"])
	}
	text, err := run(t, dir, "report", "Lettre 10")
	if err != nil || !strings.Contains(text, "OUTBOX: 3 messages were written to the outbox folder") ||
		!strings.Contains(text, "written to the outbox") || strings.Contains(text, "delivery rate") {
		t.Errorf("report = %v:\n%s", err, text)
	}
	out, _ = run(t, dir, "report", "Lettre 10", "--json")
	js = nil
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatal(err)
	}
	if js["transport"] != "outbox" || js["sent"] != float64(3) || js["recipients"] != float64(4) || js["skipped"] != float64(1) {
		t.Errorf("report --json: transport %v sent %v recipients %v skipped %v", js["transport"], js["sent"], js["recipients"], js["skipped"])
	}

	// The same edition to the same list again: the confirmation warns.
	if _, err := run(t, dir, "campaign", "create", "--edition", "lettre", "--list", "Partenaires", "--name", "Encore"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, dir, "campaign", "send", "Encore")
	if !strings.Contains(out, `WARNING: this edition was already sent to these lists by campaign "Lettre 10"`) {
		t.Errorf("second send lacks the warning:\n%s", out)
	}
}

func TestConfirmedAnswers(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "yes\n": true, "O\n": true, "oui\r\n": true, "\n": false, "n\n": false, "": false, "sure\n": false} {
		var out bytes.Buffer
		if got := confirmed(strings.NewReader(in), &out); got != want || !strings.Contains(out.String(), "[y/N]") {
			t.Errorf("confirmed(%q) = %v, want %v (asked %q)", in, got, want, out.String())
		}
	}
}

// Issue 12 §3: a typo in a list name is refused with the close names,
// unless --create-list; a dry run never creates the list.
func TestImportRefusesUnknownList(t *testing.T) {
	dir := setup(t)
	csv := writeFile(t, dir, "contacts.csv", "email\na@example.org\n")
	if _, err := run(t, dir, "list", "create", "Partenaires"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"import", csv, "--list", "Partenaire"},
		{"import", csv, "--list", "partenaires ", "--dry-run"},
		{"import", csv, "--list", "PARTENAÏRES"},
	} {
		_, err := run(t, dir, args...)
		if err == nil || !strings.Contains(err.Error(), `did you mean "Partenaires"?`) || !strings.Contains(err.Error(), "--create-list") {
			t.Errorf("%s = %v, want the close list suggested", strings.Join(args, " "), err)
		}
	}
	if _, err := run(t, dir, "import", csv, "--list", "Acheteurs", "--create-list", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	lists, _ := run(t, dir, "list", "ls")
	if strings.Contains(lists, "Partenaire\t") || strings.Contains(lists, "Acheteurs") {
		t.Errorf("a refused import or a dry run made a list:\n%s", lists)
	}
	out, err := run(t, dir, "import", csv, "--list", "Acheteurs", "--create-list")
	if err != nil || !strings.Contains(out, "added: 1") {
		t.Errorf("import --create-list = %v:\n%s", err, out)
	}
	if _, err := run(t, dir, "import", csv, "--list", "Zzz"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a list with no close name = %v, want a refusal without a suggestion", err)
	}
}
