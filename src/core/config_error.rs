//! The error of a setting, in a module of its own: every part of the configuration (tokens,
//! mail, providers, passkeys, webhooks, admin keys) raises it, and `config.rs`, which gathers
//! them, sits above them all.

/// A setting that is missing or wrong. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: std::borrow::Cow<'static, str>,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "configuration variable {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}
