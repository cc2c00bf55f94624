package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/mailbox"
	"bulletin/internal/store"
)

// forgedBounce is the attack of issue 10: a bounce to the public bounce
// address naming a subscriber, with no token and no Message-ID of ours.
func forgedBounce(rcpt string) []byte {
	return []byte(strings.ReplaceAll(`From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<`+rcpt+`>: 550 5.1.1 user unknown

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; `+rcpt+`
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B--
`, "\n", "\r\n"))
}

// TestMailboxPage reads a forged bounce as the watcher would, then goes
// through the console: the list and its filters, the apply refused to an
// editor and without the CSRF token, then done by an admin, whose login
// the subscriber's history keeps.
func TestMailboxPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	victim := h.subscriber("victim@example.fr", store.Active)
	proc := mailbox.NewProcessor(h.st, h.links, mailbox.RulesFromConfig(h.cfg), h.clock.Now)
	out, err := proc.Process(ctx, mailbox.Message{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Raw: forgedBounce("victim@example.fr")})
	if err != nil {
		t.Fatal(err)
	}
	held := out.Event
	if held.Action != store.MailboxUnverified || h.reload(victim).Status != store.Active {
		t.Fatalf("forged bounce: action %s, status %s; want unverified, active", held.Action, h.reload(victim).Status)
	}
	// A verified event of a campaign, for the campaign filter.
	c := h.campaign("Lettre n° 10")
	reply := &store.MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: 2, Kind: "reply", From: "paul@example.net",
		Subject: "Re: Lettre n° 10", CampaignID: c.ID, MatchedBy: "message-id"}
	if _, err := h.st.RecordMailboxEvent(ctx, reply, store.MailboxEffect{}); err != nil {
		t.Fatal(err)
	}

	admin := h.user("admin@example.org", store.RoleAdmin)
	editor := h.user("editor@example.org", store.RoleEditor)
	// The event is named by its UUID, never by its row id.
	applyPath := "/admin/mailbox/" + held.UUID.String() + "/apply"

	resp, body := admin.get("/admin/mailbox")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `href="/admin/mailbox" aria-current="page"`, "Boîte de retours", "victim@example.fr",
		`href="/admin/subscribers/`+victim.UUID.String()+`"`, `action="`+applyPath+`"`, "Non vérifié",
		"Messages non vérifiés en attente d’un administrateur\u00a0: 1.", "Re: Lettre n° 10", `href="/admin/campaigns/`+c.UUID.String()+`"`)
	for _, f := range []struct {
		query      string
		has, hasnt string
	}{
		{"kind=hard", "victim@example.fr", "paul@example.net"},
		{"kind=reply", "paul@example.net", "victim@example.fr"},
		{"campaign=" + c.UUID.String(), "paul@example.net", "victim@example.fr"},
		{"unverified=1", "victim@example.fr", "paul@example.net"},
	} {
		resp, body := admin.get("/admin/mailbox?" + f.query)
		wantStatus(t, resp, body, http.StatusOK)
		if !strings.Contains(body, f.has) || strings.Contains(body, f.hasnt) {
			t.Errorf("?%s: want %q and not %q", f.query, f.has, f.hasnt)
		}
	}

	// The editor sees the page, no apply button, and cannot apply.
	resp, body = editor.get("/admin/mailbox")
	wantStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, applyPath) {
		t.Error("the editor's page offers to apply")
	}
	resp, body = editor.post(applyPath, nil)
	wantStatus(t, resp, body, http.StatusForbidden)
	// Without the CSRF token, the admin cannot either, nor by the row id.
	resp, body = admin.post(applyPath, url.Values{"csrf": {""}})
	wantStatus(t, resp, body, http.StatusForbidden)
	resp, body = admin.post(fmt.Sprintf("/admin/mailbox/%d/apply", held.ID), nil)
	wantStatus(t, resp, body, http.StatusNotFound)
	if got := h.reload(victim).Status; got != store.Active {
		t.Fatalf("after refused applies: status %s, want active", got)
	}

	// The admin applies it: the filter they were on is kept.
	resp, body = admin.post(applyPath, url.Values{"back": {"unverified=1&kind=hard"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/admin/mailbox?kind=hard&unverified=1&ok=mailbox_applied" {
		t.Errorf("redirect to %q", loc)
	}
	if got := h.reload(victim).Status; got != store.Bounced {
		t.Errorf("after apply: status %s, want bounced", got)
	}
	applied := false
	for _, e := range h.events(victim) {
		if e.Kind == "mailbox_applied" && strings.HasPrefix(e.Detail, "admin@example.org: hard") && e.Source == "admin" {
			applied = true
		}
	}
	if !applied {
		t.Errorf("history %+v does not say the admin applied the bounce", h.events(victim))
	}
	_, body = admin.get("/admin/subscribers/" + victim.UUID.String())
	wantContains(t, body, "Message de la boîte appliqué", "admin@example.org: hard")
	_, body = admin.get("/admin/mailbox?ok=mailbox_applied")
	wantContains(t, body, "Le message est appliqué à l’abonné", "Adresse écartée")
	if strings.Contains(body, applyPath) {
		t.Error("an applied event still offers to apply")
	}
	// Twice is refused, and an unknown or malformed UUID is not found.
	resp, body = admin.post(applyPath, nil)
	wantStatus(t, resp, body, http.StatusConflict)
	for _, p := range []string{"/admin/mailbox/" + uuid.NewString() + "/apply", "/admin/mailbox/x/apply",
		"/admin/mailbox/" + held.UUID.String()[:35] + "/apply"} {
		resp, body = admin.post(p, nil)
		wantStatus(t, resp, body, http.StatusNotFound)
	}
}

// TestMailboxPages: 50 events a page, and the filter kept from page to
// page.
func TestMailboxPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	for i := range 60 {
		ev := &store.MailboxEvent{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Kind: "reply",
			From: fmt.Sprintf("reader%02d@example.net", i), ProcessedAt: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)}
		if _, err := h.st.RecordMailboxEvent(ctx, ev, store.MailboxEffect{}); err != nil {
			t.Fatal(err)
		}
	}
	admin := h.user("admin@example.org", store.RoleAdmin)
	_, first := admin.get("/admin/mailbox?kind=reply")
	_, second := admin.get("/admin/mailbox?kind=reply&page=2")
	if n := strings.Count(first, "<tr>") - 1; n != 50 {
		t.Errorf("page 1 has %d rows, want 50", n)
	}
	if n := strings.Count(second, "<tr>") - 1; n != 10 {
		t.Errorf("page 2 has %d rows, want 10", n)
	}
	wantContains(t, first, "reader59@example.net", `href="/admin/mailbox?kind=reply&amp;page=2"`, "Page 1 sur 2")
	wantContains(t, second, "reader00@example.net")
}

