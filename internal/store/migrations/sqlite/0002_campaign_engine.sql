-- The sending engine: a lease on the campaign being sent, so that two
-- processes sharing the database never send the same campaign; when each
-- delivery was first and last tried, for retries bounded in age; and the
-- persisted recurring schedules.

ALTER TABLE campaigns ADD COLUMN lease_owner TEXT NOT NULL DEFAULT ''; -- the engine sending it, "" when none
ALTER TABLE campaigns ADD COLUMN lease_until TIMESTAMP;                -- the owner's heartbeat keeps it in the future

ALTER TABLE deliveries ADD COLUMN first_attempt_at TIMESTAMP;
ALTER TABLE deliveries ADD COLUMN last_attempt_at TIMESTAMP;

-- The engine's queue: the next rows of a campaign due to be sent.
CREATE INDEX deliveries_queue ON deliveries (campaign_id, state, next_attempt_at, id);

-- Recurring schedules (cron specifications in schedule.timezone): a reminder
-- mailed to staff, or a campaign copied and sent each time.
CREATE TABLE schedules (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    spec          TEXT NOT NULL,             -- "0 9 1 */3 *"
    kind          TEXT NOT NULL CHECK (kind IN ('reminder', 'campaign')),
    reminder      TEXT NOT NULL DEFAULT '',  -- the reminder's text
    campaign_id   INTEGER REFERENCES campaigns (id) ON DELETE CASCADE,
    next_at       TIMESTAMP NOT NULL,        -- the next firing; moved forward atomically, so it fires once
    last_fired_at TIMESTAMP,
    last_result   TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX schedules_next ON schedules (enabled, next_at);
