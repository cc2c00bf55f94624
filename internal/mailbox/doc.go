// Package mailbox reads the organisation's IMAP mailbox, where bounces,
// complaints, auto-replies, mailto unsubscribe requests and human replies
// arrive, and acts on what it reads.
//
// A Watcher keeps one IMAP connection (implicit TLS, STARTTLS or plain;
// AUTHENTICATE PLAIN when offered, LOGIN otherwise), reads the backlog first,
// then waits with IDLE when the server has it (re-issued every IdleRefresh,
// before the 29-minute limit of RFC 2177) or polls. It reconnects with a
// growing delay after any drop. A Processor does the work on each message,
// without IMAP: classify, match, act, record.
//
// # The mailbox is a record (invariant 4)
//
// Every message read becomes one row of mailbox_events, in the same
// transaction as the action on the subscriber and the checkpoint (the
// mailbox's UIDVALIDITY and the last UID recorded). Only then is the message
// moved to its folder (processed, replies, or unparsed for what cannot be
// read or recognised), created when missing; with no MOVE on the server it
// is copied there and flagged \Seen and $BulletinProcessed in place. Nothing
// is ever expunged or deleted. A crash between the record and the move
// leaves the message where it was, with its event: the next session finds it
// at or below the checkpoint and only finishes the move.
//
// Reading a message twice never acts twice: events are unique per (mailbox,
// UIDVALIDITY, UID). When UIDVALIDITY changes the watcher starts again from
// UID 1 of the new value; messages it had already read are normally gone
// from the mailbox (moved) or carry $BulletinProcessed, and one that comes
// back anyway is recognised by its Message-ID, recorded, and not acted on.
//
// # Matching
//
// In order: the verified token of the mailto unsubscribe address (for
// unsubscribe requests), the verified VERP token, the verified
// X-Bulletin-Delivery header of the returned original, the returned
// original's Message-ID, then an address: a failed recipient of a bounce or
// a complaint, or the From of a reply, an auto-reply or an unsubscribe
// request. A token that does not verify is never trusted: it is noted in
// the event's error and the next clue is tried.
//
// # Bounces that prove nothing
//
// Tokens and our Message-IDs are the only proof that a bounce or a
// complaint is about a message we sent. Anyone can mail the public bounce
// address a three-line "bounce" naming any subscriber, so a bounce or a
// complaint matched by address only never acts by itself: its event is
// recorded with the action "unverified", the named subscriber as its
// candidate (no delivery, no campaign: reports count proven bounces only),
// and counted in /metrics (bulletin_mailbox_unverified_total). An admin can
// apply it from the console's mailbox page (EffectOf, then
// store.ApplyMailboxEvent), which records their login in the subscriber's
// history.
//
// # Actions
//
// hard: bounced at once. soft: counted; soft bounces on SoftLimit distinct
// campaigns within SoftWindow make the subscriber bounced. complaint:
// complained. unsubscribe: unsubscribed, source "mailto". The others change
// nothing. Status changes go through the store's rules: history kept,
// attributed to the campaign, and a suppression never lifted or replaced.
//
// # Unsubscribe requests without a valid token
//
// The List-Unsubscribe mailto address carries a signed token, so a reader
// who presses the mail client's button is always matched by it. A request
// without one (the address typed by hand, a token mangled on the way) is
// honoured only when its From address is exactly a subscriber's address,
// and the status reason says it came without a token. A From header can be
// forged, so someone could unsubscribe a third person this way; we accept
// that because the harm is small and undone by the person's own opt-in,
// whereas ignoring a genuine request breaks the law (the right to object to
// direct marketing) and the bulk-sender rules. These requests are counted
// with the unverified bounces in /metrics, so that a wave of them shows.
// A bounce is different: no law asks us to act on one, and a forged hard
// bounce would suppress a person for good (the public side never lifts a
// bounce), hence the admin's check above.
package mailbox
