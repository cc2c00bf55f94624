package daemon

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/store"
)

// The daemon's applier applies, as soon as it starts, the unsubscribes that
// were kept in the intake while another process held the database (here
// left by a previous run that stopped before applying them), and stops
// when asked.
func TestIntakeAppliedAtStart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sub := &store.Subscriber{Email: "lecteur@example.org", Status: store.Active}
	if err := st.AddSubscriber(ctx, sub, nil, false); err != nil {
		t.Fatal(err)
	}
	// Another process (a command-line import) holds the database's lock.
	other, err := sql.Open("sqlite3", "file:"+url.PathEscape(path))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if err := st.Unsubscribe(ctx, sub.ID, "one-click", 0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn.ExecContext(ctx, "ROLLBACK")
	conn.Close()
	other.Close()

	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := startIntake(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var status store.Status
	for range 200 {
		got, err := st.SubscriberByID(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if status = got.Status; status == store.Unsubscribed {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.stop(stop); err != nil {
		t.Fatal(err)
	}
	if status != store.Unsubscribed {
		t.Errorf("status after the applier started = %s, want unsubscribed", status)
	}
}
