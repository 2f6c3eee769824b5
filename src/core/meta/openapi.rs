//! The contract as one deployment serves it (`GET /openapi.json`): `api/openapi.json` without the
//! operations of the capabilities this deployment leaves off. Off, those routes answer 404
//! `not_found`, as a path that does not exist does, so a document that listed them would promise
//! what the deployment does not do: a client generated from it would call them, and a contract
//! fuzzer reading it would find the deployment at odds with its own document.
//!
//! Only a capability that is off by choice is left out. A bad setting (an `ADMIN_API_KEYS` entry
//! too short, `RP_ID` without `RP_ORIGINS`) keeps its routes in the document: they answer 500
//! `server_misconfigured`, which the document describes, until the operator fixes it. Neither is
//! mail a capability here: without `EMAIL_PROVIDER` the routes that send mail answer 500 too
//! (`Config::mail_transport`: a deployment must never drop a code silently).

use std::borrow::Cow;

use serde_json::Value;

use crate::core::config::Config;

/// A capability a deployment may leave off, by leaving its setting unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// The operator's API (`ADMIN_API_KEYS`): every `/admin/` path.
    AdminApi,
    /// The passkey ceremonies (`RP_ID`): registering one, signing in or up with one, the second
    /// step with one. Listing, renaming and deleting an account's passkeys stay: they need no
    /// relying party, and an account keeps the passkeys it registered while passkeys were on.
    Passkeys,
    /// Social sign-in (`OIDC_PROVIDERS`, `GITHUB_CLIENT_ID`): the routes that name a provider,
    /// `/oauth/{provider}/…`. `POST /oauth/token` and `/identities` stay, answered as always: an
    /// unknown code is 401, and an account keeps the identities it linked while a provider was on.
    SocialSignIn,
    /// Sign-in by emailed code or link (`EMAIL_SIGN_IN`, on unless `false`): `/email-sign-in…`.
    EmailSignIn,
    /// The OAuth 2.1 / OpenID provider (`OAUTH_PROVIDER`): `/oauth2/…`, its two discovery
    /// documents, and the operator's `/admin/clients…`.
    Provider,
}

/// The paths (as the document's `paths` keys) of the passkey ceremonies: each handler asks for
/// the relying party first (`edge/handlers/passkeys.rs`, `relying_party`).
const PASSKEY_CEREMONIES: &[&str] = &[
    "/passkeys/register/options",
    "/passkeys/register",
    "/passkeys/login/options",
    "/passkeys/login",
    "/passkeys/signup/options",
    "/passkeys/signup",
    "/login/mfa/passkey/options",
    "/login/mfa/passkey",
];

impl Capability {
    /// The capabilities `config` leaves off, in the order of the enum.
    pub fn off_in(config: &Config) -> Vec<Self> {
        let admin_off = matches!(config.admin_keys, Ok(None));
        let passkeys_off = matches!(config.passkeys, Ok(None));
        let social_off = matches!(&config.oauth, Ok(oauth) if oauth.providers.is_empty());
        [
            (Self::AdminApi, admin_off),
            (Self::Passkeys, passkeys_off),
            (Self::SocialSignIn, social_off),
            (Self::EmailSignIn, !config.email_sign_in),
            (Self::Provider, matches!(config.provider, Ok(None))),
        ]
        .into_iter()
        .filter_map(|(capability, off)| off.then_some(capability))
        .collect()
    }

    /// Whether the document's `path` exists only while this capability is on: every method of it
    /// answers 404 while it is off, so the path leaves the document whole, its CORS preflight
    /// with it (the worker still answers that one: `router::preflight_methods` reads no
    /// configuration).
    pub fn owns(self, path: &str) -> bool {
        match self {
            Self::AdminApi => path.starts_with("/admin/"),
            Self::Passkeys => PASSKEY_CEREMONIES.contains(&path),
            Self::SocialSignIn => path.starts_with("/oauth/{provider}/"),
            Self::EmailSignIn => path == "/email-sign-in" || path.starts_with("/email-sign-in/"),
            Self::Provider => {
                path.starts_with("/oauth2/")
                    || path.starts_with("/admin/clients")
                    || path == "/.well-known/openid-configuration"
                    || path == "/.well-known/oauth-authorization-server"
            }
        }
    }
}

