-- Authorization for MCP servers, agents and CLIs (docs/mcp.md): tokens bound to a resource
-- (RFC 8707), clients that registered themselves (RFC 7591) or are known by their metadata
-- document, and the device authorization grant (RFC 8628).

-- The resource a code was issued for, and so its grant's tokens' `aud`.
ALTER TABLE provider_codes ADD COLUMN resource TEXT;
ALTER TABLE sessions ADD COLUMN resource TEXT;

-- How a client came to be known: by the operator (admin API), by dynamic registration, or by
-- its metadata document at its https `client_id`. `registered_from` is the client address of a
-- dynamic registration (its cap per address); `used_at` the last code or token issued to it
-- (unused self-registered clients are pruned); `document_expires_at` when a metadata document
-- is fetched again.
ALTER TABLE provider_clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin'
    CHECK (origin IN ('admin', 'dynamic', 'document'));
ALTER TABLE provider_clients ADD COLUMN registered_from TEXT;
ALTER TABLE provider_clients ADD COLUMN used_at INTEGER;
ALTER TABLE provider_clients ADD COLUMN document_expires_at INTEGER;
-- Whether the client may use the device grant (RFC 8628): only clients that asked for it.
ALTER TABLE provider_clients ADD COLUMN device_grant INTEGER NOT NULL DEFAULT 0;
CREATE INDEX provider_clients_by_registrar ON provider_clients (registered_from, created_at)
    WHERE registered_from IS NOT NULL;
CREATE INDEX provider_clients_by_use ON provider_clients (used_at) WHERE origin <> 'admin';

-- A device authorization (RFC 8628 §3.2): the device code by digest, the user code as shown
-- (short by design: the entry limit and its ten-minute life guard it, §5.1);
-- the browser session that approved or denied it; spent once by the poll that creates the
-- grant's session. `polled_at` and `interval` are the polling's pace (`slow_down`, §3.5).
CREATE TABLE provider_device_codes (
    digest          TEXT    PRIMARY KEY,
    user_code       TEXT    NOT NULL UNIQUE,
    client_id       TEXT    NOT NULL REFERENCES provider_clients (id) ON DELETE CASCADE,
    scope           TEXT    NOT NULL,
    resource        TEXT,
    expires_at      INTEGER NOT NULL,
    interval        INTEGER NOT NULL,
    polled_at       INTEGER,
    browser_session TEXT    REFERENCES sessions (id) ON DELETE CASCADE,
    decision        TEXT    CHECK (decision IN ('allow', 'deny')),
    used_by         TEXT,
    session_id      TEXT
);
CREATE INDEX provider_device_codes_by_expiry ON provider_device_codes (expires_at);
CREATE INDEX provider_device_codes_by_client ON provider_device_codes (client_id);
CREATE INDEX provider_device_codes_by_browser ON provider_device_codes (browser_session)
    WHERE browser_session IS NOT NULL;

-- A consent remembers the resource it was given for: a client asking for another is asked again.
ALTER TABLE provider_consents ADD COLUMN resource TEXT;
