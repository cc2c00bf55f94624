package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

const ownerPassword = "correct horse battery"

// behindProxy makes the daemon read the client's address from
// X-Forwarded-For, so that a test can post from several networks.
func behindProxy(c *config.Config, _ *Options) { c.Server.BehindProxy = true }

// from returns a fresh browser posting from the address ip.
func (h *harness) from(ip string) *browser {
	b := h.browser()
	b.header.Set("X-Forwarded-For", ip)
	return b
}

func (h *harness) account(email string) {
	h.t.Helper()
	if err := h.st.CreateUser(context.Background(), &store.User{Email: email, Role: store.RoleAdmin}, ownerPassword); err != nil {
		h.t.Fatal(err)
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLoginKnownBrowserGetsInDuringAnAttack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)
	h.account("owner@example.org")
	h.account("other@example.org")
	owner := h.from("203.0.113.5")
	owner.login("owner@example.org", ownerPassword, http.StatusSeeOther)
	resp, body := owner.post("/admin/logout", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)

	// 50 wrong passwords from one address: the account is held back for
	// unknown browsers after 5.
	attacker := h.from("198.51.100.7")
	codes := map[int]int{}
	for i := range 50 {
		resp, _ := attacker.login("owner@example.org", "wrong password "+strconv.Itoa(i), 0)
		codes[resp.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 45 {
		t.Errorf("50 wrong passwords: %v, want 5×401 then 45×429", codes)
	}
	// A browser that never logged into this account waits, right password
	// or not, from anywhere; it is told how long.
	stranger := h.from("192.0.2.9")
	resp, body = stranger.login("owner@example.org", ownerPassword, 0)
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, "Trop de tentatives. Réessayez dans 5\u00a0minutes.")
	if got := resp.Header.Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After = %q, want 300", got)
	}
	// A device cookie of another account is no key to this one.
	other := h.from("192.0.2.10")
	other.login("other@example.org", ownerPassword, http.StatusSeeOther)
	other.post("/admin/logout", nil)
	resp, body = other.login("owner@example.org", ownerPassword, 0)
	wantStatus(t, resp, body, http.StatusTooManyRequests)

	// The owner's browser has its own budget: a typo is just a typo, and
	// the right password gets in, even from the attacker's network.
	owner.header.Set("X-Forwarded-For", "198.51.100.7")
	resp, body = owner.login("owner@example.org", "typo in password", 0)
	wantStatus(t, resp, body, http.StatusUnauthorized)
	owner.login("owner@example.org", ownerPassword, http.StatusSeeOther)
	resp, body = owner.get("/admin/")
	wantStatus(t, resp, body, http.StatusOK)

	// Once the attack stops, unknown browsers get in again.
	h.clock.Advance(10 * time.Minute)
	stranger.login("owner@example.org", ownerPassword, http.StatusSeeOther)
}

