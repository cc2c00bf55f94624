package daemon

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

// The purge deletes, when it starts, the rate limits' buckets that are
// full again, so that the table does not keep every client ever seen.
func TestPurgeRateLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "bulletin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A try taken an hour ago from a bucket of one: the bucket has been
	// full again for 59 minutes. Tried again at that hour, it is empty for
	// as long as its row is kept; once purged, a new bucket gives the try.
	l := store.RateLimit{Name: "login_ip", Every: time.Minute, Burst: 1}
	past := time.Now().Add(-time.Hour)
	if ok, err := st.TakeTry(ctx, l, "198.51.100.7", past); !ok || err != nil {
		t.Fatalf("first try = %v, %v", ok, err)
	}
	if ok, _ := st.TakeTry(ctx, l, "198.51.100.7", past); ok {
		t.Fatal("a bucket of one gave two tries")
	}
	cfg := config.Default()
	done := make(chan struct{})
	go func() {
		purgeExpired(ctx, &cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	purged := false
	for range 500 {
		ok, err := st.TakeTry(ctx, l, "198.51.100.7", past)
		if err != nil {
			t.Fatal(err)
		}
		if purged = ok; purged {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if !purged {
		t.Error("the purge kept a bucket full again for 59 minutes")
	}
}
