package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// unsubscribedAt dates sub's last status change at t, as the store would
// have had it been on the test clock (the store writes the real time).
func (h *harness) unsubscribedAt(sub *store.Subscriber, t time.Time) {
	h.t.Helper()
	h.exec("UPDATE subscribers SET status_changed_at = $1 WHERE id = $2", t.UTC(), sub.ID)
}

// exec runs one statement on the database, behind the application's back,
// for the rare state no page can make.
func (h *harness) exec(q string, args ...any) {
	h.t.Helper()
	if _, err := h.db().Exec(q, args...); err != nil {
		h.t.Fatal(err)
	}
}

// count runs a count query on the database.
func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db().QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func hasEvent(events []store.SubscriberEvent, match func(store.SubscriberEvent) bool) bool {
	for _, e := range events {
		if match(e) {
			return true
		}
	}
	return false
}

// subscribeFrom posts the subscribe form for email from the client IP ip.
func (h *harness) subscribeFrom(b *browser, ip, email string, list string) (*http.Response, string) {
	h.t.Helper()
	b.header.Set("X-Forwarded-For", ip)
	form := h.subscribeForm(b, "/subscribe")
	form.Set("email", email)
	form.Set("list", list)
	return b.post("/subscribe", form)
}

// The form answers a complained, bounced or erased address exactly as a new
// one, mails it nothing, records the refusal, and keeps the erasure record;
// an unsubscribed address gets a confirmation, and is changed in nothing
// until it clicks.
func TestSubscribeRefusesSuppressed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	ctx := context.Background()
	old := store.Consent{Source: "import contacts-2019.csv", At: time.Date(2019, 3, 14, 10, 21, 0, 0, time.UTC)}
	subs := map[string]*store.Subscriber{}
	for email, st := range map[string]store.Status{
		"left@example.org": store.Unsubscribed, "plainte@example.org": store.Complained, "npai@example.org": store.Bounced,
	} {
		sub := &store.Subscriber{Email: email, Status: st, FirstName: "Chloé", Consent: old}
		if err := h.st.AddSubscriber(ctx, sub, []string{"Partenaires"}, false); err != nil {
			t.Fatal(err)
		}
		subs[email] = sub
	}
	h.subscriber("efface@example.org", store.Active, "Partenaires")
	if err := h.st.EraseSubscriber(ctx, "efface@example.org"); err != nil {
		t.Fatal(err)
	}

	b := h.browser()
	post := func(email string) string {
		t.Helper()
		form := h.subscribeForm(b, "/subscribe")
		form.Set("email", email)
		form.Set("first_name", "Intrus")
		form.Set("list", part.UUID.String())
		resp, body := b.post("/subscribe", form)
		wantStatus(t, resp, body, http.StatusOK)
		return body
	}
	reference := post("nouveau@example.org")
	for _, email := range []string{"left@example.org", "plainte@example.org", "npai@example.org", "efface@example.org"} {
		if body := post(email); body != reference {
			t.Errorf("%s: the page differs from a new address's:\n%s\nwant\n%s", email, body, reference)
		}
	}

	var to []string
	for _, m := range h.mailer.messages() {
		to = append(to, m.To.Addr)
	}
	if strings.Join(to, " ") != "nouveau@example.org left@example.org" {
		t.Errorf("mails went to %v, want the new and the unsubscribed address only", to)
	}
	for email, sub := range subs {
		got := h.reload(sub)
		if got.Status != sub.Status || got.Consent != old || got.FirstName != "Chloé" {
			t.Errorf("%s changed: %s %+v %q", email, got.Status, got.Consent, got.FirstName)
		}
		refused := hasEvent(h.events(sub), func(e store.SubscriberEvent) bool { return e.Kind == "refused" && e.Source == "form" })
		if want := sub.Status != store.Unsubscribed; refused != want {
			t.Errorf("%s: refused event recorded = %v, want %v", email, refused, want)
		}
	}
	if _, err := h.st.SubscriberByEmail(ctx, "efface@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the erased address has a row again: %v", err)
	}
	if gone, err := h.st.IsErased(ctx, "efface@example.org"); err != nil || !gone {
		t.Errorf("IsErased(efface@) = %v, %v after the form; want true", gone, err)
	}
	if n := h.count("SELECT count(*) FROM subscriber_events WHERE kind = 'refused' AND subscriber_id IS NULL"); n != 1 {
		t.Errorf("%d refused events keyed by no one, want 1 (the erased address)", n)
	}
}

var confirmTokenRE = regexp.MustCompile(`/confirm/([0-9a-f]+)`)

