//! Environments: where Maskinporten and the Altinn platform live for TT02, production, the
//! embedded sandbox and any compatible server (`custom`). Nothing else in the crate hard-codes a
//! service URL.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

/// Which set of services a profile talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    /// The embedded emulator; the default for a first run and for workshops.
    #[default]
    Sandbox,
    /// Altinn TT02 paired with Maskinporten's test environment.
    Tt02,
    /// Production. Real customers, real rights.
    Prod,
    /// Any compatible server, e.g. a colleague's `altinn-onboard sandbox serve`.
    Custom,
}

impl EnvKind {
    pub const ALL: [EnvKind; 4] = [
        EnvKind::Sandbox,
        EnvKind::Tt02,
        EnvKind::Prod,
        EnvKind::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Sandbox => "sandbox",
            EnvKind::Tt02 => "tt02",
            EnvKind::Prod => "prod",
            EnvKind::Custom => "custom",
        }
    }

    /// The badge shown in the wizard and in human CLI output.
    pub fn badge(self) -> &'static str {
        match self {
            EnvKind::Sandbox => "SANDBOX",
            EnvKind::Tt02 => "TT02",
            EnvKind::Prod => "PROD",
            EnvKind::Custom => "CUSTOM",
        }
    }

    /// URL of Digdir's self-service portal where clients and keys are managed (None where
    /// the tool does it itself).
    pub fn self_service_portal(self) -> Option<&'static str> {
        match self {
            EnvKind::Tt02 => Some("https://sjolvbetjening.test.samarbeid.digdir.no"),
            EnvKind::Prod => Some("https://sjolvbetjening.samarbeid.digdir.no"),
            EnvKind::Sandbox | EnvKind::Custom => None,
        }
    }
}

impl fmt::Display for EnvKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EnvKind {
    type Err = EnvError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Ok(EnvKind::Sandbox),
            "tt02" | "test" => Ok(EnvKind::Tt02),
            "prod" | "production" => Ok(EnvKind::Prod),
            "custom" => Ok(EnvKind::Custom),
            other => Err(EnvError::UnknownKind(other.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("unknown environment `{0}`: use sandbox, tt02, prod or custom")]
    UnknownKind(String),
    #[error(
        "the {0} environment needs both a Maskinporten URL and an Altinn URL \
         (--maskinporten-url http://host:port/ --altinn-url http://host:port)"
    )]
    MissingUrls(EnvKind),
    #[error("invalid {what} `{value}`: {reason}")]
    BadUrl {
        what: &'static str,
        value: String,
        reason: String,
    },
}

/// The resolved service locations for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub kind: EnvKind,
    /// Maskinporten's issuer id, with trailing slash. This is the grant's `aud`.
    pub maskinporten_issuer: Url,
    /// Where grants are POSTed: `<issuer>token`.
    pub token_endpoint: Url,
    /// Altinn platform root without the API path, e.g. `https://platform.tt02.altinn.no`.
    pub altinn_base: Url,
    /// Digdir's self-service API (Samarbeidsportalen's API host): its public scope catalogue,
    /// `GET api/v1/scopes/all`, needs no token. TT02 pairs with Maskinporten's test
    /// environment, whose API host is `api.test.samarbeid.digdir.no`; production's is
    /// `api.samarbeid.digdir.no` (shared/docs/altinn-api-details.md §1, "Maskinporten
    /// self-service API"; the catalogue itself is served at both hosts' `api/v1/scopes/all`).
    /// The sandbox and a custom server serve it on their one base URL.
    pub self_service_api: Url,
}

impl Environment {
    pub fn tt02() -> Self {
        Self::from_parts(
            EnvKind::Tt02,
            "https://test.maskinporten.no/",
            "https://platform.tt02.altinn.no",
        )
        .and_then(|e| e.with_self_service_api(TT02_SELF_SERVICE_API))
        .expect("static TT02 URLs are valid")
    }

    pub fn prod() -> Self {
        Self::from_parts(
            EnvKind::Prod,
            "https://maskinporten.no/",
            "https://platform.altinn.no",
        )
        .and_then(|e| e.with_self_service_api(PROD_SELF_SERVICE_API))
        .expect("static production URLs are valid")
    }

