package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"bulletin/internal/outgoing"
	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
)

// "subscriber erase" erases with the server secret of the configuration
// (a keyed hash that a store opened with another secret cannot use) and
// deletes the outbox files addressed to the person, and no others.
func TestSubscriberEraseKeyedAndOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const secret = "the server secret, thirty-two chars or more"
	box := filepath.Join(dir, "outbox")
	cfg := storeYAML(t, dir) + "server:\n  secret: " + secret +
		"\nsending:\n  outbox_dir: " + box + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	location := storeLocation(t, dir)
	st, err := store.Open(ctx, location, store.WithSecret([]byte(secret)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddSubscriber(ctx, &store.Subscriber{Email: "Partie@example.org", Status: store.Active}, nil, false); err != nil {
		t.Fatal(err)
	}
	st.Close()
	sender, err := outbox.New(box)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"partie@example.org", "reste@example.org"} {
		m := &outgoing.Message{From: outgoing.Address{Addr: "lettre@example.org"}, To: outgoing.Address{Name: "Chloé", Addr: to},
			Subject: "Lettre", Text: "Bonjour\n", EnvelopeFrom: "bounces@example.org"}
		if _, err := sender.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := run(t, dir, "subscriber", "erase", "PARTIE@example.org"); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(box, "*.eml"))
	if len(left) != 1 {
		t.Errorf("%d outbox files left, want 1 (the other reader's)", len(left))
	}
	if _, err := store.Open(ctx, location); !errors.Is(err, store.ErrErasureKey) {
		t.Errorf("Open without the server secret after the erasure = %v, want ErrErasureKey", err)
	}
	st, err = store.Open(ctx, location, store.WithSecret([]byte(secret)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if erased, err := st.IsErased(ctx, "partie@example.org"); !erased || err != nil {
		t.Errorf("IsErased = %v, %v; want true", erased, err)
	}
}
