//! The `org_invitations` table: an address invited with a role (and teams), its token as a keyed
//! hash (`LinkToken`, like a sign-in link's), spent by the one acceptance that makes the
//! membership. Its mails count in `code_events` (purpose `org_invitation`, by address), the table
//! every emailed code's caps are counted in, so no organization can flood a mailbox.

use serde::Deserialize;

use crate::edge::db::{batch, first, int, leading, rows, statement, text, Db};
use crate::edge::error::ApiError;
use crate::edge::organizations::sql::organizations::Asker;

/// The name invitation mails are counted under in `code_events`.
pub const PURPOSE: &str = "org_invitation";

// An invitation. ?6 its id, ?7 the address, ?8 the role, ?9 its teams (a JSON array), ?10 the
// token's keyed hash, ?11 its expiry, ?12 the member cap, ?13 the mails an address may get a
// day, ?14 the day's start, ?15 the page its mail links to, ?16 the roles the caller may invite
// to (a JSON array): a pending invitation of another role is neither replaced nor re-sent.
/// 1. The invitation (replacing a pending one of the address), unless the address's account is
///    a member, members and other pending invitations fill the cap, a team is not the
///    organization's, or the address got as many invitations as a day allows.
const CREATE_SQL: &str = concat!(
    "INSERT INTO org_invitations (id, org_id, email, role, teams, token_hash, invited_by, created_at, expires_at, page) \
    SELECT ?6, ?4, ?7, ?8, ?9, ?10, NULLIF(?2, 0), ?3, ?11, ?15 \
    WHERE NOT EXISTS (SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id \
        WHERE m.org_id = ?4 AND u.email = ?7) \
      AND (SELECT COUNT(*) FROM org_members c WHERE c.org_id = ?4) \
        + (SELECT COUNT(*) FROM org_invitations p WHERE p.org_id = ?4 AND p.expires_at > ?3 AND p.email <> ?7) < ?12 \
      AND (SELECT COUNT(*) FROM org_teams t WHERE t.org_id = ?4 \
        AND t.id IN (SELECT value FROM json_each(?9))) = json_array_length(?9) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.address = ?7 AND e.purpose = 'org_invitation' \
        AND e.kind = 'sent' AND e.at > ?14) < ?13 \
      AND ",
    actor_holds_role!(),
    " ON CONFLICT (org_id, email) DO UPDATE SET id = excluded.id, role = excluded.role, \
      teams = excluded.teams, token_hash = excluded.token_hash, invited_by = excluded.invited_by, \
      created_at = excluded.created_at, expires_at = excluded.expires_at, page = excluded.page \
    WHERE org_invitations.role IN (SELECT value FROM json_each(?16)) \
    RETURNING id"
);
/// 2. Its mail, counted.
const RECORD_SENT_SQL: &str = "INSERT INTO code_events (user_id, purpose, kind, at, address) \
    SELECT NULL, 'org_invitation', 'sent', ?3, email FROM org_invitations WHERE id = ?6 AND token_hash = ?10";
/// 3. Why not, when it was not made.
const CREATE_OUTCOME_SQL: &str = "SELECT \
      EXISTS (SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id \
        WHERE m.org_id = ?4 AND u.email = ?7) AS member, \
      (SELECT COUNT(*) FROM org_teams t WHERE t.org_id = ?4 \
        AND t.id IN (SELECT value FROM json_each(?9))) = json_array_length(?9) AS teams_known, \
      (SELECT COUNT(*) FROM org_members c WHERE c.org_id = ?4) \
        + (SELECT COUNT(*) FROM org_invitations p WHERE p.org_id = ?4 AND p.expires_at > ?3 AND p.email <> ?7) >= ?12 AS full, \
      (SELECT COUNT(*) FROM code_events e WHERE e.address = ?7 AND e.purpose = 'org_invitation' \
        AND e.kind = 'sent' AND e.at > ?14) >= ?13 AS capped";