// TestMailboxScreenshots captures the mailbox page, wide and narrow:
//
//	go test ./internal/web -run TestMailboxScreenshots -screenshots
func TestMailboxScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("pass -screenshots to capture docs/screenshots/admin-mailbox*.png")
	}
	ctx := Chrome(t)
	h := newHarness(t)
	c := context.Background()
	camp := h.campaign("Lettre n° 10 : édition spéciale 10 ans")
	proc := mailbox.NewProcessor(h.st, h.links, mailbox.RulesFromConfig(h.cfg), h.clock.Now)
	for i, email := range []string{"florence.grandvalet@herault.fr", "achats@ville-sete.fr"} {
		h.subscriber(email, store.Active)
		if _, err := proc.Process(c, mailbox.Message{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Raw: forgedBounce(email)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, ev := range []*store.MailboxEvent{
		{Kind: "reply", From: "olivier.salas@montpellier3m.fr", Subject: "Re: Lettre n° 10", CampaignID: camp.ID, MatchedBy: "message-id"},
		{Kind: "autoreply", From: "contact@insertion-34.org", Subject: "Réponse automatique : absente jusqu’au 20 janvier", CampaignID: camp.ID, MatchedBy: "header"},
		{Kind: "delayed", Reason: "timeout", Status: "4.4.1", Diagnostic: "connection timed out", Recipients: []string{"j.dupre@btp-occitanie.fr"}, CampaignID: camp.ID, MatchedBy: "verp"},
	} {
		ev.Mailbox, ev.UIDValidity, ev.UID, ev.ProcessedAt = "INBOX", 1, uint32(10+i), h.clock.Now()
		if _, err := h.st.RecordMailboxEvent(c, ev, store.MailboxEffect{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.st.CreateUser(c, &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "communication@mics34.fr", "correct horse battery")
	shoot(t, ctx, h.ts.URL, "/admin/mailbox", "admin-mailbox", 1280)
	shoot(t, ctx, h.ts.URL, "/admin/mailbox", "admin-mailbox-mobile", 390)
}
