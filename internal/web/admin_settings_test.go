package web

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"bulletin/internal/config"
	"bulletin/internal/settings"
	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// settingsForm returns the settings form as the page fills it, with the
// changes given.
func settingsForm(changes map[string]string) url.Values {
	f := url.Values{}
	for _, g := range settings.Groups {
		for _, key := range g.Keys {
			f.Set(key, "")
		}
	}
	d := config.Default()
	for _, g := range settings.Groups {
		for _, key := range g.Keys {
			if v, _ := d.Value(key); v != "" && v != "false" {
				f.Set(key, v)
			}
		}
	}
	for k, v := range changes {
		f.Set(k, v)
	}
	return f
}

func TestSettingsSaveAppliesToNextRender(t *testing.T) {
	h := newHarness(t)
	admin := h.user("admin@example.org", store.RoleAdmin)
	resp, body := admin.get("/admin/settings")
	wantStatus(t, resp, body, http.StatusOK)
	// MICS 34 is set by the test (not by a file): shown as the default.
	wantContains(t, body, `id="organisation-name"`, `value="MICS 34"`, "Par défaut",
		"Tester la connexion SMTP", "Tester la connexion IMAP", "Configuration du serveur")
	if strings.Contains(body, "environment BULLETIN") || strings.Contains(body, ">default<") {
		t.Errorf("settings page shows English origins:\n%s", body)
	}

	resp, body = admin.post("/admin/settings", settingsForm(map[string]string{
		"organisation.name": "Mission Clauses", "organisation.colour": "#8a2b06",
		"sending.from": "Mission Clauses <lettre@mics34.example.org>", "sending.rate": "2.5",
		"sending.quiet_hours": "20:00-08:00", "sending.quiet_weekends": "true",
		"organisation.logo_url": "https://cdn.example.net/mics/logo.png",
	}))
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/admin/settings?ok=settings_saved" {
		t.Errorf("Location = %q", loc)
	}

	// The next render uses the new values: the title, the theme, the form,
	// and the pages' CSP lets the logo's new site in.
	resp, body = admin.get("/admin/settings?ok=settings_saved")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.example.net;") {
		t.Errorf("CSP = %q, want the new logo's origin in img-src", csp)
	}
	wantContains(t, body, "<title>Paramètres · Mission Clauses</title>", "Les réglages sont enregistrés",
		`value="Mission Clauses"`, `value="2.5"`, `value="20:00-08:00"`, `name="sending.quiet_weekends" value="true" checked`,
		`<span class="badge console">Console</span>`)
	resp, body = admin.get("/theme.css")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "#8a2b06")
	cur := h.srv.conf()
	if cur.Sending.Rate != 2.5 || !cur.Sending.QuietWeekends || cur.Sending.From != "Mission Clauses <lettre@mics34.example.org>" {
		t.Errorf("settings in force = %+v", cur.Sending)
	}

	// Kept in the database: a restarted daemon reads them back.
	p, err := settings.Load(context.Background(), h.cfg, h.st)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Current().Organisation.Name; got != "Mission Clauses" {
		t.Errorf("after a restart, organisation.name = %q, want Mission Clauses", got)
	}
	if got := h.cfg.Organisation.Name; got != "MICS 34" {
		t.Errorf("the loaded configuration was changed: organisation.name = %q", got)
	}

	// Putting the file's value back takes the console's away.
	_, _ = admin.post("/admin/settings", settingsForm(map[string]string{"organisation.name": "MICS 34"}))
	p, err = settings.Load(context.Background(), h.cfg, h.st)
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Fields()["organisation.name"]; f.Origin != settings.Default || f.Value != "MICS 34" {
		t.Errorf("after going back, organisation.name = %+v, want the default MICS 34", f)
	}
}

func TestSettingsValidation(t *testing.T) {
	h := newHarness(t)
	admin := h.user("admin@example.org", store.RoleAdmin)
	admin.get("/admin/settings")
	resp, body := admin.post("/admin/settings", settingsForm(map[string]string{
		"organisation.name": "Nouveau nom", "organisation.colour": "bleu", "sending.from": "pas une adresse",
		"sending.rate": "-1", "sending.quiet_hours": "20h-8h", "sending.hourly_quota": "beaucoup",
	}))
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "Rien n’est enregistré",
		`id="organisation-colour-error">Écrivez une couleur comme #1d4e89.`,
		`id="sending-from-error">Indiquez une adresse électronique`,
		`id="sending-rate-error">Indiquez un nombre positif ou nul`,
		`id="sending-quiet_hours-error">Écrivez deux heures comme 20:00-08:00`,
		`id="sending-hourly_quota-error">Indiquez un nombre entier positif ou nul.`,
		`value="bleu"`, `aria-invalid="true"`)
	if strings.Contains(body, "organisation-name-error") {
		t.Errorf("a valid field is marked invalid")
	}
	// Nothing was kept, not even the valid name.
	if got := h.srv.conf().Organisation.Name; got != "MICS 34" {
		t.Errorf("organisation.name = %q after a refused save, want MICS 34", got)
	}
	if saved, err := h.st.Settings(context.Background(), "console:"); err != nil || len(saved) != 0 {
		t.Errorf("saved after a refused save: %v, %v", saved, err)
	}
}

