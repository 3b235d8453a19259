//! What kind of server an environment points at, as the server says about itself.
//!
//! `--env custom` may point at a colleague's `altinn-onboard sandbox serve` (which has an admin
//! API standing in for Digdir's self-service portal) or at any other Maskinporten-compatible
//! token server (where, as in TT02, the client is made by hand and only its id is entered).
//! The sandbox advertises itself in its RFC 8414 metadata with an extension member
//! (`"altinn_onboard_sandbox": {"version": "…", "admin": "/sandbox"}`); Maskinporten and every
//! other server lack it. The decision is read from there, never inferred from an admin call
//! that failed: a 404 from `/sandbox/clients` could as well be a broken sandbox.

use crate::env::Environment;
use crate::maskinporten::describe_reqwest;
use crate::sandbox::SANDBOX_METADATA_MEMBER;

/// The Maskinporten side of an environment, by its own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// An altinn-onboard sandbox: its admin API registers clients and decides requests.
    Sandbox {
        /// The sandbox's version (informational).
        version: String,
        /// Path of the admin API on the Maskinporten host (`/sandbox`).
        admin: String,
    },
    /// Any other server: clients and keys are managed outside this tool, as in TT02.
    Other,
}

impl ServerKind {
    pub fn is_sandbox(&self) -> bool {
        matches!(self, ServerKind::Sandbox { .. })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(
        "could not read the Maskinporten metadata at {url}: {reason}\n  hint: check --maskinporten-url and that the server runs"
    )]
    Network { url: String, reason: String },
    #[error(
        "the Maskinporten metadata at {url} answered HTTP {status}\n  hint: the server is having problems; try again shortly"
    )]
    Server { url: String, status: u16 },
}

/// Where the metadata lives: `<issuer>.well-known/oauth-authorization-server` (the issuer keeps
/// its trailing slash, so for Maskinporten and the sandbox this is the RFC 8414 location).
pub fn metadata_url(env: &Environment) -> String {
    format!(
        "{}.well-known/oauth-authorization-server",
        env.maskinporten_issuer
    )
}

/// Ask the server what it is.
///
/// - 200 with a JSON object carrying the sandbox member: a sandbox;
/// - 200 without it (Maskinporten, any other token server), or 404 (a token server that
///   publishes no metadata; every sandbox does): not a sandbox;
/// - no answer or a 5xx: an error, since nothing can be decided.
pub async fn discover(
    env: &Environment,
    http: &reqwest::Client,
) -> Result<ServerKind, DiscoveryError> {
    let url = metadata_url(env);
    let network = |e: reqwest::Error| DiscoveryError::Network {
        url: url.clone(),
        reason: describe_reqwest(&e),
    };
    let resp = http
        .get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(network)?;
    let status = resp.status().as_u16();
    if status >= 500 {
        return Err(DiscoveryError::Server { url, status });
    }
    if status != 200 {
        return Ok(ServerKind::Other);
    }
    let body = resp.text().await.map_err(network)?;
    Ok(kind_from_metadata(&body))
}

/// The decision from a metadata document.
pub fn kind_from_metadata(body: &str) -> ServerKind {
    let doc: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return ServerKind::Other,
    };
    match doc.get(SANDBOX_METADATA_MEMBER).and_then(|m| m.as_object()) {
        Some(member) => ServerKind::Sandbox {
            version: member
                .get("version")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            admin: member
                .get("admin")
                .and_then(|v| v.as_str())
                .unwrap_or("/sandbox")
                .to_string(),
        },
        None => ServerKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_extension_member_makes_a_sandbox() {
        let sandbox = r#"{"issuer":"http://127.0.0.1:1/","token_endpoint":"http://127.0.0.1:1/token",
            "altinn_onboard_sandbox":{"version":"0.1.0","admin":"/sandbox"}}"#;
        assert_eq!(
            kind_from_metadata(sandbox),
            ServerKind::Sandbox {
                version: "0.1.0".into(),
                admin: "/sandbox".into()
            }
        );
        // Maskinporten's own metadata has no such member.
        let maskinporten = r#"{"issuer":"https://test.maskinporten.no/","token_endpoint":"https://test.maskinporten.no/token",
            "jwks_uri":"https://test.maskinporten.no/jwk","token_endpoint_auth_methods_supported":["private_key_jwt"]}"#;
        assert_eq!(kind_from_metadata(maskinporten), ServerKind::Other);
        assert_eq!(kind_from_metadata("not json"), ServerKind::Other);
        // A member that is not an object is not the sandbox's.
        assert_eq!(
            kind_from_metadata(r#"{"altinn_onboard_sandbox": true}"#),
            ServerKind::Other
        );
    }
}
