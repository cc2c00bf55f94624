package store

import (
	"database/sql"
	"database/sql/driver"
	"reflect"
	"testing"
	"time"
)

func TestTranslate(t *testing.T) {
	for _, c := range []struct {
		in, want string
		names    []string
	}{
		{"SELECT 1", "SELECT 1", nil},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2", []string{"", ""}},
		// SQLite numbers a bare ? after the largest number seen so far.
		{"SELECT ?1, ?2, ?1, ?", "SELECT $1, $2, $1, $3", []string{"", "", ""}},
		{"WHERE campaign_id = :c AND x = :d OR y = :c", "WHERE campaign_id = $1 AND x = $2 OR y = $1", []string{"c", "d"}},
		// Literals, quoted names and comments are left alone.
		{"SELECT '?', ':x', \"a?b\" -- what ?\nFROM t WHERE a = ?", "SELECT '?', ':x', \"a?b\" \nFROM t WHERE a = $1", []string{""}},
		{"WHERE lower(name) LIKE ? ESCAPE '\\'", "WHERE lower(name) ILIKE $1 ESCAPE '\\'", []string{""}},
		{"FROM deliveries INDEXED BY deliveries_report_sent WHERE", "FROM deliveries  WHERE", nil},
		// Words that merely contain LIKE or INDEXED are words.
		{"SELECT likes, unlike, indexed_at FROM t", "SELECT likes, unlike, indexed_at FROM t", nil},
		{"SELECT string_agg(x, '\n')", "SELECT string_agg(x, '\n')", nil},
	} {
		got, names := translate(c.in)
		if got != c.want || !reflect.DeepEqual(names, c.names) {
			t.Errorf("translate(%q)\n got %q %q\nwant %q %q", c.in, got, names, c.want, c.names)
		}
	}
}

func TestBind(t *testing.T) {
	// Named arguments go to their number; bools become SQLite's integers.
	_, names := translate("SELECT :b, :a, :b")
	got := bind(names, []driver.NamedValue{{Name: "a", Ordinal: 1, Value: "A"}, {Name: "b", Ordinal: 2, Value: true}})
	want := []driver.NamedValue{{Ordinal: 1, Value: int64(1)}, {Ordinal: 2, Value: "A"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bind = %v, want %v", got, want)
	}
	pos := bind([]string{"", ""}, []driver.NamedValue{{Ordinal: 1, Value: false}, {Ordinal: 2, Value: int64(7)}})
	if pos[0].Value != int64(0) || pos[1].Value != int64(7) {
		t.Errorf("bind of positional = %v", pos)
	}
	// Times lose what PostgreSQL cannot keep, truncated rather than rounded
	// up: what is stored is never later than what the code holds.
	at := time.Date(2026, 12, 4, 23, 59, 59, 999_999_999, time.UTC)
	micro := time.Date(2026, 12, 4, 23, 59, 59, 999_999_000, time.UTC)
	times := bind([]string{"", "", ""}, []driver.NamedValue{{Ordinal: 1, Value: at}, {Ordinal: 2, Value: sql.NullTime{Time: at, Valid: true}},
		{Ordinal: 3, Value: sql.NullTime{}}})
	if times[0].Value != micro || times[1].Value != micro || times[2].Value != nil {
		t.Errorf("bind of times = %v, want %v, %v, nil", times, micro, micro)
	}
}

func TestRedactDSN(t *testing.T) {
	if got := redactDSN("postgres://bulletin:s3cr%40t@db.example.org:5432/bulletin?sslmode=require"); got != "postgres://bulletin:xxxxx@db.example.org:5432/bulletin?sslmode=require" {
		t.Errorf("redactDSN = %q", got)
	}
}
