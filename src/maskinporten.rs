//! Maskinporten: the JWT-bearer grant, the token request, OAuth errors and the token cache.
//!
//! The grant follows Digdir's protocol (see `shared/docs/altinn-api-details.md` §2): header
//! `alg`+`kid`, claims `aud` (the issuer, trailing slash), `iss` (client id), `scope`, `iat`,
//! `exp` (<= 120 s), `jti`; optionally `resource` and, for a system-user token,
//! `authorization_details` of type `urn:altinn:systemuser`. No `sub`: undocumented claims risk
//! a 400 from the live service.

use crate::altinn::problem::{CodeHelp, help};
use crate::env::Environment;
use crate::http;
use crate::keys::{KeyError, KeyPair};
use crate::profile::write_atomic;
use crate::secret::{Secret, jwt_claims_unverified};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const SYSTEM_USER_TYPE: &str = "urn:altinn:systemuser";
pub const ORG_AUTHORITY: &str = "iso6523-actorid-upis";
/// Grant lifetime. Maskinporten allows at most 120 s; a short one limits a leaked grant.
pub const GRANT_LIFETIME_SECS: i64 = 60;
/// A cached token is reused until this long before it expires.
pub const CACHE_MARGIN_SECS: i64 = 20;

/// The vendor's Maskinporten client as this tool knows it.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub key: Arc<KeyPair>,
}

/// What to ask Maskinporten for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenRequest {
    pub scopes: Vec<String>,
    pub resource: Vec<String>,
    /// Present for a system-user token.
    pub system_user: Option<SystemUserTarget>,
}

/// The customer whose system user the token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserTarget {
    /// Organisation that owns the system user (for an agent system user: the facilitator).
    pub customer_org: String,
    /// Must equal the request's externalRef when one was given (otherwise MP-303).
    pub external_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgId {
    pub authority: String,
    #[serde(rename = "ID")]
    pub id: String,
}

impl OrgId {
    pub fn norwegian(org_no: &str) -> Self {
        OrgId {
            authority: ORG_AUTHORITY.to_string(),
            id: format!("0192:{org_no}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    #[serde(rename = "type")]
    pub kind: String,
    pub systemuser_org: OrgId,
    #[serde(
        rename = "externalRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_ref: Option<String>,
}

/// Claims of the grant JWT exactly as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantClaims {
    pub aud: String,
    pub iss: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
}

impl TokenRequest {
    pub fn authorization_details(&self) -> Option<Vec<AuthorizationDetail>> {
        self.system_user.as_ref().map(|t| {
            vec![AuthorizationDetail {
                kind: SYSTEM_USER_TYPE.to_string(),
                systemuser_org: OrgId::norwegian(&t.customer_org),
                external_ref: t.external_ref.clone(),
            }]
        })
    }

    fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

/// Build the claims for a grant issued at `now` (epoch seconds).
pub fn grant_claims(audience: &str, client_id: &str, req: &TokenRequest, now: i64) -> GrantClaims {
    GrantClaims {
        aud: audience.to_string(),
        iss: client_id.to_string(),
        scope: req.scope_string(),
        iat: now,
        exp: now + GRANT_LIFETIME_SECS,
        jti: uuid::Uuid::new_v4().to_string(),
        resource: req.resource.clone(),
        authorization_details: req.authorization_details(),
    }
}

/// Sign a grant with RS256 and the key's kid.
pub fn sign_grant(key: &KeyPair, claims: &GrantClaims) -> Result<Secret, MaskinportenError> {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid().to_string());
    let encoding = key.encoding_key()?;
    let jwt = jsonwebtoken::encode(&header, claims, &encoding)
        .map_err(|e| MaskinportenError::Signing(e.to_string()))?;
    Ok(Secret::new(jwt))
}

/// Maskinporten's token response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    #[serde(default = "bearer")]
    pub token_type: String,
    pub expires_in: i64,
    #[serde(default)]
    pub scope: String,
}

fn bearer() -> String {
    "Bearer".to_string()
}

/// A token ready to use, with when it stops working.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub token: Secret,
    pub token_type: String,
    pub scope: String,
    pub expires_in: i64,
    /// Epoch seconds.
    pub obtained_at: i64,
    pub expires_at: i64,
    /// True when served from the cache.
    #[serde(skip)]
    pub cached: bool,
}

