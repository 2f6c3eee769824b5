//! The authorization request (RFC 6749 §4.1.1, OAuth 2.1, OpenID Connect Core §3.1.2.1) and
//! what the provider does with it: sign the person in, ask their consent, issue a code, or
//! refuse. Pure rules; the edge reads the client, the cookie's session and the stored consent.

use crate::core::provider::id_token::unverified_subject;
use crate::core::provider::resource::{asked, Resources};
use crate::core::provider::scopes::{Scopes, ORGANIZATION};
use crate::core::social::pkce;

const MAX_STATE_CHARS: usize = 2000;
const MAX_NONCE_CHARS: usize = 500;
const MAX_HINT_CHARS: usize = 254;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Shown on the provider's own error page, never redirected: the client or its redirect URI
    /// is not what was registered, so the redirect could go anywhere (RFC 6749 §4.1.2.1).
    Page(&'static str),
    /// Sent back to the client's registered redirect URI as `error` and `error_description`.
    Redirect {
        error: &'static str,
        description: String,
    },
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal::Redirect {
        error,
        description: description.into(),
    }
}

/// The `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request the provider accepted: every value checked against the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scopes,
    /// The resource the tokens will be for (RFC 8707).
    pub resource: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    /// The `sub` of `id_token_hint`: the person the client expects.
    pub expected_subject: Option<String>,
    pub login_hint: Option<String>,
    /// Set by the provider itself on the way back from its sign-in page: the sign-in must be at
    /// least this recent (it stands for the `prompt=login` or `max_age` that sent the person there).
    pub auth_after: Option<i64>,
}

/// The one value of `name`: a parameter sent twice is an error (RFC 6749 §3.1).
fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ()> {
    let mut found = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    match (found.next(), found.next()) {
        (first, None) => Ok(first.filter(|v| !v.is_empty())),
        _ => Err(()),
    }
}

/// The client and redirect URI of a request, before anything is redirected: missing, repeated
/// or unregistered, the error is a page.
pub fn target(pairs: &[(String, String)]) -> Result<(String, String), Refusal> {
    let client_id = single(pairs, "client_id")
        .ok()
        .flatten()
        .ok_or(Refusal::Page("The request names no client (client_id)."))?;
    let redirect_uri = single(pairs, "redirect_uri")
        .ok()
        .flatten()
        .ok_or(Refusal::Page("The request names no redirect_uri."))?;
    Ok((client_id.to_owned(), redirect_uri.to_owned()))
}

