-- Organizations (docs/organizations.md): customer organizations with members, one role each,
-- teams inside them with a role per member, and invitations mailed to an address. A session
-- has an active organization (its tokens' `org_id`), and the trail's events may belong to one.

-- `created_by` counts the organizations a user created (ORG_MAX_PER_USER); the slug is unique.
CREATE TABLE organizations (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    slug       TEXT    NOT NULL UNIQUE,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX organizations_by_creator ON organizations (created_by);

-- One row per member, with one role (built-in owner/admin/member or one of ORG_ROLES). Every
-- change of a role or of membership is one statement whose conditions hold the rules (the last
-- owner stays, the member cap), so concurrent requests get exact answers.
CREATE TABLE org_members (
    org_id    TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX org_members_by_user ON org_members (user_id);
CREATE INDEX org_members_by_role ON org_members (org_id, role);

-- An invitation of an address with a role (and teams, a JSON array of team ids). Its token is
-- stored as a keyed hash, like every code; spent (deleted) by the one acceptance that makes the
-- membership. One pending invitation per address and organization. `page` is the app page its
-- mail links to (re-sent mails link there too).
CREATE TABLE org_invitations (
    id         TEXT    PRIMARY KEY,
    org_id     TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    teams      TEXT    NOT NULL DEFAULT '[]',
    token_hash TEXT    NOT NULL UNIQUE,
    invited_by INTEGER,
    page       TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX org_invitations_by_address ON org_invitations (org_id, email);
CREATE INDEX org_invitations_by_email ON org_invitations (email, expires_at);
CREATE INDEX org_invitations_by_expiry ON org_invitations (expires_at);

-- Teams: a named subset of an organization's members, each with a role in the team.
CREATE TABLE org_teams (
    id         TEXT    PRIMARY KEY,
    org_id     TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE org_team_members (
    team_id TEXT    NOT NULL REFERENCES org_teams (id) ON DELETE CASCADE,
    org_id  TEXT    NOT NULL,
    user_id INTEGER NOT NULL,
    role    TEXT    NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX org_team_members_by_member ON org_team_members (org_id, user_id);

-- A session's active organization: its tokens carry it with the member's role, read again at
-- every refresh (a removed member's next token has none).
ALTER TABLE sessions ADD COLUMN org_id TEXT;

-- The organization an event belongs to, for its trail (GET /organizations/{id}/events).
ALTER TABLE security_events ADD COLUMN org_id TEXT;
CREATE INDEX security_events_by_org ON security_events (org_id, id) WHERE org_id IS NOT NULL;

-- The organization a person chose on the provider's consent page (the `organization` scope): the
-- code carries it into its grant's session, whose tokens then say it as a first-party one's do.
ALTER TABLE provider_codes ADD COLUMN org_id TEXT;
