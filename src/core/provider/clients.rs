//! A client of the provider, as the operator registers it (`POST /admin/clients`) and edits it
//! (`PATCH /admin/clients/{id}`), and its secret.

use serde_json::Value;

use crate::core::accounts::name::required_name;
use crate::core::body::Body;
use crate::core::operators::admin_requests::optional_bool;
use crate::core::provider::scopes::Scopes;
use crate::core::violation::{refused, Violation, Violations};

const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_CHARS: usize = 2000;
/// The longest a rotated-out secret keeps working: a week to roll the new one out.
pub const MAX_SECRET_OVERLAP_SECONDS: i64 = 7 * 86_400;
pub const DEFAULT_SECRET_OVERLAP_SECONDS: i64 = 86_400;

/// The name the hosted pages show for a client: the operator's by its name; a document client's
/// (`origin` `document`, its id a URL) with the host its document came from, the one thing about
/// it that was proven; a self-registered client's marked unverified, since anyone can register
/// any name (RFC 7591 §5, "impersonation").
pub fn shown_name(name: &str, origin: &str, id: &str) -> String {
    match origin {
        "document" => {
            let host = crate::core::query::origin(id).trim_start_matches("https://");
            format!("{name} ({host})")
        }
        "dynamic" => format!("{name} (unverified app)"),
        _ => name.to_owned(),
    }
}

/// Public clients (a browser or native app: no secret, PKCE alone) or confidential ones (a
/// server holding a secret), RFC 6749 §2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Public,
    Confidential,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Confidential => "confidential",
        }
    }
}

/// How the client's ID tokens are signed: RS256 unless it asks for EdDSA (OpenID Connect
/// Dynamic Client Registration's `id_token_signed_response_alg`).
pub const ID_TOKEN_ALGS: [&str; 2] = ["RS256", "EdDSA"];

/// `POST /admin/clients`.
#[derive(Debug)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub kind: ClientKind,
    pub scopes: Scopes,
    pub skip_consent: bool,
    pub id_token_alg: &'static str,
    /// Whether it may use the device grant (RFC 8628); off unless asked for.
    pub device_grant: bool,
}

/// `PATCH /admin/clients/{id}`: what is present changes.
#[derive(Debug, Default)]
pub struct ClientEdits {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Scopes>,
    pub skip_consent: Option<bool>,
    pub id_token_alg: Option<&'static str>,
    pub device_grant: Option<bool>,
}

impl TryFrom<&Body> for NewClient {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let name = body.string("name").and_then(required_name);
        let uris = body
            .value("redirect_uris")
            .ok_or_else(|| Violation::missing("redirect_uris"))
            .and_then(redirect_uris);
        let kind = match body.optional_string("type") {
            Ok(Some("public")) => Ok(ClientKind::Public),
            Ok(Some("confidential")) => Ok(ClientKind::Confidential),
            Ok(None) => Err(Violation::missing("type")),
            Ok(Some(_)) => Err(Violation::new(
                "type",
                "invalid",
                "type must be public or confidential",
            )),
            Err(e) => Err(e),
        };
        let scopes = body.value("scopes").map(scopes).transpose();
        let skip = optional_bool(body, "skip_consent");
        let alg = alg(body);
        let device = optional_bool(body, "device_grant");
        match (name, uris, kind, scopes, skip, alg, device) {
            (Ok(name), Ok(redirect_uris), Ok(kind), Ok(scopes), Ok(skip), Ok(alg), Ok(device)) => {
                Ok(Self {
                    name,
                    redirect_uris,
                    kind,
                    scopes: scopes.unwrap_or_else(Scopes::all),
                    skip_consent: skip.unwrap_or(false),
                    id_token_alg: alg.unwrap_or("RS256"),
                    device_grant: device.unwrap_or(false),
                })
            }
            (name, uris, kind, scopes, skip, alg, device) => Err(refused([
                name.err(),
                uris.err(),
                kind.err(),
                scopes.err(),
                skip.err(),
                alg.err(),
                device.err(),
            ])),
        }
    }
}

impl TryFrom<&Body> for ClientEdits {
    type Error = Violations;

