-- The OAuth 2.1 authorization server and OpenID provider (docs/provider.md): the operator's
-- clients, their single-use authorization codes, the consents users gave, and sessions that
-- belong to a client (a grant: its refresh tokens rotate like a sign-in's) or to the provider's
-- own browser cookie.

-- A client the operator registered (admin API). Its secret is a 256-bit random value, stored as
-- its SHA-256 digest (a secret that long needs no slow hash; OWASP Password Storage Cheat Sheet
-- is about passwords); during a rotation the previous digest keeps working until its end.
CREATE TABLE provider_clients (
    id                      TEXT    PRIMARY KEY,
    name                    TEXT    NOT NULL,
    -- A JSON array of exact redirect URIs.
    redirect_uris           TEXT    NOT NULL,
    kind                    TEXT    NOT NULL CHECK (kind IN ('public', 'confidential')),
    secret_digest           TEXT,
    previous_secret_digest  TEXT,
    previous_secret_until   INTEGER,
    -- Space-separated scopes the client may ask for.
    scopes                  TEXT    NOT NULL,
    skip_consent            INTEGER NOT NULL DEFAULT 0,
    id_token_alg            TEXT    NOT NULL DEFAULT 'RS256',
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

-- An authorization code, by SHA-256 digest: single use, about a minute long, bound to its client,
-- redirect URI, PKCE challenge and the browser session that approved it. `used_by` is set once
-- by the exchange that spent it; `session_id` is the grant it issued, revoked if the code comes
-- back (RFC 6749 §4.1.2).
CREATE TABLE provider_codes (
    digest          TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL REFERENCES provider_clients (id) ON DELETE CASCADE,
    browser_session TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri    TEXT    NOT NULL,
    scope           TEXT    NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT    NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_by         TEXT,
    session_id      TEXT
);
CREATE INDEX provider_codes_by_expiry ON provider_codes (expires_at);
CREATE INDEX provider_codes_by_browser ON provider_codes (browser_session);
-- Deleting a client finds its codes (the foreign key's cascade) through this.
CREATE INDEX provider_codes_by_client ON provider_codes (client_id);

-- What a user allowed a client: consent is asked again only for scopes beyond these.
CREATE TABLE provider_consents (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES provider_clients (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX provider_consents_by_client ON provider_consents (client_id);

-- A grant's session names its client and scope; the provider's browser session carries the
-- digest of its `__Host-` cookie.
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES provider_clients (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT;
ALTER TABLE sessions ADD COLUMN cookie_digest TEXT;
CREATE INDEX sessions_by_client ON sessions (client_id, user_id) WHERE client_id IS NOT NULL;
CREATE UNIQUE INDEX sessions_by_cookie ON sessions (cookie_digest) WHERE cookie_digest IS NOT NULL;
