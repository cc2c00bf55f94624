-- Erasure hashes become keyed: HMAC(key, SHA-256(address key)), the key
-- derived from the server secret, so that a copy of the database cannot be
-- tested against a list of known addresses. The rows kept so far hold the
-- plain SHA-256; they are marked keyed = 0 here and re-keyed once by the
-- store when it opens with the key (store/erasure.go). New rows are keyed.
ALTER TABLE suppressions ADD COLUMN keyed INTEGER NOT NULL DEFAULT 1;
UPDATE suppressions SET keyed = 0;
