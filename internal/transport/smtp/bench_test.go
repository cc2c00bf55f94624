package smtp

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
)

// benchConns is K, the connections both benchmarks use.
const benchConns = 4

// benchMessage is message(i) with an edition-sized body: about 10 kB of
// HTML and 3 kB of text.
func benchMessage(i int) *outgoing.Message {
	m := message(i)
	m.HTML = "<html><body>" + strings.Repeat("<p>Bonjour Chloé, voici les nouvelles de nos partenaires : clauses sociales, marchés publics, insertion.</p>\n", 90) + "</body></html>"
	m.Text = strings.Repeat("Bonjour Chloé, voici les nouvelles de nos partenaires : clauses sociales, marchés publics, insertion.\n", 28)
	return m
}

// parallel runs send(i) for i in [0, n) on k goroutines and reports msgs/s.
func parallel(b *testing.B, k, n int, send func(worker int, next func() (int, bool)) error) {
	var next atomic.Int64
	take := func() (int, bool) {
		i := int(next.Add(1) - 1)
		return i, i < n
	}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range k {
		wg.Go(func() {
			if err := send(w, take); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkSMTPSender sends b.N messages through Sender over benchConns
// connections to a server that discards them.
func BenchmarkSMTPSender(b *testing.B) {
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	s := sender(b, srv, Options{Connections: benchConns})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	parallel(b, benchConns, b.N, func(_ int, next func() (int, bool)) error {
		for i, ok := next(); ok; i, ok = next() {
			if _, err := s.Send(ctx, benchMessage(i)); err != nil {
				return err
			}
		}
		return nil
	})
	b.StopTimer()
	if srv.Count() != b.N {
		b.Errorf("server accepted %d messages, want %d", srv.Count(), b.N)
	}
}

// BenchmarkBareGoMail is the yardstick: the same messages, built the same
// way, sent by go-mail's own Client.DialAndSend over the same number of
// connections (one client per connection, each sending its share in one
// call). "default" is go-mail as it comes, which checks the connection with
// NOOP before each RSET; "without-noop" leaves that out.
func BenchmarkBareGoMail(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts []mail.Option
	}{
		{"default", nil},
		{"without-noop", []mail.Option{mail.WithoutNoop()}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			srv := smtptest.Start(b, smtptest.Options{Discard: true})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			parallel(b, benchConns, b.N, func(_ int, next func() (int, bool)) error {
				var msgs []*mail.Msg
				for i, ok := next(); ok; i, ok = next() {
					m, err := outgoing.Build(benchMessage(i))
					if err != nil {
						return err
					}
					msgs = append(msgs, m)
				}
				opts := append([]mail.Option{mail.WithPort(srv.Port()), mail.WithTLSPolicy(mail.NoTLS),
					mail.WithHELO("bulletin.test"), mail.WithTimeout(30 * time.Second)}, tt.opts...)
				c, err := mail.NewClient(srv.Host(), opts...)
				if err != nil {
					return err
				}
				return c.DialAndSendWithContext(ctx, msgs...)
			})
			b.StopTimer()
			if srv.Count() != b.N {
				b.Errorf("server accepted %d messages, want %d", srv.Count(), b.N)
			}
		})
	}
}
