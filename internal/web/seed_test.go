package web

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// consoleData is what the pages seedConsole fills are about: the paths
// and identifiers axeVisits and the screenshots open.
type consoleData struct {
	unsub, unsubscribed, confirm, edition string
	upload                                string // a CSV file kept for the import's preview
	sent, scheduled, list                 uuid.UUID
	subscriber, bounced                   uuid.UUID
}

// seedConsole fills the store as an organisation's would be a few months in:
// lists, people in every state, the example edition sent to them with its
// ledger, the next campaign scheduled, mailbox events, an admin and an
// API token.
func seedConsole(t *testing.T, h *harness) consoleData {
	t.Helper()
	c := context.Background()
	part := h.list("Partenaires", true)
	part.Description = "La lettre trimestrielle des partenaires de la MICS 34"
	if err := h.st.UpdateList(c, part); err != nil {
		t.Fatal(err)
	}
	ach := h.list("Acheteurs publics", true)
	ach.Description = "Actualités des clauses sociales dans la commande publique"
	if err := h.st.UpdateList(c, ach); err != nil {
		t.Fatal(err)
	}
	h.list("Équipe interne", false)
	people := []struct{ email, first, last, org string }{
		{"florence.grandvalet@herault.fr", "Florence", "Grandvalet", "Département de l’Hérault"},
		{"olivier.salas@montpellier3m.fr", "Olivier", "Salas", "Montpellier Méditerranée Métropole"},
		{"contact@insertion-34.org", "Nadia", "Benali", "Insertion 34"},
		{"j.dupre@btp-occitanie.fr", "Jérôme", "Dupré", "BTP Occitanie"},
		{"achats@ville-sete.fr", "Claire", "Martin", "Ville de Sète"},
		{"marc.roux@pole-emploi.fr", "Marc", "Roux", "France Travail"},
	}
	var subs []*store.Subscriber
	for i, p := range people {
		status := store.Active
		if i == 3 {
			status = store.Pending
		}
		sub := &store.Subscriber{Email: p.email, FirstName: p.first, LastName: p.last, Organisation: p.org, Status: status,
			Consent: store.Consent{Source: "import contacts-2025.csv", At: h.clock.Now()}}
		if err := h.st.AddSubscriber(c, sub, []string{"Partenaires", "Acheteurs publics"}[:1+i%2], false); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	if _, err := h.st.SetStatus(c, subs[5].ID, store.StatusChange{Status: store.Unsubscribed, Source: "one-click"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.SetStatus(c, subs[4].ID, store.StatusChange{Status: store.Bounced, Source: "bounce", Reason: "550 5.1.1 user unknown"}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.CreateUser(c, &store.User{Email: "communication@mics34.fr", Name: "Florence G.", Role: store.RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.st.CreateAPIToken(c, "site web", store.RoleEditor); err != nil {
		t.Fatal(err)
	}

	se, _, _, err := campaign.AddEdition(c, h.st, "../../docs/examples/2020-edition-10-ans/edition.md")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := campaign.Create(c, h.st, campaign.Spec{Edition: se.Slug, Lists: []string{"Partenaires", "Acheteurs publics"}, Name: "Lettre n° 10 : édition spéciale 10 ans"})
	if err != nil {
		t.Fatal(err)
	}
	if err := campaign.Transition(c, h.st, sent, campaign.Change{To: store.Sending, Cause: i18n.Text("console")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.AcquireLease(c, sent.ID, "seed", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ds, err := h.st.ClaimDeliveries(c, sent.ID, "seed", 1000, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var results []store.Result
	for i, dl := range ds {
		r := store.Result{DeliveryID: dl.ID, Outcome: store.OutcomeSent, Reply: "250 2.0.0 Ok: queued", At: time.Now()}
		if i == 0 {
			r = store.Result{DeliveryID: dl.ID, Outcome: store.OutcomeFailed, Reply: "550 5.1.1 <achats@ville-sete.fr>: user unknown", At: time.Now()}
		}
		results = append(results, r)
	}
	if err := h.st.RecordResults(c, results); err != nil {
		t.Fatal(err)
	}
	if err := h.st.ReleaseLease(c, sent.ID, "seed"); err != nil {
		t.Fatal(err)
	}
	if err := campaign.Transition(c, h.st, sent, campaign.Change{To: store.Sent, Cause: i18n.Text("engine")}); err != nil {
		t.Fatal(err)
	}
	next, err := campaign.Create(c, h.st, campaign.Spec{Edition: se.Slug, Lists: []string{"Partenaires"}, Name: "Lettre n° 11 : printemps 2026"})
	if err != nil {
		t.Fatal(err)
	}
	if err := campaign.Transition(c, h.st, next, campaign.Change{To: store.Scheduled, Cause: i18n.Text("console"), SendAt: time.Date(2026, 3, 20, 9, 0, 0, 0, h.srv.loc)}); err != nil {
		t.Fatal(err)
	}
	for i, ev := range []*store.MailboxEvent{
		{Kind: "hard", Status: "5.1.1", Diagnostic: "550 5.1.1 user unknown", Recipients: []string{"achats@ville-sete.fr"}, CampaignID: sent.ID, MatchedBy: "verp"},
		{Kind: "reply", From: "olivier.salas@montpellier3m.fr", Subject: "Re: Lettre n° 10", CampaignID: sent.ID, MatchedBy: "message-id"},
		{Kind: "autoreply", From: "contact@insertion-34.org", Subject: "Réponse automatique : absente jusqu’au 20 janvier", CampaignID: sent.ID, MatchedBy: "header"},
	} {
		ev.Mailbox, ev.UIDValidity, ev.UID, ev.ProcessedAt = "INBOX", 1, uint32(10+i), h.clock.Now()
		if _, err := h.st.RecordMailboxEvent(c, ev, store.MailboxEffect{}); err != nil {
			t.Fatal(err)
		}
	}
	confirm, err := h.st.CreateConfirmation(c, subs[3].ID, nil, h.clock.Now(), h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.Open("../../subscribers/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer sample.Close()
	upload, err := h.srv.keepUpload(sample)
	if err != nil {
		t.Fatal(err)
	}
	return consoleData{
		upload: upload,
		unsub:  h.unsubPath(subs[0], sent.UUID), unsubscribed: h.unsubPath(subs[5], sent.UUID), confirm: confirm,
		edition: se.Slug, sent: sent.UUID, scheduled: next.UUID, list: part.UUID,
		subscriber: subs[0].UUID, bounced: subs[4].UUID,
	}
}
