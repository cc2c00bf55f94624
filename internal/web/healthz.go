package web

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sort"
	"time"
)

// healthParts are the parts /healthz always names: a part the daemon runs
// no check for is "off" (the mailbox watcher without imap.host).
var healthParts = []string{"relay", "mailbox"}

// healthz reports whether the daemon's parts answer, as a JSON object of
// part → "ok", "off" or the error: the store, the relay (the last send's
// outcome) and the mailbox watcher (connected, or disconnected for less
// than its grace), plus "status": ok, degraded or down. Without smtp.host
// a working relay reads "outbox", not "ok": messages are written to a
// folder and nobody receives them, which a monitor must be able to see.
//
// The status code is 503 when the store fails, since no page works
// without it. A relay or mailbox problem is "degraded" with 200, because
// the public pages (unsubscribe above all) must stay up behind a load
// balancer while the relay is down; a monitor that only reads status codes
// asks /healthz?strict=1, which answers 503 when degraded too.
//
// The errors' words (host names, the relay's replies) are for the local
// network; others read "error".
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	private := s.privateClient(r)
	words := func(err error) string {
		if private {
			return err.Error()
		}
		return "error"
	}
	status := map[string]string{"store": "ok", "status": "ok"}
	code := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		status["store"] = words(err)
		status["status"] = "down"
		code = http.StatusServiceUnavailable
	}
	for _, name := range healthParts {
		status[name] = "off"
	}
	names := make([]string, 0, len(s.health))
	for name := range s.health {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		status[name] = "ok"
		if err := s.health[name](ctx); err != nil {
			status[name] = words(err)
			if code == http.StatusOK {
				status["status"] = "degraded"
			}
		}
	}
	if status["relay"] == "ok" && s.outboxDir() != "" {
		status["relay"] = "outbox"
	}
	if status["status"] == "degraded" && r.URL.Query().Get("strict") == "1" {
		code = http.StatusServiceUnavailable
	}
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

// outboxDir returns the folder the outbox transport writes to when no relay
// is configured (smtp.host empty), as an absolute path, and "" when a
// relay sends.
func (s *Server) outboxDir() string {
	if s.cfg.SMTP.Host != "" {
		return ""
	}
	if dir, err := filepath.Abs(s.cfg.Sending.OutboxDir); err == nil {
		return dir
	}
	return s.cfg.Sending.OutboxDir
}