/// The `state` to send back with any answer, even an error (RFC 6749 §4.1.2.1).
pub fn state(pairs: &[(String, String)]) -> Option<String> {
    single(pairs, "state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_STATE_CHARS)
        .map(str::to_owned)
}

/// The rest of the request, for a client allowed `allowed` scopes, whose `client_id` and
/// `redirect_uri` (from `target`) were found registered.
pub fn parse(
    pairs: &[(String, String)],
    client_id: String,
    redirect_uri: String,
    allowed: &Scopes,
    resources: &Resources,
) -> Result<Authorization, Refusal> {
    let one = |name: &str| {
        single(pairs, name).map_err(|()| refuse("invalid_request", format!("{name} is repeated")))
    };
    if one("request")?.is_some() {
        return Err(refuse(
            "request_not_supported",
            "Request objects are not supported",
        ));
    }
    if one("request_uri")?.is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    match one("response_type")? {
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some("code") => {}
        // OAuth 2.1 has the code flow only: no implicit or hybrid tokens in a URL.
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "Only response_type=code is supported",
            ))
        }
    }
    if one("response_mode")?.is_some_and(|mode| mode != "query") {
        return Err(refuse(
            "invalid_request",
            "Only response_mode=query is supported",
        ));
    }
    let state = one("state")?;
    if state.is_some_and(|s| s.len() > MAX_STATE_CHARS) {
        return Err(refuse(
            "invalid_request",
            "state is longer than 2000 characters",
        ));
    }
    let scope = Scopes::parse(one("scope")?.unwrap_or_default())
        .map_err(|unknown| refuse("invalid_scope", format!("Unknown scope: {unknown}")))?;
    if scope.is_empty() {
        return Err(refuse("invalid_scope", "scope is required"));
    }
    if !scope.within(allowed) {
        return Err(refuse(
            "invalid_scope",
            "The client may not ask for these scopes",
        ));
    }
    // PKCE with S256 for every client (OAuth 2.1 §4.1.1; RFC 9700 §2.1.1).
    let resource = resources
        .pick(&asked(pairs))
        .map_err(|description| refuse("invalid_target", description))?;
    let code_challenge = one("code_challenge")?
        .ok_or_else(|| refuse("invalid_request", "code_challenge is required (PKCE, S256)"))?;
    if one("code_challenge_method")? != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !pkce::is_challenge(code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 digest",
        ));
    }
    let nonce = one("nonce")?;
    if nonce.is_some_and(|n| n.len() > MAX_NONCE_CHARS) {
        return Err(refuse(
            "invalid_request",
            "nonce is longer than 500 characters",
        ));
    }
    let prompt = prompt(one("prompt")?)?;
    let max_age = one("max_age")?
        .map(|raw| raw.parse::<i64>().ok().filter(|age| *age >= 0))
        .map(|age| {
            age.ok_or_else(|| {
                refuse(
                    "invalid_request",
                    "max_age must be a whole number of seconds",
                )
            })
        })
        .transpose()?;
    let expected_subject = one("id_token_hint")?
        .map(|hint| {
            unverified_subject(hint)
                .ok_or_else(|| refuse("invalid_request", "id_token_hint is not an ID token"))
        })
        .transpose()?;
    let login_hint = one("login_hint")?.filter(|h| h.len() <= MAX_HINT_CHARS);
    let auth_after = one("auth_after")?.and_then(|t| t.parse::<i64>().ok());
    Ok(Authorization {
        client_id,
        redirect_uri,
        scope,
        resource: resource.map(str::to_owned),
        state: state.map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        prompt,
        max_age,
        expected_subject,
        login_hint: login_hint.map(str::to_owned),
        auth_after,
    })
}

