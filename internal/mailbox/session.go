package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"bulletin/internal/store"
)

// errClosed is returned when the server or the network closed the
// connection while the watcher was waiting.
var errClosed = errors.New("connection closed")

// session is one IMAP connection, from login to drop.
type session struct {
	w       *Watcher
	c       *imapclient.Client
	updates <-chan struct{} // a message arrived (EXISTS)

	idle     bool // the server has IDLE
	move     bool // the server has MOVE
	keywords bool // the mailbox keeps keywords such as $BulletinProcessed

	folders  map[Folder]string // the server's names
	validity uint32
	last     uint32 // checkpoint: every UID up to it has its event
}

// session runs one connection until it drops or ctx ends; selected says it
// got as far as selecting the mailbox.
func (w *Watcher) session(ctx context.Context) (selected bool, err error) {
	updates := make(chan struct{}, 1)
	c, err := w.connect(ctx, updates)
	if err != nil {
		return false, err
	}
	defer c.Close()
	// Cancelling ctx closes the connection, which ends every command in
	// flight: the event of a message is committed before its move starts,
	// so nothing is half done.
	defer closeOnCancel(ctx, func() { c.Close() })()

	s := &session{w: w, c: c, updates: updates}
	if err := s.open(ctx); err != nil {
		return false, err
	}
	w.log.Info("mailbox connected", slog.String("addr", w.opts.Addr), slog.String("mailbox", w.opts.Mailbox),
		slog.Bool("idle", s.idle), slog.Bool("move", s.move), slog.Uint64("uidvalidity", uint64(s.validity)),
		slog.Uint64("last_uid", uint64(s.last)))
	mode := "poll"
	if s.idle {
		mode = "idle"
	}
	w.update(func(h *Health) {
		h.Connected, h.Mode, h.Move, h.UIDValidity, h.LastUID = true, mode, s.move, s.validity, s.last
		h.ConnectedAt, h.DisconnectedSince = w.proc.now(), time.Time{}
	})
	if err := s.finishPending(ctx); err != nil {
		return true, err
	}
	return true, s.loop(ctx)
}

