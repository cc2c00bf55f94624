-- Texts shown to people are kept as a catalogue code and its parameters
-- (JSON), so that the console shows them in the reader's language: a
-- campaign's history and the reason of its state, a subscriber's history
-- and the reason of its status.
-- The English text columns stay: the CLI prints them, and rows written
-- before this migration have only them, shown as they are.
ALTER TABLE campaign_transitions ADD COLUMN cause_code TEXT NOT NULL DEFAULT '';
ALTER TABLE campaign_transitions ADD COLUMN cause_params TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN state_reason_code TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN state_reason_params TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriber_events ADD COLUMN detail_code TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriber_events ADD COLUMN detail_params TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN status_reason_code TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN status_reason_params TEXT NOT NULL DEFAULT '';
