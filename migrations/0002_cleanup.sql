-- For the scheduled cleanup (src/edge/scheduled.rs): when an email last tried to log in, and an
-- index to find ended sessions without scanning.
ALTER TABLE login_throttle ADD COLUMN last_attempt_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
