package settings_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"bulletin/internal/config"
	"bulletin/internal/settings"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// Two daemons on one database: a change saved in one's console reaches the
// other at its next Refresh, and only a change bumps the version.
func TestRefreshSeesAnotherDaemonsSave(t *testing.T) {
	ctx := context.Background()
	loc := pgtest.Location(t)
	var stores [2]*store.Storage
	for i := range stores {
		st, err := store.Open(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	cfg, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	if err != nil {
		cfg = config.Default()
	}
	one, err := settings.Load(ctx, &cfg, stores[0])
	if err != nil {
		t.Fatal(err)
	}
	other, err := settings.Load(ctx, &cfg, stores[1])
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := one.Save(ctx, map[string]string{"organisation.name": "Réseau des partenaires"}); err != nil || len(problems) > 0 {
		t.Fatalf("Save = %v, %v", problems, err)
	}
	if got := other.Current().Organisation.Name; got == "Réseau des partenaires" {
		t.Fatal("the other daemon saw the change before reading it again")
	}
	before := other.Version()
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := other.Current().Organisation.Name; got != "Réseau des partenaires" {
		t.Errorf("after Refresh, organisation.name = %q", got)
	}
	if other.Version() != before+1 {
		t.Errorf("version %d after a changed Refresh, want %d", other.Version(), before+1)
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if other.Version() != before+1 {
		t.Errorf("an unchanged Refresh bumped the version to %d", other.Version())
	}
}
