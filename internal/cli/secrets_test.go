package cli

import (
	"strings"
	"testing"
)

// With imap.host and smtp.username set but their passwords only in the
// daemon's environment, the offline commands run, and the ones that
// connect say which password they miss (issue 13).
func TestOfflineCommandsNeedNoSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", storeYAML(t, dir)+
		"smtp:\n  host: 127.0.0.1\n  port: 1\n  username: lettre\n"+
		"imap:\n  host: 127.0.0.1\n  port: 1\n  username: bounces\n")
	edition := writeFile(t, dir, "lettre.md", goodEdition)
	for _, args := range [][]string{
		{"edition", "check", edition},
		{"edition", "render", edition},
		{"report", "editions"},
		{"report", "lists"},
	} {
		if out, err := run(t, dir, args...); err != nil {
			t.Errorf("%s = %v\n%s; want it to run without the passwords", strings.Join(args, " "), err, out)
		}
	}
	if _, err := run(t, dir, "mailbox", "check"); err == nil || !strings.Contains(err.Error(), "imap.password: required") {
		t.Errorf("mailbox check = %v, want imap.password named", err)
	}
	csvFile := writeFile(t, dir, "abonnes.csv", "email\nanne@example.net\n")
	if out, err := run(t, dir, "import", "--create-list", "--list", "Partenaires", csvFile); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := run(t, dir, "campaign", "create", "--edition", edition, "--list", "Partenaires", "--name", "Lettre"); err != nil {
		t.Fatalf("campaign create: %v\n%s", err, out)
	}
	if _, err := run(t, dir, "campaign", "send", "--yes", "--wait", "Lettre"); err == nil || !strings.Contains(err.Error(), "smtp.password: required") {
		t.Errorf("campaign send --wait = %v, want smtp.password named", err)
	}
}
