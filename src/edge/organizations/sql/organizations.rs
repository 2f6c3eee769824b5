//! The `organizations` table, and the one read every route of an organization starts from (the
//! scene: the caller's role, the member, invitation or team the request names, the owners).

use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::core::sessions::access_token::Principal;
use crate::edge::db::{batch, first, int, leading, nullable_text, rows, statement, text, Db};
use crate::edge::error::ApiError;

/// The scene of a request on organization `?4`, read for a live session only (no row: `401`):
/// the caller's membership, the member `?6`, the invitation `?7` and the team `?8` it names (each
/// `NULL` when absent), and how many owners there are.
const SCENE_SQL: &str = "SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, \
      o.created_at AS org_created_at, a.role AS actor_role, t.role AS target_role, \
      i.role AS invitation_role, i.email AS invitation_email, tm.id AS team_id, \
      (SELECT COUNT(*) FROM org_members x WHERE x.org_id = ?4 AND x.role = 'owner') AS owners \
    FROM sessions s \
    LEFT JOIN org_members a ON a.org_id = ?4 AND a.user_id = s.user_id \
    LEFT JOIN organizations o ON o.id = a.org_id \
    LEFT JOIN org_members t ON t.org_id = ?4 AND t.user_id = ?6 \
    LEFT JOIN org_invitations i ON i.org_id = ?4 AND i.id = ?7 \
    LEFT JOIN org_teams tm ON tm.org_id = ?4 AND tm.id = ?8 \
    WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3";
/// The caller's organizations, for a live session (one row with `NULL`s when there are none).
const MINE_SQL: &str = "SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, \
      o.created_at AS org_created_at, m.role AS actor_role \
    FROM sessions s \
    LEFT JOIN org_members m ON m.user_id = s.user_id \
    LEFT JOIN organizations o ON o.id = m.org_id \
    WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3 \
    ORDER BY o.created_at, o.id LIMIT 1000";

// Creation. ?6 name, ?7 slug, ?8 the caller's cap of organizations created.
/// 1. The organization, unless its slug is taken or the caller created as many as the cap.
const CREATE_SQL: &str =
    "INSERT INTO organizations (id, name, slug, created_by, created_at, updated_at) \
    SELECT ?4, ?6, ?7, ?2, ?3, ?3 \
    WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) \
      AND (SELECT COUNT(*) FROM organizations c WHERE c.created_by = ?2) < ?8 \
      AND NOT EXISTS (SELECT 1 FROM organizations x WHERE x.slug = ?7) \
    RETURNING id";
/// 2. Its creator, its first owner.
const ADD_CREATOR_SQL: &str = "INSERT INTO org_members (org_id, user_id, role, joined_at) \
    SELECT id, ?2, 'owner', ?3 FROM organizations WHERE id = ?4";
/// 3. Why not, when it was not made.
const CREATE_OUTCOME_SQL: &str = "SELECT \
      EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) AS live, \
      EXISTS (SELECT 1 FROM organizations x WHERE x.slug = ?7 AND x.id <> ?4) AS taken";

/// A new name (`?6`, `NULL`: kept) or slug (`?7`), unless the slug is another's.
const UPDATE_SQL: &str = concat!(
    "UPDATE organizations SET name = COALESCE(?6, name), slug = COALESCE(?7, slug), updated_at = ?3 \
    WHERE id = ?4 AND NOT EXISTS (SELECT 1 FROM organizations x WHERE x.slug = ?7 AND x.id <> ?4) AND ",
    actor_holds_role!(),
    " RETURNING id AS org_id, name AS org_name, slug AS org_slug, created_at AS org_created_at"
);
const SLUG_TAKEN_SQL: &str =
    "SELECT EXISTS (SELECT 1 FROM organizations x WHERE x.slug = ?7 AND x.id <> ?4) AS taken";

// Deletion: the organization, then every row it owns (the foreign keys cascade where D1 enforces
// them; each child is also cleared explicitly, as an account's deletion does).
const DELETE_SQL: &str = concat!(
    "DELETE FROM organizations WHERE id = ?4 AND ",
    actor_holds_role!(),
    " RETURNING id"
);
const DELETE_TEAM_MEMBERS_SQL: &str = "DELETE FROM org_team_members WHERE org_id = ?4 \
    AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = ?4)";
