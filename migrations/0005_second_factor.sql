-- A second factor: TOTP (RFC 6238) with recovery codes, required at login and at password reset
-- once enrolled. Apply before deploying the worker that uses it (README "Deploying").

-- One authenticator per account. The secret is encrypted (src/core/secret_box.rs); `enabled_at`
-- stays NULL until a code proves the app has it. `last_used_step` is the newest time step
-- accepted, so no code works twice; `last_used_by` marks the request that accepted it.
CREATE TABLE totp_factors (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    enabled_at     INTEGER,
    last_used_step INTEGER NOT NULL DEFAULT 0,
    last_used_by   TEXT
);
-- For the hourly cleanup of enrolments never confirmed.
CREATE INDEX totp_factors_pending ON totp_factors (created_at) WHERE enabled_at IS NULL;

-- Ten single-use codes per enrolment, stored only as keyed hashes.
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER,
    used_by   TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- A password login of an account with a second factor, waiting for its code: the mfa_token by
-- SHA-256 digest, the session it will start, the password hash it verified (a reset in between
-- voids it), the client, its tries, and the request that completed it.
CREATE TABLE mfa_challenges (
    digest        TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id    TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    user_agent    TEXT,
    expires_at    INTEGER NOT NULL,
    tries         INTEGER NOT NULL DEFAULT 0,
    used_by       TEXT
);
CREATE INDEX mfa_challenges_by_user ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);
