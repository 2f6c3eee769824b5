-- The rest of an account's life: verified emails, email change, sessions a user can list.
-- Apply before deploying the worker that uses it (README "Deploying").

-- When the account proved it reads its mailbox (a verification code, an email-change code or a
-- password reset by code). Accounts from before this migration start unverified.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- What GET /sessions shows: the last refresh, and the login's User-Agent, shortened.
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;

-- The one live emailed code of an account per purpose: `verify` (its address) or `change` (to
-- `new_email`). A new code replaces the row, so only the newest works; the code is stored only as
-- a keyed hash. Wrong tries and mailed codes are counted in code_events under the same purpose.
CREATE TABLE email_codes (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose        TEXT    NOT NULL,
    code_hash      TEXT    NOT NULL,
    new_email      TEXT,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    -- Set once, by the request that used the code (a random marker), so a batch can tell it won.
    used_by        TEXT,
    PRIMARY KEY (user_id, purpose)
);
-- For the hourly cleanup.
CREATE INDEX email_codes_by_issue ON email_codes (issued_at);
