-- Refusals (issue 13): a relay's permanent refusal of a recipient in the
-- SMTP session itself (to RCPT TO, or at the end of DATA), judged like a
-- bounce. refusal is 'hard' (the address does not exist: the subscriber is
-- bounced at once), 'soft' (any other 5xx: counted toward
-- bounces.soft_limit like a soft bounce), or '' (not a refusal judged so:
-- sent, retried, given up after temporary failures, a relay-wide fault).
-- refusal_reason is the classifier's reason (user_unknown, policy, ...).
ALTER TABLE deliveries ADD COLUMN refusal TEXT NOT NULL DEFAULT '' CHECK (refusal IN ('', 'hard', 'soft'));
ALTER TABLE deliveries ADD COLUMN refusal_reason TEXT NOT NULL DEFAULT '';

-- The soft-bounce rule counts a subscriber's soft refusals over a window.
CREATE INDEX deliveries_refusal ON deliveries (subscriber_id, last_attempt_at) WHERE refusal != '';
