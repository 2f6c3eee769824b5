//! Resource indicators (RFC 8707): the resource server a token is for. An access token names it
//! as its `aud`, so a token issued for one MCP server or API is refused by every other (MCP
//! authorization 2025-11-25, "Token Audience Binding and Validation").

const MAX_RESOURCE_CHARS: usize = 500;

/// Which resources tokens may be issued for: those listed in `OAUTH_RESOURCES`, or (unset) any
/// absolute `https` URI, and `http` on a loopback host for local development.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    listed: Option<Vec<String>>,
}

impl Resources {
    /// `OAUTH_RESOURCES`: comma-separated resource URIs; each must itself be a resource URI.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(Self::default());
        };
        let listed: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        if listed.iter().any(|r| !is_resource_uri(r)) {
            return Err("must list absolute https URIs without a fragment, comma-separated");
        }
        Ok(Self {
            listed: Some(listed),
        })
    }

    /// The one `resource` of a request's `values` (RFC 8707 §2), or an `invalid_target`
    /// description. This server issues a token for one resource at a time: its `aud` is one URI.
    pub fn pick<'a>(&self, values: &[&'a str]) -> Result<Option<&'a str>, &'static str> {
        let asked = match values {
            [] => return Ok(None),
            [one] => *one,
            _ => return Err("Ask for one resource per request"),
        };
        if !is_resource_uri(asked) {
            return Err("resource must be an absolute https URI without a fragment");
        }
        match &self.listed {
            Some(listed) if !listed.iter().any(|r| r == asked) => {
                Err("This server issues no tokens for that resource")
            }
            _ => Ok(Some(asked)),
        }
    }

    /// The listed resources, for the discovery document's readers.
    pub fn listed(&self) -> Option<&[String]> {
        self.listed.as_deref()
    }
}

/// Every `resource` a request's parameters name, in order (RFC 8707 §2 allows several).
pub fn asked(pairs: &[(String, String)]) -> Vec<&str> {
    pairs
        .iter()
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str())
        .collect()
}

/// An absolute URI without a fragment (RFC 8707 §2): `https`, or `http` on a loopback host.
fn is_resource_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            authority
        }
    });
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    uri.len() <= MAX_RESOURCE_CHARS
        && !uri.contains(['#', '@'])
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
        && !host.is_empty()
        && (scheme == "https" || (scheme == "http" && loopback))
}

/// The audience of a grant's access tokens: its resource, else the client itself.
pub fn audience<'a>(resource: Option<&'a str>, client_id: &'a str) -> &'a str {
    resource.unwrap_or(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_absolute_uri_without_fragment_is_picked() {
        let any = Resources::default();
        assert_eq!(any.pick(&[]), Ok(None));
        assert_eq!(
            any.pick(&["https://mcp.example/mcp"]),
            Ok(Some("https://mcp.example/mcp"))
        );
        assert_eq!(
            any.pick(&["http://127.0.0.1:8788/mcp"]),
            Ok(Some("http://127.0.0.1:8788/mcp"))
        );
        for (bad, why) in [
            ("mcp.example/mcp", "not absolute"),
            ("https://mcp.example/mcp#top", "a fragment (RFC 8707 §2)"),
            ("http://mcp.example/mcp", "plain http off loopback"),
            ("https://user@mcp.example/", "credentials in the authority"),
            ("https:///mcp", "no host"),
        ] {
            assert!(any.pick(&[bad]).is_err(), "{bad}: {why}");
        }
        assert!(any
            .pick(&["https://a.example/", "https://b.example/"])
            .is_err());
    }

    #[test]
    fn a_list_admits_only_its_own_resources() {
        let listed =
            Resources::parse(Some("https://a.example/mcp, https://b.example/api")).unwrap();
        assert!(listed.pick(&["https://b.example/api"]).is_ok());
        assert!(listed.pick(&["https://c.example/mcp"]).is_err());
        assert!(Resources::parse(Some("https://a.example/,ftp://b.example")).is_err());
        assert_eq!(Resources::parse(Some(" ")).unwrap(), Resources::default());
    }

    #[test]
    fn the_audience_is_the_resource_or_the_client() {
        assert_eq!(
            audience(Some("https://a.example/mcp"), "c1"),
            "https://a.example/mcp"
        );
        assert_eq!(audience(None, "c1"), "c1");
    }
}
