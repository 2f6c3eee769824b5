//! How a session's user proved who they are, as the access token's `amr` claim says it (RFC 8176,
//! "Authentication Method Reference Values"), so a backend can demand a second factor, and with
//! `auth_time`, a recent sign-in (OpenID Connect Core §2).

/// One way a sign-in proved the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    /// A provider's identity (social sign-in).
    Provider,
    /// A passkey; `synced` when it is backup eligible (a software-held key), else device-bound.
    Passkey {
        synced: bool,
        user_verified: bool,
    },
    /// A TOTP or recovery code.
    OneTimeCode,
    /// A code mailed to the account's address, or its link (`link`): a one-time secret too.
    Emailed {
        link: bool,
    },
}

impl Method {
    /// The RFC 8176 value (§2): `pwd`, `fed`, `swk`/`hwk`, `otp`.
    pub fn reference(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Provider => "fed",
            Self::Passkey { synced: true, .. } => "swk",
            Self::Passkey { synced: false, .. } => "hwk",
            Self::OneTimeCode | Self::Emailed { .. } => "otp",
        }
    }

    /// The name the event trail gives it.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Provider => "provider",
            Self::Passkey { .. } => "passkey",
            Self::OneTimeCode => "code",
            Self::Emailed { link: false } => "email_code",
            Self::Emailed { link: true } => "email_link",
        }
    }

    /// A passkey with user verification is two factors at once (something held, and a PIN or
    /// biometric checked by the authenticator: NIST SP 800-63B §5.1.9).
    fn is_two_factors(self) -> bool {
        matches!(
            self,
            Self::Passkey {
                user_verified: true,
                ..
            }
        )
    }
}

/// The `amr` of a sign-in whose first step was `first` and second (if any) `second`, as stored
/// in the session: RFC 8176 values separated by spaces, `mfa` last when two factors were proved.
pub fn stored(first: Method, second: Option<Method>) -> String {
    let mut values = vec![first.reference()];
    if let Some(second) = second {
        values.push(second.reference());
    }
    if second.is_some() || first.is_two_factors() {
        values.push("mfa");
    }
    values.join(" ")
}

/// The stored form of a second step, appended to the first step's when the session starts.
pub fn second_step(second: Method) -> String {
    format!("{} mfa", second.reference())
}

/// The claim's array from the stored form (a session made before `amr` was recorded has none).
pub fn claim(stored: Option<&str>) -> Vec<String> {
    stored
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sign_in_names_its_methods() {
        let cases = [
            (Method::Password, None, "pwd", "a password alone"),
            (
                Method::Password,
                Some(Method::OneTimeCode),
                "pwd otp mfa",
                "a password and a TOTP code",
            ),
            (Method::Provider, None, "fed", "a provider"),
            (
                Method::Passkey {
                    synced: true,
                    user_verified: true,
                },
                None,
                "swk mfa",
                "a synced passkey with user verification",
            ),
            (
                Method::Passkey {
                    synced: false,
                    user_verified: false,
                },
                None,
                "hwk",
                "a device-bound passkey without user verification",
            ),
            (
                Method::Password,
                Some(Method::Passkey {
                    synced: false,
                    user_verified: true,
                }),
                "pwd hwk mfa",
                "a password, then a passkey",
            ),
        ];
        for (first, second, want, why) in cases {
            assert_eq!(stored(first, second), want, "{why}");
        }
    }

    #[test]
    fn a_second_step_appends_to_the_first() {
        let first = stored(Method::Provider, None);
        let whole = format!("{first} {}", second_step(Method::OneTimeCode));
        assert_eq!(claim(Some(&whole)), ["fed", "otp", "mfa"]);
        assert!(claim(None).is_empty(), "an old session has no amr");
    }
}
