//! Webhooks in the Standard Webhooks format (standardwebhooks.com, spec 1.0.0): the event
//! envelope and the symmetric signature (`webhook_delivery.rs` has the rules of a delivery).
//!
//! A delivery is signed over `{id}.{timestamp}.{body}` with HMAC-SHA256 and sent with the
//! headers `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,{base64}`, one per secret, space-separated, for zero-downtime
//! rotation). The id stays the same across retries, so a receiver can drop a repeat.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use crate::core::config_error::ConfigError;

/// The prefix of a symmetric secret's text (spec, "Signature scheme").
const SECRET_PREFIX: &str = "whsec_";
/// Key sizes the spec allows for HMAC-SHA256: at least 24 bytes (192 bits), at most 512 bits.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// What happened. The wire names are the events' `type`, `[a-z_]` segments joined by `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "session.created")]
    SessionCreated,
    #[serde(rename = "password.changed")]
    PasswordChanged,
    #[serde(rename = "email.changed")]
    EmailChanged,
    #[serde(rename = "factor.changed")]
    FactorChanged,
    #[serde(rename = "organization.created")]
    OrganizationCreated,
    #[serde(rename = "organization.updated")]
    OrganizationUpdated,
    #[serde(rename = "organization.deleted")]
    OrganizationDeleted,
    #[serde(rename = "organization.membership.created")]
    MembershipCreated,
    #[serde(rename = "organization.membership.updated")]
    MembershipUpdated,
    #[serde(rename = "organization.membership.deleted")]
    MembershipDeleted,
    #[serde(rename = "organization.invitation.created")]
    InvitationCreated,
    #[serde(rename = "organization.invitation.revoked")]
    InvitationRevoked,
    #[serde(rename = "organization.invitation.accepted")]
    InvitationAccepted,
}

impl EventType {
    const ALL: [Self; 17] = [
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeleted,
        Self::UserDisabled,
        Self::SessionCreated,
        Self::PasswordChanged,
        Self::EmailChanged,
        Self::FactorChanged,
        Self::OrganizationCreated,
        Self::OrganizationUpdated,
        Self::OrganizationDeleted,
        Self::MembershipCreated,
        Self::MembershipUpdated,
        Self::MembershipDeleted,
        Self::InvitationCreated,
        Self::InvitationRevoked,
        Self::InvitationAccepted,
    ];

    /// The wire name (as stored in the outbox, `security_events.webhook`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeleted => "user.deleted",
            Self::UserDisabled => "user.disabled",
            Self::SessionCreated => "session.created",
            Self::PasswordChanged => "password.changed",
            Self::EmailChanged => "email.changed",
            Self::FactorChanged => "factor.changed",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
            Self::OrganizationDeleted => "organization.deleted",
            Self::MembershipCreated => "organization.membership.created",
            Self::MembershipUpdated => "organization.membership.updated",
            Self::MembershipDeleted => "organization.membership.deleted",
            Self::InvitationCreated => "organization.invitation.created",
            Self::InvitationRevoked => "organization.invitation.revoked",
            Self::InvitationAccepted => "organization.invitation.accepted",
        }
    }

    /// The type of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// An event as receivers get it: the spec's recommended payload `{type, timestamp, data}`, with
/// `timestamp` the RFC 3339 time the event happened (not when an attempt was made).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub timestamp: String,
    pub data: Value,
}

impl Event {
    /// An event that happened at `occurred_at` (Unix seconds).
    pub fn new(kind: EventType, occurred_at: i64, data: Value) -> Self {
        let timestamp = chrono::DateTime::from_timestamp(occurred_at, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            kind,
            timestamp,
            data,
        }
    }

    /// The exact body sent, and signed, on every attempt.
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("an event is plain JSON")
    }
}

/// A symmetric signing secret, `whsec_` + base64 of its key. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// Reads `whsec_...` as an operator pastes it; `variable` names the setting in the error.
    pub fn parse(text: &str, variable: &'static str) -> Result<Self, ConfigError> {
        let refuse = |problem: String| ConfigError {
            variable: variable.into(),
            problem,
        };
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            refuse(format!(
                "has a secret that does not start with {SECRET_PREFIX}"
            ))
        })?;
        let key = Base64::decode_vec(encoded)
            .map_err(|_| refuse("has a secret that is not base64 after whsec_".to_owned()))?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(refuse(format!(
                "has a secret of {} bytes; keys are {} to {} bytes",
                key.len(),
                KEY_BYTES.start(),
                KEY_BYTES.end()
            )));
        }
        Ok(Self(key))
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret([redacted])")
    }
}

