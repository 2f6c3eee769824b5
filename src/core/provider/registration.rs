//! Dynamic client registration (RFC 7591): the metadata a client sends about itself, checked
//! into a client of the provider. Self-registered clients are public unless they ask for a secret,
//! never skip consent, and sign ID tokens with RS256.

use serde_json::{json, Map, Value};

use crate::core::provider::clients::{is_redirect_uri, ClientKind};
use crate::core::provider::device::DEVICE_CODE_GRANT;
use crate::core::provider::scopes::Scopes;

const MAX_NAME_CHARS: usize = 100;
const MAX_REDIRECT_URIS: usize = 10;
const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", DEVICE_CODE_GRANT];

/// A registration as accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub kind: ClientKind,
    pub auth_method: &'static str,
    pub scopes: Scopes,
    pub grant_types: Vec<&'static str>,
}

impl Registration {
    /// Whether the client may use the device grant.
    pub fn device_grant(&self) -> bool {
        self.grant_types.contains(&DEVICE_CODE_GRANT)
    }

    /// The registration answer's metadata (RFC 7591 §3.2.1), without id and secret.
    pub fn metadata(&self) -> Map<String, Value> {
        let mut shown = Map::new();
        shown.insert("client_name".into(), json!(self.name));
        shown.insert("redirect_uris".into(), json!(self.redirect_uris));
        shown.insert("token_endpoint_auth_method".into(), json!(self.auth_method));
        shown.insert("grant_types".into(), json!(self.grant_types));
        shown.insert("response_types".into(), json!(["code"]));
        shown.insert("scope".into(), json!(self.scopes.to_string()));
        shown
    }
}

/// A refused registration: RFC 7591 §3.2.2's error code and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub error: &'static str,
    pub description: &'static str,
}

fn metadata_error(description: &'static str) -> Refused {
    Refused {
        error: "invalid_client_metadata",
        description,
    }
}

fn strings<'a>(value: Option<&'a Value>, field: &'static str) -> Result<Vec<&'a str>, Refused> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().ok_or_else(|| metadata_error(field)))
            .collect(),
        Some(_) => Err(metadata_error(field)),
    }
}