    /// The same environment with another self-service API base (tests point TT02's at a
    /// closed port to see what the readiness check says without a network).
    pub fn with_self_service_api(mut self, base: &str) -> Result<Self, EnvError> {
        self.self_service_api = parse_service_url("self-service API URL", base)?;
        Ok(self)
    }

    /// Digdir's public scope catalogue: every Maskinporten scope with its owner and whether
    /// any organisation may use it (`accessible_for_all`). No token needed.
    pub fn scope_catalogue_url(&self) -> String {
        format!(
            "{}/api/v1/scopes/all",
            self.self_service_api.as_str().trim_end_matches('/')
        )
    }

    /// A sandbox or custom server: the Maskinporten issuer and Altinn base are given.
    /// The token endpoint is always `<issuer>token`, as for the real Maskinporten.
    pub fn from_parts(
        kind: EnvKind,
        maskinporten_issuer: &str,
        altinn_base: &str,
    ) -> Result<Self, EnvError> {
        let mut issuer = parse_service_url("Maskinporten URL", maskinporten_issuer)?;
        if !issuer.path().ends_with('/') {
            let p = format!("{}/", issuer.path());
            issuer.set_path(&p);
        }
        let altinn = parse_service_url("Altinn URL", altinn_base)?;
        let token_endpoint = issuer.join("token").map_err(|e| EnvError::BadUrl {
            what: "Maskinporten URL",
            value: maskinporten_issuer.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Environment {
            kind,
            maskinporten_issuer: issuer,
            token_endpoint,
            // One server answers everything on a sandbox or custom server; a real environment
            // built from parts (URLs overridden) gets its real host back in `resolve`.
            self_service_api: altinn.clone(),
            altinn_base: altinn,
        })
    }

    /// The issuer as the exact string Maskinporten expects in `aud` (trailing slash kept).
    pub fn audience(&self) -> &str {
        self.maskinporten_issuer.as_str()
    }

    /// `{altinn_base}/authentication/api/v1/{path}`.
    pub fn authentication_api(&self, path: &str) -> String {
        format!(
            "{}/authentication/api/v1/{}",
            self.altinn_base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// Digdir's self-service API host for Maskinporten's test environment (paired with TT02).
pub const TT02_SELF_SERVICE_API: &str = "https://api.test.samarbeid.digdir.no";
/// Digdir's self-service API host for production.
pub const PROD_SELF_SERVICE_API: &str = "https://api.samarbeid.digdir.no";

/// Parse a service URL: absolute, http(s), https required except for loopback hosts.
pub fn parse_service_url(what: &'static str, value: &str) -> Result<Url, EnvError> {
    let bad = |reason: &str| EnvError::BadUrl {
        what,
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let url =
        Url::parse(value.trim()).map_err(|e| bad(&format!("{e} (expected e.g. https://host/)")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        // A workshop's `sandbox serve` on the room's network: grants and tokens there are the
        // sandbox's own, so plain http on a private address is allowed, with a warning.
        "http" if is_private_network(&url) => {
            tracing::warn!(url = %url, "plain http to a private-network address: fine for a workshop sandbox, never for real credentials");
        }
        "http" => {
            return Err(bad(
                "plain http is only allowed for loopback (127.0.0.1, localhost, [::1]) and private-network \
                 addresses (10.x, 172.16-31.x, 192.168.x, fc00::/7) of a workshop sandbox; use https",
            ));
        }
        _ => return Err(bad("only http(s) URLs are supported")),
    }
    if url.host_str().is_none() {
        return Err(bad("the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL must not have a query or fragment"));
    }
    Ok(url)
}

/// An IP literal in a private range (RFC 1918, IPv6 unique-local).
pub fn is_private_network(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_private(),
        Some(url::Host::Ipv6(ip)) => (ip.segments()[0] & 0xfe00) == 0xfc00,
        _ => false,
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// What a profile stores about its environment. Custom/sandbox URLs are optional: a sandbox
/// without URLs means "start (or find) the embedded one".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EnvSetting {
    pub kind: EnvKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maskinporten_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altinn_url: Option<String>,
}

impl EnvSetting {
    pub fn new(kind: EnvKind) -> Self {
        EnvSetting {
            kind,
            maskinporten_url: None,
            altinn_url: None,
        }
    }

    /// Resolve to concrete URLs. Returns `Ok(None)` for a sandbox with no URLs: the caller
    /// must start or locate the embedded sandbox and use [`Environment::from_parts`].
    pub fn resolve(&self) -> Result<Option<Environment>, EnvError> {
        match (self.kind, &self.maskinporten_url, &self.altinn_url) {
            (EnvKind::Tt02, None, None) => Ok(Some(Environment::tt02())),
            (EnvKind::Prod, None, None) => Ok(Some(Environment::prod())),
            (EnvKind::Sandbox, None, None) => Ok(None),
            (kind, Some(mp), Some(al)) => Environment::from_parts(kind, mp, al).map(Some),
            (kind @ (EnvKind::Tt02 | EnvKind::Prod), _, _) => {
                // Only one URL overridden on a real environment: fill in the other.
                let base = if kind == EnvKind::Tt02 {
                    Environment::tt02()
                } else {
                    Environment::prod()
                };
                let mp = self
                    .maskinporten_url
                    .clone()
                    .unwrap_or_else(|| base.maskinporten_issuer.to_string());
                let al = self
                    .altinn_url
                    .clone()
                    .unwrap_or_else(|| base.altinn_base.to_string());
                // Only one service moved: the self-service API stays the real one.
                Environment::from_parts(kind, &mp, &al)
                    .and_then(|e| e.with_self_service_api(base.self_service_api.as_str()))
                    .map(Some)
            }
            (kind, _, _) => Err(EnvError::MissingUrls(kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_environments_use_the_documented_urls() {
        let t = Environment::tt02();
        assert_eq!(t.audience(), "https://test.maskinporten.no/");
        assert_eq!(
            t.token_endpoint.as_str(),
            "https://test.maskinporten.no/token"
        );
        assert_eq!(
            t.authentication_api("systemregister/vendor"),
            "https://platform.tt02.altinn.no/authentication/api/v1/systemregister/vendor"
        );
        assert_eq!(
            t.scope_catalogue_url(),
            "https://api.test.samarbeid.digdir.no/api/v1/scopes/all"
        );
        let p = Environment::prod();
        assert_eq!(
            p.scope_catalogue_url(),
            "https://api.samarbeid.digdir.no/api/v1/scopes/all"
        );
        assert_eq!(p.audience(), "https://maskinporten.no/");
        assert_eq!(p.token_endpoint.as_str(), "https://maskinporten.no/token");
        assert_eq!(
            p.authentication_api("/exchange/maskinporten"),
            "https://platform.altinn.no/authentication/api/v1/exchange/maskinporten"
        );
    }

    #[test]
    fn custom_issuer_gets_trailing_slash_and_token_endpoint() {
        let e = Environment::from_parts(
            EnvKind::Custom,
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
        )
        .unwrap();
        assert_eq!(e.audience(), "http://127.0.0.1:8080/");
        assert_eq!(e.token_endpoint.as_str(), "http://127.0.0.1:8080/token");
        // One server serves the scope catalogue too.
        assert_eq!(
            e.scope_catalogue_url(),
            "http://127.0.0.1:8080/api/v1/scopes/all"
        );
        assert_eq!(
            e.authentication_api("systemuser/request/vendor"),
            "http://127.0.0.1:8080/authentication/api/v1/systemuser/request/vendor"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://localhost:1/",
            "http://127.0.0.1:9/",
            "http://[::1]:3/",
            "https://mp.example/",
        ] {
            assert!(parse_service_url("x", ok).is_ok(), "{ok}");
        }
        for ok in [
            "http://192.168.1.20:8088/",
            "http://10.0.0.5/",
            "http://[fd00::1]:8/",
        ] {
            assert!(parse_service_url("x", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://8.8.8.8/",
            "http://example.com/",
            "ftp://127.0.0.1/",
            "not a url",
            "https://h/?q=1",
        ] {
            assert!(parse_service_url("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_resolve() {
        assert_eq!(EnvSetting::new(EnvKind::Sandbox).resolve().unwrap(), None);
        assert!(EnvSetting::new(EnvKind::Custom).resolve().is_err());
        assert_eq!(
            EnvSetting::new(EnvKind::Tt02).resolve().unwrap(),
            Some(Environment::tt02())
        );
        assert_eq!("production".parse::<EnvKind>().unwrap(), EnvKind::Prod);
        assert!("staging".parse::<EnvKind>().is_err());
    }
}
