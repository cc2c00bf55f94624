package cli

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"bulletin/internal/store"
)

// TestServeDemoOnATakenPort: "serve --demo" on a port another program holds
// stops with the bind error and has queued nothing, imported no one.
func TestServeDemoOnATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	cfg := "server:\n  listen: " + taken.Addr().String() + "\n" + storeYAML(t, dir) + "sending:\n  outbox_dir: " + filepath.Join(dir, "outbox") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The demo reads its subscribers and edition from the repository's root.
	t.Chdir("../..")

	_, err = run(t, dir, "serve", "--demo")
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "server.listen") {
		t.Fatalf("serve --demo on a taken port = %v, want server.listen: address already in use", err)
	}
	st, err := store.Open(context.Background(), storeLocation(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	campaigns, err := st.Campaigns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	subscribers, err := st.CountSubscribers(context.Background(), store.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(campaigns) != 0 || subscribers != 0 {
		t.Errorf("after the failed start: %d campaigns, %d subscribers; want none", len(campaigns), subscribers)
	}
}
