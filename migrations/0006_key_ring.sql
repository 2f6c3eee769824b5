-- Secrets at rest under a key ring (README "Secrets at rest and their rotation"). Apply before
-- deploying the worker that uses it; it only adds columns.

-- A refresh token's successor is HMAC(key, token || salt) with a random salt chosen when the
-- token is spent, so the spent token and the server key alone do not yield the live successor.
-- The spending request records the successor's digest, the salt and the key's id, so a repeat
-- within the grace window gets the same successor back.
ALTER TABLE refresh_tokens ADD COLUMN successor_digest TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_salt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_key TEXT;