impl AccessToken {
    /// The decoded (unverified, non-secret) claims, for display.
    pub fn claims(&self) -> Option<serde_json::Value> {
        jwt_claims_unverified(self.token.expose())
    }
}

/// OAuth error body (`{"error", "error_description", "error_uri"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MaskinportenError {
    #[error("Maskinporten rejected the grant ({status}): {error}{}\n  hint: {hint}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        status: u16,
        error: String,
        description: Option<String>,
        hint: String,
        /// Seconds the server's clock is ahead of ours, when it matters.
        clock_offset: Option<i64>,
    },
    #[error(
        "could not reach Maskinporten at {url}: {reason}\n  hint: check the URL and your network; for the sandbox, is it running?"
    )]
    Network { url: String, reason: String },
    #[error(
        "Maskinporten at {url} failed with HTTP {status}: {body}\n  hint: the service is having problems; try again shortly"
    )]
    Server {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Maskinporten at {url} is throttling requests (HTTP 429{})\n  hint: wait a little and try again", retry_after.map(|s| format!(", retry after {s} s")).unwrap_or_default())]
    Throttled {
        url: String,
        retry_after: Option<u64>,
    },
    #[error("unexpected answer from Maskinporten at {url} (HTTP {status}): {reason}")]
    BadResponse {
        url: String,
        status: u16,
        reason: String,
    },
    #[error("could not sign the grant: {0}")]
    Signing(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl MaskinportenError {
    /// Remote said no (as opposed to network trouble): CLI exit code 2.
    pub fn is_rejection(&self) -> bool {
        matches!(self, MaskinportenError::Rejected { .. })
    }
    /// Network trouble or a server failure (5xx, throttling, or a 200 that is not a token
    /// response): CLI exit code 3. A malformed answer is the server's fault, not a usage error.
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            MaskinportenError::Network { .. }
                | MaskinportenError::Server { .. }
                | MaskinportenError::Throttled { .. }
                | MaskinportenError::BadResponse { .. }
        )
    }

    /// Worth another try with a fresh grant, and after how long if the server said.
    fn retry_hint(&self) -> Option<Option<std::time::Duration>> {
        match self {
            MaskinportenError::Network { .. } => Some(None),
            MaskinportenError::Server { status, .. } if http::is_retryable_status(*status) => {
                Some(None)
            }
            MaskinportenError::Throttled { retry_after, .. } => {
                Some(retry_after.map(std::time::Duration::from_secs))
            }
            _ => None,
        }
    }
}

