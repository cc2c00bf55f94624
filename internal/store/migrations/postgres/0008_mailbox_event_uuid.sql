-- Mailbox events get a public identifier: the console's apply link names an
-- event by it, never by its row id (row ids never leave the store).
ALTER TABLE mailbox_events ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
UPDATE mailbox_events SET uuid = gen_random_uuid()::text;
CREATE UNIQUE INDEX mailbox_events_uuid ON mailbox_events (uuid);
