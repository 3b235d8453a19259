//! Token introspection: verify a JWT against the JWKS of the issuer it names, if that issuer is
//! this environment's Maskinporten or Altinn, and answer texas-style `{"active": bool, ...}`.

use crate::env::Environment;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A JWKS is refetched at most this often when a kid is not in it (a key rotation), so a
/// stream of tokens with made-up kids cannot turn into a stream of upstream calls.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `exp`.
const LEEWAY_SECS: u64 = 5;

struct Issuer {
    iss: String,
    /// Metadata document that names `jwks_uri`.
    discovery: String,
}

pub struct Introspector {
    http: reqwest::Client,
    issuers: Vec<Issuer>,
    jwks: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl Introspector {
    pub fn new(env: &Environment, http: reqwest::Client) -> Self {
        let mp = env.audience().to_string();
        let altinn = format!(
            "{}/authentication/api/v1/openid/",
            env.altinn_base.as_str().trim_end_matches('/')
        );
        Introspector {
            http,
            issuers: vec![
                Issuer {
                    discovery: format!("{mp}.well-known/oauth-authorization-server"),
                    iss: mp,
                },
                Issuer {
                    discovery: format!("{altinn}.well-known/openid-configuration"),
                    iss: altinn,
                },
            ],
            jwks: Mutex::new(HashMap::new()),
        }
    }

    /// `{"active": true, ...claims}` or `{"active": false, "error": "..."}`.
    pub async fn introspect(&self, token: &str) -> Value {
        match self.verify(token).await {
            Ok(claims) => {
                let mut m = claims;
                m.insert("active".into(), Value::Bool(true));
                Value::Object(m)
            }
            Err(e) => json!({ "active": false, "error": e }),
        }
    }

    async fn verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("unsupported alg {:?} (expected RS256)", header.alg));
        }
        let kid = header.kid.ok_or("the token header has no kid")?;
        let unverified = crate::secret::jwt_claims_unverified(token).ok_or("unreadable claims")?;
        let iss = unverified["iss"].as_str().ok_or("the token has no iss")?;
        let issuer = self.issuers.iter().find(|i| i.iss == iss).ok_or_else(|| {
            format!("issuer {iss} is not this environment's Maskinporten or Altinn")
        })?;
        let key = self.key(issuer, &kid).await?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[issuer.iss.as_str()]);
        v.set_required_spec_claims(&["exp", "iss"]);
        v.validate_aud = false;
        v.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v)
            .map_err(|e| format!("token is not valid: {e}"))?;
        Ok(data.claims)
    }

    async fn key(&self, issuer: &Issuer, kid: &str) -> Result<DecodingKey, String> {
        let mut cache = self.jwks.lock().await;
        let stale = match cache.get(&issuer.iss) {
            Some((at, set)) => {
                if let Some(jwk) = set.find(kid) {
                    return DecodingKey::from_jwk(jwk).map_err(|e| format!("bad JWK: {e}"));
                }
                at.elapsed() >= REFETCH_AFTER
            }
            None => true,
        };
        if !stale {
            return Err(format!("unknown kid {kid} for issuer {}", issuer.iss));
        }
        let set = self.fetch_jwks(issuer).await?;
        let found = set
            .find(kid)
            .map(|jwk| DecodingKey::from_jwk(jwk).map_err(|e| format!("bad JWK: {e}")));
        cache.insert(issuer.iss.clone(), (Instant::now(), set));
        found.unwrap_or_else(|| Err(format!("unknown kid {kid} for issuer {}", issuer.iss)))
    }

    async fn fetch_jwks(&self, issuer: &Issuer) -> Result<JwkSet, String> {
        let get = |url: String| async move {
            let resp = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("could not fetch {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("{url} answered HTTP {}", resp.status()));
            }
            resp.json::<Value>()
                .await
                .map_err(|e| format!("{url} is not JSON: {e}"))
        };
        let meta = get(issuer.discovery.clone()).await?;
        let jwks_uri = meta["jwks_uri"]
            .as_str()
            .ok_or_else(|| format!("{} names no jwks_uri", issuer.discovery))?
            .to_string();
        let set = get(jwks_uri.clone()).await?;
        serde_json::from_value(set).map_err(|e| format!("{jwks_uri} is not a JWKS: {e}"))
    }
}
