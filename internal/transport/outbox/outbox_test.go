package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"bulletin/internal/outgoing"
)

// campaignSender is the interface internal/campaign declares.
type campaignSender interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
	Close() error
}

var _ campaignSender = (*Sender)(nil)

func message(i int) *outgoing.Message {
	tok := fmt.Sprintf("%048x", i)
	return &outgoing.Message{
		From:               outgoing.Address{Name: "Mission Insertion", Addr: "lettre@news.example.org"},
		To:                 outgoing.Address{Name: "Chloé Dupré", Addr: fmt.Sprintf("rcpt%d@example.net", i)},
		Subject:            "Édition spéciale : 10 ans !",
		HTML:               "<p>Bonjour Chloé</p>",
		Text:               "Bonjour Chloé\n",
		EnvelopeFrom:       "bounces+" + tok + "@news.example.org",
		ListUnsubscribeURL: "https://news.example.org/u/" + tok,
		DeliveryToken:      tok,
	}
}

func TestSendWritesAnEML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	s, err := New(dir)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	s.now = func() time.Time { return time.Date(2026, 1, 25, 9, 0, 0, 123456000, time.FixedZone("CET", 3600)) }
	m := message(1)
	rc, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	path := filepath.Join(dir, "20260125T080000.123456Z-"+m.DeliveryToken+".eml")
	if rc.Reply != "outbox: "+path {
		t.Errorf("Receipt.Reply = %q, want %q", rc.Reply, "outbox: "+path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("file has a bare LF, want CRLF line ends only")
	}
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	if got := r.Header.Get("Return-Path"); got != "<"+m.EnvelopeFrom+">" {
		t.Errorf("Return-Path = %q, want <%s>", got, m.EnvelopeFrom)
	}
	if id, _ := r.Header.MessageID(); id != rc.MessageID || id == "" {
		t.Errorf("Message-ID = %q, want Receipt.MessageID %q", id, rc.MessageID)
	}
	if s, _ := r.Header.Subject(); s != m.Subject {
		t.Errorf("Subject = %q, want %q", s, m.Subject)
	}
	var types []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		body, _ := io.ReadAll(p.Body)
		if !strings.Contains(string(body), "Bonjour Chloé") {
			t.Errorf("part %s = %q, want Bonjour Chloé", ct, body)
		}
		types = append(types, ct)
	}
	if fmt.Sprint(types) != "[text/plain text/html]" {
		t.Errorf("parts = %v, want [text/plain text/html]", types)
	}
}

func TestConcurrentSendsSortAndLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := s.Send(context.Background(), message(i)); err != nil {
				t.Errorf("Send(%d) = %v", i, err)
			}
		})
	}
	wg.Wait()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{48}\.eml$`)
	var names []string
	for _, e := range entries {
		if !name.MatchString(e.Name()) {
			t.Errorf("file %q, want only <time>-<token>.eml", e.Name())
		}
		names = append(names, e.Name())
	}
	if len(names) != n {
		t.Errorf("%d files, want %d", len(names), n)
	}
	if !sort.StringsAreSorted(names) {
		t.Error("ReadDir order is not time order")
	}
}

func TestSendErrors(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, message(1)); !errors.Is(err, context.Canceled) || !outgoing.IsTemporary(err) {
		t.Errorf("Send(cancelled) = %v, want a temporary error wrapping context.Canceled", err)
	}
	bad := message(1)
	bad.To.Addr = "nobody"
	if _, err := s.Send(context.Background(), bad); outgoing.IsRelayFault(err) || outgoing.IsTemporary(err) || err == nil {
		t.Errorf("Send(bad To) = %v, want a permanent recipient error", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := s.Send(context.Background(), message(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}

func TestNewOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); err == nil {
		t.Errorf("New(%q) = nil error, want an error for a file", f)
	}
}

// RemoveTo deletes the files addressed to one person, whatever the case of
// the address, and only those; a folder that does not exist holds nothing.
func TestRemoveTo(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Send(context.Background(), message(i)); err != nil {
			t.Fatal(err)
		}
	}
	second := message(1) // a second mail to the same reader
	second.DeliveryToken = ""
	if _, err := s.Send(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	n, err := RemoveTo(dir, "RCPT1@Example.net")
	if err != nil || n != 2 {
		t.Fatalf("RemoveTo = %d, %v; want 2", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(left) != 2 {
		t.Fatalf("%d files left, want 2", len(left))
	}
	for _, f := range left {
		raw, _ := os.ReadFile(f)
		if bytes.Contains(bytes.ToLower(raw), []byte("rcpt1@example.net")) {
			t.Errorf("%s, addressed to the erased reader, is still there", f)
		}
	}
	if n, err := RemoveTo(filepath.Join(dir, "missing"), "rcpt1@example.net"); n != 0 || err != nil {
		t.Errorf("RemoveTo(missing folder) = %d, %v; want 0, nil", n, err)
	}
}
