//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP authorization
//! 2025-11-25): a client whose `client_id` is an https URL is known by the JSON document at that
//! URL. Which URLs may be fetched, what a document must say, and how long it is kept.

use serde_json::Value;

use crate::core::provider::clients::ClientKind;
use crate::core::provider::registration::{self, Registration};

/// The largest document read (the draft suggests 5 KB); a longer answer is refused unread.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch may take.
pub const FETCH_TIMEOUT_SECONDS: u64 = 5;
/// A document is kept as its `Cache-Control: max-age` says, within these bounds (an hour when
/// it says nothing): fetched at most every minute, and again at least daily.
const MIN_CACHE_SECONDS: i64 = 60;
const MAX_CACHE_SECONDS: i64 = 86_400;
const DEFAULT_CACHE_SECONDS: i64 = 3_600;
const MAX_URL_CHARS: usize = 500;

/// Whether `client_id` names a metadata document this server may fetch: https, a path, no
/// fragment, credentials or dot segments, escaped or not (draft §3), and a public DNS name
/// written in ASCII. No IP address in any notation (`127.1`, `0177.0.0.1`, `[::1]`), and no
/// local name, passes (OWASP SSRF Prevention Cheat Sheet); where a name resolves is not known
/// to a Worker, whose fetch cannot reach private networks in any case.
pub fn is_document_url(client_id: &str) -> bool {
    let Some(rest) = client_id.strip_prefix("https://") else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            authority
        }
    });
    client_id.len() <= MAX_URL_CHARS
        && path.len() > 1
        && !client_id.contains(['#', '@', '\\'])
        && !path.to_ascii_lowercase().contains("%2e")
        && !client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        && !path
            .split(['/', '?'])
            .any(|segment| segment == "." || segment == "..")
        && is_public_host(host)
}

/// A DNS name of two labels or more, in ASCII (a look-alike in another script would be shown
/// as one host and fetched as another), whose last label has a letter: so never an IPv4 address
/// in any of its notations, nor an IPv6 literal. Local names are refused by their suffix.
fn is_public_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
        && !["localhost", "local", "internal", "home.arpa", "lan"]
            .iter()
            .any(|local| host == *local || host.ends_with(&format!(".{local}")))
}

/// Checks a fetched document for `client_id`: its own `client_id` is that URL (draft §4.1), it
/// holds no secret and asks for none (a document is public, so a client known by one is public).
pub fn parse(client_id: &str, document: &Value) -> Result<Registration, &'static str> {
    if document.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err("its client_id is not the URL it was fetched from");
    }
    if document.get("client_secret").is_some() || document.get("client_secret_expires_at").is_some()
    {
        return Err("it holds a client_secret");
    }
    // A document holds no secret, so a client it describes is public unless it says otherwise
    // (and then it is refused below): RFC 7591's default of client_secret_basic does not apply.
    let mut document = document.clone();
    if let Some(fields) = document.as_object_mut() {
        fields
            .entry("token_endpoint_auth_method")
            .or_insert_with(|| Value::String("none".into()));
    }
    let registration = registration::parse(&document).map_err(|refused| refused.description)?;
    if registration.kind != ClientKind::Public {
        return Err("its token_endpoint_auth_method must be none");
    }
    Ok(registration)
}

/// How long a document is kept, from its `Cache-Control` header.
pub fn cache_seconds(cache_control: Option<&str>) -> i64 {
    let Some(header) = cache_control else {
        return DEFAULT_CACHE_SECONDS;
    };
    let directives: Vec<String> = header
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|d| d == "no-store" || d == "no-cache")
    {
        return MIN_CACHE_SECONDS;
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=")?.parse::<i64>().ok())
        .unwrap_or(DEFAULT_CACHE_SECONDS)
        .clamp(MIN_CACHE_SECONDS, MAX_CACHE_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://app.example/oauth/client.json";

    #[test]
    fn only_public_https_urls_with_a_path_are_fetched() {
        assert!(is_document_url(URL));
        assert!(is_document_url("https://app.example:8443/c"));
        for (bad, why) in [
            ("http://app.example/c.json", "plain http"),
            ("https://app.example", "no path"),
            ("https://app.example/", "the root path"),
            ("https://app.example/a/../c.json", "a dot segment"),
            ("https://app.example/c.json#x", "a fragment"),
            ("https://user@app.example/c.json", "credentials"),
            ("https://localhost/c.json", "loopback name"),
            ("https://127.0.0.1/c.json", "loopback address"),
            ("https://10.1.2.3/c.json", "private address"),
            (
                "https://169.254.169.254/latest",
                "link-local (cloud metadata)",
            ),
            ("https://100.64.0.1/c", "carrier-grade NAT"),
            ("https://[::1]/c.json", "an IPv6 literal"),
            ("https://printer.local/c.json", "mDNS name"),
            ("https://intranet/c.json", "a bare host name"),
            ("https://127.1/c.json", "a short IPv4 notation"),
            ("https://0177.0.0.1/c.json", "an octal IPv4 notation"),
            ("https://127.0.0.1./c.json", "a trailing dot"),
            ("https://localhost./c.json", "a trailing dot"),
            ("https://app%2eexample/c.json", "an escape in the host"),
            ("https://сlaude.ai/c.json", "a look-alike in Cyrillic"),
            (
                "https://app.example/a/%2e%2e/c.json",
                "an escaped dot segment",
            ),
        ] {
            assert!(!is_document_url(bad), "{bad}: {why}");
        }
    }

    #[test]
    fn a_document_names_itself_and_holds_no_secret() {
        let good = json!({"client_id": URL, "client_name": "Notes CLI", "redirect_uris": ["http://127.0.0.1:9000/cb"]});
        let registration = parse(URL, &good).unwrap();
        assert_eq!(registration.name, "Notes CLI");
        let mut other = good.clone();
        other["client_id"] = json!("https://evil.example/c.json");
        assert!(parse(URL, &other).is_err());
        let mut secret = good.clone();
        secret["client_secret"] = json!("s");
        assert!(parse(URL, &secret).is_err());
        let mut confidential = good.clone();
        confidential["token_endpoint_auth_method"] = json!("client_secret_basic");
        assert!(parse(URL, &confidential).is_err());
        let mut no_uris = good;
        no_uris["redirect_uris"] = json!([]);
        assert!(parse(URL, &no_uris).is_err());
    }

    #[test]
    fn documents_are_kept_as_their_headers_say_within_bounds() {
        assert_eq!(cache_seconds(None), 3_600);
        assert_eq!(cache_seconds(Some("public, max-age=600")), 600);
        assert_eq!(cache_seconds(Some("max-age=5")), 60);
        assert_eq!(cache_seconds(Some("max-age=9999999")), 86_400);
        assert_eq!(cache_seconds(Some("no-store")), 60);
    }
}
