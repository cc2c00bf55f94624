package mailbox

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"bulletin/internal/store"
)

// Folder names as the default configuration has them: a hierarchy and
// accents, which go over the wire in modified UTF-7.
var testFolders = Folders{Processed: "Bulletin/Traités", Replies: "Bulletin/Réponses", Unparsed: "Bulletin/Illisibles"}

// newWatcher returns a watcher on the test server with short delays, and
// IDLE and polls long enough that only the mechanism under test can bring a
// new message in.
func newWatcher(t testing.TB, f *fixture, s *imapTest, tweak func(*Options)) *Watcher {
	t.Helper()
	o := Options{
		Addr: s.addr, TLS: "none", Username: "bulletin", Password: "secret",
		Folders:      testFolders,
		PollInterval: time.Hour, IdleRefresh: time.Hour,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		CommandTimeout: 10 * time.Second,
		Log:            testLogger(t),
	}
	if s.tls != nil {
		o.TLS, o.TLSConfig = "tls", s.tls
	}
	if tweak != nil {
		tweak(&o)
	}
	w, err := New(o, f.proc)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (f *fixture) eventCount() int { return f.count("SELECT count(*) FROM mailbox_events") }

// bounceFixture makes a subscriber with a delivery and returns a hard
// bounce of it (a corpus message readdressed to its VERP address).
func (f *fixture) hardBounce(email string) (sub int64, raw []byte) {
	f.t.Helper()
	sub = f.subscriber(email)
	d := f.delivery(f.campaign("c-"+email), sub, email, f.now.Add(-time.Hour))
	return sub, withVERP(corpus(f.t, "lhost-postfix-05.eml"), d.token)
}

func TestWatcherBacklogThenIdle(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	a, bounceA := f.hardBounce("a@example.fr")
	b, bounceB := f.hardBounce("b@example.fr")
	s.append("INBOX", bounceA)
	s.append("INBOX", reply("Paul <paul@example.net>", "newsletter@example.org", "Re: Lettre", "Merci !"))
	s.append("INBOX", bounceB)

	w := newWatcher(t, f, s, nil)
	stop := run(t, w)
	eventually(t, "the backlog", func() bool { return f.eventCount() == 3 })
	if f.status(a) != store.Bounced || f.status(b) != store.Bounced {
		t.Errorf("statuses %s, %s; want bounced", f.status(a), f.status(b))
	}
	// Read in UID order: the backlog is processed oldest first.
	evs := f.events()
	for i, ev := range evs {
		if ev.UID != uint32(i+1) {
			t.Errorf("event %d has UID %d, want %d", i, ev.UID, i+1)
		}
	}
	eventually(t, "the moves", func() bool { return len(s.messages("INBOX")) == 0 })
	if n := len(s.messages("Bulletin/Traités")); n != 2 {
		t.Errorf("%d messages in the processed folder, want 2", n)
	}
	if n := len(s.messages("Bulletin/Réponses")); n != 1 {
		t.Errorf("%d messages in the replies folder, want 1", n)
	}
	// Processed messages are not left unread in their folders.
	for _, folder := range []string{"Bulletin/Traités", "Bulletin/Réponses"} {
		checkAllSeen(t, folder, s.messages(folder))
	}

	// A new bounce while idling: IDLE brings it (polls are an hour apart).
	eventually(t, "IDLE", func() bool { h := w.Health(); return h.Connected && h.Mode == "idle" })
	c, bounceC := f.hardBounce("c@example.fr")
	s.append("INBOX", bounceC)
	eventually(t, "the new bounce", func() bool { return f.status(c) == store.Bounced })
	eventually(t, "its move", func() bool { return len(s.messages("Bulletin/Traités")) == 3 })
	eventually(t, "its folder recorded", func() bool { return f.events()[3].Folder == "Bulletin/Traités" })

	h := w.Health()
	if !h.Connected || !h.Move || h.LastUID != 4 || h.Processed != 4 || h.LastEvent.IsZero() {
		t.Errorf("health = %+v", h)
	}
	if err := w.HealthCheck(context.Background()); err != nil {
		t.Errorf("HealthCheck() = %v while connected", err)
	}
	stop()
	if h := w.Health(); h.Connected {
		t.Error("still connected after Run returned")
	}
}

func TestWatcherReissuesIdle(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	w := newWatcher(t, f, s, func(o *Options) { o.IdleRefresh = 20 * time.Millisecond })
	run(t, w)
	eventually(t, "IDLE re-issued", func() bool { return s.proxy.idles.Load() >= 3 })
	sub, raw := f.hardBounce("a@example.fr")
	s.append("INBOX", raw)
	eventually(t, "the bounce", func() bool { return f.status(sub) == store.Bounced })
	if h := w.Health(); h.Reconnects != 0 || !h.Connected {
		t.Errorf("health = %+v; want one connection throughout", h)
	}
}

func TestWatcherPollsWithoutIdle(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{hide: []string{"IDLE"}})
	w := newWatcher(t, f, s, func(o *Options) { o.PollInterval = 20 * time.Millisecond })
	run(t, w)
	eventually(t, "the connection", func() bool { return w.Health().Connected })
	if mode := w.Health().Mode; mode != "poll" {
		t.Fatalf("mode = %q without IDLE, want poll", mode)
	}
	if n := s.proxy.idles.Load(); n != 0 {
		t.Errorf("%d IDLE commands sent to a server without IDLE", n)
	}
	sub, raw := f.hardBounce("a@example.fr")
	s.append("INBOX", raw)
	eventually(t, "the polled bounce", func() bool { return f.status(sub) == store.Bounced })
}

