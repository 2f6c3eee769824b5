//! Social sign-in settings: the OpenID Connect providers named in `OIDC_PROVIDERS` (each by its
//! issuer), GitHub (OAuth 2.0 and its API), and the exact `redirect_to` addresses apps may ask to
//! come back to (`OAUTH_REDIRECT_URLS`: no open redirect, RFC 9700 §4.1.3).

use crate::core::config_error::ConfigError;
use crate::core::secret::Secret;

/// How a provider signs a user in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect: discovery at `{issuer}/.well-known/openid-configuration`, an ID token.
    Oidc { issuer: String },
    /// GitHub: OAuth 2.0, then its user and emails API.
    GitHub { web_base: String, api_base: String },
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// As in the routes: `/oauth/{name}/start`.
    pub name: String,
    pub kind: ProviderKind,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: String,
}

/// Every provider that is on, and where apps may be sent back to.
#[derive(Debug, Clone, Default)]
pub struct OAuthConfig {
    pub providers: Vec<Provider>,
    pub redirect_urls: Vec<String>,
}

impl OAuthConfig {
    /// The provider named `name`, if it is on.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// Whether `url` is on the allow-list, compared whole (scheme, host, port, path, query).
    pub fn allows_redirect(&self, url: &str) -> bool {
        self.redirect_urls.iter().any(|allowed| allowed == url)
    }

    /// Reads the settings through `get` (trimmed, empty as absent).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut providers = Vec::new();
        let names = get("OIDC_PROVIDERS").unwrap_or_default();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_ascii_lowercase();
            if name == "github"
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(problem(
                    "OIDC_PROVIDERS".into(),
                    "lists names of a-z, 0-9 and '-' (github is configured by GITHUB_CLIENT_ID)",
                ));
            }
            let var = |suffix: &str| {
                format!(
                    "OIDC_{}_{suffix}",
                    name.to_ascii_uppercase().replace('-', "_")
                )
            };
            let issuer = get(&var("ISSUER"))
                .or_else(|| well_known_issuer(&name).map(str::to_owned))
                .ok_or_else(|| problem(var("ISSUER"), "is not set"))?;
            if !(issuer.starts_with("https://") || issuer.starts_with("http://127.0.0.1")) {
                return Err(problem(var("ISSUER"), "must be an https:// URL"));
            }
            providers.push(Provider {
                kind: ProviderKind::Oidc {
                    issuer: issuer.trim_end_matches('/').to_owned(),
                },
                client_id: get(&var("CLIENT_ID"))
                    .ok_or_else(|| problem(var("CLIENT_ID"), "is not set"))?,
                client_secret: get(&var("CLIENT_SECRET"))
                    .map(Secret::new)
                    .ok_or_else(|| problem(var("CLIENT_SECRET"), "is not set"))?,
                scopes: get(&var("SCOPES")).unwrap_or_else(|| "openid email profile".to_owned()),
                name,
            });
        }
        if let Some(client_id) = get("GITHUB_CLIENT_ID") {
            let base = |name: &str, default: &str| {
                get(name).map_or_else(
                    || default.to_owned(),
                    |v| v.trim_end_matches('/').to_owned(),
                )
            };
            providers.push(Provider {
                name: "github".to_owned(),
                kind: ProviderKind::GitHub {
                    web_base: base("GITHUB_WEB_BASE", "https://github.com"),
                    api_base: base("GITHUB_API_BASE", "https://api.github.com"),
                },
                client_id,
                client_secret: get("GITHUB_CLIENT_SECRET")
                    .map(Secret::new)
                    .ok_or_else(|| problem("GITHUB_CLIENT_SECRET".into(), "is not set"))?,
                scopes: "read:user user:email".to_owned(),
            });
        }
        let redirect_urls: Vec<String> = get("OAUTH_REDIRECT_URLS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if !providers.is_empty() && redirect_urls.is_empty() {
            return Err(problem(
                "OAUTH_REDIRECT_URLS".into(),
                "is not set; a provider is on but no app may be sent back",
            ));
        }
        Ok(Self {
            providers,
            redirect_urls,
        })
    }
}

/// Issuers we know by name, so `OIDC_PROVIDERS=google` needs only its client id and secret.
fn well_known_issuer(name: &str) -> Option<&'static str> {
    match name {
        "google" => Some("https://accounts.google.com"),
        "gitlab" => Some("https://gitlab.com"),
        _ => None,
    }
}

fn problem(variable: String, what: &str) -> ConfigError {
    ConfigError {
        variable: variable.into(),
        problem: what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<OAuthConfig, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OAuthConfig::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn nothing_configured_means_no_provider() {
        assert!(parse(&[]).unwrap().providers.is_empty());
    }

    #[test]
    fn providers_are_read_by_name() {
        let config = parse(&[
            ("OIDC_PROVIDERS", "google, corp-sso"),
            ("OIDC_GOOGLE_CLIENT_ID", "g-id"),
            ("OIDC_GOOGLE_CLIENT_SECRET", "g-secret"),
            ("OIDC_CORP_SSO_ISSUER", "https://sso.corp.example/"),
            ("OIDC_CORP_SSO_CLIENT_ID", "c-id"),
            ("OIDC_CORP_SSO_CLIENT_SECRET", "c-secret"),
            ("GITHUB_CLIENT_ID", "gh-id"),
            ("GITHUB_CLIENT_SECRET", "gh-secret"),
            ("OAUTH_REDIRECT_URLS", "https://app.example/auth/done"),
        ])
        .unwrap();
        let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["google", "corp-sso", "github"]);
        assert_eq!(
            config.provider("google").unwrap().kind,
            ProviderKind::Oidc {
                issuer: "https://accounts.google.com".into()
            }
        );
        assert_eq!(
            config.provider("corp-sso").unwrap().kind,
            ProviderKind::Oidc {
                issuer: "https://sso.corp.example".into()
            }
        );
        assert!(config.allows_redirect("https://app.example/auth/done"));
        for near in [
            "https://app.example/auth/done/",
            "https://app.example/auth/done?x=1",
            "https://app.example.evil/auth/done",
            "http://app.example/auth/done",
        ] {
            assert!(!config.allows_redirect(near), "{near}");
        }
    }

    #[test]
    fn a_missing_setting_is_named() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("OIDC_PROVIDERS", "corp")], "OIDC_CORP_ISSUER"),
            (
                &[("OIDC_PROVIDERS", "google"), ("OIDC_GOOGLE_CLIENT_ID", "x")],
                "OIDC_GOOGLE_CLIENT_SECRET",
            ),
            (
                &[("GITHUB_CLIENT_ID", "x"), ("GITHUB_CLIENT_SECRET", "y")],
                "OAUTH_REDIRECT_URLS",
            ),
            (&[("OIDC_PROVIDERS", "github")], "OIDC_PROVIDERS"),
        ];
        for (pairs, variable) in cases {
            assert_eq!(parse(pairs).unwrap_err().variable, variable);
        }
    }
}
