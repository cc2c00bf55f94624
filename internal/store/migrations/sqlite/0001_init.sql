-- The core of Bulletin: subscribers and lists, editions, campaigns and their
-- ledger, mailbox events. Times are UTC TIMESTAMPs (go-sqlite3 reads them back
-- as time.Time). Public identifiers are UUIDs; integer ids never leave the store.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE subscribers (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    email             TEXT NOT NULL,            -- normalised: local part as written, domain lower-case IDNA
    email_key         TEXT NOT NULL UNIQUE,     -- address.Key: the case-insensitive identity
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT NOT NULL DEFAULT '',
    organisation      TEXT NOT NULL DEFAULT '',
    attributes        TEXT NOT NULL DEFAULT '{}', -- JSON object of free key/values
    status            TEXT NOT NULL CHECK (status IN ('active', 'pending', 'unsubscribed', 'bounced', 'complained')),
    status_reason     TEXT NOT NULL DEFAULT '',
    status_changed_at TIMESTAMP NOT NULL,
    consent_source    TEXT NOT NULL DEFAULT '', -- "import FILE", "form", "admin", "api"
    consent_at        TIMESTAMP,
    consent_ip        TEXT NOT NULL DEFAULT '',
    consent_text      TEXT NOT NULL DEFAULT '',
    import_run        INTEGER NOT NULL DEFAULT 0, -- last import that wrote the row, and the line:
    import_line       INTEGER NOT NULL DEFAULT 0, -- they find duplicates within a file without memory
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX subscribers_status ON subscribers (status);

-- What is left of an erased subscriber: the SHA-256 of its address key, so
-- that the address is never mailed again and nothing else is kept.
CREATE TABLE suppressions (
    email_hash TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    public      INTEGER NOT NULL DEFAULT 0, -- offered on the subscribe form, archive shown
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE list_members (
    list_id       INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    -- unsubscribed: the person left this list only (preference page); the
    -- subscriber's own status still governs every list.
    status        TEXT NOT NULL DEFAULT 'subscribed' CHECK (status IN ('subscribed', 'unsubscribed')),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (list_id, subscriber_id)
) WITHOUT ROWID;
CREATE INDEX list_members_subscriber ON list_members (subscriber_id);

CREATE TABLE editions (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT NOT NULL UNIQUE,
    slug       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL,            -- the edition file: YAML front matter and Markdown
    dir        TEXT NOT NULL DEFAULT '', -- folder of its media files, when it came from a file
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    edition_id   INTEGER NOT NULL REFERENCES editions (id),
    subject      TEXT NOT NULL,
    from_addr    TEXT NOT NULL,
    reply_to     TEXT NOT NULL DEFAULT '',
    filter       TEXT NOT NULL DEFAULT '',  -- optional filter on attributes
    state        TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'failed')),
    state_reason TEXT NOT NULL DEFAULT '',
    send_at      TIMESTAMP,                 -- when scheduled
    content      TEXT,                      -- the edition source frozen when sending starts
    track        INTEGER NOT NULL DEFAULT 0, -- opens and clicks; off unless chosen (CNIL)
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_state ON campaigns (state);

CREATE TABLE campaign_lists (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id     INTEGER NOT NULL REFERENCES lists (id),
    PRIMARY KEY (campaign_id, list_id)
) WITHOUT ROWID;

-- Every change of a campaign's state, with its cause.
CREATE TABLE campaign_transitions (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    cause       TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX campaign_transitions_campaign ON campaign_transitions (campaign_id);

-- The ledger: one row per (campaign, subscriber), the truth for reports.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id   INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    email           TEXT NOT NULL,  -- the address used; blanked when the subscriber is erased
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    smtp_code       INTEGER NOT NULL DEFAULT 0,
    enhanced_code   TEXT NOT NULL DEFAULT '',
    reply           TEXT NOT NULL DEFAULT '',  -- the relay's own words, or the skip reason's detail
    skip_reason     TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    duplicates      INTEGER NOT NULL DEFAULT 0, -- sends that may have reached the reader twice (in flight at a crash)
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX deliveries_campaign_state ON deliveries (campaign_id, state);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_sent_at ON deliveries (sent_at);

-- What happened to subscribers over time: figures per quarter and edition,
-- and unsubscribes attributed to campaigns. Erasure keeps the rows, without
-- the subscriber.
CREATE TABLE subscriber_events (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    kind          TEXT NOT NULL,            -- created, status, list_added, list_removed, erased
    status        TEXT NOT NULL DEFAULT '', -- the new status, for kind status
    source        TEXT NOT NULL,            -- import FILE, one-click, link, mailto, bounce, complaint, admin, api, form
    campaign_id   INTEGER REFERENCES campaigns (id) ON DELETE SET NULL,
    list_id       INTEGER REFERENCES lists (id) ON DELETE SET NULL,
    detail        TEXT NOT NULL DEFAULT '',
    at            TIMESTAMP NOT NULL
);
CREATE INDEX subscriber_events_at ON subscriber_events (at);
CREATE INDEX subscriber_events_campaign ON subscriber_events (campaign_id);
CREATE INDEX subscriber_events_subscriber ON subscriber_events (subscriber_id);

-- Every message read from the IMAP mailbox.
CREATE TABLE mailbox_events (
    id             INTEGER PRIMARY KEY,
    mailbox        TEXT NOT NULL,
    uid_validity   INTEGER NOT NULL,
    uid            INTEGER NOT NULL,
    message_id     TEXT NOT NULL DEFAULT '',
    from_addr      TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,            -- hard, soft, delayed, complaint, autoreply, unsubscribe, reply, unknown
    reason         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT '',
    diagnostic     TEXT NOT NULL DEFAULT '',
    recipients     TEXT NOT NULL DEFAULT '[]', -- JSON array
    delivery_id    INTEGER REFERENCES deliveries (id) ON DELETE SET NULL,
    campaign_id    INTEGER REFERENCES campaigns (id) ON DELETE SET NULL,
    subscriber_id  INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    matched_by     TEXT NOT NULL DEFAULT '',  -- verp, header, message-id, address, token
    action         TEXT NOT NULL DEFAULT '',  -- what Bulletin did: suppressed, counted, unsubscribed, none
    folder         TEXT NOT NULL DEFAULT '',  -- where the message was moved or "flagged"
    error          TEXT NOT NULL DEFAULT '',  -- why it could not be parsed or acted on
    received_at    TIMESTAMP,
    processed_at   TIMESTAMP NOT NULL,
    UNIQUE (mailbox, uid_validity, uid)
);
CREATE INDEX mailbox_events_campaign ON mailbox_events (campaign_id, kind);
CREATE INDEX mailbox_events_subscriber ON mailbox_events (subscriber_id, kind);

CREATE TABLE mailbox_checkpoints (
    mailbox      TEXT PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
