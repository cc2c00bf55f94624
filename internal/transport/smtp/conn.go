package smtp

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"time"

	gsmtp "github.com/wneessen/go-mail/smtp"

	"bulletin/internal/outgoing"
)

// conn is one SMTP connection, owned by one Send at a time.
type conn struct {
	c   *gsmtp.Client
	raw net.Conn // the TCP connection under any TLS, for deadlines
	// broken is set when the connection can no longer be trusted: a network
	// error, a timeout, a 421, an interrupted transaction.
	broken bool
}

// aLongTimeAgo is a deadline in the past: setting it makes blocked reads
// and writes return at once, which is how ctx cancellation reaches I/O that
// takes no ctx.
var aLongTimeAgo = time.Unix(1, 0)

// guard sets the connection's deadline to now+timeout, or ctx's deadline if
// sooner, and interrupts the I/O if ctx is cancelled. The returned stop
// reports whether ctx interrupted it.
func guard(ctx context.Context, raw net.Conn, timeout time.Duration) (stop func() bool) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = raw.SetDeadline(deadline)
	stopAfter := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(aLongTimeAgo) })
	return func() bool { return !stopAfter() }
}

// dial opens, secures and authenticates a new connection.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	o := s.opts
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(dctx, "tcp", o.addr())
	if err != nil {
		return nil, classify(ctx, "connect", err)
	}
	cn, serr := s.handshake(ctx, raw)
	if serr != nil {
		_ = raw.Close()
		return nil, serr
	}
	return cn, nil
}

// handshake reads the greeting, says EHLO, sets up TLS and logs in.
func (s *Sender) handshake(ctx context.Context, raw net.Conn) (*conn, *outgoing.SendError) {
	o := s.opts
	interrupted := guard(ctx, raw, o.Timeout)
	defer interrupted() // stop watching ctx on every return
	fail := func(cmd string, err error) *outgoing.SendError {
		if interrupted() {
			return ctxError(cmd, ctx.Err(), err)
		}
		return classify(ctx, cmd, err)
	}

	var nc net.Conn = raw
	if o.TLS == TLSImplicit {
		tc := tls.Client(raw, o.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fail("TLS", err)
		}
		nc = tc // go-mail sees a *tls.Conn and knows the session is encrypted
	}
	c, err := gsmtp.NewClient(nc, o.Host)
	if err != nil {
		return nil, fail("connect", err)
	}
	if err := c.Hello(o.HELO); err != nil {
		return nil, fail("EHLO", err)
	}
	if o.TLS == TLSStartTLS || o.TLS == TLSOpportunistic {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(o.TLSConfig); err != nil {
				return nil, fail("STARTTLS", err)
			}
		} else if o.TLS == TLSStartTLS {
			return nil, &outgoing.SendError{Scope: outgoing.ScopeRelay, Command: "STARTTLS",
				Message: "the relay does not offer STARTTLS, which the configuration requires"}
		}
	}
	if o.Username != "" {
		a, serr := s.auth(c)
		if serr != nil {
			return nil, serr
		}
		if err := c.Auth(a); err != nil {
			return nil, fail("AUTH", err)
		}
	}
	if interrupted() {
		return nil, ctxError("connect", ctx.Err(), nil)
	}
	return &conn{c: c, raw: raw}, nil
}

// auth returns the SASL client for the configured or offered mechanism.
func (s *Sender) auth(c *gsmtp.Client) (gsmtp.Auth, *outgoing.SendError) {
	o := s.opts
	ok, list := c.Extension("AUTH")
	if !ok {
		return nil, &outgoing.SendError{Scope: outgoing.ScopeRelay, Command: "AUTH",
			Message: "the relay does not offer AUTH (some offer it only after STARTTLS)"}
	}
	offered := map[string]bool{}
	for _, m := range strings.Fields(strings.ToUpper(list)) {
		offered[m] = true
	}
	_, encrypted := c.TLSConnectionState()
	want := []string{strings.ToUpper(string(o.Auth))}
	if o.Auth == AuthAuto {
		want = []string{"PLAIN", "LOGIN", "CRAM-MD5"}
		if !encrypted {
			want = []string{"CRAM-MD5", "PLAIN", "LOGIN"}
		}
	}
	for _, m := range want {
		if !offered[m] {
			continue
		}
		// PLAIN and LOGIN: go-mail itself refuses to send the password
		// unencrypted, except to localhost.
		switch m {
		case "PLAIN":
			return gsmtp.PlainAuth("", o.Username, o.Password, o.Host, false), nil
		case "LOGIN":
			return gsmtp.LoginAuth(o.Username, o.Password, o.Host, false), nil
		case "CRAM-MD5":
			return gsmtp.CRAMMD5Auth(o.Username, o.Password), nil
		}
	}
	return nil, &outgoing.SendError{Scope: outgoing.ScopeRelay, Command: "AUTH",
		Message: "the relay offers AUTH " + list + ", not " + strings.Join(want, " or ")}
}

// transact sends one message: MAIL FROM, RCPT TO, DATA. It returns the
// relay's final reply, or the error for the command that failed, and marks
// the connection broken when it cannot be reused.
func (cn *conn) transact(ctx context.Context, timeout time.Duration, from, to string, data []byte) (string, *outgoing.SendError) {
	interrupted := guard(ctx, cn.raw, timeout)
	reply, cmd, err := cn.commands(from, to, data)
	if interrupted() {
		// The deadline was pulled in under the connection: whatever its
		// state, it cannot be trusted for the next message.
		cn.broken = true
		if err != nil {
			return "", ctxError(cmd, ctx.Err(), err)
		}
	}
	if err == nil {
		return reply, nil
	}
	serr := classify(ctx, cmd, err)
	switch {
	case serr.Code == 0 || serr.Code == 421:
		cn.broken = true
	case cmd != "DATA (end)":
		// A refused MAIL, RCPT or DATA leaves a transaction open; clear it
		// so that the connection serves the next message. After the final
		// reply the relay has already reset.
		if cn.c.Reset() != nil {
			cn.broken = true
		}
	}
	return "", serr
}

// commands runs the transaction and names the command that failed.
func (cn *conn) commands(from, to string, data []byte) (reply, cmd string, err error) {
	if err := cn.c.Mail("<" + from + ">"); err != nil {
		return "", "MAIL FROM", err
	}
	if err := cn.c.Rcpt("<" + to + ">"); err != nil {
		return "", "RCPT TO", err
	}
	w, err := cn.c.Data()
	if err != nil {
		return "", "DATA", err
	}
	if _, err := w.Write(data); err != nil {
		// No Close: it would wait for a reply to a message never ended.
		return "", "DATA", err
	}
	if err := w.Close(); err != nil {
		return "", "DATA (end)", err
	}
	dc, _ := w.(*gsmtp.DataCloser)
	if dc == nil {
		return "250", "", nil
	}
	return "250 " + strings.ReplaceAll(dc.ServerResponse(), "\n", " "), "", nil
}

// quit says QUIT and closes the connection.
func (cn *conn) quit(timeout time.Duration) error {
	_ = cn.raw.SetDeadline(time.Now().Add(timeout))
	err := cn.c.Quit()
	_ = cn.raw.Close()
	if isNetwork(err) {
		// The relay may have closed an idle connection already; nothing is
		// lost by not saying goodbye.
		return nil
	}
	return err
}

// close drops the connection without QUIT.
func (cn *conn) close() {
	_ = cn.raw.Close()
}
