// Package campaign sends editions to lists: the campaign states and the one
// function that moves between them, the recipients and their ledger, and the
// sending engine, which declares the Sender it needs and is given the SMTP
// or the outbox transport.
//
// A campaign goes draft → scheduled → sending → sent, and may be paused
// (by staff, or by the engine when the relay refuses everything), resumed,
// cancelled, or fail. Entering sending fixes the recipients once, in the
// same transaction: one ledger row per subscriber, queued or skipped with
// the reason. From then on the ledger is the truth: a row goes queued →
// sending (committed before its SMTP transaction starts) → sent, failed, or
// queued again for a retry; rows still "sending" after a crash are sent
// again and counted as possible duplicates.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"bulletin/internal/edition"
	"bulletin/internal/store"
)

// allowed lists, for each state, the states a campaign may enter it from.
// It is the only place that decides which moves exist.
var allowed = map[store.CampaignState][]store.CampaignState{
	store.Scheduled: {store.Draft, store.Scheduled},                              // schedule, reschedule
	store.Draft:     {store.Scheduled},                                           // unschedule, or a send time missed
	store.Sending:   {store.Draft, store.Scheduled, store.Paused},                // send now, send time reached, resume
	store.Paused:    {store.Sending},                                             // staff, or the relay refusing everything
	store.Sent:      {store.Sending},                                             // every delivery done
	store.Cancelled: {store.Draft, store.Scheduled, store.Sending, store.Paused}, // staff
	store.Failed:    {store.Sending, store.Paused},                               // the campaign cannot be sent at all
}

// Change is a requested move of a campaign to another state.
type Change struct {
	To     store.CampaignState
	Cause  string    // recorded with the transition: who or what moved it, and why
	Reason string    // shown with the new state (why it is paused, failed)
	SendAt time.Time // for To == Scheduled
	// LeaseOwner, when set, makes the move conditional on the engine still
	// holding the campaign's lease.
	LeaseOwner string
}

// Transition moves campaign c to ch.To, if the move exists and c is still in
// a state it starts from when the store checks it (in the transaction that
// makes the change and records it with its time and cause). Every change of
// a campaign's state goes through here. On success c.State is updated.
func Transition(ctx context.Context, st *store.Storage, c *store.Campaign, ch Change) error {
	from, ok := allowed[ch.To]
	if !ok {
		return fmt.Errorf("campaign: no transition to %q", ch.To)
	}
	if ch.Cause == "" {
		return errors.New("campaign: a transition needs a cause")
	}
	tr := store.Transition{CampaignID: c.ID, From: from, To: ch.To, Cause: ch.Cause, Reason: ch.Reason,
		SendAt: ch.SendAt, LeaseOwner: ch.LeaseOwner}
	if ch.To == store.Scheduled && ch.SendAt.IsZero() {
		return errors.New("campaign: scheduling needs a send time")
	}
	if (ch.To == store.Sending || ch.To == store.Scheduled) && (c.State == store.Draft || c.State == store.Scheduled) {
		// Recipients are fixed when sending starts: until then, a filter
		// must still name attributes the lists' subscribers have.
		if err := CheckFilter(ctx, st, c.Filter, c.Lists); err != nil {
			return err
		}
		// A subject saved before line breaks were refused would pause the
		// campaign at its first message.
		if err := edition.SingleLine(c.Subject); err != nil {
			return fmt.Errorf("campaign subject %w", err)
		}
	}
	if ch.To == store.Sending {
		conds, err := ParseFilter(c.Filter)
		if err != nil {
			return err
		}
		tr.Filter = conds
	}
	if _, err := st.TransitionCampaign(ctx, tr); err != nil {
		return err
	}
	c.State, c.StateReason = ch.To, ch.Reason
	if ch.To == store.Scheduled {
		c.SendAt = ch.SendAt
	}
	return nil
}

// ErrFilter is wrapped by every error about a campaign's filter, so that
// callers can point at the field.
var ErrFilter = errors.New("filter")

// CheckFilter parses filter and refuses one that names an attribute no
// subscriber on lists has (on any list when lists is empty): "secteur=BTP"
// would select nobody, the campaign would be marked sent to no one without
// a word, and "secteur!=BTP" everybody. Attribute names are compared as
// the store does, case and all, so a near miss is pointed out.
func CheckFilter(ctx context.Context, st *store.Storage, filter string, lists []string) error {
	conds, err := ParseFilter(filter)
	if err != nil || len(conds) == 0 {
		return err
	}
	known := map[string]bool{}
	for _, f := range listFilters(lists) {
		keys, err := st.AttributeKeys(ctx, f)
		if err != nil {
			return err
		}
		for _, k := range keys {
			known[k] = true
		}
	}
	for _, c := range conds {
		if known[c.Key] {
			continue
		}
		where := "on " + strings.Join(lists, ", ")
		if len(lists) == 0 {
			where = "at all"
		}
		msg := fmt.Sprintf("no subscriber %s has the attribute %q, so the campaign would go to ", where, c.Key)
		if c.Negate {
			msg += "everyone"
		} else {
			msg += "no one"
		}
		names := slices.Sorted(maps.Keys(known))
		for _, k := range names {
			if strings.EqualFold(k, c.Key) {
				return fmt.Errorf("%w: %s: did you mean %q?", ErrFilter, msg, k)
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("%w: %s: these subscribers have no attributes", ErrFilter, msg)
		}
		return fmt.Errorf("%w: %s (attributes they have: %s)", ErrFilter, msg, strings.Join(names, ", "))
	}
	return nil
}

// listFilters returns a subscriber filter per list, or one for everyone.
func listFilters(lists []string) []store.SubscriberFilter {
	if len(lists) == 0 {
		return []store.SubscriberFilter{{}}
	}
	fs := make([]store.SubscriberFilter, len(lists))
	for i, l := range lists {
		fs[i] = store.SubscriberFilter{List: l}
	}
	return fs
}

// ParseFilter reads a campaign's filter on subscriber attributes: conditions
// "key=value" or "key!=value" separated by commas, all of which must hold,
// compared without regard to case. A missing attribute reads as "". The
// empty filter selects everyone.
func ParseFilter(s string) ([]store.AttrCond, error) {
	var out []store.AttrCond
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var c store.AttrCond
		k, v, ok := strings.Cut(part, "!=")
		if ok {
			c.Negate = true
		} else if k, v, ok = strings.Cut(part, "="); !ok {
			return nil, fmt.Errorf("%w %q: expected key=value or key!=value", ErrFilter, part)
		}
		c.Key, c.Value = strings.TrimSpace(k), strings.TrimSpace(v)
		if c.Key == "" || strings.ContainsAny(c.Key, "\"\\$.[]*") {
			return nil, fmt.Errorf("%w %q: bad attribute name %q", ErrFilter, part, c.Key)
		}
		out = append(out, c)
	}
	return out, nil
}
