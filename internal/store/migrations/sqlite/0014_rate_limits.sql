-- The web side's rate limits, shared by every daemon on the database
-- (issue 14): behind a load balancer, a client spreading its tries across
-- the daemons must get no more of them than from one.
--
-- One row per limiter and key: a token bucket kept as the moment it will be
-- full again (the "theoretical arrival time" of GCRA), which one statement
-- moves forward per try taken. A row whose moment has passed is a full
-- bucket, the same as no row: the hourly purge deletes it.
CREATE TABLE rate_limits (
    name     TEXT NOT NULL,     -- the limiter: login_ip, login_account, subscribe_ip...
    key_hash TEXT NOT NULL,     -- HMAC-SHA-256 (hex) of the key: no address, network or account in clear
    full_at  INTEGER NOT NULL,  -- Unix microseconds at which the bucket is full again
    PRIMARY KEY (name, key_hash)
) WITHOUT ROWID;