// confirmLink returns the path of the confirmation link in the last mail.
func (h *harness) confirmLink() string {
	h.t.Helper()
	msgs := h.mailer.messages()
	if len(msgs) == 0 {
		h.t.Fatal("no mail")
	}
	m := confirmTokenRE.FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		h.t.Fatalf("no confirmation link in:\n%s", msgs[len(msgs)-1].Text)
	}
	return "/confirm/" + m[1]
}

// Confirmation links are random, stored hashed, expire after
// subscribe.confirm_ttl and work once; the signed links of old are told
// to subscribe again.
func TestConfirmLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config, _ *Options) { c.Subscribe.ConfirmTTL = time.Hour })
	part := h.list("Partenaires", true)
	b := h.browser()
	ctx := context.Background()

	form := h.subscribeForm(b, "/subscribe")
	form.Set("email", "late@example.org")
	form.Set("list", part.UUID.String())
	b.post("/subscribe", form)
	late := h.confirmLink()
	tok := strings.TrimPrefix(late, "/confirm/")
	sub, err := h.st.SubscriberByEmail(ctx, "late@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 || strings.Contains(tok, strings.ReplaceAll(sub.UUID.String(), "-", "")) {
		t.Errorf("token %q: want 64 random hex characters, not the subscriber's id", tok)
	}
	if n := h.count("SELECT count(*) FROM confirmations WHERE token_hash = $1", tok); n != 0 {
		t.Error("the token is stored as it is, not hashed")
	}

	// Expired: the page and the POST say so, nothing changes.
	h.clock.Advance(time.Hour + time.Minute)
	resp, body := b.get(late)
	wantStatus(t, resp, body, http.StatusGone)
	wantContains(t, body, "a expiré")
	resp, body = b.post(late, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusGone)
	if got := h.reload(sub); got.Status != store.Pending {
		t.Errorf("expired link: status %s, want pending", got.Status)
	}

	// A fresh link (another token) works once.
	h.clock.Advance(20 * time.Minute)
	form = h.subscribeForm(b, "/subscribe")
	form.Set("email", "late@example.org")
	form.Set("list", part.UUID.String())
	b.post("/subscribe", form)
	fresh := h.confirmLink()
	if fresh == late {
		t.Fatal("the same token was mailed twice")
	}
	resp, body = b.post(fresh, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub); got.Status != store.Active {
		t.Fatalf("after confirming: %s", got.Status)
	}
	events := len(h.events(sub))
	resp, body = b.post(fresh, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusConflict)
	wantContains(t, body, "a déjà servi")
	if n := len(h.events(sub)); n != events {
		t.Errorf("a second POST added %d events", n-events)
	}
	resp, body = b.get(fresh + "?done=1")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Votre abonnement est confirmé")

	// A link signed the old way, as mailed before this change, for a
	// pending subscriber: a page telling to subscribe again, and nothing.
	pending := h.subscriber("ancien@example.org", store.Pending)
	legacy := "/confirm/" + h.links.Signer.Sign(token.Confirm, pending.UUID[:])
	resp, body = b.get(legacy)
	wantStatus(t, resp, body, http.StatusGone)
	wantContains(t, body, "Ce lien de confirmation a expiré", "remplissez à nouveau le formulaire")
	resp, body = b.post(legacy, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusGone)
	if got := h.reload(pending); got.Status != store.Pending {
		t.Errorf("an old signed link confirmed: %s", got.Status)
	}
}

// A confirmation link never lifts a complaint or a hard bounce that came
// after it was mailed; the click is refused and recorded.
func TestConfirmNeverLiftsComplaint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	ctx := context.Background()
	b := h.browser()
	for _, st := range []store.Status{store.Complained, store.Bounced} {
		sub := h.subscriber(string(st)+"@example.org", store.Unsubscribed, "Partenaires")
		h.clock.Advance(20 * time.Minute)
		form := h.subscribeForm(b, "/subscribe")
		form.Set("email", sub.Email)
		form.Set("list", part.UUID.String())
		b.post("/subscribe", form)
		link := h.confirmLink()
		if _, err := h.st.SetStatus(ctx, sub.ID, store.StatusChange{Status: st, Source: "complaint", Force: true}); err != nil {
			t.Fatal(err)
		}
		resp, body := b.post(link, url.Values{"confirm": {"1"}})
		wantStatus(t, resp, body, http.StatusConflict)
		if got := h.reload(sub); got.Status != st {
			t.Errorf("%s: the confirmation lifted it to %s", st, got.Status)
		}
		if !hasEvent(h.events(sub), func(e store.SubscriberEvent) bool { return e.Kind == "refused" }) {
			t.Errorf("%s: no refused event", st)
		}
	}
}