/// Invisible and direction-changing characters (Unicode's Cf): in a name a client chose, they
/// could reorder or hide the host or `(unverified app)` shown after it on the consent page.
fn is_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks a registration request's JSON (RFC 7591 §2). Fields this server does not use
/// (`client_uri`, `logo_uri`, `contacts`, …) are ignored, as §2 allows.
pub fn parse(body: &Value) -> Result<Registration, Refused> {
    let Value::Object(fields) = body else {
        return Err(metadata_error("The registration must be a JSON object"));
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    let (kind, auth_method) = match text("token_endpoint_auth_method") {
        Some("none") => (ClientKind::Public, "none"),
        // RFC 7591 §2: unsaid, the method is client_secret_basic.
        None | Some("client_secret_basic") => (ClientKind::Confidential, "client_secret_basic"),
        Some("client_secret_post") => (ClientKind::Confidential, "client_secret_post"),
        Some(_) => return Err(metadata_error(
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
        )),
    };
    let asked = strings(
        fields.get("grant_types"),
        "grant_types must be a list of grant types",
    )?;
    let mut grant_types = Vec::new();
    for grant in if asked.is_empty() {
        vec!["authorization_code"]
    } else {
        asked
    } {
        let known = GRANTS.iter().find(|g| **g == grant).ok_or_else(|| {
            metadata_error(
                "grant_types may list authorization_code, refresh_token and the device code grant",
            )
        })?;
        if !grant_types.contains(known) {
            grant_types.push(*known);
        }
    }
    let redirects = grant_types.contains(&"authorization_code");
    if !strings(
        fields.get("response_types"),
        "response_types must be a list",
    )?
    .iter()
    .all(|t| *t == "code")
    {
        return Err(metadata_error("response_types may list code only"));
    }
    let uris = strings(
        fields.get("redirect_uris"),
        "redirect_uris must be a list of URLs",
    )
    .map_err(|e| Refused {
        error: "invalid_redirect_uri",
        ..e
    })?;
    let bad_uri = |description| Refused {
        error: "invalid_redirect_uri",
        description,
    };
    if redirects && uris.is_empty() {
        return Err(bad_uri(
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(bad_uri("redirect_uris may list at most 10 URLs"));
    }
    if !uris.iter().all(|uri| is_redirect_uri(uri)) {
        return Err(bad_uri("each redirect URI must be an absolute https URL (http only for localhost or 127.0.0.1), without a fragment"));
    }
    let mut redirect_uris: Vec<String> = Vec::new();
    for uri in uris {
        if !redirect_uris.iter().any(|known| known == uri) {
            redirect_uris.push(uri.to_owned());
        }
    }
    let name = text("client_name").map_or("Unnamed app", str::trim);
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(|c| c.is_control() || is_format(c))
    {
        return Err(metadata_error(
            "client_name must be 1 to 100 characters, without control or direction characters",
        ));
    }
    let scopes = match text("scope") {
        None => Scopes::all(),
        Some(scope) => Scopes::parse(scope).map_err(|_| {
            metadata_error("scope may list openid, profile, email, offline_access and organization")
        })?,
    };
    Ok(Registration {
        name: name.to_owned(),
        redirect_uris,
        kind,
        auth_method,
        scopes,
        grant_types,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(body: Value) -> &'static str {
        parse(&body).expect_err("refused").error
    }

    #[test]
    fn an_mcp_clients_registration_is_a_public_client() {
        let registered = parse(&json!({
            "client_name": "Claude",
            "redirect_uris": ["http://127.0.0.1:33418/callback", "http://127.0.0.1:33418/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "logo_uri": "https://claude.ai/logo.png",
        }))
        .unwrap();
        assert_eq!(registered.kind, ClientKind::Public);
        assert_eq!(registered.redirect_uris.len(), 1);
        assert!(!registered.device_grant());
        assert_eq!(
            registered.metadata()["scope"],
            "openid profile email offline_access organization"
        );
    }

    #[test]
    fn a_cli_may_register_for_the_device_grant_alone() {
        let cli =
            parse(&json!({"client_name": "cli", "grant_types": [DEVICE_CODE_GRANT], "token_endpoint_auth_method": "none"})).unwrap();
        assert!(cli.device_grant() && cli.redirect_uris.is_empty());
    }

    #[test]
    fn what_is_refused_and_with_which_error() {
        for (body, error, why) in [
            (
                json!({}),
                "invalid_redirect_uri",
                "the code grant needs redirect URIs",
            ),
            (
                json!({"redirect_uris": ["http://app.example/cb"]}),
                "invalid_redirect_uri",
                "plain http off loopback",
            ),
            (
                json!({"redirect_uris": ["https://app.example/cb#x"]}),
                "invalid_redirect_uri",
                "a fragment",
            ),
            (
                json!({"redirect_uris": "https://app.example/cb"}),
                "invalid_redirect_uri",
                "not a list",
            ),
            (
                json!({"redirect_uris": ["https://a.example/"], "grant_types": ["implicit"]}),
                "invalid_client_metadata",
                "implicit",
            ),
            (
                json!({"redirect_uris": ["https://a.example/"], "response_types": ["token"]}),
                "invalid_client_metadata",
                "token response",
            ),
            (
                json!({"redirect_uris": ["https://a.example/"], "token_endpoint_auth_method": "private_key_jwt"}),
                "invalid_client_metadata",
                "unsupported auth",
            ),
            (
                json!({"redirect_uris": ["https://a.example/"], "scope": "openid admin"}),
                "invalid_client_metadata",
                "unknown scope",
            ),
            (
                json!({"redirect_uris": ["https://a.example/"], "client_name": "a\u{0}b"}),
                "invalid_client_metadata",
                "control character",
            ),
            (
                json!(["https://a.example/"]),
                "invalid_client_metadata",
                "not an object",
            ),
        ] {
            assert_eq!(error_of(body), error, "{why}");
        }
    }
}