/// Turn an OAuth error into advice. Texts are the real service's where known (Digdir's
/// troubleshooting guide, `altinn-api-details.md` §2.6).
pub fn oauth_hint(err: &OAuthError, ctx: &HintContext) -> String {
    let desc = err.error_description.clone().unwrap_or_default();
    let d = desc.to_ascii_lowercase();
    let skew = ctx
        .clock_offset
        .filter(|o| o.abs() >= 3)
        .map(|o| {
            format!(
                " Your clock is {} s {} the server's; fix the system time (NTP).",
                o.abs(),
                if o > 0 { "behind" } else { "ahead of" }
            )
        })
        .unwrap_or_default();
    if err.error == "invalid_altinn_customer_configuration" || d.contains("mp-303") {
        let ext = ctx
            .external_ref
            .as_deref()
            .map(|r| format!("the grant carried externalRef `{r}`; it must equal the request's"))
            .unwrap_or_else(|| {
                "the grant carried no externalRef; if the request had one, it must be sent".into()
            });
        return format!(
            "no approved system user matches (MP-303). Check, in order: the request for customer {} is Accepted \
             (`request status`); client id {} is in the system's clientId list (`system register`); {}; \
             systemuser_org is the org that approved (for an agent system user: the facilitator). \
             `altinn-onboard doctor` checks these.",
            ctx.customer_org.as_deref().unwrap_or("?"),
            ctx.client_id,
            ext
        );
    }
    if d.contains("kid") || d.contains("key identifier") {
        return format!(
            "Maskinporten does not know kid `{}` for client {}. If you uploaded the key in the last few minutes, this is \
             propagation delay, not a misconfiguration: Digdir passes a client's keys on to Maskinporten within about 2 \
             minutes; wait and retry. Otherwise the key uploaded in the portal is not the one in this profile: upload this \
             profile's public JWK (`keys show --jwks`) or import the key the portal has.",
            ctx.kid, ctx.client_id
        );
    }
    if d.contains("client not found") || d.contains("mp-100") || err.error == "invalid_client" {
        return format!(
            "client id `{}` does not exist in this environment ({}). Copy the client id from the self-service portal \
             of the same environment (test vs production).",
            ctx.client_id, ctx.audience
        );
    }
    if d.contains("aud") {
        return format!(
            "the grant's aud must be exactly `{}` (with the trailing slash).",
            ctx.audience
        );
    }
    if d.contains("expired")
        || d.contains("iat")
        || d.contains("exp")
        || d.contains("mp-130")
        || d.contains("time")
    {
        return format!(
            "the grant was rejected for its timestamps.{skew} Retry; grants live {GRANT_LIFETIME_SECS} s."
        );
    }
    if d.contains("used before") || d.contains("jti") || d.contains("mp-012") {
        return "this grant id (jti) was already used; retry (each attempt makes a new one)."
            .into();
    }
    if d.contains("scope") || err.error == "invalid_scope" || d.contains("mp-200") {
        return format!(
            "the client lacks one of the scopes `{}`. Add them to the client in the self-service portal \
             (Altinn system-user scopes need the vendor to be registered as a system vendor), or fix --scope.",
            ctx.scopes
        );
    }
    if d.contains("signature") || d.contains("mp-123") || d.contains("mp-124") {
        return format!(
            "the signature does not verify with the key registered for kid `{}`: wrong private key file?",
            ctx.kid
        );
    }
    format!(
        "see Digdir's Maskinporten troubleshooting guide for `{}`.{skew}",
        err.error
    )
}

