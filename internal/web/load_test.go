package web_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/daemon"
	"bulletin/internal/store"
)

var (
	loadSubscribers = flag.Int("load-subscribers", 1200, "subscribers the load test's campaign goes to")
	loadRequests    = flag.Int("load-requests", 600, "one-click POSTs the load test sends, one per reader already sent the campaign (at most half the subscribers)")
	loadWorkers     = flag.Int("load-workers", 16, "concurrent clients of the load test")
)

// TestOneClickLoad hammers the RFC 8058 one-click endpoint on loopback
// while a campaign sends to the outbox through the real daemon, as a mail
// provider does when readers press "Unsubscribe" during a send. It
// measures requests per second and latency (printed, not asserted: they
// depend on the machine) and checks that no request fails and that the
// ledger stays whole. The readers who press the button are those already
// sent the campaign, as in life, while the rest of the list is being sent.
//
//	go test ./internal/web -run TestOneClickLoad -v -load-subscribers 5000 -load-requests 5000
func TestOneClickLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	d := startDaemon(t)
	ctx := context.Background()
	n, m := *loadSubscribers, min(*loadRequests, *loadSubscribers/2)

	// The list, in one import transaction.
	im, err := d.st.BeginImport(ctx, "Partenaires", "import load.csv")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := im.Apply(ctx, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("lecteur%05d@example.org", i), FirstName: "Lecteur"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := campaign.AddEdition(ctx, d.st, "../../docs/examples/2020-edition-10-ans/edition.md"); err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Create(ctx, d.st, campaign.Spec{Edition: "2020-edition-10-ans", Lists: []string{"Partenaires"}, Name: "Charge"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := d.st.CreateAPIToken(ctx, "load", store.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := daemon.Signer(ctx, d.cfg, d.st)
	if err != nil {
		t.Fatal(err)
	}
	lk := daemon.Links(d.cfg, signer)

	// Send it through the API, as staff's script would.
	req, _ := http.NewRequest(http.MethodPost, d.base+"/api/v1/campaigns/"+c.UUID.String()+"/send", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	// Wait until m readers have their message; the load then meets the
	// send of the rest of the list.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		counts, err := d.st.CampaignDeliveryCounts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts.ByState[store.Delivered] >= m {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not get going: %+v", counts)
		}
	}
	var targets []string
	err = d.st.CampaignDeliveries(ctx, c.ID, store.Delivered, func(dl *store.Delivery) error {
		if len(targets) == m {
			return nil
		}
		sub, err := d.st.SubscriberByEmail(ctx, dl.Email)
		if err != nil {
			return err
		}
		targets = append(targets, lk.UnsubscribeURL(sub.UUID, c.UUID))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sentBefore := len(d.emls(t))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *loadWorkers}, Timeout: 30 * time.Second}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	body := url.Values{"List-Unsubscribe": {"One-Click"}}.Encode()
	start := time.Now()
	for range *loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= len(targets) {
					break
				}
				t0 := time.Now()
				resp, err := client.Post(targets[i], "application/x-www-form-urlencoded", strings.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mine = append(mine, time.Since(t0))
				if err != nil || resp.StatusCode != http.StatusOK {
					failures.Add(1)
					t.Logf("request %d failed: %v %v", i, err, resp)
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sentDuring := len(d.emls(t)) - sentBefore

	// Let the campaign finish.
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		got, err := d.st.CampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == store.Sent {
			break
		}
		if time.Now().After(deadline) {
			counts, _ := d.st.CampaignDeliveryCounts(ctx, c.ID)
			t.Fatalf("campaign still %s: %+v, %d files", got.State, counts, len(d.emls(t)))
		}
	}

	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	rps := float64(len(latencies)) / elapsed.Seconds()
	counts, _ := d.st.CampaignDeliveryCounts(ctx, c.ID)
	t.Logf("one-click load: %d requests, %d clients, %.1f s, %.0f requests/s; latency p50 %s, p99 %s, max %s; %d failed; "+
		"%d messages written meanwhile; ledger: %d sent, %d skipped, %d failed",
		len(latencies), *loadWorkers, elapsed.Seconds(), rps, q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond),
		latencies[len(latencies)-1].Round(time.Microsecond), failures.Load(), sentDuring,
		counts.ByState[store.Delivered], counts.ByState[store.Skipped], counts.ByState[store.Undelivered])

	if failures.Load() != 0 {
		t.Errorf("%d one-click requests failed", failures.Load())
	}
	unsub, _ := d.st.CountSubscribers(ctx, store.SubscriberFilter{List: "Partenaires", Status: store.Unsubscribed})
	if unsub != len(targets) {
		t.Errorf("%d unsubscribed, want %d", unsub, len(targets))
	}
	if counts.Total != n || counts.Pending() != 0 || counts.ByState[store.Undelivered] != 0 ||
		counts.ByState[store.Delivered]+counts.ByState[store.Skipped] != n {
		t.Errorf("ledger %+v: every delivery should end sent or skipped", counts)
	}
}
