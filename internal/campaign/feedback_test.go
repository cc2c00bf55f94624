package campaign

import (
	"bytes"
	"net/mail"
	"testing"
	"time"

	"bulletin/internal/smtptest"
	"bulletin/internal/store"
)

// Every campaign message carries a Feedback-ID next to its List-Id, as
// Gmail's feedback loop expects (issue 13): the campaign, the list, the
// kind of mail, and the sender, the last the same for every campaign.
func TestCampaignFeedbackID(t *testing.T) {
	f := newFixture(t, 1)
	srv := smtptest.Start(t, smtptest.Options{})
	f.start()
	if c := f.runUntil(f.engine(smtpSender(t, srv, 1, "", ""), Options{}), 30*time.Second); c.State != store.Sent {
		t.Fatalf("campaign %s (%s), want sent", c.State, c.StateReason)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Header.Get("Feedback-ID"), f.c.UUID.String()+":partenaires:newsletter:example.org"; got != want {
		t.Errorf("Feedback-ID = %q, want %q", got, want)
	}
	if got := m.Header.Get("List-Id"); got != `"Partenaires" <partenaires.list.example.org>` {
		t.Errorf("List-Id = %q", got)
	}
}
