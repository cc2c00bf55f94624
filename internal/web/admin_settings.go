package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"bulletin/internal/config"
	"bulletin/internal/i18n"
	"bulletin/internal/mailbox"
	"bulletin/internal/outgoing"
	"bulletin/internal/settings"
	"bulletin/internal/store"
	"bulletin/internal/transport/smtp"
)

// setting is one read-only key of the settings page.
type setting struct {
	Key, Value string
	Origin     settings.Origin
	Where      string // the file and line, or the environment variable
	Secret     bool
}

type settingsSection struct {
	Name     string
	Settings []setting
}

// settingsField is one editable key of the settings form.
type settingsField struct {
	settings.Field
	ID    string // the input's id: the key with "-" for "."
	Kind  string // text, colour, number, checkbox, email
	Error string // a message key, when the last save refused the value
}

// settingsGroup is one fieldset of the form.
type settingsGroup struct {
	Name   string
	Fields []settingsField
}

// settingsData is the settings page.
type settingsData struct {
	Groups   []settingsGroup
	Sections []settingsSection // the keys kept in config.yaml and the environment
	Failed   bool              // the last save was refused: nothing was kept
	SMTPHost string            // "" when mail goes to the outbox
	IMAPHost string            // "" when the mailbox is not read
	// Test is the answer of the last connection test, if any.
	Test *connectionTest
}

// connectionTest is the outcome of a "test the connection" button.
type connectionTest struct {
	OK      bool
	Message i18n.Message
}

// settingKinds are the inputs of the keys that are not plain text.
var settingKinds = map[string]string{
	"organisation.colour": "colour", "organisation.logo_url": "url", "organisation.facebook": "url",
	"organisation.linkedin": "url", "organisation.x": "url", "organisation.instagram": "url",
	"organisation.mastodon": "url", "sending.rate": "number", "sending.hourly_quota": "number",
	"sending.daily_quota": "number", "sending.quiet_weekends": "checkbox",
}

// settingsPage shows the settings: the form of what staff change, each
// value with where it comes from, and, read-only, what stays in
// config.yaml and the environment (secrets masked). Admins only.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	s.renderSettings(w, r, sess, http.StatusOK, s.settingsData(nil, nil))
}

// saveSettings keeps the form's values in the database when all are
// valid under the loader's own rules; otherwise it shows the form again
// with each refusal next to its field, and keeps nothing.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	values := map[string]string{}
	for _, g := range settings.Groups {
		for _, key := range g.Keys {
			v := r.PostFormValue(key)
			if settingKinds[key] == "checkbox" {
				v = fmt.Sprint(v != "")
			}
			values[key] = v
		}
	}
	problems, err := s.settings.Save(r.Context(), values)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(problems) > 0 {
		s.renderSettings(w, r, sess, http.StatusUnprocessableEntity, s.settingsData(values, problems))
		return
	}
	redirectOK(w, r, "/admin/settings", "settings_saved")
}

// testSMTP opens one session with the relay as a send does (EHLO,
// STARTTLS, AUTH) and shows the relay's answer.
func (s *Server) testSMTP(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := s.settingsData(nil, nil)
	d.Test = s.checkSMTP(r.Context())
	s.renderSettings(w, r, sess, http.StatusOK, d)
}

// testIMAP logs in to the mailbox and selects it read-only, as the
// watcher does, and shows what the server said.
func (s *Server) testIMAP(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := s.settingsData(nil, nil)
	d.Test = s.checkIMAP(r.Context())
	s.renderSettings(w, r, sess, http.StatusOK, d)
}

// connectionTimeout bounds a connection test: the admin is waiting.
const connectionTimeout = 20 * time.Second

func (s *Server) checkSMTP(ctx context.Context) *connectionTest {
	cfg := s.conf()
	if cfg.SMTP.Host == "" {
		return &connectionTest{Message: i18n.M("settings.test.smtp_none", cfg.Sending.OutboxDir)}
	}
	where := fmt.Sprintf("%s:%d", cfg.SMTP.Host, cfg.SMTP.Port)
	snd, err := smtp.New(smtp.OptionsFromConfig(cfg))
	if err != nil {
		return &connectionTest{Message: i18n.M("settings.test.smtp_failed", where, err.Error())}
	}
	defer snd.Close()
	ctx, cancel := context.WithTimeout(ctx, connectionTimeout)
	defer cancel()
	hello, err := snd.Check(ctx)
	if err != nil {
		// The relay's own reply ("535 5.7.8 …") and the step that failed;
		// the transport never puts the password in it.
		var se *outgoing.SendError
		if errors.As(err, &se) && se.Command != "" {
			return &connectionTest{Message: i18n.M("settings.test.smtp_refused", where, se.Command, se.Error())}
		}
		return &connectionTest{Message: i18n.M("settings.test.smtp_failed", where, err.Error())}
	}
	// The steps taken, in the protocol's own words.
	steps := []string{"EHLO"}
	switch cfg.SMTP.TLS {
	case "tls":
		steps = append([]string{"TLS"}, steps...)
	case "starttls", "opportunistic":
		steps = append(steps, "STARTTLS")
	}
	if cfg.SMTP.Username != "" {
		steps = append(steps, "AUTH "+cfg.SMTP.Username)
	}
	return &connectionTest{OK: true, Message: i18n.M("settings.test.smtp_ok", where, strings.Join(steps, ", "), hello)}
}

