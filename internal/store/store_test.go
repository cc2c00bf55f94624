package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"bulletin/internal/store/pgtest"
)

// The store's tests run twice: on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }

// open returns a Storage on a real SQLite file in a temporary folder, or on
// a new PostgreSQL database in the run on PostgreSQL.
func open(t *testing.T) *Storage {
	t.Helper()
	s, err := Open(context.Background(), pgtest.Location(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrationsFromEmpty(t *testing.T) {
	ctx := context.Background()
	path := pgtest.Location(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	dir, tables := "migrations/sqlite", "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if pgtest.Postgres() {
		dir, tables = "migrations/postgres", "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	files, _ := migrations.ReadDir(dir)
	var applied int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("applied %d migrations, want %d", applied, len(files))
	}
	for _, table := range []string{"subscribers", "lists", "list_members", "suppressions", "campaigns", "deliveries", "mailbox_events"} {
		var n int
		if err := s.r.QueryRowContext(ctx, tables, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, err %v", table, n, err)
		}
	}
	if !pgtest.Postgres() {
		var fk, journal string
		s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal)
		if fk != "1" || journal != "wal" {
			t.Errorf("foreign_keys = %s, journal_mode = %s; want 1, wal", fk, journal)
		}
	}
	s.Close()

	// Reopening applies nothing twice.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var again int
	s.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&again)
	if again != applied {
		t.Errorf("after reopening, %d migrations recorded, want %d", again, applied)
	}
}

func TestSecretIsStable(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	a, err := s.Secret(ctx)
	if err != nil || len(a) != 32 {
		t.Fatalf("Secret() = %x, %v; want 32 bytes", a, err)
	}
	b, _ := s.Secret(ctx)
	if string(a) != string(b) {
		t.Error("Secret() changed between calls")
	}
}

func TestBackupWhileOpen(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "a@example.org", Status: Active}, []string{"Partenaires"}, false); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if pgtest.Postgres() {
		// A backup copies SQLite's file; PostgreSQL has pg_dump.
		if err := s.Backup(ctx, dest); err == nil {
			t.Error("Backup of a PostgreSQL store succeeded, want a refusal naming pg_dump")
		}
		return
	}
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dest); err == nil {
		t.Error("Backup over an existing file succeeded, want an error")
	}
	c, err := Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.SubscriberByEmail(ctx, "A@example.org"); err != nil {
		t.Errorf("backup lacks the subscriber: %v", err)
	}
}

func TestSubscribersAndSuppression(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sub := &Subscriber{Email: "Jeanne.Martin@example.org", FirstName: "Jeanne", Status: Active, Consent: Consent{Source: "admin"}}
	if err := s.AddSubscriber(ctx, sub, []string{"Partenaires", "Acheteurs publics"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "jeanne.martin@example.org", Status: Active}, nil, false); !errors.Is(err, ErrDuplicate) {
		t.Errorf("AddSubscriber(same address, other case) = %v, want ErrDuplicate", err)
	}
	got, err := s.SubscriberByEmail(ctx, "JEANNE.MARTIN@example.org")
	if err != nil || got.UUID != sub.UUID || got.Email != "Jeanne.Martin@example.org" {
		t.Fatalf("SubscriberByEmail = %+v, %v", got, err)
	}
	if _, err := s.SubscriberByEmail(ctx, "nobody@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SubscriberByEmail(unknown) = %v, want ErrNotFound", err)
	}
	lists, _ := s.SubscriberLists(ctx, sub.ID)
	if len(lists) != 2 || !lists["Partenaires"] {
		t.Errorf("SubscriberLists = %v", lists)
	}

	// Unsubscribing sticks: nothing but the person's own opt-in lifts it.
	if ok, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Unsubscribed, Source: "one-click"}); !ok || err != nil {
		t.Fatalf("SetStatus(unsubscribed) = %v, %v", ok, err)
	}
	if _, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Active, Source: "admin"}); !errors.Is(err, ErrSuppressed) {
		t.Errorf("SetStatus(active) after unsubscribe = %v, want ErrSuppressed", err)
	}
	if ok, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Active, Source: "link", Force: true}); !ok || err != nil {
		t.Errorf("SetStatus(active, own opt-in) = %v, %v", ok, err)
	}

	n, _ := s.CountSubscribers(ctx, SubscriberFilter{Search: "martin"})
	m, _ := s.CountSubscribers(ctx, SubscriberFilter{Search: "' OR 1=1 --"})
	p, _ := s.CountSubscribers(ctx, SubscriberFilter{Search: "%"})
	if n != 1 || m != 0 || p != 0 {
		t.Errorf("search martin = %d, injection = %d, %% = %d; want 1, 0, 0", n, m, p)
	}
}

