-- Sign-in with an OpenID Connect provider or GitHub (README "Social sign-in"). Apply before
-- deploying the worker that uses it; it only adds tables. An account a provider created has no
-- password: its password_hash is '' (no PHC string), which no password verifies.

-- One sign-in in flight, from /oauth/{provider}/start to its callback: our `state` by SHA-256
-- digest (single use, ten minutes), the ID token's nonce, our PKCE verifier towards the provider,
-- the app's redirect_to and code_challenge, and the account when a signed-in user links.
CREATE TABLE oauth_states (
    digest        TEXT    PRIMARY KEY,
    provider      TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    verifier      TEXT    NOT NULL,
    redirect_to   TEXT    NOT NULL,
    app_challenge TEXT    NOT NULL,
    link_user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
CREATE INDEX oauth_states_by_user ON oauth_states (link_user_id) WHERE link_user_id IS NOT NULL;

-- A provider's account linked to ours: one per provider per account.
CREATE TABLE identities (
    provider     TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email        TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);

-- The one-time code a callback hands the app (seconds-lived, single use, by SHA-256 digest),
-- bound to the app's PKCE code_challenge.
CREATE TABLE oauth_codes (
    digest        TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_challenge TEXT    NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);
CREATE INDEX oauth_codes_by_user ON oauth_codes (user_id);
