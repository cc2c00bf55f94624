package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bulletin/internal/smtptest"
)

// examplePath is the example edition every benchmark sends.
const examplePath = "../../docs/examples/2020-edition-10-ans/edition.md"

// benchConns is the number of SMTP connections the benchmarks send over.
const benchConns = 4

// benchDir makes a folder where "bulletin" sends to srv over benchConns
// connections, with no rate limit, and imports n subscribers into the list
// Partenaires, in other processes.
func benchDir(b *testing.B, bin string, srv *smtptest.Server, n int) string {
	b.Helper()
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
  connections: %d
log:
  level: warn
`, srv.Host(), srv.Port(), benchConns)), 0o644)
	run(b, bin, dir, "import", "--list", "Partenaires", "--create-list", "abonnes.csv")
	return dir
}

// sendRun is what one campaign's sending cost, measured from outside.
type sendRun struct {
	fix, send  time.Duration // wall time to fix the recipients, then to send
	fixCPU     time.Duration // user+system CPU of the process that fixed the recipients
	sendCPU    time.Duration // and of the sending process
	fixPeakMB  float64       // peak resident memory of the process that fixed the recipients
	sendPeakMB float64       // and of the sending process
	heapMB     float64       // the sending process's peak Go heap
}

// sendCampaign creates a campaign of the example edition to Partenaires in
// dir and sends it with the real binary: "bulletin campaign send" fixes the
// recipients (the ledger), then "bulletin campaign send --wait" sends, in
// two processes so that each one's peak memory and CPU are its own. It
// checks that srv received the n messages.
func sendCampaign(b *testing.B, bin, dir string, srv *smtptest.Server, n int) sendRun {
	b.Helper()
	edition, err := filepath.Abs(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	out := run(b, bin, dir, "campaign", "create", "--edition", edition, "--list", "Partenaires")
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	before := srv.Count()
	var r sendRun
	start := time.Now()
	hand := exec.Command(bin, "campaign", "send", id, "--yes")
	hand.Dir = dir
	if out, peak, err := runPeak(hand); err != nil {
		b.Fatalf("campaign send: %v\n%s", err, out)
	} else {
		r.fixPeakMB = peak
	}
	r.fix = time.Since(start)
	r.fixCPU = hand.ProcessState.UserTime() + hand.ProcessState.SystemTime()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "campaign", "send", id, "--wait", "--yes")
	// The runtime's GC trace gives the Go heap's peak, to tell it from
	// SQLite's own (C) memory in the resident set.
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "GODEBUG=gctrace=1")
	start = time.Now()
	out2, peak, err := runPeak(cmd)
	r.send, r.sendPeakMB = time.Since(start), peak
	if err != nil {
		b.Fatalf("campaign send --wait: %v\n%s", err, out2)
	}
	if got := srv.Count() - before; got != n {
		b.Fatalf("server received %d messages, want %d\n%s", got, n, out2)
	}
	r.sendCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	for _, m := range gcLine.FindAllStringSubmatch(string(out2), -1) {
		if v, _ := strconv.ParseFloat(m[1], 64); v > r.heapMB {
			r.heapMB = v
		}
	}
	return r
}

// runPeak runs cmd to its end and returns its combined output and its peak
// resident memory in MB, read from /proc/PID/status (VmHWM, the high-water
// mark of the process's own memory) while it runs. getrusage's maxrss would
// not do: a child started by os/exec shares the test process's memory until
// it execs, and Linux counts that in the child's maxrss, so that a million
// recipients' CSV built here showed as the binary's memory.
func runPeak(cmd *exec.Cmd) ([]byte, float64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var peak float64
	for {
		if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
			if m := vmHWM.FindSubmatch(status); m != nil {
				kB, _ := strconv.ParseFloat(string(m[1]), 64)
				peak = max(peak, kB/1024)
			}
		}
		select {
		case err := <-done:
			return out.Bytes(), peak, err
		case <-tick.C:
		}
	}
}

var vmHWM = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// The real binary sending the example edition to n subscribers through a
// discarding SMTP server on loopback. The SMTP server and the import run
// in other processes, so that the peak resident memory (getrusage's
// maxrss) of each step is its own. The rate includes fixing the
// recipients.
func benchmarkSendProcess(b *testing.B, n int) {
	if testing.Short() {
		b.Skip("builds and runs the binary")
	}
	bin := build(b)
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	var r sendRun
	for range b.N {
		r = sendCampaign(b, bin, benchDir(b, bin, srv, n), srv, n)
	}
	b.ReportMetric(float64(n)/(r.fix+r.send).Seconds(), "msgs/s")
	b.ReportMetric(r.fixPeakMB, "start-peak-RSS-MB")
	b.ReportMetric(r.sendPeakMB, "send-peak-RSS-MB")
	b.ReportMetric(r.heapMB, "go-heap-peak-MB")
}

// gcLine reads the heap size at the start of a GC cycle, "gc 12 @0.5s 1%: … 4->5->2 MB".
var gcLine = regexp.MustCompile(`(\d+)->\d+->\d+ MB`)

func BenchmarkSendProcess10k(b *testing.B)  { benchmarkSendProcess(b, 10_000) }
func BenchmarkSendProcess100k(b *testing.B) { benchmarkSendProcess(b, 100_000) }
func BenchmarkSendProcess1M(b *testing.B)   { benchmarkSendProcess(b, 1_000_000) }
