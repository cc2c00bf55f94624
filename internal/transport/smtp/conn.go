package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"time"

	gsmtp "github.com/wneessen/go-mail/smtp"

	"bulletin/internal/outgoing"
)

// conn is one SMTP connection, owned by one Send at a time.
type conn struct {
	c   *gsmtp.Client
	raw net.Conn // the TCP connection under any TLS, for deadlines
	// eightBit is set when the relay announced 8BITMIME: it takes 8bit
	// parts.
	eightBit bool
	// pipelining is set when the relay announced PIPELINING (RFC 2920).
	pipelining bool
	// mailParams are the MAIL FROM parameters, as go-mail's Mail says them
	// to this relay: BODY=8BITMIME, SMTPUTF8.
	mailParams string
	// broken is set when the connection can no longer be trusted: a network
	// error, a timeout, a 421, an interrupted transaction.
	broken bool
	// wire is the last message as written after DATA, kept for its room.
	wire []byte
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
	cn := &conn{c: c, raw: raw}
	cn.eightBit, _ = c.Extension("8BITMIME")
	cn.pipelining, _ = c.Extension("PIPELINING")
	if cn.eightBit {
		cn.mailParams += " BODY=8BITMIME"
	}
	if utf8, _ := c.Extension("SMTPUTF8"); utf8 {
		cn.mailParams += " SMTPUTF8"
	}
	return cn, nil
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
	case cn.broken:
		// Nothing to clear: the connection is dropped.
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
	if cn.pipelining {
		cmd, err = cn.pipelined(from, to)
	} else {
		cmd, err = cn.stepByStep(from, to)
	}
	if err != nil {
		return "", cmd, err
	}
	return cn.message(data)
}

// stepByStep sends MAIL FROM, RCPT TO and DATA, each after the reply to
// the one before, up to the 354 that asks for the message.
func (cn *conn) stepByStep(from, to string) (cmd string, err error) {
	if err := cn.c.Mail("<" + from + ">"); err != nil {
		return "MAIL FROM", err
	}
	if err := cn.c.Rcpt("<" + to + ">"); err != nil {
		return "RCPT TO", err
	}
	t := cn.c.Text
	id, err := t.Cmd("DATA")
	if err == nil {
		t.StartResponse(id)
		_, _, err = t.ReadResponse(354)
		t.EndResponse(id)
	}
	return "DATA", err
}

// pipelined sends MAIL FROM, RCPT TO and DATA in one write, then reads
// their three replies (RFC 2920): two round trips and two writes fewer per
// message than stepByStep. It names the first command refused. A relay
// that refused MAIL FROM or RCPT TO and then accepts DATA waits for a
// message that must not come: the connection is then marked broken, to be
// closed rather than reset. The addresses are bare addresses, checked by
// outgoing.Build, so they cannot break a command line.
func (cn *conn) pipelined(from, to string) (cmd string, err error) {
	t := cn.c.Text
	_, werr := t.W.WriteString("MAIL FROM:<" + from + ">" + cn.mailParams + "\r\nRCPT TO:<" + to + ">\r\nDATA\r\n")
	if werr == nil {
		werr = t.W.Flush()
	}
	if werr != nil {
		return "MAIL FROM", werr
	}
	for _, c := range [...]struct {
		name string
		code int
	}{{"MAIL FROM", 250}, {"RCPT TO", 25}, {"DATA", 354}} {
		_, _, rerr := t.ReadResponse(c.code)
		if rerr == nil {
			cn.broken = cn.broken || err != nil
			continue
		}
		if err == nil {
			cmd, err = c.name, rerr
		}
		var reply *textproto.Error
		if !errors.As(rerr, &reply) || reply.Code == 421 {
			break // no reply, or the relay is closing: none will follow
		}
	}
	return cmd, err
}

// largeBuffer is the size above which the buffer of a message is not kept
// for the next one: an edition is tens of kilobytes; a rare huge message
// should not stay in memory for the sender's life.
const largeBuffer = 1 << 20

// message sends the message, after the relay's 354, dot-stuffed and ended
// in one write, and reads the final reply. It does on go-mail's textproto
// connection what go-mail's Data writer does, but not byte by byte: that
// writer is net/textproto's DotWriter, which copies the message one byte
// at a time through bufio and then writes it out 4 kB at a time; on an
// edition of 60 kB it cost more CPU than building the message.
func (cn *conn) message(msg []byte) (reply, cmd string, err error) {
	t := cn.c.Text
	cn.wire = appendDotStuffed(cn.wire[:0], msg)
	_, err = t.W.Write(cn.wire)
	if err == nil {
		err = t.W.Flush()
	}
	if cap(cn.wire) > largeBuffer {
		cn.wire = nil
	}
	if err != nil {
		// No reply to wait for: the message was never ended.
		return "", "DATA", err
	}
	_, text, err := t.ReadResponse(250)
	if err != nil {
		return "", "DATA (end)", err
	}
	return "250 " + strings.ReplaceAll(text, "\n", " "), "", nil
}

// appendDotStuffed appends msg to dst as it goes after DATA (RFC 5321
// section 4.5.2): a '.' doubled at the start of each line, then the "."
// line that ends the data. msg's lines end with CRLF, as Rendered.Data's
// do (net/textproto's DotWriter also turned bare LFs into CRLF, one byte
// at a time; here the message is copied in the pieces between the lines
// that start with a dot).
func appendDotStuffed(dst, msg []byte) []byte {
	ended := len(msg) == 0 || bytes.HasSuffix(msg, []byte("\r\n"))
	if len(msg) > 0 && msg[0] == '.' {
		dst = append(dst, '.')
	}
	for {
		i := bytes.Index(msg, []byte("\n."))
		if i < 0 {
			break
		}
		dst = append(dst, msg[:i+1]...)
		dst = append(dst, '.')
		msg = msg[i+1:]
	}
	dst = append(dst, msg...)
	if !ended {
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '.', '\r', '\n')
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
