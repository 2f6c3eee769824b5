//! The inputs of social sign-in, parsed at the boundary: the app's start (`redirect_to`, its PKCE
//! `code_challenge`), the provider's callback (`state`, `code` or `error`), and the exchange of
//! the one-time code (`code`, `code_verifier`).

use crate::core::body::Body;
use crate::core::social::pkce;
use crate::core::violation::refused;
use crate::core::violation::{Violation, Violations};

/// `GET /oauth/{provider}/start?redirect_to&code_challenge&code_challenge_method=S256`.
#[derive(Debug)]
pub struct Start {
    pub redirect_to: String,
    pub code_challenge: String,
}

impl Start {
    /// From the query's pairs (already percent-decoded); `allowed` says whether a `redirect_to`
    /// is on the allow-list.
    pub fn parse(
        get: impl Fn(&str) -> Option<String>,
        allowed: impl Fn(&str) -> bool,
    ) -> Result<Self, Violations> {
        let redirect_to = match get("redirect_to") {
            None => Err(Violation::missing("redirect_to")),
            Some(url) if allowed(&url) => Ok(url),
            Some(_) => Err(Violation::new(
                "redirect_to",
                "invalid",
                "redirect_to is not one of the configured OAUTH_REDIRECT_URLS",
            )),
        };
        let challenge = match (
            get("code_challenge"),
            get("code_challenge_method").as_deref(),
        ) {
            (None, _) => Err(Violation::missing("code_challenge")),
            (Some(_), method) if method != Some("S256") => Err(Violation::new(
                "code_challenge_method",
                "invalid",
                "code_challenge_method must be S256",
            )),
            (Some(c), _) if pkce::is_challenge(&c) => Ok(c),
            (Some(_), _) => Err(Violation::new(
                "code_challenge",
                "invalid",
                "code_challenge must be the base64url SHA-256 of a verifier (43 characters)",
            )),
        };
        match (redirect_to, challenge) {
            (Ok(redirect_to), Ok(code_challenge)) => Ok(Self {
                redirect_to,
                code_challenge,
            }),
            (r, c) => Err(refused([r.err(), c.err()])),
        }
    }
}

/// A body's `code_verifier`: the app's PKCE verifier, refused unless it has a verifier's shape.
pub fn code_verifier(body: &Body) -> Result<String, Violation> {
    body.string("code_verifier").and_then(|v| {
        if pkce::is_verifier(v) {
            Ok(v.to_owned())
        } else {
            Err(Violation::new(
                "code_verifier",
                "invalid",
                "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ))
        }
    })
}

/// `POST /oauth/token {code, code_verifier}`.
#[derive(Debug)]
pub struct Exchange {
    pub code: String,
    pub code_verifier: String,
}

impl TryFrom<&Body> for Exchange {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let code = body.string("code").map(str::to_owned);
        let verifier = code_verifier(body);
        match (code, verifier) {
            (Ok(code), Ok(code_verifier)) => Ok(Self {
                code,
                code_verifier,
            }),
            (c, v) => Err(refused([c.err(), v.err()])),
        }
    }
}

/// `POST /oauth/{provider}/link {redirect_to, code_challenge, code_challenge_method}`: bound to
/// the app like a sign-in (RFC 9700 §4.7), so the link's one-time code is useless to anyone
/// without the app's verifier.
pub fn parse_link(body: &Body, allowed: impl Fn(&str) -> bool) -> Result<Start, Violations> {
    Start::parse(
        |name| body.value(name).and_then(|v| v.as_str()).map(str::to_owned),
        allowed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const GOOD: &str = "https://app.example/done";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn a_start_needs_a_listed_redirect_and_an_s256_challenge() {
        let allowed = |url: &str| url == GOOD;
        let ok = Start::parse(
            query(&[
                ("redirect_to", GOOD),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ]),
            allowed,
        )
        .unwrap();
        assert_eq!(ok.redirect_to, GOOD);
        let reasons = |pairs: &[(&str, &str)]| -> Vec<(&'static str, &'static str)> {
            Start::parse(query(pairs), allowed)
                .unwrap_err()
                .0
                .iter()
                .map(|v| (v.field, v.reason))
                .collect()
        };
        assert_eq!(
            reasons(&[
                ("redirect_to", "https://evil.example/done"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256")
            ]),
            [("redirect_to", "invalid")]
        );
        assert_eq!(
            reasons(&[
                ("redirect_to", GOOD),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain")
            ]),
            [("code_challenge_method", "invalid")]
        );
        assert_eq!(
            reasons(&[]),
            [("redirect_to", "missing"), ("code_challenge", "missing")]
        );
    }
}
