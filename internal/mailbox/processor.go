package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"bulletin/internal/classify"
	"bulletin/internal/links"
	"bulletin/internal/store"
)

// How a message was matched to a delivery or a subscriber, as recorded in
// mailbox_events.matched_by, from the most trusted to the least.
const (
	ByUnsubscribeToken = "token"      // verified token of the mailto unsubscribe address
	ByVERP             = "verp"       // verified token of the VERP bounce address
	ByHeader           = "header"     // verified X-Bulletin-Delivery of the returned original
	ByMessageID        = "message-id" // Message-ID of the returned original
	ByAddress          = "address"    // a failed recipient named by the bounce: a candidate only (store.MailboxUnverified)
	ByFrom             = "from"       // the From address of a reply or request
)

// Rules are the settings that decide what a message does to a subscriber.
type Rules struct {
	// Classify says which local parts are the VERP bounce address and the
	// mailto unsubscribe address.
	Classify classify.Options
	// SoftLimit soft bounces on distinct campaigns within SoftWindow make
	// a subscriber bounced (bounces.soft_limit, bounces.soft_window).
	SoftLimit  int
	SoftWindow time.Duration
}

// Processor turns one raw message into a mailbox event: it classifies it,
// matches it to a delivery, acts on the subscriber and records the event,
// all without IMAP, so that the watcher and the tests share it.
type Processor struct {
	store *store.Storage
	links *links.Links
	rules Rules
	now   func() time.Time
}

// withDefaults fills the soft-bounce rule left at zero.
func (r Rules) withDefaults() Rules {
	if r.SoftLimit == 0 {
		r.SoftLimit = 3
	}
	if r.SoftWindow == 0 {
		r.SoftWindow = 30 * 24 * time.Hour
	}
	return r
}

// NewProcessor returns a Processor over the store, reading delivery tokens
// with lk, the links the messages were sent with. now is the clock; nil
// means time.Now.
func NewProcessor(st *store.Storage, lk *links.Links, rules Rules, now func() time.Time) *Processor {
	if now == nil {
		now = time.Now
	}
	return &Processor{store: st, links: lk, rules: rules.withDefaults(), now: now}
}

// Message is one message read from a mailbox, with its IMAP identity.
type Message struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Raw         []byte
	ReceivedAt  time.Time // INTERNALDATE; zero when unknown
	// Size is the whole message's size when Raw holds only its start
	// (a message larger than the watcher reads); 0 otherwise.
	Size int64
}

// Outcome is what processing a message gave.
type Outcome struct {
	Event  *store.MailboxEvent
	Result classify.Result
	// Folder is where the message belongs now.
	Folder Folder
	// New is false when the message had been recorded before: nothing was
	// done again.
	New bool
}

// Process classifies m, matches it, acts on the subscriber and records the
// event together with the checkpoint. Processing the same message twice
// changes nothing the second time. An error means nothing was recorded.
func (p *Processor) Process(ctx context.Context, m Message) (*Outcome, error) {
	res := classify.Classify(m.Raw, p.rules.Classify)
	ev := &store.MailboxEvent{
		Mailbox:     m.Mailbox,
		UIDValidity: m.UIDValidity,
		UID:         m.UID,
		MessageID:   messageID(m.Raw),
		From:        res.From,
		Subject:     res.Subject,
		Kind:        string(res.Kind),
		Reason:      res.Reason,
		Status:      res.Status,
		Diagnostic:  res.Diagnostic,
		Recipients:  res.FailedAddresses(),
		ReceivedAt:  m.ReceivedAt,
		ProcessedAt: p.now().UTC(),
	}
	var problems []string
	if m.Size > int64(len(m.Raw)) {
		problems = append(problems, fmt.Sprintf("only the first %d of %d bytes were read", len(m.Raw), m.Size))
	}
	switch {
	case res.Kind == classify.Unknown && res.Reason == classify.ReasonUnparseable:
		problems = append(problems, "cannot parse: "+res.Diagnostic)
	case res.Kind == classify.Unknown && res.Reason != classify.ReasonDelivered:
		problems = append(problems, "not recognised: kept for a person to read")
	}

	ref, by, matchProblems, err := p.match(ctx, res)
	if err != nil {
		return nil, err
	}
	problems = append(problems, matchProblems...)
	eff := effect(p.rules, ev.Kind, bounceReason(ev.Status, ev.Reason, ev.Diagnostic), by)
	acts := eff.Status != "" || eff.SoftBounce
	if ref != nil {
		ev.DeliveryID, ev.CampaignID, ev.SubscriberID, ev.MatchedBy = ref.DeliveryID, ref.CampaignID, ref.SubscriberID, by
		if ref.SubscriberID == 0 {
			problems = append(problems, "the subscriber was erased")
		}
	}
	if by == ByAddress {
		// Anyone can write a bounce naming anyone: the address only names
		// a candidate, which an admin may apply the event to. No delivery
		// or campaign either, so that reports count proven bounces only.
		ev.DeliveryID, ev.CampaignID = 0, 0
		if acts {
			eff.Unverified = true
			problems = append(problems, "no verified token or Message-ID of ours: not acted on, waiting for an admin")
		}
	}
	if ref == nil && acts {
		problems = append(problems, "no delivery or subscriber matches: nothing done")
	}
	ev.Error = strings.Join(problems, "; ")

	isNew, err := p.store.RecordMailboxEvent(ctx, ev, eff)
	if err != nil {
		return nil, err
	}
	return &Outcome{Event: ev, Result: res, Folder: folderFor(ev.Kind, ev.Reason), New: isNew}, nil
}

