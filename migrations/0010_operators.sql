-- The operator's surface (README "Operating it"): disabled accounts, the security event trail,
-- and the webhook outbox. Apply before deploying the worker that uses it; it adds columns and
-- tables only.

-- An account an operator disabled: it cannot sign in or refresh (its sessions ended when it was
-- disabled) until `disabled_until`, or until enabled when that is NULL.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN disabled_until INTEGER;
ALTER TABLE users ADD COLUMN disabled_reason TEXT;
-- The admin API lists accounts by creation.
CREATE INDEX users_by_created ON users (created_at, id);

-- One row per event that matters to an account (core/security_event.rs): kind, who did it
-- (`user` or `admin:<key id>`), the client address and User-Agent as the logs have them, and a
-- JSON object of classes and ids (never a secret or a code). Events of a webhook type are the
-- webhook outbox too: `webhook` names the type, `queued_at` is set once the event is on the queue
-- (the hourly cleanup queues any left behind). Kept EVENT_RETENTION_DAYS; deleted with the
-- account (but for the account.deleted event itself, which has no client data).
CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id  TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    client     TEXT,
    user_agent TEXT,
    detail     TEXT    NOT NULL,
    webhook    TEXT,
    queued_at  INTEGER
);
CREATE INDEX security_events_by_user ON security_events (user_id, id);
CREATE INDEX security_events_by_age ON security_events (at);
CREATE INDEX security_events_unqueued ON security_events (id) WHERE webhook IS NOT NULL AND queued_at IS NULL;
