package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"bulletin/internal/campaign"
	"bulletin/internal/config"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// The web view's "Se désinscrire" leads somewhere: the page that explains
// how to unsubscribe, since the shared view cannot know the reader. The
// page offers the unsubscribe address only when the daemon reads its
// mailbox.
func TestWebViewUnsubscribeLink(t *testing.T) {
	t.Parallel()
	for _, imap := range []bool{false, true} {
		h := newHarness(t, func(cfg *config.Config, _ *Options) {
			if imap {
				cfg.IMAP.Host = "imap.example.org"
			}
			cfg.Sending.UnsubscribeAddress = "desinscription@mics34.example.org"
		})
		ctx := context.Background()
		c := h.campaign("Lettre n° 10")
		if err := campaign.Transition(ctx, h.st, c, campaign.Change{To: store.Sending, Cause: i18n.Text("test")}); err != nil {
			t.Fatal(err)
		}
		b := h.browser()
		resp, body := b.get("/v/" + c.UUID.String())
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, `<a href="`+h.cfg.Server.PublicURL+`/unsubscribe" style="text-decoration:underline;color:#ffffff">Se désinscrire</a>`)
		if strings.Contains(body, `href="#"`) {
			t.Error("the web view still has a dead # link")
		}

		resp, body = b.get("/unsubscribe")
		wantStatus(t, resp, body, http.StatusOK)
		wantContains(t, body, "<h1>Se désabonner</h1>", "en bas du courriel que vous avez reçu")
		if got := strings.Contains(body, "mailto:desinscription@mics34.example.org"); got != imap {
			t.Errorf("with imap.host set %v: the page offers the unsubscribe address: %v", imap, got)
		}
	}
}
