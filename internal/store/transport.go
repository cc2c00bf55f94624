package store

import (
	"context"
	"fmt"
)

// OutboxReplyPrefix begins the reply the outbox transport records for each
// message it writes ("outbox: /srv/bulletin/data/outbox/….eml"): the ledger
// tells from it that a delivery in state sent went to a folder, not out.
const OutboxReplyPrefix = "outbox: "

// CampaignOutboxed counts the campaign's deliveries in state sent that the
// outbox transport wrote rather than a relay accepted.
func (s *Storage) CampaignOutboxed(ctx context.Context, campaignID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = ? AND state = ? AND substr(reply, 1, ?) = ?`,
		campaignID, Delivered, len(OutboxReplyPrefix), OutboxReplyPrefix).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: outboxed deliveries: %w", err)
	}
	return n, nil
}
