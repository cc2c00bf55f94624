-- The mailbox watcher matches a returned original to its delivery by
-- Message-ID when the original carries no verifiable token, and recognises a
-- message it already read under an earlier UIDVALIDITY by its Message-ID:
-- both would otherwise scan a table that grows with every campaign.

CREATE INDEX deliveries_message_id ON deliveries (message_id);
CREATE INDEX mailbox_events_message_id ON mailbox_events (mailbox, message_id);
