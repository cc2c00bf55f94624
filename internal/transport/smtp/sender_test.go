package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	gosmtp "github.com/emersion/go-smtp"

	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
)

// campaignSender is the interface internal/campaign declares; both
// transports must satisfy it.
type campaignSender interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
	Close() error
}

var _ campaignSender = (*Sender)(nil)

const (
	subject = "Édition spéciale : 10 ans !"
	token   = "00112233445566778899aabbccddeeff0011223344556677"
)

// message returns the i-th test message, to rcpt<i>@example.net.
func message(i int) *outgoing.Message {
	return &outgoing.Message{
		From:                  outgoing.Address{Name: "Mission Insertion Île-de-France", Addr: "lettre@news.example.org"},
		ReplyTo:               outgoing.Address{Name: "Équipe", Addr: "contact@example.org"},
		To:                    outgoing.Address{Name: "Chloé Dupré", Addr: fmt.Sprintf("rcpt%d@example.net", i)},
		Subject:               subject,
		HTML:                  "<html><body><h1>10 ans</h1><p>Bonjour Chloé, merci à nos partenaires.</p></body></html>",
		Text:                  "10 ans\n\nBonjour Chloé, merci à nos partenaires.\n",
		EnvelopeFrom:          "bounces+" + token + "@news.example.org",
		ListID:                "Partenaires <partenaires.news.example.org>",
		ListUnsubscribeURL:    "https://news.example.org/u/" + token,
		ListUnsubscribeMailto: "unsubscribe+" + token + "@news.example.org",
		CampaignID:            "6f1c1e36-2d0b-4b9e-9a43-1f5cf0b0f1aa",
		DeliveryToken:         token,
	}
}

