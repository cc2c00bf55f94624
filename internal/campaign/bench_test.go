package campaign

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/wneessen/go-mail"

	"bulletin/internal/edition"
	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// benchConns is the number of SMTP connections in both benchmarks.
const benchConns = 4

// sendCampaign sends a fresh campaign to the fixture's n subscribers with e
// and returns the messages per second. The first call uses f.c; later ones
// a copy.
func sendCampaign(b *testing.B, f *fixture, e *Engine, round int) float64 {
	b.Helper()
	if round > 0 {
		var err error
		if f.c, err = f.st.CopyCampaign(f.ctx, f.c, fmt.Sprint("bench ", round)); err != nil {
			b.Fatal(err)
		}
	}
	f.start()
	n := f.counts().ByState[store.Queued]
	start := time.Now()
	if err := e.RunCampaign(context.Background(), f.c.ID); err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// bareGoMail sends n messages of the same campaign (same edition, same
// rendering and building per recipient) with go-mail's own client over
// benchConns connections, with no database, and returns the messages per
// second.
func bareGoMail(b *testing.B, srv *smtptest.Server, comp *Composer, n int) float64 {
	b.Helper()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	for range benchConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := mail.NewClient(srv.Host(), mail.WithPort(srv.Port()), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("bench.localhost"))
			if err == nil {
				err = c.DialWithContext(context.Background())
			}
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				d := &store.Delivery{UUID: uuid.New(), Email: fmt.Sprintf("r%05d@example.net", i),
					Subscriber: &store.Subscriber{UUID: uuid.New(), FirstName: "Zoé", LastName: fmt.Sprint("N", i), Organisation: "Mairie",
						Attributes: map[string]string{"secteur": "public"}}}
				msg, err := outgoing.Build(comp.Message(d))
				if err == nil {
					err = c.Send(msg)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// The campaign engine sending the example edition to n subscribers through
// a discarding SMTP server on loopback: render, build, SMTP, and the ledger
// (claims and outcomes written to SQLite). Run alone (-benchtime 1x) under
// /usr/bin/time -v for the peak memory.
func benchmarkCampaign(b *testing.B, n int) {
	f := newFixture(b, n)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	e := f.engine(smtpSender(b, srv, benchConns, "", ""), Options{Workers: benchConns})
	b.ResetTimer()
	var rates []float64
	// The peak resident memory of the sending alone, not of the set-up
	// above (importing n subscribers): Linux resets VmHWM on request.
	resetPeakRSS()
	for i := range b.N {
		rates = append(rates, sendCampaign(b, f, e, i))
	}
	b.StopTimer()
	if got := srv.Count(); got != n*b.N {
		b.Fatalf("server received %d messages, want %d", got, n*b.N)
	}
	b.ReportMetric(median(rates), "msgs/s")
	if kb := peakRSS(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "send-peak-RSS-MB")
	}
}

// resetPeakRSS resets the process's peak resident set size (Linux 4.0+).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns the peak resident set size in KiB since the last reset,
// or 0 where /proc does not say.
func peakRSS() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}

func BenchmarkCampaign10k(b *testing.B)  { benchmarkCampaign(b, 10_000) }
func BenchmarkCampaign100k(b *testing.B) { benchmarkCampaign(b, 100_000) }

// The baseline alone: a bare go-mail loop on the same messages.
func benchmarkBareGoMail(b *testing.B, n int) {
	f := newFixture(b, 1)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	comp := benchComposer(b, f)
	b.ResetTimer()
	var rates []float64
	resetPeakRSS()
	for range b.N {
		rates = append(rates, bareGoMail(b, srv, comp, n))
	}
	b.StopTimer()
	if got := srv.Count(); got != n*b.N {
		b.Fatalf("server received %d messages, want %d", got, n*b.N)
	}
	b.ReportMetric(median(rates), "msgs/s")
	if kb := peakRSS(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "send-peak-RSS-MB")
	}
}

func BenchmarkBareGoMail10k(b *testing.B)  { benchmarkBareGoMail(b, 10_000) }
func BenchmarkBareGoMail100k(b *testing.B) { benchmarkBareGoMail(b, 100_000) }

// The ratio, measured fairly on a shared machine: the engine and the bare
// loop take turns, three rounds each, and the median of the rounds' ratios
// is reported.
func BenchmarkEngineVsBare10k(b *testing.B) {
	const n = 10_000
	f := newFixture(b, n)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	e := f.engine(smtpSender(b, srv, benchConns, "", ""), Options{Workers: benchConns})
	comp := benchComposer(b, f)
	b.ResetTimer()
	var eng, bare, ratio []float64
	for round := range 3 * b.N {
		br := bareGoMail(b, srv, comp, n)
		er := sendCampaign(b, f, e, round)
		eng, bare, ratio = append(eng, er), append(bare, br), append(ratio, er/br)
		b.Logf("round %d: engine %.0f msgs/s, bare go-mail %.0f msgs/s, ratio %.2f", round, er, br, er/br)
	}
	b.ReportMetric(median(eng), "engine-msgs/s")
	b.ReportMetric(median(bare), "bare-msgs/s")
	b.ReportMetric(median(ratio), "ratio")
}

func benchComposer(b *testing.B, f *fixture) *Composer {
	b.Helper()
	ed, err := edition.ParseFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	comp, err := f.content.EditionComposer(f.c, ed)
	if err != nil {
		b.Fatal(err)
	}
	return comp
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
