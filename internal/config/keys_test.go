package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKeysOriginSetAndProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("organisation:\n  name: Fichier\nsending:\n  rate: 2.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, []string{"BULLETIN_ORGANISATION_COLOUR=#112233"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.EnvVar("organisation.colour"); got != "BULLETIN_ORGANISATION_COLOUR" {
		t.Errorf(`EnvVar("organisation.colour") = %q`, got)
	}
	if got := cfg.EnvVar("organisation.name"); got != "" {
		t.Errorf(`EnvVar("organisation.name") = %q, want "" (from the file)`, got)
	}
	if v, err := cfg.Value("sending.rate"); err != nil || v != "2.5" {
		t.Errorf(`Value("sending.rate") = %q, %v`, v, err)
	}

	c := cfg.Clone()
	if err := c.Set("organisation.name", "Console", "console"); err != nil {
		t.Fatal(err)
	}
	if cfg.Organisation.Name != "Fichier" || cfg.Where("organisation.name") != file+":2" {
		t.Errorf("Set on a clone changed the original: %q at %s", cfg.Organisation.Name, cfg.Where("organisation.name"))
	}
	if c.Where("organisation.name") != "console" {
		t.Errorf("Where after Set = %q, want console", c.Where("organisation.name"))
	}
	if err := c.Set("sending.hourly_quota", "beaucoup", "console"); err == nil {
		t.Error(`Set("sending.hourly_quota", "beaucoup") = nil, want an error`)
	}

	// Problems lists every rule broken, each with its key, where validate
	// stops at the first.
	c.Organisation.Colour, c.Sending.From = "bleu", "pas une adresse"
	keys := map[string]bool{}
	for _, p := range c.Problems() {
		keys[p.Key] = true
	}
	if !keys["organisation.colour"] || !keys["sending.from"] || len(keys) != 2 {
		t.Errorf("Problems keys = %v, want organisation.colour and sending.from", keys)
	}
}
