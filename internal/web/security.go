package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// secure sets the headers every response carries. Handlers that need
// another policy (the web view of an edition, the preview frame, the
// embeddable form) replace Content-Security-Policy themselves.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.contentPolicy())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Public URLs carry tokens: never send them to another site in a
		// Referer (the organisation's web site, a link in an edition).
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if s.https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// noStore keeps a response out of every cache: pages behind a login or a
// token are personal.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// clientIP returns the address of the person making the request: the
// connection's peer, or behind a reverse proxy (server.behind_proxy) the
// last address of X-Forwarded-For, which is the one the proxy itself added;
// the ones before it are whatever the client claimed.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.Server.BehindProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeNext returns next when it is a path of the admin console on this
// site, and "/admin/" otherwise, so that a login link cannot send anyone to
// another site (no open redirect): "//evil.example", "https://evil.example",
// "/\evil.example" and "javascript:" all give "/admin/".
func safeNext(next string) string {
	const home = "/admin/"
	if !strings.HasPrefix(next, "/admin/") || strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "//") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/admin/") {
		return home
	}
	if strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return home
	}
	return u.RequestURI()
}

// sameOrigin reports whether a browser says the request comes from one of
// our own pages. Browsers send Origin on every POST; when it is missing
// (an old browser, a privacy extension) the Sec-Fetch-Site header or, last,
// nothing is trusted to the CSRF token alone. "null" counts as missing:
// browsers send it from our own pages, whose Referrer-Policy is no-referrer;
// the login page, which refuses it, asks for the real origin instead.
func (s *Server) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return o == origin(s.cfg.Server.PublicURL) || o == requestOrigin(r)
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	return true
}

// requestOrigin is the origin the request was addressed to, for a daemon
// reached under another name than public_url (a test, an SSH tunnel).
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
