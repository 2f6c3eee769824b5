-- Hardening IV (README "Security"): every way into an account is bound to a live session and to
-- the client that started it, and the tokens say how the user signed in. Apply before deploying
-- the worker that uses it; it adds columns and indexes only, so the worker before it keeps
-- working on the new schema.

-- How the session's user proved who they are (RFC 8176 values, space-separated: "pwd otp mfa").
-- The session's created_at is its sign-in time (`auth_time`); a refresh changes neither.
ALTER TABLE sessions ADD COLUMN amr TEXT;
-- The first step of a two-step sign-in, for the session its second step starts.
ALTER TABLE mfa_challenges ADD COLUMN amr TEXT;

-- A link of a provider: the session that asked for it (it completes only from that session, live),
-- and the client address of every sign-in or link in flight (a cap on live ones per client).
ALTER TABLE oauth_states ADD COLUMN session_id TEXT;
ALTER TABLE oauth_states ADD COLUMN client TEXT;
CREATE INDEX oauth_states_by_client ON oauth_states (client, expires_at) WHERE client IS NOT NULL;
CREATE INDEX oauth_states_by_session ON oauth_states (session_id) WHERE session_id IS NOT NULL;

-- The one-time code of a callback may carry an identity to link: on a link (`purpose` 'link',
-- completed by POST /identities from `session_id`), or on a sign-in that matched a verified
-- address (linked at the exchange, only if the account is not disabled then).
ALTER TABLE oauth_codes ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign_in';
ALTER TABLE oauth_codes ADD COLUMN session_id TEXT;
ALTER TABLE oauth_codes ADD COLUMN provider TEXT;
ALTER TABLE oauth_codes ADD COLUMN subject TEXT;
ALTER TABLE oauth_codes ADD COLUMN email TEXT;

-- A passkey registration belongs to the session that asked for its options.
ALTER TABLE passkey_challenges ADD COLUMN session_id TEXT;
CREATE INDEX passkey_challenges_by_session ON passkey_challenges (session_id) WHERE session_id IS NOT NULL;

-- A passkey sign-up remembers the client address that started it: mails per client per hour.
ALTER TABLE passkey_signups ADD COLUMN client TEXT;
CREATE INDEX passkey_signups_by_client ON passkey_signups (client, created_at) WHERE client IS NOT NULL;

-- The WebAuthn user handle each passkey was made with, so a usernameless assertion must name
-- the credential's owner (WebAuthn L3 §7.2 step 6). NULL for passkeys made before it was kept.
ALTER TABLE passkeys ADD COLUMN user_handle TEXT;
ALTER TABLE passkey_signups ADD COLUMN user_handle TEXT;

-- The first proof of an address finds its account by the marker of the request that used the
-- code (edge/codes/sql/first_proof.rs): one probe of a unique index (a request uses one code), so
-- it reads one entry when the code was right and none when it was wrong.
CREATE UNIQUE INDEX password_resets_by_marker ON password_resets (used_by) WHERE used_by IS NOT NULL;
CREATE UNIQUE INDEX email_codes_by_marker ON email_codes (used_by) WHERE used_by IS NOT NULL;
