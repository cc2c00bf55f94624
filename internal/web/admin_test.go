package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

func TestLoginRequiredAndNoOpenRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	for _, p := range []string{"/admin/", "/admin/lists", "/admin/subscribers?q=x", "/admin/settings", "/admin/nowhere"} {
		resp, body := b.get(p)
		wantStatus(t, resp, body, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/admin/login?next=") {
			t.Errorf("GET %s → %q, want the login page", p, loc)
		}
	}
	// A POST without a session changes nothing and goes to the login page.
	resp, body := b.post("/admin/lists", url.Values{"name": {"X"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if lists, _ := h.st.Lists(context.Background()); len(lists) != 0 {
		t.Error("a list was created without a session")
	}

	if err := h.st.CreateUser(context.Background(), &store.User{Email: "a@example.org", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	// Through the real login: a path of the console is kept, another
	// site is not (the full table is TestSafeNext).
	for next, want := range map[string]string{
		"/admin/lists?x=1":      "/admin/lists?x=1",
		"//evil.example/admin/": "/admin/",
	} {
		b := h.browser()
		_, page := b.get("/admin/login?next=" + url.QueryEscape(next))
		tok := formRE.FindStringSubmatch(page)[1]
		resp, body := b.post("/admin/login", url.Values{"form": {tok}, "email": {"a@example.org"}, "password": {"correct horse battery"}, "next": {next}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, loc, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/admin/lists?x=1":          "/admin/lists?x=1",
		"/admin/":                   "/admin/",
		"":                          "/admin/",
		"https://evil.example/":     "/admin/",
		"//evil.example/admin/":     "/admin/",
		"/\\evil.example":           "/admin/",
		"/admin/\\evil.example":     "/admin/",
		"/admin/../u/x":             "/admin/",
		"/admin/..":                 "/admin/",
		"javascript:alert(1)":       "/admin/",
		"/admin/\r\nSet-Cookie:x":   "/admin/",
		"/admin/%0d%0aSet-Cookie:x": "/admin/%0d%0aSet-Cookie:x",
		"/subscribe":                "/admin/",
		"https://127.0.0.1/admin/x": "/admin/",
		"/admin@evil.example":       "/admin/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.st.CreateUser(context.Background(), &store.User{Email: "a@example.org", Role: store.RoleEditor}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	resp, _ := b.login("a@example.org", "correct horse battery", http.StatusSeeOther)
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "bulletin_session" {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) < 40 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
	}
	// Over https the cookie is Secure and __Host-.
	h2 := newHarness(t)
	h2.srv.https = true
	rec := &headerRecorder{h: http.Header{}}
	h2.srv.setSessionCookie(rec, "v", h2.clock.Now())
	sc := rec.h.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-bulletin_session=v") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") || strings.Contains(sc, "Domain") {
		t.Errorf("https cookie = %q", sc)
	}
	// Logout ends the session server-side: the old cookie is worthless.
	resp, body := b.post("/admin/logout", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	stolen := h.browser()
	stolen.c.Jar.SetCookies(resp.Request.URL, []*http.Cookie{{Name: "bulletin_session", Value: c.Value}})
	resp, body = stolen.get("/admin/")
	wantStatus(t, resp, body, http.StatusSeeOther)
}

type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(int)             {}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.st.CreateUser(context.Background(), &store.User{Email: "a@example.org", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	codes := map[int]int{}
	for range 6 {
		resp, _ := b.login("a@example.org", "wrong password!", 0)
		codes[resp.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 1 {
		t.Errorf("six wrong passwords: %v, want 5×401 then 429", codes)
	}
	// The right password is refused too while the account is held back,
	// from a browser that never logged into it (no device cookie: see
	// login_test.go), so that guessing cannot go on; it works again after
	// a while.
	resp, _ := b.login("a@example.org", "correct horse battery", 0)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while blocked: %d, want 429", resp.StatusCode)
	}
	h.clock.Advance(10 * 60 * 1e9)
	b.login("a@example.org", "correct horse battery", http.StatusSeeOther)

	// Per IP: many accounts from one address are held back too (a small
	// bucket here, as each try costs a bcrypt comparison).
	h2 := newHarness(t)
	h2.srv.loginIP.limit.Burst = 3
	b2 := h2.browser()
	var limited bool
	for i := range 5 {
		resp, _ := b2.login("user"+string(rune('a'+i))+"@example.org", "whatever password", 0)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Error("no per-IP login limit")
	}
	// A login form from another site is refused (login CSRF).
	b3 := h2.browser()
	_, page := b3.get("/admin/login")
	tok := formRE.FindStringSubmatch(page)[1]
	form := url.Values{"form": {tok}, "email": {"a@example.org"}, "password": {"x"}}
	resp, body := b3.postRaw("/admin/login", "application/x-www-form-urlencoded", form.Encode(), "https://evil.example")
	wantStatus(t, resp, body, http.StatusForbidden)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	editor := h.user("editor@example.org", store.RoleEditor)
	admin := h.user("admin@example.org", store.RoleAdmin)
	sub := h.subscriber("x@example.org", store.Active)
	adminOnly := []string{"/admin/settings", "/admin/users"}
	for _, p := range adminOnly {
		resp, body := editor.get(p)
		wantStatus(t, resp, body, http.StatusForbidden)
		resp, body = admin.get(p)
		wantStatus(t, resp, body, http.StatusOK)
	}
	_, dash := editor.get("/admin/")
	if strings.Contains(dash, `href="/admin/settings"`) || strings.Contains(dash, `href="/admin/users"`) {
		t.Error("the editor's menu shows admin pages")
	}
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/admin/users", url.Values{"email": {"new@example.org"}, "role": {"admin"}, "password": {"long enough password"}}},
		{"/admin/tokens", url.Values{"name": {"t"}, "role": {"admin"}}},
		{"/admin/subscribers/" + sub.UUID.String() + "/erase", url.Values{"confirm_email": {sub.Email}}},
	} {
		resp, body := editor.post(p.path, p.form)
		wantStatus(t, resp, body, http.StatusForbidden)
	}
	users, _ := h.st.Users(context.Background())
	tokens, _ := h.st.APITokens(context.Background())
	if len(users) != 2 || len(tokens) != 0 {
		t.Errorf("the editor changed accounts: %d users, %d tokens", len(users), len(tokens))
	}
	if _, err := h.st.SubscriberByID(context.Background(), sub.ID); err != nil {
		t.Errorf("the editor erased a subscriber: %v", err)
	}
	// The admin can.
	resp, body := admin.post("/admin/users", url.Values{"email": {"new@example.org"}, "role": {"editor"}, "password": {"long enough password"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = admin.post("/admin/tokens", url.Values{"name": {"site"}, "role": {"editor"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, store.APITokenPrefix)
	resp, body = admin.post("/admin/subscribers/"+sub.UUID.String()+"/erase", url.Values{"confirm_email": {sub.Email}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if erased, _ := h.st.IsErased(context.Background(), sub.Email); !erased {
		t.Error("not erased")
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("admin@example.org", store.RoleAdmin)
	good := a.csrf
	// A token one character off: tokens are base64url, so one starting
	// with "x" (one in 64) gets a "y".
	wrong := "x" + good[1:]
	if good[0] == 'x' {
		wrong = "y" + good[1:]
	}
	for _, c := range []struct {
		name   string
		csrf   string
		origin string
	}{
		{"no token", "", h.ts.URL},
		{"wrong token", wrong, h.ts.URL},
		{"another site", good, "https://evil.example"},
		{"null origin", "", "null"},
	} {
		form := url.Values{"name": {"Liste " + c.name}, "csrf": {c.csrf}}
		resp, body := a.postRaw("/admin/lists", "application/x-www-form-urlencoded", form.Encode(), c.origin)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403\n%s", c.name, resp.StatusCode, body)
		}
	}
	// Another user's token does not work either.
	other := h.user("other@example.org", store.RoleAdmin)
	form := url.Values{"name": {"Liste volée"}, "csrf": {other.csrf}}
	resp, _ := a.postRaw("/admin/lists", "application/x-www-form-urlencoded", form.Encode(), h.ts.URL)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d", resp.StatusCode)
	}
	if lists, _ := h.st.Lists(context.Background()); len(lists) != 0 {
		t.Errorf("lists created without a valid token: %d", len(lists))
	}
	resp, body := a.post("/admin/lists", url.Values{"name": {"Partenaires"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	// Logout needs the token too.
	resp, _ = a.postRaw("/admin/logout", "application/x-www-form-urlencoded", "", h.ts.URL)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without token: %d", resp.StatusCode)
	}
}

func TestAdminPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("admin@example.org", store.RoleAdmin)
	l := h.list("Partenaires", true)
	sub := h.subscriber("jean@example.org", store.Active, "Partenaires")
	h.campaign("Lettre n° 10")
	for _, p := range []struct{ path, want string }{
		{"/admin/", "Tableau de bord"},
		{"/admin/lists", "Partenaires"},
		{"/admin/lists/" + l.UUID.String(), "Supprimer la liste"},
		{"/admin/subscribers", "jean@example.org"},
		{"/admin/subscribers?status=active&list=Partenaires&q=jean&page=9", "jean@example.org"},
		{"/admin/subscribers/new", "Nouvel abonné"},
		{"/admin/subscribers/" + sub.UUID.String(), "Historique"},
		{"/admin/import", "Importer un fichier CSV"},
		{"/admin/form", "/subscribe/embed"},
		{"/admin/reports", "Rapports"},
		{"/admin/editions", "Nouvelle édition"},
		{"/admin/campaigns", "Lettre n° 10"},
		{"/admin/campaigns/new", "Nouvelle campagne"},
		{"/admin/account", "Changer de mot de passe"},
		{"/admin/settings", "server.public_url"},
		{"/admin/users", "admin@example.org"},
	} {
		resp, body := a.get(p.path)
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, p.want)
	}
	for _, p := range []string{"/admin/nowhere", "/admin/lists/not-a-uuid", "/admin/lists/" + sub.UUID.String(), "/admin/subscribers/" + l.UUID.String()} {
		resp, body := a.get(p)
		wantStatus(t, resp, body, http.StatusNotFound)
	}
}

func TestAdminListsAndSubscribers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("admin@example.org", store.RoleAdmin)
	ctx := context.Background()

	resp, body := a.post("/admin/lists", url.Values{"name": {`<b>Partenaires</b>`}, "description": {"x"}, "public": {"1"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = a.post("/admin/lists", url.Values{"name": {`<B>partenaires</B>`}})
	wantStatus(t, resp, body, http.StatusConflict)
	resp, body = a.post("/admin/lists", url.Values{"name": {"  "}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	_, body = a.get("/admin/lists")
	if strings.Contains(body, "<b>Partenaires</b>") {
		t.Error("list name printed unescaped")
	}
	l, err := h.st.ListByName(ctx, "<b>Partenaires</b>")
	if err != nil || !l.Public {
		t.Fatalf("list %+v, %v", l, err)
	}
	resp, body = a.post("/admin/lists/"+l.UUID.String(), url.Values{"name": {"Partenaires"}, "description": {"La lettre"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if l, _ = h.st.ListByUUID(ctx, l.UUID); l.Name != "Partenaires" || l.Public {
		t.Errorf("after edit: %+v", l)
	}

	// Add a subscriber by hand.
	resp, body = a.post("/admin/subscribers", url.Values{"email": {"Jean.Martin@Example.org"}, "first_name": {"Jean"},
		"list": {l.UUID.String()}, "attributes": {"ville = Sète\nsecteur = BTP"}, "consent": {"salon du 12 mars"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	sub, err := h.st.SubscriberByEmail(ctx, "jean.martin@example.org")
	if err != nil || sub.Status != store.Active || sub.Attributes["ville"] != "Sète" || sub.Consent.Source != "admin" || sub.Consent.Text != "salon du 12 mars" {
		t.Fatalf("added %+v, %v", sub, err)
	}
	resp, body = a.post("/admin/subscribers", url.Values{"email": {"jean.martin@example.org"}})
	wantStatus(t, resp, body, http.StatusConflict)
	resp, body = a.post("/admin/subscribers", url.Values{"email": {"x@example.org"}, "attributes": {"no equals sign"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "Ligne 1")
	// An erased address cannot come back through the console.
	h.subscriber("gone@example.org", store.Active)
	h.st.EraseSubscriber(ctx, "gone@example.org")
	resp, body = a.post("/admin/subscribers", url.Values{"email": {"gone@example.org"}})
	wantStatus(t, resp, body, http.StatusConflict)

	// Edit: names, attributes, lists.
	resp, body = a.post("/admin/subscribers/"+sub.UUID.String(), url.Values{"first_name": {"Jean-Pierre"}, "attributes": {"ville = Agde"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	sub, _ = h.st.SubscriberByID(ctx, sub.ID)
	lists, _ := h.st.SubscriberLists(ctx, sub.ID)
	if sub.FirstName != "Jean-Pierre" || len(sub.Attributes) != 1 || lists["Partenaires"] {
		t.Errorf("after edit: %+v, lists %v", sub, lists)
	}

	// Search: SQL-looking strings are plain text.
	for _, q := range []string{"' OR '1'='1", "%", "_", `"; DROP TABLE subscribers; --`, "jean' --"} {
		resp, body := a.get("/admin/subscribers?q=" + url.QueryEscape(q))
		wantStatus(t, resp, body, http.StatusOK)
		if strings.Contains(body, "jean.martin@example.org") {
			t.Errorf("search %q matched everyone", q)
		}
	}
	_, body = a.get("/admin/subscribers?q=martin")
	wantContains(t, body, "Jean.Martin@example.org")
	if n, _ := h.st.CountSubscribers(ctx, store.SubscriberFilter{}); n != 1 {
		t.Errorf("%d subscribers after hostile searches", n)
	}

	// Unsubscribe at the person's request; staff cannot lift it.
	resp, body = a.post("/admin/subscribers/"+sub.UUID.String()+"/unsubscribe", url.Values{"reason": {"téléphone"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := h.reload(sub).Status; got != store.Unsubscribed {
		t.Errorf("status %s", got)
	}
	_, body = a.get("/admin/subscribers/" + sub.UUID.String())
	if strings.Contains(body, "/unsubscribe\"") {
		t.Error("the unsubscribe form is still offered")
	}

	// Export.
	resp, body = a.get("/admin/subscribers/export?excel=1")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.HasPrefix(body, "\uFEFFemail;first_name") || !strings.Contains(body, "Jean.Martin@example.org;Jean-Pierre") {
		t.Errorf("export:\n%s", body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}

	// Erase needs the address typed again.
	resp, body = a.post("/admin/subscribers/"+sub.UUID.String()+"/erase", url.Values{"confirm_email": {"someone@else.org"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/subscribers/"+sub.UUID.String()+"/erase", url.Values{"confirm_email": {"jean.martin@example.org"}})
	wantStatus(t, resp, body, http.StatusSeeOther)

	// Delete the list.
	resp, body = a.post("/admin/lists/"+l.UUID.String()+"/delete", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)
	if _, err := h.st.ListByUUID(ctx, l.UUID); err == nil {
		t.Error("list not deleted")
	}
}

func TestAdminImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("editor@example.org", store.RoleEditor)
	h.subscriber("left@example.org", store.Unsubscribed)
	csv := "Email;Prénom;Nom\n" +
		"jean.martin@example.org;Jean;Martin\n" +
		"not-an-address;X;Y\n" +
		"left@example.org;Left;Out\n" +
		"<script>alert(1)</script>@x.fr;S;S\n" +
		"JEAN.MARTIN@example.org;Jean;Again\n"
	upload := func(form map[string]string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range form {
			mw.WriteField(k, v)
		}
		mw.WriteField("csrf", a.csrf)
		fw, _ := mw.CreateFormFile("file", "contacts.csv")
		fw.Write([]byte(csv))
		mw.Close()
		return a.postRaw("/admin/import", mw.FormDataContentType(), buf.String(), h.ts.URL)
	}
	resp, body := upload(map[string]string{"list": "", "new_list": "Partenaires", "dry_run": "1"})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "essai à blanc")
	if n, _ := h.st.CountSubscribers(context.Background(), store.SubscriberFilter{List: "Partenaires"}); n != 0 {
		t.Errorf("dry run added %d", n)
	}
	resp, body = upload(map[string]string{"list": "", "new_list": "Partenaires"})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="rejects"`, "not-an-address", "figure déjà ligne 2")
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Error("the report prints a rejected line unescaped")
	}
	sub, err := h.st.SubscriberByEmail(context.Background(), "jean.martin@example.org")
	if err != nil || sub.Status != store.Active {
		t.Fatalf("imported %+v, %v", sub, err)
	}
	left, _ := h.st.SubscriberByEmail(context.Background(), "left@example.org")
	if left.Status != store.Unsubscribed {
		t.Errorf("import reactivated an unsubscribed address: %s", left.Status)
	}
	// A multipart upload without the CSRF token is refused.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", "Partenaires")
	fw, _ := mw.CreateFormFile("file", "x.csv")
	fw.Write([]byte("email\nsneaky@example.org\n"))
	mw.Close()
	resp, _ = a.postRaw("/admin/import", mw.FormDataContentType(), buf.String(), h.ts.URL)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload without CSRF: %d", resp.StatusCode)
	}
	// No file, no list.
	resp, body = upload(map[string]string{})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
}

func TestUsersAndAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.user("admin@example.org", store.RoleAdmin)
	ctx := context.Background()
	resp, body := a.post("/admin/users", url.Values{"email": {"ed@example.org"}, "role": {"editor"}, "password": {"short"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/users", url.Values{"email": {"ed@example.org"}, "role": {"root"}, "password": {"long enough password"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/users", url.Values{"email": {"ed@example.org"}, "name": {"<i>Ed</i>"}, "role": {"editor"}, "password": {"long enough password"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	ed, err := h.st.UserByEmail(ctx, "ed@example.org")
	if err != nil {
		t.Fatal(err)
	}
	_, body = a.get("/admin/users")
	if strings.Contains(body, "<i>Ed</i>") {
		t.Error("user name unescaped")
	}
	me, _ := h.st.UserByEmail(ctx, "admin@example.org")
	resp, body = a.post("/admin/users/"+me.UUID.String()+"/role", url.Values{"role": {"editor"}})
	wantStatus(t, resp, body, http.StatusConflict) // the last admin
	resp, body = a.post("/admin/users/"+ed.UUID.String()+"/role", url.Values{"role": {"admin"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = a.post("/admin/users/"+ed.UUID.String()+"/delete", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)

	// Tokens: created once, shown once, revoked.
	resp, body = a.post("/admin/tokens", url.Values{"name": {"site"}, "role": {"editor"}})
	wantStatus(t, resp, body, http.StatusOK)
	_, body = a.get("/admin/users")
	if strings.Contains(body, `id="new-token"`) {
		t.Error("the token secret is shown again")
	}
	toks, _ := h.st.APITokens(ctx)
	resp, body = a.post("/admin/tokens/"+toks[0].UUID.String()+"/revoke", nil)
	wantStatus(t, resp, body, http.StatusSeeOther)

	// Own password.
	resp, body = a.post("/admin/account/password", url.Values{"current": {"wrong"}, "new": {"new long password"}, "repeat": {"new long password"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/account/password", url.Values{"current": {"correct horse battery"}, "new": {"new long password"}, "repeat": {"different"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	resp, body = a.post("/admin/account/password", url.Values{"current": {"correct horse battery"}, "new": {"new long password"}, "repeat": {"new long password"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, _ = a.get("/admin/")
	if resp.StatusCode != http.StatusSeeOther {
		t.Error("the session survived a password change")
	}
	h.browser().login("admin@example.org", "new long password", http.StatusSeeOther)
}

func TestSettingsMasksSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config, o *Options) {
		c.SMTP.Password = "hunter2-smtp"
		c.IMAP.Password = "hunter2-imap"
		c.Server.Secret = "a-very-long-signing-secret-0123456789"
	})
	a := h.user("admin@example.org", store.RoleAdmin)
	_, body := a.get("/admin/settings")
	for _, secret := range []string{"hunter2-smtp", "hunter2-imap", "a-very-long-signing-secret"} {
		if strings.Contains(body, secret) {
			t.Errorf("settings page shows %q", secret)
		}
	}
	wantContains(t, body, "smtp.password", "••••••••", "schedule.timezone", "Europe/Paris")
}