/// The `webhook-signature` header of one attempt: `v1,{base64 HMAC-SHA256}` under each secret,
/// in the order given, space-separated. `timestamp` is the attempt's, in Unix seconds.
pub fn signature_header(secrets: &[SigningSecret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|secret| {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes keys of any length");
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body.as_bytes());
            format!("v1,{}", Base64::encode_string(&mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(text: &str) -> SigningSecret {
        SigningSecret::parse(text, "WEBHOOK_ENDPOINTS").unwrap()
    }

    // Made with the npm package standardwebhooks 1.1.1 (the spec authors'):
    // `new Webhook(secret).sign(ID, new Date(TIMESTAMP * 1000), BODY)` for each secret.
    const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    const TIMESTAMP: i64 = 1_674_087_231;
    const BODY: &str =
        r#"{"type":"user.created","timestamp":"2023-01-19T00:13:51Z","data":{"id":42}}"#;
    const FIRST: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SECOND: &str = "whsec_dGhlIHNlY29uZCBlbmRwb2ludCdzIDI0Ynl0ZSBrZXk=";

    #[test]
    fn signatures_match_the_reference_library() {
        assert_eq!(
            signature_header(&[secret(FIRST)], ID, TIMESTAMP, BODY),
            "v1,2SJ3azYWa8lRLgyYGf9GdzJbfboNapAxbuxW6GW6l6Y="
        );
        assert_eq!(
            signature_header(&[secret(SECOND), secret(FIRST)], ID, TIMESTAMP, BODY),
            "v1,j0rg8o45Q9oeZlvLl6MRsD6J2xXOHcy6qkD8MR/J/dU= \
             v1,2SJ3azYWa8lRLgyYGf9GdzJbfboNapAxbuxW6GW6l6Y="
        );
    }

    #[test]
    fn every_signed_field_counts() {
        let base = signature_header(&[secret(FIRST)], ID, TIMESTAMP, BODY);
        for (signed, why) in [
            (
                signature_header(&[secret(FIRST)], "msg_other", TIMESTAMP, BODY),
                "id",
            ),
            (
                signature_header(&[secret(FIRST)], ID, TIMESTAMP + 1, BODY),
                "timestamp",
            ),
            (
                signature_header(&[secret(FIRST)], ID, TIMESTAMP, "{}"),
                "body",
            ),
            (
                signature_header(&[secret(SECOND)], ID, TIMESTAMP, BODY),
                "secret",
            ),
        ] {
            assert_ne!(signed, base, "{why}");
        }
    }

    #[test]
    fn secrets_are_whsec_base64_of_24_to_64_bytes() {
        for (text, why) in [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "no prefix"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", "not base64"),
            ("whsec_c2hvcnQga2V5", "9 bytes"),
            (
                &format!("whsec_{}", Base64::encode_string(&[1; 65])),
                "65 bytes",
            ),
        ] {
            let refused = SigningSecret::parse(text, "WEBHOOK_ENDPOINTS").unwrap_err();
            assert_eq!(refused.variable, "WEBHOOK_ENDPOINTS", "{why}");
            assert!(
                !refused.problem.contains(text),
                "{why}: the value is never shown"
            );
        }
        assert_eq!(format!("{:?}", secret(FIRST)), "SigningSecret([redacted])");
    }

    #[test]
    fn the_envelope_is_type_timestamp_data() {
        let event = Event::new(EventType::UserCreated, 1_674_087_231, json!({"id": 42}));
        assert_eq!(
            event.body(),
            r#"{"type":"user.created","timestamp":"2023-01-19T00:13:51Z","data":{"id":42}}"#
        );
        let names = [
            (EventType::UserUpdated, "user.updated"),
            (EventType::UserDeleted, "user.deleted"),
            (EventType::UserDisabled, "user.disabled"),
            (EventType::SessionCreated, "session.created"),
            (EventType::PasswordChanged, "password.changed"),
            (EventType::EmailChanged, "email.changed"),
            (EventType::FactorChanged, "factor.changed"),
        ];
        for (kind, name) in names {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
        }
    }
}
