//! The rules of a webhook delivery: one queue message per event and endpoint, what an answer
//! means (spec, "Delivery success and failure"), and the wait before the next attempt.

use serde::{Deserialize, Serialize};

use crate::core::events::webhook::Event;

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
    use crate::core::events::webhook::EventType;
    use serde_json::json;

    #[test]
    fn an_event_fans_out_with_one_id_and_one_body() {
        let event = Event::new(EventType::UserDeleted, 1_674_087_231, json!({"id": 7}));
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
