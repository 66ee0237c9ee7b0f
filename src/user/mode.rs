//! The user settings the configuration reads (`SQREEN_USER_MONITORING`, `SQREEN_USER_ID_MODE`),
//! apart from the user machinery so that the configuration does not depend on the agent.

use std::str::FromStr;

/// How the agent learns who the user of a request is (`SQREEN_USER_MONITORING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UserMonitoring {
    /// The SDK, the builder's resolver, the [`crate::AuthenticatedUser`] extension, HTTP Basic
    /// credentials and bearer JWTs name the user.
    Automatic,
    /// Only the SDK and the builder's resolver name the user (the default).
    #[default]
    Advanced,
    /// No user at all: `identify` is ignored, auth events count for the client IP only.
    Off,
}

impl FromStr for UserMonitoring {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "automatic" => Ok(UserMonitoring::Automatic),
            "advanced" => Ok(UserMonitoring::Advanced),
            "off" | "disabled" => Ok(UserMonitoring::Off),
            _ => Err("expected one of automatic, advanced, off".to_owned()),
        }
    }
}

/// How users are keyed (`SQREEN_USER_ID_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UserIdMode {
    /// By their canonical id (see [`crate::UserKeys::id`]), as the app gives it (the default).
    #[default]
    Raw,
    /// By the lowercase hex SHA-256 of `SQREEN_USER_ID_SALT` followed by the canonical id.
    Anonymized,
}

impl FromStr for UserIdMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Ok(UserIdMode::Raw),
            "anonymized" | "anonymised" => Ok(UserIdMode::Anonymized),
            _ => Err("expected raw or anonymized".to_owned()),
        }
    }
}
