// Package smtptest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1
// for tests, recording what it receives and injecting the faults a relay
// shows in real life: a 421 at connect, refused senders and recipients,
// temporary failures that clear after a few attempts, DATA rejected or cut
// off, a slow relay, authentication, STARTTLS and implicit TLS.
//
// It is modelled on maddy's test server, with every field that changes
// while a test runs kept behind a mutex.
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLSMode is how the server offers TLS.
type TLSMode int

const (
	// NoTLS: plain SMTP, STARTTLS not offered.
	NoTLS TLSMode = iota
	// StartTLS: plain SMTP that offers STARTTLS (RFC 3207).
	StartTLS
	// ImplicitTLS: TLS from the first byte, as on port 465 (RFC 8314).
	ImplicitTLS
)

// Options configure a Server.
type Options struct {
	TLS TLSMode
	// Username and Password, when Username is set, make authentication
	// required: MAIL FROM before AUTH gets 530, bad credentials get 535.
	// PLAIN, LOGIN and CRAM-MD5 are offered (after STARTTLS, if TLS is on).
	Username, Password string
	// Discard counts messages without keeping them, for benchmarks.
	Discard bool
	// Faults are the faults injected from the start; see SetFaults.
	Faults Faults
}

// Faults are the failures the server injects. The zero value injects none.
type Faults struct {
	// ConnectErr is sent instead of the 220 greeting, then the connection
	// is closed (a relay that is overloaded or shutting down says 421).
	ConnectErr *smtp.SMTPError
	// MailErr is the reply to every MAIL FROM.
	MailErr *smtp.SMTPError
	// RcptErr is the reply to RCPT TO for the given addresses (any case).
	RcptErr map[string]*smtp.SMTPError
	// FailFirst makes the first FailFirst RCPT TO attempts for each address
	// fail with FailErr (451 4.3.0 by default); later attempts go on.
	FailFirst int
	FailErr   *smtp.SMTPError
	// DataErr is the reply at the end of DATA.
	DataErr *smtp.SMTPError
	// DropInData makes the next DropInData DATA transfers end with the
	// connection closed after the first bytes of the message, with no reply.
	DropInData int
	// Delay is waited before answering EHLO, MAIL, RCPT and the end of DATA.
	Delay time.Duration
}

// Message is one message the server accepted.
type Message struct {
	From    string   // envelope sender (MAIL FROM), without angle brackets
	To      []string // envelope recipients
	Data    []byte   // the message as received, CRLF line ends; nil in Discard mode
	TLS     bool     // whether the connection was encrypted
	User    string   // the authenticated user, if any
	QueueID string   // the id given in the "250 ... queued as" reply
	Conn    int      // the connection it came on, numbered from 1
}

// Server is a running test SMTP server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the "127.0.0.1:port" the server listens on.
	Addr string

	opts Options
	srv  *smtp.Server
	ln   net.Listener
	pool *x509.CertPool
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	faults   Faults
	msgs     []Message
	count    int
	received map[string]int // accepted messages per recipient
	byHELO   map[string]int // accepted messages per EHLO name
	attempts map[string]int // RCPT TO attempts per recipient
	conns    int
	connNo   map[string]int // connection number by client address
	open     []net.Conn     // accepted connections, for CloseConnections
	queueSeq int
}

// Start starts a server for the test and closes it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("smtptest.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// New starts a server on 127.0.0.1 with a free port. The caller must Close it.
func New(opts Options) (*Server, error) {
	s := &Server{
		opts:     opts,
		done:     make(chan struct{}),
		received: make(map[string]int),
		byHELO:   make(map[string]int),
		attempts: make(map[string]int),
		connNo:   make(map[string]int),
	}
	s.SetFaults(opts.Faults)

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = opts.TLS == NoTLS

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if opts.TLS != NoTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.pool = pool
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opts.TLS == StartTLS {
			srv.TLSConfig = cfg
		} else {
			ln = tls.NewListener(ln, cfg)
		}
	}
	s.srv, s.ln, s.Addr = srv, ln, ln.Addr().String()

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(&listener{Listener: ln, s: s})
	}()
	return s, nil
}

// Close stops the server and closes every connection.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done) // cuts Delay waits short
	err := s.srv.Close()
	// go-smtp closes only the listeners Serve has registered, which it may
	// not have done yet if the server is closed right after it started.
	_ = s.ln.Close()
	s.wg.Wait()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Host returns "127.0.0.1".
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr)
	return h
}

// Port returns the port the server listens on.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// CertPool returns a pool holding the server's self-signed certificate, for
// the client's tls.Config.RootCAs; nil when TLS is off.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// ClientTLSConfig returns a client configuration that trusts the server.
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