/// A new token and expiry for invitation `?6` (re-sent), within the address's daily mails.
const RESEND_SQL: &str = concat!(
    "UPDATE org_invitations SET token_hash = ?10, created_at = ?3, expires_at = ?11, \
      invited_by = NULLIF(?2, 0) \
    WHERE id = ?6 AND org_id = ?4 AND role IN (SELECT value FROM json_each(?16)) \
      AND (SELECT COUNT(*) FROM code_events e WHERE e.address = org_invitations.email \
        AND e.purpose = 'org_invitation' AND e.kind = 'sent' AND e.at > ?14) < ?13 AND ",
    actor_holds_role!(),
    " RETURNING id, email, role, teams, created_at, expires_at, invited_by, page"
);
/// Revoking invitation `?6`, of one of the roles `?7` (a JSON array) the caller may invite to.
const REVOKE_SQL: &str = concat!(
    "DELETE FROM org_invitations WHERE id = ?6 AND org_id = ?4 \
      AND role IN (SELECT value FROM json_each(?7)) AND ",
    actor_holds_role!(),
    " RETURNING id, email, role, teams, created_at, expires_at, invited_by"
);
/// The organization's invitations, newest first, at most `?6`.
const LIST_SQL: &str = "SELECT id, email, role, teams, created_at, expires_at, invited_by \
    FROM org_invitations WHERE org_id = ?4 ORDER BY created_at DESC, id LIMIT ?6";
/// The live invitations of the caller's verified address (`?1` session, `?2` account, `?3` now).
const FOR_ME_SQL: &str = "SELECT i.id, i.role, i.expires_at, o.id AS org_id, o.name AS org_name, \
      o.slug AS org_slug \
    FROM users u JOIN org_invitations i ON i.email = u.email AND i.expires_at > ?3 \
    JOIN organizations o ON o.id = i.org_id \
    WHERE u.id = ?2 AND u.email_verified_at IS NOT NULL \
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) \
    ORDER BY i.expires_at LIMIT 100";

// Acceptance. ?1 the caller's session, ?2 its account, ?3 now, ?4 the presented token's hashes
// (a JSON array, one per key of the ring), ?5 the member cap.
/// 1. The membership, for the account whose verified address is the invited one, within the cap.
const JOIN_SQL: &str = "INSERT INTO org_members (org_id, user_id, role, joined_at) \
    SELECT i.org_id, u.id, i.role, ?3 FROM org_invitations i JOIN users u ON u.email = i.email \
    WHERE i.token_hash IN (SELECT value FROM json_each(?4)) AND i.expires_at > ?3 \
      AND u.id = ?2 AND u.email_verified_at IS NOT NULL \
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) \
      AND (SELECT COUNT(*) FROM org_members c WHERE c.org_id = i.org_id) < ?5 \
    ON CONFLICT (org_id, user_id) DO NOTHING \
    RETURNING org_id, role";
/// 2. Its teams, if it was made now (for the invitee: the caller's verified address is the
///    invited one).
const JOIN_TEAMS_SQL: &str = "INSERT INTO org_team_members (team_id, org_id, user_id, role) \
    SELECT t.id, t.org_id, ?2, 'member' FROM org_invitations i JOIN org_teams t ON t.org_id = i.org_id \
    WHERE i.token_hash IN (SELECT value FROM json_each(?4)) \
      AND t.id IN (SELECT value FROM json_each(i.teams)) \
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = ?2 AND u.email = i.email \
        AND u.email_verified_at IS NOT NULL) \
      AND EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = i.org_id AND m.user_id = ?2 \
        AND m.joined_at = ?3) \
    ON CONFLICT (team_id, user_id) DO NOTHING";
