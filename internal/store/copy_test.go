package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bulletin/internal/store/pgtest"
)

// seedForCopy fills s with a bit of everything: subscribers on a list, an
// edition, a campaign being sent with its ledger, a mailbox event, an
// erased address, a user with a session, a console setting, and an
// unsubscribe left waiting in the intake. It returns the session's id and
// the subscriber whose unsubscribe waits.
func seedForCopy(t *testing.T, s *Storage) (session string, waiting int64) {
	t.Helper()
	ctx := context.Background()
	c := sendingCampaign(t, s, 5)
	var delivery, sub int64
	if err := s.r.QueryRowContext(ctx, "SELECT id, subscriber_id FROM deliveries WHERE campaign_id = ? ORDER BY id LIMIT 1", c.ID).Scan(&delivery, &sub); err != nil {
		t.Fatal(err)
	}
	ev := &MailboxEvent{Mailbox: "INBOX", UIDValidity: 3, UID: 9, Kind: "hard", MessageID: "b1@mx",
		DeliveryID: delivery, CampaignID: c.ID, SubscriberID: sub, MatchedBy: "verp"}
	if _, err := s.RecordMailboxEvent(ctx, ev, MailboxEffect{Status: Bounced, Source: "bounce", Reason: "5.1.1 user_unknown"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "erase.me@example.org", Status: Active}, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseSubscriber(ctx, "erase.me@example.org"); err != nil {
		t.Fatal(err)
	}
	u := &User{Email: "admin@example.org", Role: RoleAdmin}
	if err := s.CreateUser(ctx, u, "long enough password"); err != nil {
		t.Fatal(err)
	}
	session, _, err := s.CreateSession(ctx, u, "192.0.2.1", "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "console:organisation.name", "Réseau"); err != nil {
		t.Fatal(err)
	}
	p := &Subscriber{Email: "leaving@example.org", Status: Active}
	if err := s.AddSubscriber(ctx, p, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.intake.ExecContext(ctx, "INSERT INTO unsubscribes (subscriber_id, campaign_id, source, at) VALUES (?, ?, 'one-click', ?)",
		p.ID, c.ID, now()); err != nil {
		t.Fatal(err)
	}
	return session, p.ID
}

// dump returns every row of every table of s, as text, sorted: what two
// databases hold, compared whatever their dialects. Times are in UTC,
// truncated to trunc.
func dump(t *testing.T, s *Storage, trunc time.Duration) map[string][]string {
	t.Helper()
	ctx := context.Background()
	tables, err := s.schemaTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for name, ts := range tables {
		if name == "unsubscribes" && s.postgres {
			continue // the intake, a file of its own on SQLite
		}
		cols := make([]string, len(ts.columns))
		for i, c := range ts.columns {
			cols[i] = quoteName(c)
		}
		slices.Sort(cols) // the same order on both, whatever the order of migrations
		rows, err := s.r.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+quoteName(name))
		if err != nil {
			t.Fatal(err)
		}
		values := make([]any, len(cols))
		dest := make([]any, len(cols))
		for i := range values {
			dest[i] = &values[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range values {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Truncate(trunc).Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			out[name] = append(out[name], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[name])
	}
	return out
}

func sameDump(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for name, rows := range want {
		if !slices.Equal(got[name], rows) {
			t.Errorf("%s: table %s differs:\n got %q\nwant %q", what, name, got[name], rows)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d tables, want %d", what, len(got), len(want))
	}
}

// A SQLite database copied to PostgreSQL and back holds what it held, row
// for row, with its ids, times and secrets; a non-empty target is refused
// and left as it was.
func TestCopyRoundTrip(t *testing.T) {
	if pgtest.Postgres() {
		t.Skip("uses both stores: runs in the pass on SQLite")
	}
	ctx := context.Background()
	dir := t.TempDir()
	secret := WithSecret([]byte(strings.Repeat("k", 32)))
	src, err := Open(ctx, filepath.Join(dir, "a.db"), secret)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	session, waiting := seedForCopy(t, src)

	pg, err := Open(ctx, pgtest.DSN(t), secret)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	report, err := Copy(ctx, src, pg)
	if err != nil {
		t.Fatalf("Copy(SQLite → PostgreSQL) = %+v, %v", report, err)
	}
	for _, tc := range report.Tables {
		t.Logf("%-22s %4d %4d", tc.Table, tc.Source, tc.Target)
		if tc.Source != tc.Target {
			t.Errorf("table %s: %d rows in the source, %d in the target", tc.Table, tc.Source, tc.Target)
		}
	}
	names := func(r CopyReport) []string {
		var out []string
		for _, tc := range r.Tables {
			out = append(out, tc.Table)
		}
		return out
	}
	for _, want := range []string{"subscribers", "lists", "list_members", "editions", "campaigns", "deliveries",
		"mailbox_events", "suppressions", "users", "sessions", "settings", "subscriber_events"} {
		if !slices.Contains(names(report), want) {
			t.Errorf("report lacks table %s: %v", want, names(report))
		}
	}
	if slices.Contains(names(report), "schema_migrations") {
		t.Error("schema_migrations copied: each database keeps its own")
	}
	// Referenced tables come first: a delivery needs its campaign, which
	// needs its edition.
	order := names(report)
	if i, j, k := slices.Index(order, "editions"), slices.Index(order, "campaigns"), slices.Index(order, "deliveries"); !(i < j && j < k) {
		t.Errorf("copy order %v: editions, campaigns, deliveries out of order", order)
	}
	// The intake went in first: the waiting unsubscribe is in the copy.
	var status string
	if err := pg.r.QueryRowContext(ctx, "SELECT status FROM subscribers WHERE id = ?", waiting).Scan(&status); err != nil || status != string(Unsubscribed) {
		t.Errorf("the unsubscribe waiting in the intake: status %q in the copy, %v; want unsubscribed", status, err)
	}
	// Everything, times to PostgreSQL's microsecond.
	srcDump := dump(t, src, time.Microsecond)
	if n := len(srcDump["deliveries"]); n != 5 {
		t.Fatalf("the source holds %d deliveries, want the 5 seeded", n)
	}
	sameDump(t, "SQLite → PostgreSQL", dump(t, pg, time.Microsecond), srcDump)
	// The identity sequences start after the copied ids.
	var next int64
	if err := pg.w.QueryRowContext(ctx, "INSERT INTO lists (uuid, name, created_at) VALUES ('new-list', 'Nouvelle', ?) RETURNING id", now()).Scan(&next); err != nil {
		t.Fatalf("a new row after the copy: %v", err)
	}
	var maxID int64
	src.r.QueryRowContext(ctx, "SELECT max(id) FROM lists").Scan(&maxID)
	if next <= maxID {
		t.Errorf("new list id %d, want above the copied %d", next, maxID)
	}
	if _, err := pg.w.ExecContext(ctx, "DELETE FROM lists WHERE id = ?", next); err != nil {
		t.Fatal(err)
	}

	// A second copy into the same database is refused and changes nothing.
	before := dump(t, pg, 0)
	if _, err := Copy(ctx, src, pg); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("second Copy = %v, want ErrTargetNotEmpty", err)
	}
	sameDump(t, "after the refused copy", dump(t, pg, 0), before)

	// A target opened with another secret would not know the erased
	// addresses: refused, and left empty.
	other, err := Open(ctx, filepath.Join(dir, "other.db"), WithSecret([]byte(strings.Repeat("o", 32))))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := Copy(ctx, src, other); err == nil || !strings.Contains(err.Error(), "server secrets") {
		t.Errorf("Copy to a target with another secret = %v, want a refusal naming the secrets", err)
	}
	if err := other.checkEmpty(ctx, mustTables(t, other)); err != nil {
		t.Errorf("refused target: %v", err)
	}

	// And back to SQLite: the same rows, the times exactly as PostgreSQL
	// kept them.
	back, err := Open(ctx, filepath.Join(dir, "b.db"), secret)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	report2, err := Copy(ctx, pg, back)
	if err != nil {
		t.Fatalf("Copy(PostgreSQL → SQLite) = %+v, %v", report2, err)
	}
	sameDump(t, "PostgreSQL → SQLite", dump(t, back, 0), dump(t, pg, 0))
	sameDump(t, "SQLite → PostgreSQL → SQLite", dump(t, back, time.Microsecond), srcDump)
	var a, b time.Time
	src.r.QueryRowContext(ctx, "SELECT created_at FROM subscribers WHERE id = ?", waiting).Scan(&a)
	back.r.QueryRowContext(ctx, "SELECT created_at FROM subscribers WHERE id = ?", waiting).Scan(&b)
	if a.IsZero() || !a.Truncate(time.Microsecond).Equal(b) {
		t.Errorf("created_at %v after the round trip, was %v", b, a)
	}

	// The copy works as the original: the session lets its user in, the
	// erased address stays erased under the same secret.
	if got, err := back.Session(ctx, session); err != nil || got.User.Email != "admin@example.org" {
		t.Errorf("Session in the copy = %+v, %v", got, err)
	}
	if erased, err := back.IsErased(ctx, "Erase.Me@example.org"); !erased || err != nil {
		t.Errorf("IsErased in the copy = %v, %v; want true", erased, err)
	}
}

func mustTables(t *testing.T, s *Storage) map[string]*tableSchema {
	t.Helper()
	tables, err := s.schemaTables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// Without server.secret, the secret the store generated travels with the
// data: the copy, and a copy of the copy, still know the erased addresses,
// through the Storage that was copied into and once opened again.
func TestCopyWithoutServerSecret(t *testing.T) {
	if pgtest.Postgres() {
		t.Skip("uses both stores: runs in the pass on SQLite")
	}
	ctx := context.Background()
	dir := t.TempDir()
	src, err := Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.AddSubscriber(ctx, &Subscriber{Email: "erase.me@example.org", Status: Active}, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := src.EraseSubscriber(ctx, "erase.me@example.org"); err != nil {
		t.Fatal(err)
	}
	secret, err := src.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, err := Copy(ctx, src, pg); err != nil {
		t.Fatal(err)
	}
	if erased, err := pg.IsErased(ctx, "Erase.Me@example.org"); !erased || err != nil {
		t.Errorf("IsErased in the PostgreSQL copy = %v, %v; want true", erased, err)
	}
	backPath := filepath.Join(dir, "b.db")
	back, err := Open(ctx, backPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, pg, back); err != nil {
		t.Fatalf("copy of the copy: %v", err)
	}
	back.Close()
	if back, err = Open(ctx, backPath); err != nil {
		t.Fatalf("the copy of the copy, opened again: %v", err)
	}
	defer back.Close()
	if got, err := back.Secret(ctx); err != nil || string(got) != string(secret) {
		t.Errorf("the copy's secret = %x, %v; want the source's", got, err)
	}
	if erased, err := back.IsErased(ctx, "erase.me@example.org"); !erased || err != nil {
		t.Errorf("IsErased in the copy of the copy = %v, %v; want true", erased, err)
	}
}