const DELETE_TEAMS_SQL: &str = "DELETE FROM org_teams WHERE org_id = ?4 \
    AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = ?4)";
const DELETE_INVITATIONS_SQL: &str = "DELETE FROM org_invitations WHERE org_id = ?4 \
    AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = ?4)";
const DELETE_MEMBERS_SQL: &str = "DELETE FROM org_members WHERE org_id = ?4 \
    AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = ?4)";

/// The admin API's list: organizations after the cursor `?1` (an id), with their member counts.
const ADMIN_LIST_SQL: &str = "SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, \
      o.created_at AS org_created_at, \
      (SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id) AS members \
    FROM organizations o WHERE o.id > ?1 ORDER BY o.id LIMIT ?2";
/// The admin API's read of one organization.
const ADMIN_GET_SQL: &str = "SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, \
      o.created_at AS org_created_at FROM organizations o WHERE o.id = ?4";

const CREATE_BATCH: [&str; 3] = [CREATE_SQL, ADD_CREATOR_SQL, CREATE_OUTCOME_SQL];
const DELETE_BATCH: [&str; 5] = [
    DELETE_SQL,
    DELETE_TEAM_MEMBERS_SQL,
    DELETE_TEAMS_SQL,
    DELETE_INVITATIONS_SQL,
    DELETE_MEMBERS_SQL,
];

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: [&[&str]; 4] = [
    &[SCENE_SQL, MINE_SQL, UPDATE_SQL, SLUG_TAKEN_SQL],
    &CREATE_BATCH,
    &DELETE_BATCH,
    &[ADMIN_LIST_SQL, ADMIN_GET_SQL],
];

/// Who is asking about which organization: the head of arguments of every statement.
pub struct Asker<'a> {
    /// `None`: the operator (admin API), bound by no session or role.
    pub session: Option<(&'a str, i64)>,
    pub now: i64,
    pub org_id: &'a str,
    /// The role the change was decided on (`None` for the operator).
    pub role: Option<&'a str>,
}

impl<'a> Asker<'a> {
    /// A signed-in caller, about organization `org_id`, deciding on `role` (`None`: a read).
    pub fn caller(
        principal: &'a Principal,
        now: i64,
        org_id: &'a str,
        role: Option<&'a str>,
    ) -> Self {
        Self {
            session: Some((&principal.session_id, principal.user_id)),
            now,
            org_id,
            role,
        }
    }

    /// `?1` to `?5`.
    pub fn head(&self) -> Vec<JsValue> {
        let (session, user) = self.session.unwrap_or(("", 0));
        vec![
            text(session),
            int(user),
            int(self.now),
            text(self.org_id),
            nullable_text(self.role),
        ]
    }

    /// The head, then `rest` from `?6` on.
    pub fn with(&self, rest: impl IntoIterator<Item = JsValue>) -> Vec<JsValue> {
        let mut args = self.head();
        args.extend(rest);
        args
    }
}

/// An organization as read, with the caller's role in it when there is a caller.
#[derive(Debug, Deserialize)]
pub struct OrgRow {
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub org_slug: Option<String>,
    pub org_created_at: Option<i64>,
    #[serde(default)]
    pub actor_role: Option<String>,
}

/// What a request on an organization finds (see [`SCENE_SQL`]).
#[derive(Debug, Deserialize)]
pub struct Scene {
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub org_slug: Option<String>,
    pub org_created_at: Option<i64>,
    pub actor_role: Option<String>,
    pub target_role: Option<String>,
    pub invitation_role: Option<String>,
    pub invitation_email: Option<String>,
    pub team_id: Option<String>,
    pub owners: i64,
}

/// What a request names besides the organization.
#[derive(Default)]
pub struct Named<'a> {
    pub member: Option<i64>,
    pub invitation: Option<&'a str>,
    pub team: Option<&'a str>,
}

/// The scene of a caller's request; `None` when the caller's session is not live.
pub async fn scene(
    db: &Db,
    asker: &Asker<'_>,
    named: &Named<'_>,
) -> Result<Option<Scene>, ApiError> {
    let args = asker.with([
        int(named.member.unwrap_or(0)),
        text(named.invitation.unwrap_or("")),
        text(named.team.unwrap_or("")),
    ]);
    first(
        db,
        statement(db, SCENE_SQL, &args)?,
        "read organization scene",
    )
    .await
}