// sender returns a Sender to srv, closed when the test ends.
func sender(t testing.TB, srv *smtptest.Server, opts Options) *Sender {
	t.Helper()
	opts.Host, opts.Port = srv.Host(), srv.Port()
	if opts.TLS == "" {
		opts.TLS = TLSNone
	}
	if opts.TLSConfig == nil && srv.CertPool() != nil {
		opts.TLSConfig = srv.ClientTLSConfig()
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	opts.HELO = "bulletin.test"
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSendHeadersAsReceived(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, Options{})
	m := message(1)
	m.Test = true

	rc, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	rm := got[0]
	if rm.From != m.EnvelopeFrom {
		t.Errorf("envelope sender = %q, want VERP %q", rm.From, m.EnvelopeFrom)
	}
	if len(rm.To) != 1 || rm.To[0] != m.To.Addr {
		t.Errorf("envelope recipients = %q, want [%s]", rm.To, m.To.Addr)
	}
	if want := "250 2.0.0 Ok: queued as " + rm.QueueID; rc.Reply != want {
		t.Errorf("Receipt.Reply = %q, want %q", rc.Reply, want)
	}
	if rc.QueueID != rm.QueueID {
		t.Errorf("Receipt.QueueID = %q, want %q", rc.QueueID, rm.QueueID)
	}

	r, err := mail.CreateReader(bytes.NewReader(rm.Data))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	h := r.Header
	if s, err := h.Subject(); err != nil || s != subject {
		t.Errorf("Subject = %q, %v; want %q", s, err, subject)
	}
	if id, err := h.MessageID(); err != nil || id != rc.MessageID || !strings.HasSuffix(id, "@news.example.org") {
		t.Errorf("Message-ID = %q, %v; want Receipt.MessageID %q on @news.example.org", id, err, rc.MessageID)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != "Chloé Dupré" {
		t.Errorf("To = %v, %v; want Chloé Dupré", to, err)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "Mission Insertion Île-de-France" {
		t.Errorf("From = %v, %v; want Mission Insertion Île-de-France", from, err)
	}
	for k, want := range map[string]string{
		"List-Unsubscribe":      "<https://news.example.org/u/" + token + ">, <mailto:unsubscribe+" + token + "@news.example.org>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               "\"Partenaires\" <partenaires.news.example.org>",
		"X-Bulletin-Campaign":   m.CampaignID,
		"X-Bulletin-Delivery":   token,
		"X-Bulletin-Test":       "yes",
		"Precedence":            "bulk",
		"Auto-Submitted":        "",
		"Return-Path":           "", // added by the final MTA, never by the sender
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	parts := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		b, _ := io.ReadAll(p.Body)
		parts[ct] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "Bonjour Chloé") || !strings.Contains(parts["text/html"], "<p>Bonjour Chloé") {
		t.Errorf("parts = %q, want text/plain and text/html saying Bonjour Chloé", parts)
	}
}

// freeAddr returns a loopback port that nothing listens on.
func freeAddr(t *testing.T) (string, int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr)
	ln.Close()
	return "127.0.0.1", a.Port
}

func smtpErr(code int, enh gosmtp.EnhancedCode, msg string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// TestFaults checks how each failure of the relay maps onto a SendError.
func TestFaults(t *testing.T) {
	const rcpt = "rcpt1@example.net"
	tests := []struct {
		name    string
		srv     smtptest.Options
		opts    Options
		timeout time.Duration // for ctx; 0: none
		refused bool          // nothing listens
		// want
		code      int
		enhanced  string
		text      string // substring of Message
		temporary bool
		scope     outgoing.Scope
		commands  []string // one of
	}{
		{name: "421 at connect",
			srv:  smtptest.Options{Faults: smtptest.Faults{ConnectErr: smtpErr(421, gosmtp.EnhancedCode{4, 3, 2}, "Service shutting down")}},
			code: 421, enhanced: "4.3.2", text: "Service shutting down", temporary: true, scope: outgoing.ScopeRelay, commands: []string{"connect"}},
		{name: "connection refused", refused: true,
			temporary: true, scope: outgoing.ScopeRelay, text: "refused", commands: []string{"connect"}},
		{name: "451 on RCPT",
			srv:  smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{rcpt: smtpErr(451, gosmtp.EnhancedCode{4, 7, 1}, "Greylisted, come back later")}}},
			code: 451, enhanced: "4.7.1", text: "Greylisted, come back later", temporary: true, scope: outgoing.ScopeRecipient, commands: []string{"RCPT TO"}},
		{name: "452 on RCPT",
			srv:  smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{rcpt: smtpErr(452, gosmtp.EnhancedCode{4, 2, 2}, "Mailbox full")}}},
			code: 452, enhanced: "4.2.2", text: "Mailbox full", temporary: true, scope: outgoing.ScopeRecipient, commands: []string{"RCPT TO"}},
		{name: "550 on RCPT",
			srv:  smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{rcpt: smtpErr(550, gosmtp.EnhancedCode{5, 1, 1}, "<rcpt1@example.net>: Recipient address rejected: User unknown")}}},
			code: 550, enhanced: "5.1.1", text: "Recipient address rejected: User unknown", scope: outgoing.ScopeRecipient, commands: []string{"RCPT TO"}},
		{name: "421 on RCPT is the relay's",
			srv:  smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{rcpt: smtpErr(421, gosmtp.EnhancedCode{4, 7, 0}, "Too many connections")}}},
			code: 421, enhanced: "4.7.0", temporary: true, scope: outgoing.ScopeRelay, commands: []string{"RCPT TO"}},
		{name: "554 on DATA",
			srv:  smtptest.Options{Faults: smtptest.Faults{DataErr: smtpErr(554, gosmtp.EnhancedCode{5, 7, 1}, "Message rejected as spam")}},
			code: 554, enhanced: "5.7.1", text: "Message rejected as spam", scope: outgoing.ScopeRecipient, commands: []string{"DATA (end)"}},
		{name: "451 on DATA",
			srv:  smtptest.Options{Faults: smtptest.Faults{DataErr: smtpErr(451, gosmtp.EnhancedCode{4, 3, 0}, "Queue full")}},
			code: 451, enhanced: "4.3.0", temporary: true, scope: outgoing.ScopeRecipient, commands: []string{"DATA (end)"}},
		{name: "connection dropped in DATA",
			srv:       smtptest.Options{Faults: smtptest.Faults{DropInData: 1}},
			temporary: true, scope: outgoing.ScopeRelay, commands: []string{"DATA", "DATA (end)"}},
		{name: "slow relay, ctx deadline",
			srv:       smtptest.Options{Faults: smtptest.Faults{Delay: 2 * time.Second}},
			timeout:   200 * time.Millisecond,
			temporary: true, scope: outgoing.ScopeRelay, text: "deadline exceeded", commands: []string{"connect", "EHLO"}},
		{name: "slow relay, Options.Timeout",
			srv:       smtptest.Options{Faults: smtptest.Faults{Delay: 2 * time.Second}},
			opts:      Options{Timeout: 200 * time.Millisecond},
			temporary: true, scope: outgoing.ScopeRelay, text: "timeout", commands: []string{"connect", "EHLO"}},
		{name: "550 on MAIL FROM",
			srv:  smtptest.Options{Faults: smtptest.Faults{MailErr: smtpErr(550, gosmtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user")}},
			code: 550, enhanced: "5.7.1", text: "Sender address rejected", scope: outgoing.ScopeRelay, commands: []string{"MAIL FROM"}},
		{name: "451 on MAIL FROM",
			srv:  smtptest.Options{Faults: smtptest.Faults{MailErr: smtpErr(451, gosmtp.EnhancedCode{4, 3, 0}, "Local error")}},
			code: 451, enhanced: "4.3.0", temporary: true, scope: outgoing.ScopeRelay, commands: []string{"MAIL FROM"}},
		{name: "auth failure",
			srv:  smtptest.Options{TLS: smtptest.StartTLS, Username: "bulletin", Password: "right"},
			opts: Options{TLS: TLSStartTLS, Username: "bulletin", Password: "wrong"},
			code: 535, enhanced: "5.7.8", text: "credentials invalid", scope: outgoing.ScopeRelay, commands: []string{"AUTH"}},
		{name: "auth required, no credentials",
			srv:  smtptest.Options{TLS: smtptest.StartTLS, Username: "bulletin", Password: "right"},
			opts: Options{TLS: TLSStartTLS},
			code: 530, enhanced: "5.7.0", scope: outgoing.ScopeRelay, commands: []string{"MAIL FROM"}},
		{name: "STARTTLS required, not offered",
			opts: Options{TLS: TLSStartTLS},
			text: "does not offer STARTTLS", scope: outgoing.ScopeRelay, commands: []string{"STARTTLS"}},
		{name: "STARTTLS, untrusted certificate",
			srv: smtptest.Options{TLS: smtptest.StartTLS},
			// The system roots do not hold the server's self-signed certificate.
			opts: Options{TLS: TLSStartTLS, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}},
			text: "certificate", scope: outgoing.ScopeRelay, commands: []string{"STARTTLS"}},
		{name: "implicit TLS to a plain relay",
			opts: Options{TLS: TLSImplicit},
			text: "TLS", scope: outgoing.ScopeRelay, commands: []string{"TLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s *Sender
			if tt.refused {
				host, port := freeAddr(t)
				var err error
				if s, err = New(Options{Host: host, Port: port, TLS: TLSNone, Timeout: time.Second}); err != nil {
					t.Fatal(err)
				}
				defer s.Close()
			} else {
				srv := smtptest.Start(t, tt.srv)
				s = sender(t, srv, tt.opts)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := s.Send(ctx, message(1))
			if elapsed := time.Since(start); (tt.timeout > 0 || tt.opts.Timeout > 0) && elapsed > 1500*time.Millisecond {
				t.Errorf("Send took %v, want it to give up sooner", elapsed)
			}
			var se *outgoing.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *outgoing.SendError", err)
			}
			if se.Code != tt.code || se.Enhanced != tt.enhanced || se.Temporary != tt.temporary || se.Scope != tt.scope {
				t.Errorf("Send = %d %q temporary=%v scope=%v, want %d %q temporary=%v scope=%v (%v)",
					se.Code, se.Enhanced, se.Temporary, se.Scope, tt.code, tt.enhanced, tt.temporary, tt.scope, err)
			}
			if !strings.Contains(se.Message, tt.text) {
				t.Errorf("Send message = %q, want it to contain %q", se.Message, tt.text)
			}
			found := false
			for _, c := range tt.commands {
				found = found || se.Command == c
			}
			if !found {
				t.Errorf("Send command = %q, want one of %q", se.Command, tt.commands)
			}
			if outgoing.IsTemporary(err) != tt.temporary || outgoing.IsRelayFault(err) != (tt.scope == outgoing.ScopeRelay) {
				t.Errorf("IsTemporary, IsRelayFault = %v, %v; want %v, %v", outgoing.IsTemporary(err), outgoing.IsRelayFault(err), tt.temporary, tt.scope == outgoing.ScopeRelay)
			}
			if tt.timeout > 0 && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false, want true", err)
			}
		})
	}
}