    fn try_from(body: &Body) -> Result<Self, Violations> {
        let name = body
            .optional_string("name")
            .and_then(|n| n.map(required_name).transpose());
        let uris = body.value("redirect_uris").map(redirect_uris).transpose();
        let scopes = body.value("scopes").map(scopes).transpose();
        let skip = optional_bool(body, "skip_consent");
        let alg = alg(body);
        let device = optional_bool(body, "device_grant");
        let kind = match body.value("type") {
            Some(_) => Err(Violation::new(
                "type",
                "invalid",
                "A client's type cannot change; register a new client",
            )),
            None => Ok(()),
        };
        match (name, uris, scopes, skip, alg, kind, device) {
            (
                Ok(name),
                Ok(redirect_uris),
                Ok(scopes),
                Ok(skip_consent),
                Ok(id_token_alg),
                Ok(()),
                Ok(device_grant),
            ) => Ok(Self {
                name,
                redirect_uris,
                scopes,
                skip_consent,
                id_token_alg,
                device_grant,
            }),
            (name, uris, scopes, skip, alg, kind, device) => Err(refused([
                name.err(),
                uris.err(),
                scopes.err(),
                skip.err(),
                alg.err(),
                kind.err(),
                device.err(),
            ])),
        }
    }
}

fn alg(body: &Body) -> Result<Option<&'static str>, Violation> {
    match body.optional_string("id_token_signed_response_alg")? {
        None => Ok(None),
        Some(alg) => ID_TOKEN_ALGS
            .iter()
            .find(|known| **known == alg)
            .map(|known| Some(*known))
            .ok_or_else(|| {
                Violation::new(
                    "id_token_signed_response_alg",
                    "invalid",
                    "id_token_signed_response_alg must be RS256 or EdDSA",
                )
            }),
    }
}

fn scopes(value: &Value) -> Result<Scopes, Violation> {
    let bad = || {
        Violation::new(
            "scopes",
            "invalid",
            "scopes must be a list of openid, profile, email, offline_access and organization",
        )
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    let words: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
    let words = words.ok_or_else(bad)?;
    if words.iter().any(|w| w.contains(' ')) {
        return Err(bad());
    }
    Scopes::parse(&words.join(" ")).map_err(|_| bad())
}

fn redirect_uris(value: &Value) -> Result<Vec<String>, Violation> {
    let bad = |message: &str| Violation::new("redirect_uris", "invalid", message);
    let Value::Array(items) = value else {
        return Err(bad("redirect_uris must be a list of URLs"));
    };
    if items.is_empty() || items.len() > MAX_REDIRECT_URIS {
        return Err(bad("redirect_uris must list 1 to 10 URLs"));
    }
    let mut uris = Vec::new();
    for item in items {
        let uri = item
            .as_str()
            .ok_or_else(|| bad("redirect_uris must be a list of URLs"))?;
        if !is_redirect_uri(uri) {
            return Err(bad("each redirect URI must be an absolute https URL (http only for localhost or 127.0.0.1), without a fragment or spaces"));
        }
        if !uris.iter().any(|known: &String| known == uri) {
            uris.push(uri.to_owned());
        }
    }
    Ok(uris)
}

/// A redirect URI the provider will send codes to: absolute, no fragment (RFC 6749 §3.1.2),
/// https, or http on the loopback for native apps and development (RFC 8252 §7.3; RFC 9700
/// §2.1). Matched exactly, character for character, at authorization (RFC 9700 §4.1.3).
pub fn is_redirect_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host_name = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host_name = host_name.split(':').next().unwrap_or_default();
    let loopback = matches!(host_name, "localhost" | "127.0.0.1") || host.starts_with("[::1]");
    uri.len() <= MAX_URI_CHARS
        && !uri.contains('#')
        && !uri.contains('@')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
        && !host_name.is_empty()
        && (scheme == "https" || (scheme == "http" && loopback))
}

/// Whether `presented` is the registered redirect URI `registered`: character for character
/// (RFC 9700 §4.1.3), except that a loopback IP redirect may use any port, which a native app
/// picks when it starts (RFC 8252 §7.3; OAuth 2.1 §8.4.2).
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let without_port = |uri: &str| -> Option<(String, String)> {
        let rest = uri.strip_prefix("http://")?;
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let (host, port) = authority.rsplit_once(':')?;
        (matches!(host, "127.0.0.1" | "[::1]") && port.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (host.to_owned(), path.to_owned()))
    };
    let with_any_port = |uri: &str| -> Option<(String, String)> {
        without_port(uri).or_else(|| {
            let rest = uri.strip_prefix("http://")?;
            let (host, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
            matches!(host, "127.0.0.1" | "[::1]").then(|| (host.to_owned(), path.to_owned()))
        })
    };
    matches!((with_any_port(registered), with_any_port(presented)), (Some(a), Some(b)) if a == b)
}

