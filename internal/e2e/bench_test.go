package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bulletin/internal/smtptest"
)

// The real binary sending the example edition to n subscribers through a
// discarding SMTP server on loopback: "bulletin campaign send" fixes the
// recipients (the ledger), then "bulletin campaign send --wait" sends. The
// SMTP server and the import run in other processes, so that the peak
// resident memory (getrusage's maxrss) of each step is its own. The rate
// includes fixing the recipients.
func benchmarkSendProcess(b *testing.B, n int) {
	if testing.Short() {
		b.Skip("builds and runs the binary")
	}
	bin := build(b)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	edition, err := filepath.Abs("../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		b.Fatal(err)
	}
	var rate, peak, heap, startPeak float64
	for range b.N {
		dir := b.TempDir()
		var csv strings.Builder
		csv.WriteString("email;prénom;nom;secteur\n")
		for i := range n {
			fmt.Fprintf(&csv, "lecteur%06d@example.net;Zoé;N%d;public\n", i, i)
		}
		os.WriteFile(filepath.Join(dir, "abonnes.csv"), []byte(csv.String()), 0o644)
		os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf(`store:
  path: data/bulletin.db
sending:
  rate: 0
smtp:
  host: %s
  port: %d
  tls: none
  connections: 4
log:
  level: warn
`, srv.Host(), srv.Port())), 0o644)
		run(b, bin, dir, "import", "--list", "Partenaires", "--create-list", "abonnes.csv")
		out := run(b, bin, dir, "campaign", "create", "--edition", edition, "--list", "Partenaires")
		id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
		before := srv.Count()
		// Fix the recipients in one process ("send" hands the campaign over
		// to a daemon; there is none), then send in another, so that each
		// one's peak memory is known.
		start := time.Now()
		hand := exec.Command(bin, "campaign", "send", id, "--yes")
		hand.Dir = dir
		if out, err := hand.CombinedOutput(); err != nil {
			b.Fatalf("campaign send: %v\n%s", err, out)
		}
		startPeak = float64(hand.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "campaign", "send", id, "--wait", "--yes")
		// The runtime's GC trace gives the Go heap's peak, to tell it from
		// SQLite's own (C) memory in the resident set.
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GODEBUG=gctrace=1")
		out2, err := cmd.CombinedOutput()
		elapsed := time.Since(start)
		cancel()
		if err != nil {
			b.Fatalf("campaign send --wait: %v\n%s", err, out2)
		}
		if got := srv.Count() - before; got != n {
			b.Fatalf("server received %d messages, want %d\n%s", got, n, out2)
		}
		rate = float64(n) / elapsed.Seconds()
		peak = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		heap = 0
		for _, m := range gcLine.FindAllStringSubmatch(string(out2), -1) {
			if v, _ := strconv.ParseFloat(m[1], 64); v > heap {
				heap = v
			}
		}
	}
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(startPeak, "start-peak-RSS-MB")
	b.ReportMetric(peak, "send-peak-RSS-MB")
	b.ReportMetric(heap, "go-heap-peak-MB")
}

// gcLine reads the heap size at the start of a GC cycle, "gc 12 @0.5s 1%: … 4->5->2 MB".
var gcLine = regexp.MustCompile(`(\d+)->\d+->\d+ MB`)

func BenchmarkSendProcess10k(b *testing.B)  { benchmarkSendProcess(b, 10_000) }
func BenchmarkSendProcess100k(b *testing.B) { benchmarkSendProcess(b, 100_000) }