/// `document` (an OpenAPI document) without the paths the `off` capabilities own, and without
/// the components only those paths referred to: schemas and responses (`$ref`) and security
/// schemes (by name in `security`), so the admin key's scheme goes with the admin API. A component
/// that nothing referred to before stays (`MethodNotAllowed`, which the description points to).
/// With nothing off, `document` itself, untouched; otherwise compact JSON, members sorted by name
/// (serde_json's map; RFC 8259 §4: an object's members are unordered).
pub fn served<'a>(
    document: &'a str,
    off: &[Capability],
) -> Result<Cow<'a, str>, serde_json::Error> {
    if off.is_empty() {
        return Ok(Cow::Borrowed(document));
    }
    let mut document: Value = serde_json::from_str(document)?;
    let referred_before = referred(&document);
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        paths.retain(|path, _| !off.iter().any(|capability| capability.owns(path)));
    }
    let referred_after = referred(&document);
    for orphan in referred_before
        .iter()
        .filter(|p| !referred_after.contains(p))
    {
        let Some((parent, name)) = orphan.rsplit_once('/') else {
            continue;
        };
        if let Some(Value::Object(members)) = document.pointer_mut(parent) {
            members.remove(name);
        }
    }
    serde_json::to_string(&document).map(Cow::Owned)
}

/// The components the document refers to, as JSON pointers (`/components/schemas/Profile`): those
/// referred to from outside `components`, and those they refer to in turn. A list, not a set: a few
/// dozen names, and a `BTreeSet` here added 3 KB gzip to the wasm.
fn referred(document: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Value::Object(members) = document {
        for (name, value) in members {
            if name != "components" {
                references(value, &mut found);
            }
        }
    }
    // `found` grows while it is read: each component's own references are added at its end.
    let mut read = 0;
    while let Some(pointer) = found.get(read).cloned() {
        if let Some(component) = document.pointer(&pointer) {
            references(component, &mut found);
        }
        read += 1;
    }
    found
}

