// Package smtp sends outgoing messages to an SMTP relay over a small pool of
// long-lived connections, with go-mail's SMTP client.
//
// The messages are built with go-mail (package outgoing), and the SMTP
// conversation is driven here on go-mail's smtp.Client and its textproto
// connection, rather than through mail.Client.Send: go-mail's SendError keeps
// neither the relay's reply text nor the cause (it has no Unwrap), calls a
// dropped connection permanent, and Client.Send adds a NOOP and an RSET to
// every message. Knowing which command failed is also what tells a refused
// recipient from a refusing relay, and a stale pooled connection (safe to
// retry) from a message that may have been accepted.
//
// A message costs two round trips when the relay announces PIPELINING
// (RFC 2920), as relays do: MAIL FROM, RCPT TO and DATA together, then the
// message; four otherwise. No RSET follows a successful message, since the
// relay has already reset the transaction (RFC 5321 section 4.1.1.4); RSET
// is sent after a refused command, and a connection the relay closed while
// idle is noticed at the next MAIL FROM and replaced.
//
// What a message costs in CPU is mostly copying its body: when the relay
// announces 8BITMIME (RFC 6152), as relays do, the text and HTML parts go
// in 8bit rather than quoted-printable (see outgoing.Builder.RenderFor),
// and the message is dot-stuffed in one pass and written in one piece
// rather than through net/textproto's byte-at-a-time DotWriter.
package smtp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"bulletin/internal/outgoing"
)

// ErrClosed is the cause of the error Send returns after Close.
var ErrClosed = errors.New("smtp: sender closed")

// Sender sends messages through one relay over at most Options.Connections
// connections, opened when first needed and reused for many messages. It is
// safe for concurrent use; Send calls beyond Connections wait for a free
// connection.
type Sender struct {
	opts    Options
	builder *outgoing.Builder

	// slots holds one token per connection in use: a Send takes one before
	// touching a connection, which bounds the connections to its capacity.
	slots chan struct{}
	done  chan struct{} // closed by Close

	mu   sync.Mutex
	idle []*conn // open connections not in use, most recently used last

	// eightBit is whether the relay announced 8BITMIME when a connection
	// was last opened: messages are rendered for it before a connection is
	// taken.
	eightBit atomic.Bool
	// bufs holds *[]byte buffers that messages are rendered into, one per
	// message in flight, reused rather than allocated for each message.
	bufs sync.Pool

	closeOnce sync.Once
	closeErr  error
}

// New returns a Sender for opts. It does not connect: the first Send does.
func New(opts Options) (*Sender, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b, err := outgoing.NewBuilder(o.DKIM)
	if err != nil {
		return nil, err
	}
	return &Sender{
		opts:    o,
		builder: b,
		slots:   make(chan struct{}, o.Connections),
		done:    make(chan struct{}),
	}, nil
}

// Send builds m and hands it to the relay. It returns the relay's reply to
// the end of DATA in the Receipt, or a *outgoing.SendError that says
// whether to retry and whose fault it is. It gives up when ctx is done.
func (s *Sender) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return outgoing.Receipt{}, ctxError("send", err, nil)
	}
	// Build and render before taking a connection, so that no connection
	// waits on CPU work, and a retry sends the very same bytes.
	buf, _ := s.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	r, err := s.builder.RenderFor(*buf, m, s.eightBit.Load())
	if err != nil {
		return outgoing.Receipt{}, err
	}
	defer func() {
		if cap(r.Data) <= largeBuffer {
			*buf = r.Data[:0]
			s.bufs.Put(buf)
		}
	}()
	from, to := m.Envelope()

	select {
	case s.slots <- struct{}{}:
	case <-s.done:
		return outgoing.Receipt{}, closedError()
	case <-ctx.Done():
		return outgoing.Receipt{}, ctxError("send", ctx.Err(), nil)
	}
	defer func() { <-s.slots }()
	select {
	case <-s.done:
		return outgoing.Receipt{}, closedError()
	default:
	}

	cn := s.takeIdle()
	for retried := false; ; retried = true {
		reused := cn != nil
		if cn == nil {
			if cn, err = s.dial(ctx); err != nil {
				return outgoing.Receipt{}, err
			}
			s.eightBit.Store(cn.eightBit)
		}
		if r.EightBit && !cn.eightBit {
			// The relay announced 8BITMIME on an earlier connection, not on
			// this one (another server behind the same name): 7bit then.
			if r, err = s.builder.RenderFor(r.Data, m, false); err != nil {
				s.putIdle(cn)
				return outgoing.Receipt{}, err
			}
		}
		reply, serr := cn.transact(ctx, s.opts.Timeout, from, to, r.Data)
		if cn.broken {
			cn.close()
		} else {
			s.putIdle(cn)
		}
		if serr == nil {
			return outgoing.Receipt{MessageID: r.MessageID, Reply: reply, QueueID: QueueID(reply)}, nil
		}
		// A pooled connection the relay has meanwhile closed (idle timeout,
		// per-connection message limit) fails at its first command, before
		// anything was accepted: retry once on a new connection.
		if reused && !retried && serr.Command == "MAIL FROM" && (serr.Code == 0 || serr.Code == 421) && ctx.Err() == nil {
			cn = nil
			continue
		}
		return outgoing.Receipt{}, serr
	}
}

// Close waits for the sends in flight, then quits every connection. Sends
// after Close fail with a temporary error wrapping ErrClosed.
func (s *Sender) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		// Taking every slot waits for the sends in flight, which are bounded
		// by their ctx and Options.Timeout; the slots stay taken.
		for range cap(s.slots) {
			s.slots <- struct{}{}
		}
		s.mu.Lock()
		idle := s.idle
		s.idle = nil
		s.mu.Unlock()
		var errs []error
		for _, cn := range idle {
			errs = append(errs, cn.quit(s.opts.Timeout))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *Sender) takeIdle() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.idle)
	if n == 0 {
		return nil
	}
	cn := s.idle[n-1]
	s.idle = s.idle[:n-1]
	return cn
}

func (s *Sender) putIdle(cn *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle = append(s.idle, cn)
}

func closedError() *outgoing.SendError {
	return &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay, Command: "send",
		Message: "sender closed", Err: ErrClosed}
}
