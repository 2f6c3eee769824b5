-- Sign-in by emailed code or link (docs/email-sign-in.md) joins the one code table under the
-- purpose 'sign_in'. Its codes are keyed by address, since an address may have no account yet
-- (sign-up by email): email_codes and code_events gain an `address` column and lose NOT NULL on
-- `user_id`; a sign-in code also carries its link's keyed hash, the app's PKCE challenge and
-- where its link goes, and code_events the client address of each mail sent, for the per-client
-- cap. SQLite cannot drop NOT NULL in place, so both tables are rebuilt; every row, and so every
-- live code and budget, is carried over.
CREATE TABLE email_codes_next (
    user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
    purpose        TEXT    NOT NULL,
    code_hash      TEXT    NOT NULL,
    new_email      TEXT,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    used_by        TEXT,
    address        TEXT,
    link_hash      TEXT,
    code_challenge TEXT,
    redirect_to    TEXT
);
INSERT INTO email_codes_next (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by)
    SELECT user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by FROM email_codes;
DROP TABLE email_codes;
ALTER TABLE email_codes_next RENAME TO email_codes;
CREATE UNIQUE INDEX email_codes_by_account ON email_codes (user_id, purpose);
CREATE UNIQUE INDEX email_codes_by_address ON email_codes (address, purpose);
CREATE UNIQUE INDEX email_codes_by_link ON email_codes (link_hash);
CREATE UNIQUE INDEX email_codes_by_marker ON email_codes (used_by) WHERE used_by IS NOT NULL;
CREATE INDEX email_codes_by_issue ON email_codes (issued_at);

CREATE TABLE code_events_next (
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    address TEXT,
    client  TEXT
);
INSERT INTO code_events_next (user_id, purpose, kind, at) SELECT user_id, purpose, kind, at FROM code_events;
DROP TABLE code_events;
ALTER TABLE code_events_next RENAME TO code_events;
CREATE INDEX code_events_by_account ON code_events (user_id, purpose, kind, at);
CREATE INDEX code_events_by_address ON code_events (address, purpose, kind, at);
CREATE INDEX code_events_by_client ON code_events (client, purpose, kind, at);
CREATE INDEX code_events_by_time ON code_events (at);