func TestSettingsEnvironmentLocksAndFileOrigin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte("organisation:\n  name: Nom du fichier\n  colour: \"#123456\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *config.Config, o *Options) {
		loaded, err := config.Load(file, []string{"BULLETIN_ORGANISATION_NAME=Préfecture de l'Hérault", "BULLETIN_SMTP_PASSWORD=hunter2-secret"})
		if err != nil {
			t.Fatal(err)
		}
		loaded.Server.PublicURL, loaded.Store.Path = c.Server.PublicURL, c.Store.Path
		*c = loaded
	})
	admin := h.user("admin@example.org", store.RoleAdmin)
	_, body := admin.get("/admin/settings")
	wantContains(t, body, `id="organisation-name" name="organisation.name" value="Préfecture de l&#39;Hérault" readonly`,
		"Fixé par la variable BULLETIN_ORGANISATION_NAME", `<span class="badge file">Fichier</span> <code>`+file+`:3</code>`,
		"Environnement <code>BULLETIN_SMTP_PASSWORD</code>")
	if strings.Contains(body, "hunter2-secret") {
		t.Errorf("the page shows the SMTP password")
	}

	// The environment wins: a posted name is ignored, the colour is kept.
	resp, body := admin.post("/admin/settings", settingsForm(map[string]string{
		"organisation.name": "Autre nom", "organisation.colour": "#654321",
	}))
	wantStatus(t, resp, body, http.StatusSeeOther)
	cur := h.srv.conf()
	if cur.Organisation.Name != "Préfecture de l'Hérault" || cur.Organisation.Colour != "#654321" {
		t.Errorf("in force: name %q colour %q, want the environment's name and the console's colour", cur.Organisation.Name, cur.Organisation.Colour)
	}
}

func TestSettingsAdminOnly(t *testing.T) {
	h := newHarness(t)
	editor := h.user("editor@example.org", store.RoleEditor)
	for _, path := range []string{"/admin/settings", "/admin/settings/test/smtp"} {
		var resp *http.Response
		var body string
		if strings.Contains(path, "test") {
			resp, body = editor.post(path, nil)
		} else {
			resp, body = editor.get(path)
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s as editor: status %d, want 403", path, resp.StatusCode)
		}
		_ = body
	}
	admin := h.user("admin@example.org", store.RoleAdmin)
	admin.get("/admin/settings")
	resp, _ := admin.post("/admin/settings", url.Values{"csrf": {"forged"}, "organisation.name": {"X"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with a bad CSRF token: status %d, want 403", resp.StatusCode)
	}
}

func TestPageTitleOnce(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *Options) { c.Organisation.Name = "Bulletin" })
	admin := h.user("admin@example.org", store.RoleAdmin)
	_, body := admin.get("/admin/settings")
	wantContains(t, body, "<title>Paramètres · Bulletin</title>")
	if strings.Contains(body, "Bulletin · Bulletin") {
		t.Errorf("title repeats Bulletin")
	}
}

// logTo sends the web side's log to buf as well, to check what it holds.
func logTo(buf *bytes.Buffer) harnessOption {
	return func(_ *config.Config, o *Options) { o.Log = slog.New(slog.NewTextHandler(buf, nil)) }
}

func TestSettingsSMTPConnectionTest(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{Username: "bulletin", Password: "right-password"})
	test := func(password string) (string, string) {
		var logs bytes.Buffer
		h := newHarness(t, logTo(&logs), func(c *config.Config, _ *Options) {
			c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = relay.Host(), relay.Port(), "none"
			c.SMTP.Username, c.SMTP.Password = "bulletin", password
		})
		admin := h.user("admin@example.org", store.RoleAdmin)
		admin.get("/admin/settings")
		resp, body := admin.post("/admin/settings/test/smtp", nil)
		wantStatus(t, resp, body, http.StatusOK)
		return body, logs.String()
	}
	body, _ := test("right-password")
	wantContains(t, body, "Connexion SMTP réussie avec "+relay.Addr+" (EHLO, AUTH bulletin)\u202f; le relais répond\u00a0: «\u00a0Hello")

	body, logs := test("wrong-password") // as config.yaml would say after a typo
	wantContains(t, body, "Le relais "+relay.Addr+" refuse l’étape AUTH", "535", "5.7.8", "Authentication credentials invalid")
	if strings.Contains(body, "wrong-password") || strings.Contains(logs, "wrong-password") {
		t.Errorf("the password is in the page or the log:\n%s", logs)
	}
	if relay.Count() != 0 {
		t.Errorf("the tests sent %d messages, want none", relay.Count())
	}
}

// startIMAP starts go-imap's in-memory server on loopback with one user.
func startIMAP(t *testing.T, user, password string) (host string, port int) {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapNamespace: {}, imap.CapMove: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func TestSettingsIMAPConnectionTest(t *testing.T) {
	host, port := startIMAP(t, "bulletin", "imap-password")
	test := func(password string) string {
		h := newHarness(t, func(c *config.Config, _ *Options) {
			c.IMAP.Host, c.IMAP.Port, c.IMAP.TLS = host, port, "none"
			c.IMAP.Username, c.IMAP.Password, c.IMAP.Mailbox = "bulletin", password, "INBOX"
		})
		admin := h.user("admin@example.org", store.RoleAdmin)
		admin.get("/admin/settings")
		resp, body := admin.post("/admin/settings/test/imap", nil)
		wantStatus(t, resp, body, http.StatusOK)
		return body
	}
	wantContains(t, test("imap-password"), "Connexion IMAP réussie avec", "dossier INBOX ouvert (0 messages)")
	body := test("typo-password")
	wantContains(t, body, "La connexion IMAP à", "a échoué")
	if strings.Contains(body, "typo-password") {
		t.Errorf("the page shows the IMAP password")
	}
}
