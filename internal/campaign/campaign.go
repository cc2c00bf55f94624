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
	"bulletin/internal/i18n"
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
	Cause  i18n.Message // recorded with the transition: who or what moved it, and why
	Reason i18n.Message // shown with the new state (why it is paused, failed)
	SendAt time.Time    // for To == Scheduled
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
	if ch.Cause.IsZero() {
		return errors.New("campaign: a transition needs a cause")
	}
	tr := store.Transition{CampaignID: c.ID, From: from, To: ch.To, Cause: ch.Cause, Reason: ch.Reason,
		SendAt: ch.SendAt, LeaseOwner: ch.LeaseOwner}
	if ch.To == store.Scheduled && ch.SendAt.IsZero() {
		return errors.New("campaign: scheduling needs a send time")
	}
	if (ch.To == store.Sending || ch.To == store.Scheduled) && (c.State == store.Draft || c.State == store.Scheduled) {
		if err := startable(ctx, st, c); err != nil {
			return err
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
	c.State, c.StateReason, c.Reason = ch.To, ch.Reason.String(), ch.Reason
	if ch.To == store.Scheduled {
		c.SendAt = ch.SendAt
	}
	return nil
}

// startable checks what must hold for a draft or scheduled campaign to be
// scheduled or sent.
func startable(ctx context.Context, st *store.Storage, c *store.Campaign) error {
	// Recipients are fixed when sending starts: until then, a filter
	// must still name attributes the lists' subscribers have.
	if err := CheckFilter(ctx, st, c.Filter, c.Lists); err != nil {
		return err
	}
	// A subject saved before line breaks were refused would pause the
	// campaign at its first message.
	if err := edition.SingleLine(c.Subject); err != nil {
		return i18n.Errorf("campaign.err.subject", i18n.MessageOf(err))
	}
	return nil
}

// ErrFilter is wrapped by every error about a campaign's filter, so that
// callers can point at the field.
var ErrFilter = errors.New("filter")

// filterError is an error about a campaign's filter: errors.Is finds
// ErrFilter in it, and the console says it in the reader's language.
type filterError struct{ msg i18n.Message }

func filterErrorf(key string, args ...any) error { return &filterError{msg: i18n.M(key, args...)} }

// Error returns the message in English.
func (e *filterError) Error() string { return e.msg.String() }

// Message returns the message, for the console.
func (e *filterError) Message() i18n.Message { return e.msg }

// Is reports that the error is about the filter.
func (e *filterError) Is(target error) bool { return target == ErrFilter }

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
		where := i18n.M("campaign.err.filter_on", strings.Join(lists, ", "))
		if len(lists) == 0 {
			where = i18n.M("campaign.err.filter_at_all")
		}
		msg := i18n.M("campaign.err.filter_no_one", where, c.Key)
		if c.Negate {
			msg.Key = "campaign.err.filter_everyone"
		}
		names := slices.Sorted(maps.Keys(known))
		for _, k := range names {
			if strings.EqualFold(k, c.Key) {
				return filterErrorf("campaign.err.filter_did_you_mean", msg, k)
			}
		}
		if len(names) == 0 {
			return filterErrorf("campaign.err.filter_no_attributes", msg)
		}
		return filterErrorf("campaign.err.filter_known", msg, strings.Join(names, ", "))
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
			return nil, filterErrorf("campaign.err.filter_syntax", part)
		}
		c.Key, c.Value = strings.TrimSpace(k), strings.TrimSpace(v)
		if c.Key == "" || strings.ContainsAny(c.Key, "\"\\$.[]*") {
			return nil, filterErrorf("campaign.err.filter_name", part, c.Key)
		}
		out = append(out, c)
	}
	return out, nil
}
