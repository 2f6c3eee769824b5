//! Passkey settings: the relying party id (`RP_ID`, the registrable domain passkeys are bound
//! to), the exact origins whose pages may run a ceremony (`RP_ORIGINS`), and the name shown
//! (`RP_NAME`). Passkeys are on when `RP_ID` is set.

use crate::core::config_error::ConfigError;

/// The relying party, when passkeys are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyConfig {
    pub rp_id: String,
    pub rp_name: String,
    pub origins: Vec<String>,
}

impl PasskeyConfig {
    /// `None` when `RP_ID` is unset.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(rp_id) = get("RP_ID") else {
            return Ok(None);
        };
        let origins: Vec<String> = get("RP_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let problem = |variable: &'static str, what: String| ConfigError {
            variable: variable.into(),
            problem: what,
        };
        if origins.is_empty() {
            return Err(problem(
                "RP_ORIGINS",
                "is not set; RP_ID needs the origins of its pages".into(),
            ));
        }
        // §5.1.4.1: the RP id is the origin's host or a registrable suffix of it.
        for origin in &origins {
            let host = origin
                .split_once("://")
                .map(|(_, rest)| rest.split(':').next().unwrap_or(rest))
                .unwrap_or("");
            if !(host == rp_id || host.ends_with(&format!(".{rp_id}"))) {
                return Err(problem(
                    "RP_ORIGINS",
                    format!(
                        "lists {origin}, whose host is not {rp_id} or a subdomain of it (RP_ID)"
                    ),
                ));
            }
        }
        Ok(Some(Self {
            rp_name: get("RP_NAME").unwrap_or_else(|| rp_id.clone()),
            rp_id,
            origins,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<PasskeyConfig>, ConfigError> {
        PasskeyConfig::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn off_without_rp_id_and_checked_with_it() {
        assert_eq!(parse(&[]).unwrap(), None);
        let on = parse(&[
            ("RP_ID", "example.com"),
            (
                "RP_ORIGINS",
                "https://example.com, https://app.example.com/",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            on.origins,
            ["https://example.com", "https://app.example.com"]
        );
        assert_eq!(on.rp_name, "example.com");
        assert_eq!(
            parse(&[("RP_ID", "example.com")]).unwrap_err().variable,
            "RP_ORIGINS"
        );
        let foreign = parse(&[("RP_ID", "example.com"), ("RP_ORIGINS", "https://evil.com")]);
        assert!(foreign.unwrap_err().problem.contains("https://evil.com"));
        assert!(parse(&[
            ("RP_ID", "example.com"),
            ("RP_ORIGINS", "https://notexample.com")
        ])
        .is_err());
        assert!(parse(&[
            ("RP_ID", "localhost"),
            ("RP_ORIGINS", "http://localhost:5173")
        ])
        .is_ok());
    }
}
