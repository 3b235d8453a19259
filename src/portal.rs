//! The self-service step: where the vendor's Maskinporten client gets its public key and
//! scopes. In TT02/production that is Digdir's web portal (the user does it by hand, guided);
//! against the sandbox (or a colleague's `sandbox serve`) it is the sandbox's admin API under
//! `/sandbox/`, which this module calls. Nothing else in the clients knows about the sandbox.

use crate::env::Environment;
use crate::flow::ApprovalRefusal;
use crate::http;
use crate::keys::PublicJwk;
use crate::maskinporten::describe_reqwest;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(
        "{url} has no sandbox admin API (HTTP 404)\n  hint: this is not an altinn-onboard sandbox; register the client in Digdir's self-service portal and enter its client id"
    )]
    NotASandbox { url: String },
    #[error("the sandbox refused to register the client (HTTP {status}): {body}")]
    Rejected { status: u16, body: String },
    #[error(
        "could not reach the sandbox at {url}: {reason}\n  hint: is `altinn-onboard sandbox serve` running there?"
    )]
    Network { url: String, reason: String },
    #[error("unexpected answer from the sandbox at {url}: {reason}")]
    BadResponse { url: String, reason: String },
    /// The customer's approval (or rejection) was refused with an Altinn problem.
    #[error("{}", refused_text(.code, .title, .refusal.as_deref()))]
    Refused {
        status: u16,
        code: String,
        title: String,
        refusal: Option<Box<ApprovalRefusal>>,
    },
}

fn refused_text(code: &str, title: &str, refusal: Option<&ApprovalRefusal>) -> String {
    match refusal {
        Some(r) => r.lines().join("\n  "),
        None => format!("Altinn refused: {code} {title}"),
    }
}

impl PortalError {
    pub fn is_network(&self) -> bool {
        matches!(self, PortalError::Network { .. })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SandboxClient {
    pub client_id: String,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub jwks: Jwks,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Jwks {
    #[serde(default)]
    pub keys: Vec<serde_json::Value>,
}

impl SandboxClient {
    /// The key ids registered for the client.
    /// The modulus (`n`) the client has registered under `kid`, if any.
    pub fn public_key(&self, kid: &str) -> Option<String> {
        self.jwks
            .keys
            .iter()
            .find(|k| k["kid"].as_str() == Some(kid))
            .and_then(|k| k["n"].as_str().map(str::to_string))
    }

    pub fn kids(&self) -> Vec<String> {
        self.jwks
            .keys
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_string))
            .collect()
    }
}

pub struct SandboxPortal {
    http: reqwest::Client,
    base: String,
}

impl SandboxPortal {
    /// The admin API lives on the Maskinporten side of the sandbox (same host and port).
    pub fn new(env: &Environment, http: reqwest::Client) -> Self {
        SandboxPortal {
            http,
            base: env
                .maskinporten_issuer
                .as_str()
                .trim_end_matches('/')
                .to_string(),
        }
    }

