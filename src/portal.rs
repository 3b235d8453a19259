//! The self-service step: where the vendor's Maskinporten client gets its public key and
//! scopes. In TT02/production that is Digdir's web portal (the user does it by hand, guided);
//! against the sandbox (or a colleague's `sandbox serve`) it is the sandbox's admin API under
//! `/sandbox/`, which this module calls. Nothing else in the clients knows about the sandbox.

use crate::env::Environment;
use crate::flow::ApprovalRefusal;
use crate::http;
use crate::keys::KeyPair;
use crate::maskinporten::describe_reqwest;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
    /// The client exists but does not have our key, and this process does not know the
    /// sandbox's host secret: nothing proves we own the client.
    #[error(
        "client {client_id} does not have this profile's key (kid {kid}), so this tool cannot prove it owns the client\n  hint: register a new client with this key (`client set` without --client-id), or re-import the key the client has (`keys import --replace <file>`), or ask the sandbox's host to set ALTINN_ONBOARD_SANDBOX_SECRET for you"
    )]
    NotOwner { client_id: String, kid: String },
    /// The sandbox answered a decision with an error: the request was not decided now.
    #[error("{message} (HTTP {status}{})", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    DecisionRefused {
        status: u16,
        code: Option<String>,
        message: String,
    },
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

    /// The server answered, but not what an altinn-onboard sandbox answers (an HTML page from
    /// a proxy, a body that is not the expected JSON): a server failure, not a refusal.
    pub fn is_bad_answer(&self) -> bool {
        matches!(self, PortalError::BadResponse { .. })
    }

    /// The remote's own error code (`AUTH-00013`, ...), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PortalError::DecisionRefused { code, .. } => code.as_deref(),
            PortalError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// What the sandbox answers to `POST /sandbox/requests/{id}/approve|reject`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionAnswer {
    pub id: String,
    pub status: String,
    /// The seeded person who decided (older sandboxes do not say).
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub system_user_id: Option<String>,
}

/// The sandbox's answer to a decision (the name the CLI uses).
pub type Decided = DecisionAnswer;

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
    /// The grant `aud` the sandbox accepts: the environment's Maskinporten issuer.
    issuer: String,
    /// The sandbox's host secret, when this process may know it (the embedded sandbox, a
    /// `sandbox serve` of the same user on this machine, `ALTINN_ONBOARD_SANDBOX_SECRET`).
    admin_secret: Option<Secret>,
}

/// How an admin call proves who sends it (see the sandbox's `admin` module).
enum Auth<'a> {
    /// A proof signed with `key`, naming `org` (and the client for changes).
    Key {
        key: &'a KeyPair,
        org: &'a str,
        client_id: Option<&'a str>,
    },
    /// The host secret.
    HostSecret(&'a Secret),
}

/// The `purpose` claim the sandbox requires of admin proofs.
const PROOF_PURPOSE: &str = "sandbox-client-admin";