// connect dials the server, secures the connection and logs in.
func (w *Watcher) connect(ctx context.Context, updates chan<- struct{}) (*imapclient.Client, error) {
	host, _, _ := net.SplitHostPort(w.opts.Addr)
	tlsConfig := w.opts.TLSConfig.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	opts := &imapclient.Options{
		TLSConfig: tlsConfig,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the client's reading goroutine: it must not block.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case updates <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	dialer := net.Dialer{Timeout: w.opts.CommandTimeout, KeepAlive: 30 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", w.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// The handshakes below do not take a context: a deadline and ctx
	// closing the connection bound them.
	defer closeOnCancel(ctx, func() { conn.Close() })()
	conn.SetDeadline(time.Now().Add(w.opts.CommandTimeout))
	var c *imapclient.Client
	switch w.opts.TLS {
	case "tls":
		tlsConfig.NextProtos = []string{"imap"}
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		c = imapclient.New(tc, opts)
	case "starttls":
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		c = imapclient.New(conn, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	conn.SetDeadline(time.Time{})
	if err := w.login(c); err != nil {
		c.Close()
		return nil, err
	}
	if ctx.Err() != nil {
		c.Close()
		return nil, ctx.Err()
	}
	return c, nil
}

// login authenticates with AUTHENTICATE PLAIN when the server offers it
// (it carries any UTF-8 password), LOGIN otherwise.
func (w *Watcher) login(c *imapclient.Client) error {
	return w.bounded(c, "login", func() error {
		caps := c.Caps()
		switch {
		case caps.Has(imap.AuthCap(sasl.Plain)):
			return c.Authenticate(sasl.NewPlainClient("", w.opts.Username, w.opts.Password))
		case caps.Has(imap.CapLoginDisabled):
			return errors.New("the server refuses LOGIN here and offers no AUTH=PLAIN (TLS needed?)")
		}
		return c.Login(w.opts.Username, w.opts.Password).Wait()
	})
}

// bounded runs one command's exchange, dropping the connection if the
// server has not answered within CommandTimeout: imapclient waits for an
// answer for ever, and a half-open TCP connection never gives one.
func (w *Watcher) bounded(c *imapclient.Client, what string, fn func() error) error {
	defer closeAfter(w.opts.CommandTimeout, func() { c.Close() })()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// closeAfter runs close after d unless the returned function is called
// first; that function also waits for a close already started, so that no
// goroutine outlives its caller.
func closeAfter(d time.Duration, close func()) (cancel func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	t := time.AfterFunc(d, func() { defer wg.Done(); close() })
	return func() {
		if t.Stop() {
			wg.Done()
		}
		wg.Wait()
	}
}

// closeOnCancel runs close when ctx ends, unless the returned function is
// called first; like closeAfter's, that function waits for a close already
// started.
func closeOnCancel(ctx context.Context, close func()) (cancel func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	stop := context.AfterFunc(ctx, func() { defer wg.Done(); close() })
	return func() {
		if stop() {
			wg.Done()
		}
		wg.Wait()
	}
}

// open learns what the server can do, makes the folders, selects the
// mailbox and loads the checkpoint.
func (s *session) open(ctx context.Context) error {
	w, c := s.w, s.c
	var caps imap.CapSet
	w.bounded(c, "capabilities", func() error { caps = c.Caps(); return nil })
	if caps == nil {
		return errors.New("capabilities: no answer")
	}
	s.idle = caps.Has(imap.CapIdle)
	s.move = caps.Has(imap.CapMove)

	if err := s.makeFolders(caps); err != nil {
		// Messages are still read and recorded; they stay where they are
		// until a later session can move them.
		w.log.Error("mailbox folders", slog.String("error", err.Error()))
		w.fail(err)
	}

	var sel *imap.SelectData
	err := w.bounded(c, "select "+w.opts.Mailbox, func() (err error) {
		sel, err = c.Select(w.opts.Mailbox, nil).Wait()
		return err
	})
	if err != nil {
		return err
	}
	s.validity = sel.UIDValidity
	// No PERMANENTFLAGS means every flag is permanent (RFC 3501 7.1).
	s.keywords = sel.PermanentFlags == nil || slices.Contains(sel.PermanentFlags, imap.FlagWildcard) ||
		slices.Contains(sel.PermanentFlags, imap.Flag(Keyword))

	st := w.proc.store
	cp, err := st.LoadMailboxCheckpoint(ctx, w.opts.Mailbox)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.last = 0
	case err != nil:
		return err
	case cp.UIDValidity != s.validity:
		// The server renumbered the mailbox: the old UIDs mean nothing
		// now. Read it all again; moved messages are gone from it, and
		// the event key and the Message-ID keep the rest from being
		// acted on twice.
		w.log.Warn("mailbox UIDVALIDITY changed: reading it again from UID 1", slog.String("mailbox", w.opts.Mailbox),
			slog.Uint64("old", uint64(cp.UIDValidity)), slog.Uint64("new", uint64(s.validity)))
		if err := st.ResetMailboxCheckpoint(ctx, w.opts.Mailbox, s.validity); err != nil {
			return err
		}
		s.last = 0
	default:
		s.last = cp.LastUID
	}
	return nil
}

// makeFolders finds the server's names for the folders and creates those
// that are missing.
func (s *session) makeFolders(caps imap.CapSet) error {
	w, c := s.w, s.c
	prefix, delim := "", rune(0)
	err := w.bounded(c, "list", func() error {
		if caps.Has(imap.CapNamespace) {
			ns, err := c.Namespace().Wait()
			if err == nil && len(ns.Personal) > 0 {
				prefix, delim = ns.Personal[0].Prefix, ns.Personal[0].Delim
				return nil
			}
		}
		// LIST "" "" answers with the hierarchy delimiter only.
		l, err := c.List("", "", nil).Collect()
		if err == nil && len(l) > 0 {
			delim = l[0].Delim
		}
		return err
	})
	if err != nil {
		return err
	}
	s.folders = make(map[Folder]string)
	var problems []error
	for _, f := range []Folder{Processed, Replies, Unparsed} {
		name := serverName(w.opts.Folders.name(f), prefix, delim)
		s.folders[f] = name
		if err := w.bounded(c, "create folder "+name, func() error { return s.makeFolder(name) }); err != nil {
			problems = append(problems, err)
		}
	}
	return errors.Join(problems...)
}

func (s *session) makeFolder(name string) error {
	l, err := s.c.List("", name, nil).Collect()
	if err != nil {
		return err
	}
	for _, m := range l {
		if m.Mailbox == name && !slices.Contains(m.Attrs, imap.MailboxAttrNonExistent) && !slices.Contains(m.Attrs, imap.MailboxAttrNoSelect) {
			return nil
		}
	}
	err = s.c.Create(name, nil).Wait()
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		err = nil
	}
	if err != nil {
		return err
	}
	s.w.log.Info("mailbox folder created", slog.String("folder", name))
	// Mail clients show subscribed folders only; staff should see these.
	s.c.Subscribe(name).Wait()
	return nil
}

// finishPending moves the messages that were recorded but are still in the
// mailbox: the watcher stopped between the record and the move, or the move
// failed. Done once per connection, so that a message the server refuses to
// move does not cost a round trip at each new message.
func (s *session) finishPending(ctx context.Context) error {
	if s.last == 0 || (!s.move && !s.keywords) {
		// Without MOVE nor keywords, a processed message cannot be told
		// from a pending one: the checkpoint alone decides.
		return nil
	}
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: 1, Stop: imap.UID(s.last)}}}}
	if !s.move {
		criteria.NotFlag = []imap.Flag{Keyword}
	}
	uids, err := s.search(criteria)
	if err != nil {
		return err
	}
	for _, uid := range uids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ev, err := s.w.proc.store.MailboxEventAt(ctx, s.w.opts.Mailbox, s.validity, uid)
		if errors.Is(err, store.ErrNotFound) {
			// Below the checkpoint without an event: never skip a message.
			err = s.handle(ctx, uid)
		} else if err == nil {
			err = s.dispose(ctx, uid, ev)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loop reads new messages, then waits for more, until the connection drops.
func (s *session) loop(ctx context.Context) error {
	for {
		if err := s.sync(ctx); err != nil {
			return err
		}
		s.w.update(func(h *Health) { h.LastSync = s.w.proc.now() })
		var err error
		if s.idle {
			err = s.waitIdle(ctx)
		} else {
			err = s.waitPoll(ctx)
		}
		if err != nil {
			return err
		}
	}
}

// sync records and moves every message above the checkpoint, oldest first:
// at the start of a session, that is the backlog.
func (s *session) sync(ctx context.Context) error {
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: imap.UID(s.last + 1), Stop: 0}}}}
	if !s.move && s.keywords {
		criteria.NotFlag = []imap.Flag{Keyword}
	}
	uids, err := s.search(criteria)
	if err != nil {
		return err
	}
	for _, uid := range uids {
		// "UID n:*" also matches the highest UID when it is below n.
		if uid <= s.last {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.handle(ctx, uid); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) search(criteria *imap.SearchCriteria) ([]uint32, error) {
	var data *imap.SearchData
	err := s.w.bounded(s.c, "search", func() (err error) {
		data, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	var uids []uint32
	for _, u := range data.AllUIDs() {
		uids = append(uids, uint32(u))
	}
	slices.Sort(uids)
	return uids, nil
}

// handle reads one message, records it and moves it.
func (s *session) handle(ctx context.Context, uid uint32) error {
	w := s.w
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: w.opts.MaxMessageBytes}}
	var msgs []*imapclient.FetchMessageBuffer
	err := w.bounded(s.c, fmt.Sprintf("fetch UID %d", uid), func() (err error) {
		msgs, err = s.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{
			UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Collect()
		return err
	})
	if err != nil {
		return err
	}
	var buf *imapclient.FetchMessageBuffer
	for _, m := range msgs {
		if uint32(m.UID) == uid {
			buf = m
		}
	}
	if buf == nil {
		// Expunged by someone else since the search: never read, so no
		// event.
		w.log.Info("mailbox message gone before it was read", slog.Uint64("uid", uint64(uid)))
		return nil
	}
	var raw []byte
	if len(buf.BodySection) > 0 {
		raw = buf.BodySection[0].Bytes
	}
	m := Message{Mailbox: w.opts.Mailbox, UIDValidity: s.validity, UID: uid, Raw: raw, ReceivedAt: buf.InternalDate}
	if buf.RFC822Size > int64(len(raw)) {
		m.Size = buf.RFC822Size
	}
	out, err := w.proc.Process(ctx, m)
	if err != nil {
		return fmt.Errorf("UID %d: %w", uid, err)
	}
	s.last = max(s.last, uid)
	ev := out.Event
	w.update(func(h *Health) {
		h.LastUID, h.LastEvent = s.last, w.proc.now()
		if out.New {
			h.Processed++
			if out.Folder == Unparsed {
				h.Unparsed++
			}
		}
	})
	attrs := []any{slog.Uint64("uid", uint64(uid)), slog.String("kind", ev.Kind), slog.String("reason", ev.Reason),
		slog.String("matched_by", ev.MatchedBy), slog.String("action", string(ev.Action))}
	if ev.Error != "" {
		attrs = append(attrs, slog.String("problem", ev.Error))
	}
	if out.Folder == Unparsed {
		// Invariant 4: reported, not dropped.
		w.log.Warn("mailbox message kept aside", append(attrs, slog.String("subject", ev.Subject))...)
	} else {
		w.log.Info("mailbox message", attrs...)
	}
	return s.dispose(ctx, uid, ev)
}

// dispose moves a recorded message to its folder, or, without MOVE, copies
// it there and flags it in place. The message is marked \Seen first, so
// that the moved message or the copy (which takes the flags the original
// has when it is copied) does not show as unread to whoever opens the
// folder: it has been dealt with. It never expunges. A refusal is recorded
// on the event and the session goes on; a dropped connection ends it.
func (s *session) dispose(ctx context.Context, uid uint32, ev *store.MailboxEvent) error {
	w := s.w
	target := s.folders[folderFor(ev.Kind, ev.Reason)]
	if target == "" {
		return nil // the folders could not be made this session
	}
	set := imap.UIDSetNum(imap.UID(uid))
	where := target
	err := w.bounded(s.c, "move to "+target, func() error {
		seen := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
		if err := s.c.Store(set, seen, nil).Close(); err != nil {
			return err
		}
		if s.move {
			_, err := s.c.Move(set, target).Wait()
			return err
		}
		if _, err := s.c.Copy(set, target).Wait(); err != nil {
			return err
		}
		where = "flagged, copy in " + target
		if !s.keywords {
			return nil
		}
		return s.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{Keyword}}, nil).Close()
	})
	if err != nil {
		if ctx.Err() != nil || s.c.State() == imap.ConnStateLogout {
			return err
		}
		problem := err.Error()
		w.log.Warn("mailbox message not moved; will retry on the next connection", slog.Uint64("uid", uint64(uid)),
			slog.String("error", problem))
		if strings.Contains(ev.Error, problem) {
			return nil
		}
		return s.setFolder(ctx, ev, "", problem)
	}
	return s.setFolder(ctx, ev, where, "")
}

