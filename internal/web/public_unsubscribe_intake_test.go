package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/importer"
	"bulletin/internal/store"
)

// TestOneClickDuringMillionRowImport: a one-click unsubscribe POSTed while
// an import of a million rows holds the database's writer for its whole run
// is answered 200 at once (mail providers do not retry), is not lost, is
// applied once the import commits, and the reader is not mailed by a
// campaign started afterwards.
func TestOneClickDuringMillionRowImport(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a million rows")
	}
	h := newHarness(t)
	ctx := context.Background()
	letter := h.campaign("Lettre n° 10")
	readers := h.list("Lecteurs", false)
	reader := h.subscriber("lecteur@example.org", store.Active, readers.Name)
	h.subscriber("autre@example.org", store.Active, readers.Name)

	const rows = 1_000_000
	csvPath := filepath.Join(t.TempDir(), "partenaires.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email;prenom;nom")
	for i := range rows {
		fmt.Fprintf(w, "p%07d@example.net;Prénom;Nom %d\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// The import reports progress once it holds the writer (BeginImport
	// came first), and at least once more before it commits.
	var once sync.Once
	holding := make(chan struct{})
	imported := make(chan error, 1)
	go func() {
		in, err := os.Open(csvPath)
		if err != nil {
			imported <- err
			return
		}
		defer in.Close()
		rep, err := importer.Import(ctx, h.st, in, csvPath, importer.Options{List: "Partenaires",
			Progress: func(int64) { once.Do(func() { close(holding) }) }})
		if err == nil && rep.Added != rows {
			err = fmt.Errorf("import added %d rows, want %d", rep.Added, rows)
		}
		imported <- err
	}()
	select {
	case <-holding:
	case err := <-imported:
		t.Fatalf("import ended before it started: %v", err)
	}

	// A mail provider's POST: no cookie, no Origin.
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+h.unsubPath(reader, letter.UUID), strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST during the import: status %d, want 200", resp.StatusCode)
	}
	select {
	case err := <-imported:
		t.Fatalf("the import ended (%v) before the POST was answered: the test shows nothing", err)
	default:
	}

	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	// What the daemon's applier does as soon as the writer is free.
	if n, err := h.st.ApplyIntake(ctx); n != 1 || err != nil {
		t.Fatalf("ApplyIntake after the import = %d, %v; want the one unsubscribe", n, err)
	}
	if got := h.reload(reader).Status; got != store.Unsubscribed {
		t.Fatalf("after the import, status %s, want unsubscribed", got)
	}
	var attributed bool
	for _, e := range h.events(reader) {
		attributed = attributed || e.Kind == "status" && e.Source == "one-click" && e.Campaign == letter.Name
	}
	if !attributed {
		t.Errorf("events %+v: want a one-click unsubscribe attributed to %q", h.events(reader), letter.Name)
	}

	// A campaign started afterwards mails the other reader, not this one.
	next := &store.Campaign{Name: "Lettre n° 11", EditionID: letter.EditionID, Subject: "n° 11",
		From: "MICS 34 <lettre@example.org>", ListIDs: []int64{readers.ID}}
	if err := h.st.CreateCampaign(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.TransitionCampaign(ctx, store.Transition{CampaignID: next.ID, From: []store.CampaignState{store.Draft},
		To: store.Sending, Cause: i18n.Text("test")}); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.st.AcquireLease(ctx, next.ID, "engine", time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ds, err := h.st.ClaimDeliveries(ctx, next.ID, "engine", 10, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Email != "autre@example.org" {
		var got []string
		for _, d := range ds {
			got = append(got, d.Email)
		}
		t.Errorf("campaign after the unsubscribe claims %v, want [autre@example.org]", got)
	}
}
