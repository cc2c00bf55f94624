package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"bulletin/internal/i18n"
)

// PersonalData is everything held about one subscriber: what "subscriber
// show" prints and a GDPR access request gets.
type PersonalData struct {
	Subscriber    *Subscriber
	Lists         map[string]bool // list name → still on it
	Events        []SubscriberEvent
	Deliveries    []PersonalDelivery
	MailboxEvents []PersonalMailboxEvent
}

// SubscriberEvent is one line of a subscriber's history.
type SubscriberEvent struct {
	Kind     string `json:"kind"`
	Status   Status `json:"status,omitempty"`
	Source   string `json:"source"`
	Campaign string `json:"campaign,omitempty"`
	List     string `json:"list,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Note is Detail for a page, in the reader's language.
	Note i18n.Message `json:"-"`
	At   time.Time    `json:"at"`
}

// PersonalDelivery is one campaign message to the subscriber.
type PersonalDelivery struct {
	Campaign string    `json:"campaign"`
	State    string    `json:"state"`
	Reply    string    `json:"reply,omitempty"`
	SentAt   time.Time `json:"sent_at,omitzero"`
}

// PersonalMailboxEvent is one message from the subscriber's side read in the
// mailbox (a bounce, a complaint, a reply).
type PersonalMailboxEvent struct {
	Kind    string    `json:"kind"`
	Reason  string    `json:"reason,omitempty"`
	Subject string    `json:"subject,omitempty"`
	At      time.Time `json:"at"`
}

// PersonalData gathers everything held about the subscriber with this address.
func (s *Storage) PersonalData(ctx context.Context, email string) (*PersonalData, error) {
	sub, err := s.SubscriberByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	p := &PersonalData{Subscriber: sub, Events: []SubscriberEvent{}, Deliveries: []PersonalDelivery{}, MailboxEvents: []PersonalMailboxEvent{}}
	if p.Lists, err = s.SubscriberLists(ctx, sub.ID); err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT e.kind, e.status, e.source, coalesce(c.name, ''), coalesce(l.name, ''), e.detail, e.detail_code,
		e.detail_params, e.at
		FROM subscriber_events e LEFT JOIN campaigns c ON c.id = e.campaign_id LEFT JOIN lists l ON l.id = e.list_id
		WHERE e.subscriber_id = ? ORDER BY e.id`, []any{sub.ID}, func(rows *sql.Rows) error {
		var e SubscriberEvent
		var code, params string
		if err := rows.Scan(&e.Kind, &e.Status, &e.Source, &e.Campaign, &e.List, &e.Detail, &code, &params, &e.At); err != nil {
			return err
		}
		e.Note = i18n.Stored(code, params, e.Detail)
		p.Events = append(p.Events, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT c.name, d.state, d.reply, d.sent_at FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE d.subscriber_id = ? ORDER BY d.id`, []any{sub.ID}, func(rows *sql.Rows) error {
		var d PersonalDelivery
		var sent sql.NullTime
		if err := rows.Scan(&d.Campaign, &d.State, &d.Reply, &sent); err != nil {
			return err
		}
		d.SentAt = sent.Time
		p.Deliveries = append(p.Deliveries, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT kind, reason, subject, processed_at FROM mailbox_events WHERE subscriber_id = ? ORDER BY id`,
		[]any{sub.ID}, func(rows *sql.Rows) error {
			var m PersonalMailboxEvent
			if err := rows.Scan(&m.Kind, &m.Reason, &m.Subject, &m.At); err != nil {
				return err
			}
			p.MailboxEvents = append(p.MailboxEvents, m)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MarshalJSON writes the record with plain field names, for people and scripts.
func (p *PersonalData) MarshalJSON() ([]byte, error) {
	sub := p.Subscriber
	return json.Marshal(map[string]any{
		"uuid":              sub.UUID,
		"email":             sub.Email,
		"first_name":        sub.FirstName,
		"last_name":         sub.LastName,
		"organisation":      sub.Organisation,
		"attributes":        nonNil(sub.Attributes),
		"status":            sub.Status,
		"status_reason":     sub.StatusReason,
		"status_changed_at": sub.StatusChangedAt,
		"consent": map[string]any{
			"source": sub.Consent.Source, "at": nullTime(sub.Consent.At).Time, "ip": sub.Consent.IP, "text": sub.Consent.Text,
		},
		"created_at":     sub.CreatedAt,
		"updated_at":     sub.UpdatedAt,
		"lists":          p.Lists,
		"history":        p.Events,
		"deliveries":     p.Deliveries,
		"mailbox_events": p.MailboxEvents,
	})
}

// each runs a query on the readers and calls fn for each row.
func (s *Storage) each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	if err := eachRow(ctx, s.r, q, args, fn); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