func (s *session) setFolder(ctx context.Context, ev *store.MailboxEvent, folder, problem string) error {
	if err := s.w.proc.store.SetMailboxEventFolder(ctx, ev.ID, folder, problem); err != nil && ctx.Err() == nil {
		// The message is where it is; only the record of it lags.
		s.w.log.Error("mailbox event folder", slog.Int64("event", ev.ID), slog.String("error", err.Error()))
	}
	return nil
}

// waitIdle idles until a message arrives, IdleRefresh passes, or the
// connection or ctx ends.
func (s *session) waitIdle(ctx context.Context) error {
	var cmd *imapclient.IdleCommand
	err := s.w.bounded(s.c, "idle", func() (err error) {
		cmd, err = s.c.Idle()
		return err
	})
	if err != nil {
		return err
	}
	t := time.NewTimer(s.w.opts.IdleRefresh)
	defer t.Stop()
	select {
	case <-s.updates:
	case <-t.C:
	case <-ctx.Done():
		cmd.Close() // ends imapclient's IDLE goroutine; the connection is closing anyway
		return ctx.Err()
	case <-s.c.Closed():
		cmd.Close()
		return errClosed
	}
	return s.w.bounded(s.c, "idle", func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
}

// waitPoll waits PollInterval; the next search asks for new messages.
func (s *session) waitPoll(ctx context.Context) error {
	t := time.NewTimer(s.w.opts.PollInterval)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.c.Closed():
		return errClosed
	}
}
