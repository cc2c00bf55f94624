// Package classify turns one raw mail message read from the mailbox into a
// classification: a hard or soft bounce, a delivery delay, a complaint, an
// auto-reply, a mailto unsubscribe request, a human reply, or unknown.
//
// Classify is a pure function: no I/O, no clock, no package-level mutable
// state, so the mailbox watcher, the CLI (`bulletin mailbox classify`) and the
// tests all get the same answer for the same bytes. It reads RFC 3464/6522
// delivery status notifications, RFC 5965 feedback reports, RFC 3834
// auto-replies, and the plain-text bounces that real MTAs still send (Postfix,
// Sendmail, Exim, qmail, Exchange, Domino, Gmail, Yahoo, Amazon SES, French and
// Japanese providers...), in English and French.
//
// The deciding rule for bounces is that the address must be shown dead before
// a bounce is called hard: user unknown, no such domain, mailbox moved. Every
// other failure, including 5.x.x rejections for spam, policy or reputation, is
// soft, because it says more about the sender than about the address.
package classify

import (
	"fmt"
	"strings"

	// Registers the legacy charsets (ISO-2022-JP, Windows-1252, ISO-8859-x...)
	// with go-message, so that bounces from Japanese carriers and old
	// Exchange servers decode to UTF-8.
	_ "github.com/emersion/go-message/charset"
)

// Kind is the coarse classification of a message. Its string values are part
// of the CLI contract (`bulletin mailbox classify --json`).
type Kind string

// The kinds, exactly as printed by the CLI.
const (
	// Hard means at least one recipient address is dead (user unknown, no
	// such domain, mailbox moved): suppress it at once.
	Hard Kind = "hard"
	// Soft is every other delivery failure: temporary errors, full
	// mailboxes, expired messages, and rejections for spam, policy or
	// reputation even with a 5.x.x status.
	Soft Kind = "soft"
	// Delayed is a warning that delivery is still being retried; not a
	// failure.
	Delayed Kind = "delayed"
	// Complaint is a feedback report (RFC 5965 ARF and provider variants):
	// the recipient marked the message as spam.
	Complaint Kind = "complaint"
	// AutoReply is an automatic answer from a person's mailbox: vacation,
	// out of office (RFC 3834).
	AutoReply Kind = "autoreply"
	// Unsubscribe is a request to stop receiving the newsletter, sent to the
	// mailto unsubscribe address or with "unsubscribe" as its whole meaning.
	Unsubscribe Kind = "unsubscribe"
	// Reply is anything else written by a person.
	Reply Kind = "reply"
	// Unknown is empty or unparseable input, or an automatic message that
	// asks for no action (a success notification, for instance).
	Unknown Kind = "unknown"
)

// Reasons are the finer, stable snake_case causes that reports group by. The
// set may grow; existing values keep their meaning.
const (
	ReasonUserUnknown   = "user_unknown"    // the mailbox does not exist (hard)
	ReasonHostUnknown   = "host_unknown"    // the domain or host does not exist (hard)
	ReasonHasMoved      = "has_moved"       // the mailbox moved or the address changed (hard)
	ReasonNotAccept     = "not_accept"      // the domain accepts no mail at all, null MX (hard)
	ReasonMailboxFull   = "mailbox_full"    // over quota
	ReasonSuspended     = "suspended"       // account disabled, suspended or frozen: may come back
	ReasonTooBig        = "message_too_big" // message exceeds a size limit
	ReasonExpired       = "expired"         // gave up after retrying for too long
	ReasonNetwork       = "network_error"   // connection, DNS or routing trouble on the way
	ReasonBlocked       = "blocked"         // sending IP or domain blocked, blocklisted, no PTR, bad reputation
	ReasonSpam          = "spam"            // message judged to be spam
	ReasonVirus         = "virus"           // message judged to carry malware
	ReasonFiltered      = "filtered"        // refused by a recipient-side filter after the address was accepted
	ReasonPolicy        = "policy"          // local policy refusal
	ReasonAuthFailure   = "auth_failure"    // SPF, DKIM or DMARC failure
	ReasonRateLimited   = "rate_limited"    // too many messages or connections
	ReasonContent       = "content"         // malformed or refused content
	ReasonRejected      = "rejected"        // the sender (not the recipient) was refused
	ReasonNoRelaying    = "no_relaying"     // relay access denied
	ReasonSecurity      = "security_error"  // TLS or authentication requirement not met
	ReasonSystemError   = "system_error"    // the remote system failed
	ReasonMailerError   = "mailer_error"    // a local delivery program failed
	ReasonOnHold        = "on_hold"         // held, no decision yet
	ReasonDelayed       = "delayed"         // delivery still being retried
	ReasonFeedback      = "feedback"        // a complaint (feedback report)
	ReasonVacation      = "vacation"        // an auto-reply
	ReasonListRobot     = "list_robot"      // a mailing-list program's answer (loop alert, command error)
	ReasonUnsubscribe   = "unsubscribe"     // a mailto unsubscribe request
	ReasonReply         = "reply"           // a human reply
	ReasonDelivered     = "delivered"       // a success notification: nothing to do
	ReasonUnparseable   = "unparseable"     // the bytes are not a mail message
	ReasonUnknownReason = "unknown"         // a failure whose cause could not be read
)

// Options tunes the addresses Classify recognises. The zero value is ready to
// use.
type Options struct {
	// BounceLocal is the local part of the VERP envelope sender, before the
	// "+token" ("bounces" when empty).
	BounceLocal string
	// UnsubscribeLocal is the local part of the mailto unsubscribe address,
	// before the "+token" ("unsubscribe" when empty).
	UnsubscribeLocal string
}