/// The caller's organizations with their role; `None` when the session is not live.
pub async fn mine(db: &Db, asker: &Asker<'_>) -> Result<Option<Vec<OrgRow>>, ApiError> {
    let result = batch(
        db,
        vec![statement(db, MINE_SQL, &asker.head())?],
        "list organizations",
    )
    .await?;
    let found: Vec<OrgRow> = rows(&result[0], "read organizations")?;
    if found.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        found
            .into_iter()
            .filter(|row| row.org_id.is_some())
            .collect(),
    ))
}

/// How a creation ended.
pub enum Created {
    Made,
    NotLive,
    SlugTaken,
    AtCap,
}

/// Creates organization `asker.org_id` with the caller as its owner.
pub async fn create(
    db: &Db,
    asker: &Asker<'_>,
    name: &str,
    slug: &str,
    cap: i64,
) -> Result<Created, ApiError> {
    #[derive(Deserialize)]
    struct Outcome {
        live: i64,
        taken: i64,
    }
    let args = asker.with([text(name), text(slug), int(cap)]);
    let statements = CREATE_BATCH
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "create organization").await?;
    let [made, _, outcome] = leading(&results, "create organization")?;
    if !rows::<serde_json::Value>(made, "read new organization")?.is_empty() {
        return Ok(Created::Made);
    }
    let outcome = rows::<Outcome>(outcome, "read creation outcome")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("read creation outcome", "no row"))?;
    Ok(match (outcome.live, outcome.taken) {
        (0, _) => Created::NotLive,
        (_, 1) => Created::SlugTaken,
        _ => Created::AtCap,
    })
}

/// How an update ended: the organization as it is now, or why not.
pub enum Updated {
    Done(OrgRow),
    SlugTaken,
    Refused,
}

pub async fn update(
    db: &Db,
    asker: &Asker<'_>,
    name: Option<&str>,
    slug: Option<&str>,
) -> Result<Updated, ApiError> {
    #[derive(Deserialize)]
    struct Taken {
        taken: i64,
    }
    let args = asker.with([nullable_text(name), nullable_text(slug)]);
    let statements = vec![
        statement(db, UPDATE_SQL, &args)?,
        statement(db, SLUG_TAKEN_SQL, &args)?,
    ];
    let results = batch(db, statements, "update organization").await?;
    let [done, taken] = leading(&results, "update organization")?;
    if let Some(row) = rows::<OrgRow>(done, "read updated organization")?
        .into_iter()
        .next()
    {
        return Ok(Updated::Done(row));
    }
    let taken = rows::<Taken>(taken, "read slug")?.into_iter().next();
    Ok(if taken.is_some_and(|t| t.taken == 1) {
        Updated::SlugTaken
    } else {
        Updated::Refused
    })
}

/// Deletes the organization and everything it owns; whether it did.
pub async fn delete(db: &Db, asker: &Asker<'_>) -> Result<bool, ApiError> {
    let args = asker.head();
    let statements = DELETE_BATCH
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "delete organization").await?;
    Ok(!rows::<serde_json::Value>(&results[0], "read deleted organization")?.is_empty())
}

/// An organization in the admin API's list.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub org_id: String,
    pub org_name: String,
    pub org_slug: String,
    pub org_created_at: i64,
    pub members: i64,
}

/// A page of organizations after `cursor`, for the admin API.
pub async fn admin_list(db: &Db, cursor: &str, limit: i64) -> Result<Vec<Listed>, ApiError> {
    let args = [text(cursor), int(limit)];
    let results = batch(
        db,
        vec![statement(db, ADMIN_LIST_SQL, &args)?],
        "list organizations",
    )
    .await?;
    rows(&results[0], "read organizations")
}

/// One organization, for the admin API.
pub async fn admin_get(db: &Db, asker: &Asker<'_>) -> Result<Option<OrgRow>, ApiError> {
    first(
        db,
        statement(db, ADMIN_GET_SQL, &asker.head())?,
        "read organization",
    )
    .await
}
