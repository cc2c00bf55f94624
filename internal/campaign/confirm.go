package campaign

import (
	"context"
	"slices"

	"bulletin/internal/store"
)

// Preview is what staff confirm before a campaign goes out now: who gets
// it, from whom, and whether the same edition already went to these lists.
type Preview struct {
	Campaign *store.Campaign
	From     string // the campaign's From, or the configured default
	Expected store.Expected
	// Earlier are the other campaigns of the same edition that started
	// sending to at least one of the same lists: sending again mails the
	// same letter twice to the people on both.
	Earlier []*store.Campaign
}

// Confirm returns the preview of sending c now; defaultFrom is sending.from,
// used when c has no From of its own. A campaign that could not start (a
// filter naming no attribute, a subject on two lines) is refused here,
// before anyone is asked to confirm it.
func Confirm(ctx context.Context, st *store.Storage, c *store.Campaign, defaultFrom string) (*Preview, error) {
	if err := startable(ctx, st, c); err != nil {
		return nil, err
	}
	conds, err := ParseFilter(c.Filter)
	if err != nil {
		return nil, err
	}
	p := &Preview{Campaign: c, From: c.From}
	if p.From == "" {
		p.From = defaultFrom
	}
	if p.Expected, err = st.ExpectedRecipients(ctx, c.ID, conds); err != nil {
		return nil, err
	}
	all, err := st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		started := o.State == store.Sending || o.State == store.Paused || o.State == store.Sent
		shared := slices.ContainsFunc(o.ListIDs, func(id int64) bool { return slices.Contains(c.ListIDs, id) })
		if o.ID != c.ID && o.EditionID == c.EditionID && started && shared {
			p.Earlier = append(p.Earlier, o)
		}
	}
	return p, nil
}
