package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// This file holds what the console and the API share about campaigns: the
// checks and the state changes, in the words of the campaign package.

// errBlocked is an edition whose check found errors: it cannot be sent.
var errBlocked = errors.New("the edition has errors: fix them before sending")

// errPast is a send time not in the future.
var errPast = errors.New("the send time is in the past")

// checkEdition renders the campaign's edition with the layout and returns
// the findings; errors among them block scheduling and sending.
func (s *Server) checkEdition(ctx context.Context, c *store.Campaign) ([]render.Finding, error) {
	if s.content == nil {
		return nil, errors.New("no layout loaded: the daemon cannot render editions")
	}
	se, err := s.store.EditionByID(ctx, c.EditionID)
	if err != nil {
		return nil, err
	}
	ed, err := campaign.ParseStored(se)
	if err != nil {
		return nil, err
	}
	return render.Check(s.content.Current().Templates, ed), nil
}

// action is one state change staff may ask for.
type action string

// The actions on a campaign.
const (
	actSchedule   action = "schedule"
	actSend       action = "send"
	actPause      action = "pause"
	actResume     action = "resume"
	actCancel     action = "cancel"
	actUnschedule action = "unschedule"
)

// act applies an action to c on behalf of who (campaign.cause.console,
// campaign.cause.api), recorded in the campaign's history. A schedule needs at; schedule and send first check the
// edition. The engine is woken when the campaign starts sending.
func (s *Server) act(ctx context.Context, c *store.Campaign, a action, at time.Time, who i18n.Message) error {
	// The campaign package allows every move that makes sense for some
	// cause ("resume" and "send now" are both → sending); each button means
	// one of them only, from the states it is shown in.
	from := map[action][]store.CampaignState{
		actSchedule:   {store.Draft, store.Scheduled},
		actSend:       {store.Draft, store.Scheduled},
		actPause:      {store.Sending},
		actResume:     {store.Paused},
		actCancel:     {store.Draft, store.Scheduled, store.Sending, store.Paused},
		actUnschedule: {store.Scheduled},
	}[a]
	if !slices.Contains(from, c.State) && from != nil {
		return &store.StateError{Current: c.State, To: map[action]store.CampaignState{actSchedule: store.Scheduled,
			actSend: store.Sending, actPause: store.Paused, actResume: store.Sending, actCancel: store.Cancelled,
			actUnschedule: store.Draft}[a]}
	}
	ch := campaign.Change{Cause: i18n.M("campaign.cause.action", who, i18n.Key("campaign.action."+string(a)))}
	switch a {
	case actSchedule, actSend:
		if a == actSchedule {
			if !at.After(s.now()) {
				return errPast
			}
			ch.To, ch.SendAt = store.Scheduled, at
			ch.Cause = i18n.M("campaign.cause.action_at", who, i18n.Key("campaign.action."+string(a)), at.In(s.loc).Format("2006-01-02 15:04 MST"))
		} else {
			ch.To = store.Sending
		}
		fs, err := s.checkEdition(ctx, c)
		if err != nil {
			return err
		}
		if render.HasErrors(fs) {
			return errBlocked
		}
	case actPause:
		ch.To, ch.Reason = store.Paused, i18n.M("campaign.reason.paused_by_staff")
	case actResume:
		ch.To = store.Sending
	case actCancel:
		ch.To, ch.Reason = store.Cancelled, i18n.M("campaign.reason.cancelled_by_staff")
	case actUnschedule:
		ch.To = store.Draft
	default:
		return fmt.Errorf("unknown action %q", a)
	}
	if err := campaign.Transition(ctx, s.store, c, ch); err != nil {
		return err
	}
	if ch.To == store.Sending && s.engine != nil {
		s.engine.Wake()
	}
	return nil
}

// parseSendTime reads a send time in the schedule's time zone: the
// datetime-local form ("2026-01-15T09:00", seconds allowed), the command
// line's "2026-01-15 09:00", or RFC 3339 with its own offset.
func (s *Server) parseSendTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("send time %q: expected YYYY-MM-DDTHH:MM in %s", v, s.loc)
}

// campaignFigures is a campaign's progress as pages and the API show it.
type campaignFigures struct {
	State        store.CampaignState `json:"state"`
	Reason       string              `json:"reason,omitempty"`
	Recipients   int                 `json:"recipients"`
	Sent         int                 `json:"sent"`
	Outboxed     int                 `json:"outboxed"` // of Sent, written to the outbox folder: nobody received them
	Failed       int                 `json:"failed"`
	Skipped      int                 `json:"skipped"`
	Pending      int                 `json:"pending"`
	Duplicates   int                 `json:"duplicates"`
	Percent      int                 `json:"percent"` // of the recipients done
	SendAt       time.Time           `json:"send_at,omitzero"`
	StartedAt    time.Time           `json:"started_at,omitzero"`
	FinishedAt   time.Time           `json:"finished_at,omitzero"`
	EstimatedEnd time.Time           `json:"estimated_end,omitzero"`
	Waiting      string              `json:"waiting,omitempty"` // why nothing goes out now, in English
	// Wait is Waiting for a page, in the reader's language.
	Wait i18n.Message `json:"-"`
	// Expected is who a draft or scheduled campaign would go to if it
	// started now (its ledger, and so Recipients, is fixed only then);
	// nil once it started.
	Expected *expectedFigures `json:"expected,omitempty"`
}

// expectedFigures counts the ledger a campaign would get if it started now.
type expectedFigures struct {
	Recipients int `json:"recipients"` // who would be mailed
	Suppressed int `json:"suppressed"` // left out: unsubscribed, bounced, complained, unconfirmed
	LeftList   int `json:"left_list"`  // left out: no longer on the lists
}

func (s *Server) figures(ctx context.Context, c *store.Campaign) (*campaignFigures, error) {
	st, err := campaign.CampaignStatus(ctx, s.store, c, s.engineOpt)
	if err != nil {
		return nil, err
	}
	n := st.Counts
	f := &campaignFigures{
		State: c.State, Reason: c.StateReason, Recipients: n.Total, Sent: n.ByState[store.Delivered],
		Failed: n.ByState[store.Undelivered], Skipped: n.ByState[store.Skipped], Pending: n.Pending(),
		Duplicates: n.Duplicates, SendAt: c.SendAt.UTC(), StartedAt: c.StartedAt.UTC(), FinishedAt: c.FinishedAt.UTC(),
		EstimatedEnd: st.EstimatedEnd.UTC(), Waiting: st.Waiting.String(), Wait: st.Waiting,
	}
	if n.Total > 0 {
		f.Percent = (n.Total - f.Pending) * 100 / n.Total
	}
	if f.Outboxed, err = s.store.CampaignOutboxed(ctx, c.ID); err != nil {
		return nil, err
	}
	if c.State == store.Draft || c.State == store.Scheduled {
		conds, err := campaign.ParseFilter(c.Filter)
		if err != nil {
			return nil, err
		}
		e, err := s.store.ExpectedRecipients(ctx, c.ID, conds)
		if err != nil {
			return nil, err
		}
		f.Expected = &expectedFigures{Recipients: e.Queued, Suppressed: e.Suppressed, LeftList: e.LeftList}
	}
	return f, nil
}
