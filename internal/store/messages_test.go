package store

import (
	"context"
	"testing"

	"bulletin/internal/i18n"
)

// Causes, reasons and details are kept as codes, shown in the reader's
// language; rows written before codes (English words only) show as they
// are.
func TestStoredMessages(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c := campaignWith(t, s, 1)
	why := i18n.M("campaign.reason.relay_down", 5, "connection refused")
	if _, err := s.TransitionCampaign(ctx, Transition{CampaignID: c.ID, From: []CampaignState{Draft}, To: Paused,
		Cause: i18n.M("campaign.cause.relay_fault"), Reason: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO campaign_transitions (campaign_id, from_state, to_state, cause, at)
		VALUES (?, 'paused', 'paused', 'engine: all 302 deliveries done', ?)`, c.ID, now()); err != nil {
		t.Fatal(err)
	}
	tr, err := s.CampaignTransitions(ctx, c.ID)
	if err != nil || len(tr) != 3 {
		t.Fatalf("transitions = %v, %v", tr, err)
	}
	fr := i18n.New("fr")
	for i, want := range []string{"création", "moteur d’envoi\u00a0: panne du relais", "engine: all 302 deliveries done"} {
		if got := fr.Msg(tr[i].Cause); got != want {
			t.Errorf("transition %d: %q, want %q", i, got, want)
		}
	}
	got, err := s.CampaignByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.StateReason != "5 connection failures in a row, the last: connection refused" ||
		fr.Msg(got.Reason) != "5 échecs de connexion de suite, le dernier\u00a0: connection refused" {
		t.Errorf("reason %q, %q in French", got.StateReason, fr.Msg(got.Reason))
	}

	sub := &Subscriber{Email: "jean@example.org", Status: Bounced, Consent: Consent{Source: "admin"}}
	if err := s.AddSubscriber(ctx, sub, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, sub.ID, StatusChange{Status: Active, Source: "admin", Force: true,
		Note: i18n.M("history.detail.lifted", i18n.Key("import.status.bounced"), "admin@example.org", "adresse corrigée")}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonalData(ctx, sub.Email)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Events[len(p.Events)-1]
	if want := "exclusion levée (en erreur) par admin@example.org\u00a0: adresse corrigée"; fr.Msg(last.Note) != want || fr.Msg(p.Subscriber.StatusNote) != want {
		t.Errorf("history %q, status %q, want %q", fr.Msg(last.Note), fr.Msg(p.Subscriber.StatusNote), want)
	}
	if want := "lifted (bounced) by admin@example.org: adresse corrigée"; last.Detail != want {
		t.Errorf("detail in English %q, want %q", last.Detail, want)
	}
}