func TestFailFirstThenSucceed(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{FailFirst: 2}})
	s := sender(t, srv, Options{Connections: 1})
	for i := 1; i <= 3; i++ {
		_, err := s.Send(context.Background(), message(1))
		if i <= 2 && !(outgoing.IsTemporary(err) && !outgoing.IsRelayFault(err)) {
			t.Errorf("attempt %d: Send = %v, want a temporary recipient error", i, err)
		}
		if i == 3 && err != nil {
			t.Errorf("attempt 3: Send = %v, want nil", err)
		}
	}
	if got := srv.Received("rcpt1@example.net"); got != 1 {
		t.Errorf("Received = %d, want 1", got)
	}
	// The refused recipients were cleared with RSET; one connection served all.
	if got := srv.Connections(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
}

func TestTLSAndAuth(t *testing.T) {
	tests := []struct {
		name    string
		srvTLS  smtptest.TLSMode
		tls     TLSMode
		auth    AuthMech
		wantTLS bool
	}{
		{"starttls required", smtptest.StartTLS, TLSStartTLS, AuthAuto, true},
		{"opportunistic, offered", smtptest.StartTLS, TLSOpportunistic, AuthPlain, true},
		{"opportunistic, not offered", smtptest.NoTLS, TLSOpportunistic, "", false},
		{"implicit TLS", smtptest.ImplicitTLS, TLSImplicit, AuthLogin, true},
		{"starttls, LOGIN", smtptest.StartTLS, TLSStartTLS, AuthLogin, true},
		{"starttls, CRAM-MD5", smtptest.StartTLS, TLSStartTLS, AuthCRAMMD5, true},
		{"plain relay on localhost, PLAIN", smtptest.NoTLS, TLSNone, AuthPlain, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			so := smtptest.Options{TLS: tt.srvTLS}
			o := Options{TLS: tt.tls}
			if tt.auth != "" {
				so.Username, so.Password = "bulletin", "s3cret é"
				o.Username, o.Password, o.Auth = so.Username, so.Password, tt.auth
			}
			srv := smtptest.Start(t, so)
			// Host is 127.0.0.1: the only host go-mail sends a password to
			// in clear.
			s := sender(t, srv, o)
			if _, err := s.Send(context.Background(), message(1)); err != nil {
				t.Fatalf("Send = %v, want nil", err)
			}
			m := srv.Messages()[0]
			if m.TLS != tt.wantTLS {
				t.Errorf("server saw TLS = %v, want %v", m.TLS, tt.wantTLS)
			}
			if m.User != so.Username {
				t.Errorf("server saw user %q, want %q", m.User, so.Username)
			}
		})
	}
}

