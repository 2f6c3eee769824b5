//! Configuration: every setting of `API.md`, read once from the worker's bindings into a typed value.

use crate::core::codes::otp::OtpPolicy;
use crate::core::config_error::ConfigError;
use crate::core::events::webhook_config::WebhookConfig;
use crate::core::keys::Keyring;
use crate::core::operators::admin_keys::AdminKeys;
use crate::core::organizations::config::OrgConfig;
use crate::core::passkeys::passkey_config::PasskeyConfig;
use crate::core::passwords::login_lockout::LockoutLimits;
use crate::core::provider::config::ProviderConfig;
use crate::core::secret::Secret;
use crate::core::sessions::token_keys::{TokenKeys, SIGNING_KEY_VARIABLE, VERIFY_KEYS_VARIABLE};
use crate::core::social::oauth_config::OAuthConfig;

/// The worker's name: the default issuer and audience of its tokens.
pub const SERVICE_NAME: &str = "edge-auth";
/// RFC 2104 §3 (and RFC 7518 §3.2 for the same HMAC-SHA256): a key at least as long as the hash
/// output, 256 bits.
const MIN_SECRET_BYTES: usize = 32;

/// Where password-reset and notice mails go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProvider {
    /// Writes the whole message, code included, to the worker log (local development).
    Console,
    /// Resend's HTTP API.
    Resend { api_base: String, api_key: Secret },
    /// The Cloudflare `send_email` binding named `EMAIL`.
    Cloudflare,
}

/// Which browser origins may call the API with credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin, echoed back (local development only: `.dev.vars`).
    Any,
    /// Exactly these origins (`scheme://host[:port]`); empty when unset, so a deployment without
    /// the setting allows no cross-origin access.
    List(Vec<String>),
}

impl AllowedOrigins {
    /// Reads `CORS_ALLOWED_ORIGINS`: a comma-separated list, or `*` for any origin. Parsed apart
    /// from the rest of the configuration, so that even a `server_misconfigured` answer carries
    /// the CORS headers its browser needs to read it.
    pub fn parse(raw: Option<&str>) -> Self {
        let origins: Vec<String> = raw
            .unwrap_or_default()
            .split(',')
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        if origins.iter().any(|origin| origin == "*") {
            Self::Any
        } else {
            Self::List(origins)
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(origins) => origins.iter().any(|allowed| allowed == origin),
        }
    }
}

/// Every setting, parsed and checked. Built once per isolate.
#[derive(Debug)]
pub struct Config {
    /// Keys derived from `JWT_SECRET` (and `JWT_SECRET_PREVIOUS`): emailed and recovery codes,
    /// TOTP secrets, refresh successors, verification tokens.
    pub keys: Keyring,
    /// The Ed25519 keys of access tokens.
    pub token_keys: TokenKeys,
    /// `/.well-known/jwks.json`: the access-token keys and, with the provider on, its ID tokens'
    /// RSA keys; built once per isolate.
    pub jwks: String,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub refresh_reuse_grace: i64,
    /// How recent a sign-in must be to add or remove a way in without a password (an account a
    /// provider or a passkey made): `REAUTH_MAX_AGE_SECONDS`, ten minutes by default (OWASP
    /// Authentication Cheat Sheet, "Reauthentication after a period"; the window OpenID
    /// Connect's `max_age` expresses).
    pub reauth_max_age_seconds: i64,
    pub otp_ttl: i64,
    pub otp_max_attempts: i64,
    pub otp_resend_cooldown: i64,
    pub otp_max_failures_per_day: i64,
    pub otp_max_codes_per_hour: i64,
    pub login_max_failures: i64,
    pub login_max_failures_per_account: i64,
    pub login_lockout: i64,
    /// The mail transport, or why there is none: only the routes that send mail fail for it.
    pub email_provider: Result<EmailProvider, ConfigError>,
    pub email_from: String,
    pub allowed_origins: AllowedOrigins,
    /// Social sign-in (`oauth_config.rs`); a bad setting fails only the `/oauth` routes.
    pub oauth: Result<OAuthConfig, ConfigError>,
    /// Passkeys (`passkey_config.rs`), when `RP_ID` is set; a bad setting fails only their routes.
    pub passkeys: Result<Option<PasskeyConfig>, ConfigError>,
    /// Webhook endpoints (`webhook_config.rs`); a bad setting stops only the deliveries.
    pub webhooks: Result<WebhookConfig, ConfigError>,
    pub hibp_check: bool,
    /// Login refuses accounts whose address is unverified, and sign-up answers alike for taken
    /// and new addresses (`REQUIRE_EMAIL_VERIFICATION`).
    pub require_email_verification: bool,
    /// Sign-in by an emailed code or link (`EMAIL_SIGN_IN`, on unless `false`).
    pub email_sign_in: bool,
    /// An address without an account gets one on its first right sign-in code (`EMAIL_SIGN_UP`,
    /// off unless `true`).
    pub email_sign_up: bool,
    /// The issuer authenticator apps show beside a TOTP code (`TOTP_ISSUER`).
    pub totp_issuer: String,
    pub hibp_api_base: String,
    /// The operator's API keys (`ADMIN_API_KEYS`); `None`: the admin routes do not exist. A bad
    /// setting fails only the admin routes.
    pub admin_keys: Result<Option<AdminKeys>, ConfigError>,
    /// How long the security event trail is kept (`EVENT_RETENTION_DAYS`), in seconds.
    pub event_retention: i64,
    /// The OAuth 2.1 / OpenID provider (`OAUTH_PROVIDER`); `None`: its routes do not exist. A bad
    /// setting fails only its routes.
    pub provider: Result<Option<ProviderConfig>, ConfigError>,
    /// Organizations' roles and limits (`core/organizations/config.rs`); a bad setting fails only
    /// the organization routes and the tokens of a session with an active organization.
    pub organizations: Result<OrgConfig, ConfigError>,
}

