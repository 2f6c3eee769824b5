//! The `org_teams` and `org_team_members` tables: named subsets of an organization's members, each
//! member with a role in the team.

use serde::Deserialize;

use crate::edge::db::{batch, first, int, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::organizations::sql::organizations::Asker;

/// The most teams an organization may have.
pub const MAX_TEAMS: i64 = 100;

/// Team `?6` named `?7`, unless the name is taken or the organization has `?8` teams.
const CREATE_SQL: &str = concat!(
    "INSERT INTO org_teams (id, org_id, name, created_at) SELECT ?6, ?4, ?7, ?3 \
    WHERE (SELECT COUNT(*) FROM org_teams c WHERE c.org_id = ?4) < ?8 AND ",
    actor_holds_role!(),
    " ON CONFLICT (org_id, name) DO NOTHING RETURNING id, name, created_at"
);
/// Team `?6` and its members.
const DELETE_SQL: &str = concat!(
    "DELETE FROM org_teams WHERE id = ?6 AND org_id = ?4 AND ",
    actor_holds_role!(),
    " RETURNING id"
);
const DELETE_MEMBERS_SQL: &str = "DELETE FROM org_team_members WHERE team_id = ?6 \
    AND NOT EXISTS (SELECT 1 FROM org_teams WHERE id = ?6)";
/// The organization's teams with their members (a JSON array each), by name.
const LIST_SQL: &str = "SELECT t.id, t.name, t.created_at, \
      (SELECT json_group_array(json_object('user_id', m.user_id, 'role', m.role)) \
        FROM org_team_members m WHERE m.team_id = t.id) AS members \
    FROM org_teams t WHERE t.org_id = ?4 ORDER BY t.name LIMIT ?6";
/// Member `?7` of the organization gets role `?8` in team `?6` (joining it if new; a role they
/// hold there already changes only if it is one of `?9`, the roles the caller may manage).
const SET_MEMBER_SQL: &str = concat!(
    "INSERT INTO org_team_members (team_id, org_id, user_id, role) SELECT ?6, ?4, ?7, ?8 \
    WHERE EXISTS (SELECT 1 FROM org_teams t WHERE t.id = ?6 AND t.org_id = ?4) \
      AND EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = ?4 AND m.user_id = ?7) AND ",
    actor_holds_role!(),
    " ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role \
      WHERE org_team_members.role IN (SELECT value FROM json_each(?9)) RETURNING user_id, role"
);
/// Member `?7` leaves team `?6`, if their role in it is one of `?8` (a JSON array: the roles the
/// caller may manage).
const REMOVE_MEMBER_SQL: &str = concat!(
    "DELETE FROM org_team_members WHERE team_id = ?6 AND org_id = ?4 AND user_id = ?7 \
      AND role IN (SELECT value FROM json_each(?8)) AND ",
    actor_holds_role!(),
    " RETURNING user_id, role"
);

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: &[&str] = &[
    CREATE_SQL,
    DELETE_SQL,
    DELETE_MEMBERS_SQL,
    LIST_SQL,
    SET_MEMBER_SQL,
    REMOVE_MEMBER_SQL,
];

#[derive(Debug, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// A JSON array of `{user_id, role}`.
    #[serde(default)]
    pub members: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TeamMember {
    pub user_id: i64,
    pub role: String,
}

/// Creates team `id`: the team, or `None` when the name is taken, the teams are at their cap, or
/// the caller's role moved.
pub async fn create(
    db: &Db,
    asker: &Asker<'_>,
    id: &str,
    name: &str,
) -> Result<Option<Team>, ApiError> {
    let args = asker.with([text(id), text(name), int(MAX_TEAMS)]);
    first(db, statement(db, CREATE_SQL, &args)?, "create team").await
}

/// Deletes team `id` with its memberships; whether it did.
pub async fn delete(db: &Db, asker: &Asker<'_>, id: &str) -> Result<bool, ApiError> {
    let args = asker.with([text(id)]);
    let statements = vec![
        statement(db, DELETE_SQL, &args)?,
        statement(db, DELETE_MEMBERS_SQL, &args)?,
    ];
    let results = batch(db, statements, "delete team").await?;
    Ok(!rows::<serde_json::Value>(&results[0], "read deleted team")?.is_empty())
}

pub async fn list(db: &Db, asker: &Asker<'_>) -> Result<Vec<Team>, ApiError> {
    let args = asker.with([int(MAX_TEAMS)]);
    let results = batch(db, vec![statement(db, LIST_SQL, &args)?], "list teams").await?;
    rows(&results[0], "read teams")
}

/// Gives member `user_id` role `role` in team `team`: the membership, or `None` when the team or
/// the member is not the organization's or the caller's role moved.
pub async fn set_member(
    db: &Db,
    asker: &Asker<'_>,
    team: &str,
    user_id: i64,
    role: &str,
    manageable: &str,
) -> Result<Option<TeamMember>, ApiError> {
    let args = asker.with([text(team), int(user_id), text(role), text(manageable)]);
    first(db, statement(db, SET_MEMBER_SQL, &args)?, "set team member").await
}

/// Removes member `user_id` from team `team` if their role there is one of `manageable` (a JSON
/// array): the membership removed, if there was one.
pub async fn remove_member(
    db: &Db,
    asker: &Asker<'_>,
    team: &str,
    user_id: i64,
    manageable: &str,
) -> Result<Option<TeamMember>, ApiError> {
    let args = asker.with([text(team), int(user_id), text(manageable)]);
    first(
        db,
        statement(db, REMOVE_MEMBER_SQL, &args)?,
        "remove team member",
    )
    .await
}
