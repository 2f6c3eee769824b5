-- Passkeys (WebAuthn): sign-in without a password (README "Passkeys"). Apply before deploying
-- the worker that uses it; it only adds tables.

-- A registered credential: its id and COSE public key as the authenticator sent them (base64url),
-- the signature counter, the flags of its registration, and a name the user chose.
CREATE TABLE passkeys (
    credential_id   TEXT    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key      TEXT    NOT NULL,
    algorithm       INTEGER NOT NULL,
    sign_count      INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backed_up       INTEGER NOT NULL,
    aaguid          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A ceremony in flight: the challenge by SHA-256 digest (single use, five minutes), what it is
-- for, the account of a registration (or the email a sign-in was asked for).
CREATE TABLE passkey_challenges (
    digest     TEXT    PRIMARY KEY,
    ceremony   TEXT    NOT NULL, -- 'register' or 'login'
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges (expires_at);
CREATE INDEX passkey_challenges_by_user ON passkey_challenges (user_id) WHERE user_id IS NOT NULL;
