// Package web is Bulletin's HTTP side: public pages, admin console, JSON API
// and the health endpoint, all in the one route table of routes.go.
package web

import (
	"log/slog"
	"net/http"

	"bulletin/internal/config"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

// Server holds what the handlers need.
type Server struct {
	cfg    *config.Config
	store  *store.Storage
	signer *token.Signer
	log    *slog.Logger
}

// New returns the web server's handlers over the given parts.
func New(cfg *config.Config, st *store.Storage, signer *token.Signer, log *slog.Logger) *Server {
	return &Server{cfg: cfg, store: st, signer: signer, log: log}
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler {
	return s.routes()
}