impl Config {
    /// The reset-code rules of this configuration.
    pub fn otp_policy(&self) -> OtpPolicy {
        OtpPolicy {
            ttl_seconds: self.otp_ttl,
            max_attempts: self.otp_max_attempts,
            resend_cooldown_seconds: self.otp_resend_cooldown,
            max_failures_per_day: self.otp_max_failures_per_day,
            max_codes_per_hour: self.otp_max_codes_per_hour,
        }
    }

    /// The login lockout rules of this configuration.
    pub fn lockout_limits(&self) -> LockoutLimits {
        LockoutLimits {
            per_client: self.login_max_failures,
            per_account: self.login_max_failures_per_account,
            lockout_seconds: self.login_lockout,
        }
    }

    /// The configured mail transport. Unset is an error, not a silent default: a deployment
    /// must never drop a code, or write it to a log anyone with `wrangler tail` can read
    /// (OWASP Logging Cheat Sheet: no secrets in logs).
    pub fn mail_transport(&self) -> Result<&EmailProvider, ConfigError> {
        self.email_provider.as_ref().map_err(Clone::clone)
    }

    /// Reads every setting through `lookup` (the worker's secrets and vars by name).
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let setting = Settings { lookup };
        let jwt_secret = setting.secret("JWT_SECRET")?;
        if jwt_secret.expose().len() < MIN_SECRET_BYTES {
            return Err(ConfigError {
                variable: "JWT_SECRET".into(),
                problem: format!("must be at least {MIN_SECRET_BYTES} bytes"),
            });
        }
        // Secrets of earlier `JWT_SECRET`s, comma-separated: they keep opening what they sealed.
        let previous: Vec<Secret> = setting
            .get("JWT_SECRET_PREVIOUS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect();
        if previous.iter().any(|s| s.expose().len() < MIN_SECRET_BYTES) {
            return Err(ConfigError {
                variable: "JWT_SECRET_PREVIOUS".into(),
                problem: format!("must list secrets of at least {MIN_SECRET_BYTES} bytes each"),
            });
        }
        let email_provider = match setting.get("EMAIL_PROVIDER").as_deref().map(str::trim) {
            None => Err(ConfigError {
                variable: "EMAIL_PROVIDER".into(),
                problem: "is not set; mail cannot be sent".to_owned(),
            }),
            Some("console") => Ok(EmailProvider::Console),
            Some("resend") => Ok(EmailProvider::Resend {
                api_base: setting
                    .text("EMAIL_API_BASE", "https://api.resend.com")
                    .trim_end_matches('/')
                    .to_owned(),
                api_key: setting.secret("RESEND_API_KEY")?,
            }),
            Some("cloudflare") => Ok(EmailProvider::Cloudflare),
            Some(_) => {
                return Err(ConfigError {
                    variable: "EMAIL_PROVIDER".into(),
                    problem: "must be console, resend or cloudflare".to_owned(),
                })
            }
        };
        let token_keys = TokenKeys::parse(
            setting.get(SIGNING_KEY_VARIABLE).as_deref(),
            setting.get(VERIFY_KEYS_VARIABLE).as_deref(),
        )?;
        let provider = ProviderConfig::parse(|name| setting.get(name));
        let jwks = match &provider {
            Ok(Some(provider)) => provider.jwks(token_keys.jwks()),
            _ => token_keys.jwks().to_owned(),
        };
        Ok(Self {
            keys: Keyring::new(&jwt_secret, &previous),
            token_keys,
            jwks,
            issuer: setting.text("JWT_ISSUER", SERVICE_NAME),
            audience: setting.text("JWT_AUDIENCE", SERVICE_NAME),
            access_token_ttl: setting.seconds("ACCESS_TOKEN_TTL_SECONDS", 900, 1)?,
            refresh_token_ttl: setting.seconds("REFRESH_TOKEN_TTL_SECONDS", 2_592_000, 1)?,
            refresh_reuse_grace: setting.seconds("REFRESH_REUSE_GRACE_SECONDS", 10, 0)?,
            reauth_max_age_seconds: setting.seconds("REAUTH_MAX_AGE_SECONDS", 600, 1)?,
            otp_ttl: setting.seconds("OTP_TTL_SECONDS", 300, 1)?,
            otp_max_attempts: setting.seconds("OTP_MAX_ATTEMPTS", 5, 1)?,
            otp_resend_cooldown: setting.seconds("OTP_RESEND_COOLDOWN_SECONDS", 60, 0)?,
            otp_max_failures_per_day: setting.seconds("OTP_MAX_FAILURES_PER_DAY", 10, 1)?,
            otp_max_codes_per_hour: setting.seconds("OTP_MAX_CODES_PER_HOUR", 5, 1)?,
            login_max_failures: setting.seconds("LOGIN_MAX_FAILURES", 10, 1)?,
            login_max_failures_per_account: setting.seconds(
                "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                100,
                1,
            )?,
            login_lockout: setting.seconds("LOGIN_LOCKOUT_SECONDS", 900, 1)?,
            email_provider,
            email_from: setting.text("EMAIL_FROM", "Edge Auth <no-reply@example.com>"),
            allowed_origins: AllowedOrigins::parse(setting.get("CORS_ALLOWED_ORIGINS").as_deref()),
            oauth: OAuthConfig::parse(|name| setting.get(name).map(|v| v.trim().to_owned())),
            passkeys: PasskeyConfig::parse(|name| setting.get(name).map(|v| v.trim().to_owned())),
            webhooks: WebhookConfig::parse(|name| setting.get(name)),
            hibp_check: setting.flag("HIBP_CHECK")?,
            require_email_verification: setting.flag("REQUIRE_EMAIL_VERIFICATION")?,
            email_sign_in: setting.flag_or("EMAIL_SIGN_IN", true)?,
            email_sign_up: setting.flag("EMAIL_SIGN_UP")?,
            totp_issuer: setting.text("TOTP_ISSUER", SERVICE_NAME),
            hibp_api_base: setting
                .text("HIBP_API_BASE", "https://api.pwnedpasswords.com")
                .trim_end_matches('/')
                .to_owned(),
            admin_keys: AdminKeys::parse(setting.get("ADMIN_API_KEYS").as_deref()),
            event_retention: setting.seconds("EVENT_RETENTION_DAYS", 90, 1)? * 86_400,
            provider,
            organizations: OrgConfig::parse(|name| setting.get(name)),
        })
    }
}

