package campaign

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"bulletin/internal/i18n"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
	"bulletin/internal/transport/smtp"
)

func smtpSender(t testing.TB, srv *smtptest.Server, conns int, user, pass string) *smtp.Sender {
	t.Helper()
	s, err := smtp.New(smtp.Options{Host: srv.Host(), Port: srv.Port(), TLS: smtp.TLSNone, Connections: conns,
		Username: user, Password: pass, Timeout: 5 * time.Second, HELO: "test.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Invariants 1 and 2: every active subscriber gets exactly one message;
// every other member has a skipped row with the reason; every row is final.
func TestCampaignSendsEachRecipientOnce(t *testing.T) {
	f := newFixture(t, 40)
	f.addSubscribers("Partenaires", 100, 2, store.Unsubscribed)
	f.addSubscribers("Partenaires", 200, 1, store.Bounced)
	f.addSubscribers("Partenaires", 300, 1, store.Complained)
	pending := &store.Subscriber{Email: "r00400@example.net", Status: store.Pending}
	if err := f.st.AddSubscriber(f.ctx, pending, []string{"Partenaires"}, false); err != nil {
		t.Fatal(err)
	}
	// A subscriber on two of the campaign's lists gets one message.
	f.addSubscribers("Acheteurs publics", 0, 3, "")
	acheteurs, _ := f.st.ListByName(f.ctx, "Acheteurs publics")
	f.c.ListIDs = append(f.c.ListIDs, acheteurs.ID)
	if err := f.st.UpdateCampaign(f.ctx, f.c); err != nil {
		t.Fatal(err)
	}
	// One who left the list.
	left, _ := f.st.SubscriberByEmail(f.ctx, f.emails[5])
	if err := f.st.SetMembership(f.ctx, left.ID, f.list.ID, false, "test"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetMembership(f.ctx, left.ID, acheteurs.ID, false, "test"); err != nil {
		t.Fatal(err)
	}
	// An erased subscriber is simply gone.
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	c := f.runUntil(f.engine(smtpSender(t, srv, 3, "", ""), Options{Workers: 3}), 30*time.Second)
	if c.State != store.Sent {
		t.Fatalf("campaign state = %s (%s), want sent", c.State, c.StateReason)
	}
	led := f.ledger()
	if len(led) != 40+2+1+1+1 {
		t.Errorf("ledger has %d rows, want 45 (40 members + 5 suppressed or pending, deduplicated)", len(led))
	}
	for _, e := range f.emails[:40] {
		want := 1
		if e == f.emails[5] {
			want = 0
		}
		if got := srv.Received(e); got != want {
			t.Errorf("%s received %d messages, want %d", e, got, want)
		}
	}
	wantSkip := map[string]string{
		"r00100@example.net": "unsubscribed", "r00101@example.net": "unsubscribed", "r00200@example.net": "bounced",
		"r00300@example.net": "complained", "r00400@example.net": "pending", f.emails[5]: "left-list",
	}
	for email, d := range led {
		if reason, ok := wantSkip[email]; ok {
			if d.State != store.Skipped || d.SkipReason != reason {
				t.Errorf("%s: state %s reason %q, want skipped %q", email, d.State, d.SkipReason, reason)
			}
			if srv.Received(email) != 0 {
				t.Errorf("%s (%s) was mailed", email, reason)
			}
			continue
		}
		if d.State != store.Delivered || d.SMTPCode != 250 || !strings.Contains(d.Reply, "queued as") || d.MessageID == "" || d.SentAt.IsZero() {
			t.Errorf("%s: %+v, want sent with the relay's reply, code, Message-ID and time", email, d)
		}
	}
	tr, _ := f.st.CampaignTransitions(f.ctx, f.c.ID)
	var path []string
	for _, x := range tr {
		path = append(path, string(x.To))
	}
	if got := strings.Join(path, ","); got != "draft,sending,sent" {
		t.Errorf("transitions %s, want draft,sending,sent", got)
	}
	if !strings.Contains(tr[len(tr)-1].Cause.String(), "39 sent") {
		t.Errorf("last transition's cause %q does not sum up the ledger", tr[len(tr)-1].Cause)
	}
	// The history is kept as codes: the console says it in French.
	if last := tr[len(tr)-1].Cause; last.Key != "campaign.cause.done" || !strings.Contains(i18n.New("fr").Msg(last), "39 partis") {
		t.Errorf("last transition's cause %s = %q in French, want campaign.cause.done with 39 partis", last.Key, i18n.New("fr").Msg(last))
	}
	if first := tr[0].Cause; first.Key != "campaign.cause.created" || i18n.New("fr").Msg(first) != "création" {
		t.Errorf("first transition's cause %s, want campaign.cause.created", first.Key)
	}
}

// Invariant 6 of the issue: the headers of a campaign message.
func TestCampaignMessageHeaders(t *testing.T) {
	f := newFixture(t, 2)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{}), 30*time.Second)
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	led := f.ledger()
	m := msgs[0]
	d := led[m.To[0]]
	tok := f.content.Links.DeliveryToken(d.UUID)
	if want := "bounces+" + tok + "@example.org"; m.From != want {
		t.Errorf("MAIL FROM %s, want VERP %s", m.From, want)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	checks := []struct{ name, got, want string }{
		{"Message-ID", h.Get("Message-Id"), "<" + d.UUID.String() + "@example.org>"},
		{"Message-ID in ledger", d.MessageID, d.UUID.String() + "@example.org"},
		{"X-Bulletin-Campaign", h.Get("X-Bulletin-Campaign"), f.c.UUID.String()},
		{"X-Bulletin-Delivery", h.Get("X-Bulletin-Delivery"), tok},
		{"List-Unsubscribe-Post", h.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"},
		{"Subject", subject, "La lettre de la MICS 34 : édition spéciale 10 ans !"},
		{"List-Id", h.Get("List-Id"), `"Partenaires" <partenaires.list.example.org>`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?") {
		t.Errorf("Subject %q is not an encoded word", h.Get("Subject"))
	}
	sub, _ := f.st.SubscriberByEmail(f.ctx, m.To[0])
	lu := h.Get("List-Unsubscribe")
	wantURL := "<" + f.content.Links.UnsubscribeURL(sub.UUID, f.c.UUID) + ">"
	if !strings.HasPrefix(lu, wantURL) || !strings.Contains(lu, "<mailto:unsubscribe+"+tok+"@example.org>") {
		t.Errorf("List-Unsubscribe = %q, want %s then the mailto", lu, wantURL)
	}
	if s, c, err := f.content.Links.ParseUnsubscribeToken(strings.TrimPrefix(wantURL[1:len(wantURL)-1], "https://news.example.org/u/")); err != nil || s != sub.UUID || c != f.c.UUID {
		t.Errorf("ParseUnsubscribeToken = %v, %v, %v", s, c, err)
	}
	if want := "bounces+" + tok + "@example.org"; m.From != want {
		t.Errorf("envelope sender = %s, want %s", m.From, want)
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
}

// The relay's faults, one recipient or command at a time (issue 4.5).
func TestCampaignRecipientFaults(t *testing.T) {
	f := newFixture(t, 12)
	e550 := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	e452 := &gosmtp.SMTPError{Code: 452, EnhancedCode: gosmtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{
		RcptErr:    map[string]*gosmtp.SMTPError{f.emails[0]: e550, f.emails[1]: e452},
		FailFirst:  2, // every address: 451 twice, then accepted
		DropInData: 3, // three transfers cut off mid-DATA
	}})
	f.start()
	c := f.runUntil(f.engine(smtpSender(t, srv, 2, "", ""), Options{Workers: 2, RetryBackoff: 5 * time.Millisecond,
		RetryMaxAge: 3 * time.Second, PauseAfter: 10}), 60*time.Second)
	if c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent", c.State, c.StateReason)
	}
	led := f.ledger()
	if d := led[f.emails[0]]; d.State != store.Undelivered || d.SMTPCode != 550 || d.EnhancedCode != "5.1.1" || !strings.Contains(d.Reply, "User unknown") {
		t.Errorf("550 recipient: %+v, want failed with 550 5.1.1 and the reply", d)
	}
	if d := led[f.emails[1]]; d.State != store.Undelivered || d.SMTPCode != 452 || !strings.Contains(d.Reply, "gave up") || d.Attempts < 2 {
		t.Errorf("452 recipient: %+v, want failed after retries up to the max age, with the last reply", d)
	}
	for _, e := range f.emails[2:] {
		d := led[e]
		if d.State != store.Delivered || srv.Received(e) != 1 || d.Attempts < 3 {
			t.Errorf("%s: %s after %d attempts, received %d; want sent once after the 451s", e, d.State, d.Attempts, srv.Received(e))
		}
	}
}

func TestCampaignDataRefusedGoesOn(t *testing.T) {
	f := newFixture(t, 5)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{
		DataErr: &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}}})
	f.start()
	c := f.runUntil(f.engine(smtpSender(t, srv, 2, "", ""), Options{}), 30*time.Second)
	if c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent: a 5xx on DATA fails the recipient, not the campaign", c.State, c.StateReason)
	}
	for e, d := range f.ledger() {
		if d.State != store.Undelivered || d.SMTPCode != 554 || d.EnhancedCode != "5.7.1" {
			t.Errorf("%s: %+v, want failed 554 5.7.1", e, d)
		}
	}
}

