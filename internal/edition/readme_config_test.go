package edition

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/config"
)

// TestReadmeConfigLoads keeps the example README's organisation settings
// copyable: its YAML snippet must load with the real config loader.
func TestReadmeConfigLoads(t *testing.T) {
	readme, err := os.ReadFile("../../docs/examples/2020-edition-10-ans/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml snippet")
	}
	snippet, _, _ := strings.Cut(rest, "```\n")
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := snippet + "store:\n  path: " + filepath.Join(dir, "bulletin.db") + "\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("README's organisation settings do not load: %v", err)
	}
	o := c.Organisation
	if o.Name != "Mission Interinstitutionnelle Clause Sociale 34 (MICS 34)" || o.Facebook != "https://www.facebook.com/mics34" ||
		!strings.HasSuffix(o.LogoURL, "/logo-mics34.png") || !strings.Contains(o.Address, "34080 Montpellier") {
		t.Errorf("organisation = %+v", o)
	}
}