func TestConnectionReuse(t *testing.T) {
	const k, workers, n = 3, 8, 120
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, Options{Connections: k})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if _, err := s.Send(context.Background(), message(i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send = %v, want nil", err)
	}
	if got := srv.Count(); got != n {
		t.Errorf("server accepted %d messages, want %d", got, n)
	}
	for i := range n {
		if got := srv.Received(fmt.Sprintf("rcpt%d@example.net", i)); got != 1 {
			t.Errorf("Received(rcpt%d) = %d, want 1", i, got)
		}
	}
	if got := srv.Connections(); got != k {
		t.Errorf("server saw %d connections, want %d", got, k)
	}
	conns := map[int]int{}
	for _, m := range srv.Messages() {
		conns[m.Conn]++
	}
	if len(conns) != k {
		t.Errorf("messages came over %d connections (%v), want %d", len(conns), conns, k)
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{DropInData: 1}})
	s := sender(t, srv, Options{Connections: 1})
	if _, err := s.Send(context.Background(), message(1)); !outgoing.IsTemporary(err) {
		t.Fatalf("Send = %v, want a temporary error", err)
	}
	if _, err := s.Send(context.Background(), message(1)); err != nil {
		t.Fatalf("Send after the drop = %v, want nil", err)
	}
	if got := srv.Connections(); got != 2 {
		t.Errorf("server saw %d connections, want 2", got)
	}
}