func (s *Server) checkIMAP(ctx context.Context) *connectionTest {
	cfg := s.conf()
	if cfg.IMAP.Host == "" {
		return &connectionTest{Message: i18n.M("settings.test.imap_none")}
	}
	where := fmt.Sprintf("%s:%d", cfg.IMAP.Host, cfg.IMAP.Port)
	proc := mailbox.NewProcessor(s.store, s.links, mailbox.RulesFromConfig(cfg), s.now)
	wt, err := mailbox.New(mailbox.OptionsFromConfig(cfg, s.log), proc)
	if err != nil {
		return &connectionTest{Message: i18n.M("settings.test.imap_failed", where, err.Error())}
	}
	ctx, cancel := context.WithTimeout(ctx, connectionTimeout)
	defer cancel()
	rep, err := wt.Check(ctx)
	if err != nil {
		return &connectionTest{Message: i18n.M("settings.test.imap_failed", where, err.Error())}
	}
	return &connectionTest{OK: true, Message: i18n.M("settings.test.imap_ok", where, rep.Mailbox, fmt.Sprint(rep.Messages))}
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d *settingsData) {
	s.render(w, r, code, "admin/settings", s.adminPage(r, sess, "settings", "settings.title", d))
}

// settingsData returns the page; values and problems are a refused save's.
func (s *Server) settingsData(values map[string]string, problems []*config.Error) *settingsData {
	cfg := s.conf()
	d := &settingsData{Failed: len(problems) > 0, SMTPHost: cfg.SMTP.Host, IMAPHost: cfg.IMAP.Host}
	refused := map[string]string{}
	for _, p := range problems {
		refused[p.Key] = "settings.error." + p.Key
	}
	fields := s.settings.Fields()
	for _, g := range settings.Groups {
		fg := settingsGroup{Name: g.Name}
		for _, key := range g.Keys {
			f := settingsField{Field: fields[key], ID: strings.ReplaceAll(key, ".", "-"), Kind: settingKinds[key], Error: refused[key]}
			if v, ok := values[key]; ok && !f.Locked() {
				f.Value = v // what was typed, to correct
			}
			if f.Kind == "" {
				f.Kind = "text"
			}
			fg.Fields = append(fg.Fields, f)
		}
		d.Groups = append(d.Groups, fg)
	}
	d.Sections = readOnlySettings(cfg)
	return d
}

// readOnlySettings returns the keys not editable in the console, by
// section, with where each came from, and secrets masked.
func readOnlySettings(cfg *config.Config) []settingsSection {
	var sections []settingsSection
	cv := reflect.ValueOf(*cfg)
	ct := cv.Type()
	for i := range ct.NumField() {
		f := ct.Field(i)
		name := yamlName(f)
		if name == "" || f.Type.Kind() != reflect.Struct {
			continue
		}
		sec := settingsSection{Name: name}
		for j := range f.Type.NumField() {
			key := yamlName(f.Type.Field(j))
			full := name + "." + key
			if key == "" || settings.Editable(full) {
				continue
			}
			v, _ := cfg.Value(full)
			st := setting{Key: full, Value: v, Origin: settings.File, Where: cfg.Where(full)}
			if ev := cfg.EnvVar(full); ev != "" {
				st.Origin, st.Where = settings.Environment, ev
			} else if st.Where == "default" {
				st.Origin, st.Where = settings.Default, ""
			}
			if isSecretKey(key) {
				st.Secret = true
				if st.Value != "" {
					st.Value = "••••••••"
				}
			}
			sec.Settings = append(sec.Settings, st)
		}
		if len(sec.Settings) > 0 {
			sections = append(sections, sec)
		}
	}
	return sections
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// isSecretKey reports whether a key holds a secret that the page must not
// show: passwords and the signing key.
func isSecretKey(key string) bool {
	return strings.Contains(key, "password") || strings.Contains(key, "secret")
}