fn prompt(raw: Option<&str>) -> Result<Prompt, Refusal> {
    let mut prompt = Prompt::default();
    for word in raw.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => prompt.none = true,
            // One account per browser: choosing one is signing in again.
            "login" | "select_account" => prompt.login = true,
            "consent" => prompt.consent = true,
            _ => {
                return Err(refuse(
                    "invalid_request",
                    "prompt must be none, login, consent or select_account",
                ))
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(refuse(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

/// The person the provider's cookie names, from its live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: i64,
    pub auth_time: i64,
}

/// What to do with an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    SignIn,
    Consent,
    Issue,
    /// `login_required` or `consent_required` for `prompt=none`.
    Refuse(&'static str),
}

/// The decision for `request`, given who is signed in, what they consented to before, and
/// whether the client is first-party (consent skipped). A request for `organization` always asks:
/// the organization is chosen on the consent page, each time.
pub fn decide(
    request: &Authorization,
    signed_in: Option<&SignedIn>,
    consented: Option<&Scopes>,
    skip_consent: bool,
    now: i64,
) -> Decision {
    let fresh_enough = |person: &SignedIn| match request.auth_after {
        // Back from our sign-in page: that sign-in answers prompt=login and max_age.
        Some(after) => person.auth_time >= after,
        None => {
            !request.prompt.login
                && request
                    .max_age
                    .is_none_or(|age| now - person.auth_time <= age)
        }
    };
    let right_person = |person: &SignedIn| {
        request
            .expected_subject
            .as_ref()
            .is_none_or(|sub| *sub == person.user_id.to_string())
    };
    let signed_in = signed_in.filter(|p| fresh_enough(p) && right_person(p));
    if signed_in.is_none() {
        return if request.prompt.none {
            Decision::Refuse("login_required")
        } else {
            Decision::SignIn
        };
    }
    let remembered = consented.is_some_and(|scopes| request.scope.within(scopes));
    let choosing = request.scope.contains(ORGANIZATION);
    if request.prompt.consent || choosing || !(skip_consent || remembered) {
        return if request.prompt.none {
            Decision::Refuse("consent_required")
        } else {
            Decision::Consent
        };
    }
    Decision::Issue
}

/// Where the sign-in page sends the person back: this request again, with `prompt=login` and
/// `max_age` replaced by `auth_after=now`, so the fresh sign-in satisfies them (no loop).
pub fn after_sign_in(pairs: &[(String, String)], now: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        match name.as_str() {
            "max_age" | "auth_after" => {}
            "prompt" => {
                let kept: Vec<&str> = value
                    .split(' ')
                    .filter(|w| !w.is_empty() && !matches!(*w, "login" | "select_account"))
                    .collect();
                if !kept.is_empty() {
                    query.append_pair("prompt", &kept.join(" "));
                }
            }
            _ => {
                query.append_pair(name, value);
            }
        }
    }
    query.append_pair("auth_after", &now.to_string());
    format!("/oauth2/authorize?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![
            ("response_type", "code"),
            ("client_id", "c1"),
            ("redirect_uri", "https://app.example/cb"),
            ("scope", "openid email"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        all.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        all.extend(extra.iter().filter(|(_, v)| !v.is_empty()));
        all.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn accepted(extra: &[(&str, &str)]) -> Result<Authorization, Refusal> {
        let pairs = pairs(extra);
        let (client, uri) = target(&pairs)?;
        parse(&pairs, client, uri, &Scopes::all(), &Resources::default())
    }

    fn error_of(extra: &[(&str, &str)]) -> &'static str {
        match accepted(extra) {
            Err(Refusal::Redirect { error, .. }) => error,
            other => panic!("expected a redirected error, got {other:?}"),
        }
    }

    #[test]
    fn a_code_request_with_pkce_is_accepted() {
        let request = accepted(&[("nonce", "n"), ("unknown", "ignored")]).unwrap();
        assert_eq!(request.scope.to_string(), "openid email");
        assert_eq!(request.state.as_deref(), Some("s1"));
        assert_eq!(request.nonce.as_deref(), Some("n"));
    }

    #[test]
    fn what_is_refused_and_how() {
        assert_eq!(
            error_of(&[("response_type", "token")]),
            "unsupported_response_type"
        );
        assert_eq!(
            error_of(&[("response_type", "code id_token")]),
            "unsupported_response_type"
        );
        assert_eq!(error_of(&[("response_type", "")]), "invalid_request");
        assert_eq!(error_of(&[("code_challenge", "")]), "invalid_request");
        assert_eq!(
            error_of(&[("code_challenge_method", "plain")]),
            "invalid_request"
        );
        assert_eq!(error_of(&[("scope", "openid admin")]), "invalid_scope");
        assert_eq!(error_of(&[("request", "eyJ...")]), "request_not_supported");
        assert_eq!(error_of(&[("prompt", "none login")]), "invalid_request");
        assert_eq!(error_of(&[("max_age", "-1")]), "invalid_request");
        assert_eq!(
            error_of(&[("resource", "https://api.example/#x")]),
            "invalid_target"
        );
        assert_eq!(
            accepted(&[("resource", "https://api.example/")])
                .unwrap()
                .resource
                .as_deref(),
            Some("https://api.example/")
        );
        let mut twice = pairs(&[]);
        twice.push(("scope".into(), "openid".into()));
        let (client, uri) = target(&twice).unwrap();
        assert!(matches!(
            parse(&twice, client, uri, &Scopes::all(), &Resources::default()),
            Err(Refusal::Redirect {
                error: "invalid_request",
                ..
            })
        ));
        assert!(matches!(
            target(&pairs(&[("client_id", "")])),
            Err(Refusal::Page(_))
        ));
        assert!(matches!(
            target(&pairs(&[("redirect_uri", "")])),
            Err(Refusal::Page(_))
        ));
    }

    #[test]
    fn scopes_beyond_the_clients_are_refused() {
        let pairs = pairs(&[]);
        let narrow = Scopes::parse("openid").unwrap();
        let refused = parse(
            &pairs,
            "c1".into(),
            "https://app.example/cb".into(),
            &narrow,
            &Resources::default(),
        );
        assert!(matches!(
            refused,
            Err(Refusal::Redirect {
                error: "invalid_scope",
                ..
            })
        ));
    }

    #[test]
    fn sign_in_then_consent_then_code() {
        let request = accepted(&[]).unwrap();
        let person = SignedIn {
            user_id: 7,
            auth_time: NOW - 100,
        };
        let email = Scopes::parse("openid email").unwrap();
        assert_eq!(decide(&request, None, None, false, NOW), Decision::SignIn);
        assert_eq!(
            decide(&request, Some(&person), None, false, NOW),
            Decision::Consent
        );
        assert_eq!(
            decide(
                &request,
                Some(&person),
                Some(&Scopes::parse("openid").unwrap()),
                false,
                NOW
            ),
            Decision::Consent
        );
        assert_eq!(
            decide(&request, Some(&person), Some(&email), false, NOW),
            Decision::Issue
        );
        assert_eq!(
            decide(&request, Some(&person), None, true, NOW),
            Decision::Issue
        );
    }

    #[test]
    fn prompt_and_max_age() {
        let person = SignedIn {
            user_id: 7,
            auth_time: NOW - 100,
        };
        let all = Scopes::all();
        let none = accepted(&[("prompt", "none")]).unwrap();
        assert_eq!(
            decide(&none, None, None, false, NOW),
            Decision::Refuse("login_required")
        );
        assert_eq!(
            decide(&none, Some(&person), None, false, NOW),
            Decision::Refuse("consent_required")
        );
        assert_eq!(
            decide(&none, Some(&person), Some(&all), false, NOW),
            Decision::Issue
        );
        let login = accepted(&[("prompt", "login")]).unwrap();
        assert_eq!(
            decide(&login, Some(&person), Some(&all), false, NOW),
            Decision::SignIn
        );
        let consent = accepted(&[("prompt", "consent")]).unwrap();
        assert_eq!(
            decide(&consent, Some(&person), Some(&all), true, NOW),
            Decision::Consent
        );
        let old = accepted(&[("max_age", "60")]).unwrap();
        assert_eq!(
            decide(&old, Some(&person), Some(&all), false, NOW),
            Decision::SignIn
        );
        let recent = accepted(&[("max_age", "600")]).unwrap();
        assert_eq!(
            decide(&recent, Some(&person), Some(&all), false, NOW),
            Decision::Issue
        );
    }

    #[test]
    fn an_organization_is_chosen_on_the_page_every_time() {
        let request = accepted(&[("scope", "openid organization")]).unwrap();
        let person = SignedIn {
            user_id: 7,
            auth_time: NOW - 100,
        };
        let all = Scopes::all();
        assert_eq!(
            decide(&request, Some(&person), Some(&all), false, NOW),
            Decision::Consent,
            "a remembered consent"
        );
        assert_eq!(
            decide(&request, Some(&person), None, true, NOW),
            Decision::Consent,
            "a first-party client"
        );
        let silent = accepted(&[("scope", "openid organization"), ("prompt", "none")]).unwrap();
        assert_eq!(
            decide(&silent, Some(&person), Some(&all), true, NOW),
            Decision::Refuse("consent_required")
        );
    }

    #[test]
    fn the_way_back_from_sign_in_cannot_loop() {
        let raw = pairs(&[("prompt", "login consent"), ("max_age", "1")]);
        let back = after_sign_in(&raw, NOW);
        assert!(back.starts_with("/oauth2/authorize?"));
        let again = crate::core::query::pairs(&back);
        let request = parse(
            &again,
            "c1".into(),
            "https://app.example/cb".into(),
            &Scopes::all(),
            &Resources::default(),
        )
        .unwrap();
        assert!(!request.prompt.login && request.prompt.consent && request.max_age.is_none());
        let fresh = SignedIn {
            user_id: 7,
            auth_time: NOW,
        };
        assert_eq!(
            decide(&request, Some(&fresh), None, false, NOW + 5),
            Decision::Consent
        );
        let stale = SignedIn {
            user_id: 7,
            auth_time: NOW - 1,
        };
        assert_eq!(
            decide(&request, Some(&stale), None, false, NOW + 5),
            Decision::SignIn
        );
    }

    #[test]
    fn an_id_token_hint_for_someone_else_asks_for_a_sign_in() {
        let hint = format!(
            "e30.{}.sig",
            crate::core::random::base64url(br#"{"sub":"8"}"#)
        );
        let request = accepted(&[("id_token_hint", &hint), ("prompt", "none")]).unwrap();
        let person = SignedIn {
            user_id: 7,
            auth_time: NOW,
        };
        assert_eq!(
            decide(&request, Some(&person), Some(&Scopes::all()), false, NOW),
            Decision::Refuse("login_required")
        );
    }
}
