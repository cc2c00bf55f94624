package web

import (
	"encoding/json"
	"net/http"
)

// healthz reports whether the daemon's parts answer: 200 when all do, 503
// otherwise, with a JSON body naming each part.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	status := map[string]string{"store": "ok"}
	code := http.StatusOK
	if err := s.store.Ping(r.Context()); err != nil {
		status["store"] = err.Error()
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}
