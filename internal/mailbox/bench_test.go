package mailbox

import (
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkWatcherThroughput measures messages read, classified, matched,
// recorded and moved per second, end to end: a backlog of b.N bounces of 50
// subscribers (soft, hard and replies) in the in-memory IMAP server on
// loopback, and a SQLite store on disk.
func BenchmarkWatcherThroughput(b *testing.B) {
	f := newFixture(b)
	s := startIMAP(b, serverOptions{})
	var raws [][]byte
	for i := range 50 {
		email := fmt.Sprintf("lecteur%d@example.fr", i)
		sub := f.subscriber(email)
		d := f.delivery(f.campaign(fmt.Sprintf("e%d", i)), sub, email, f.now.Add(-time.Hour))
		switch i % 3 {
		case 0:
			raws = append(raws, withVERP(corpus(b, "lhost-postfix-05.eml"), d.token))
		case 1:
			raws = append(raws, dsn("bounces+"+d.token+"@example.org", email, "5.2.2", "552 5.2.2 mailbox full", original(email, d, "x")))
		default:
			raws = append(raws, reply(email, "newsletter@example.org", "Re: Lettre", "Merci !"))
		}
	}
	for i := range b.N {
		s.append("INBOX", raws[i%len(raws)])
	}
	w := newWatcher(b, f, s, func(o *Options) { o.Log = slog.New(slog.DiscardHandler) })
	b.ResetTimer()
	stop := run(b, w)
	deadline := time.Now().Add(10 * time.Minute)
	for f.eventCount() < b.N && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	stop()
	if n := f.eventCount(); n != b.N {
		b.Fatalf("%d events, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