// The relay refusing everything pauses the campaign with the reason, marks
// nobody failed, and a resume finishes it.
func TestCampaignPausesWhenRelayRefuses(t *testing.T) {
	cases := []struct {
		name   string
		faults smtptest.Faults
		user   string
		reason string
	}{
		{"421 at connect", smtptest.Faults{ConnectErr: &gosmtp.SMTPError{Code: 421, Message: "Too busy"}}, "", "in a row"},
		{"5xx on MAIL FROM", smtptest.Faults{MailErr: &gosmtp.SMTPError{Code: 553, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Sender not allowed"}}, "", "553"},
		{"auth failure", smtptest.Faults{}, "wrong", "535"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 6)
			srv := smtptest.Start(t, smtptest.Options{Username: "bulletin", Password: "secret", Faults: tc.faults})
			pass := "secret"
			if tc.user != "" {
				pass = tc.user
			}
			f.start()
			e := f.engine(smtpSender(t, srv, 2, "bulletin", pass), Options{Workers: 2, PauseAfter: 3})
			c := f.runUntil(e, 30*time.Second)
			if c.State != store.Paused || !strings.Contains(c.StateReason, tc.reason) {
				t.Fatalf("campaign %s (%q), want paused with %q in the reason", c.State, c.StateReason, tc.reason)
			}
			n := f.counts()
			if n.ByState[store.Undelivered] != 0 || n.ByState[store.InFlight] != 0 || n.ByState[store.Queued] != 6 {
				t.Errorf("ledger %v, want all 6 queued again", n.ByState)
			}
			// Fixed: resume and finish, each once.
			srv.SetFaults(smtptest.Faults{})
			e2 := f.engine(smtpSender(t, srv, 2, "bulletin", "secret"), Options{Workers: 2, RetryBackoff: time.Millisecond})
			f.c = c
			if err := Transition(f.ctx, f.st, f.c, Change{To: store.Sending, Cause: i18n.Text("test: resume")}); err != nil {
				t.Fatal(err)
			}
			if c := f.runUntil(e2, 30*time.Second); c.State != store.Sent {
				t.Fatalf("after resume: %s (%s)", c.State, c.StateReason)
			}
			for _, em := range f.emails {
				if srv.Received(em) != 1 {
					t.Errorf("%s received %d, want 1", em, srv.Received(em))
				}
			}
		})
	}
}

func TestCampaignSlowRelay(t *testing.T) {
	f := newFixture(t, 8)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: 30 * time.Millisecond}})
	f.start()
	if c := f.runUntil(f.engine(smtpSender(t, srv, 4, "", ""), Options{Workers: 4}), 60*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s", c.State)
	}
	if srv.Count() != 8 || srv.Connections() > 4 {
		t.Errorf("%d messages over %d connections, want 8 over at most 4", srv.Count(), srv.Connections())
	}
}