func TestErase(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sub := &Subscriber{Email: "erase.me@example.org", FirstName: "Éloïse", Status: Active}
	if err := s.AddSubscriber(ctx, sub, []string{"Partenaires"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseSubscriber(ctx, "Erase.Me@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubscriberByEmail(ctx, "erase.me@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after erase, SubscriberByEmail = %v, want ErrNotFound", err)
	}
	var leftovers int
	s.r.QueryRowContext(ctx, "SELECT count(*) FROM subscriber_events WHERE subscriber_id IS NOT NULL OR detail LIKE '%erase.me%'").Scan(&leftovers)
	if leftovers != 0 {
		t.Errorf("%d events still name the erased subscriber", leftovers)
	}
	if erased, _ := s.IsErased(ctx, "ERASE.ME@example.org"); !erased {
		t.Error("IsErased = false after erase")
	}
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "erase.me@example.org", Status: Active}, nil, false); !errors.Is(err, ErrSuppressed) {
		t.Errorf("re-adding an erased address = %v, want ErrSuppressed", err)
	}
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "erase.me@example.org", Status: Pending}, nil, true); err != nil {
		t.Errorf("the person's own opt-in = %v, want nil", err)
	}
	if err := s.EraseSubscriber(ctx, "nobody@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("EraseSubscriber(unknown) = %v, want ErrNotFound", err)
	}
}

func TestImportBatch(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "gone@example.org", Status: Active}, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseSubscriber(ctx, "gone@example.org"); err != nil {
		t.Fatal(err)
	}
	rows := []ImportRow{
		{Line: 2, Email: "a@example.org", FirstName: "Anne"},
		{Line: 3, Email: "b@example.org", Status: Unsubscribed},
		{Line: 4, Email: "A@example.org", FirstName: "Autre"},
		{Line: 5, Email: "gone@example.org"},
	}
	run := func(rows []ImportRow, commit bool) []Outcome {
		im, err := s.BeginImport(ctx, "Partenaires", "import test.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer im.Rollback()
		var out []Outcome
		for _, r := range rows {
			o, first, err := im.Apply(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if o == Duplicate && first.First != 2 {
				t.Errorf("duplicate of line %d, want 2", first.First)
			}
			out = append(out, o)
		}
		if commit {
			if err := im.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	same := func(got, want []Outcome) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	if got, want := run(rows, false), []Outcome{Added, Suppressed, Duplicate, Suppressed}; !same(got, want) {
		t.Errorf("dry run = %v, want %v", got, want)
	}
	if n, _ := s.CountSubscribers(ctx, SubscriberFilter{}); n != 0 {
		t.Errorf("after a rolled-back import, %d subscribers, want 0", n)
	}
	if got, want := run(rows, true), []Outcome{Added, Suppressed, Duplicate, Suppressed}; !same(got, want) {
		t.Errorf("first import = %v, want %v", got, want)
	}
	if got, want := run(rows, true), []Outcome{Unchanged, Suppressed, Duplicate, Suppressed}; !same(got, want) {
		t.Errorf("re-import = %v, want %v", got, want)
	}
	// A file claiming b is active does not lift the unsubscribe.
	if got := run([]ImportRow{{Line: 2, Email: "b@example.org", Status: Active}}, true); got[0] != Suppressed {
		t.Errorf("import of an unsubscribed address as active = %v, want Suppressed", got[0])
	}
	b, _ := s.SubscriberByEmail(ctx, "b@example.org")
	if b.Status != Unsubscribed {
		t.Errorf("b status = %s, want unsubscribed", b.Status)
	}
	if got := run([]ImportRow{{Line: 2, Email: "a@example.org", Organisation: "Mairie"}}, true); got[0] != Updated {
		t.Errorf("import with a new organisation = %v, want Updated", got[0])
	}
	a, _ := s.SubscriberByEmail(ctx, "a@example.org")
	if a.FirstName != "Anne" || a.Organisation != "Mairie" || a.Consent.Source != "import test.csv" {
		t.Errorf("a = %+v", a)
	}
}