// A relay that closed an idle pooled connection costs no error: the send
// is retried once on a new connection, since nothing was accepted yet.
func TestStaleConnectionRetried(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, Options{Connections: 1})
	if _, err := s.Send(context.Background(), message(1)); err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	srv.CloseConnections()
	if _, err := s.Send(context.Background(), message(2)); err != nil {
		t.Fatalf("Send on a stale connection = %v, want nil", err)
	}
	if got, want := srv.Count(), 2; got != want {
		t.Errorf("server accepted %d messages, want %d", got, want)
	}
	if got := srv.Connections(); got != 2 {
		t.Errorf("server saw %d connections, want 2", got)
	}
}

func TestCancelWhileWaitingForConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: 300 * time.Millisecond}})
	s := sender(t, srv, Options{Connections: 1})
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), message(1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the first send take the only connection
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, message(2)); !errors.Is(err, context.Canceled) || !outgoing.IsTemporary(err) {
		t.Errorf("Send with a cancelled ctx = %v, want a temporary error wrapping context.Canceled", err)
	}
	if err := <-done; err != nil {
		t.Errorf("first Send = %v, want nil", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, Options{})
	if _, err := s.Send(context.Background(), message(1)); err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := s.Send(context.Background(), message(2)); !errors.Is(err, ErrClosed) || !outgoing.IsTemporary(err) {
		t.Errorf("Send after Close = %v, want a temporary error wrapping ErrClosed", err)
	}
}

func TestBuildErrorIsNotSent(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, Options{})
	m := message(1)
	m.To.Addr = "not an address"
	_, err := s.Send(context.Background(), m)
	var se *outgoing.SendError
	if !errors.As(err, &se) || se.Command != "build" || se.Scope != outgoing.ScopeRecipient || se.Temporary {
		t.Errorf("Send(bad To) = %v, want a permanent recipient build error", err)
	}
	if srv.Connections() != 0 {
		t.Errorf("server saw %d connections, want 0", srv.Connections())
	}
}

func TestQueueID(t *testing.T) {
	tests := []struct{ reply, want string }{
		{"250 2.0.0 Ok: queued as 4F2A1C0D3E", "4F2A1C0D3E"},
		{"250 OK id=1tQxyz-0001ab-Cd", "1tQxyz-0001ab-Cd"},
		{"250 2.0.0 u9SLe1cg012345 Message accepted for delivery", "u9SLe1cg012345"},
		{"250 Ok 0100018d1c2e3f4a-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901-000000", "0100018d1c2e3f4a-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901-000000"},
		{"250 2.0.0 OK: queued as <202601250900.12345@smtp-relay.example>", "202601250900.12345@smtp-relay.example"},
		{"250 2.0.0 OK: queued", ""},
		{"250 Great success", ""},
	}
	for _, tt := range tests {
		if got := QueueID(tt.reply); got != tt.want {
			t.Errorf("QueueID(%q) = %q, want %q", tt.reply, got, tt.want)
		}
	}
}
