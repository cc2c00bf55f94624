package web

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"bulletin/internal/config"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
)

// The console and the API erase the outbox files addressed to the person
// they erase, and no others.
func TestEraseRemovesOutboxFiles(t *testing.T) {
	t.Parallel()
	box := t.TempDir()
	h := newHarness(t, func(cfg *config.Config, _ *Options) { cfg.Sending.OutboxDir = box })
	sender, err := outbox.New(box)
	if err != nil {
		t.Fatal(err)
	}
	mail := func(to string) {
		m := &outgoing.Message{From: outgoing.Address{Addr: "lettre@example.org"}, To: outgoing.Address{Addr: to},
			Subject: "Lettre", Text: "Bonjour\n", EnvelopeFrom: "bounces@example.org"}
		if _, err := sender.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	files := func() int {
		f, _ := filepath.Glob(filepath.Join(box, "*.eml"))
		return len(f)
	}
	console := h.subscriber("console@example.org", store.Active)
	api := h.subscriber("api@example.org", store.Active)
	for _, to := range []string{console.Email, console.Email, api.Email, "reste@example.org"} {
		mail(to)
	}

	admin := h.user("admin@example.org", store.RoleAdmin)
	resp, body := admin.post("/admin/subscribers/"+console.UUID.String()+"/erase", url.Values{"confirm_email": {console.Email}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if n := files(); n != 2 {
		t.Errorf("after the console's erasure, %d outbox files, want 2", n)
	}
	code, out := h.apiToken(store.RoleAdmin).json("DELETE", "/api/v1/subscribers/"+api.UUID.String(), "")
	wantAPI(t, "erase", code, out, http.StatusNoContent, "")
	if n := files(); n != 1 {
		t.Errorf("after the API's erasure, %d outbox files, want 1 (the other reader's)", n)
	}
}
