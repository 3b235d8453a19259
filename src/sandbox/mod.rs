//! An embedded, faithful emulator of Maskinporten and the Altinn system-user (systembruker) APIs.
//!
//! One loopback port serves everything (issue 3, "Fixed layout"):
//! - Maskinporten: issuer `http://127.0.0.1:N/`, `POST /token`, `/.well-known/oauth-authorization-server`, `/jwk`;
//! - Altinn platform base `http://127.0.0.1:N`: `/authentication/api/v1/...` as in production;
//! - the customer's approval pages under `/accessmanagement/ui/systemuser/...` (what `confirmUrl` points at);
//! - sandbox-only administration under `/sandbox/...`, including the fault plan
//!   (`/sandbox/faults`, see [`faults`] for the JSON format: latency, 5xx, 429 with
//!   `Retry-After`, dropped connections, truncated or malformed JSON, a skewed clock);
//! - a reference API, `GET /reference/whoami`, that accepts system-user tokens.
//!
//! Behaviour mirrors the C# code of Altinn/altinn-authentication (controllers and models named at
//! each handler with `// mirrors:`); where the sandbox had to invent, the code says `// guess:`.
//! The module is independent of the crate's client code on purpose: a sandbox that merely agrees
//! with our own client would prove nothing.
//!
//! Decisions the real services do not dictate (each also marked `// guess:` where it is made):
//! - The stand-in for the Entity Register knows the seeded organisations ([`seeded_orgs`]) and
//!   every organisation that owns a sandbox client. Any other `partyOrgNo`, valid check digit or
//!   not, gets AUTH-00000, as an org missing from Register does in TT02.
//! - Resource ids: any well-formed id "exists" unless `strict_resources` is set, in which case
//!   only [`seeded_resources`] do (AUTH.VLD-00003 otherwise). Access packages: a short list of
//!   client-relation packages is "not assignable" for standard system users (AUTH-00064) and
//!   may not sit on a visible system (AUTH.VLD-00018).
//! - Maskinporten error texts are the documented ones where known; the rest are ours. MP-303 is
//!   `{"error":"invalid_altinn_customer_configuration","error_description":"… (MP-303) …"}`.
//! - Access tokens live 120 s; exchanged Altinn tokens 30 min.
//! - One process per state file at a time: a second process writing the same file concurrently
//!   overwrites the first one's changes (last writer wins). Successive processes are fine.

// Handlers return `Result<_, Response>` to bail out early with the real service's error body;
// the error path is cold and a boxed Response would only add noise.
#![allow(clippy::result_large_err)]

mod altinn;
mod auth;
pub mod faults;
pub mod files;
mod maskinporten;
mod models;
mod orgs;
mod problem;
mod state;
mod ui;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, oneshot};

pub use faults::{Fault, FaultPlan, FaultPlanError, FaultReport, FaultRule, RuleCounter};
pub use orgs::{SeedOrg, seeded_orgs, seeded_resources};

use state::{SigningKey, State};

/// Request bodies larger than this get 413; the real APIs take small JSON documents.
const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen. Default `127.0.0.1:0` (a free port on loopback).
    pub bind: SocketAddr,
    /// Persist state here (created when missing). `None`: in memory only.
    pub state_file: Option<PathBuf>,
    /// Accept only the seeded resource ids in system rights (exercises AUTH.VLD-00003).
    pub strict_resources: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state_file: None,
            strict_resources: false,
        }
    }
}

/// Knobs mostly useful to tests.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Page size of the paginated `bysystem` lists (the real service uses 50).
    pub page_size: usize,
    /// Faults to inject from the start (see [`faults`]); changeable later with
    /// [`SandboxHandle::set_faults`] or `PUT /sandbox/faults`.
    pub faults: FaultPlan,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            page_size: 50,
            faults: FaultPlan::none(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "could not listen on {addr}: {source}\n  hint: is another program using that port? Use port 0 for any free port"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not read or write the sandbox state file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the sandbox state file {path} is corrupt: {reason}\n  hint: move it away (or delete it) to start with a fresh sandbox"
    )]
    CorruptState { path: PathBuf, reason: String },
    #[error("sandbox signing key problem: {0}")]
    Key(String),
    #[error("the sandbox server failed: {0}")]
    Server(String),
    #[error(transparent)]
    Faults(#[from] FaultPlanError),
}

