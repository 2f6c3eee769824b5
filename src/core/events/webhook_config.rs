//! Webhook settings: the endpoints events are posted to (`WEBHOOK_ENDPOINTS`) and the first
//! retry's delay (`WEBHOOK_RETRY_BASE_SECONDS`). Webhooks are off when no endpoint is set.
//!
//! `WEBHOOK_ENDPOINTS` is one secret (`wrangler secret put WEBHOOK_ENDPOINTS`): endpoints
//! separated by commas or new lines, each its URL then its secrets, space-separated, newest
//! first; every delivery is signed with each, so an old secret can stay listed while a
//! receiver moves to the new one:
//!
//! ```text
//! https://app.example.com/hooks whsec_NEW... whsec_OLD..., https://crm.example.com/in whsec_...
//! ```

use crate::core::config_error::ConfigError;
use crate::core::events::webhook::SigningSecret;
use crate::core::events::webhook_delivery::Backoff;

const ENDPOINTS: &str = "WEBHOOK_ENDPOINTS";
const RETRY_BASE: &str = "WEBHOOK_RETRY_BASE_SECONDS";
/// The first retry's delay when unset: the spec's example schedule starts at 5 seconds.
const DEFAULT_RETRY_BASE_SECONDS: u32 = 5;

/// One receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    /// Newest first; never empty.
    pub secrets: Vec<SigningSecret>,
}

/// Every endpoint (none: webhooks are off) and the retry schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub endpoints: Vec<Endpoint>,
    pub backoff: Backoff,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            backoff: Backoff {
                base_seconds: DEFAULT_RETRY_BASE_SECONDS,
            },
        }
    }
}

impl WebhookConfig {
    /// The endpoint whose URL is `url`, if it is still configured.
    pub fn endpoint(&self, url: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.url == url)
    }

    /// Reads the settings through `get`. Errors name the variable, never a secret.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(raw) = get(RETRY_BASE) {
            config.backoff.base_seconds = raw.trim().parse().map_err(|_| ConfigError {
                variable: RETRY_BASE.into(),
                problem: "must be a whole number of seconds".to_owned(),
            })?;
        }
        let raw = get(ENDPOINTS).unwrap_or_default();
        for entry in raw
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let mut words = entry.split_whitespace();
            let url = words.next().unwrap_or_default();
            check_url(url)?;
            if config.endpoint(url).is_some() {
                return Err(problem(format!("lists {url} twice")));
            }
            let secrets = words
                .map(|word| SigningSecret::parse(word, ENDPOINTS))
                .collect::<Result<Vec<_>, _>>()?;
            if secrets.is_empty() {
                return Err(problem(format!(
                    "lists {url} without a secret (whsec_..., after the URL)"
                )));
            }
            config.endpoints.push(Endpoint {
                url: url.to_owned(),
                secrets,
            });
        }
        Ok(config)
    }
}

/// An `https://` URL with a host; `http://` only to this machine (local development and tests),
/// since the payloads name accounts and the spec advises HTTPS.
fn check_url(url: &str) -> Result<(), ConfigError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hostname = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let local = ["localhost", "127.0.0.1", "[::1]"].contains(&hostname);
    match scheme {
        _ if hostname.is_empty() || host.contains('@') => Err(problem(format!(
            "has {url:?}, which is not a URL with a host"
        ))),
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(problem(format!(
            "has {url}: endpoints must be https:// (http:// only to localhost)"
        ))),
    }
}

fn problem(problem: String) -> ConfigError {
    ConfigError {
        variable: ENDPOINTS.into(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OLD: &str = "whsec_dGhlIHNlY29uZCBlbmRwb2ludCdzIDI0Ynl0ZSBrZXk=";

    fn parse(pairs: &[(&str, &str)]) -> Result<WebhookConfig, ConfigError> {
        WebhookConfig::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn off_when_unset_with_the_default_schedule() {
        let config = parse(&[]).unwrap();
        assert!(config.endpoints.is_empty());
        assert_eq!(config.backoff.base_seconds, 5);
        assert!(parse(&[(ENDPOINTS, " \n ")]).unwrap().endpoints.is_empty());
    }

    #[test]
    fn endpoints_are_separated_by_commas_or_lines() {
        let raw = format!(
            "https://a.example/hooks {KEY} {OLD},\n  http://127.0.0.1:8788/in {KEY}\nhttps://c.example {KEY}"
        );
        let config = parse(&[(ENDPOINTS, &raw), (RETRY_BASE, "1")]).unwrap();
        let urls: Vec<&str> = config.endpoints.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/hooks",
                "http://127.0.0.1:8788/in",
                "https://c.example"
            ]
        );
        assert_eq!(config.endpoints[0].secrets.len(), 2);
        assert_eq!(config.backoff.base_seconds, 1);
        assert!(config.endpoint("http://127.0.0.1:8788/in").is_some());
        assert!(config.endpoint("https://a.example/other").is_none());
    }

    #[test]
    fn bad_settings_name_the_variable_and_not_the_secret() {
        let cases = [
            ("https://a.example/hooks", "without a secret"),
            ("http://a.example/hooks whsec_x", "https://"),
            ("ftp://a.example whsec_x", "https://"),
            ("a.example/hooks whsec_x", "not a URL"),
            ("https://user@evil.example whsec_x", "not a URL"),
            ("https:// whsec_x", "not a URL"),
        ];
        for (raw, why) in cases {
            let refused = parse(&[(ENDPOINTS, raw)]).unwrap_err();
            assert_eq!(refused.variable, ENDPOINTS, "{raw}");
            assert!(refused.problem.contains(why), "{raw}: {}", refused.problem);
        }
        let twice = format!("https://a.example {KEY}, https://a.example {KEY}");
        assert!(parse(&[(ENDPOINTS, &twice)])
            .unwrap_err()
            .problem
            .contains("twice"));
        let bad_key = parse(&[(ENDPOINTS, "https://a.example whsec_c2VjcmV0")]).unwrap_err();
        assert!(!bad_key.problem.contains("c2VjcmV0"));
        let base = parse(&[(RETRY_BASE, "soon")]).unwrap_err();
        assert_eq!(base.variable, RETRY_BASE);
    }
}