/// The rotation's `overlap_seconds`: how long the old secret keeps working.
pub fn overlap(body: &Body) -> Result<i64, Violation> {
    match body.value("overlap_seconds") {
        None => Ok(DEFAULT_SECRET_OVERLAP_SECONDS),
        // JSON has one number type: 3600.0 is the whole number 3600 (JSON Schema's `integer`).
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .filter(|s| (0..=MAX_SECRET_OVERLAP_SECONDS).contains(s))
            .ok_or_else(|| {
                Violation::new(
                    "overlap_seconds",
                    "invalid",
                    "overlap_seconds must be a whole number from 0 to 604800",
                )
            }),
        Some(_) => Err(Violation::wrong_type("overlap_seconds", "a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragments() {
        assert!(is_redirect_uri("https://app.example/callback?x=1"));
        assert!(is_redirect_uri("http://127.0.0.1:8080/cb"));
        assert!(is_redirect_uri("http://localhost/cb"));
        assert!(!is_redirect_uri("http://app.example/cb"));
        assert!(!is_redirect_uri("https://app.example/cb#frag"));
        assert!(!is_redirect_uri("https://evil@app.example/cb"));
        assert!(!is_redirect_uri("http://localhost.evil.example/cb"));
        assert!(!is_redirect_uri("javascript:alert(1)"));
        assert!(!is_redirect_uri("/relative"));
    }

    #[test]
    fn a_new_client_needs_name_uris_and_type() {
        let client = NewClient::try_from(&body(
            r#"{"name":" Notes ","redirect_uris":["https://notes.example/cb"],"type":"public"}"#,
        ))
        .unwrap();
        assert_eq!(client.name, "Notes");
        assert_eq!(client.scopes, Scopes::all());
        assert_eq!(client.id_token_alg, "RS256");
        assert!(!client.skip_consent);
        let refused = NewClient::try_from(&body(
            r#"{"redirect_uris":"https://x","type":"server","scopes":["admin"]}"#,
        ))
        .unwrap_err();
        let fields: Vec<_> = refused.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["name", "redirect_uris", "type", "scopes"]);
    }

    #[test]
    fn edits_cannot_change_the_type() {
        assert!(ClientEdits::try_from(&body(r#"{"type":"public"}"#)).is_err());
        let edits =
            ClientEdits::try_from(&body(r#"{"id_token_signed_response_alg":"EdDSA"}"#)).unwrap();
        assert_eq!(edits.id_token_alg, Some("EdDSA"));
    }

    #[test]
    fn a_rotation_overlaps_a_day_unless_said() {
        assert_eq!(
            overlap(&body("{}")).unwrap(),
            DEFAULT_SECRET_OVERLAP_SECONDS
        );
        assert!(overlap(&body(r#"{"overlap_seconds":999999}"#)).is_err());
        assert_eq!(
            overlap(&body(r#"{"overlap_seconds":1828.0}"#)).unwrap(),
            1828
        );
        assert!(overlap(&body(r#"{"overlap_seconds":1.5}"#)).is_err());
    }

    #[test]
    fn loopback_ip_redirects_match_on_any_port_and_nothing_else_does() {
        assert!(redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb/"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1:8000/cb",
            "http://127.0.0.1:51004/cb"
        ));
        assert!(redirect_matches("http://[::1]:1/cb", "http://[::1]:2/cb"));
        assert!(!redirect_matches(
            "http://127.0.0.1:8000/cb",
            "http://127.0.0.1:8000/other"
        ));
        assert!(
            !redirect_matches("http://localhost:8000/cb", "http://localhost:9000/cb"),
            "a name, not an IP literal"
        );
        assert!(!redirect_matches(
            "https://app.example:1/cb",
            "https://app.example:2/cb"
        ));
    }
}
