-- Several daemons on one database (issue 14).
--
-- Several engines send one campaign together. Each holds a lease of its
-- own on the campaign, which its heartbeat renews; an engine whose lease
-- has expired is presumed dead. A delivery in flight records the engine
-- that claimed it, so that another engine sends again (counted as a
-- possible duplicate) what a dead one left in flight, and a presumed-dead
-- engine's late outcomes do not overwrite those of the new send. The
-- exclusive lease on the campaign row goes.
CREATE TABLE campaign_leases (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,             -- the engine, host:pid:random
    expires_at  TIMESTAMPTZ NOT NULL,      -- the heartbeat keeps it in the future
    PRIMARY KEY (campaign_id, owner)
);
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''; -- the engine that marked it in flight
ALTER TABLE campaigns DROP COLUMN lease_owner;
ALTER TABLE campaigns DROP COLUMN lease_until;

-- What one daemon only may do at a time, whatever the number of daemons
-- (reading the IMAP mailbox): a named lease, renewed while held, taken over
-- by another daemon once it has expired.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,               -- "mailbox"
    owner      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
