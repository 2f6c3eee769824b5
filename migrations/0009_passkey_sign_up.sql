-- Sign-up with a passkey and no password (README "Passkeys"): the account is created only when
-- the emailed code and the new passkey arrive together, so nobody can hold an address they
-- cannot read. Apply before deploying the worker that uses it; it only adds a table. The
-- ceremony of a passkey_challenges row may now also be 'second_factor' (a passkey after a
-- password).

-- A sign-up in flight, by its WebAuthn challenge's SHA-256 digest: the address and name asked
-- for, the keyed hash of the code mailed there (NULL when the address had an account already:
-- no code can complete it, and its owner got a notice instead), the tries at the code, and who
-- used it. Rows stay a day after they were made, for the per-address caps (mails per hour,
-- wrong tries per day).
CREATE TABLE passkey_signups (
    digest      TEXT    PRIMARY KEY,
    email       TEXT    NOT NULL,
    name        TEXT,
    code_hash   TEXT,
    tries       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_by     TEXT
);
CREATE INDEX passkey_signups_by_email ON passkey_signups (email, created_at);
CREATE INDEX passkey_signups_by_age ON passkey_signups (created_at);
