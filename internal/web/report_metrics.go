package web

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"bulletin/internal/store"
)

// metrics serves /metrics to Prometheus. The figures hold no personal data
// but are the organisation's business, and the daemon also serves the
// public pages: a scraper on the same host or the private network gets
// them as it is, anyone else needs an API token.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsHandler == nil {
		http.NotFound(w, r)
		return
	}
	if !s.privateClient(r) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bulletin"`)
			http.Error(w, "/metrics answers the local network, or an API token (Authorization: Bearer TOKEN)", http.StatusUnauthorized)
			return
		}
		if _, err := s.store.APITokenBySecret(r.Context(), strings.TrimSpace(secret)); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Error("web: metrics token", "err", err)
			}
			http.Error(w, "unknown or revoked API token", http.StatusUnauthorized)
			return
		}
	}
	noStore(w)
	s.metricsHandler.ServeHTTP(w, r)
}

// privateClient reports whether the request comes from this host or a
// private network (RFC 1918, RFC 4193), as clientIP sees it (behind a
// proxy, the address the proxy saw).
func (s *Server) privateClient(r *http.Request) bool {
	ip := net.ParseIP(s.clientIP(r))
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate())
}
