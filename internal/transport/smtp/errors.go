package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"syscall"
	"time"

	"bulletin/internal/outgoing"
)

// classify maps an error from the command cmd onto a *outgoing.SendError:
//
//   - a reply from the relay keeps its code, enhanced code and text; 4xx is
//     temporary, 5xx permanent; a refusal of RCPT TO or DATA concerns the
//     recipient, anything else (and a 421 anywhere, which closes the
//     session) concerns the relay;
//   - no reply (refused, reset or dropped connection, timeout) is a
//     temporary relay fault;
//   - a failed TLS handshake or certificate check, and anything else that
//     no retry will fix, is a permanent relay fault.
func classify(ctx context.Context, cmd string, err error) *outgoing.SendError {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		enh, text := splitReply(tp.Msg)
		scope := outgoing.ScopeRelay
		if (cmd == "RCPT TO" || cmd == "DATA" || cmd == "DATA (end)") && tp.Code != 421 {
			scope = outgoing.ScopeRecipient
		}
		return &outgoing.SendError{Code: tp.Code, Enhanced: enh, Message: text,
			Temporary: tp.Code/100 == 4, Scope: scope, Command: cmd, Err: err}
	}
	if cerr := ctxDone(ctx); cerr != nil {
		return ctxError(cmd, cerr, err)
	}
	se := &outgoing.SendError{Scope: outgoing.ScopeRelay, Command: cmd, Message: err.Error(), Err: err}
	switch {
	case isTLSFailure(err):
		se.Message = "TLS: " + err.Error()
	case isNetwork(err):
		se.Temporary = true
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			se.Message = "connection closed by the relay"
		}
	}
	return se
}

// ctxDone returns ctx's error, or context.DeadlineExceeded once its
// deadline has passed: the connection deadline, set to the same instant,
// may fire before ctx's own timer does.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// ctxError is the error for a send that ctx stopped: temporary, since the
// message may go through later, and matching errors.Is(err, ctx.Err()).
func ctxError(cmd string, ctxErr, ioErr error) *outgoing.SendError {
	err := ctxErr
	if ioErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, ioErr)
	}
	return &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay, Command: cmd,
		Message: "interrupted: " + ctxErr.Error(), Err: err}
}

// isTLSFailure reports a handshake or certificate failure, which retrying
// will not fix: a wrong CA, a name mismatch, a relay not speaking TLS.
func isTLSFailure(err error) bool {
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var op *net.OpError
	return errors.As(err, &cv) || errors.As(err, &rh) ||
		errors.As(err, &op) && op.Op == "remote error" // an alert from the peer
}

// isNetwork reports whether err is the connection failing rather than the
// relay answering: refused, reset, closed, timed out, name not resolved.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

var enhancedCode = regexp.MustCompile(`^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)`)

// splitReply returns the enhanced status code of a reply's text and the
// text without it, its lines joined by spaces.
func splitReply(msg string) (enhanced, text string) {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if m := enhancedCode.FindStringSubmatch(l); m != nil {
			if enhanced == "" {
				enhanced = m[1]
			}
			lines[i] = l[len(m[0]):]
		}
	}
	return enhanced, strings.TrimSpace(strings.Join(lines, " "))
}

// Patterns relays use to name the queue id in their reply to DATA.
var queueIDPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)queued as <?([^\s<>]+)>?`),                     // Postfix, SendGrid, Mailjet, Brevo
	regexp.MustCompile(`(?i)\bid=([^\s]+)`),                                // Exim
	regexp.MustCompile(`(?i)^2\.0\.0 ([A-Za-z0-9]{10,}) Message accepted`), // Sendmail
	regexp.MustCompile(`(?i)^ok ([0-9a-f]{16,}(?:-[0-9a-f]+)+)`),           // Amazon SES
}

// QueueID returns the queue id in a relay's reply to DATA ("250 2.0.0 Ok:
// queued as 4F2A1" gives "4F2A1"), or "" when it names none. Each relay
// words it its own way; the reply itself is always kept in the Receipt.
func QueueID(reply string) string {
	text := strings.TrimSpace(strings.TrimPrefix(reply, "250"))
	for _, re := range queueIDPatterns {
		if m := re.FindStringSubmatch(text); m != nil {
			return m[1]
		}
	}
	return ""
}