// Invariant 1 mid-campaign: a subscriber who unsubscribes while the campaign
// is going out is not mailed, and the ledger says why.
func TestUnsubscribeDuringSend(t *testing.T) {
	f := newFixture(t, 30)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: 5 * time.Millisecond}})
	f.start()
	e := f.engine(smtpSender(t, srv, 1, "", ""), Options{Workers: 1, Rate: 50})
	ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.RunCampaign(ctx, f.c.ID) }()
	for srv.Count() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	last := f.emails[len(f.emails)-1]
	sub, _ := f.st.SubscriberByEmail(f.ctx, last)
	if _, err := f.st.SetStatus(f.ctx, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d := f.ledger()[last]
	if d.State != store.Skipped || d.SkipReason != "unsubscribed-during-send" || srv.Received(last) != 0 {
		t.Errorf("unsubscribed mid-campaign: %s %q, received %d; want skipped unsubscribed-during-send, not mailed", d.State, d.SkipReason, srv.Received(last))
	}
}

// Readers who unsubscribed mid-send fill whole claimed batches with skips;
// the engine claims again at once rather than wait for its next poll. With
// a poll of an hour, a wait would outlast the test.
func TestSkippedBatchesDoNotWait(t *testing.T) {
	f := newFixture(t, 30)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	// Workers: 1 claims 4 at a time: the first five batches, and one
	// further on, are all skipped.
	gone := append(append([]string{}, f.emails[:20]...), f.emails[24:28]...)
	for _, email := range gone {
		sub, _ := f.st.SubscriberByEmail(f.ctx, email)
		if _, err := f.st.SetStatus(f.ctx, sub.ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"}); err != nil {
			t.Fatal(err)
		}
	}
	c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{Workers: 1, Poll: time.Hour}), 30*time.Second)
	if c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent", c.State, c.StateReason)
	}
	n := f.counts()
	if n.ByState[store.Skipped] != len(gone) || n.ByState[store.Delivered] != 30-len(gone) {
		t.Errorf("skipped %d, sent %d; want %d, %d", n.ByState[store.Skipped], n.ByState[store.Delivered], len(gone), 30-len(gone))
	}
	for _, email := range gone {
		if srv.Received(email) != 0 {
			t.Errorf("%s unsubscribed and was mailed", email)
		}
	}
}