/// Everything the handlers share.
pub(crate) struct App {
    pub state: Mutex<State>,
    pub key: SigningKey,
    pub state_file: Option<PathBuf>,
    pub strict_resources: bool,
    pub page_size: usize,
    pub local_addr: SocketAddr,
    /// The state file as we last read or wrote it (to notice other processes' writes).
    pub file_stamp: std::sync::Mutex<Option<state::FileStamp>>,
    /// The fault plan, its counters and the clock offset.
    pub faults: faults::Faults,
}

pub(crate) type Shared = Arc<App>;

impl App {
    /// The sandbox's "now": the real clock moved by the fault plan's `clock_offset_secs`.
    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        chrono::Duration::try_seconds(self.faults.clock_offset_secs())
            .and_then(|d| real.checked_add_signed(d))
            .unwrap_or(real)
    }

    /// Canonical base URL of this server (`http://127.0.0.1:N`).
    pub fn canonical_base(&self) -> String {
        canonical_base(self.local_addr)
    }

    /// Write the state file (if any). Called with the state lock held, so writes are ordered.
    pub async fn persist(&self, state: &State) -> Result<(), SandboxError> {
        let Some(path) = self.state_file.clone() else {
            return Ok(());
        };
        let bytes = state::serialize(state)?;
        let written = path.clone();
        tokio::task::spawn_blocking(move || state::save_atomically(&written, &bytes))
            .await
            .map_err(|e| SandboxError::Server(format!("state writer task failed: {e}")))??;
        self.remember_stamp(state::FileStamp::of(&path));
        Ok(())
    }

    fn remember_stamp(&self, stamp: Option<state::FileStamp>) {
        if let Ok(mut s) = self.file_stamp.lock() {
            *s = stamp;
        }
    }

    /// Take the state lock. If another process (a second CLI invocation on the same state
    /// file) has rewritten the file since we last read or wrote it, adopt its version first, so
    /// interleaved processes do not undo each other's changes. Truly simultaneous writes are
    /// still last-writer-wins.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, State> {
        let mut st = self.state.lock().await;
        let Some(path) = &self.state_file else {
            return st;
        };
        let current = state::FileStamp::of(path);
        let known = self.file_stamp.lock().map(|s| *s).unwrap_or(None);
        if current.is_none() || current == known {
            return st;
        }
        match files::read_capped(path, files::MAX_STATE_FILE)
            .ok()
            .and_then(|b| serde_json::from_slice::<State>(&b).ok())
        {
            // Only adopt a file signed by the same key; tokens must keep verifying.
            Some(fresh) if fresh.signing_key_pem == st.signing_key_pem => {
                tracing::debug!("state file changed on disk; reloaded it");
                *st = fresh;
            }
            _ => tracing::warn!(
                "the sandbox state file changed on disk but could not be adopted; keeping this process's state"
            ),
        }
        self.remember_stamp(current);
        st
    }
}

fn canonical_base(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{}", addr.port()),
        IpAddr::V6(v6) => format!("http://[{v6}]:{}", addr.port()),
    }
}

/// The base URL as the caller addressed this server (from `Host`), so links work whether the
/// caller used 127.0.0.1, localhost or a LAN address. Falls back to the canonical base.
pub(crate) struct Base(pub String);

impl FromRequestParts<Shared> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.len() < 256
                    && h.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                    })
            });
        Ok(Base(match host {
            Some(h) => format!("http://{h}"),
            None => app.canonical_base(),
        }))
    }
}

/// A running sandbox.
pub struct SandboxHandle {
    local_addr: SocketAddr,
    app: Shared,
    shutdown_tx: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), std::io::Error>>>,
}

