package smtp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-message/mail"

	"bulletin/internal/smtptest"
)

// TestWireAsTheRelayAnnounces sends messages whose lines start with dots,
// are a lone dot, reach 998 octets or hold accents, to the go-smtp server
// as it is (it announces 8BITMIME and PIPELINING) and behind a proxy that
// hides one of them, and checks what the server received: CRLF lines of
// at most 998 octets, dots unstuffed back to the message's own text, 8bit
// parts with BODY=8BITMIME only where announced, 7bit bytes elsewhere, and
// commands pipelined only where announced.
func TestWireAsTheRelayAnnounces(t *testing.T) {
	long := "x" + strings.Repeat("é", 498) + "!" // 998 octets
	html := ".\n<p>Été</p>\n..\n.début\n" + long + "\n<p>" + strings.Repeat("Marchés publics, clauses sociales. ", 8) + "</p>"
	text := ".\n. point\nÉté\n" + long + "\nfin.\n."
	for _, tt := range []struct {
		name     string
		announce bool   // 8BITMIME
		hide     string // the capabilities the proxy hides
	}{
		{"8BITMIME and PIPELINING", true, ""},
		{"no 8BITMIME", false, "8BITMIME"},
		{"no PIPELINING", true, "PIPELINING"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{})
			p := startProxy(t, srv.Addr, tt.hide)
			s, err := New(Options{Host: "127.0.0.1", Port: p.port(), TLS: TLSNone, HELO: "bulletin.test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			// The first message is rendered before the relay is known;
			// the second for the relay as it announced itself.
			for i := range 2 {
				m := message(i)
				m.HTML, m.Text = html, text
				if _, err := s.Send(context.Background(), m); err != nil {
					t.Fatalf("Send %d = %v, want nil", i, err)
				}
			}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("server received %d messages, want 2", len(msgs))
			}
			data := msgs[1].Data
			checkWireLines(t, data)
			eightBit := bytes.Contains(data, []byte("Content-Transfer-Encoding: 8bit\r\n"))
			if eightBit != tt.announce {
				t.Errorf("8bit parts = %v, want %v", eightBit, tt.announce)
			}
			if !tt.announce && bytes.ContainsFunc(data, func(r rune) bool { return r > 127 }) {
				t.Error("octets above 127 sent to a relay that did not announce 8BITMIME")
			}
			want := 0
			if tt.announce {
				want = 2 // go-mail says it for both once announced
			}
			sent := p.sent()
			if got := strings.Count(strings.Join(sent, ""), " BODY=8BITMIME"); got != want {
				t.Errorf("MAIL FROM with BODY=8BITMIME %d times, want %d", got, want)
			}
			// Pipelined commands come in one write, and so in one read.
			pipelined := slices.ContainsFunc(sent, func(c string) bool {
				return strings.HasPrefix(c, "MAIL FROM:") && strings.HasSuffix(c, "\r\nDATA\r\n")
			})
			if pipelined != (tt.hide != "PIPELINING") {
				t.Errorf("MAIL FROM, RCPT TO and DATA sent together = %v, want %v", pipelined, tt.hide != "PIPELINING")
			}
			crlf := strings.NewReplacer("\n", "\r\n")
			if got, want := partBodies(t, data), []string{crlf.Replace(text), crlf.Replace(html)}; strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("received parts decode to\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// A relay that announced 8BITMIME and then, behind the same name, does
// not (a failover to an older server) gets 7bit messages: a message
// rendered in 8bit is rendered again for the connection.
func TestRelayStopsAnnouncing8BITMIME(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	p := startProxy(t, srv.Addr, "")
	s, err := New(Options{Host: "127.0.0.1", Port: p.port(), TLS: TLSNone, HELO: "bulletin.test", Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for i := range 3 {
		if i == 2 {
			p.setHide("8BITMIME")
			srv.CloseConnections()
		}
		m := message(i)
		m.HTML = "<p>Été</p>"
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %d = %v, want nil", i, err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("server received %d messages, want 3", len(msgs))
	}
	if !bytes.Contains(msgs[1].Data, []byte("Content-Transfer-Encoding: 8bit\r\n")) {
		t.Error("message 1 not in 8bit, want 8bit while the relay announces 8BITMIME")
	}
	if bytes.ContainsFunc(msgs[2].Data, func(r rune) bool { return r > 127 }) {
		t.Error("message 2 has octets above 127, sent after the relay stopped announcing 8BITMIME")
	}
}

// checkWireLines checks that data has CRLF line ends only and no line
// over 998 octets.
func checkWireLines(t *testing.T, data []byte) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("received a bare LF, want CRLF line ends only")
	}
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("received line %d of %d octets, want at most 998", i+1, len(line))
		}
	}
}

// partBodies returns the decoded bodies of data's parts.
func partBodies(t *testing.T, data []byte) []string {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	var bodies []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return bodies
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(b))
	}
}

func TestAppendDotStuffed(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ".\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.b\r\n..\r\n", "a\r\n..b\r\n...\r\n.\r\n"},
		{".a\r\n.\r\n.", "..a\r\n..\r\n..\r\n.\r\n"},
		{"a.\r\n b.\r\n\r\n.", "a.\r\n b.\r\n\r\n..\r\n.\r\n"},
	} {
		if got := string(appendDotStuffed(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendDotStuffed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// proxy forwards SMTP connections to a server, records what clients send
// and, when asked, hides a capability from the server's EHLO reply: go-smtp
// always announces 8BITMIME and PIPELINING.
type proxy struct {
	ln     net.Listener
	mu     sync.Mutex
	hide   string   // the capability hidden from connections made from now on
	chunks []string // what clients sent, as it was read
}

func startProxy(t *testing.T, target, hide string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, hide: hide}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			hide := p.hide
			p.mu.Unlock()
			wg.Go(func() { p.forward(&wg, c, target, hide) })
		}
	})
	return p
}

func (p *proxy) forward(wg *sync.WaitGroup, c net.Conn, target, hide string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	wg.Go(func() {
		defer s.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			p.mu.Lock()
			p.chunks = append(p.chunks, string(buf[:n]))
			p.mu.Unlock()
			if _, werr := s.Write(buf[:n]); err != nil || werr != nil {
				return
			}
		}
	})
	r := bufio.NewReader(s)
	for {
		line, err := r.ReadString('\n')
		if hide != "" && strings.TrimRight(line, "\r\n") == "250-"+hide {
			continue
		}
		if _, werr := io.WriteString(c, line); err != nil || werr != nil {
			return
		}
	}
}

// setHide hides capability from the connections made from now on.
func (p *proxy) setHide(capability string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hide = capability
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// sent returns what clients sent, cut where each read ended.
func (p *proxy) sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.chunks)
}
