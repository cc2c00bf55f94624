package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/config"
	"bulletin/internal/links"
	"bulletin/internal/store"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	for _, path := range []string{"/subscribe", "/admin/login", "/healthz", "/static/admin.css"} {
		resp, body := b.get(path)
		wantStatus(t, resp, body, http.StatusOK)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code: %q", path, csp)
		}
		referrer := "no-referrer"
		if path == "/admin/login" {
			referrer = "same-origin" // so that its form posts carry the real Origin (TestLoginRefusesOriginNull)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": referrer} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
	// The embeddable form, alone, may be framed by the organisation's site.
	resp, body := b.get("/subscribe/embed")
	wantStatus(t, resp, body, http.StatusOK)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://mics34.example.org") {
		t.Errorf("embed CSP = %q", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "" {
		t.Error("embed keeps X-Frame-Options DENY")
	}
	// Pages with a token in their URL are not cached.
	sub := h.subscriber("a@example.org", store.Active)
	resp, _ = b.get(h.unsubPath(sub, uuid.Nil))
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("unsubscribe page Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	// The organisation's colour, as a stylesheet (no inline style).
	resp, body = b.get("/theme.css")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "--brand: #1d4e89")
	// The bare site leads to the subscribe form.
	resp, _ = b.get("/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/subscribe" {
		t.Errorf("GET / = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.get(h.unsubPath(sub, uuid.Nil))
	// Public pages never set a cookie.
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("public page sets cookies: %v", c)
	}
}

func TestUnsubscribePageNeverUnsubscribes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("jean.martin@example.org", store.Active)
	b := h.browser()
	for range 3 {
		resp, body := b.get(h.unsubPath(sub, uuid.Nil))
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, "j*********n@e*****e.org", `action="/u/`, `name="confirm" value="1"`, "/preferences")
		if strings.Contains(body, "jean.martin@example.org") {
			t.Error("the page shows the address unmasked")
		}
	}
	// HEAD, as link scanners do, changes nothing either.
	req, _ := http.NewRequest(http.MethodHead, h.ts.URL+h.unsubPath(sub, uuid.Nil), nil)
	b.do(req)
	if got := h.reload(sub).Status; got != store.Active {
		t.Errorf("after GETs, status = %s, want active", got)
	}
}

func TestUnsubscribeButtonAndResubscribe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("jean.martin@example.org", store.Active)
	campaign := h.campaign("Lettre n° 10")
	path := h.unsubPath(sub, campaign.UUID)
	b := h.browser()

	resp, body := b.post(path, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != path+"?done=unsubscribed" {
		t.Errorf("redirect to %q", loc)
	}
	if got := h.reload(sub); got.Status != store.Unsubscribed {
		t.Fatalf("status = %s, want unsubscribed", got.Status)
	}
	ev := h.events(sub)
	last := ev[len(ev)-1]
	if last.Source != "link" || last.Campaign != "Lettre n° 10" || last.Status != store.Unsubscribed {
		t.Errorf("event = %+v, want source link attributed to the campaign", last)
	}
	h.unsubscribedAt(sub, h.clock.Now()) // the store's clock is the real one

	// The page now offers to undo it.
	resp, body = b.get(path + "?done=unsubscribed")
	wantStatus(t, resp, body, http.StatusOK)
	m := formRE.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "/resubscribe") {
		t.Fatalf("no resubscribe form:\n%s", body)
	}
	// A forged or missing form token changes nothing.
	other := uuid.New()
	altered := flipHex(m[1], len(m[1])-1)
	for _, bad := range []string{"", altered, m[1][:len(m[1])-2], h.srv.formToken(purposeResubscribe, other[:])} {
		resp, body = b.post(path+"/resubscribe", url.Values{"form": {bad}})
		wantStatus(t, resp, body, http.StatusBadRequest)
	}
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Fatalf("after forged resubscribes, status = %s", got)
	}
	resp, body = b.post(path+"/resubscribe", url.Values{"form": {m[1]}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Active {
		t.Fatalf("after resubscribe, status = %s, want active", got)
	}

	// An hour later the button no longer works: a scanner replaying the
	// page's forms cannot flip the reader back.
	b.post(path, url.Values{"confirm": {"1"}})
	h.unsubscribedAt(sub, h.clock.Now())
	_, body = b.get(path)
	m = formRE.FindStringSubmatch(body)
	h.clock.Advance(2 * time.Hour)
	resp, body = b.post(path+"/resubscribe", url.Values{"form": {m[1]}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Errorf("stale resubscribe token worked: status %s", got)
	}
}

// TestOneClick checks RFC 8058: a POST with List-Unsubscribe=One-Click
// unsubscribes at once, with no cookie, CSRF token or login, answers 200,
// and is idempotent.
func TestOneClick(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	campaign := h.campaign("Lettre n° 10")
	for _, c := range []struct {
		name  string
		ctype string
		body  func() (string, string)
	}{
		{"urlencoded", "application/x-www-form-urlencoded", func() (string, string) {
			return "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
		}},
		{"multipart", "", func() (string, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("List-Unsubscribe", "One-Click")
			mw.Close()
			return buf.String(), mw.FormDataContentType()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := h.subscriber(c.name+"@example.org", store.Active)
			body, ctype := c.body()
			for i := range 2 {
				// A mail provider's POST: no cookie, no Origin.
				req, _ := http.NewRequest(http.MethodPost, h.ts.URL+h.unsubPath(sub, campaign.UUID), strings.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST %d: status %d, want 200", i, resp.StatusCode)
				}
			}
			if got := h.reload(sub).Status; got != store.Unsubscribed {
				t.Fatalf("status = %s, want unsubscribed", got)
			}
			var n int
			for _, e := range h.events(sub) {
				if e.Kind == "status" {
					n++
					if e.Source != "one-click" || e.Campaign != "Lettre n° 10" {
						t.Errorf("event %+v: want one-click attributed to the campaign", e)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d status events, want 1 (idempotent)", n)
			}
		})
	}

	// A bounced address stays bounced, and one erased since the mail was
	// sent is simply gone: both still answer 200.
	bounced := h.subscriber("bounced@example.org", store.Bounced)
	erased := h.subscriber("erased@example.org", store.Active)
	if err := h.st.EraseSubscriber(context.Background(), erased.Email); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*store.Subscriber{bounced, erased} {
		resp, body := h.browser().postRaw(h.unsubPath(sub, uuid.Nil), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", "")
		wantStatus(t, resp, body, http.StatusOK)
	}
	if got := h.reload(bounced).Status; got != store.Bounced {
		t.Errorf("bounced became %s", got)
	}

	// A POST that is neither the button nor one-click changes nothing.
	sub := h.subscriber("other@example.org", store.Active)
	for _, body := range []string{"", "List-Unsubscribe=Yes", "confirm=0", "List-Unsubscribe=one-click"} {
		resp, rb := h.browser().postRaw(h.unsubPath(sub, uuid.Nil), "application/x-www-form-urlencoded", body, "")
		wantStatus(t, resp, rb, http.StatusBadRequest)
	}
	if got := h.reload(sub).Status; got != store.Active {
		t.Errorf("status = %s after stray POSTs", got)
	}
}

// TestForgedTokens: a link that does not verify is 404 and changes nothing.
func TestForgedTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("jean.martin@example.org", store.Pending)
	good := h.links.UnsubscribeToken(sub.UUID, uuid.Nil)
	confirmTok, err := h.st.CreateConfirmation(context.Background(), sub.ID, nil, h.clock.Now(), h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	forged := []string{
		flipHex(good, 0),               // another subscriber
		flipHex(good, len(good)-1),     // a bad MAC
		good[:len(good)-2],             // cut short
		confirmTok,                     // a confirmation token used as an unsubscribe token
		strings.Repeat("0", len(good)), // made up
		"<script>alert(1)</script>",
		"' OR 1=1 --",
		"..%2f..%2fetc%2fpasswd",
	}
	b := h.browser()
	for _, tok := range forged {
		p := "/u/" + url.PathEscape(tok)
		for _, req := range []func() (*http.Response, string){
			func() (*http.Response, string) { return b.get(p) },
			func() (*http.Response, string) { return b.get(p + "/preferences") },
			func() (*http.Response, string) {
				return b.postRaw(p, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", "")
			},
			func() (*http.Response, string) { return b.post(p, url.Values{"confirm": {"1"}}) },
			func() (*http.Response, string) { return b.post(p+"/preferences", url.Values{"action": {"all"}}) },
		} {
			resp, body := req()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
			}
			if strings.Contains(body, "<script>alert") {
				t.Errorf("%s reflects the token unescaped", resp.Request.URL.Path)
			}
		}
	}
	// The unsubscribe token is no confirmation token either.
	for _, tok := range []string{good, flipHex(confirmTok, 3)} {
		resp, body := b.post("/confirm/"+tok, url.Values{"confirm": {"1"}})
		wantStatus(t, resp, body, http.StatusNotFound)
	}
	if got := h.reload(sub).Status; got != store.Pending {
		t.Errorf("status = %s after forged links, want pending", got)
	}
	// A token from another key (another install) does not verify.
	resp, body := b.get("/u/" + strings.ToUpper(good))
	wantStatus(t, resp, body, http.StatusOK) // MTAs may upper-case: still valid
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	ach := h.list("Acheteurs publics", true)
	internal := h.list("Équipe interne", false)
	secret := h.list("Comité secret", false)
	sub := h.subscriber("jean.martin@example.org", store.Active, "Partenaires", "Équipe interne")
	path := h.unsubPath(sub, uuid.Nil) + "/preferences"
	b := h.browser()
	resp, body := b.get(path)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Partenaires", "Acheteurs publics", "Équipe interne")
	if strings.Contains(body, "Comité secret") {
		t.Error("a private list the reader is not on is shown")
	}
	// Join Acheteurs publics, leave Équipe interne, and try to sneak into
	// the private list by posting its UUID. Leaving applies at once;
	// joining waits for the confirmation mailed to the address.
	resp, body = b.post(path, url.Values{"action": {"save"}, "list": {part.UUID.String(), ach.UUID.String(), secret.UUID.String()}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	lists, _ := h.st.SubscriberLists(context.Background(), sub.ID)
	if lists["Acheteurs publics"] || lists["Équipe interne"] {
		t.Errorf("before confirming: lists %v, want Équipe interne left and Acheteurs publics not joined", lists)
	}
	msgs := h.mailer.messages()
	if len(msgs) != 1 || msgs[0].To.Addr != sub.Email {
		t.Fatalf("mails = %+v, want one confirmation to the reader", msgs)
	}
	confirmPath := strings.TrimPrefix(linkRE.FindString(msgs[0].Text), h.ts.URL)
	resp, body = b.post(confirmPath, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	lists, _ = h.st.SubscriberLists(context.Background(), sub.ID)
	want := map[string]bool{"Partenaires": true, "Acheteurs publics": true, "Équipe interne": false}
	for name, on := range want {
		if lists[name] != on {
			t.Errorf("list %s: on = %v, want %v (all: %v)", name, lists[name], on, lists)
		}
	}
	if _, ok := lists[secret.Name]; ok {
		t.Error("the reader joined a private list by forging the form")
	}
	_ = internal
	// A list left stays left: shown unticked, and the subscriber active.
	if got := h.reload(sub).Status; got != store.Active {
		t.Errorf("status = %s", got)
	}
	// Unsubscribe from everything.
	resp, body = b.post(path, url.Values{"action": {"all"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Errorf("after all: status = %s", got)
	}
	// A POST without the form's action changes nothing.
	resp, body = b.post(path, url.Values{"list": {part.UUID.String()}})
	wantStatus(t, resp, body, http.StatusBadRequest)
}

// subscribeForm fetches the subscribe form and returns its fields, the
// form shown long enough ago to pass the bot check.
func (h *harness) subscribeForm(b *browser, path string) url.Values {
	h.t.Helper()
	resp, body := b.get(path)
	wantStatus(h.t, resp, body, http.StatusOK)
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("no form token in %s:\n%s", path, body)
	}
	h.clock.Advance(5 * time.Second)
	return url.Values{"form": {m[1]}, "lang": {"fr"}, "consent": {"1"}}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/(confirm|u)/[0-9a-f]+(/preferences)?`)

func TestSubscribeDoubleOptIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	ach := h.list("Acheteurs publics", true)
	h.list("Équipe interne", false)
	b := h.browser()
	resp, body := b.get("/subscribe")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Partenaires", "Acheteurs publics", `name="website"`, `name="consent"`, "J’accepte de recevoir la lettre d’information de MICS 34")
	if strings.Contains(body, "Équipe interne") {
		t.Error("a private list is offered on the form")
	}

	form := h.subscribeForm(b, "/subscribe")
	form.Set("email", "  Chloe.Dupre@Example.ORG ")
	form.Set("first_name", "Chloé")
	form.Set("last_name", `<script>alert("x")</script>`)
	form["list"] = []string{part.UUID.String(), ach.UUID.String()}
	b.header.Set("X-Forwarded-For", "198.51.100.7") // ignored: not behind a proxy
	resp, body = b.post("/subscribe", form)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Vérifiez votre boîte de réception")

	sub, err := h.st.SubscriberByEmail(context.Background(), "chloe.dupre@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Email != "Chloe.Dupre@example.org" || sub.Status != store.Pending {
		t.Errorf("subscriber %s %s, want Chloe.Dupre@example.org pending", sub.Email, sub.Status)
	}
	c := sub.Consent
	if c.Source != "form" || c.IP != "127.0.0.1" || !c.At.Equal(h.clock.Now()) || !strings.Contains(c.Text, "J’accepte de recevoir") {
		t.Errorf("consent = %+v", c)
	}
	msgs := h.mailer.messages()
	if len(msgs) != 1 || msgs[0].To.Addr != sub.Email || !strings.Contains(msgs[0].Subject, "Confirmez") {
		t.Fatalf("mails = %+v", msgs)
	}
	link := linkRE.FindString(msgs[0].Text)
	if link == "" || !strings.Contains(msgs[0].HTML, link) {
		t.Fatalf("no confirmation link in the mail:\n%s", msgs[0].Text)
	}
	confirmPath := strings.TrimPrefix(link, h.ts.URL)

	// Opening the link (as a mail scanner does) confirms nothing.
	resp, body = b.get(confirmPath)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Je confirme mon abonnement", "C*********e@e*****e.org")
	if got := h.reload(sub).Status; got != store.Pending {
		t.Fatalf("after GET confirm: %s", got)
	}
	resp, body = b.post(confirmPath, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Active {
		t.Fatalf("after POST confirm: %s, want active", got)
	}
	if !hasEvent(h.events(sub), func(e store.SubscriberEvent) bool {
		return e.Kind == "status" && e.Source == "form" && strings.Contains(e.Detail, "confirmed from 127.0.0.1")
	}) {
		t.Errorf("no confirmation event in %+v", h.events(sub))
	}
	if lists, _ := h.st.SubscriberLists(context.Background(), sub.ID); !lists["Partenaires"] || !lists["Acheteurs publics"] {
		t.Errorf("after confirming, lists = %v, want the two asked for", lists)
	}
	resp, body = b.get(confirmPath + "?done=1")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Votre abonnement est confirmé")

	// The same address again: the page says the same, the address gets its
	// preferences link, nothing changes.
	h.clock.Advance(20 * time.Minute)
	form = h.subscribeForm(b, "/subscribe")
	form.Set("email", "chloe.dupre@example.org")
	form.Set("list", part.UUID.String())
	resp, body = b.post("/subscribe", form)
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "Vérifiez votre boîte de réception")
	msgs = h.mailer.messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "/preferences") {
		t.Errorf("second mail: %+v", msgs[len(msgs)-1])
	}
	if got := h.reload(sub); got.Status != store.Active || got.Consent.At != sub.Consent.At {
		t.Errorf("the known subscriber changed: %+v", got)
	}
}

// An address that unsubscribed and subscribes again on the form is on
// file, once it confirms, with the consent it gave then: date, IP and the
// sentence shown, not the consent it had before.
func TestResubscribeRecordsNewConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	old := store.Consent{Source: "import contacts-2019.csv", At: time.Date(2019, 3, 14, 10, 21, 0, 0, time.UTC)}
	sub := &store.Subscriber{Email: "chloe@example.org", Status: store.Unsubscribed, Consent: old}
	if err := h.st.AddSubscriber(context.Background(), sub, []string{"Partenaires"}, false); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	form := h.subscribeForm(b, "/subscribe")
	form.Set("email", sub.Email)
	form.Set("list", part.UUID.String())
	resp, body := b.post("/subscribe", form)
	wantStatus(t, resp, body, http.StatusOK)
	if got := h.reload(sub); got.Status != store.Unsubscribed || got.Consent != old {
		t.Fatalf("before confirming: %s, %+v; want unsubscribed, the old consent", got.Status, got.Consent)
	}
	msgs := h.mailer.messages()
	if len(msgs) != 1 {
		t.Fatalf("mails = %+v", msgs)
	}
	confirmPath := strings.TrimPrefix(linkRE.FindString(msgs[0].Text), h.ts.URL)

	h.clock.Advance(3 * time.Minute)
	resp, body = b.post(confirmPath, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	got := h.reload(sub)
	c := got.Consent
	if got.Status != store.Active || c.Source != "form" || c.IP != "127.0.0.1" || !c.At.Equal(h.clock.Now()) ||
		!strings.Contains(c.Text, "J’accepte de recevoir la lettre d’information de MICS 34") {
		t.Errorf("after confirming: %s, %+v; want active, with the form's consent given now from 127.0.0.1", got.Status, c)
	}
	ev := h.events(sub)
	if last := ev[len(ev)-1]; last.Status != store.Active || !strings.Contains(last.Detail, "confirmed from 127.0.0.1") {
		t.Errorf("last event %+v, want the confirmation", last)
	}
}

func TestSubscribeHostileAndBots(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	b := h.browser()

	post := func(form url.Values) (*http.Response, string) {
		h.t.Helper()
		return b.post("/subscribe", form)
	}
	// Too fast: a bot fills the form the moment it loads.
	_, page := b.get("/subscribe")
	tok := formRE.FindStringSubmatch(page)[1]
	resp, body := post(url.Values{"form": {tok}, "email": {"bot@example.org"}, "consent": {"1"}, "list": {part.UUID.String()}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	// No token, a forged one.
	for _, bad := range []string{"", "deadbeef", tok[:len(tok)-2] + "00"} {
		resp, body = post(url.Values{"form": {bad}, "email": {"bot@example.org"}, "consent": {"1"}, "list": {part.UUID.String()}})
		wantStatus(t, resp, body, http.StatusBadRequest)
	}
	// The honeypot: the page thanks the bot, nothing is stored or sent.
	form := h.subscribeForm(b, "/subscribe")
	form.Set("email", "honey@example.org")
	form.Set("website", "http://spam.example")
	form.Set("list", part.UUID.String())
	resp, body = post(form)
	wantStatus(t, resp, body, http.StatusOK)
	// Bad address, no consent, no list, a private list.
	for _, c := range []struct {
		set  map[string]string
		code int
	}{
		{map[string]string{"email": "not an address"}, http.StatusUnprocessableEntity},
		{map[string]string{"email": "a@b@c.fr"}, http.StatusUnprocessableEntity},
		{map[string]string{"email": "ok@example.org", "consent": ""}, http.StatusUnprocessableEntity},
		{map[string]string{"email": "ok@example.org", "list": uuid.NewString()}, http.StatusUnprocessableEntity},
	} {
		form := h.subscribeForm(b, "/subscribe")
		form.Set("list", part.UUID.String())
		for k, v := range c.set {
			form.Set(k, v)
		}
		resp, body := post(form)
		wantStatus(t, resp, body, c.code)
		if strings.Contains(body, "<script") {
			t.Error("form echoes a script")
		}
	}
	n, _ := h.st.CountSubscribers(context.Background(), store.SubscriberFilter{})
	if n != 0 || len(h.mailer.messages()) != 0 {
		t.Errorf("%d subscribers, %d mails after refused posts; want none", n, len(h.mailer.messages()))
	}
	// A script in a name is stored as text and comes out escaped.
	form = h.subscribeForm(b, "/subscribe")
	form.Set("email", "xss@example.org")
	form.Set("first_name", `<img src=x onerror=alert(1)>`)
	form.Set("list", part.UUID.String())
	resp, body = post(form)
	wantStatus(t, resp, body, http.StatusOK)
	sub, err := h.st.SubscriberByEmail(context.Background(), "xss@example.org")
	if err != nil || sub.FirstName != `<img src=x onerror=alert(1)>` {
		t.Fatalf("stored %+v, %v", sub, err)
	}
	a := h.user("admin@example.org", store.RoleAdmin)
	for _, p := range []string{"/admin/subscribers", "/admin/subscribers/" + sub.UUID.String()} {
		_, body := a.get(p)
		if strings.Contains(body, "<img src=x") {
			t.Errorf("%s prints the name unescaped", p)
		}
		wantContains(t, body, "&lt;img src=x onerror=alert(1)&gt;")
	}
	// Per-IP limit: five posts pass, the next ones wait.
	var limited bool
	for i := range 8 {
		form := h.subscribeForm(b, "/subscribe")
		form.Set("email", "rate"+string(rune('a'+i))+"@example.org")
		form.Set("list", part.UUID.String())
		resp, _ := post(form)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("no rate limit after many posts from one IP")
	}
}

func TestSubscribeEmbedAndSnippet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	b := h.browser()
	form := h.subscribeForm(b, "/subscribe/embed")
	form.Set("embed", "1")
	form.Set("email", "embed@example.org")
	form.Set("list", part.UUID.String())
	resp, body := b.postRaw("/subscribe", "application/x-www-form-urlencoded", form.Encode(), "https://mics34.example.org")
	wantStatus(t, resp, body, http.StatusOK)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://mics34.example.org") {
		t.Errorf("embed answer CSP = %q", csp)
	}
	// The plain HTML form pasted in the organisation's site posts from
	// there, with the long-lived snippet token: the post is shown again
	// here, filled in, and taken when sent from this page.
	snippet := url.Values{"form": {h.srv.snippetToken()}, "email": {"snippet@example.org"}, "consent": {"1"}, "list": {part.UUID.String()}}
	resp, body = b.postRaw("/subscribe", "application/x-www-form-urlencoded", snippet.Encode(), "https://mics34.example.org")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `value="snippet@example.org"`, "Vérifiez vos informations")
	h.clock.Advance(5 * time.Second)
	snippet.Set("form", formRE.FindStringSubmatch(body)[1])
	resp, body = b.post("/subscribe", snippet)
	wantStatus(t, resp, body, http.StatusOK)
	for _, e := range []string{"embed@example.org", "snippet@example.org"} {
		sub, err := h.st.SubscriberByEmail(context.Background(), e)
		if err != nil || sub.Status != store.Pending {
			t.Errorf("%s: %+v, %v", e, sub, err)
		}
	}
}

// An unsubscribed address may come back through the confirmation mailed to
// it; an erased one gets nothing and stays erased (more cases in
// TestSubscribeRefusesSuppressed).
func TestSubscribeSuppressedAndErased(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	part := h.list("Partenaires", true)
	h.subscriber("left@example.org", store.Unsubscribed, "Partenaires")
	erased := h.subscriber("erased@example.org", store.Active, "Partenaires")
	if err := h.st.EraseSubscriber(context.Background(), erased.Email); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	for _, email := range []string{"left@example.org", "erased@example.org"} {
		form := h.subscribeForm(b, "/subscribe")
		form.Set("email", email)
		form.Set("list", part.UUID.String())
		resp, body := b.post("/subscribe", form)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, "Vérifiez votre boîte de réception")
	}
	if sub, err := h.st.SubscriberByEmail(context.Background(), "left@example.org"); err != nil || sub.Status != store.Unsubscribed {
		t.Errorf("left@: %+v, %v before confirmation, want unsubscribed", sub, err)
	}
	if _, err := h.st.SubscriberByEmail(context.Background(), "erased@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erased@ has a row again: %v", err)
	}
	if gone, _ := h.st.IsErased(context.Background(), "erased@example.org"); !gone {
		t.Error("the erasure record of erased@ was removed")
	}
	msgs := h.mailer.messages()
	if len(msgs) != 1 || msgs[0].To.Addr != "left@example.org" {
		t.Fatalf("mails = %+v, want one, to left@example.org", msgs)
	}
	link := strings.TrimPrefix(linkRE.FindString(msgs[0].Text), h.ts.URL)
	resp, body := b.post(link, url.Values{"confirm": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if sub, _ := h.st.SubscriberByEmail(context.Background(), "left@example.org"); sub.Status != store.Active {
		t.Errorf("left@: after confirming, %s", sub.Status)
	}
}

func TestSubscribeClosedAndMailFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config, o *Options) { o.Mailer = nil })
	h.list("Partenaires", true)
	_, body := h.browser().get("/subscribe")
	wantContains(t, body, "Les inscriptions ne sont pas ouvertes")

	h2 := newHarness(t)
	part := h2.list("Partenaires", true)
	h2.mailer.err = &mailError{}
	b := h2.browser()
	form := h2.subscribeForm(b, "/subscribe")
	form.Set("email", "a@example.org")
	form.Set("list", part.UUID.String())
	resp, body := b.post("/subscribe", form)
	wantStatus(t, resp, body, http.StatusServiceUnavailable)
}

type mailError struct{}

func (*mailError) Error() string { return "relay down" }

func TestEnglishFromAcceptLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.subscriber("a@example.org", store.Active)
	b := h.browser()
	b.header.Set("Accept-Language", "en-GB,en;q=0.9,fr;q=0.5")
	resp, body := b.get(h.unsubPath(sub, uuid.Nil))
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `lang="en"`, "Unsubscribe me")
	if resp.Header.Get("Content-Language") != "en" {
		t.Errorf("Content-Language = %q", resp.Header.Get("Content-Language"))
	}
	b.header.Set("Accept-Language", "de-DE,de;q=0.9")
	_, body = b.get(h.unsubPath(sub, uuid.Nil))
	wantContains(t, body, `lang="fr"`, "Me désabonner")
}

func TestMedia(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(cfg *config.Config, _ *Options) {
		cfg.Organisation.LogoURL = links.MediaURL(cfg.Server.PublicURL, "lettre-10", "logo-org.png")
	})
	root := t.TempDir()
	dir := filepath.Join(root, "edition")
	os.MkdirAll(filepath.Join(dir, "images"), 0o755)
	os.WriteFile(filepath.Join(dir, "images", "logo.png"), []byte("\x89PNG\r\n\x1a\nfake"), 0o644)
	os.WriteFile(filepath.Join(dir, "edition.md"), []byte("---\ntitle: secret draft\n---"), 0o644)
	os.WriteFile(filepath.Join(dir, "page.html"), []byte("<script>alert(1)</script>"), 0o644)
	os.WriteFile(filepath.Join(root, "secret.png"), []byte("outside"), 0o644)
	os.Symlink(filepath.Join(root, "secret.png"), filepath.Join(dir, "escape.png"))
	// Files left beside the edition that it does not show stay private.
	os.WriteFile(filepath.Join(dir, "images", "brouillon.png"), []byte("\x89PNG\r\n\x1a\ndraft"), 0o644)
	os.WriteFile(filepath.Join(dir, "images", "ancien.png"), []byte("\x89PNG\r\n\x1a\nold"), 0o644)
	os.WriteFile(filepath.Join(dir, "compte-rendu.pdf"), []byte("%PDF-1.4 private"), 0o644)
	front := "---\ntitle: Lettre 10\nsubject: Lettre 10\ndate: 2026-01-15\n---\n\n"
	ctx := context.Background()
	ed := &store.Edition{Slug: "lettre-10", Title: "Lettre 10", Dir: dir,
		Source: front + "![Ancien logo](images/ancien.png)\n\n::: image src=\"escape.png\" alt=\"x\"\n:::\n"}
	if _, err := h.st.SaveEdition(ctx, ed); err != nil {
		t.Fatal(err)
	}
	// A campaign sent with this version froze its source: its readers
	// keep seeing images/ancien.png after the edition changes.
	c := &store.Campaign{Name: "Lettre 10", EditionID: ed.ID, Subject: "Lettre 10", From: "MICS 34 <lettre@example.org>", ListIDs: []int64{h.list("Partenaires", false).ID}}
	if err := h.st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	h.exec("UPDATE campaigns SET content = $1 WHERE id = $2", ed.Source, c.ID)
	ed.Source = front + "::: image src=\"images/logo.png\" alt=\"Logo\"\n:::\n\n::: image src=\"escape.png\" alt=\"x\"\n:::\n"
	if _, err := h.st.SaveEdition(ctx, ed); err != nil {
		t.Fatal(err)
	}
	// The organisation's logo may sit next to the edition too.
	os.WriteFile(filepath.Join(dir, "logo-org.png"), []byte("\x89PNG\r\n\x1a\nlogo"), 0o644)
	b := h.browser()
	for _, p := range []string{"/media/lettre-10/images/logo.png", "/media/lettre-10/images/ancien.png", "/media/lettre-10/logo-org.png"} {
		resp, body := b.get(p)
		wantStatus(t, resp, body, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
	}
	for _, p := range []string{
		"/media/lettre-10/images/brouillon.png",
		"/media/lettre-10/compte-rendu.pdf",
		"/media/lettre-10/edition.md",
		"/media/lettre-10/page.html",
		"/media/lettre-10/escape.png",
		"/media/lettre-10/../secret.png",
		"/media/lettre-10/..%2fsecret.png",
		"/media/lettre-10/images/..%2f..%2fsecret.png",
		"/media/lettre-10/%2e%2e/secret.png",
		"/media/other/images/logo.png",
		"/media/lettre-10/images/missing.png",
		"/media/lettre-10/images",
	} {
		resp, body := b.get(p)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("GET %s: 200, want refused: %q", p, body)
		}
	}
}

func TestStaticServesFilesOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	resp, body := b.get("/static/admin.css")
	wantStatus(t, resp, body, http.StatusOK)
	// The test browser does not follow redirects: "/static" and "/static/./"
	// are sent to "/static/" by the router, which is then refused.
	for _, p := range []string{"/static/", "/static", "/static/vendor/", "/static/./", "/static/missing.css", "/static//"} {
		resp, body := b.get(p)
		redirected := resp.StatusCode/100 == 3 && resp.Header.Get("Location") == "/static/"
		if resp.StatusCode != http.StatusNotFound && !redirected {
			t.Errorf("GET %s: %d, want 404: %.200q", p, resp.StatusCode, body)
		}
		if strings.Contains(body, "admin.css") {
			t.Errorf("GET %s lists the folder: %.200q", p, body)
		}
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config, _ *Options) { c.SMTP.Host = "smtp.example.org" })
	h.health["relay"] = func(context.Context) error { return nil }
	h.health["mailbox"] = func(context.Context) error { return &mailError{} }
	resp, body := h.browser().get("/healthz")
	wantStatus(t, resp, body, http.StatusOK)
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"store": "ok", "relay": "ok", "mailbox": "relay down", "status": "degraded"}
	if !maps.Equal(got, want) {
		t.Errorf("healthz = %v, want %v", got, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// flipHex changes the hex digit at i of s.
func flipHex(s string, i int) string {
	c := byte('0')
	if s[i] == '0' {
		c = '1'
	}
	return s[:i] + string(c) + s[i+1:]
}
