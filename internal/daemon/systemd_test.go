package daemon

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The units shipped in docs/systemd, relative to this package.
const systemdDir = "../../docs/systemd"

var systemdUnits = []string{"bulletin.service", "bulletin-backup.service", "bulletin-backup.timer"}

// TestSystemdUnitsHardened reads the shipped service for the settings
// docs/operations.md promises, so that nobody loosens one unnoticed.
func TestSystemdUnitsHardened(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(systemdDir, "bulletin.service"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(src), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"User=bulletin", "ProtectSystem=strict", "ReadWritePaths=/var/lib/bulletin", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "ProtectHome=yes", "Restart=on-failure", "EnvironmentFile=/etc/bulletin/bulletin.env",
	} {
		if !lines[want] {
			t.Errorf("bulletin.service lacks %q", want)
		}
	}
	for l := range lines {
		if strings.HasPrefix(l, "ReadWritePaths=") && l != "ReadWritePaths=/var/lib/bulletin" {
			t.Errorf("bulletin.service: %q: the data folder must be the only writable path", l)
		}
	}
}

// TestSystemdVerify runs systemd-analyze verify on the shipped units, when
// the machine has it. verify exits 0 on a setting it ignores ("Failed to
// parse ..., ignoring"), so any line it prints about the units fails too.
func TestSystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	// verify checks that ExecStart's program exists: point it at this test
	// binary instead of /usr/local/bin/bulletin.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range systemdUnits {
		src, err := os.ReadFile(filepath.Join(systemdDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte("/usr/local/bin/bulletin")) && strings.HasSuffix(name, ".service") {
			t.Errorf("%s does not run /usr/local/bin/bulletin, which docs/operations.md installs", name)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, bytes.ReplaceAll(src, []byte("/usr/local/bin/bulletin"), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	var complaints []string
	for _, l := range strings.Split(string(out), "\n") {
		for _, name := range systemdUnits {
			if strings.Contains(l, name) {
				complaints = append(complaints, l)
				break
			}
		}
	}
	if err != nil || len(complaints) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(complaints, "\n"))
	}
}