/// Maskinporten's error ids (Digdir's troubleshooting guide, `maskinporten_feilsoking`;
/// `altinn-api-details.md` §2.6) and OAuth error names, each with step, cause and fix, for
/// `doctor`. The ids travel in `error_description` ("… (MP-303) …"); where there is none the
/// OAuth `error` decides.
pub const MP_CODES: &[(&str, CodeHelp)] = &[
    (
        "MP-011",
        help(
            "client",
            "Maskinporten could not read the grant (malformed JWT)",
            "this tool builds the grant; report it with `--verbose` output (the token is redacted)",
        ),
    ),
    (
        "MP-012",
        help(
            "client",
            "the grant's id (jti) was used before",
            "try again: every attempt signs a new grant",
        ),
    ),
    (
        "MP-100",
        help(
            "client",
            "the client id does not exist in this Maskinporten environment",
            "copy the client id from the self-service portal of the same environment (test vs production), `client set --client-id`",
        ),
    ),
    (
        "invalid_client",
        help(
            "client",
            "the client id does not exist in this Maskinporten environment",
            "copy the client id from the self-service portal of the same environment (test vs production), `client set --client-id`",
        ),
    ),
    (
        "MP-110",
        help(
            "client",
            "the grant's aud is not this Maskinporten's issuer",
            "check --env or --maskinporten-url: aud must be the issuer with its trailing slash",
        ),
    ),
    (
        "MP-120",
        help(
            "client",
            "the key or certificate does not verify for this client",
            "upload this profile's public JWK to the client (`keys show --jwks`), or import the key the portal has",
        ),
    ),
    (
        "MP-122",
        help(
            "client",
            "the key or certificate does not verify for this client",
            "upload this profile's public JWK to the client (`keys show --jwks`), or import the key the portal has",
        ),
    ),
    (
        "MP-123",
        help(
            "client",
            "the key or certificate does not verify for this client",
            "upload this profile's public JWK to the client (`keys show --jwks`), or import the key the portal has",
        ),
    ),
    (
        "MP-124",
        help(
            "client",
            "the key or certificate does not verify for this client",
            "upload this profile's public JWK to the client (`keys show --jwks`), or import the key the portal has",
        ),
    ),
    (
        "MP-121",
        help(
            "client",
            "the client's key has expired (keys live one year from upload)",
            "generate a new key and upload it to the client (`keys generate`, then `client set`)",
        ),
    ),
    (
        "MP-130",
        help(
            "client",
            "the grant's timestamps are outside Maskinporten's window (clock skew or expired)",
            "synchronise the system clock (NTP) and try again",
        ),
    ),
    (
        "MP-200",
        help(
            "client",
            "the client has not been granted a scope it asked for (Altinn's system-user scopes are granted only to registered system vendors)",
            "add the scope to the client in the self-service portal (ask Digdir to register the organisation as a system vendor), or ask for fewer scopes (--scope)",
        ),
    ),
    (
        "invalid_scope",
        help(
            "client",
            "the client has not been granted a scope it asked for (Altinn's system-user scopes are granted only to registered system vendors)",
            "add the scope to the client in the self-service portal (ask Digdir to register the organisation as a system vendor), or ask for fewer scopes (--scope)",
        ),
    ),
    (
        // guess: no public Digdir page lists MP-250 (searched docs.digdir.no, felleslosninger/docs
        // and Altinn's docs); issue 11 reports it, with `invalid_scope`, for a client whose key
        // is fine but which lacks a scope. Explained as that; the fix is the same as MP-200's.
        "MP-250",
        help(
            "client",
            "the key is accepted, but the client has not been granted a scope it asked for",
            "add the scope to the client in the self-service portal; if the portal does not offer it, the scope's owner must grant your organisation access first (`doctor` prints the e-mail)",
        ),
    ),
    (
        // The self-service portal and API, before the organisation accepted Digdir's terms:
        // "PRECONDITION_REQUIRED: Virksomheten har ikke signert de relevante bruksvilkårene"
        // (altinn-api-details.md §2.7, from Wenche docs/oppsett.md 2a).
        "PRECONDITION_REQUIRED",
        help(
            "client",
            "your organisation has not accepted Digdir's terms of use for Maskinporten (\"Virksomheten har ikke signert de relevante bruksvilkårene\")",
            "someone with authority in the organisation accepts the terms in Samarbeidsportalen; then log in to the self-service portal again",
        ),
    ),
    (
        // "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for
        // client." (altinn-api.md). Right after an upload this is propagation: Digdir copies a
        // client's configuration to Maskinporten in 0-2 minutes (felleslosninger/docs@01a0f825
        // _docs/idporten/oidc/oidc_api_admin.md, "Overføring av integrasjonskonfigurasjon, 0-2
        // minutter").
        UNKNOWN_KID,
        help(
            "client",
            "Maskinporten does not know the grant's kid for this client; right after an upload that is propagation delay (Digdir passes a client's keys on to Maskinporten within about 2 minutes), not a misconfiguration",
            "uploaded in the last few minutes: wait 2 minutes and retry; otherwise upload this profile's public JWK (`keys show --jwks`), or pass the portal's kid for a pasted PEM (`client set --kid`)",
        ),
    ),
    (
        "MP-201",
        help(
            "client",
            "a scope is not allowed for this client's integration type",
            "use a Maskinporten client (integration type maskinporten) for these scopes",
        ),
    ),
    (
        "MP-303",
        help(
            "token",
            "Altinn found no approved system user for this client, customer and externalRef",
            "check that the request is Accepted, the client id is on the system, the externalRef matches the request, and systemuser_org is the customer (`doctor` walks these)",
        ),
    ),
    (
        "invalid_altinn_customer_configuration",
        help(
            "token",
            "Altinn found no approved system user for this client, customer and externalRef",
            "check that the request is Accepted, the client id is on the system, the externalRef matches the request, and systemuser_org is the customer (`doctor` walks these)",
        ),
    ),
];

