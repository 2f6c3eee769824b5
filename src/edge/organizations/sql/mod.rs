//! The SQL of organizations, one module per table. Every statement of a caller binds the same
//! head of arguments: `?1` the caller's session, `?2` its account, `?3` now, `?4` the
//! organization, `?5` the role the caller's change was decided on (`NULL`: the operator's admin
//! API). A change runs only while the caller's session is live and the caller still holds that
//! role ([`actor_holds_role!`]), so a decision made on a membership read a moment earlier never
//! outlives a change of it; the rules that count rows (the last owner, the caps) are conditions of
//! the writing statement itself, which D1 runs one at a time: concurrent requests get exact answers.

/// The condition every change of a caller carries (see the module's head of arguments).
macro_rules! actor_holds_role {
    () => {
        "(?5 IS NULL OR EXISTS (SELECT 1 FROM org_members a JOIN sessions s ON s.user_id = a.user_id \
          WHERE a.org_id = ?4 AND a.user_id = ?2 AND a.role = ?5 \
            AND s.id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?3))"
    };
}

pub mod invitations;
pub mod members;
pub mod organizations;
pub mod teams;