#[derive(Serialize)]
struct AdminProof<'a> {
    purpose: &'static str,
    aud: &'a str,
    org: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    htm: &'a str,
    htu: &'a str,
    body_sha256: String,
    iat: i64,
    exp: i64,
    jti: String,
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
            issuer: env.maskinporten_issuer.to_string(),
            admin_secret: std::env::var("ALTINN_ONBOARD_SANDBOX_SECRET")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Secret::new(s.trim().to_string())),
        }
    }

    /// Use the sandbox's host secret when a client must be changed without one of its keys.
    pub fn with_admin_secret(mut self, secret: Option<Secret>) -> Self {
        if secret.is_some() {
            self.admin_secret = secret;
        }
        self
    }

    /// A JSON admin call with its proof: the body is sent exactly as hashed into the proof.
    fn admin_request(
        &self,
        method: reqwest::Method,
        url: &str,
        body: &serde_json::Value,
        auth: Auth<'_>,
    ) -> Result<reqwest::RequestBuilder, PortalError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let token = match auth {
            Auth::HostSecret(s) => s.expose().to_string(),
            Auth::Key {
                key,
                org,
                client_id,
            } => {
                let bad = |reason: String| PortalError::BadResponse {
                    url: url.to_string(),
                    reason,
                };
                let path = reqwest::Url::parse(url)
                    .map(|u| u.path().to_string())
                    .map_err(|e| bad(e.to_string()))?;
                let now = chrono::Utc::now().timestamp();
                let claims = AdminProof {
                    purpose: PROOF_PURPOSE,
                    aud: &self.issuer,
                    org,
                    client_id,
                    htm: method.as_str(),
                    htu: &path,
                    body_sha256: hex(&Sha256::digest(&bytes)),
                    iat: now,
                    exp: now + 60,
                    jti: uuid::Uuid::new_v4().to_string(),
                };
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                header.kid = Some(key.kid().to_string());
                let encoding = key.encoding_key().map_err(|e| bad(e.to_string()))?;
                jsonwebtoken::encode(&header, &claims, &encoding)
                    .map_err(|e| bad(format!("could not sign the admin proof: {e}")))?
            }
        };
        Ok(self
            .http
            .request(method, url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes))
    }

    /// Create the client (or, when it exists, add this key to it) and return its client id.
    ///
    /// A client's organisation is fixed, as in Digdir's portal: see
    /// [`register_client_replacing`](Self::register_client_replacing).
    /// Creating proves possession of `key`; the sandbox answers the existing client when the
    /// same key and org were registered before (a retry after a lost answer), so a network
    /// failure is retried.
    pub async fn register_client(
        &self,
        client_id: Option<&str>,
        org: &str,
        scopes: &[String],
        key: &KeyPair,
    ) -> Result<String, PortalError> {
        self.register_client_replacing(client_id, org, scopes, key, None)
            .await
    }

    /// [`register_client`](Self::register_client), where `previous` is the profile's client
    /// from before the vendor organisation changed. When the client asked for, or `previous`,
    /// holds this key but belongs to another organisation (the vendor fixed a mistyped org),
    /// it is deleted (signed with this key: the client has it) and a new client for `org` is
    /// made with the key. Otherwise the key, unique across clients, would keep the new client
    /// from being made, and the old one would keep the old org.
    pub async fn register_client_replacing(
        &self,
        client_id: Option<&str>,
        org: &str,
        scopes: &[String],
        key: &KeyPair,
        previous: Option<&str>,
    ) -> Result<String, PortalError> {
        let jwk = key.public_jwk();
        let mut client_id = client_id;
        if let Some(old) = client_id.or(previous)
            && let Some(c) = self.client(old).await?
            && c.org.as_deref().is_some_and(|o| o != org)
            && c.public_key(&jwk.kid).is_some_and(|n| n == jwk.n)
        {
            tracing::info!(client_id = old, from = ?c.org, to = org, "the vendor organisation changed: replacing the sandbox client");
            let old_org = c.org.clone().unwrap_or_default();
            self.delete_client(old, &old_org, key).await?;
            // A new client gets a new id, as in the portal (the register also keeps the old id
            // on the old org's system: one client id per system).
            client_id = None;
        }
        let url = format!("{}/sandbox/clients", self.base);
        let mut body =
            serde_json::json!({ "org": org, "scopes": scopes, "jwks": { "keys": [jwk] } });
        if let Some(id) = client_id {
            body["client_id"] = id.into();
        }
        let policy = http::RetryPolicy::default();
        let mut attempt = 0;
        let (status, text) = loop {
            let auth = Auth::Key {
                key,
                org,
                client_id: None,
            };
            let rb = self.admin_request(reqwest::Method::POST, &url, &body, auth)?;
            match self.fetch(rb, &url).await {
                Err(e) if e.is_network() => match policy.wait(attempt, None) {
                    Some(delay) => {
                        tracing::info!(%url, attempt, ?delay, "client registration: no answer; retrying (idempotent for the same key and org)");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
                other => break other?,
            }
        };
        match status {
            200 | 201 => {
                let c: SandboxClient =
                    serde_json::from_str(&text).map_err(|e| PortalError::BadResponse {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                // 200: the client registered earlier with this key (the answer was lost, or
                // this is a rerun): bring its scopes up to date as asked now.
                if status == 200 && c.scopes != scopes {
                    self.update_client(&c.client_id, org, scopes, key).await?;
                }
                Ok(c.client_id)
            }
            404 | 405 => Err(PortalError::NotASandbox { url }),
            // Our client exists already: add this key to it (rotation).
            409 if client_id.is_some() => {
                let id = client_id.unwrap_or_default();
                self.update_client(id, org, scopes, key).await?;
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
    /// it already has is fine) and set the scopes asked for. The changes are signed with our
    /// key when the client has it, else with the host secret when we know it.
    async fn update_client(
        &self,
        client_id: &str,
        _org: &str,
        scopes: &[String],
        key: &KeyPair,
    ) -> Result<(), PortalError> {
        let jwk = key.public_jwk();
        let existing = self.client(client_id).await?;
        let registered = existing.as_ref().and_then(|c| c.public_key(&jwk.kid));
        let has_our_key = registered.as_deref() == Some(jwk.n.as_str());
        let owner_org = existing
            .as_ref()
            .and_then(|c| c.org.clone())
            .unwrap_or_default();
        let auth = || -> Result<Auth<'_>, PortalError> {
            if has_our_key {
                Ok(Auth::Key {
                    key,
                    org: &owner_org,
                    client_id: Some(client_id),
                })
            } else if let Some(secret) = &self.admin_secret {
                Ok(Auth::HostSecret(secret))
            } else {
                Err(PortalError::NotOwner {
                    client_id: client_id.to_string(),
                    kid: jwk.kid.clone(),
                })
            }
        };
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
                keys.push(serde_json::to_value(&jwk).unwrap_or_default());
                let body = serde_json::json!({ "keys": keys });
                let rb = self.admin_request(reqwest::Method::PUT, &url, &body, auth()?)?;
                self.send(rb, &url).await?;
            }
            None => {
                let body = serde_json::json!({ "keys": [jwk] });
                let rb = self.admin_request(reqwest::Method::POST, &url, &body, auth()?)?;
                self.send(rb, &url).await?;
            }
        }
        // Scopes as asked now (the portal's "edit scopes"), so a re-run of `client set` with
        // other scopes takes effect instead of being silently ignored. From here on the client
        // has our key, so our own proof suffices.
        if existing.as_ref().is_none_or(|c| c.scopes != scopes) {
            let url = format!("{}/sandbox/clients/{}/scopes", self.base, client_id);
            let body = serde_json::json!({ "scopes": scopes });
            let auth = Auth::Key {
                key,
                org: &owner_org,
                client_id: Some(client_id),
            };
            let rb = self.admin_request(reqwest::Method::PUT, &url, &body, auth)?;
            self.send(rb, &url).await?;
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

    /// Delete a client (the portal's "delete client"), proving ownership with `key`, which the
    /// client must have.
    pub async fn delete_client(
        &self,
        client_id: &str,
        org: &str,
        key: &KeyPair,
    ) -> Result<(), PortalError> {
        let url = format!("{}/sandbox/clients/{}", self.base, client_id);
        let auth = Auth::Key {
            key,
            org,
            client_id: Some(client_id),
        };
        let rb = self.admin_request(reqwest::Method::DELETE, &url, &serde_json::json!({}), auth)?;
        self.send(rb, &url).await
    }

    /// Act as the customer (sandbox only): approve or reject a request. Succeeds only when the
    /// sandbox answered with its JSON decision for this request and the status the decision
    /// leads to; anything else (an HTML page from a proxy or another server, a refusal) is an
    /// error, so "approved" is never printed for a request nobody approved. Acts as `person` (a
    /// seeded person of the customer org; `None`: its access manager); an Altinn refusal with the
    /// sandbox's explanation comes back as [`PortalError::Refused`].
    pub async fn decide(
        &self,
        request_id: &str,
        approve: bool,
        person: Option<&str>,
    ) -> Result<DecisionAnswer, PortalError> {
        let url = format!(
            "{}/sandbox/requests/{}/{}",
            self.base,
            request_id,
            if approve { "approve" } else { "reject" }
        );
        let mut rb = self.http.post(&url).header("Accept", "application/json");
        if let Some(p) = person {
            rb = rb.query(&[("as", p)]);
        }
        let network = |e: reqwest::Error| PortalError::Network {
            url: url.clone(),
            reason: describe_reqwest(&e),
        };
        let resp = rb.send().await.map_err(network)?;
        let status = resp.status().as_u16();
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        let text = resp.text().await.map_err(network)?;
        decision_answer(&url, request_id, approve, status, is_json, &text)
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

/// Judge the answer to a decision (separate from the call so each case is unit-tested).
fn decision_answer(
    url: &str,
    request_id: &str,
    approve: bool,
    status: u16,
    is_json: bool,
    text: &str,
) -> Result<DecisionAnswer, PortalError> {
    let bad = |reason: String| PortalError::BadResponse {
        url: url.to_string(),
        reason,
    };
    if status == 404 && !is_json && text.trim().is_empty() {
        return Err(PortalError::NotASandbox {
            url: url.to_string(),
        });
    }
    if !is_json {
        return Err(bad(format!(
            "HTTP {status} with a body that is not JSON ({}); nothing was {}\n  hint: is this URL an altinn-onboard sandbox? A proxy or login page may have answered",
            http::excerpt(text, 120),
            if approve { "approved" } else { "rejected" }
        )));
    }
    if (200..300).contains(&status) {
        let answer: DecisionAnswer = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "the decision answer is not the sandbox's JSON: {e}"
            ))
        })?;
        let want = if approve { "Accepted" } else { "Rejected" };
        if answer.status != want || !answer.id.eq_ignore_ascii_case(request_id) {
            return Err(bad(format!(
                "the sandbox answered status {:?} for request {:?}, not {want} for {request_id}",
                answer.status, answer.id
            )));
        }
        return Ok(answer);
    }
    // An error from the sandbox: Altinn's ProblemDetails (`code`, `title`, `detail`), with the
    // sandbox's explanation of an approval-time refusal (`sandboxRefusal`) when it has one.
    let problem: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    if let (Some(code), Some(refusal)) = (
        problem["code"].as_str(),
        problem
            .get("sandboxRefusal")
            .and_then(|r| serde_json::from_value::<ApprovalRefusal>(r.clone()).ok()),
    ) {
        return Err(PortalError::Refused {
            status,
            code: code.to_string(),
            title: problem["title"].as_str().unwrap_or_default().to_string(),
            refusal: Some(Box::new(refusal)),
        });
    }
    let code = problem["code"].as_str().map(str::to_string);
    let title = problem["title"]
        .as_str()
        .or(problem["detail"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| http::excerpt(text, 200));
    let message = match code.as_deref() {
        // AUTH-00013 (requests) and the change-request family: the request is not New.
        Some("AUTH-00013" | "AUTH-00061" | "AUTH-00006" | "AUTH-00008" | "AUTH-00009") => {
            format!(
                "request {request_id} was not {}: it is no longer New (it was already accepted, rejected or otherwise decided): {title}\n  hint: `request status --id {request_id}` shows its status; a new decision needs a new request",
                if approve { "approved" } else { "rejected" }
            )
        }
        Some("AUTH-00010") | None if status == 404 => format!(
            "request {request_id} was not found in this sandbox: {title}\n  hint: check the id (`request status`), and that this is the sandbox the request was made in"
        ),
        _ => format!(
            "the sandbox did not {} request {request_id}: {title}",
            if approve { "approve" } else { "reject" }
        ),
    };
    Err(PortalError::DecisionRefused {
        status,
        code,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11";

    #[test]
    fn an_html_page_is_not_an_approval() {
        let e = decision_answer(
            "u",
            ID,
            true,
            200,
            false,
            "<html><body>Sign in</body></html>",
        )
        .expect_err("HTML is no decision");
        assert!(e.is_bad_answer(), "{e}");
        assert!(e.to_string().contains("nothing was approved"), "{e}");
    }

    #[test]
    fn a_decided_request_says_so_with_the_code() {
        let body = r#"{"type":"x","title":"The Status of the Request is not New.","status":409,"code":"AUTH-00013"}"#;
        let e = decision_answer("u", ID, true, 409, true, body).expect_err("refused");
        let msg = e.to_string();
        assert!(msg.contains("no longer New"), "{msg}");
        assert!(msg.contains("AUTH-00013") && msg.contains("409"), "{msg}");
        assert!(!msg.contains("register the client"), "{msg}");
        assert_eq!(e.code(), Some("AUTH-00013"));
    }

    #[test]
    fn only_the_expected_status_counts() {
        let ok = format!(r#"{{"id":"{ID}","kind":"standard","status":"Accepted"}}"#);
        assert!(decision_answer("u", ID, true, 200, true, &ok).is_ok());
        assert!(decision_answer("u", ID, false, 200, true, &ok).is_err());
        assert!(decision_answer("u", ID, true, 200, true, "{}").is_err());
    }
}

/// A vendor organisation number of one's own for a shared sandbox (a workshop), so that two
/// participants never register the same `{org}_{name}` system and never see each other's
/// requests. Valid (mod-11 check digit), random, in a range the seeded organisations do not
/// use (`39…`); the sandbox's register knows every organisation that owns a client, so it
/// works as a vendor once the client is made.
pub fn participant_vendor_org() -> String {
    use rand::Rng;
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let mut rng = rand::thread_rng();
    loop {
        let mut digits = [3u32, 9, 0, 0, 0, 0, 0, 0];
        for d in digits.iter_mut().skip(2) {
            *d = rng.gen_range(0..10);
        }
        let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
        let check = match sum % 11 {
            0 => 0,
            1 => continue, // no valid check digit for these eight
            r => 11 - r,
        };
        let org: String = digits
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
            .collect();
        return org;
    }
}

#[cfg(test)]
mod participant_tests {
    #[test]
    fn participant_orgs_are_valid_and_differ() {
        let orgs: std::collections::BTreeSet<String> =
            (0..200).map(|_| super::participant_vendor_org()).collect();
        assert!(orgs.len() > 190, "{}", orgs.len());
        for o in &orgs {
            assert_eq!(crate::validate::org_number(o).as_deref(), Ok(o.as_str()));
            assert!(o.starts_with("39"));
        }
    }
}