struct Settings<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    fn text(&self, name: &str, default: &str) -> String {
        self.get(name)
            .map_or_else(|| default.to_owned(), |v| v.trim().to_owned())
    }

    fn secret(&self, name: &'static str) -> Result<Secret, ConfigError> {
        self.get(name).map(Secret::new).ok_or(ConfigError {
            variable: name.into(),
            problem: "is not set".to_owned(),
        })
    }

    fn seconds(&self, name: &'static str, default: i64, min: i64) -> Result<i64, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.trim().parse::<i64>() {
            Ok(value) if (min..=i64::from(i32::MAX)).contains(&value) => Ok(value),
            _ => Err(ConfigError {
                variable: name.into(),
                problem: format!("must be a whole number from {min} to {}", i32::MAX),
            }),
        }
    }

    fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        self.flag_or(name, false)
    }

    /// A `true` or `false` setting, `default` when unset.
    fn flag_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).as_deref().map(str::trim) {
            None => Ok(default),
            Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ConfigError {
                variable: name.into(),
                problem: "must be true or false".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::parse(|name| map.get(name).cloned())
    }

    const SECRET: (&str, &str) = ("JWT_SECRET", "0123456789abcdef0123456789abcdef");
    const SIGNING: (&str, &str) = (
        SIGNING_KEY_VARIABLE,
        crate::core::sessions::token_keys::tests::RFC_8037_PRIVATE,
    );

    #[test]
    fn defaults_follow_the_contract() {
        let config = parse(&[SECRET, SIGNING]).unwrap();
        assert_eq!(config.access_token_ttl, 900);
        assert_eq!(config.refresh_token_ttl, 2_592_000);
        assert_eq!(config.refresh_reuse_grace, 10);
        assert_eq!(config.reauth_max_age_seconds, 600);
        assert_eq!(
            (
                config.otp_ttl,
                config.otp_max_attempts,
                config.otp_resend_cooldown
            ),
            (300, 5, 60)
        );
        assert_eq!(
            (
                config.otp_max_failures_per_day,
                config.otp_max_codes_per_hour
            ),
            (10, 5)
        );
        assert_eq!((config.login_max_failures, config.login_lockout), (10, 900));
        assert_eq!(config.login_max_failures_per_account, 100);
        assert_eq!(
            config.mail_transport().unwrap_err().variable,
            "EMAIL_PROVIDER",
            "no mail transport unless one is chosen"
        );
        assert_eq!(
            config.allowed_origins,
            AllowedOrigins::List(vec![]),
            "no cross-origin access unless configured"
        );
        assert_eq!(config.issuer, SERVICE_NAME);
        assert!(!config.hibp_check);
    }

    #[test]
    fn a_missing_or_short_secret_names_the_variable() {
        let missing = parse(&[SIGNING]).unwrap_err();
        assert_eq!(missing.variable, "JWT_SECRET");
        let short = parse(&[("JWT_SECRET", "too-short"), SIGNING]).unwrap_err();
        assert_eq!(short.variable, "JWT_SECRET");
        assert!(
            !short.to_string().contains("too-short"),
            "the value is never shown"
        );
    }

    #[test]
    fn a_missing_or_bad_signing_key_names_its_variable() {
        assert_eq!(parse(&[SECRET]).unwrap_err().variable, SIGNING_KEY_VARIABLE);
        assert_eq!(
            parse(&[SECRET, (SIGNING_KEY_VARIABLE, "{}")])
                .unwrap_err()
                .variable,
            SIGNING_KEY_VARIABLE
        );
        assert_eq!(
            parse(&[SECRET, SIGNING, (VERIFY_KEYS_VARIABLE, "nope")])
                .unwrap_err()
                .variable,
            VERIFY_KEYS_VARIABLE
        );
    }

    #[test]
    fn bad_numbers_are_refused_by_name() {
        for (name, value) in [
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
            ("OTP_MAX_ATTEMPTS", "five"),
            ("LOGIN_LOCKOUT_SECONDS", "-1"),
            ("REFRESH_TOKEN_TTL_SECONDS", "99999999999"),
        ] {
            assert_eq!(
                parse(&[SECRET, SIGNING, (name, value)])
                    .unwrap_err()
                    .variable,
                name
            );
        }
    }

    #[test]
    fn a_bad_webhook_setting_stops_only_the_webhooks() {
        let config = parse(&[SECRET, SIGNING, ("WEBHOOK_ENDPOINTS", "http://a.example")]).unwrap();
        assert_eq!(config.webhooks.unwrap_err().variable, "WEBHOOK_ENDPOINTS");
        let off = parse(&[SECRET, SIGNING]).unwrap();
        assert!(
            off.webhooks.unwrap().endpoints.is_empty(),
            "off unless configured"
        );
    }

    #[test]
    fn resend_needs_its_key() {
        let err = parse(&[SECRET, SIGNING, ("EMAIL_PROVIDER", "resend")]).unwrap_err();
        assert_eq!(err.variable, "RESEND_API_KEY");
        let config = parse(&[
            SECRET,
            SIGNING,
            ("EMAIL_PROVIDER", "resend"),
            ("RESEND_API_KEY", "re_123"),
            ("EMAIL_API_BASE", "http://127.0.0.1:9999/"),
        ])
        .unwrap();
        assert_eq!(
            config.mail_transport().unwrap(),
            &EmailProvider::Resend {
                api_base: "http://127.0.0.1:9999".to_owned(),
                api_key: Secret::new("re_123")
            }
        );
        // The variable is named; its value never reaches the answer (it may be a pasted secret).
        let err = parse(&[SECRET, SIGNING, ("EMAIL_PROVIDER", "smtp-sk_live_123")]).unwrap_err();
        assert_eq!(err.variable, "EMAIL_PROVIDER");
        assert!(!err.to_string().contains("smtp"), "{err}");
    }

    #[test]
    fn origins_are_a_comma_separated_list() {
        let config = parse(&[
            SECRET,
            SIGNING,
            (
                "CORS_ALLOWED_ORIGINS",
                "https://a.example, https://b.example/",
            ),
        ])
        .unwrap();
        assert!(config.allowed_origins.allows("https://a.example"));
        assert!(config.allowed_origins.allows("https://b.example"));
        assert!(!config.allowed_origins.allows("https://evil.example"));
        let any = parse(&[SECRET, SIGNING, ("CORS_ALLOWED_ORIGINS", "*")]).unwrap();
        assert!(any.allowed_origins.allows("http://localhost:5173"));
    }
}