/// Adds to `found` every component `value` names that it lacks: a local `$ref`, or a security
/// scheme in a `security` requirement list.
fn references(value: &Value, found: &mut Vec<String>) {
    let add = |found: &mut Vec<String>, pointer: String| {
        if !found.contains(&pointer) {
            found.push(pointer);
        }
    };
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                match (name.as_str(), member) {
                    ("$ref", Value::String(target)) => {
                        if let Some(pointer) = target.strip_prefix('#') {
                            add(found, pointer.to_owned());
                        }
                    }
                    ("security", Value::Array(requirements)) => {
                        let schemes = requirements.iter().filter_map(Value::as_object);
                        for scheme in schemes.flat_map(|requirement| requirement.keys()) {
                            add(found, format!("/components/securitySchemes/{scheme}"));
                        }
                    }
                    _ => references(member, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const DOCUMENT: &str = include_str!("../../../api/openapi.json");
    const ALL: [Capability; 5] = [
        Capability::AdminApi,
        Capability::Passkeys,
        Capability::SocialSignIn,
        Capability::EmailSignIn,
        Capability::Provider,
    ];

    fn served_value(off: &[Capability]) -> Value {
        serde_json::from_str(&served(DOCUMENT, off).unwrap()).unwrap()
    }

    fn paths(document: &Value) -> Vec<String> {
        document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn nothing_off_serves_the_document_as_written() {
        assert!(matches!(served(DOCUMENT, &[]).unwrap(), Cow::Borrowed(d) if d == DOCUMENT));
    }

    #[test]
    fn each_capability_takes_exactly_its_paths() {
        let full = served_value(&[]);
        let cases: [(Capability, &[&str], &[&str]); 5] = [
            (
                Capability::AdminApi,
                &["/admin/users", "/admin/users/{id}/disable", "/admin/events"],
                &["/me", "/me/events", "/health"],
            ),
            (
                Capability::Passkeys,
                &[
                    "/passkeys/register/options",
                    "/passkeys/signup",
                    "/login/mfa/passkey",
                ],
                &["/passkeys", "/passkeys/{id}", "/login/mfa", "/login"],
            ),
            (
                Capability::SocialSignIn,
                &[
                    "/oauth/{provider}/start",
                    "/oauth/{provider}/callback",
                    "/oauth/{provider}/link",
                ],
                &["/oauth/token", "/identities", "/identities/{provider}"],
            ),
            (
                Capability::EmailSignIn,
                &[
                    "/email-sign-in",
                    "/email-sign-in/code",
                    "/email-sign-in/link",
                ],
                &["/login", "/verify-email", "/reset-password"],
            ),
            (
                Capability::Provider,
                &[
                    "/oauth2/authorize",
                    "/oauth2/token",
                    "/.well-known/openid-configuration",
                    "/admin/clients/{id}",
                ],
                &["/oauth/token", "/.well-known/jwks.json", "/admin/users"],
            ),
        ];
        for (capability, gone, kept) in cases {
            let served = served_value(&[capability]);
            let left = paths(&served);
            for path in gone {
                assert!(
                    full["paths"].get(*path).is_some(),
                    "{path} is in the document"
                );
                assert!(
                    !left.contains(&(*path).to_owned()),
                    "{capability:?} off: {path} gone"
                );
            }
            for path in kept {
                assert!(
                    left.contains(&(*path).to_owned()),
                    "{capability:?} off: {path} kept"
                );
            }
            let removed = paths(&full).len() - left.len();
            let owned = paths(&full).iter().filter(|p| capability.owns(p)).count();
            assert_eq!(
                removed, owned,
                "{capability:?} off removes only what it owns"
            );
            for path in &left {
                assert_eq!(
                    served["paths"][path], full["paths"][path],
                    "{path} is untouched"
                );
            }
        }
    }

    #[test]
    fn every_passkey_ceremony_is_in_the_document() {
        let full = served_value(&[]);
        for path in PASSKEY_CEREMONIES {
            assert!(full["paths"].get(*path).is_some(), "{path}");
        }
    }

    #[test]
    fn components_only_the_removed_paths_used_go_with_them() {
        let full = served_value(&[]);
        let admin_off = served_value(&[Capability::AdminApi]);
        let schemes = &admin_off["components"]["securitySchemes"];
        assert!(schemes.get("adminKey").is_none(), "the admin key's scheme");
        assert!(schemes.get("bearer").is_some(), "the users' scheme stays");
        let schemas = &admin_off["components"]["schemas"];
        assert!(
            schemas.get("AdminUserDetail").is_none(),
            "the admin API's own"
        );
        assert!(
            schemas.get("SecurityEvent").is_some(),
            "shared with /me/events"
        );
        let all_off = served_value(&ALL);
        let responses = &all_off["components"]["responses"];
        // (RedirectNotAllowed stays: an organization's invitation may link to an app page.)
        for gone in ["PasskeyRefused", "InvalidState"] {
            assert!(responses.get(gone).is_none(), "{gone}");
        }
        for kept in ["NotFound", "MethodNotAllowed", "AccountDisabled"] {
            assert!(
                full["components"]["responses"].get(kept).is_some(),
                "{kept} is in the document"
            );
            assert!(responses.get(kept).is_some(), "{kept} stays");
        }
    }

    #[test]
    fn every_reference_left_resolves() {
        let all_off = served_value(&ALL);
        let mut found = Vec::new();
        references(&all_off, &mut found);
        for pointer in found {
            assert!(all_off.pointer(&pointer).is_some(), "{pointer} dangles");
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut map: HashMap<&str, &str> = HashMap::from([
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            (
                crate::core::sessions::token_keys::SIGNING_KEY_VARIABLE,
                crate::core::sessions::token_keys::tests::RFC_8037_PRIVATE,
            ),
        ]);
        map.extend(pairs.iter().copied());
        Config::parse(|name| map.get(name).map(|v| (*v).to_owned())).unwrap()
    }

    #[test]
    fn a_capability_is_off_when_unset_and_never_when_misconfigured() {
        assert_eq!(
            Capability::off_in(&config(&[])),
            [ALL[0], ALL[1], ALL[2], ALL[4]],
            "email sign-in is on by default"
        );
        assert_eq!(
            Capability::off_in(&config(&[("EMAIL_SIGN_IN", "false")])),
            ALL
        );
        let on = config(&[
            ("ADMIN_API_KEYS", "ops:0123456789abcdef0123456789abcdef"),
            ("RP_ID", "localhost"),
            ("RP_ORIGINS", "http://localhost:5173"),
            ("GITHUB_CLIENT_ID", "id"),
            ("GITHUB_CLIENT_SECRET", "secret"),
            ("OAUTH_REDIRECT_URLS", "https://app.example/done"),
            ("OAUTH_PROVIDER", "true"),
        ]);
        assert!(Capability::off_in(&on).is_empty());
        let misconfigured = config(&[
            ("ADMIN_API_KEYS", "ops:short"),
            ("RP_ID", "localhost"),
            ("GITHUB_CLIENT_ID", "id"),
            ("OAUTH_PROVIDER", "true"),
        ]);
        assert!(misconfigured.admin_keys.is_err() && misconfigured.passkeys.is_err());
        assert!(misconfigured.oauth.is_err());
        assert!(
            Capability::off_in(&misconfigured).is_empty(),
            "a bad setting keeps its routes (500 server_misconfigured)"
        );
    }
}