/// The name [`MP_CODES`] gives Maskinporten's "Unknown key identifier (kid)" answer, which
/// carries no MP id of its own.
pub const UNKNOWN_KID: &str = "unknown_kid";

/// The three causes of MP-303 Altinn's troubleshooting page names
/// (Altinn/altinn-studio-docs@8f9e7004 content/authorization/guides/system-vendor/system-user/
/// troubleshooting/errors/mp-303-error/_index.en.md: Cause 1, Cause 2, Problem 3), plus the
/// request not yet accepted (Wenche docs/oppsett.md; altinn-api-details.md §2.6). `doctor`
/// walks them in this order when a system-user token fails.
pub const MP303_CAUSES: &[(&str, CodeHelp)] = &[
    (
        "client id in system",
        help(
            "system",
            "the Maskinporten client id is not in the system's clientId list",
            "`system register` adds this profile's client id to the system",
        ),
    ),
    (
        "externalRef",
        help(
            "token",
            "the request had an externalRef and the grant did not send the same one (without one it defaults to the customer's org number)",
            "send the request's externalRef in authorization_details (`request create --external-ref` sets it; `token --system-user` sends it)",
        ),
    ),
    (
        "customer org",
        help(
            "token",
            "systemuser_org is not the organisation that owns the system user (for an agent system user: the facilitator, never one of its clients)",
            "set systemuser_org.ID to 0192:<the org that approved>",
        ),
    ),
    (
        "request accepted",
        help(
            "approval",
            "the customer has not approved the request yet",
            "wait for approval at the confirmUrl (`request status --wait`)",
        ),
    ),
];

/// The step, cause and fix of a Maskinporten id or OAuth error name ([`MP_CODES`]).
pub fn explain_mp_code(code: &str) -> Option<CodeHelp> {
    MP_CODES.iter().find(|(c, _)| *c == code).map(|(_, h)| *h)
}

/// The Maskinporten code of an OAuth error: the `MP-nnn` in its description, else the error name.
pub fn mp_code(err: &OAuthError) -> String {
    err.error_description
        .as_deref()
        .and_then(find_mp_id)
        .unwrap_or_else(|| err.error.clone())
}