impl SandboxHandle {
    /// Altinn platform base, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn base_url(&self) -> String {
        canonical_base(self.local_addr)
    }

    /// Maskinporten issuer = the grant's `aud`, e.g. `http://127.0.0.1:41234/`.
    pub fn issuer(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// Maskinporten token endpoint.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.base_url())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Replace the fault plan (counters restart); same as `PUT /sandbox/faults`.
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), FaultPlanError> {
        plan.validate()?;
        self.app.faults.set(plan);
        Ok(())
    }

    /// No faults, the real clock; same as `DELETE /sandbox/faults`.
    pub fn clear_faults(&self) {
        self.app.faults.set(FaultPlan::none());
    }

    /// The active plan and how often each rule matched and fired; same as `GET /sandbox/faults`.
    pub fn fault_report(&self) -> FaultReport {
        self.app.faults.report()
    }

    /// Stop serving (in-flight requests finish) and persist the state.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Idle keep-alive connections are closed by the graceful shutdown; do not wait
            // forever for a client that keeps one busy.
            match tokio::time::timeout(Duration::from_secs(5), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!("sandbox server ended with an error: {e}"),
                Ok(Err(e)) => tracing::warn!("sandbox server task failed: {e}"),
                Err(_) => tracing::warn!("sandbox server did not stop within 5 s"),
            }
        }
        let state = self.app.lock().await;
        if let Err(e) = self.app.persist(&state).await {
            tracing::error!("could not save sandbox state at shutdown: {e}");
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

/// Start a sandbox with default options.
pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    start_with(config, SandboxOptions::default()).await
}

/// Start a sandbox with explicit options.
pub async fn start_with(
    config: SandboxConfig,
    options: SandboxOptions,
) -> Result<SandboxHandle, SandboxError> {
    options.faults.validate()?;
    let state_file = config.state_file.clone();
    let state = tokio::task::spawn_blocking(move || state::load_or_create(state_file.as_deref()))
        .await
        .map_err(|e| SandboxError::Server(format!("state loader task failed: {e}")))??;
    let key = SigningKey::from_pem(&state.signing_key_pem)?;

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: config.bind,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.bind,
        source,
    })?;

    let app = Arc::new(App {
        state: Mutex::new(state),
        key,
        state_file: config.state_file.clone(),
        strict_resources: config.strict_resources,
        page_size: options.page_size.max(1),
        local_addr,
        file_stamp: std::sync::Mutex::new(
            config.state_file.as_deref().and_then(state::FileStamp::of),
        ),
        faults: faults::Faults::new(options.faults),
    });
    let router = routes(app.clone());
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown_rx.await;
            })
            .await
    });
    tracing::info!(
        base = %canonical_base(local_addr),
        persisted = config.state_file.is_some(),
        strict_resources = config.strict_resources,
        fault_rules = app.faults.report().plan.rules.len(),
        "sandbox listening"
    );
    Ok(SandboxHandle {
        local_addr,
        app,
        shutdown_tx: Some(shutdown_tx),
        task: Some(task),
    })
}

/// Run until ctrl-c (for `altinn-onboard sandbox serve`). Prints nothing itself; the caller
/// prints the base URL (use [`start`] + [`SandboxHandle::base_url`] if it needs it first).
pub async fn serve_forever(config: SandboxConfig) -> Result<(), SandboxError> {
    let handle = start(config).await?;
    let result = tokio::signal::ctrl_c()
        .await
        .map_err(|e| SandboxError::Server(format!("could not wait for ctrl-c: {e}")));
    handle.shutdown().await;
    result
}

/// Like [`serve_forever`], with options (e.g. a fault plan from [`FaultPlan::from_file`]).
pub async fn serve_forever_with(
    config: SandboxConfig,
    options: SandboxOptions,
) -> Result<(), SandboxError> {
    serve_until_ctrl_c(start_with(config, options).await?).await
}

/// Serve a running handle until ctrl-c, then shut it down (lets the caller print the URL first).
pub async fn serve_until_ctrl_c(handle: SandboxHandle) -> Result<(), SandboxError> {
    let result = tokio::signal::ctrl_c()
        .await
        .map_err(|e| SandboxError::Server(format!("could not wait for ctrl-c: {e}")));
    handle.shutdown().await;
    result
}

/// THE route table. Every entry names what it mirrors, so a reader can check them one by one.
/// `AA` = Altinn/altinn-authentication, controllers under src/Authentication/Controllers/.
fn routes(app: Shared) -> Router {
    const V1: &str = "/authentication/api/v1";
    let r = Router::new()
        // ---- Maskinporten ----
        // mirrors: Maskinporten token endpoint, JWT-bearer grant (RFC 7523) incl. authorization_details
        .route("/token", post(maskinporten::token))
        // mirrors: Maskinporten RFC 8414 metadata
        .route("/.well-known/oauth-authorization-server", get(maskinporten::metadata))
        // mirrors: Maskinporten jwks_uri (`/jwk` as in production)
        .route("/jwk", get(maskinporten::jwks))
        // ---- Altinn authentication: token exchange and OIDC metadata ----
        // mirrors: AA AuthenticationController.ExchangeExternalSystemToken (GET exchange/{tokenProvider})
        .route(&format!("{V1}/exchange/{{provider}}"), get(auth::exchange))
        // mirrors: AA OpenIdController.GetOpenIdConfigurationAsync (issuer of exchanged tokens)
        .route(&format!("{V1}/openid/.well-known/openid-configuration"), get(auth::openid_configuration))
        // mirrors: AA OpenIdController.GetJsonWebKeySetAsync
        .route(&format!("{V1}/openid/.well-known/openid-configuration/jwks"), get(maskinporten::jwks))
        // ---- Altinn system register (SystemRegisterController) ----
        // mirrors: AA SystemRegisterController.CreateRegisteredSystem (POST vendor) +
        //          GetListOfRegisteredSystemsForVendor (GET vendor)
        .route(&format!("{V1}/systemregister/vendor"),
            post(altinn::create_system).get(altinn::list_systems))
        // mirrors: AA SystemRegisterController.GetRegisteredSystemInfo (GET vendor/{systemId}) +
        //          UpdateWholeRegisteredSystem (PUT) + SetDeleteOnRegisteredSystem (DELETE)
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}"),
            get(altinn::get_system).put(altinn::update_system).delete(altinn::delete_system))
        // mirrors: AA SystemRegisterController.UpdateRightsOnRegisteredSystem
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}/rights"), put(altinn::update_system_rights))
        // mirrors: AA SystemRegisterController.UpdateAccessPackagesOnRegisteredSystem
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}/accesspackages"), put(altinn::update_system_packages))
        // ---- Altinn system-user requests (RequestSystemUserController) ----
        // mirrors: AA RequestSystemUserController.CreateRequest (POST vendor)
        .route(&format!("{V1}/systemuser/request/vendor"), post(altinn::create_request))
        // mirrors: AA RequestSystemUserController.CreateAgentRequest (POST vendor/agent)
        .route(&format!("{V1}/systemuser/request/vendor/agent"), post(altinn::create_agent_request))
        // mirrors: AA RequestSystemUserController.GetRequestByGuid (GET vendor/{requestId}) +
        //          DeleteRequestByRequestId (DELETE vendor/{requestId})
        .route(&format!("{V1}/systemuser/request/vendor/{{request_id}}"),
            get(altinn::get_request).delete(altinn::delete_request))
        // mirrors: AA RequestSystemUserController.GetAgentSystemUserRequestByGuid (GET vendor/agent/{requestId})
        .route(&format!("{V1}/systemuser/request/vendor/agent/{{request_id}}"), get(altinn::get_agent_request))
        // mirrors: AA RequestSystemUserController.GetRequestByExternalRef
        .route(&format!("{V1}/systemuser/request/vendor/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::get_request_by_external_ref))
        // mirrors: AA RequestSystemUserController.GetAgentRequestByExternalRef
        .route(&format!("{V1}/systemuser/request/vendor/agent/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::get_agent_request_by_external_ref))
        // mirrors: AA RequestSystemUserController.GetAllRequestsForVendor (paginated, Opaque<Guid> token)
        .route(&format!("{V1}/systemuser/request/vendor/bysystem/{{system_id}}"), get(altinn::list_requests))
        // mirrors: AA RequestSystemUserController.GetAllAgentRequestsForVendor
        .route(&format!("{V1}/systemuser/request/vendor/agent/bysystem/{{system_id}}"), get(altinn::list_agent_requests))
        // ---- Altinn change requests (ChangeRequestSystemUserController) ----
        // mirrors: AA ChangeRequestSystemUserController.CreateChangeRequest (POST vendor?correlation-id&system-user-id)
        .route(&format!("{V1}/systemuser/changerequest/vendor"), post(altinn::create_change_request))
        // mirrors: AA ChangeRequestSystemUserController.GetChangeRequestByGuid + DeleteChangeRequestByRequestId
        .route(&format!("{V1}/systemuser/changerequest/vendor/{{request_id}}"),
            get(altinn::get_change_request).delete(altinn::delete_change_request))
        // mirrors: AA ChangeRequestSystemUserController.GetChangeRequestByExternalRef
        .route(&format!("{V1}/systemuser/changerequest/vendor/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::get_change_request_by_external_ref))
        // mirrors: AA ChangeRequestSystemUserController.GetAllChangeRequestsForVendor
        .route(&format!("{V1}/systemuser/changerequest/vendor/bysystem/{{system_id}}"), get(altinn::list_change_requests))
        // ---- Altinn system users (SystemUserController) ----
        // mirrors: AA SystemUserController.GetAllSystemUsersByVendorSystem (paginated, Opaque<long> token)
        .route(&format!("{V1}/systemuser/vendor/bysystem/{{system_id}}"), get(altinn::list_system_users))
        // mirrors: AA SystemUserController.GetSingleSystemUserForVendor (GET vendor/byquery)
        .route(&format!("{V1}/systemuser/vendor/byquery"), get(altinn::system_user_by_query))
        // ---- The customer's approval pages (Altinn AM UI; what confirmUrl points at) ----
        // mirrors: AM UI /accessmanagement/ui/systemuser/request?id= (RequestSystemUserController.CONFIRMURL_STANDARD_REQUEST)
        .route("/accessmanagement/ui/systemuser/request", get(ui::page_request).post(ui::decide_request))
        // mirrors: AM UI /accessmanagement/ui/systemuser/agentrequest?id= (CONFIRMURL_AGENTREQUEST)
        .route("/accessmanagement/ui/systemuser/agentrequest", get(ui::page_agent_request).post(ui::decide_agent_request))
        // mirrors: AM UI /accessmanagement/ui/systemuser/changerequest?id= (ChangeRequestSystemUserController.CONFIRMURL2)
        .route("/accessmanagement/ui/systemuser/changerequest", get(ui::page_change_request).post(ui::decide_change_request))
        // ---- Sandbox-only administration (Digdir self-service and the customer's clicks) ----
        // sandbox: create a Maskinporten client (client id, vendor org, scopes, public JWKs)
        .route("/sandbox/clients", post(ui::create_client))
        // sandbox: read a client
        .route("/sandbox/clients/{client_id}", get(ui::get_client))
        // sandbox: POST adds keys (rotation step 1), PUT replaces the whole key set (like DCR's PUT /clients/{id}/jwks)
        .route("/sandbox/clients/{client_id}/jwks", post(ui::add_client_keys).put(ui::replace_client_keys))
        // sandbox-only: replace a client's scopes (the portal's "edit scopes")
        .route("/sandbox/clients/{client_id}/scopes", put(ui::replace_client_scopes))
        // sandbox: the seeded organisations
        .route("/sandbox/orgs", get(ui::list_orgs))
        // sandbox: act as the customer (standard, agent and change requests); mirrors the effect of
        //          AA RequestSystemUserController.ApproveSystemUserRequest / RejectSystemUserRequest,
        //          the agent variants and ChangeRequestSystemUserController approve/reject
        .route("/sandbox/requests/{request_id}/approve", post(ui::admin_approve))
        .route("/sandbox/requests/{request_id}/reject", post(ui::admin_reject))
        // sandbox: the fault plan (PUT replaces it, GET shows it with counters, DELETE clears
        //          it); never faulted itself
        .route(faults::FAULTS_PATH, get(faults::get_plan).put(faults::put_plan).delete(faults::delete_plan))
        // ---- Reference API ----
        // sandbox: who is calling, for a system-user token
        .route("/reference/whoami", get(ui::whoami))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        // sandbox: fault injection over every route (after routing, so rules can name a route
        // template); a no-op while the plan is empty
        .layer(axum::middleware::from_fn_with_state(app.clone(), faults::inject));
    // Unknown routes: axum's 404 with an empty body, as ASP.NET answers.
    r.with_state(app)
}