// Only an admin lifts a complaint or a hard bounce, and only with a
// reason, recorded with their login.
func TestAdminLiftNeedsReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("plainte@example.org", store.Complained)
	left := h.subscriber("parti@example.org", store.Unsubscribed)
	path := "/admin/subscribers/" + sub.UUID.String()

	editor := h.user("redac@example.org", store.RoleEditor)
	resp, body := editor.post(path+"/lift", url.Values{"reason": {"demande écrite"}})
	wantStatus(t, resp, body, http.StatusForbidden)

	admin := h.user("admin@example.org", store.RoleAdmin)
	_, body = admin.get(path)
	wantContains(t, body, "Lever la suppression", `action="`+path+`/lift"`)
	resp, body = admin.post(path+"/lift", url.Values{"reason": {"   "}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "Indiquez le motif")
	if got := h.reload(sub).Status; got != store.Complained {
		t.Fatalf("lifted without a reason: %s", got)
	}
	resp, body = admin.post("/admin/subscribers/"+left.UUID.String()+"/lift", url.Values{"reason": {"il a appelé"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	if got := h.reload(left).Status; got != store.Unsubscribed {
		t.Errorf("an admin lifted an unsubscribe: %s", got)
	}

	resp, body = admin.post(path+"/lift", url.Values{"reason": {"plainte par erreur, confirmé par courrier"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Active {
		t.Fatalf("after the lift: %s", got)
	}
	ev := h.events(sub)
	last := ev[len(ev)-1]
	if last.Source != "admin" || !strings.Contains(last.Detail, "admin@example.org") || !strings.Contains(last.Detail, "plainte par erreur") {
		t.Errorf("lift event = %+v, want the admin's login and reason", last)
	}
}

// The form's limit counts per /24 (IPv4) and per /64 (IPv6): walking the
// addresses of one block does not pass it, another block does.
func TestSubscribeLimitPerNetwork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)
	part := h.list("Partenaires", true).UUID.String()
	b := h.browser()
	for _, c := range []struct{ block, other string }{
		{"198.51.100.%d", "198.51.101.1"},
		{"2001:db8:1:2::%d", "2001:db8:1:3::1"},
	} {
		var limited int
		for i := range 7 {
			ip := strings.Replace(c.block, "%d", string(rune('1'+i)), 1)
			resp, _ := h.subscribeFrom(b, ip, "n"+string(rune('a'+i))+"@"+strings.NewReplacer(".", "-", ":", "-").Replace(ip)+".example.org", part)
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited != 2 {
			t.Errorf("%s: %d of 7 posts limited, want the last 2 (burst of 5)", c.block, limited)
		}
		resp, body := h.subscribeFrom(b, c.other, "other@"+strings.NewReplacer(".", "-", ":", "-").Replace(c.other)+".example.org", part)
		wantStatus(t, resp, body, http.StatusOK)
	}
}

// At most subscribe.hourly_confirmations mails an hour leave the form, and
// subscribe.domain_hourly_confirmations to one domain; past those, the
// page says the same and nothing is sent.
func TestSubscribeMailCaps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy, func(c *config.Config, _ *Options) {
		c.Subscribe.HourlyConfirmations = 4
		c.Subscribe.DomainHourlyConfirmations = 2
	})
	part := h.list("Partenaires", true).UUID.String()
	b := h.browser()
	posts := []string{"a@one.example", "b@one.example", "c@one.example", "d@two.example", "e@three.example", "f@four.example"}
	var ref string
	for i, email := range posts {
		resp, body := h.subscribeFrom(b, "203.0."+string(rune('1'+i))+".1", email, part)
		wantStatus(t, resp, body, http.StatusOK)
		if ref == "" {
			ref = body
		} else if body != ref {
			t.Errorf("%s: the page differs", email)
		}
	}
	var to []string
	for _, m := range h.mailer.messages() {
		to = append(to, m.To.Addr)
	}
	// c@ is over the domain cap, f@ over the hourly cap.
	if got, want := strings.Join(to, " "), "a@one.example b@one.example d@two.example e@three.example"; got != want {
		t.Errorf("mails to %s, want %s", got, want)
	}
}

// The form's mails go under the campaigns' sending rate and relay quotas,
// and count against them.
func TestSubscribeMailsCountInQuotas(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy, func(c *config.Config, o *Options) {
		o.Pacer = campaign.NewEngine(o.Store, nil, nil, campaign.Options{HourlyQuota: 2, Rate: 100}, o.Log)
	})
	part := h.list("Partenaires", true).UUID.String()
	b := h.browser()
	for i, email := range []string{"a@one.example", "b@two.example", "c@three.example"} {
		resp, body := h.subscribeFrom(b, "203.0."+string(rune('1'+i))+".1", email, part)
		wantStatus(t, resp, body, http.StatusOK)
	}
	if n := len(h.mailer.messages()); n != 2 {
		t.Errorf("%d mails under an hourly quota of 2", n)
	}
	n, err := h.st.SentSince(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || n != 2 {
		t.Errorf("SentSince = %d, %v; want the 2 confirmations counted against the campaigns' quota", n, err)
	}
}

// A post carrying the pasted form's token is never taken as it is: it is
// shown again with a time-checked token, which a bot re-posting at once
// does not pass.
func TestSnippetTokenKeepsTimeCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	b := h.browser()
	snippet := url.Values{"form": {h.srv.snippetToken()}, "email": {"bot@example.org"}, "consent": {"1"}, "list": {part.UUID.String()}}
	resp, body := b.postRaw("/subscribe", "application/x-www-form-urlencoded", snippet.Encode(), "https://mics34.example.org")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Vérifiez vos informations", `value="bot@example.org"`, `name="consent" value="1" required checked`)
	if n, _ := h.st.CountSubscribers(context.Background(), store.SubscriberFilter{}); n != 0 || len(h.mailer.messages()) != 0 {
		t.Fatalf("a snippet post was taken: %d subscribers, %d mails", n, len(h.mailer.messages()))
	}
	snippet.Set("form", formRE.FindStringSubmatch(body)[1])
	resp, body = b.post("/subscribe", snippet)
	wantStatus(t, resp, body, http.StatusBadRequest)
	h.clock.Advance(3 * time.Second)
	resp, body = b.post("/subscribe", snippet)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Vérifiez votre boîte de réception")
}

// The undo button works for undoWindow after the unsubscribe as the store
// dated it, whenever the page was shown; past it, the page only offers a
// confirmation mailed to the address.
func TestUnsubscribeUndoWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("jean.martin@example.org", store.Active, "Partenaires")
	path := h.unsubPath(sub, uuid.Nil)
	b := h.browser()

	b.post(path, url.Values{"confirm": {"1"}})
	h.unsubscribedAt(sub, h.clock.Now().Add(-10*time.Minute))
	_, body := b.get(path)
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no undo ten minutes after unsubscribing:\n%s", body)
	}
	resp, body := b.post(path+"/resubscribe", url.Values{"form": {m[1]}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Active {
		t.Fatalf("undo: %s", got)
	}

	// Unsubscribed 31 minutes ago: a page shown now, with a token made now,
	// undoes nothing.
	b.post(path, url.Values{"confirm": {"1"}})
	h.unsubscribedAt(sub, h.clock.Now().Add(-31*time.Minute))
	_, body = b.get(path)
	if formRE.MatchString(body) {
		t.Errorf("undo offered 31 minutes after the unsubscribe:\n%s", body)
	}
	wantContains(t, body, "Recevoir un lien de confirmation", `name="action" value="mail"`)
	resp, body = b.post(path+"/resubscribe", url.Values{"form": {h.srv.formToken(purposeResubscribe, sub.UUID[:])}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Fatalf("a fresh token undid an old unsubscribe: %s", got)
	}

	// The confirmation goes to the address; its click brings the reader back.
	resp, body = b.post(path+"/resubscribe", url.Values{"action": {"mail"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Fatalf("asking for a link changed the status to %s", got)
	}
	msgs := h.mailer.messages()
	if len(msgs) != 1 || msgs[0].To.Addr != sub.Email {
		t.Fatalf("mails = %+v, want one confirmation to the reader", msgs)
	}
	_, body = b.get(path + "?done=mailed")
	wantContains(t, body, "un lien de confirmation vient de lui être envoyé")
	resp, body = b.post(h.confirmLink(), url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Active {
		t.Errorf("after confirming: %s", got)
	}
}

// Joining a list from the preferences page needs the confirmation mailed
// to the address; a complained address is sent nothing and joins nothing.
func TestPreferencesJoinNeedsConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	ach := h.list("Acheteurs publics", true)
	b := h.browser()
	for _, st := range []store.Status{store.Active, store.Complained} {
		sub := h.subscriber(string(st)+"@example.org", st, "Partenaires")
		path := h.unsubPath(sub, uuid.Nil) + "/preferences"
		before := len(h.mailer.messages())
		resp, body := b.post(path, url.Values{"action": {"save"}, "list": {part.UUID.String(), ach.UUID.String()}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		lists, _ := h.st.SubscriberLists(context.Background(), sub.ID)
		if lists["Acheteurs publics"] {
			t.Errorf("%s: joined a list without confirming", st)
		}
		sent := len(h.mailer.messages()) - before
		if want := map[store.Status]int{store.Active: 1, store.Complained: 0}[st]; sent != want {
			t.Errorf("%s: %d mails, want %d", st, sent, want)
		}
		if st == store.Active {
			if loc := resp.Header.Get("Location"); !strings.Contains(loc, "join=mailed") {
				t.Errorf("redirect to %q", loc)
			}
			_, body = b.get(path + "?done=saved&join=mailed")
			wantContains(t, body, "un lien de confirmation vient d’être envoyé")
		}
	}
}
