package smtptest

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// send sends one message with go-smtp's own client, independently of
// Bulletin's transport.
func send(c *smtp.Client, from, to string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		return err
	}
	return w.Close()
}

func TestRecordsAndCounts(t *testing.T) {
	for _, discard := range []bool{false, true} {
		s := Start(t, Options{Discard: discard})
		c, err := smtp.Dial(s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := send(c, "a@example.org", "B@example.net"); err != nil {
				t.Fatalf("send = %v", err)
			}
		}
		c.Close()
		if s.Count() != 3 || s.Received("b@example.net") != 3 || s.Connections() != 1 {
			t.Errorf("discard=%v: Count, Received, Connections = %d, %d, %d; want 3, 3, 1",
				discard, s.Count(), s.Received("b@example.net"), s.Connections())
		}
		msgs := s.Messages()
		if discard && len(msgs) != 0 {
			t.Errorf("Messages in Discard mode = %d, want 0", len(msgs))
		}
		if !discard && (len(msgs) != 3 || msgs[0].From != "a@example.org" || !strings.Contains(string(msgs[0].Data), "hello") || msgs[0].QueueID == msgs[1].QueueID) {
			t.Errorf("Messages = %+v, want three with distinct queue ids", msgs)
		}
	}
}

// Several senders on one server are told apart by their EHLO name.
func TestCountFrom(t *testing.T) {
	s := Start(t, Options{Discard: true})
	for i, helo := range []string{"one.test", "Two.test", "two.test"} {
		c, err := smtp.Dial(s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Hello(helo); err != nil {
			t.Fatal(err)
		}
		for range i + 1 {
			if err := send(c, "a@example.org", "b@example.net"); err != nil {
				t.Fatalf("send = %v", err)
			}
		}
		c.Close()
	}
	if one, two, other := s.CountFrom("one.test"), s.CountFrom("TWO.test"), s.CountFrom("localhost"); one != 1 || two != 5 || other != 0 {
		t.Errorf("CountFrom one.test, TWO.test, localhost = %d, %d, %d; want 1, 5, 0", one, two, other)
	}
}

func TestFailFirstAndSetFaults(t *testing.T) {
	s := Start(t, Options{Faults: Faults{FailFirst: 2}})
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var codes []int
	for range 3 {
		err := send(c, "a@example.org", "b@example.net")
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			codes = append(codes, se.Code)
			_ = c.Reset()
		} else if err != nil {
			t.Fatal(err)
		} else {
			codes = append(codes, 250)
		}
	}
	if len(codes) != 3 || codes[0] != 451 || codes[1] != 451 || codes[2] != 250 {
		t.Errorf("replies = %v, want [451 451 250]", codes)
	}
	if s.Attempts("b@example.net") != 3 {
		t.Errorf("Attempts = %d, want 3", s.Attempts("b@example.net"))
	}
	s.SetFaults(Faults{MailErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "no"}})
	var se *smtp.SMTPError
	if err := send(c, "a@example.org", "b@example.net"); !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("send after SetFaults = %v, want 550", err)
	}
}

func TestImplicitTLSAndAuth(t *testing.T) {
	s := Start(t, Options{TLS: ImplicitTLS, Username: "u", Password: "p"})
	c, err := smtp.DialTLS(s.Addr, s.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@example.org", "b@example.net"); err == nil {
		t.Error("send before AUTH = nil, want 530")
	}
	_ = c.Reset()
	if err := c.Auth(sasl.NewPlainClient("", "u", "bad")); err == nil {
		t.Error("Auth(bad password) = nil, want 535")
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
		t.Fatalf("Auth = %v", err)
	}
	if err := send(c, "a@example.org", "b@example.net"); err != nil {
		t.Fatalf("send = %v", err)
	}
	if m := s.Messages()[0]; !m.TLS || m.User != "u" {
		t.Errorf("message TLS, User = %v, %q; want true, u", m.TLS, m.User)
	}
}