func (o Options) withDefaults() Options {
	if o.BounceLocal == "" {
		o.BounceLocal = "bounces"
	}
	if o.UnsubscribeLocal == "" {
		o.UnsubscribeLocal = "unsubscribe"
	}
	o.BounceLocal = strings.ToLower(o.BounceLocal)
	o.UnsubscribeLocal = strings.ToLower(o.UnsubscribeLocal)
	return o
}

// Recipient is one recipient named by a bounce or a delay notification.
type Recipient struct {
	// Address is lower-cased.
	Address string `json:"address"`
	// Action is the RFC 3464 action ("failed", "delayed"), lower-cased, as
	// read or inferred.
	Action string `json:"action,omitempty"`
	// Status is the RFC 3463 enhanced status code ("5.1.1"), read or
	// inferred from a quoted SMTP reply, or "".
	Status string `json:"status,omitempty"`
	// Diagnostic is the remote server's or the bounce's own words, one line.
	Diagnostic string `json:"diagnostic,omitempty"`
	// Reason is one of the Reason* constants.
	Reason string `json:"reason"`
	// Kind is Hard, Soft or Delayed.
	Kind Kind `json:"kind"`
}

// Result is the classification of one message.
type Result struct {
	// Kind is the coarse classification.
	Kind Kind `json:"kind"`
	// Reason is the finer reason of the first failed recipient, or of the
	// message (see the Reason* constants).
	Reason string `json:"reason"`
	// Status is the RFC 3463 code of the first failed recipient, or "".
	Status string `json:"status"`
	// Diagnostic is the relay's or the bounce's own words for the first
	// recipient (or the parse error for Unknown), one trimmed line of at
	// most about 500 characters.
	Diagnostic string `json:"diagnostic"`
	// Recipients lists every failed or delayed recipient, lower-cased,
	// deduplicated, in message order. For a complaint it holds the
	// complained-about address when the report gives it.
	Recipients []Recipient `json:"recipients"`
	// From is the sender address of the message, lower-cased.
	From string `json:"from"`
	// Subject is the decoded subject of the message.
	Subject string `json:"subject"`

	// The matching clues below are raw and unverified: the caller checks
	// their signatures before trusting them.

	// VERPToken is the "+token" of a `<BounceLocal>+token@...` address found
	// in the addressing (Delivered-To, X-Original-To, To, Envelope-To,
	// X-Envelope-To) or in the returned original's Return-Path.
	VERPToken string `json:"verp_token,omitempty"`
	// DeliveryToken is the X-Bulletin-Delivery header of the returned
	// original (message/rfc822, text/rfc822-headers, or quoted inline).
	DeliveryToken string `json:"delivery_token,omitempty"`
	// CampaignID is the X-Bulletin-Campaign header of the returned original.
	CampaignID string `json:"campaign_id,omitempty"`
	// OriginalMessageID is the Message-ID of the returned original, without
	// angle brackets.
	OriginalMessageID string `json:"original_message_id,omitempty"`
	// UnsubscribeToken is the "+token" of the unsubscribe address, for kind
	// Unsubscribe.
	UnsubscribeToken string `json:"unsubscribe_token,omitempty"`
}

// FailedAddresses returns the addresses of Recipients, in order; never nil.
func (r Result) FailedAddresses() []string {
	out := make([]string, 0, len(r.Recipients))
	for _, rc := range r.Recipients {
		out = append(out, rc.Address)
	}
	return out
}

// Classify classifies one raw RFC 5322 message. It never panics and never
// fails: input that is not a mail message gives Kind Unknown with the parse
// error in Diagnostic.
func Classify(raw []byte, opts Options) (res Result) {
	defer func() {
		// classify is fuzzed without this net; the net only guarantees the
		// mailbox watcher survives a bug that fuzzing has not found yet.
		if p := recover(); p != nil {
			res = Result{
				Kind:       Unknown,
				Reason:     ReasonUnparseable,
				Diagnostic: oneLine(fmt.Sprintf("internal error: %v", p)),
				Recipients: []Recipient{},
			}
		}
	}()
	return classify(raw, opts.withDefaults())
}

// classify does the work of Classify, without the recover net.
func classify(raw []byte, opts Options) Result {
	return classifyAt(raw, opts, 0)
}

// classifyAt classifies a message wrapped in depth other bounces.
func classifyAt(raw []byte, opts Options, depth int) Result {
	m, err := parseMessage(raw)
	if err != nil {
		return Result{
			Kind:       Unknown,
			Reason:     ReasonUnparseable,
			Diagnostic: oneLine(err.Error()),
			Recipients: []Recipient{},
		}
	}
	res := Result{
		Recipients: []Recipient{},
		From:       m.from(),
		Subject:    m.subject(),
	}
	m.opts, m.depth, m.memo = opts, depth, memo{}
	m.splitQuotedOriginal()
	collectClues(m, opts, &res)

	// Order matters: a feedback report quotes a message and a bounce can
	// carry Auto-Submitted, so the report shapes are read before the
	// auto-reply signs, and all of them before the mailto unsubscribe. A
	// list program's answer says "not delivered" to the list's members,
	// so it is told apart before the bounce shapes.
	switch {
	case classifyComplaint(m, opts, &res):
	case classifyListRobot(m, &res):
	case classifyBounce(m, &res):
	case classifyAutoReply(m, &res):
	case classifyUnsubscribe(m, opts, &res):
	case isAutomated(m):
		// A notification from a robot that is neither a bounce nor a
		// complaint (a success DSN, a list confirmation request): nothing a
		// person wrote, nothing to act on.
		res.Kind = Unknown
		if res.Reason == "" {
			res.Reason = ReasonUnknownReason
		}
	default:
		res.Kind = Reply
		res.Reason = ReasonReply
	}
	if res.Recipients == nil {
		res.Recipients = []Recipient{}
	}
	return res
}