// match finds the delivery or the subscriber a message is about, in order of
// trust: a verified token (mailto unsubscribe, VERP, X-Bulletin-Delivery),
// the returned original's Message-ID, then an address. A token that does
// not verify is never used; it is reported and the next clue is tried.
func (p *Processor) match(ctx context.Context, res classify.Result) (*store.DeliveryRef, string, []string, error) {
	var problems []string
	byToken := func(tok, what string) (*store.DeliveryRef, error) {
		if tok == "" {
			return nil, nil
		}
		id, err := p.links.ParseDeliveryToken(tok)
		if err != nil {
			problems = append(problems, what+" token does not verify: ignored")
			return nil, nil
		}
		ref, err := p.store.MatchDelivery(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			problems = append(problems, what+" token names no delivery (campaign deleted?)")
			return nil, nil
		}
		return ref, err
	}
	clues := []struct{ tok, what, by string }{
		{res.VERPToken, "VERP", ByVERP},
		{res.DeliveryToken, "X-Bulletin-Delivery", ByHeader},
	}
	if res.Kind == classify.Unsubscribe {
		clues = append([]struct{ tok, what, by string }{{res.UnsubscribeToken, "unsubscribe address", ByUnsubscribeToken}}, clues...)
	}
	for _, c := range clues {
		ref, err := byToken(c.tok, c.what)
		if err != nil || ref != nil {
			return ref, c.by, problems, err
		}
	}
	if res.OriginalMessageID != "" {
		ref, err := p.store.MatchDeliveryByMessageID(ctx, res.OriginalMessageID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return ref, ByMessageID, problems, err
		}
	}

	// Addresses last. A bounce names the failed recipients; a reply, an
	// auto-reply or an unsubscribe request comes from the person. The
	// campaign header of the returned original is unsigned, so it only
	// chooses among the deliveries of an address already matched.
	var addrs []string
	by := ByAddress
	switch res.Kind {
	case classify.Hard, classify.Soft, classify.Delayed, classify.Complaint:
		addrs = res.FailedAddresses()
	case classify.Unsubscribe, classify.Reply, classify.AutoReply:
		// A complaint's From is the provider's feedback loop, never the
		// reader, so it is not tried there.
		addrs, by = []string{res.From}, ByFrom
	}
	for _, a := range addrs {
		if a == "" {
			continue
		}
		ref, err := p.store.MatchAddress(ctx, a, res.CampaignID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return ref, by, problems, err
		}
	}
	return nil, "", problems, nil
}

// EffectOf says what applying an event read earlier does to its subscriber,
// under rules: what a verified event of its kind would have done. The
// console applies unverified events with it.
func EffectOf(ev *store.MailboxEvent, rules Rules) store.MailboxEffect {
	return effect(rules.withDefaults(), ev.Kind, bounceReason(ev.Status, ev.Reason, ev.Diagnostic), ev.MatchedBy)
}

// effect says what a message of this kind, matched by by, does to the
// matched subscriber; reason is the bounce's, as bounceReason writes it.
func effect(rules Rules, kind, reason, by string) store.MailboxEffect {
	switch classify.Kind(kind) {
	case classify.Hard:
		return store.MailboxEffect{Status: store.Bounced, Source: "bounce", Reason: reason}
	case classify.Soft:
		return store.MailboxEffect{SoftBounce: true, Source: "bounce", Reason: reason,
			SoftLimit: rules.SoftLimit, SoftWindow: rules.SoftWindow}
	case classify.Complaint:
		return store.MailboxEffect{Status: store.Complained, Source: "complaint", Reason: "complaint (feedback report)"}
	case classify.Unsubscribe:
		reason := "mailto unsubscribe"
		if by == ByFrom {
			// Kept visible: the From header can be forged (see the
			// package documentation for why it is still honoured).
			reason += " from the sender's address, without a valid token"
		}
		return store.MailboxEffect{Status: store.Unsubscribed, Source: "mailto", Reason: reason}
	}
	return store.MailboxEffect{}
}

// bounceReason is the status reason kept on a bounced subscriber:
// "5.1.1 user_unknown: <the remote server's words>".
func bounceReason(status, reason, diagnostic string) string {
	s := strings.TrimSpace(status + " " + reason)
	if diagnostic != "" {
		s += ": " + diagnostic
	}
	if len(s) > 300 {
		cut := 300
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// messageID returns the Message-ID of raw without angle brackets, or "". It
// reads the header only, and tolerates a broken one: the classifier has the
// last word on whether the message can be parsed.
func messageID(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(raw, []byte("\n\n"))
	}
	if end >= 0 {
		raw = raw[:end+2]
	}
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	id := strings.TrimSpace(h.Get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if len(id) > 250 {
		return ""
	}
	return id
}
