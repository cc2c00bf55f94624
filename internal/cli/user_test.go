package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/store"
)

func TestUserCommands(t *testing.T) {
	dir := setup(t)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short\n"), 0o600)

	out, err := run(t, dir, "user", "add", "Admin@Example.org", "--role", "admin", "--name", "Chloé", "--password-file", pw)
	if err != nil || !strings.Contains(out, "created admin account Admin@example.org") {
		t.Fatalf("user add = %q, %v", out, err)
	}
	if _, err := run(t, dir, "user", "add", "admin@example.org", "--password-file", pw); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user add = %v", err)
	}
	if _, err := run(t, dir, "user", "add", "ed@example.org", "--password-file", short); err == nil || !strings.Contains(err.Error(), "shorter than 10") {
		t.Errorf("short password = %v", err)
	}
	if _, err := run(t, dir, "user", "add", "ed@example.org", "--role", "root", "--password-file", pw); ExitCode(err, new(strings.Builder)) != 2 {
		t.Errorf("bad role = %v, want a usage error", err)
	}
	if _, err := run(t, dir, "user", "add", "not-an-address", "--password-file", pw); err == nil {
		t.Error("bad address accepted")
	}
	// Without a file, the password comes from standard input (here not a
	// terminal, and empty).
	if _, err := run(t, dir, "user", "add", "ed@example.org"); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("no password = %v", err)
	}
	if _, err := run(t, dir, "user", "add", "ed@example.org", "--password-file", pw); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dir, "user", "ls")
	if err != nil || !strings.Contains(out, "admin@example.org") && !strings.Contains(out, "Admin@example.org") || !strings.Contains(out, "editor") {
		t.Errorf("user ls = %q, %v", out, err)
	}
	if strings.Contains(out, "$2a$") {
		t.Error("user ls prints the hash")
	}
	newPw := filepath.Join(dir, "new")
	os.WriteFile(newPw, []byte("another long password"), 0o600)
	if _, err := run(t, dir, "user", "passwd", "ed@example.org", "--password-file", newPw); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(context.Background(), "ed@example.org", "another long password"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	st.Close()
	if _, err := run(t, dir, "user", "rm", "admin@example.org"); err == nil || !strings.Contains(err.Error(), "last admin") {
		t.Errorf("removing the last admin = %v", err)
	}
	if _, err := run(t, dir, "user", "rm", "ed@example.org"); err != nil {
		t.Error(err)
	}
	if _, err := run(t, dir, "user", "rm", "nobody@example.org"); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Errorf("rm unknown = %v", err)
	}
	if _, err := run(t, dir, "user", "rm", "admin@example.org", "--force"); err != nil {
		t.Error(err)
	}
}

func TestTokenCommands(t *testing.T) {
	dir := setup(t)
	out, err := run(t, dir, "token", "create", "site web", "--role", "editor")
	secret := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(secret, store.APITokenPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create = %q, %v; want the secret alone on stdout", out, err)
	}
	if _, err := run(t, dir, "token", "create", "site web"); err == nil {
		t.Error("duplicate token name accepted")
	}
	out, err = run(t, dir, "token", "ls")
	if err != nil || !strings.Contains(out, "site web") || strings.Contains(out, secret) || !strings.Contains(out, "live") {
		t.Errorf("token ls = %q, %v", out, err)
	}
	if _, err := run(t, dir, "token", "revoke", "site web"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, dir, "token", "ls")
	if !strings.Contains(out, "revoked") {
		t.Errorf("token ls after revoke = %q", out)
	}
	if _, err := run(t, dir, "token", "revoke", "site web"); err == nil {
		t.Error("revoking twice succeeded")
	}
	st, err := store.Open(context.Background(), storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.APITokenBySecret(context.Background(), secret); err == nil {
		t.Error("revoked token still works")
	}
}