func TestWatcherResumesAfterDrop(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	a, rawA := f.hardBounce("a@example.fr")
	s.append("INBOX", rawA)
	w := newWatcher(t, f, s, nil)
	run(t, w)
	eventually(t, "the first bounce", func() bool { return f.status(a) == store.Bounced })
	eventually(t, "IDLE", func() bool { return w.Health().Mode == "idle" })

	// The network fails; a bounce arrives meanwhile.
	s.proxy.drop()
	b, rawB := f.hardBounce("b@example.fr")
	s.append("INBOX", rawB)
	eventually(t, "the bounce after the drop", func() bool { return f.status(b) == store.Bounced })
	if n := f.eventCount(); n != 2 {
		t.Errorf("%d events, want 2: nothing skipped, nothing read twice", n)
	}
	h := w.Health()
	if h.Reconnects < 1 || h.LastError == "" {
		t.Errorf("health after a drop: reconnects %d, last error %q", h.Reconnects, h.LastError)
	}
}

func TestWatcherRestartNeitherSkipsNorRereads(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	a, rawA := f.hardBounce("a@example.fr")
	s.append("INBOX", rawA)
	stop := run(t, newWatcher(t, f, s, nil))
	eventually(t, "the first bounce moved", func() bool { return f.eventCount() == 1 && f.events()[0].Folder != "" })
	stop()
	if f.status(a) != store.Bounced {
		t.Fatal("the first bounce did nothing")
	}

	b, rawB := f.hardBounce("b@example.fr")
	s.append("INBOX", rawB)
	// A crash between the record and the move: recorded, still in INBOX.
	c, rawC := f.hardBounce("c@example.fr")
	s.append("INBOX", rawC)
	uids := s.messages("INBOX")
	var last uint32
	for uid := range uids {
		last = max(last, uid)
	}
	validity := f.events()[0].UIDValidity
	if _, err := f.proc.Process(context.Background(), Message{Mailbox: "INBOX", UIDValidity: validity, UID: last, Raw: rawC}); err != nil {
		t.Fatal(err)
	}
	if f.status(c) != store.Bounced {
		t.Fatal("setup: c not bounced")
	}

	run(t, newWatcher(t, f, s, nil))
	eventually(t, "the bounce sent while stopped", func() bool { return f.status(b) == store.Bounced })
	eventually(t, "the pending move", func() bool { return len(s.messages("INBOX")) == 0 })
	if n := f.eventCount(); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	eventually(t, "every folder recorded", func() bool {
		for _, ev := range f.events() {
			if ev.Folder != "Bulletin/Traités" {
				return false
			}
		}
		return true
	})
}