// Invariant 3 in process: rows left in flight by a dead engine are sent
// again once its lease expires, and counted as possible duplicates.
func TestRecoverAfterCrash(t *testing.T) {
	f := newFixture(t, 10)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	// A "crashed" engine: it took the lease and marked 3 rows in flight,
	// then died without recording them or renewing its lease.
	if ok, err := f.st.AcquireLease(f.ctx, f.c.ID, "dead", time.Now().Add(300*time.Millisecond)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	claimed, err := f.st.ClaimDeliveries(f.ctx, f.c.ID, "dead", 3, time.Now())
	if err != nil || len(claimed) != 3 {
		t.Fatal(len(claimed), err)
	}
	// The new engine sends the others at once, and the dead one's once its
	// lease has expired.
	e := f.engine(smtpSender(t, srv, 2, "", ""), Options{})
	c := f.runUntil(e, 30*time.Second)
	if c.State != store.Sent {
		t.Fatalf("campaign %s", c.State)
	}
	n := f.counts()
	if n.Duplicates != 3 || n.ByState[store.Delivered] != 10 {
		t.Errorf("duplicates %d, sent %d; want 3 counted, 10 sent", n.Duplicates, n.ByState[store.Delivered])
	}
	tr, _ := f.st.CampaignTransitions(f.ctx, f.c.ID)
	if cause := tr[len(tr)-1].Cause.String(); !strings.Contains(cause, "3 possibly sent twice") {
		t.Errorf("final cause %q does not count the duplicates", cause)
	}
}

// Two engines (two processes' worth: separate database handles) on the same
// campaign: each recipient gets one message.
func TestTwoEnginesOneCampaign(t *testing.T) {
	f := newFixture(t, 60)
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{Delay: time.Millisecond}})
	f.start()
	st2, err := store.Open(f.ctx, f.location)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	e1 := f.engine(smtpSender(t, srv, 2, "", ""), Options{Owner: "one"})
	e2 := NewEngine(st2, smtpSender(t, srv, 2, "", ""), f.content, Options{Owner: "two", Poll: 20 * time.Millisecond, LeaseTTL: time.Second}, e1.log)
	f.runEngines(60*time.Second, e1, e2)
	for _, e := range f.emails {
		if srv.Received(e) != 1 {
			t.Errorf("%s received %d, want 1", e, srv.Received(e))
		}
	}
}

