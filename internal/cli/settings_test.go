package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/config"
	"bulletin/internal/settings"
	"bulletin/internal/store"
)

// A sender saved in the console's settings is the one a campaign created
// and sent from the command line uses, as the daemon would: the commands
// read the configuration in force, not config.yaml alone.
func TestCommandsUseConsoleSettings(t *testing.T) {
	ctx := context.Background()
	dir, outbox := setupOutbox(t)
	csv := writeFile(t, dir, "contacts.csv", "email\na@example.org\nb@example.org\n")
	if _, err := run(t, dir, "import", csv, "--list", "Partenaires", "--create-list"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	prov, err := settings.Load(ctx, &cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	const from = "Réseau des partenaires <lettre@partenaires.example>"
	if problems, err := prov.Save(ctx, map[string]string{"sending.from": from}); err != nil || len(problems) > 0 {
		t.Fatalf("Save = %v, %v", problems, err)
	}
	st.Close()

	good := writeFile(t, dir, "lettre.md", goodEdition)
	if _, err := run(t, dir, "campaign", "create", "--edition", good, "--list", "Partenaires"); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, dir, "campaign", "send", "Lettre 10")
	if !strings.Contains(out, "from: "+from) {
		t.Errorf("the confirmation does not show the console's sender %q:\n%s", from, out)
	}
	if out, err := run(t, dir, "campaign", "send", "Lettre 10", "--yes", "--wait"); err != nil {
		t.Fatalf("campaign send --yes --wait = %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("%d messages in the outbox, want 2", len(files))
	}
	msg, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), "lettre@partenaires.example") {
		t.Errorf("the message is not from the console's sender:\n%.600s", msg)
	}
}
