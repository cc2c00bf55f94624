package outgoing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Scope says whose fault a failed send is, which decides what the campaign
// engine does next.
type Scope int

const (
	// ScopeRecipient: only this delivery failed (the relay refused this
	// recipient or this message); the campaign goes on.
	ScopeRecipient Scope = iota + 1
	// ScopeRelay: every delivery would fail the same way for now (the relay
	// is down or refuses us, authentication or TLS failed, the sending setup
	// is wrong); the engine pauses the campaign, at once when the error is
	// permanent, after a few in a row when it is temporary.
	ScopeRelay
)

// String returns "recipient" or "relay".
func (s Scope) String() string {
	switch s {
	case ScopeRecipient:
		return "recipient"
	case ScopeRelay:
		return "relay"
	}
	return "scope(" + strconv.Itoa(int(s)) + ")"
}

// SendError is the error every transport returns for a message it could not
// hand over. It keeps the relay's reply as it was given, because the delivery
// report shows it to the admin and the ledger records it (invariant 2).
type SendError struct {
	// Code is the SMTP reply code (550), or 0 when there was no reply
	// (connection refused or dropped, timeout, TLS failure, bad message).
	Code int
	// Enhanced is the RFC 3463 enhanced status code ("5.1.1"), if the relay
	// gave one.
	Enhanced string
	// Message is the relay's own words without the codes, or a description
	// of the failure when the relay said nothing.
	Message string
	// Temporary is true when the same send may succeed later: a 4xx reply, a
	// dropped connection, a timeout, a refused connection.
	Temporary bool
	// Scope says whether the recipient or the relay (the whole send) failed.
	Scope Scope
	// Command is the step that failed: "connect", "STARTTLS", "AUTH",
	// "MAIL FROM", "RCPT TO", "DATA", "build", "write".
	Command string
	// Err is the underlying error, if any (a net.OpError, context.Canceled).
	Err error
}

// Error returns a one-line description such as
// "RCPT TO: 550 5.1.1 User unknown (recipient, permanent)".
func (e *SendError) Error() string {
	var b strings.Builder
	if e.Command != "" {
		b.WriteString(e.Command)
		b.WriteString(": ")
	}
	if e.Code != 0 {
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteByte(' ')
	}
	if e.Enhanced != "" {
		b.WriteString(e.Enhanced)
		b.WriteByte(' ')
	}
	b.WriteString(e.Message)
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	fmt.Fprintf(&b, " (%s, %s)", e.Scope, kind)
	return b.String()
}

// Unwrap returns the underlying error, so that errors.Is(err,
// context.DeadlineExceeded) works on a send that ran out of time.
func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether err is a *SendError (anywhere in its chain)
// that is worth retrying later.
func IsTemporary(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Temporary
}

// IsRelayFault reports whether err is a *SendError (anywhere in its chain)
// with ScopeRelay: the campaign should pause rather than mark the recipient.
func IsRelayFault(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Scope == ScopeRelay
}