func TestTransitions(t *testing.T) {
	f := newFixture(t, 3)
	bad := []store.CampaignState{store.Sent, store.Paused, store.Failed}
	for _, to := range bad {
		if err := Transition(f.ctx, f.st, f.c, Change{To: to, Cause: i18n.Text("test")}); err == nil {
			t.Errorf("draft → %s allowed", to)
		}
	}
	at := time.Now().Add(time.Hour)
	if err := Transition(f.ctx, f.st, f.c, Change{To: store.Scheduled, Cause: i18n.Text("test"), SendAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := Transition(f.ctx, f.st, f.c, Change{To: store.Cancelled, Cause: i18n.Text("staff")}); err != nil {
		t.Fatal(err)
	}
	if err := Transition(f.ctx, f.st, f.c, Change{To: store.Sending, Cause: i18n.Text("test")}); err == nil {
		t.Error("cancelled → sending allowed")
	}
	tr, _ := f.st.CampaignTransitions(f.ctx, f.c.ID)
	if len(tr) != 3 || tr[2].Cause.String() != "staff" || tr[2].From != store.Scheduled || tr[2].At.IsZero() {
		t.Errorf("transitions %+v", tr)
	}
	// A cancelled campaign's queued rows are skipped: nothing is left pending.
	g := newFixture(t, 4)
	g.start()
	if err := Transition(g.ctx, g.st, g.c, Change{To: store.Cancelled, Cause: i18n.Text("staff")}); err != nil {
		t.Fatal(err)
	}
	if n := g.counts(); n.ByState[store.Skipped] != 4 {
		t.Errorf("after cancel: %v, want 4 skipped", n.ByState)
	}
}

func TestFilter(t *testing.T) {
	f := newFixture(t, 10)
	f.c.Filter = "secteur=PUBLIC"
	if err := f.st.UpdateCampaign(f.ctx, f.c); err != nil {
		t.Fatal(err)
	}
	f.start()
	if n := f.counts(); n.Total != 5 {
		t.Errorf("filter secteur=PUBLIC fixed %d recipients, want 5", n.Total)
	}
	for _, bad := range []string{"secteur", `a"b=1`, "=x"} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}

// Quotas: over the hourly quota the campaign waits, and says until when.
func TestHourlyQuota(t *testing.T) {
	f := newFixture(t, 8)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	opts := Options{HourlyQuota: 5}
	e := f.engine(smtpSender(t, srv, 2, "", ""), opts)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- e.RunCampaign(ctx, f.c.ID) }()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Count() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // it would go over now if it were going to
	c, _ := f.st.CampaignByID(f.ctx, f.c.ID)
	s, err := CampaignStatus(f.ctx, f.st, c, e.Options())
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 5 {
		t.Errorf("%d sent, want the quota of 5", srv.Count())
	}
	if s.Waiting.String() != "hourly quota" || s.EstimatedEnd.Before(time.Now().Add(50*time.Minute)) || s.EstimatedEnd.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("status waiting %q, end %v; want the hourly quota and an end about an hour away", s.Waiting, s.EstimatedEnd)
	}
	if n := f.counts(); n.ByState[store.Queued] != 3 || n.ByState[store.InFlight] != 0 {
		t.Errorf("ledger %v, want 3 queued for the next window", n.ByState)
	}
}

func TestEstimateEnd(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	quiet, _ := ParseQuiet("20:00-08:00", true, paris)
	mon := time.Date(2026, 1, 12, 19, 0, 0, 0, paris) // a Monday, 19:00
	cases := []struct {
		name      string
		now       time.Time
		remaining int
		pace      Pace
		want      time.Time
	}{
		{"rate only", mon, 3600, Pace{Rate: 1}, mon.Add(time.Hour)},
		{"hourly quota", mon, 250, Pace{Rate: 100, HourlyQuota: 100}, mon.Add(2 * time.Hour).Add(1500 * time.Millisecond)},
		{"quiet night", mon, 7200, Pace{Rate: 1, Quiet: quiet}, time.Date(2026, 1, 13, 9, 0, 0, 0, paris)},
		{"weekend", time.Date(2026, 1, 16, 19, 30, 0, 0, paris), 3600, Pace{Rate: 1, Quiet: quiet},
			time.Date(2026, 1, 19, 8, 30, 0, 0, paris)},
	}
	for _, c := range cases {
		got := EstimateEnd(c.now, c.remaining, c.pace)
		if d := got.Sub(c.want); d < -time.Minute || d > time.Minute {
			t.Errorf("%s: EstimateEnd = %v, want %v", c.name, got.In(paris), c.want)
		}
	}
}

func TestQuietNext(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	q, err := ParseQuiet("20:00-08:00", true, paris)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, paris) }
	cases := []struct{ t, want time.Time }{
		{at(12, 10, 0), at(12, 10, 0)}, // Monday morning: open
		{at(12, 21, 0), at(13, 8, 0)},  // Monday night
		{at(13, 7, 59), at(13, 8, 0)},  // Tuesday early
		{at(16, 21, 0), at(19, 8, 0)},  // Friday night → Monday 8:00
		{at(17, 12, 0), at(19, 8, 0)},  // Saturday
	}
	for _, c := range cases {
		if got := q.Next(c.t); !got.Equal(c.want) {
			t.Errorf("Next(%v) = %v, want %v", c.t, got, c.want)
		}
	}
	if _, err := ParseQuiet("25:00-08:00", false, paris); err == nil {
		t.Error("ParseQuiet accepted 25:00")
	}
	_ = fmt.Sprint()
}