func TestWatcherUIDValidityChange(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	a, rawA := f.hardBounce("a@example.fr")
	s.append("INBOX", rawA)
	stop := run(t, newWatcher(t, f, s, nil))
	eventually(t, "the first bounce", func() bool { return f.status(a) == store.Bounced })
	eventually(t, "its move", func() bool { return len(s.messages("INBOX")) == 0 })
	stop()
	old := f.events()[0].UIDValidity

	// The server renumbers the mailbox. A copy of the message already read
	// comes back, and a new one arrives.
	if err := s.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	s.append("INBOX", rawA)
	b, rawB := f.hardBounce("b@example.fr")
	s.append("INBOX", rawB)

	w := newWatcher(t, f, s, nil)
	run(t, w)
	eventually(t, "the new bounce", func() bool { return f.status(b) == store.Bounced })
	eventually(t, "both recorded", func() bool { return f.eventCount() == 3 })
	evs := f.events()
	if evs[1].UIDValidity == old || evs[1].UID != 1 {
		t.Errorf("after the change: validity %d UID %d; want a new validity from UID 1", evs[1].UIDValidity, evs[1].UID)
	}
	if evs[1].Action != store.MailboxDuplicate {
		t.Errorf("the message read before: action %s, want duplicate", evs[1].Action)
	}
	cp, err := f.st.LoadMailboxCheckpoint(context.Background(), "INBOX")
	if err != nil || cp.UIDValidity == old || cp.LastUID != 2 {
		t.Errorf("checkpoint = %+v, %v; want the new validity, UID 2", cp, err)
	}
}

func TestWatcherKeepsUnparsedAside(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	s.append("INBOX", []byte("\x00\x01 garbage, not a mail message\r\n"))
	w := newWatcher(t, f, s, nil)
	run(t, w)
	eventually(t, "the event", func() bool { return f.eventCount() == 1 })
	ev := f.events()[0]
	if ev.Kind != "unknown" || !strings.Contains(ev.Error, "cannot parse") {
		t.Errorf("event kind %s error %q; want unknown, cannot parse", ev.Kind, ev.Error)
	}
	// Kept, not dropped.
	eventually(t, "the move", func() bool { return len(s.messages("Bulletin/Illisibles")) == 1 })
	if n := len(s.messages("INBOX")); n != 0 {
		t.Errorf("%d messages left in INBOX", n)
	}
	eventually(t, "health", func() bool { return w.Health().Unparsed == 1 })
}

// checkAllSeen fails the test unless every message listed has \Seen.
func checkAllSeen(t testing.TB, folder string, msgs map[uint32][]imap.Flag) {
	t.Helper()
	for uid, flags := range msgs {
		if !slices.Contains(flags, imap.FlagSeen) {
			t.Errorf("%s: UID %d has flags %v, want \\Seen", folder, uid, flags)
		}
	}
}

func TestWatcherWithoutMove(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{noMove: true})
	a, rawA := f.hardBounce("a@example.fr")
	s.append("INBOX", rawA)
	stop := run(t, newWatcher(t, f, s, nil))
	eventually(t, "the bounce", func() bool { return f.status(a) == store.Bounced })
	eventually(t, "the copy", func() bool { return len(s.messages("Bulletin/Traités")) == 1 })
	eventually(t, "the folder recorded", func() bool { return f.events()[0].Folder == "flagged, copy in Bulletin/Traités" })
	checkAllSeen(t, "Bulletin/Traités", s.messages("Bulletin/Traités"))

	// Never expunged nor marked deleted: flagged in place.
	inbox := s.messages("INBOX")
	if len(inbox) != 1 {
		t.Fatalf("%d messages in INBOX, want the original kept", len(inbox))
	}
	for _, flags := range inbox {
		// Keywords are case-insensitive; the server keeps them lower-cased.
		has := func(f imap.Flag) bool {
			return slices.ContainsFunc(flags, func(g imap.Flag) bool { return strings.EqualFold(string(f), string(g)) })
		}
		if !has(imap.FlagSeen) || !has(Keyword) || has(imap.FlagDeleted) {
			t.Errorf("flags %v; want \\Seen and %s, not \\Deleted", flags, Keyword)
		}
	}
	stop()

	// A restart does not read it again, nor copy it twice.
	b, rawB := f.hardBounce("b@example.fr")
	s.append("INBOX", rawB)
	run(t, newWatcher(t, f, s, nil))
	eventually(t, "the second bounce", func() bool { return f.status(b) == store.Bounced })
	eventually(t, "its copy", func() bool { return len(s.messages("Bulletin/Traités")) == 2 })
	if n := f.eventCount(); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}

