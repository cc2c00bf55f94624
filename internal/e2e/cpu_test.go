package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/wneessen/go-mail"

	"bulletin/internal/config"
	"bulletin/internal/daemon"
	"bulletin/internal/edition"
	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// The CPU each message costs the sending process, Bulletin against a bare
// go-mail loop, on the same campaign (the example edition, rendered for
// each of n subscribers), to the same discarding SMTP server (in this
// process), over the same number of connections, in one run. Each round
// runs the loop, then "bulletin campaign send --wait" (after "bulletin
// campaign send" has fixed the recipients, in its own process), each in
// its own process, whose user+system CPU time the kernel reports at exit.
// Three rounds alternate the two; the medians of the ratios are reported:
// cpu-ratio (Bulletin's CPU per message over the loop's) and rate-ratio
// (Bulletin's messages per second over the loop's). The sink shares the
// machine's cores, so the rates of both are capped near the same value;
// the CPU per message is what tells them apart.
//
//	go test ./internal/e2e -run '^$' -bench 'CPUPerMessage10k' -benchtime 1x -timeout 30m
//
// The loop is this test binary run again (TestBareGoMailLoop): it reads
// the same config.yaml, renders each message with the same Composer as
// the daemon, builds it with outgoing.Build (quoted-printable) and sends it
// with go-mail's Client.Send on one client per connection, as a go-mail
// user would; WithoutNoop spares it go-mail's NOOP before each message.
func benchmarkCPUPerMessage(b *testing.B, n int) {
	if testing.Short() {
		b.Skip("builds and runs the binary")
	}
	bin := build(b)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	dir := benchDir(b, bin, srv, n)
	var cpuRatio, rateRatio, bulletinCPU, loopCPU, sendPeak, loopPeak []float64
	for round := range 3 * b.N {
		loop := runLoop(b, dir, srv, n)
		r := sendCampaign(b, bin, dir, srv, n)
		perMsg := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
		bc, lc := perMsg(r.sendCPU), perMsg(loop.cpu)
		br, lr := float64(n)/r.send.Seconds(), float64(n)/loop.elapsed.Seconds()
		bulletinCPU, loopCPU = append(bulletinCPU, bc), append(loopCPU, lc)
		cpuRatio, rateRatio = append(cpuRatio, bc/lc), append(rateRatio, br/lr)
		sendPeak, loopPeak = append(sendPeak, r.sendPeakMB), append(loopPeak, loop.peakMB)
		b.Logf("round %d: CPU per message: Bulletin %.0f µs, go-mail loop %.0f µs, ratio %.2f; rate: Bulletin %.0f msgs/s, loop %.0f msgs/s, ratio %.2f; peak RSS: Bulletin %.0f MB (fixing the recipients %.0f MB, %.0f µs CPU per message), loop %.0f MB",
			round, bc, lc, bc/lc, br, lr, br/lr, r.sendPeakMB, r.fixPeakMB, perMsg(r.fixCPU), loop.peakMB)
	}
	b.ReportMetric(median(bulletinCPU), "bulletin-cpu-µs/msg")
	b.ReportMetric(median(loopCPU), "loop-cpu-µs/msg")
	b.ReportMetric(median(cpuRatio), "cpu-ratio")
	b.ReportMetric(median(rateRatio), "rate-ratio")
	b.ReportMetric(slices.Max(sendPeak), "send-peak-RSS-MB")
	b.ReportMetric(slices.Max(loopPeak), "loop-peak-RSS-MB")
}

func BenchmarkCPUPerMessage10k(b *testing.B)  { benchmarkCPUPerMessage(b, 10_000) }
func BenchmarkCPUPerMessage100k(b *testing.B) { benchmarkCPUPerMessage(b, 100_000) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// loopRun is what the bare go-mail loop cost.
type loopRun struct {
	elapsed time.Duration
	cpu     time.Duration
	peakMB  float64
}

// The environment that makes TestBareGoMailLoop run: the folder of the
// campaign (its config.yaml) and the number of messages.
const (
	loopDirEnv = "BULLETIN_E2E_LOOP_DIR"
	loopNEnv   = "BULLETIN_E2E_LOOP_N"
)

// runLoop runs TestBareGoMailLoop in a new process of this test binary.
func runLoop(b *testing.B, dir string, srv *smtptest.Server, n int) loopRun {
	b.Helper()
	before := srv.Count()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBareGoMailLoop$", "-test.count=1")
	cmd.Env = append(os.Environ(), loopDirEnv+"="+dir, loopNEnv+"="+strconv.Itoa(n))
	start := time.Now()
	out, peak, err := runPeak(cmd)
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("go-mail loop: %v\n%s", err, out)
	}
	if got := srv.Count() - before; got != n {
		b.Fatalf("server received %d messages from the loop, want %d\n%s", got, n, out)
	}
	return loopRun{elapsed: elapsed, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		peakMB: peak}
}

// TestBareGoMailLoop is the yardstick of BenchmarkCPUPerMessage, which runs
// it in a process of its own; it does nothing otherwise.
func TestBareGoMailLoop(t *testing.T) {
	dir := os.Getenv(loopDirEnv)
	if dir == "" {
		t.Skip("run by BenchmarkCPUPerMessage")
	}
	n, err := strconv.Atoi(os.Getenv(loopNEnv))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	content, err := daemon.Content(&cfg, daemon.Links(&cfg, token.NewSigner([]byte(rand.Text()))))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := edition.ParseFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := content.EditionComposer(&store.Campaign{UUID: uuid.New(), Lists: []string{"Partenaires"}}, ed)
	if err != nil {
		t.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	for range benchConns {
		wg.Go(func() {
			c, err := mail.NewClient(cfg.SMTP.Host, mail.WithPort(cfg.SMTP.Port), mail.WithTLSPolicy(mail.NoTLS),
				mail.WithHELO("bench.localhost"), mail.WithoutNoop())
			if err == nil {
				err = c.DialWithContext(context.Background())
			}
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				d := &store.Delivery{UUID: uuid.New(), Email: fmt.Sprintf("lecteur%06d@example.net", i),
					Subscriber: &store.Subscriber{UUID: uuid.New(), FirstName: "Zoé", LastName: fmt.Sprint("N", i),
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
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