/// The first `MP-nnn` in a text.
pub fn find_mp_id(text: &str) -> Option<String> {
    text.match_indices("MP-").find_map(|(i, _)| {
        let digits: String = text[i + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (digits.len() == 3).then(|| format!("MP-{digits}"))
    })
}

/// What the hint needs to know about the attempt.
#[derive(Debug, Clone, Default)]
pub struct HintContext {
    pub client_id: String,
    pub kid: String,
    pub audience: String,
    pub scopes: String,
    pub customer_org: Option<String>,
    pub external_ref: Option<String>,
    pub clock_offset: Option<i64>,
}

/// Tokens kept until shortly before expiry, in memory and (optionally) in a 0600 file.
#[derive(Default)]
pub struct TokenCache {
    path: Option<PathBuf>,
    entries: Mutex<Option<HashMap<String, AccessToken>>>,
}

impl TokenCache {
    pub fn in_memory() -> Self {
        TokenCache {
            path: None,
            entries: Mutex::new(Some(HashMap::new())),
        }
    }

    pub fn with_file(path: PathBuf) -> Self {
        TokenCache {
            path: Some(path),
            entries: Mutex::new(None),
        }
    }

    /// Cache key: everything that changes what the token is good for.
    pub fn key(audience: &str, client_id: &str, kid: &str, req: &TokenRequest) -> String {
        let mut scopes = req.scopes.clone();
        scopes.sort();
        let material = serde_json::json!([
            audience,
            client_id,
            kid,
            scopes,
            req.resource,
            req.authorization_details()
        ]);
        let digest = Sha256::digest(material.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn with_entries<R>(&self, f: impl FnOnce(&mut HashMap<String, AccessToken>) -> R) -> R {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let map = guard.get_or_insert_with(|| self.load_file());
        f(map)
    }

    fn load_file(&self) -> HashMap<String, AccessToken> {
        let Some(path) = &self.path else {
            return HashMap::new();
        };
        // Never through a link: a planted cache could feed us tokens, or (on write) redirect
        // our tokens into another file.
        match crate::files::read_capped_nofollow(path, crate::files::MAX_SMALL_FILE) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                // Only a cache: a damaged one is dropped, never fatal.
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable token cache");
                HashMap::new()
            }),
            Err(e) if crate::files::unsafe_path(&e).is_some() => {
                tracing::warn!("not using the token cache: {e}");
                HashMap::new()
            }
            Err(_) => HashMap::new(),
        }
    }

    pub fn get(&self, key: &str, now: i64) -> Option<AccessToken> {
        self.with_entries(|m| {
            m.get(key)
                .filter(|t| t.expires_at - CACHE_MARGIN_SECS > now)
                .cloned()
                .map(|mut t| {
                    t.cached = true;
                    t
                })
        })
    }

    pub fn put(&self, key: String, token: AccessToken, now: i64) {
        let snapshot = self.with_entries(|m| {
            m.retain(|_, t| t.expires_at > now);
            m.insert(key, token);
            m.clone()
        });
        if let Some(path) = &self.path {
            match serde_json::to_vec(&snapshot) {
                Ok(bytes) => {
                    if let Err(e) = write_atomic(path, &bytes, 0o600) {
                        if crate::files::unsafe_path(&e).is_some() {
                            tracing::warn!("not writing the token cache: {e}");
                        } else {
                            tracing::warn!(path = %path.display(), error = %e, "could not write token cache");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not serialise token cache"),
            }
        }
    }

    pub fn clear(&self) {
        self.with_entries(|m| m.clear());
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Talks to one Maskinporten (real, sandbox or custom).
pub struct MaskinportenClient {
    http: reqwest::Client,
    audience: String,
    token_endpoint: String,
    cache: Arc<TokenCache>,
    retry: http::RetryPolicy,
}

impl MaskinportenClient {
    pub fn new(env: &Environment, http: reqwest::Client, cache: Arc<TokenCache>) -> Self {
        MaskinportenClient {
            http,
            audience: env.audience().to_string(),
            token_endpoint: env.token_endpoint.to_string(),
            cache,
            retry: http::RetryPolicy::default(),
        }
    }

    /// Use another retry policy (tests, impatient scripts).
    pub fn with_retry(mut self, retry: http::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// A token for `req`, from the cache unless `fresh`.
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
        fresh: bool,
    ) -> Result<AccessToken, MaskinportenError> {
        let now = chrono::Utc::now().timestamp();
        let key = TokenCache::key(&self.audience, &creds.client_id, creds.key.kid(), req);
        if !fresh && let Some(t) = self.cache.get(&key, now) {
            tracing::debug!(token = %t.token, "using cached Maskinporten token");
            return Ok(t);
        }
        // A token request has no side effects, so it is always safe to repeat; each attempt
        // signs a new grant (a grant's jti may be used once).
        let mut attempt = 0;
        let token = loop {
            let now = chrono::Utc::now().timestamp();
            let claims = grant_claims(&self.audience, &creds.client_id, req, now);
            let grant = sign_grant(&creds.key, &claims)?;
            match self.post_grant(&grant, creds, req).await {
                Ok(t) => break t,
                Err(e) => match e
                    .retry_hint()
                    .and_then(|hint| self.retry.wait(attempt, hint))
                {
                    Some(delay) => {
                        tracing::info!(attempt, ?delay, error = %e, "Maskinporten failed transiently; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        };
        self.cache.put(key, token.clone(), now);
        Ok(token)
    }

    async fn post_grant(
        &self,
        grant: &Secret,
        creds: &ClientCredentials,
        req: &TokenRequest,
    ) -> Result<AccessToken, MaskinportenError> {
        let url = &self.token_endpoint;
        tracing::info!(%url, client_id = %creds.client_id, scope = %req.scope_string(), system_user = ?req.system_user, "requesting Maskinporten token");
        let resp = self
            .http
            .post(url)
            .form(&[("grant_type", GRANT_TYPE), ("assertion", grant.expose())])
            .send()
            .await
            .map_err(|e| MaskinportenError::Network {
                url: url.clone(),
                reason: describe_reqwest(&e),
            })?;
        let status = resp.status().as_u16();
        let clock_offset = http::clock_offset_secs(resp.headers());
        let headers = resp.headers().clone();
        let body = resp.text().await.map_err(|e| MaskinportenError::Network {
            url: url.clone(),
            reason: describe_reqwest(&e),
        })?;
        if status == 200 {
            let parsed: TokenResponse =
                serde_json::from_str(&body).map_err(|e| MaskinportenError::BadResponse {
                    url: url.clone(),
                    status,
                    reason: format!("not a token response: {e}"),
                })?;
            if parsed.access_token.expose().is_empty() {
                return Err(MaskinportenError::BadResponse {
                    url: url.clone(),
                    status,
                    reason: "empty access_token".into(),
                });
            }
            let now = chrono::Utc::now().timestamp();
            return Ok(AccessToken {
                token_type: parsed.token_type,
                scope: parsed.scope,
                expires_in: parsed.expires_in,
                obtained_at: now,
                expires_at: now + parsed.expires_in.max(0),
                token: parsed.access_token,
                cached: false,
            });
        }
        if status == 429 {
            return Err(MaskinportenError::Throttled {
                url: url.clone(),
                retry_after: http::retry_after(&headers).map(|d| d.as_secs()),
            });
        }
        if status >= 500 {
            return Err(MaskinportenError::Server {
                url: url.clone(),
                status,
                body: http::excerpt(&body, 300),
            });
        }
        match serde_json::from_str::<OAuthError>(&body) {
            Ok(err) => {
                let ctx = HintContext {
                    client_id: creds.client_id.clone(),
                    kid: creds.key.kid().to_string(),
                    audience: self.audience.clone(),
                    scopes: req.scope_string(),
                    customer_org: req.system_user.as_ref().map(|t| t.customer_org.clone()),
                    external_ref: req
                        .system_user
                        .as_ref()
                        .and_then(|t| t.external_ref.clone()),
                    clock_offset,
                };
                let hint = oauth_hint(&err, &ctx);
                Err(MaskinportenError::Rejected {
                    status,
                    error: err.error,
                    description: err.error_description,
                    hint,
                    clock_offset,
                })
            }
            Err(_) => Err(MaskinportenError::BadResponse {
                url: url.clone(),
                status,
                reason: format!("not an OAuth error body: {}", http::excerpt(&body, 200)),
            }),
        }
    }
}

/// reqwest's Display hides the cause ("error sending request"); walk the chain.
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_user_grant_claims_have_the_documented_shape() {
        let req = TokenRequest {
            scopes: vec!["altinn:systembruker.demo".into()],
            resource: vec![],
            system_user: Some(SystemUserTarget {
                customer_org: "310904473".into(),
                external_ref: None,
            }),
        };
        let c = grant_claims("https://test.maskinporten.no/", "cid", &req, 1000);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["aud"], "https://test.maskinporten.no/");
        assert_eq!(v["iss"], "cid");
        assert_eq!(
            v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(),
            GRANT_LIFETIME_SECS
        );
        assert!(v.get("sub").is_none() && v.get("resource").is_none());
        assert_eq!(
            v["authorization_details"],
            serde_json::json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:310904473"}}])
        );
        let other = grant_claims("https://test.maskinporten.no/", "cid", &req, 1000);
        assert_ne!(c.jti, other.jti, "jti must be unique per grant");
    }

    #[test]
    fn external_ref_is_carried() {
        let req = TokenRequest {
            scopes: vec!["a:b".into()],
            resource: vec!["https://api.example/".into()],
            system_user: Some(SystemUserTarget {
                customer_org: "310904473".into(),
                external_ref: Some("r1".into()),
            }),
        };
        let v = serde_json::to_value(grant_claims("aud/", "cid", &req, 0)).unwrap();
        assert_eq!(v["authorization_details"][0]["externalRef"], "r1");
        assert_eq!(v["resource"], serde_json::json!(["https://api.example/"]));
    }

    #[test]
    fn cache_key_depends_on_what_the_token_is_for() {
        let a = TokenRequest {
            scopes: vec!["x:a".into(), "x:b".into()],
            ..Default::default()
        };
        let b = TokenRequest {
            scopes: vec!["x:b".into(), "x:a".into()],
            ..Default::default()
        };
        let c = TokenRequest {
            system_user: Some(SystemUserTarget {
                customer_org: "1".into(),
                external_ref: None,
            }),
            ..a.clone()
        };
        assert_eq!(
            TokenCache::key("aud", "c", "k", &a),
            TokenCache::key("aud", "c", "k", &b)
        );
        assert_ne!(
            TokenCache::key("aud", "c", "k", &a),
            TokenCache::key("aud", "c", "k", &c)
        );
        assert_ne!(
            TokenCache::key("aud", "c", "k", &a),
            TokenCache::key("aud", "c", "k2", &a)
        );
        assert_ne!(
            TokenCache::key("aud", "c", "k", &a),
            TokenCache::key("aud2", "c", "k", &a)
        );
    }

    #[test]
    fn cache_expires_with_margin() {
        let cache = TokenCache::in_memory();
        let tok = AccessToken {
            token: Secret::new("t"),
            token_type: "Bearer".into(),
            scope: "s".into(),
            expires_in: 120,
            obtained_at: 1000,
            expires_at: 1120,
            cached: false,
        };
        cache.put("k".into(), tok, 1000);
        assert!(cache.get("k", 1050).unwrap().cached);
        assert!(cache.get("k", 1120 - CACHE_MARGIN_SECS).is_none());
    }

    #[test]
    fn hints_name_the_cause() {
        let ctx = HintContext {
            client_id: "cid".into(),
            kid: "k1".into(),
            audience: "https://test.maskinporten.no/".into(),
            clock_offset: Some(-40),
            ..Default::default()
        };
        let kid = OAuthError { error: "invalid_client".into(), error_description: Some("Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.".into()), error_uri: None };
        assert!(oauth_hint(&kid, &ctx).contains("kid `k1`"));
        let exp = OAuthError {
            error: "invalid_grant".into(),
            error_description: Some("JWT is expired".into()),
            error_uri: None,
        };
        assert!(oauth_hint(&exp, &ctx).contains("40 s ahead"));
        let mp303 = OAuthError {
            error: "invalid_altinn_customer_configuration".into(),
            error_description: None,
            error_uri: None,
        };
        assert!(oauth_hint(&mp303, &ctx).contains("MP-303"));
    }
}
