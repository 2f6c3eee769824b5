//! The security event trail: what happened to an account, as its owner (`GET /me/events`) and the
//! operator (`/admin/…/events`) read it, and which events go to webhooks under which Standard
//! Webhooks type. An event holds its kind, who did it (the user, an admin key by id, the
//! system), the client address and User-Agent as the logs have them, and a small detail object
//! of classes and ids; never a secret, a code or a password (OWASP Logging Cheat Sheet).

use serde_json::{Map, Value};

use crate::core::events::webhook::EventType;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    AccountCreated,
    SignedIn,
    SignInFailed,
    LockedOut,
    RefreshReuseDetected,
    PasswordChanged,
    PasswordReset,
    PasswordResetMailed,
    EmailChanged,
    EmailVerified,
    ProfileUpdated,
    FactorAdded,
    FactorRemoved,
    SessionEnded,
    AccountDisabled,
    AccountEnabled,
    AccountUpdated,
    AccountDeleted,
    /// The person allowed an app of the provider (consent given, or widened).
    AppAuthorized,
    /// The person revoked an app of the provider.
    AppRevoked,
    /// A client registered itself (RFC 7591): an event of no account (`user_id` 0), for the
    /// operator's trail.
    ClientRegistered,
    /// Organizations (`docs/organizations.md`): each an event of the member it concerns, and of
    /// the organization (`security_events.org_id`).
    OrgCreated,
    OrgUpdated,
    OrgDeleted,
    MemberAdded,
    MemberUpdated,
    MemberRemoved,
    InvitationCreated,
    InvitationRevoked,
    InvitationAccepted,
    TeamUpdated,
}

/// The `user_id` of events that belong to no account.
pub const NO_ACCOUNT: i64 = 0;

impl EventKind {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account.created",
            Self::SignedIn => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::LockedOut => "sign_in.locked_out",
            Self::RefreshReuseDetected => "session.refresh_reuse_detected",
            Self::PasswordChanged => "password.changed",
            Self::PasswordReset => "password.reset",
            Self::PasswordResetMailed => "password.reset_mailed",
            Self::EmailChanged => "email.changed",
            Self::EmailVerified => "email.verified",
            Self::ProfileUpdated => "profile.updated",
            Self::FactorAdded => "factor.added",
            Self::FactorRemoved => "factor.removed",
            Self::SessionEnded => "session.ended",
            Self::AccountDisabled => "account.disabled",
            Self::AccountEnabled => "account.enabled",
            Self::AccountUpdated => "account.updated",
            Self::AccountDeleted => "account.deleted",
            Self::AppAuthorized => "app.authorized",
            Self::AppRevoked => "app.revoked",
            Self::ClientRegistered => "client.registered",
            Self::OrgCreated => "organization.created",
            Self::OrgUpdated => "organization.updated",
            Self::OrgDeleted => "organization.deleted",
            Self::MemberAdded => "organization.member_added",
            Self::MemberUpdated => "organization.member_updated",
            Self::MemberRemoved => "organization.member_removed",
            Self::InvitationCreated => "organization.invitation_created",
            Self::InvitationRevoked => "organization.invitation_revoked",
            Self::InvitationAccepted => "organization.invitation_accepted",
            Self::TeamUpdated => "organization.team_updated",
        }
    }

    /// The webhook this event is sent as, if any.
    pub fn webhook_type(self) -> Option<EventType> {
        Some(match self {
            Self::AccountCreated => EventType::UserCreated,
            Self::ProfileUpdated
            | Self::AccountUpdated
            | Self::EmailVerified
            | Self::AccountEnabled => EventType::UserUpdated,
            Self::AccountDeleted => EventType::UserDeleted,
            Self::AccountDisabled => EventType::UserDisabled,
            Self::SignedIn => EventType::SessionCreated,
            Self::PasswordChanged | Self::PasswordReset => EventType::PasswordChanged,
            Self::EmailChanged => EventType::EmailChanged,
            Self::FactorAdded | Self::FactorRemoved => EventType::FactorChanged,
            Self::OrgCreated => EventType::OrganizationCreated,
            Self::OrgUpdated => EventType::OrganizationUpdated,
            Self::OrgDeleted => EventType::OrganizationDeleted,
            Self::MemberAdded => EventType::MembershipCreated,
            Self::MemberUpdated => EventType::MembershipUpdated,
            Self::MemberRemoved => EventType::MembershipDeleted,
            Self::InvitationCreated => EventType::InvitationCreated,
            Self::InvitationRevoked => EventType::InvitationRevoked,
            Self::InvitationAccepted => EventType::InvitationAccepted,
            Self::SignInFailed
            | Self::PasswordResetMailed
            | Self::LockedOut
            | Self::RefreshReuseDetected
            | Self::SessionEnded
            | Self::AppAuthorized
            | Self::AppRevoked
            | Self::ClientRegistered
            | Self::TeamUpdated => return None,
        })
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The account's user (or someone presenting its credentials).
    User,
    /// An operator, by the id of the admin key they used.
    Admin(String),
    /// An app acting for itself, not for an account (a dynamic registration).
    Client,
    /// Another member of an organization (an owner or admin), by account id: the event is the
    /// member's, the change theirs.
    Member(i64),
}

impl Actor {
    pub fn stored(&self) -> String {
        match self {
            Self::User => "user".to_owned(),
            Self::Admin(id) => format!("admin:{id}"),
            Self::Client => "client".to_owned(),
            Self::Member(id) => format!("member:{id}"),
        }
    }
}

/// The detail object of an event: string fields only, from a fixed vocabulary of names, so no
/// free text a caller chose (a password typed into a name) can reach the trail, except the
/// operator's own disable reason.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Detail(Map<String, Value>);

impl Detail {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name: value`; `name` is one of the fixed field names.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_owned(), Value::String(value.into()));
        self
    }

    /// The value of field `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_webhook_types() {
        assert_eq!(EventKind::SignedIn.as_str(), "sign_in.succeeded");
        assert_eq!(
            EventKind::SignedIn.webhook_type(),
            Some(EventType::SessionCreated)
        );
        assert_eq!(
            EventType::parse("factor.changed"),
            Some(EventType::FactorChanged)
        );
        assert_eq!(EventType::parse("nope"), None);
        assert_eq!(
            EventKind::PasswordReset.webhook_type(),
            Some(EventType::PasswordChanged)
        );
        assert_eq!(
            EventKind::FactorRemoved.webhook_type(),
            Some(EventType::FactorChanged)
        );
        assert_eq!(
            EventKind::SignInFailed.webhook_type(),
            None,
            "failures stay in the trail"
        );
        assert_eq!(Actor::Admin("ops".into()).stored(), "admin:ops");
        assert_eq!(
            Detail::new().with("reason", "password").into_json(),
            serde_json::json!({"reason": "password"})
        );
    }
}
