-- Mailbox events get a public identifier: the console's apply link names an
-- event by it, never by its row id (row ids never leave the store).
-- ALTER TABLE cannot add a column whose default is an expression, so the
-- rows kept so far are given a random version-4 UUID here, each call of
-- randomblob drawn anew for every row; the store gives new rows theirs.
ALTER TABLE mailbox_events ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
UPDATE mailbox_events SET uuid = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) ||
    substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
CREATE UNIQUE INDEX mailbox_events_uuid ON mailbox_events (uuid);