func TestLoginLimitPerNetwork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)
	// A small budget: each try costs a bcrypt comparison.
	h.srv.loginIP.limit.Burst = 3
	// spray tries n unknown accounts (so that no account limit applies)
	// and returns the status codes.
	n := 0
	spray := func(b *browser, tries int) map[int]int {
		codes := map[int]int{}
		for range tries {
			n++
			resp, _ := b.login("nobody"+strconv.Itoa(n)+"@example.org", "whatever password", 0)
			codes[resp.StatusCode]++
		}
		return codes
	}
	for _, c := range []struct {
		name        string
		first, same string // the attacker, and another address of its network
		other       string // the next network
	}{
		{"IPv6 by /64", "2001:db8:1:1::1", "2001:db8:1:1:ffff:ffff:ffff:fffe", "2001:db8:1:2::1"},
		{"IPv4 by address", "198.51.100.7", "198.51.100.7", "198.51.100.8"},
	} {
		if got := spray(h.from(c.first), 4); got[http.StatusUnauthorized] != 3 || got[http.StatusTooManyRequests] != 1 {
			t.Errorf("%s: 4 failures from %s: %v, want 3×401 then 429", c.name, c.first, got)
		}
		if got := spray(h.from(c.same), 1); got[http.StatusTooManyRequests] != 1 {
			t.Errorf("%s: %s, same network as %s: %v, want 429", c.name, c.same, c.first, got)
		}
		// The next range has a budget of its own, and is held back on its own.
		if got := spray(h.from(c.other), 4); got[http.StatusUnauthorized] != 3 || got[http.StatusTooManyRequests] != 1 {
			t.Errorf("%s: 4 failures from %s: %v, want 3×401 then 429", c.name, c.other, got)
		}
	}
	for ip, want := range map[string]string{
		"2001:db8:1:1::1":  "2001:db8:1:1::/64",
		"::ffff:192.0.2.1": "192.0.2.1",
		"192.0.2.1":        "192.0.2.1",
		"fe80::1%eth0":     "fe80::/64",
		"not an address":   "not an address",
	} {
		if got := loginNetwork(ip); got != want {
			t.Errorf("loginNetwork(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestLoginFromANewBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.account("a@example.org")
	// No attack: the right password gets in from a browser never seen,
	// which is known from then on.
	resp, _ := h.browser().login("a@example.org", ownerPassword, http.StatusSeeOther)
	c := cookieNamed(resp, "bulletin_device")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != 365*24*3600 {
		t.Fatalf("device cookie %+v: want HttpOnly, SameSite=Strict, Path=/, a year", c)
	}
	// Over https it is Secure and __Host-.
	h.srv.https = true
	rec := &headerRecorder{h: http.Header{}}
	u, err := h.st.UserByEmail(context.Background(), "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	h.srv.setDeviceCookie(rec, u, "")
	if sc := rec.h.Get("Set-Cookie"); !strings.HasPrefix(sc, "__Host-bulletin_device=") || !strings.Contains(sc, "Secure") {
		t.Errorf("https device cookie = %q", sc)
	}
}

func TestPasswordChangeRevokesDevices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.account("owner@example.org")
	changer, laptop := h.browser(), h.browser()
	changer.login("owner@example.org", ownerPassword, http.StatusSeeOther)
	laptop.login("owner@example.org", ownerPassword, http.StatusSeeOther)
	laptop.post("/admin/logout", nil)
	attacker := h.browser()
	for range 5 {
		attacker.login("owner@example.org", "wrong password!", http.StatusUnauthorized)
	}
	attacker.login("owner@example.org", ownerPassword, http.StatusTooManyRequests)
	// Both browsers are known.
	laptop.login("owner@example.org", ownerPassword, http.StatusSeeOther)
	laptop.post("/admin/logout", nil)

	resp, body := changer.post("/admin/account/password", url.Values{"current": {ownerPassword}, "new": {"new long password"}, "repeat": {"new long password"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	// The laptop's cookie was revoked: it is an unknown browser now, and
	// waits like any other while the account is held back.
	resp, body = laptop.login("owner@example.org", "new long password", 0)
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	// The browser that changed the password stays known.
	changer.login("owner@example.org", "new long password", http.StatusSeeOther)
}

func TestPasswordChangeLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("a@example.org", store.RoleAdmin)
	change := url.Values{"current": {ownerPassword}, "new": {"new long password"}, "repeat": {"new long password"}}
	for i := range 5 {
		resp, body := a.post("/admin/account/password", url.Values{"current": {"guess " + strconv.Itoa(i)}, "new": {"new long password"}, "repeat": {"new long password"}})
		wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	}
	// The right current password waits too, so that guessing cannot go on.
	resp, body := a.post("/admin/account/password", change)
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	wantContains(t, body, "Trop de tentatives. Réessayez dans 5\u00a0minutes.")
	if _, err := h.st.Authenticate(context.Background(), "a@example.org", ownerPassword); err != nil {
		t.Fatalf("the password changed while limited: %v", err)
	}
	// A session used to guess does not lock the owner out of the login.
	h.browser().login("a@example.org", ownerPassword, http.StatusSeeOther)
	h.clock.Advance(5 * time.Minute)
	resp, body = a.post("/admin/account/password", change)
	wantStatus(t, resp, body, http.StatusSeeOther)
}

func TestLoginRefusesOriginNull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.account("a@example.org")
	b := h.browser()
	resp, page := b.get("/admin/login")
	// Under no-referrer, browsers would post this form with Origin: null.
	if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("login page Referrer-Policy = %q, want same-origin", got)
	}
	form := url.Values{"form": {formRE.FindStringSubmatch(page)[1]}, "email": {"a@example.org"}, "password": {ownerPassword}, "next": {"/admin/"}}
	resp, body := b.postRaw("/admin/login", "application/x-www-form-urlencoded", form.Encode(), "null")
	wantStatus(t, resp, body, http.StatusForbidden)
	if cookieNamed(resp, "bulletin_session") != nil {
		t.Error("a session was opened for Origin: null")
	}
	resp, body = b.get("/admin/")
	wantStatus(t, resp, body, http.StatusSeeOther)
	// The same form from the page itself gets in.
	resp, body = b.postRaw("/admin/login", "application/x-www-form-urlencoded", form.Encode(), h.ts.URL)
	wantStatus(t, resp, body, http.StatusSeeOther)
}

// TestLoginInChromium logs in with a real browser: it must send the login
// page's origin (not "null") and bring its device cookie back (SameSite=
// Strict), so that it gets in while an attack holds the account back.
func TestLoginInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := Chrome(t)
	h := newHarness(t)
	h.account("owner@example.org")
	BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "owner@example.org", ownerPassword)
	attacker := h.browser()
	for range 10 {
		attacker.login("owner@example.org", "wrong password!", 0)
	}
	attacker.login("owner@example.org", ownerPassword, http.StatusTooManyRequests)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx,
		chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	); err != nil {
		t.Fatalf("logout: %v", err)
	}
	BrowserLogin(t, ctx, h.ts.URL+"/admin/login", "owner@example.org", ownerPassword) // during the attack
}

// TestLoginParallelTries sends 20 wrong passwords at once: no more get
// checked than the account's budget, however many are in flight.
func TestLoginParallelTries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.account("owner@example.org")
	_, page := h.browser().get("/admin/login")
	form := url.Values{"form": {formRE.FindStringSubmatch(page)[1]}, "email": {"owner@example.org"}, "password": {"wrong password!"}}
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/admin/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", h.ts.URL)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 15 {
		t.Errorf("20 parallel wrong passwords: %v, want 5×401 and 15×429", got)
	}
}
