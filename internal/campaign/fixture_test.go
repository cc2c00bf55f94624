package campaign

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/links"
	"bulletin/internal/render"
	"bulletin/internal/store"
	"bulletin/internal/store/pgtest"
	"bulletin/internal/token"
)

const examplePath = "../../docs/examples/2020-edition-10-ans/edition.md"

// fixture is a store in a temporary folder with a list of subscribers, the
// example edition, and a draft campaign to the list.
type fixture struct {
	t   testing.TB
	ctx context.Context
	dir string
	// location is the store's, for store.Open: a file in dir, or a
	// PostgreSQL database when BULLETIN_TEST_STORE=postgres (pgtest).
	location string
	st       *store.Storage
	content  *Content
	list     *store.List
	c        *store.Campaign
	emails   []string // the active subscribers, in order
}

// newFixture makes n active subscribers r0000@example.net… on "Partenaires".
func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	location := filepath.Join(dir, "bulletin.db")
	if pgtest.Postgres() {
		location = pgtest.DSN(t)
	}
	st, err := store.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: ctx, dir: dir, location: location, st: st}
	f.addSubscribers("Partenaires", 0, n, "")
	if f.list, err = st.ListByName(ctx, "Partenaires"); err != nil {
		t.Fatal(err)
	}
	tpl, err := render.Load("", render.Options{Organisation: "MICS 34", PublicURL: "https://news.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	f.content = &Content{
		Templates: tpl,
		Links: &links.Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), PublicURL: "https://news.example.org",
			BounceAddress: "bounces@example.org", VERP: true, UnsubscribeAddress: "unsubscribe@example.org"},
		From:         "MICS 34 <lettre@example.org>",
		Organisation: "MICS 34",
	}
	ed, err := edition.ParseFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(examplePath)
	sed := &store.Edition{Slug: ed.Slug, Title: ed.Title, Source: string(src), Dir: filepath.Dir(examplePath)}
	if _, err := st.SaveEdition(ctx, sed); err != nil {
		t.Fatal(err)
	}
	f.c = &store.Campaign{Name: "Édition 10 ans", EditionID: sed.ID, Subject: "La lettre de la MICS 34 : édition spéciale 10 ans !",
		From: "MICS 34 <lettre@example.org>", ListIDs: []int64{f.list.ID}}
	if err := st.CreateCampaign(ctx, f.c); err != nil {
		t.Fatal(err)
	}
	if f.c, err = st.CampaignByID(ctx, f.c.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// addSubscribers imports count subscribers numbered from first, in one
// transaction, with status st ("" for active).
func (f *fixture) addSubscribers(list string, first, count int, st store.Status) {
	f.t.Helper()
	im, err := f.st.BeginImport(f.ctx, list, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	defer im.Rollback()
	for i := first; i < first+count; i++ {
		email := fmt.Sprintf("r%05d@example.net", i)
		row := store.ImportRow{Line: i + 2, Email: email, FirstName: "Zoé", LastName: fmt.Sprintf("N%d", i),
			Organisation: "Mairie", Attributes: map[string]string{"secteur": []string{"public", "privé"}[i%2]}, Status: st}
		if _, _, err := im.Apply(f.ctx, row); err != nil {
			f.t.Fatal(err)
		}
		if st == "" || st == store.Active {
			f.emails = append(f.emails, email)
		}
	}
	if err := im.Commit(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) engine(s Sender, opts Options) *Engine { return f.engineOn(f.st, s, opts) }

// engineOn is engine on another handle of the fixture's store: another
// daemon's (see openAgain).
func (f *fixture) engineOn(st *store.Storage, s Sender, opts Options) *Engine {
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 10 * time.Millisecond
	}
	if opts.Poll == 0 {
		opts.Poll = 50 * time.Millisecond
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 2 * time.Second
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return NewEngine(st, s, f.content, opts, log)
}

// openAgain opens the fixture's store again, as another daemon would.
func (f *fixture) openAgain() *store.Storage {
	f.t.Helper()
	st, err := store.Open(f.ctx, f.location)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	return st
}

// start moves the campaign to sending (fixing its recipients).
func (f *fixture) start() {
	f.t.Helper()
	if err := Transition(f.ctx, f.st, f.c, Change{To: store.Sending, Cause: i18n.Text("test")}); err != nil {
		f.t.Fatal(err)
	}
}

// runUntil runs the engine on the campaign until it leaves sending, within limit.
func (f *fixture) runUntil(e *Engine, limit time.Duration) *store.Campaign {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, limit)
	defer cancel()
	for {
		err := e.RunCampaign(ctx, f.c.ID)
		if err != nil && err != ErrBusy {
			f.t.Fatalf("RunCampaign: %v", err)
		}
		c, err := f.st.CampaignByID(f.ctx, f.c.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		if c.State != store.Sending {
			return c
		}
		if ctx.Err() != nil {
			f.t.Fatalf("campaign still sending after %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ledger returns the campaign's deliveries by address.
func (f *fixture) ledger() map[string]*store.Delivery {
	f.t.Helper()
	out := map[string]*store.Delivery{}
	err := f.st.CampaignDeliveries(f.ctx, f.c.ID, "", func(d *store.Delivery) error {
		out[d.Email] = d
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) counts() *store.DeliveryCounts {
	f.t.Helper()
	c, err := f.st.CampaignDeliveryCounts(f.ctx, f.c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}
