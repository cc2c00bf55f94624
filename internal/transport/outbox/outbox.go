// Package outbox is the transport that sends nothing: it writes each message
// as an .eml file in a directory, for trying Bulletin without a relay, for
// previews, and for tests that want to read what would have been sent.
//
// A file is the message exactly as the SMTP transport would put it after
// DATA, with the envelope sender added as a Return-Path header (as the last
// MTA would), CRLF line ends: it opens in any mail client.
package outbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/outgoing"
)

// ErrClosed is the cause of the error Send returns after Close.
var ErrClosed = errors.New("outbox: sender closed")

// Sender writes messages to a directory. It is safe for concurrent use.
type Sender struct {
	dir     string
	builder *outgoing.Builder
	closed  atomic.Bool
	now     func() time.Time
}

// New returns a Sender writing to dir, which it creates if needed.
func New(dir string) (*Sender, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	b, err := outgoing.NewBuilder(nil)
	if err != nil {
		return nil, err
	}
	return &Sender{dir: dir, builder: b, now: time.Now}, nil
}

// Send writes m to a new file named after the time and the delivery
// (20260125T090000.123456Z-<delivery token or Message-ID>.eml), so that
// files sort in the order they were sent. The file is written under a
// temporary name, synced, then renamed, so that a crash never leaves half a
// message under a real name. The Receipt's Reply is "outbox: <path>" and
// its QueueID the file name. Files are not DKIM-signed.
func (s *Sender) Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return outgoing.Receipt{}, &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay,
			Command: "write", Message: "interrupted: " + err.Error(), Err: err}
	}
	if s.closed.Load() {
		return outgoing.Receipt{}, &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay,
			Command: "write", Message: "sender closed", Err: ErrClosed}
	}
	data, id, err := s.builder.Render(m)
	if err != nil {
		return outgoing.Receipt{}, err
	}
	from, _ := m.Envelope()
	var buf bytes.Buffer
	buf.Grow(len(data) + len(from) + 16)
	fmt.Fprintf(&buf, "Return-Path: <%s>\r\n", from)
	buf.Write(data)

	suffix := m.DeliveryToken
	if suffix == "" {
		suffix = id
	}
	name := s.now().UTC().Format("20060102T150405.000000Z") + "-" + safeName(suffix) + ".eml"
	path := filepath.Join(s.dir, name)
	if err := writeAtomic(s.dir, path, buf.Bytes()); err != nil {
		// A full or read-only disk: no other message will do better.
		return outgoing.Receipt{}, &outgoing.SendError{Scope: outgoing.ScopeRelay, Command: "write",
			Message: err.Error(), Err: err}
	}
	return outgoing.Receipt{MessageID: id, Reply: "outbox: " + path, QueueID: name}, nil
}

// Close makes later sends fail; there is nothing to release.
func (s *Sender) Close() error {
	s.closed.Store(true)
	return nil
}

// RemoveTo deletes the message files in dir addressed to email (To, Cc or
// Bcc, whatever the case of the address), for the erasure of a person, and
// returns how many it deleted. A dir that does not exist holds nothing.
// Every file is read; one that cannot be read or parsed is an error that
// names it, after the others were dealt with.
func RemoveTo(dir, email string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	want := address.Key(email)
	var (
		n    int
		errs []error
	)
	for _, path := range files {
		to, err := addressedTo(path, want)
		if err == nil && to {
			if err = os.Remove(path); err == nil {
				n++
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("outbox: %s: %w", path, err))
		}
	}
	return n, errors.Join(errs...)
}

// addressedTo reports whether the message in path has key (an address.Key)
// among its recipients. Only the header is read.
func addressedTo(path, key string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	m, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		return false, err
	}
	for _, field := range []string{"To", "Cc", "Bcc"} {
		if m.Header.Get(field) == "" {
			continue
		}
		list, err := m.Header.AddressList(field)
		if err != nil {
			return false, fmt.Errorf("%s: %w", field, err)
		}
		for _, a := range list {
			if address.Key(a.Address) == key {
				return true, nil
			}
		}
	}
	return false, nil
}

// writeAtomic writes data to path through a synced temporary file in dir,
// then syncs dir so that the rename itself survives a crash.
func writeAtomic(dir, path string, data []byte) error {
	// The leading dot keeps half-written files out of "*.eml".
	f, err := os.CreateTemp(dir, ".outbox-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o640)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// safeName keeps the characters that are safe in a file name everywhere.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == '@':
			b.WriteString("_at_")
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || b.Len() > 200 {
		return uuid.NewString()
	}
	return b.String()
}
