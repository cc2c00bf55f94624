package report

import (
	"context"
	"fmt"
	"time"

	"bulletin/internal/store"
)

// Overview is the view across campaigns: how each list fares quarter by
// quarter, and the figures of each edition. Its JSON form is the output of
// "bulletin report lists --json" and of the API.
type Overview struct {
	GeneratedAt time.Time `json:"generated_at"`
	Timezone    string    `json:"timezone"` // quarters and days are counted in it
	Lists       []string  `json:"lists"`    // in the order of Quarter.Lists
	Quarters    []Quarter `json:"quarters"` // oldest first, up to the current one
	Editions    []Edition `json:"editions"` // every campaign that started, oldest first
}

// Quarter is what happened in one quarter.
type Quarter struct {
	Quarter string    `json:"quarter"` // "2026-Q1"
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // exclusive

	// The campaigns that started in the quarter, and their figures.
	Campaigns   int `json:"campaigns"`
	Recipients  int `json:"recipients"`
	BouncedHard int `json:"bounced_hard"`
	BouncedSoft int `json:"bounced_soft"`
	Complaints  int `json:"complaints"`
	// Sent counts the messages of every campaign accepted by the relay
	// within the quarter.
	Sent int `json:"sent"`

	// Subscribers are the active subscribers on at least one list, and
	// Lists each list's active members, as they changed in the quarter.
	Subscribers Flow   `json:"subscribers"`
	Lists       []Flow `json:"lists"`
}

// Flow is how the active members of a list (or of all lists) changed
// within a quarter: End = Start + New − Unsubscribed − Bounced −
// Complained − Other. Active members are active subscribers who have not
// left the list.
type Flow struct {
	List         string `json:"list,omitempty"`
	Start        int    `json:"start"`
	New          int    `json:"new"`          // became active members: joined, confirmed, resubscribed
	Unsubscribed int    `json:"unsubscribed"` // unsubscribed, or left the list themselves
	Bounced      int    `json:"bounced"`      // suppressed after bounces
	Complained   int    `json:"complained"`   // suppressed after a complaint
	Other        int    `json:"other"`        // removed by staff, set back to pending
	End          int    `json:"end"`
}

// Edition is one campaign's figures in the view across campaigns: the
// same definitions as Campaign.
type Edition struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	State        string    `json:"state"`
	Lists        []string  `json:"lists"`
	StartedAt    time.Time `json:"started_at"`
	Quarter      string    `json:"quarter"`
	Recipients   int       `json:"recipients"`
	Sent         int       `json:"sent"`
	Failed       int       `json:"failed"`
	Skipped      int       `json:"skipped"`
	Pending      int       `json:"pending"`
	Delivered    int       `json:"delivered"`
	DeliveryRate *float64  `json:"delivery_rate"`
	BouncedHard  int       `json:"bounced_hard"`
	BouncedSoft  int       `json:"bounced_soft"`
	Complaints   int       `json:"complaints"`
	Unsubscribed int       `json:"unsubscribed"`
	// The relay's refusals and the dead addresses, as in Campaign.
	RefusedHard   int `json:"refused_hard"`
	RefusedSoft   int `json:"refused_soft"`
	DeadAddresses int `json:"dead_addresses"`
}

// QuarterOf returns the quarter holding t in loc: its label ("2026-Q1") and
// its start.
func QuarterOf(t time.Time, loc *time.Location) (string, time.Time) {
	t = t.In(loc)
	q := (int(t.Month()) - 1) / 3
	start := time.Date(t.Year(), time.Month(3*q+1), 1, 0, 0, 0, 0, loc)
	return fmt.Sprintf("%d-Q%d", t.Year(), q+1), start
}

