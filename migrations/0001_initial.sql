-- Users, sessions with rotating refresh tokens, reset codes, and login throttling.
-- Times are Unix seconds. D1 has no BEGIN; every rule that must be atomic is one statement or one
-- batch (a batch runs as a single transaction).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Trimmed and lower-cased by the worker before it gets here: one row per account.
    email         TEXT    NOT NULL UNIQUE,
    -- A PHC string: argon2id, or bcrypt for accounts imported from the Flask API until their next login.
    password_hash TEXT    NOT NULL,
    name          TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row per login. Revoking it ends its refresh tokens and its access tokens at once.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    -- Absolute end of the session: login time + REFRESH_TOKEN_TTL_SECONDS; refreshing never extends it.
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Every refresh token a session was given, by SHA-256 digest. A spent token keeps its row so that
-- presenting it again is recognised as reuse (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    digest     TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    rotated_at INTEGER
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- The one live reset code of an account: a new code replaces the row, so only the newest works.
CREATE TABLE password_resets (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash      TEXT    NOT NULL,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    -- Set once, by the request that used the code (a random marker), so a batch can tell it won.
    used_by        TEXT
);

-- Login attempts per normalised email, known or unknown. `attempts` counts every attempt since the
-- last success or lockout end, so the limit holds under concurrency (each attempt reserves a slot).
CREATE TABLE login_throttle (
    email        TEXT    PRIMARY KEY,
    attempts     INTEGER NOT NULL,
    locked_until INTEGER
);
