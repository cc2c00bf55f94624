package web

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"bulletin/internal/store"
)

type setting struct {
	Key, Value, Where string
	Secret            bool
}

type settingsSection struct {
	Name     string
	Settings []setting
}

// settingsPage shows the configuration the daemon runs with, read-only,
// with where each value came from and secrets masked. Nothing in it is
// safe to change while campaigns send (the relay, the signing key, the
// public URL in links already mailed), so it is changed in config.yaml or
// the environment, and the daemon restarted. Admins only.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	var sections []settingsSection
	cv := reflect.ValueOf(*s.cfg)
	ct := cv.Type()
	for i := range ct.NumField() {
		f := ct.Field(i)
		name := yamlName(f)
		if name == "" || f.Type.Kind() != reflect.Struct {
			continue
		}
		sec := settingsSection{Name: name}
		for j := range f.Type.NumField() {
			kf := f.Type.Field(j)
			key := yamlName(kf)
			if key == "" {
				continue
			}
			full := name + "." + key
			st := setting{Key: full, Value: fmt.Sprint(cv.Field(i).Field(j).Interface()), Where: s.cfg.Where(full)}
			if isSecretKey(key) {
				st.Secret = true
				if st.Value != "" {
					st.Value = "••••••••"
				}
			}
			sec.Settings = append(sec.Settings, st)
		}
		sections = append(sections, sec)
	}
	s.render(w, r, http.StatusOK, "admin/settings", s.adminPage(r, sess, "settings", "settings.title", sections))
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
