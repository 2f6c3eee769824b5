-- Hardening II: a per-account budget of wrong one-time-code tries and a cap on mailed codes, and
-- login attempts counted per (email, client address) with an account-wide ceiling.
-- Apply before deploying the worker that uses it (README "Deploying").

-- What happened to an account's one-time codes, one row per event, so that limits hold over
-- rolling windows across codes: `sent` (a code was mailed), `wrong` (a wrong code was tried).
-- Rows older than the longest window (24 hours) are deleted by the hourly cleanup.
CREATE TABLE code_events (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT    NOT NULL, -- 'reset'
    kind    TEXT    NOT NULL, -- 'sent' or 'wrong'
    at      INTEGER NOT NULL
);
CREATE INDEX code_events_by_account ON code_events (user_id, purpose, kind, at);
CREATE INDEX code_events_by_time ON code_events (at);

-- Login attempts per normalised email (known or unknown) and client: an IPv4 address, an IPv6
-- /64, `unknown` without CF-Connecting-IP, or `*` for the account-wide ceiling. Each attempt is
-- counted before its password is checked, so the limits hold under concurrency.
CREATE TABLE login_attempts (
    email             TEXT    NOT NULL,
    client            TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    locked_until      INTEGER,
    window_started_at INTEGER NOT NULL,
    last_attempt_at   INTEGER NOT NULL,
    PRIMARY KEY (email, client)
);
CREATE INDEX login_attempts_by_last_attempt ON login_attempts (last_attempt_at);

-- For the hourly cleanup: ended sessions and spent reset codes found through an index, not a scan.
CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX password_resets_by_issue ON password_resets (issued_at);

-- Its counts were per email only; they are short-lived, so they are not carried over.
DROP TABLE login_throttle;
