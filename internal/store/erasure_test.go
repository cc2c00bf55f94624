package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/store/pgtest"
)

// An erased person cannot be read back from the database file or its
// write-ahead log: not the address, not the name, though the address was
// in the subscriber row, its index, the campaign ledger and the log.
func TestEraseLeavesNothingInTheFiles(t *testing.T) {
	if pgtest.Postgres() {
		t.Skip("about SQLite's database file and its log; PostgreSQL's files are the server's")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const probe, name = "zq-erasure-probe-7f3a@example.org", "Quixotry-Probe"
	sub := &Subscriber{Email: probe, LastName: name, Status: Active, Attributes: map[string]string{"ville": name}}
	if err := s.AddSubscriber(ctx, sub, []string{"L"}, false); err != nil {
		t.Fatal(err)
	}
	c := sendingCampaign(t, s, 3)
	if ok, err := s.AcquireLease(ctx, c.ID, "e", time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ds, err := s.ClaimDeliveries(ctx, c.ID, "e", 10, time.Now())
	if err != nil || len(ds) != 4 {
		t.Fatalf("claim: %d, %v", len(ds), err)
	}
	var res []Result
	for _, d := range ds {
		res = append(res, Result{DeliveryID: d.ID, Outcome: OutcomeSent, At: time.Now(), Reply: "250 ok " + d.Email})
	}
	if err := s.RecordResults(ctx, res); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseSubscriber(ctx, probe); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, secret := range []string{probe, "erasure-probe-7f3a", name} {
			if i := bytes.Index(raw, []byte(secret)); i >= 0 {
				t.Errorf("%s still holds %q at byte %d after the erasure", filepath.Base(f), secret, i)
			}
		}
	}
	// The others are untouched.
	if _, err := s.SubscriberByEmail(ctx, "s1@example.org"); err != nil {
		t.Errorf("another subscriber after the erasure: %v", err)
	}
}

// The erasure hash is keyed with the server secret: it is not the SHA-256
// of the address, another secret does not find it, and a store opened with
// another secret is refused rather than forgetting who was erased.
func TestErasureHashIsKeyed(t *testing.T) {
	ctx := context.Background()
	path := pgtest.Location(t)
	secret := WithSecret([]byte("a server secret of at least 32 chars, A"))
	s, err := Open(ctx, path, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSubscriber(ctx, &Subscriber{Email: "Known@Example.org", Status: Active}, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseSubscriber(ctx, "Known@Example.org"); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.r.QueryRowContext(ctx, "SELECT email_hash FROM suppressions").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte("known@example.org"))
	if stored == hex.EncodeToString(plain[:]) {
		t.Error("the erasure record is the plain SHA-256 of the address: a list of addresses can be tested against it")
	}
	s.Close()

	if _, err := Open(ctx, path, WithSecret([]byte("another secret of at least 32 characters"))); !errors.Is(err, ErrErasureKey) {
		t.Errorf("Open with another secret = %v, want ErrErasureKey", err)
	}
	s, err = Open(ctx, path, secret)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if erased, err := s.IsErased(ctx, "known@example.ORG"); !erased || err != nil {
		t.Errorf("IsErased with the same secret = %v, %v; want true", erased, err)
	}
}

// Records kept as a plain SHA-256 before keyed hashes are re-keyed once,
// without their addresses, and still keep the address out.
func TestLegacyErasureRecordsRekeyed(t *testing.T) {
	ctx := context.Background()
	path := pgtest.Location(t)
	secret := WithSecret([]byte("a server secret of at least 32 chars, A"))
	s, err := Open(ctx, path, secret)
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte("old.erasure@example.org"))
	// As migration 0007 leaves a row erased before it.
	if _, err := s.w.ExecContext(ctx, "INSERT INTO suppressions (email_hash, reason, created_at, keyed) VALUES (?, 'erased (active)', ?, 0)",
		hex.EncodeToString(plain[:]), now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 { // the second opening finds nothing left to re-key
		s, err = Open(ctx, path, secret)
		if err != nil {
			t.Fatal(err)
		}
		var legacy int
		s.r.QueryRowContext(ctx, "SELECT count(*) FROM suppressions WHERE keyed = 0 OR email_hash = ?", hex.EncodeToString(plain[:])).Scan(&legacy)
		if legacy != 0 {
			t.Errorf("%d records still hold the plain SHA-256", legacy)
		}
		if erased, err := s.IsErased(ctx, "Old.Erasure@example.org"); !erased || err != nil {
			t.Errorf("IsErased after re-keying = %v, %v; want true", erased, err)
		}
		if err := s.AddSubscriber(ctx, &Subscriber{Email: "old.erasure@example.org", Status: Active}, nil, false); !errors.Is(err, ErrSuppressed) {
			t.Errorf("re-adding a re-keyed erased address = %v, want ErrSuppressed", err)
		}
		s.Close()
	}
}