// SetFaults replaces the injected faults; connections already open see the
// change at their next command. The RcptErr map is copied.
func (s *Server) SetFaults(f Faults) {
	rcpt := make(map[string]*smtp.SMTPError, len(f.RcptErr))
	for k, v := range f.RcptErr {
		rcpt[strings.ToLower(k)] = v
	}
	f.RcptErr = rcpt
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Messages returns a copy of the messages accepted so far (none in Discard mode).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count returns how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Received returns how many accepted messages were addressed to rcpt.
func (s *Server) Received(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[strings.ToLower(rcpt)]
}

// CountFrom returns how many messages were accepted from clients that
// gave helo in EHLO (or HELO): which of several senders sent what, in
// Discard mode too.
func (s *Server) CountFrom(helo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byHELO[strings.ToLower(helo)]
}

// Attempts returns how many RCPT TO commands named rcpt, accepted or not.
func (s *Server) Attempts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[strings.ToLower(rcpt)]
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// CloseConnections closes every open connection without a word, as a relay
// does when it restarts or drops idle clients; the server keeps listening.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// wait sleeps for d, or less if the server closes.
func (s *Server) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
}

// listener counts connections and answers ConnectErr in place of go-smtp,
// whose greeting cannot be changed.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		l.s.conns++
		l.s.connNo[c.RemoteAddr().String()] = l.s.conns
		l.s.open = append(l.s.open, c)
		f := l.s.faults.ConnectErr
		l.s.mu.Unlock()
		if f == nil {
			return c, nil
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%d %s\r\n", f.Code, replyText(f))
		_ = c.Close()
	}
}

func replyText(e *smtp.SMTPError) string {
	if e.EnhancedCode == smtp.NoEnhancedCode || e.EnhancedCode == smtp.EnhancedCodeNotSet {
		return e.Message
	}
	c := e.EnhancedCode
	return fmt.Sprintf("%d.%d.%d %s", c[0], c[1], c[2], e.Message)
}

// session is one connection's SMTP session; go-smtp calls it from the
// connection's goroutine only.
type session struct {
	s    *Server
	c    *smtp.Conn
	conn int
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.wait(s.currentFaults().Delay)
	s.mu.Lock()
	n := s.connNo[c.Conn().RemoteAddr().String()]
	s.mu.Unlock()
	return &session{s: s, c: c, conn: n}, nil
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errAuthFailed   = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errTryLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain, "LOGIN", "CRAM-MD5"}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != ss.s.opts.Username || pass != ss.s.opts.Password {
			return errAuthFailed
		}
		ss.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return newCRAMServer(ss.s.opts.Username, ss.s.opts.Password, func(user string) { ss.user = user }), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	f := ss.s.currentFaults()
	ss.s.wait(f.Delay)
	if ss.s.opts.Username != "" && ss.user == "" {
		return errAuthRequired
	}
	if f.MailErr != nil {
		return f.MailErr
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	f := ss.s.currentFaults()
	ss.s.wait(f.Delay)
	key := strings.ToLower(to)
	ss.s.mu.Lock()
	ss.s.attempts[key]++
	n := ss.s.attempts[key]
	ss.s.mu.Unlock()
	if e := f.RcptErr[key]; e != nil {
		return e
	}
	if n <= f.FailFirst {
		if f.FailErr != nil {
			return f.FailErr
		}
		return errTryLater
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	f := ss.s.currentFaults()
	s := ss.s

	s.mu.Lock()
	drop := s.faults.DropInData > 0
	if drop {
		s.faults.DropInData--
	}
	s.mu.Unlock()
	if drop {
		var buf [64]byte
		_, _ = r.Read(buf[:])
		_ = ss.c.Conn().Close()
		return errors.New("smtptest: connection dropped in DATA")
	}

	var data []byte
	var err error
	if s.opts.Discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	s.wait(f.Delay)
	if f.DataErr != nil {
		return f.DataErr
	}

	_, isTLS := ss.c.TLSConnectionState()
	s.mu.Lock()
	s.queueSeq++
	qid := fmt.Sprintf("Q%07X", s.queueSeq)
	s.count++
	s.byHELO[strings.ToLower(ss.c.Hostname())]++
	for _, rcpt := range ss.to {
		s.received[strings.ToLower(rcpt)]++
	}
	if !s.opts.Discard {
		s.msgs = append(s.msgs, Message{
			From: ss.from, To: append([]string(nil), ss.to...), Data: data,
			TLS: isTLS, User: ss.user, QueueID: qid, Conn: ss.conn,
		})
	}
	s.mu.Unlock()
	// go-smtp answers a nil error with a fixed "250 2.0.0 OK: queued"; an
	// SMTPError with code 250 is how to give a queue id as real relays do.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + qid}
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }
