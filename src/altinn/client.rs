//! HTTP client for the Altinn authentication API, vendor side. Paths, bodies and status codes
//! follow the real controllers (`src/Authentication/Controllers` in Altinn/altinn-authentication).
//! The vendor endpoints take the raw Maskinporten token as bearer, as production clients do;
//! `exchange` is there for APIs that want an Altinn token.

// AltinnError::Problem carries the whole ProblemDetails so callers can act on its codes; errors
// are rare and short-lived, so their size does not matter.
#![allow(clippy::result_large_err)]

use super::model::*;
use super::problem::{ProblemDetails, hint_for};
use crate::env::Environment;
use crate::http;
use crate::maskinporten::describe_reqwest;
use crate::secret::Secret;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Instant;

pub const SCOPE_REGISTER_WRITE: &str = "altinn:authentication/systemregister.write";
pub const SCOPE_REQUEST_WRITE: &str = "altinn:authentication/systemuser.request.write";
pub const SCOPE_REQUEST_READ: &str = "altinn:authentication/systemuser.request.read";
/// Every scope the vendor flow needs on the client.
pub const VENDOR_SCOPES: [&str; 3] = [
    SCOPE_REGISTER_WRITE,
    SCOPE_REQUEST_WRITE,
    SCOPE_REQUEST_READ,
];

/// Pages followed at most when listing; a server that loops must not hang us.
const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AltinnError {
    #[error("Altinn answered 401 Unauthorized for {method} {url}\n  hint: {hint}")]
    Unauthorized {
        method: String,
        url: String,
        hint: String,
    },
    #[error("Altinn answered 403 Forbidden for {method} {url}\n  hint: {hint}")]
    Forbidden {
        method: String,
        url: String,
        hint: String,
    },
    #[error("Altinn rejected {method} {url} (HTTP {status}): {problem}\n  hint: {hint}")]
    Problem {
        method: String,
        url: String,
        status: u16,
        problem: ProblemDetails,
        hint: String,
    },
    #[error("Altinn answered HTTP {status} for {method} {url}: {body}\n  hint: {hint}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
        hint: String,
    },
    #[error(
        "Altinn at {url} failed with HTTP {status}: {body}\n  hint: the service is having problems; try again shortly"
    )]
    Server {
        url: String,
        status: u16,
        body: String,
    },
    #[error(
        "could not reach Altinn at {url}: {reason}\n  hint: check the URL and your network; for the sandbox, is it running?"
    )]
    Network { url: String, reason: String },
    /// Refused before sending: the call as asked would break one of the API's rules.
    #[error("{0}")]
    Invalid(String),
    #[error("unexpected answer from Altinn at {url} (HTTP {status}): {reason}")]
    BadResponse {
        url: String,
        status: u16,
        reason: String,
    },
}

impl AltinnError {
    pub fn status(&self) -> Option<u16> {
        match self {
            AltinnError::Unauthorized { .. } => Some(401),
            AltinnError::Forbidden { .. } => Some(403),
            AltinnError::Problem { status, .. }
            | AltinnError::Status { status, .. }
            | AltinnError::Server { status, .. }
            | AltinnError::BadResponse { status, .. } => Some(*status),
            AltinnError::Network { .. } | AltinnError::Invalid(_) => None,
        }
    }

    pub fn problem(&self) -> Option<&ProblemDetails> {
        match self {
            AltinnError::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.problem().is_some_and(|p| p.has_code(code))
    }

    /// The remote said no (4xx): CLI exit code 2.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            AltinnError::Unauthorized { .. }
                | AltinnError::Forbidden { .. }
                | AltinnError::Problem { .. }
                | AltinnError::Status { .. }
        )
    }

    pub fn is_network(&self) -> bool {
        matches!(
            self,
            AltinnError::Network { .. } | AltinnError::Server { .. }
        )
    }
}

/// What an upsert of the system did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertKind {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpsertOutcome {
    pub kind: UpsertKind,
    pub system_id: String,
    pub changes: Vec<FieldChange>,
}

/// Result of `create_request`: the request, and whether the server made a new one (201) or
/// handed back the existing one for the same (org, externalRef, system) (200).
#[derive(Debug, Clone)]
pub struct CreatedRequest {
    pub request: RequestInfo,
    pub newly_created: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestCallResult {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub elapsed_ms: u64,
    /// Headers worth showing (content type, auth challenges, request ids).
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub json: Option<serde_json::Value>,
}

pub struct AltinnClient {
    http: reqwest::Client,
    env: Environment,
    retry: http::RetryPolicy,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl AltinnClient {
    pub fn new(env: &Environment, http: reqwest::Client) -> Self {
        AltinnClient {
            http,
            env: env.clone(),
            retry: http::RetryPolicy::default(),
        }
    }

    /// Use another retry policy (tests, impatient scripts).
    pub fn with_retry(mut self, retry: http::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn api(&self, path: &str) -> String {
        self.env.authentication_api(path)
    }

    /// One call, repeated on transient failure when `retry` says it is safe: GET, PUT and
    /// DELETE always are; a POST only when the API de-duplicates it (the caller decides).
    async fn send(
        &self,
        method: Method,
        url: &str,
        token: &Secret,
        body: Option<&serde_json::Value>,
        retry: bool,
    ) -> Result<Answer, AltinnError> {
        let policy = if retry {
            self.retry
        } else {
            http::RetryPolicy::none()
        };
        let mut attempt = 0;
        loop {
            let result = self.send_once(&method, url, token, body).await;
            let wait = match &result {
                Ok(ans) if http::is_retryable_status(ans.status.as_u16()) => {
                    policy.wait(attempt, http::retry_after(&ans.headers))
                }
                Err(AltinnError::Network { .. }) => policy.wait(attempt, None),
                _ => None,
            };
            match wait {
                Some(delay) => {
                    tracing::info!(%method, %url, attempt, ?delay, "transient failure; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return result,
            }
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        token: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, AltinnError> {
        let network = |e: reqwest::Error| AltinnError::Network {
            url: url.to_string(),
            reason: describe_reqwest(&e),
        };
        let mut rb = self
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            rb = rb.json(b);
        }
        tracing::debug!(%method, %url, "altinn request");
        let resp = rb.send().await.map_err(network)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        // A connection that drops mid-body is a network failure, retried like one.
        let text = resp.text().await.map_err(network)?;
        tracing::debug!(%method, %url, status = status.as_u16(), "altinn answer");
        Ok(Answer {
            status,
            headers,
            body: text,
        })
    }

    /// Turn a non-success answer into the right error.
    fn error(&self, method: &Method, url: &str, ans: &Answer, scope: &str) -> AltinnError {
        let status = ans.status.as_u16();
        let (m, u) = (method.to_string(), url.to_string());
        match status {
            401 if ans.body.trim().is_empty() => AltinnError::Unauthorized {
                method: m,
                url: u,
                hint: "the token was missing, expired or not accepted: get a fresh one (`token --fresh`) and check the environment (a TT02 token does not work in production)".into(),
            },
            403 if ans.body.trim().is_empty() => AltinnError::Forbidden {
                method: m,
                url: u,
                hint: format!("the token lacks scope `{scope}`, or its organisation is not the system's vendor; add the scope to the client and to --scope"),
            },
            s if s >= 500 => AltinnError::Server { url: u, status, body: http::excerpt(&ans.body, 300) },
            _ => {
                let ct = ans.headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
                if ct.contains("json")
                    && let Ok(problem) = serde_json::from_str::<ProblemDetails>(&ans.body)
                        && (problem.title.is_some() || problem.code.is_some()) {
                            // Without a code it is ASP.NET's own ProblemDetails for a bare
                            // `Unauthorized()` / `NotFound()` in the controller: the status says it.
                            let hint = if problem.codes().is_empty() && problem.errors.is_none() {
                                framework_hint(status, scope)
                            } else {
                                hint_for(&problem)
                            };
                            return AltinnError::Problem { method: m, url: u, status, problem, hint };
                        }
                // `NotFound("text")` and friends come JSON-quoted because we send
                // `Accept: application/json`; show the text, not the JSON.
                let body = match serde_json::from_str::<serde_json::Value>(&ans.body) {
                    Ok(serde_json::Value::String(text)) => text,
                    _ => ans.body.clone(),
                };
                AltinnError::Status { method: m, url: u, status, body: http::excerpt(&body, 300), hint: framework_hint(status, scope) }
            }
        }
    }

    fn parse<T: DeserializeOwned>(&self, url: &str, ans: &Answer) -> Result<T, AltinnError> {
        serde_json::from_str(&ans.body).map_err(|e| AltinnError::BadResponse {
            url: url.to_string(),
            status: ans.status.as_u16(),
            reason: format!("{e}; body: {}", http::excerpt(&ans.body, 200)),
        })
    }

    /// `GET exchange/maskinporten`: an Altinn token for a Maskinporten token. The answer is a
    /// bare string, sometimes JSON-quoted depending on content negotiation.
    pub async fn exchange(&self, mp_token: &Secret) -> Result<Secret, AltinnError> {
        let url = self.api("exchange/maskinporten");
        let ans = self.send(Method::GET, &url, mp_token, None, true).await?;
        if !ans.status.is_success() {
            return Err(self.error(&Method::GET, &url, &ans, "(any Maskinporten token)"));
        }
        let t = ans.body.trim().trim_matches('"').to_string();
        if t.split('.').count() != 3 {
            return Err(AltinnError::BadResponse {
                url,
                status: ans.status.as_u16(),
                reason: "the exchange did not return a JWT".into(),
            });
        }
        Ok(Secret::new(t))
    }

    /// `GET systemregister/vendor/{id}`; `None` when it does not exist.
    pub async fn get_system(
        &self,
        token: &Secret,
        system_id: &str,
    ) -> Result<Option<RegisteredSystem>, AltinnError> {
        let url = self.api(&format!("systemregister/vendor/{}", seg(system_id)));
        let ans = self.send(Method::GET, &url, token, None, true).await?;
        match ans.status.as_u16() {
            200 => self.parse(&url, &ans).map(Some),
            404 => Ok(None),
            _ => Err(self.error(&Method::GET, &url, &ans, SCOPE_REGISTER_WRITE)),
        }
    }

    /// `POST systemregister/vendor`: 200 with the new internal GUID as a JSON string.
    pub async fn create_system(
        &self,
        token: &Secret,
        reg: &SystemRegistration,
    ) -> Result<String, AltinnError> {
        let url = self.api("systemregister/vendor");
        let body = to_json(reg);
        let ans = self
            // Not retried: a repeated POST answers VLD-00002; upsert_system handles that.
            .send(Method::POST, &url, token, Some(&body), false)
            .await?;
        if !ans.status.is_success() {
            return Err(self.error(&Method::POST, &url, &ans, SCOPE_REGISTER_WRITE));
        }
        Ok(ans.body.trim().trim_matches('"').to_string())
    }

    /// `PUT systemregister/vendor/{id}`: replaces the whole system.
    pub async fn update_system(
        &self,
        token: &Secret,
        reg: &SystemRegistration,
    ) -> Result<(), AltinnError> {
        let url = self.api(&format!("systemregister/vendor/{}", seg(&reg.id)));
        let body = to_json(reg);
        let ans = self
            .send(Method::PUT, &url, token, Some(&body), true)
            .await?;
        if !ans.status.is_success() {
            return Err(self.error(&Method::PUT, &url, &ans, SCOPE_REGISTER_WRITE));
        }
        Ok(())
    }

    /// Create the system, or bring an existing one up to date, or leave it alone when it
    /// already matches. Client ids already on the system are kept (PUT replaces the whole
    /// list, and another deployment of the vendor may use them).
    pub async fn upsert_system(
        &self,
        token: &Secret,
        desired: &SystemRegistration,
    ) -> Result<UpsertOutcome, AltinnError> {
        match self.get_system(token, &desired.id).await? {
            None => match self.create_system(token, desired).await {
                Ok(_) => Ok(UpsertOutcome {
                    kind: UpsertKind::Created,
                    system_id: desired.id.clone(),
                    changes: Vec::new(),
                }),
                // Created by someone else between our GET and POST: fall through to update.
                Err(e) if e.has_code("AUTH.VLD-00002") || e.status() == Some(409) => {
                    self.update_from(token, desired, None).await
                }
                Err(e) => Err(e),
            },
            Some(existing) => self.update_from(token, desired, Some(existing)).await,
        }
    }

    async fn update_from(
        &self,
        token: &Secret,
        desired: &SystemRegistration,
        existing: Option<RegisteredSystem>,
    ) -> Result<UpsertOutcome, AltinnError> {
        let existing = match existing {
            Some(e) => e,
            None => self.get_system(token, &desired.id).await?.ok_or_else(|| {
                AltinnError::BadResponse {
                    url: self.api("systemregister/vendor"),
                    status: 409,
                    reason: format!(
                        "system {} reported as existing but cannot be read",
                        desired.id
                    ),
                }
            })?,
        };
        if existing.is_deleted {
            // SystemRegisterController refuses to update a deleted system ("Cannot update a
            // system marked as deleted.") and a POST answers VLD-00002: the id is spent.
            let url = self.api(&format!("systemregister/vendor/{}", seg(&desired.id)));
            return Err(AltinnError::Status {
                method: "PUT".into(),
                url,
                status: 400,
                body: format!("system {} was deleted and cannot be updated", desired.id),
                hint:
                    "a deleted system's id cannot be reused; register under another name (--name)"
                        .into(),
            });
        }
        let mut target = desired.clone();
        for id in &existing.client_id {
            if !target.client_id.contains(id) {
                target.client_id.push(id.clone());
            }
        }
        let changes = diff_system(&existing, &target);
        if changes.is_empty() && !existing.is_deleted {
            return Ok(UpsertOutcome {
                kind: UpsertKind::Unchanged,
                system_id: desired.id.clone(),
                changes,
            });
        }
        self.update_system(token, &target).await?;
        Ok(UpsertOutcome {
            kind: UpsertKind::Updated,
            system_id: desired.id.clone(),
            changes,
        })
    }

    /// `POST systemuser/request/vendor` (standard) or `.../vendor/agent`.
    pub async fn create_request(
        &self,
        token: &Secret,
        body: &CreateRequest,
        agent: bool,
    ) -> Result<CreatedRequest, AltinnError> {
        let url = self.api(if agent {
            "systemuser/request/vendor/agent"
        } else {
            "systemuser/request/vendor"
        });
        let mut json = to_json(body);
        if agent {
            // CreateAgentRequestSystemUser has no rights.
            if let Some(o) = json.as_object_mut() {
                o.remove("rights");
            }
        }
        let ans = self
            // The API de-duplicates on (org, externalRef, system); we only lean on that when
            // the caller chose the externalRef, so a retry can never make a second request.
            .send(
                Method::POST,
                &url,
                token,
                Some(&json),
                body.external_ref.is_some(),
            )
            .await?;
        match ans.status.as_u16() {
            201 => Ok(CreatedRequest {
                request: self.parse(&url, &ans)?,
                newly_created: true,
            }),
            200 => Ok(CreatedRequest {
                request: self.parse(&url, &ans)?,
                newly_created: false,
            }),
            _ => Err(self.error(&Method::POST, &url, &ans, SCOPE_REQUEST_WRITE)),
        }
    }

    fn request_path(agent: bool) -> &'static str {
        if agent {
            "systemuser/request/vendor/agent"
        } else {
            "systemuser/request/vendor"
        }
    }

    /// `GET systemuser/request/vendor[/agent]/{id}`.
    pub async fn get_request(
        &self,
        token: &Secret,
        id: &str,
        agent: bool,
    ) -> Result<RequestInfo, AltinnError> {
        let url = self.api(&format!("{}/{}", Self::request_path(agent), seg(id)));
        let ans = self.send(Method::GET, &url, token, None, true).await?;
        if ans.status.as_u16() != 200 {
            return Err(self.error(&Method::GET, &url, &ans, SCOPE_REQUEST_READ));
        }
        self.parse(&url, &ans)
    }

    /// `GET .../byexternalref/{systemId}/{orgNo}/{externalRef}` (externalRef defaults to orgNo).
    pub async fn get_request_by_external_ref(
        &self,
        token: &Secret,
        system_id: &str,
        org: &str,
        external_ref: Option<&str>,
        agent: bool,
    ) -> Result<Option<RequestInfo>, AltinnError> {
        let url = self.api(&format!(
            "{}/byexternalref/{}/{}/{}",
            Self::request_path(agent),
            seg(system_id),
            seg(org),
            seg(external_ref.unwrap_or(org))
        ));
        let ans = self.send(Method::GET, &url, token, None, true).await?;
        match ans.status.as_u16() {
            200 => self.parse(&url, &ans).map(Some),
            404 => Ok(None),
            _ => Err(self.error(&Method::GET, &url, &ans, SCOPE_REQUEST_READ)),
        }
    }

    /// `GET .../bysystem/{systemId}`, following `links.next` to the end.
    pub async fn list_requests(
        &self,
        token: &Secret,
        system_id: &str,
        agent: bool,
    ) -> Result<Vec<RequestInfo>, AltinnError> {
        self.list_requests_with_progress(token, system_id, agent, &mut |_| {})
            .await
    }

    /// [`AltinnClient::list_requests`], telling `on_page` after each page.
    ///
    /// Altinn's request lists lose one request per page: the continuation token is the id of
    /// the first request of the next page (`Page.Create`, src/Core/Models/Page.cs:40-47) and
    /// the next query continues strictly after it (`r.id > @continue_from`,
    /// RequestRepository.cs:542 and 624 in altinn-authentication@ad4f6f36). The token is an
    /// `Opaque<Guid>` (base64url of the JSON string), so the request it names is fetched by id
    /// afterwards when the pages did not contain it.
    pub async fn list_requests_with_progress(
        &self,
        token: &Secret,
        system_id: &str,
        agent: bool,
        on_page: &mut (dyn FnMut(PageProgress) + Send),
    ) -> Result<Vec<RequestInfo>, AltinnError> {
        let url = self.api(&format!(
            "{}/bysystem/{}",
            Self::request_path(agent),
            seg(system_id)
        ));
        let (mut all, tokens): (Vec<RequestInfo>, _) = self
            .paginate_with(token, &url, SCOPE_REQUEST_READ, Repeat::Error, on_page)
            .await?;
        let mut seen: std::collections::HashSet<String> =
            all.iter().map(|r| r.id.clone()).collect();
        for id in tokens.iter().filter_map(|t| opaque_guid(t)) {
            if seen.contains(&id) {
                continue;
            }
            match self.get_request(token, &id, agent).await {
                Ok(r) if r.system_id.is_empty() || r.system_id == system_id => {
                    seen.insert(r.id.clone());
                    all.push(r);
                }
                Ok(_) => {}
                // Deleted in between: nothing to show.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }

    /// `DELETE systemuser/request/vendor/{id}`: 202 on success.
    pub async fn delete_request(&self, token: &Secret, id: &str) -> Result<(), AltinnError> {
        let url = self.api(&format!("systemuser/request/vendor/{}", seg(id)));
        let ans = self.send(Method::DELETE, &url, token, None, true).await?;
        if !ans.status.is_success() {
            return Err(self.error(&Method::DELETE, &url, &ans, SCOPE_REQUEST_WRITE));
        }
        Ok(())
    }

    /// `POST systemuser/changerequest/vendor?correlation-id=&system-user-id=`
    /// (ChangeRequestSystemUserController.cs:82-167). The correlation id is a fresh UUID of the
    /// vendor's and the de-duplication key (a repeat answers 200 with the stored change
    /// request, CR:148-154); it must not be the system user's id, which in Altinn is the id of
    /// the request that created the system user (SystemUserService.cs:509). That is refused
    /// here, before anything is sent (the service answers a plain-text 400, CR:113-116).
    /// Returns the answer and whether it was created now (201). A body with four empty sets
    /// answers 200 `NoChangeNeeded` (CR:125-146): the only case in which the service says so.
    pub async fn create_change_request(
        &self,
        token: &Secret,
        system_user_id: &str,
        correlation_id: &str,
        body: &ChangeRequestBody,
    ) -> Result<(ChangeRequestInfo, bool), AltinnError> {
        if correlation_id
            .trim()
            .eq_ignore_ascii_case(system_user_id.trim())
        {
            return Err(AltinnError::Invalid(format!(
                "the change request's correlation-id {correlation_id} is the system user's id: Altinn refuses that (the system user's id is the id of the request that created it); use a fresh UUID"
            )));
        }
        let mut u = url::Url::parse(&self.api("systemuser/changerequest/vendor")).map_err(|e| {
            AltinnError::BadResponse {
                url: self.api(""),
                status: 0,
                reason: e.to_string(),
            }
        })?;
        u.query_pairs_mut()
            .append_pair("correlation-id", correlation_id)
            .append_pair("system-user-id", system_user_id);
        let url = u.to_string();
        let ans = self
            // The correlation id is the de-duplication key of change requests.
            .send(Method::POST, &url, token, Some(&to_json(body)), true)
            .await?;
        match ans.status.as_u16() {
            201 => Ok((self.parse(&url, &ans)?, true)),
            200 => Ok((self.parse(&url, &ans)?, false)),
            _ => Err(self.error(&Method::POST, &url, &ans, SCOPE_REQUEST_WRITE)),
        }
    }

    /// `GET systemuser/changerequest/vendor/{id}`.
    pub async fn get_change_request(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<ChangeRequestInfo, AltinnError> {
        let url = self.api(&format!("systemuser/changerequest/vendor/{}", seg(id)));
        let ans = self.send(Method::GET, &url, token, None, true).await?;
        if ans.status.as_u16() != 200 {
            return Err(self.error(&Method::GET, &url, &ans, SCOPE_REQUEST_READ));
        }
        self.parse(&url, &ans)
    }

    /// `GET systemuser/changerequest/vendor/bysystem/{systemId}`: in practice its first page.
    ///
    /// Altinn's change-request list cannot page: the service takes the continuation token but
    /// never passes it on (ChangeRequestSystemUserService.cs:485-488 in
    /// altinn-authentication@ad4f6f36; ChangeRequestRepository.cs:189 has no continue-from), and
    /// `Page.Create` (src/Core/Models/Page.cs:40-47) names the item after the page as the token.
    /// So with more than a page, page 2 is page 1 again with the same `links.next`. That case
    /// ends the listing with the first page and a warning (the caller fetches change requests
    /// it knows by id, [`AltinnClient::get_change_request`]); a loop through other tokens is
    /// still an error.
    pub async fn list_change_requests(
        &self,
        token: &Secret,
        system_id: &str,
    ) -> Result<Vec<ChangeRequestInfo>, AltinnError> {
        let url = self.api(&format!(
            "systemuser/changerequest/vendor/bysystem/{}",
            seg(system_id)
        ));
        self.paginate_with(
            token,
            &url,
            SCOPE_REQUEST_READ,
            Repeat::StopAtFirstPage,
            &mut |_| {},
        )
        .await
        .map(|(all, _)| all)
    }

    /// `GET systemuser/vendor/byquery?system-id=&orgno=&external-ref=` (SystemUserController.cs
    /// 246-275; scope systemuser.request.write): the system user for a customer, `None` on 404.
    /// Without an external ref the service takes the org number (SU:261).
    pub async fn system_user_by_query(
        &self,
        token: &Secret,
        system_id: &str,
        org: &str,
        external_ref: Option<&str>,
    ) -> Result<Option<SystemUserInfo>, AltinnError> {
        let mut u = url::Url::parse(&self.api("systemuser/vendor/byquery")).map_err(|e| {
            AltinnError::BadResponse {
                url: self.api(""),
                status: 0,
                reason: e.to_string(),
            }
        })?;
        u.query_pairs_mut()
            .append_pair("system-id", system_id)
            .append_pair("orgno", org)
            .append_pair("external-ref", external_ref.unwrap_or(org));
        let url = u.to_string();
        let ans = self.send(Method::GET, &url, token, None, true).await?;
        match ans.status.as_u16() {
            200 => self.parse(&url, &ans).map(Some),
            404 => Ok(None),
            _ => Err(self.error(&Method::GET, &url, &ans, SCOPE_REQUEST_WRITE)),
        }
    }

    /// `GET systemuser/vendor/bysystem/{systemId}` (needs systemregister.write), all pages.
    pub async fn list_system_users(
        &self,
        token: &Secret,
        system_id: &str,
    ) -> Result<Vec<SystemUserInfo>, AltinnError> {
        self.list_system_users_with_progress(token, system_id, &mut |_| {})
            .await
    }

    /// [`AltinnClient::list_system_users`], telling `on_page` after each page. (This list
    /// continues *from* the token's sequence number, `>=`, SystemUserRepository.cs:441, so
    /// it loses nothing.)
    pub async fn list_system_users_with_progress(
        &self,
        token: &Secret,
        system_id: &str,
        on_page: &mut (dyn FnMut(PageProgress) + Send),
    ) -> Result<Vec<SystemUserInfo>, AltinnError> {
        let url = self.api(&format!("systemuser/vendor/bysystem/{}", seg(system_id)));
        self.paginate_with(token, &url, SCOPE_REGISTER_WRITE, Repeat::Error, on_page)
            .await
            .map(|(all, _)| all)
    }

    /// Follow `links.next`, telling `on_page` after each page; returns the items and the
    /// continuation tokens met. The link is built by the server from the host it saw
    /// (`Url.Link`), which behind Altinn's gateway can be an internal http host; so only its
    /// `token` parameter is taken and the URL rebuilt on the public base we called
    /// (altinn-api-details.md §7.2): the bearer token never goes to another host, whatever
    /// `next` names. A token seen before (a loop) or more than 1000 pages stop with an error,
    /// except the previous page's token again under [`Repeat::StopAtFirstPage`].
    async fn paginate_with<T: DeserializeOwned>(
        &self,
        token: &Secret,
        first: &str,
        scope: &str,
        repeat: Repeat,
        on_page: &mut (dyn FnMut(PageProgress) + Send),
    ) -> Result<(Vec<T>, Vec<String>), AltinnError> {
        let mut out = Vec::new();
        let mut url = first.to_string();
        let mut seen_tokens = std::collections::HashSet::new();
        let mut tokens: Vec<String> = Vec::new();
        for page_no in 1..=MAX_PAGES {
            let ans = self.send(Method::GET, &url, token, None, true).await?;
            if ans.status.as_u16() != 200 {
                return Err(self.error(&Method::GET, &url, &ans, scope));
            }
            let page: Paginated<T> = self.parse(&url, &ans)?;
            let next = page.links.next.filter(|n| !n.is_empty());
            let Some(next) = next else {
                out.extend(page.data);
                on_page(PageProgress {
                    page: page_no,
                    items: out.len(),
                    more: false,
                });
                return Ok((out, tokens));
            };
            let page_token = url::Url::parse(&next)
                .ok()
                .and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "token")
                        .map(|(_, v)| v.into_owned())
                })
                .ok_or_else(|| AltinnError::BadResponse {
                    url: url.clone(),
                    status: 200,
                    reason: format!("links.next has no token: {next}"),
                })?;
            if repeat == Repeat::StopAtFirstPage && tokens.last() == Some(&page_token) {
                // This page was asked for with the token it names again: the service ignored
                // the token and answered the previous page once more. Keep what was read.
                tracing::warn!(
                    url = %first,
                    items = out.len(),
                    "Altinn's change-request list cannot page past its first page (the service ignores the continuation token); listing only the first page"
                );
                on_page(PageProgress {
                    page: page_no - 1,
                    items: out.len(),
                    more: false,
                });
                return Ok((out, tokens));
            }
            out.extend(page.data);
            on_page(PageProgress {
                page: page_no,
                items: out.len(),
                more: true,
            });
            if !seen_tokens.insert(page_token.clone()) {
                return Err(AltinnError::BadResponse {
                    url,
                    status: 200,
                    reason: "links.next repeats a page; stopping".into(),
                });
            }
            tokens.push(page_token.clone());
            let mut u = url::Url::parse(first).map_err(|e| AltinnError::BadResponse {
                url: first.to_string(),
                status: 0,
                reason: e.to_string(),
            })?;
            u.query_pairs_mut()
                .clear()
                .append_pair("token", &page_token);
            url = u.to_string();
        }
        Err(AltinnError::BadResponse {
            url,
            status: 200,
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// The test call: any URL, with a (system-user) token, timed.
    pub async fn test_call(
        &self,
        method: Method,
        url: &str,
        token: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<TestCallResult, AltinnError> {
        // GET and HEAD change nothing, so a transient failure (429/502/503/504, a dropped
        // connection) is retried with the same policy as every other safe call; a POST is
        // sent once, since the API behind it may not de-duplicate.
        let policy = if method == Method::GET || method == Method::HEAD {
            self.retry
        } else {
            http::RetryPolicy::none()
        };
        let mut attempt = 0;
        loop {
            let result = self.test_call_once(&method, url, token, body).await;
            let wait = match &result {
                Ok(r) if http::is_retryable_status(r.result.status) => {
                    policy.wait(attempt, r.retry_after)
                }
                Err(AltinnError::Network { .. }) => policy.wait(attempt, None),
                _ => None,
            };
            match wait {
                Some(delay) => {
                    tracing::info!(%method, %url, attempt, ?delay, "test call: transient failure; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return result.map(|r| r.result),
            }
        }
    }

    async fn test_call_once(
        &self,
        method: &Method,
        url: &str,
        token: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<TestCallAttempt, AltinnError> {
        let started = Instant::now();
        let mut rb = self
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.map_err(|e| AltinnError::Network {
            url: url.to_string(),
            reason: describe_reqwest(&e),
        })?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after(resp.headers());
        let headers = resp
            .headers()
            .iter()
            .filter(|(k, _)| {
                let k = k.as_str();
                matches!(k, "content-type" | "www-authenticate" | "date" | "location")
                    || k.contains("request-id")
                    || k.contains("correlation")
            })
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<binary>").to_string()))
            .collect();
        let text = resp.text().await.map_err(|e| AltinnError::Network {
            url: url.to_string(),
            reason: describe_reqwest(&e),
        })?;
        // The answer's own time (the attempt that answered), as before retries existed.
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let json = serde_json::from_str(&text).ok();
        Ok(TestCallAttempt {
            retry_after,
            result: TestCallResult {
                method: method.to_string(),
                url: url.to_string(),
                status,
                elapsed_ms,
                headers,
                body: text,
                json,
            },
        })
    }
}

/// The hint for an answer that carries no Altinn code: a plain-text body, or the framework's
/// RFC 9110 ProblemDetails of a bare `Unauthorized()` / `NotFound()` inside a controller.
fn framework_hint(status: u16, scope: &str) -> String {
    match status {
        404 => "not found: check the id and the environment".into(),
        409 => "conflict: it already exists".into(),
        // A 401 with a body comes from inside the controller, after the token was accepted:
        // RequestSystemUserController & co. answer `Unauthorized()` when the token names no
        // vendor (`consumer`), and ChangeRequestSystemUserController when the system user
        // belongs to another vendor.
        401 => "the token was accepted but names no vendor organisation, or the system user belongs to another vendor: use a Maskinporten token of the system's vendor client".into(),
        403 => format!("forbidden: the token's organisation is not the system's vendor, or it lacks scope `{scope}`"),
        _ => "the request was not accepted; see the message".into(),
    }
}

/// One attempt of a test call, with what the retry decision needs.
struct TestCallAttempt {
    retry_after: Option<std::time::Duration>,
    result: TestCallResult,
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    // Our own model types always serialise.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// What [`AltinnClient::paginate_with`] does when `links.next` names a token seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// A loop: stop with an error.
    Error,
    /// The token of the previous page again (the change-request list, which ignores its
    /// token): keep the first page, warn, and stop.
    StopAtFirstPage,
}

/// After each page of a list: which page it was, how many items so far, whether more follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageProgress {
    pub page: usize,
    pub items: usize,
    pub more: bool,
}

/// The GUID inside an `Opaque<Guid>` continuation token (base64url of a JSON string,
/// src/Authentication/Model/Opaque.cs), or `None` for any other token.
fn opaque_guid(token: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let s: String = serde_json::from_slice(&bytes).ok()?;
    uuid::Uuid::parse_str(&s).ok().map(|u| u.to_string())
}

/// Percent-encode one path segment.
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Field-by-field differences that matter to the register, order-insensitive for lists.
pub fn diff_system(existing: &RegisteredSystem, desired: &SystemRegistration) -> Vec<FieldChange> {
    fn sorted<T: Serialize>(items: &[T]) -> serde_json::Value {
        let mut v: Vec<String> = items
            .iter()
            .map(|i| serde_json::to_string(i).unwrap_or_default())
            .collect();
        v.sort();
        v.dedup();
        serde_json::Value::Array(
            v.into_iter()
                .filter_map(|s| serde_json::from_str(&s).ok())
                .collect(),
        )
    }
    let mut changes = Vec::new();
    let mut cmp = |field: &str, before: serde_json::Value, after: serde_json::Value| {
        if before != after {
            changes.push(FieldChange {
                field: field.to_string(),
                before,
                after,
            });
        }
    };
    cmp("name", to_json(&existing.name), to_json(&desired.name));
    cmp(
        "description",
        to_json(&existing.description),
        to_json(&desired.description),
    );
    cmp("rights", sorted(&existing.rights), sorted(&desired.rights));
    cmp(
        "accessPackages",
        sorted(&existing.access_packages),
        sorted(&desired.access_packages),
    );
    cmp(
        "clientId",
        sorted(&existing.client_id),
        sorted(&desired.client_id),
    );
    // The register hands redirect URLs back in .NET's canonical form (`https://x.no` ->
    // `https://x.no/`); compared raw, a re-run would PUT a phantom change every time.
    let canonical = |urls: &[String]| -> Vec<String> {
        urls.iter()
            .map(|u| crate::validate::dotnet_uri_string(u))
            .collect()
    };
    cmp(
        "allowedRedirectUrls",
        sorted(&canonical(&existing.allowed_redirect_urls)),
        sorted(&canonical(&desired.allowed_redirect_urls)),
    );
    cmp(
        "isVisible",
        existing.is_visible.into(),
        desired.is_visible.into(),
    );
    if existing.is_deleted {
        cmp("isDeleted", true.into(), false.into());
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> SystemRegistration {
        SystemRegistration {
            id: "310904473_x".into(),
            vendor: VendorRef::org("310904473"),
            name: [("nb".to_string(), "X".to_string())].into(),
            description: [("nb".to_string(), "D".to_string())].into(),
            rights: vec![Right::resource("a"), Right::resource("b")],
            access_packages: vec![],
            client_id: vec!["c1".into()],
            allowed_redirect_urls: vec![],
            is_visible: true,
        }
    }

    fn existing(r: &SystemRegistration) -> RegisteredSystem {
        RegisteredSystem {
            id: r.id.clone(),
            vendor: Some(r.vendor.clone()),
            name: r.name.clone(),
            description: r.description.clone(),
            rights: r.rights.iter().rev().cloned().collect(),
            access_packages: vec![],
            is_deleted: false,
            client_id: r.client_id.clone(),
            is_visible: true,
            allowed_redirect_urls: vec![],
        }
    }

    #[test]
    fn diff_ignores_order_and_reports_changes() {
        let r = reg();
        assert!(diff_system(&existing(&r), &r).is_empty());
        let mut changed = r.clone();
        changed.rights.push(Right::resource("c"));
        changed.is_visible = false;
        let d = diff_system(&existing(&r), &changed);
        let fields: Vec<_> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["rights", "isVisible"]);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(seg("310904473_smartcloud"), "310904473_smartcloud");
    }
}
