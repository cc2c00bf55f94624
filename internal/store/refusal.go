package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The kinds of refusal a failed delivery may carry (deliveries.refusal).
const (
	// RefusedHard: the relay said the address does not exist.
	RefusedHard = "hard"
	// RefusedSoft: any other permanent refusal of the recipient (policy,
	// spam, blocked, message too big).
	RefusedSoft = "soft"
)

// Refusal is a relay's permanent refusal of a delivery's recipient in the
// SMTP session (RCPT TO or the end of DATA), judged like a bounce. A hard
// one bounces the subscriber at once, with the relay's reply as the
// reason; a soft one counts toward the soft-bounce rule, with the soft
// bounces read from the mailbox.
type Refusal struct {
	Kind   string // RefusedHard or RefusedSoft
	Reason string // the classifier's reason: user_unknown, policy, ...
	// SoftLimit soft failures on distinct campaigns within SoftWindow
	// make the subscriber bounced (bounces.soft_limit, soft_window).
	SoftLimit  int
	SoftWindow time.Duration
}

// softLimitChange applies the soft-bounce rule to a subscriber after a soft
// failure at time at in campaign campaignID: it counts the distinct
// campaigns in which the subscriber failed softly within window before at,
// soft bounces read from the mailbox (duplicates aside) and soft refusals
// by the relay alike, the one just recorded included. It returns the
// change to bounced when they reach limit (limit <= 0: never), with last,
// the latest failure's words, in its reason.
func softLimitChange(ctx context.Context, tx dbtx, subscriberID, campaignID int64, at time.Time, limit int, window time.Duration,
	source, last string) (StatusChange, bool, error) {
	since := at.Add(-window).UTC()
	// Distinct campaigns: several failures in one campaign (a retry, a
	// message read twice) are one failure, not several.
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT campaign_id) FROM (
		SELECT campaign_id FROM mailbox_events WHERE subscriber_id = ?1 AND kind = 'soft' AND campaign_id IS NOT NULL
			AND action != ?2 AND coalesce(received_at, processed_at) >= ?3
		UNION ALL
		SELECT campaign_id FROM deliveries WHERE subscriber_id = ?1 AND refusal = 'soft' AND state = 'failed'
			AND last_attempt_at >= ?3) AS failures`, subscriberID, MailboxDuplicate, since).Scan(&n)
	if err != nil {
		return StatusChange{}, false, err
	}
	if limit <= 0 || n < limit {
		return StatusChange{}, false, nil
	}
	c := StatusChange{Status: Bounced, Source: source, CampaignID: campaignID,
		Reason: fmt.Sprintf("soft bounces: %d in %s", n, days(window))}
	if last != "" {
		c.Reason += " (last: " + last + ")"
	}
	return c, true, nil
}

// applyRefusal acts on the subscriber of a delivery that the relay refused
// for good, within tx: a hard refusal bounces them with reply as the
// reason; a soft one bounces them when it reaches the soft-bounce rule. A
// suppressed or erased subscriber is left as they are (invariant 1).
func applyRefusal(ctx context.Context, tx *sql.Tx, deliveryID int64, ref *Refusal, reply string, at time.Time) error {
	var sub sql.NullInt64
	var campaignID int64
	if err := tx.QueryRowContext(ctx, "SELECT subscriber_id, campaign_id FROM deliveries WHERE id = ?", deliveryID).
		Scan(&sub, &campaignID); err != nil {
		return err
	}
	if !sub.Valid {
		return nil // erased meanwhile
	}
	change := StatusChange{Status: Bounced, Source: "relay", Reason: reply, CampaignID: campaignID}
	if ref.Kind == RefusedSoft {
		var reached bool
		var err error
		change, reached, err = softLimitChange(ctx, tx, sub.Int64, campaignID, at, ref.SoftLimit, ref.SoftWindow, "relay", reply)
		if err != nil || !reached {
			return err
		}
	}
	_, _, err := changeStatus(ctx, tx, sub.Int64, change)
	if errors.Is(err, ErrSuppressed) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