    /// Create the client (or, when it exists, add this key to it) and return its client id.
    pub async fn register_client(
        &self,
        client_id: Option<&str>,
        org: &str,
        scopes: &[String],
        jwk: &PublicJwk,
    ) -> Result<String, PortalError> {
        let url = format!("{}/sandbox/clients", self.base);
        let mut body =
            serde_json::json!({ "org": org, "scopes": scopes, "jwks": { "keys": [jwk] } });
        if let Some(id) = client_id {
            body["client_id"] = id.into();
        }
        let (status, text) = self.fetch(self.http.post(&url).json(&body), &url).await?;
        match status {
            200 | 201 => {
                let c: SandboxClient =
                    serde_json::from_str(&text).map_err(|e| PortalError::BadResponse {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(c.client_id)
            }
            404 | 405 => Err(PortalError::NotASandbox { url }),
            // Our client exists already: add this key to it (rotation).
            409 if client_id.is_some() => {
                let id = client_id.unwrap_or_default();
                self.update_client(id, org, scopes, jwk).await?;
                Ok(id.to_string())
            }
            // No client id was given, so the conflict is the key: its kid belongs to another
            // client (kids are unique across clients, as in Maskinporten).
            409 => Err(PortalError::Rejected {
                status,
                body: format!(
                    "{}\n  hint: this key (kid {}) is already registered to another client; pass that client's id \
                     with --client-id, or generate a new key",
                    http::excerpt(&text, 300),
                    jwk.kid
                ),
            }),
            _ => Err(PortalError::Rejected {
                status,
                body: http::excerpt(&text, 300),
            }),
        }
    }

    /// Bring an existing client up to date: add this key (rotation, as in the portal; a key
    /// it already has is fine) and set the scopes asked for.
    async fn update_client(
        &self,
        client_id: &str,
        _org: &str,
        scopes: &[String],
        jwk: &PublicJwk,
    ) -> Result<(), PortalError> {
        let existing = self.client(client_id).await?;
        let registered = existing.as_ref().and_then(|c| c.public_key(&jwk.kid));
        let url = format!("{}/sandbox/clients/{}/jwks", self.base, client_id);
        match registered {
            Some(n) if n == jwk.n => {}
            // Another key under this kid: replace that one, keep the client's other keys.
            Some(_) => {
                let mut keys: Vec<serde_json::Value> = existing
                    .as_ref()
                    .map(|c| c.jwks.keys.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|k| k["kid"].as_str() != Some(jwk.kid.as_str()))
                    .collect();
                keys.push(serde_json::to_value(jwk).unwrap_or_default());
                self.send(
                    self.http
                        .put(&url)
                        .json(&serde_json::json!({ "keys": keys })),
                    &url,
                )
                .await?;
            }
            None => {
                self.send(
                    self.http
                        .post(&url)
                        .json(&serde_json::json!({ "keys": [jwk] })),
                    &url,
                )
                .await?;
            }
        }
        // Scopes as asked now (the portal's "edit scopes"), so a re-run of `client set` with
        // other scopes takes effect instead of being silently ignored.
        if existing.as_ref().is_none_or(|c| c.scopes != scopes) {
            let url = format!("{}/sandbox/clients/{}/scopes", self.base, client_id);
            self.send(
                self.http
                    .put(&url)
                    .json(&serde_json::json!({ "scopes": scopes })),
                &url,
            )
            .await?;
        }
        Ok(())
    }

    /// One admin call: the status and body, or a network error naming the URL.
    async fn fetch(
        &self,
        rb: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<(u16, String), PortalError> {
        let network = |e: reqwest::Error| PortalError::Network {
            url: url.to_string(),
            reason: describe_reqwest(&e),
        };
        let resp = rb.send().await.map_err(network)?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(network)?;
        Ok((status, text))
    }

    /// An admin call that must succeed (2xx).
    async fn send(&self, rb: reqwest::RequestBuilder, url: &str) -> Result<(), PortalError> {
        let (status, text) = self.fetch(rb, url).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(PortalError::Rejected {
                status,
                body: http::excerpt(&text, 300),
            })
        }
    }

    /// The client as the sandbox knows it (for `doctor`).
    pub async fn client(&self, client_id: &str) -> Result<Option<SandboxClient>, PortalError> {
        let url = format!("{}/sandbox/clients/{}", self.base, client_id);
        let (status, text) = self.fetch(self.http.get(&url), &url).await?;
        match status {
            200 => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| PortalError::BadResponse {
                    url,
                    reason: e.to_string(),
                }),
            404 => Ok(None),
            _ => Err(PortalError::Rejected {
                status,
                body: http::excerpt(&text, 300),
            }),
        }
    }

    /// Act as the customer (sandbox only): approve or reject a request, as `person` (a seeded
    /// person of the customer org; `None`: its access manager). Returns who decided. An Altinn
    /// refusal comes back as [`PortalError::Refused`] with the sandbox's explanation.
    pub async fn decide(
        &self,
        request_id: &str,
        approve: bool,
        person: Option<&str>,
    ) -> Result<Decided, PortalError> {
        let url = format!(
            "{}/sandbox/requests/{}/{}",
            self.base,
            request_id,
            if approve { "approve" } else { "reject" }
        );
        let mut rb = self.http.post(&url);
        if let Some(p) = person {
            rb = rb.query(&[("as", p)]);
        }
        let (status, text) = self.fetch(rb, &url).await?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|e| PortalError::BadResponse {
                url,
                reason: e.to_string(),
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Problem {
            code: String,
            #[serde(default)]
            title: String,
            #[serde(default)]
            sandbox_refusal: Option<Box<ApprovalRefusal>>,
        }
        match serde_json::from_str::<Problem>(&text) {
            Ok(p) => Err(PortalError::Refused {
                status,
                code: p.code,
                title: p.title,
                refusal: p.sandbox_refusal,
            }),
            Err(_) => Err(PortalError::Rejected {
                status,
                body: http::excerpt(&text, 300),
            }),
        }
    }

    /// Why the customer's last approval of a request was refused (sandbox only,
    /// `GET /sandbox/requests/{id}`): `None` when it was not, or the server does not know the
    /// request or has no such route (not a sandbox).
    pub async fn last_refusal(
        &self,
        request_id: &str,
    ) -> Result<Option<ApprovalRefusal>, PortalError> {
        let url = format!("{}/sandbox/requests/{}", self.base, request_id);
        let (status, text) = self.fetch(self.http.get(&url), &url).await?;
        match status {
            200 => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct State {
                    #[serde(default)]
                    last_refusal: Option<ApprovalRefusal>,
                }
                serde_json::from_str::<State>(&text)
                    .map(|s| s.last_refusal)
                    .map_err(|e| PortalError::BadResponse {
                        url,
                        reason: e.to_string(),
                    })
            }
            404 | 405 => Ok(None),
            _ => Err(PortalError::Rejected {
                status,
                body: http::excerpt(&text, 300),
            }),
        }
    }
}

/// The sandbox's answer to a decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decided {
    pub status: String,
    /// The seeded person who decided (older sandboxes do not say).
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub system_user_id: Option<String>,
}