// Lists computes the view across campaigns, in loc, up to the quarter of now.
func Lists(ctx context.Context, src Source, loc *time.Location, now time.Time) (*Overview, error) {
	if loc == nil {
		loc = time.UTC
	}
	lists, err := src.Lists(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	o := &Overview{GeneratedAt: now.UTC(), Timezone: loc.String(), Lists: []string{}, Quarters: []Quarter{}, Editions: []Edition{}}
	index := map[int64]int{} // list id → position
	for i, l := range lists {
		o.Lists = append(o.Lists, l.Name)
		index[l.ID] = i
	}

	totals, err := src.CampaignsTotals(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}

	// The quarters run from the first thing that happened to now. The
	// history is replayed as it streams by: each quarter is closed when
	// the first event past its end arrives.
	r := newReplay(len(lists), index)
	open := func(qs time.Time) {
		label, _ := QuarterOf(qs, loc)
		q := Quarter{Quarter: label, Start: qs, End: qs.AddDate(0, 3, 0), Lists: make([]Flow, len(lists))}
		q.Subscribers.Start = r.total
		for j, l := range lists {
			q.Lists[j] = Flow{List: l.Name, Start: r.members[j]}
		}
		o.Quarters = append(o.Quarters, q)
	}
	closeLast := func() {
		q := &o.Quarters[len(o.Quarters)-1]
		q.Subscribers.End = r.total
		for j := range q.Lists {
			q.Lists[j].End = r.members[j]
		}
	}
	// advance opens the quarters up to the one holding t, closing the
	// ones it leaves.
	advance := func(t time.Time) {
		_, qs := QuarterOf(t, loc)
		if len(o.Quarters) == 0 {
			if len(totals) > 0 {
				if _, cq := QuarterOf(totals[0].Campaign.StartedAt, loc); cq.Before(qs) {
					qs = cq
				}
			}
			open(qs)
		}
		for last := &o.Quarters[len(o.Quarters)-1]; !t.Before(last.End); last = &o.Quarters[len(o.Quarters)-1] {
			closeLast()
			open(last.End)
		}
	}
	err = src.SubscriberHistory(ctx, func(e *store.HistoryEvent) error {
		advance(e.At)
		q := &o.Quarters[len(o.Quarters)-1]
		r.flows, r.all = q.Lists, &q.Subscribers
		r.apply(e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(o.Quarters) > 0 && now.Before(o.Quarters[len(o.Quarters)-1].Start) {
		now = o.Quarters[len(o.Quarters)-1].Start // a clock behind the data: show the data
	}
	advance(now)
	closeLast()
	quarterIndex := func(t time.Time) int {
		_, qs := QuarterOf(t, loc)
		for i := range o.Quarters {
			if o.Quarters[i].Start.Equal(qs) {
				return i
			}
		}
		return -1
	}

	o.Editions = editions(totals, loc)
	for _, e := range o.Editions {
		if i := quarterIndex(e.StartedAt); i >= 0 {
			q := &o.Quarters[i]
			q.Campaigns++
			q.Recipients += e.Recipients
			q.BouncedHard += e.BouncedHard
			q.BouncedSoft += e.BouncedSoft
			q.Complaints += e.Complaints
		}
	}
	sent, err := src.SentPerHour(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, h := range sent {
		if i := quarterIndex(h.Hour); i >= 0 {
			o.Quarters[i].Sent += h.Count
		}
	}
	return o, nil
}

// Editions returns every campaign that started, oldest first, with its
// figures: the editions of Lists, without replaying the lists' history.
func Editions(ctx context.Context, src Source, loc *time.Location) ([]Edition, error) {
	if loc == nil {
		loc = time.UTC
	}
	totals, err := src.CampaignsTotals(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return editions(totals, loc), nil
}

func editions(totals []store.CampaignTotals, loc *time.Location) []Edition {
	out := []Edition{}
	for _, ct := range totals {
		c, t := ct.Campaign, ct.Totals
		label, _ := QuarterOf(c.StartedAt, loc)
		e := Edition{ID: c.UUID.String(), Name: c.Name, State: string(c.State), Lists: nonNil(c.Lists), StartedAt: c.StartedAt,
			Quarter: label, Recipients: t.Recipients, Sent: t.States[store.Delivered], Failed: t.States[store.Undelivered],
			Skipped: t.States[store.Skipped], Pending: t.States[store.Queued] + t.States[store.InFlight], Delivered: t.Delivered(),
			BouncedHard: t.BouncedHard, BouncedSoft: t.BouncedSoft, Complaints: t.Complaints, Unsubscribed: t.Unsubscribed,
			RefusedHard: t.RefusedHard, RefusedSoft: t.RefusedSoft, DeadAddresses: t.DeadAddresses()}
		e.DeliveryRate = rate(e.Delivered, e.Sent+e.Failed)
		out = append(out, e)
	}
	return out
}

// replay follows each subscriber's status and lists through their history,
// and counts who enters and leaves the active members of each list.
type replay struct {
	index   map[int64]int // list id → position
	subs    map[int64]*member
	members []int // active members of each list now
	total   int   // active subscribers on at least one list now

	flows []Flow // of the quarter being replayed
	all   *Flow
}

type member struct {
	status store.Status
	lists  map[int]bool // positions of the lists they are on
}

func newReplay(n int, index map[int64]int) *replay {
	return &replay{index: index, subs: map[int64]*member{}, members: make([]int, n)}
}

// active reports whether m counts as an active member of list i.
func (m *member) active(i int) bool { return m.status == store.Active && m.lists[i] }

func (m *member) anyActive() bool {
	if m.status != store.Active {
		return false
	}
	for _, on := range m.lists {
		if on {
			return true
		}
	}
	return false
}

// apply replays one event and counts the changes of membership it makes.
func (r *replay) apply(e *store.HistoryEvent) {
	m := r.subs[e.SubscriberID]
	if m == nil {
		m = &member{lists: map[int]bool{}}
		r.subs[e.SubscriberID] = m
	}
	before := make(map[int]bool, len(m.lists))
	for i := range m.lists {
		before[i] = m.active(i)
	}
	wasAny := m.anyActive()
	list, known := r.index[e.ListID]
	switch e.Kind {
	case "created":
		m.status = e.Status
		if known {
			m.lists[list] = true
		}
	case "status":
		m.status = e.Status
	case "list_added":
		if known {
			m.lists[list] = true
		}
	case "list_removed":
		if known {
			m.lists[list] = false
		}
	}
	cause := r.cause(e)
	for i := range m.lists {
		now, was := m.active(i), before[i]
		switch {
		case now && !was:
			r.members[i]++
			r.flows[i].New++
		case was && !now:
			r.members[i]--
			count(&r.flows[i], cause)
		}
	}
	isAny := m.anyActive()
	switch {
	case isAny && !wasAny:
		r.total++
		r.all.New++
	case wasAny && !isAny:
		r.total--
		count(r.all, cause)
	}
}

// cause says why an event makes someone leave: the new status, or the
// person leaving a list themselves.
func (r *replay) cause(e *store.HistoryEvent) string {
	switch e.Kind {
	case "status":
		switch e.Status {
		case store.Unsubscribed, store.Bounced, store.Complained:
			return string(e.Status)
		}
	case "list_removed":
		switch e.Source {
		case "link", "one-click", "mailto", "form":
			return string(store.Unsubscribed)
		}
	}
	return "other"
}

func count(f *Flow, cause string) {
	switch cause {
	case string(store.Unsubscribed):
		f.Unsubscribed++
	case string(store.Bounced):
		f.Bounced++
	case string(store.Complained):
		f.Complained++
	default:
		f.Other++
	}
}