/// 3. The invitation and its organization, and why it was not accepted, if it was not.
const ACCEPT_OUTCOME_SQL: &str = "SELECT i.id, i.org_id, o.name AS org_name, o.slug AS org_slug, \
      o.created_at AS org_created_at, i.role, i.email = u.email AS same_address, \
      u.email_verified_at IS NOT NULL AS verified, \
      EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = i.org_id AND m.user_id = ?2) AS member, \
      EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?1 AND s.user_id = ?2 \
        AND s.revoked_at IS NULL AND s.expires_at > ?3) AS live \
    FROM users u \
    LEFT JOIN org_invitations i ON i.token_hash IN (SELECT value FROM json_each(?4)) AND i.expires_at > ?3 \
    LEFT JOIN organizations o ON o.id = i.org_id \
    WHERE u.id = ?2";
/// 4. The invitation is spent, if this request made the invitee's membership.
const SPEND_SQL: &str =
    "DELETE FROM org_invitations WHERE token_hash IN (SELECT value FROM json_each(?4)) \
    AND EXISTS (SELECT 1 FROM users u WHERE u.id = ?2 AND u.email = org_invitations.email \
      AND u.email_verified_at IS NOT NULL) \
    AND EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = org_invitations.org_id \
      AND m.user_id = ?2 AND m.joined_at = ?3) \
    RETURNING id";

const CREATE_BATCH: [&str; 3] = [CREATE_SQL, RECORD_SENT_SQL, CREATE_OUTCOME_SQL];
const ACCEPT_BATCH: [&str; 4] = [JOIN_SQL, JOIN_TEAMS_SQL, ACCEPT_OUTCOME_SQL, SPEND_SQL];

/// Every statement of this module, for the query-plan check.
pub const STATEMENTS: [&[&str]; 3] = [
    &CREATE_BATCH,
    &[RESEND_SQL, REVOKE_SQL, LIST_SQL, FOR_ME_SQL],
    &ACCEPT_BATCH,
];

/// An invitation as an organization's admins see it.
#[derive(Debug, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: String,
    /// A JSON array of team ids.
    pub teams: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub invited_by: Option<i64>,
    /// The app page its mail links to (read for a re-send only).
    #[serde(default)]
    pub page: Option<String>,
}

/// A new (or re-sent) invitation's token and mail budget, and the roles (a JSON array) of the
/// invitations the caller may replace or re-send.
pub struct Sending<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub mails_per_day: i64,
    pub assignable: &'a str,
}

/// What an invitation is of.
pub struct Invitee<'a> {
    pub email: &'a str,
    pub role: &'a str,
    /// A JSON array of team ids.
    pub teams: &'a str,
    /// The app page its mail links to.
    pub page: Option<&'a str>,
}

/// How an invitation ended.
pub enum Invited {
    Made,
    AlreadyMember,
    UnknownTeam,
    MemberLimit,
    MailCap,
    Moved,
}

fn sending_args(
    asker: &Asker<'_>,
    invitee: &Invitee<'_>,
    sending: &Sending<'_>,
    cap: i64,
) -> Vec<wasm_bindgen::JsValue> {
    asker.with([
        text(sending.id),
        text(invitee.email),
        text(invitee.role),
        text(invitee.teams),
        text(sending.token_hash),
        int(sending.expires_at),
        int(cap),
        int(sending.mails_per_day),
        int(asker.now - 86_400),
        crate::edge::db::nullable_text(invitee.page),
        text(sending.assignable),
    ])
}

pub async fn create(
    db: &Db,
    asker: &Asker<'_>,
    invitee: &Invitee<'_>,
    sending: &Sending<'_>,
    member_cap: i64,
) -> Result<Invited, ApiError> {
    #[derive(Deserialize)]
    struct Outcome {
        member: i64,
        teams_known: i64,
        full: i64,
        capped: i64,
    }
    let args = sending_args(asker, invitee, sending, member_cap);
    let statements = CREATE_BATCH
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "invite").await?;
    let [made, _, outcome] = leading(&results, "invite")?;
    if !rows::<serde_json::Value>(made, "read invitation")?.is_empty() {
        return Ok(Invited::Made);
    }
    let outcome = rows::<Outcome>(outcome, "read invitation outcome")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("read invitation outcome", "no row"))?;
    Ok(if outcome.member == 1 {
        Invited::AlreadyMember
    } else if outcome.teams_known == 0 {
        Invited::UnknownTeam
    } else if outcome.full == 1 {
        Invited::MemberLimit
    } else if outcome.capped == 1 {
        Invited::MailCap
    } else {
        Invited::Moved
    })
}

