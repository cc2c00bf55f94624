-- Double opt-in confirmations and the mails of the public pages.
--
-- A confirmation link carries a random token; only its SHA-256 is kept, so
-- that a copy of the database does not hand out working links. The token is
-- bound to one subscriber and to the lists asked for, expires, and is spent
-- by its first use.
CREATE TABLE confirmations (
    token_hash    TEXT PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    lists         TEXT NOT NULL DEFAULT '[]', -- JSON array of list ids joined on confirming
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    used_at       TIMESTAMP
);
CREATE INDEX confirmations_subscriber ON confirmations (subscriber_id);
CREATE INDEX confirmations_expires ON confirmations (expires_at);

-- Every mail the public pages send (confirmations, "already subscribed"):
-- counted with the campaigns' deliveries against the relay's quotas, and
-- alone against the form's hourly caps, overall and per target domain. The
-- domain is all that is kept of the address.
CREATE TABLE transactional_sends (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    domain  TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE INDEX transactional_sends_at ON transactional_sends (sent_at);
CREATE INDEX transactional_sends_domain ON transactional_sends (domain, sent_at);
