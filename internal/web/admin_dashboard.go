package web

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"time"

	"bulletin/internal/store"
)

type healthLine struct {
	Name  string
	OK    bool
	Error string
	// Outbox marks a working relay check without a relay: the outbox
	// folder is there, and nothing goes out.
	Outbox bool
}

type dashboardData struct {
	Counts  map[store.Status]int
	Total   int
	Lists   int
	Next    *store.Campaign
	Last    *store.Campaign
	Figures []figure // the last campaign's
	Health  []healthLine
	// FormOpen is whether /subscribe takes sign-ups: a mailer for the
	// confirmation mail and at least one public list (see showSubscribe).
	FormOpen bool
	Statuses []store.Status
}

// figure is one number of a campaign with its message key.
type figure struct {
	Label string
	N     int
}

// figures sums up a campaign's ledger for a page.
func figures(c *store.DeliveryCounts) []figure {
	return []figure{
		{"figures.recipients", c.Total},
		{"figures.sent", c.ByState[store.Delivered]},
		{"figures.failed", c.ByState[store.Undelivered]},
		{"figures.skipped", c.ByState[store.Skipped]},
		{"figures.pending", c.Pending()},
	}
}

// dashboard shows the next scheduled campaign, the last campaign's figures,
// the subscribers by status and the health of the relay and the mailbox.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	ctx := r.Context()
	d := dashboardData{Counts: map[store.Status]int{}, Statuses: allStatuses}
	for _, st := range []store.Status{store.Active, store.Pending, store.Unsubscribed, store.Bounced, store.Complained} {
		n, err := s.store.CountSubscribers(ctx, store.SubscriberFilter{Status: st})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Counts[st] = n
		d.Total += n
	}
	lists, err := s.store.Lists(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Lists = len(lists)
	d.FormOpen = s.mailer != nil && slices.ContainsFunc(lists, func(l *store.List) bool { return l.Public })
	campaigns, err := s.store.Campaigns(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range campaigns {
		if c.State == store.Scheduled && (d.Next == nil || c.SendAt.Before(d.Next.SendAt)) {
			d.Next = c
		}
		started := c.State == store.Sending || c.State == store.Paused || c.State == store.Sent
		if started && (d.Last == nil || c.StartedAt.After(d.Last.StartedAt)) {
			d.Last = c
		}
	}
	if d.Last != nil {
		counts, err := s.store.CampaignDeliveryCounts(ctx, d.Last.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Figures = figures(counts)
		outboxed, err := s.store.CampaignOutboxed(ctx, d.Last.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if outboxed > 0 {
			// Not "sent": the outbox wrote them to a folder.
			d.Figures[1].Label = "outbox.fig.written"
		}
	}
	d.Health = s.healthLines(ctx)
	s.render(w, r, http.StatusOK, "admin/dashboard", s.adminPage(r, sess, "dashboard", "dashboard.title", d))
}

// healthLines runs the health checks for the dashboard.
func (s *Server) healthLines(ctx context.Context) []healthLine {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var out []healthLine
	for name, check := range s.health {
		h := healthLine{Name: name, OK: true}
		if err := check(ctx); err != nil {
			h.OK, h.Error = false, err.Error()
		}
		h.Outbox = h.OK && name == "relay" && s.outboxDir() != ""
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
