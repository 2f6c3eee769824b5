//! Webhooks in the Standard Webhooks format (standardwebhooks.com, spec 1.0.0): the event
//! envelope, the symmetric signature, and the rules of a delivery (its outcome, its backoff).
//!
//! A delivery is signed over `{id}.{timestamp}.{body}` with HMAC-SHA256 and sent with the
//! headers `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,{base64}`, one per secret, space-separated, for zero-downtime
//! rotation). The id stays the same across retries, so a receiver can drop a repeat.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::core::config::ConfigError;

/// The prefix of a symmetric secret's text (spec, "Signature scheme").
const SECRET_PREFIX: &str = "whsec_";
/// Key sizes the spec allows for HMAC-SHA256: at least 24 bytes (192 bits), at most 512 bits.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// What happened. The wire names are the events' `type`, `[a-z_]` segments joined by `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// One event on its way to one endpoint: the queue's message. The body travels as the text
/// that is signed, so every attempt sends the same bytes; the endpoint is named by its URL, and
/// its secrets are looked up when the message is delivered (they never sit in the queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The `webhook-id`: one per event, the same for each endpoint and each attempt.
    pub id: String,
    pub endpoint: String,
    pub body: String,
}

impl Delivery {
    /// One delivery of `event` per endpoint URL. `id` must hold no `.` (spec: it is a field of
    /// the signed content); `msg_` and a random base64url identifier is what we use.
    pub fn fan_out<'a>(
        id: &str,
        event: &Event,
        endpoints: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Self> {
        let body = event.body();
        endpoints
            .into_iter()
            .map(|url| Self {
                id: id.to_owned(),
                endpoint: url.to_owned(),
                body: body.clone(),
            })
            .collect()
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

/// What an endpoint's answer means for its delivery (spec, "Delivery success and failure").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `2xx`.
    Delivered,
    /// Anything else, redirects included (they are not followed: the URL should be updated).
    Retry,
    /// `410 Gone`: the receiver wants no more; retrying would only load it.
    Abandon,
}

impl Outcome {
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Delivered,
            410 => Self::Abandon,
            _ => Self::Retry,
        }
    }
}

/// The longest delay Cloudflare Queues takes for a retry (12 hours).
pub const MAX_RETRY_DELAY_SECONDS: u32 = 43_200;

/// The wait before the next attempt: `base × 4^(attempt − 1)`, plus up to a tenth of it as
/// jitter, at most `MAX_RETRY_DELAY_SECONDS`. With the default base of 5 s and 12 retries the
/// schedule (5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, then 12 h) spans about 2.8 days,
/// close to the spec's example of 75 hours, inside the queue's default retention of 4 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_seconds: u32,
}

impl Backoff {
    /// The delay after the failed `attempt` (the first delivery is attempt 1). `jitter` is a
    /// random byte, so that endpoints that failed together are not retried together.
    pub fn delay_seconds(self, attempt: u32, jitter: u8) -> u32 {
        let exponent = attempt.saturating_sub(1).min(16);
        let delay = u64::from(self.base_seconds) * 4u64.pow(exponent);
        let spread = delay * u64::from(jitter) / (10 * 255);
        (delay + spread).min(u64::from(MAX_RETRY_DELAY_SECONDS)) as u32
    }
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

    #[test]
    fn an_event_fans_out_with_one_id_and_one_body() {
        let event = Event::new(EventType::UserDeleted, TIMESTAMP, json!({"id": 7}));
        let out = Delivery::fan_out(
            "msg_a",
            &event,
            ["https://a.example/h", "https://b.example/h"],
        );
        assert_eq!(out.len(), 2);
        assert!(out
            .iter()
            .all(|d| d.id == "msg_a" && d.body == event.body()));
        assert_eq!(out[1].endpoint, "https://b.example/h");
    }

    #[test]
    fn only_2xx_is_delivered_and_410_stops() {
        let cases = [
            (200, Outcome::Delivered),
            (204, Outcome::Delivered),
            (301, Outcome::Retry),
            (404, Outcome::Retry),
            (410, Outcome::Abandon),
            (429, Outcome::Retry),
            (503, Outcome::Retry),
        ];
        for (status, outcome) in cases {
            assert_eq!(Outcome::of_status(status), outcome, "{status}");
        }
    }

    #[test]
    fn backoff_grows_fourfold_with_bounded_jitter_and_a_cap() {
        let backoff = Backoff { base_seconds: 5 };
        let plain: Vec<u32> = (1..=9).map(|n| backoff.delay_seconds(n, 0)).collect();
        assert_eq!(plain, [5, 20, 80, 320, 1280, 5120, 20480, 43_200, 43_200]);
        assert_eq!(backoff.delay_seconds(3, 255), 88, "at most a tenth more");
        assert_eq!(
            backoff.delay_seconds(u32::MAX, 255),
            MAX_RETRY_DELAY_SECONDS
        );
        assert_eq!(Backoff { base_seconds: 0 }.delay_seconds(4, 255), 0);
        assert_eq!(
            backoff.delay_seconds(0, 0),
            5,
            "attempt 0 reads as the first"
        );
    }
}
