//! Secrets (tokens) in memory: `Debug`/`Display` never show them, only a short redacted form.

use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroize;

/// A bearer token or other credential. Serialises transparently (the token cache and `--show`
/// need the real value); every other way of printing it redacts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value. Call sites are few and deliberate: HTTP headers, the cache, `--show`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `eyJhbGci…(812 chars)`: enough to tell two tokens apart on screen, useless to an attacker.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

pub fn redact(s: &str) -> String {
    let prefix: String = s.chars().take(6).collect();
    format!("{prefix}…({} chars)", s.chars().count())
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The payload of a JWT, decoded WITHOUT verifying the signature: for showing claims to the
/// user and reading `exp`. Never use it to make a trust decision.
pub fn jwt_claims_unverified(token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("eyJhbGciOiJSUzI1NiJ9.secret-part.signature");
        assert!(!format!("{s:?}").contains("secret-part"));
        assert!(!format!("{s}").contains("secret-part"));
        assert!(format!("{s}").starts_with("eyJhbG…("));
        assert_eq!(s.expose(), "eyJhbGciOiJSUzI1NiJ9.secret-part.signature");
    }

    #[test]
    fn claims_decode() {
        // {"a":1}
        let t = "x.eyJhIjoxfQ.y";
        assert_eq!(jwt_claims_unverified(t).unwrap()["a"], 1);
        assert!(jwt_claims_unverified("garbage").is_none());
    }
}