func TestWatcherImplicitTLS(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{tls: true})
	a, rawA := f.hardBounce("a@example.fr")
	s.append("INBOX", rawA)
	run(t, newWatcher(t, f, s, nil))
	eventually(t, "the bounce over TLS", func() bool { return f.status(a) == store.Bounced })
}

func TestWatcherReportsBadLogin(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	w := newWatcher(t, f, s, func(o *Options) { o.Password = "wrong" })
	stop := run(t, w)
	eventually(t, "the error", func() bool { return w.Health().LastError != "" })
	h := w.Health()
	if h.Connected || !strings.Contains(h.LastError, "login") {
		t.Errorf("health = connected %v, last error %q; want a login error", h.Connected, h.LastError)
	}
	if err := w.HealthCheck(context.Background()); err != nil {
		t.Errorf("HealthCheck() = %v within the grace period, want nil", err)
	}
	stop()
	f.now = f.now.Add(time.Hour) // the watcher is stopped: nothing else reads the clock
	if err := w.HealthCheck(context.Background()); err == nil || !strings.Contains(err.Error(), "login") {
		t.Errorf("HealthCheck() = %v an hour later, want the login error", err)
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{noMove: true})
	_, raw := f.hardBounce("a@example.fr")
	s.append("INBOX", raw)
	w := newWatcher(t, f, s, nil)
	r, err := w.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.IDLE || r.MOVE || r.Delimiter != "/" || r.Messages != 1 || r.Pending != 1 || r.Checkpoint != nil {
		t.Errorf("report = %+v", r)
	}
	for _, cf := range r.Folders {
		if cf.Exists {
			t.Errorf("folder %s reported as existing before the watcher made it", cf.Name)
		}
	}
	if f.eventCount() != 0 || len(s.messages("INBOX")) != 1 {
		t.Error("Check changed something")
	}
}

// TestWatcherForgedBounce reads, over IMAP, a forged hard bounce naming a
// subscriber without a token, then a genuine one with its VERP token: the
// first leaves its subscriber active, waiting for an admin, and is counted
// as unverified; the second suppresses at once.
func TestWatcherForgedBounce(t *testing.T) {
	f := newFixture(t)
	s := startIMAP(t, serverOptions{})
	victim := f.subscriber("victim@example.fr")
	f.delivery(f.campaign("edition-10"), victim, "victim@example.fr", f.now.Add(-time.Hour))
	bounced, genuine := f.hardBounce("gone@example.fr")
	s.append("INBOX", dsn("bounces@example.org", "victim@example.fr", "5.1.1", "550 5.1.1 user unknown", "From: x@example.org\n"))
	s.append("INBOX", genuine)

	run(t, newWatcher(t, f, s, nil))
	eventually(t, "both messages", func() bool { return f.eventCount() == 2 })
	if got := f.status(victim); got != store.Active {
		t.Errorf("victim of the forged bounce: status %s, want active", got)
	}
	if got := f.status(bounced); got != store.Bounced {
		t.Errorf("subscriber of the genuine bounce: status %s, want bounced", got)
	}
	evs := f.events()
	if ev := evs[0]; ev.Action != store.MailboxUnverified || ev.SubscriberID != victim || ev.MatchedBy != ByAddress {
		t.Errorf("forged bounce: action %s subscriber %d matched_by %q; want unverified %d address", ev.Action, ev.SubscriberID, ev.MatchedBy, victim)
	}
	if ev := evs[1]; ev.Action != store.MailboxSuppressed || ev.MatchedBy != ByVERP {
		t.Errorf("genuine bounce: action %s matched_by %q; want suppressed verp", ev.Action, ev.MatchedBy)
	}
	counts, err := f.st.UnverifiedMailboxEvents(context.Background())
	if err != nil || counts["hard"] != 1 {
		t.Errorf("UnverifiedMailboxEvents() = %v, %v; want hard 1", counts, err)
	}
	// The forged bounce is still a record: filed like any other.
	eventually(t, "the moves", func() bool { return len(s.messages("Bulletin/Traités")) == 2 })
}