/// Re-sends invitation `sending.id` with a new token and expiry: the invitation, or `None` when
/// it is gone, the caller's role moved, or the address's daily mails are spent.
pub async fn resend(
    db: &Db,
    asker: &Asker<'_>,
    sending: &Sending<'_>,
) -> Result<Option<Invitation>, ApiError> {
    let invitee = Invitee {
        email: "",
        role: "",
        teams: "[]",
        page: None,
    };
    let args = sending_args(asker, &invitee, sending, 0);
    let statements = vec![
        statement(db, RESEND_SQL, &args)?,
        statement(db, RECORD_SENT_SQL, &args)?,
    ];
    let results = batch(db, statements, "resend invitation").await?;
    Ok(rows::<Invitation>(&results[0], "read invitation")?
        .into_iter()
        .next())
}

/// Revokes invitation `id`, if of one of the `assignable` roles (a JSON array): the invitation
/// revoked, if there was one.
pub async fn revoke(
    db: &Db,
    asker: &Asker<'_>,
    id: &str,
    assignable: &str,
) -> Result<Option<Invitation>, ApiError> {
    let args = asker.with([text(id), text(assignable)]);
    first(db, statement(db, REVOKE_SQL, &args)?, "revoke invitation").await
}

pub async fn list(db: &Db, asker: &Asker<'_>, limit: i64) -> Result<Vec<Invitation>, ApiError> {
    let args = asker.with([int(limit)]);
    let results = batch(
        db,
        vec![statement(db, LIST_SQL, &args)?],
        "list invitations",
    )
    .await?;
    rows(&results[0], "read invitations")
}

/// An invitation of the caller's address.
#[derive(Debug, Deserialize)]
pub struct ForMe {
    pub id: String,
    pub role: String,
    pub expires_at: i64,
    pub org_id: String,
    pub org_name: String,
    pub org_slug: String,
}

pub async fn for_me(
    db: &Db,
    session: &str,
    user_id: i64,
    now: i64,
) -> Result<Vec<ForMe>, ApiError> {
    let args = [text(session), int(user_id), int(now)];
    let results = batch(
        db,
        vec![statement(db, FOR_ME_SQL, &args)?],
        "list my invitations",
    )
    .await?;
    rows(&results[0], "read my invitations")
}

/// What an acceptance found.
#[derive(Debug, Deserialize)]
pub struct Acceptance {
    pub id: Option<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub org_slug: Option<String>,
    pub org_created_at: Option<i64>,
    pub role: Option<String>,
    pub same_address: Option<i64>,
    pub verified: i64,
    pub member: i64,
    pub live: i64,
}

/// Accepts the invitation of the token whose hashes are `candidates` for the caller: whether
/// this request made the membership, and what it found.
pub async fn accept(
    db: &Db,
    session: &str,
    user_id: i64,
    now: i64,
    candidates: &str,
    member_cap: i64,
) -> Result<(bool, Option<Acceptance>), ApiError> {
    let args = [
        text(session),
        int(user_id),
        int(now),
        text(candidates),
        int(member_cap),
    ];
    let statements = ACCEPT_BATCH
        .iter()
        .map(|sql| statement(db, sql, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements, "accept invitation").await?;
    let [joined, _, found] = leading(&results, "accept invitation")?;
    let joined = !rows::<serde_json::Value>(joined, "read membership")?.is_empty();
    let found = rows::<Acceptance>(found, "read invitation")?
        .into_iter()
        .next();
    Ok((joined, found))
}
