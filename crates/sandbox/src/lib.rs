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
//! # In a vendor's tests
//!
//! Add the crate as a dev-dependency, start a sandbox on a free loopback port, point the system
//! under test at [`SandboxHandle::issuer`] (Maskinporten) and [`SandboxHandle::base_url`]
//! (Altinn), and shut it down at the end. Create a Maskinporten client with
//! `POST /sandbox/clients` (`{"client_id"?, "org", "scopes": [...], "jwks": {"keys": [...]}}`,
//! with `Authorization: Bearer` a proof signed by the key or [`SandboxHandle::admin_secret`];
//! see [`admin`]),
//! use one of the [`seeded_orgs`] as vendor and customer, and approve requests with
//! `POST /sandbox/requests/{id}/approve`. [`start_with`] takes [`SandboxOptions`], e.g. a
//! [`FaultPlan`] to test retries.
//!
//! ```
//! use altinn_onboard_sandbox::{SandboxConfig, seeded_orgs, start};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), altinn_onboard_sandbox::SandboxError> {
//! // Port 0 on 127.0.0.1, state in memory only (the default config).
//! let sandbox = start(SandboxConfig::default()).await?;
//! let base = sandbox.base_url(); // e.g. http://127.0.0.1:41234
//! assert!(base.starts_with("http://127.0.0.1:"));
//! assert_eq!(sandbox.issuer(), format!("{base}/")); // the grant's `aud`
//! assert_eq!(sandbox.token_endpoint(), format!("{base}/token"));
//! let vendor = seeded_orgs()[0].org_no;
//! assert_eq!(vendor.len(), 9);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! With [`SandboxConfig::state_file`] the state survives restarts and may be shared by several
//! processes at once (see below); `altinn-onboard sandbox serve` runs one until SIGINT or
//! SIGTERM ([`SandboxHandle::serve_until_signal`]).
//!
//! # Fidelity
//!
//! Behaviour mirrors the C# code of Altinn/altinn-authentication (controllers and models named at
//! each handler with `// mirrors:`); where the sandbox had to invent, the code says `// guess:`.
//! The crate is independent of altinn-onboard's client code on purpose: a sandbox that merely agrees
//! with our own client would prove nothing.
//!
//! Decisions the real services do not dictate (each also marked `// guess:` where it is made):
//! - The stand-in for the Entity Register knows the seeded organisations ([`seeded_orgs`]) and
//!   every organisation that owns a sandbox client. Any other `partyOrgNo`, valid check digit or
//!   not, gets AUTH-00000, as an org missing from Register does in TT02.
//! - Resources and access packages come from [`catalogue`]: all 223 real access packages with
//!   their real flags, and a dozen resources (verbatim test data of the real services where we
//!   have it). A resource the catalogue lacks is AUTH.VLD-00003, a MaskinportenSchema,
//!   Altinn2Service or Consent resource AUTH.VLD-00017 — what passes here passes in TT02.
//!   [`SandboxConfig::any_resource`] (`sandbox serve --any-resource`) lets any well-formed
//!   unknown resource id through instead, for systems built on resources the sandbox does not seed.
//!   The same catalogues are served on the real public metadata paths
//!   (`/resourceregistry/api/v1/resource/...`, `/accessmanagement/api/v1/meta/info/accesspackages/...`).
//! - Maskinporten scopes: only the scopes in the sandbox's scope list exist; the three
//!   `altinn:authentication/*` vendor scopes go only to registered system vendors (every seeded
//!   organisation but Solsikke Barnehage SA, and any organisation the sandbox does not seed).
//! - The customer's people: each seeded organisation has a few invented people ([`seeded_people`])
//!   with a role, whether they are an access manager (else AUTH-00066) and what they cannot
//!   delegate (AUTH-00016/18/19/20/68 for single rights, AUTH-00053 for packages). The approval
//!   page's log-in is simulated (choose a person); the default is the org's first access
//!   manager, who can delegate everything, so an unattended run approves. `POST
//!   /sandbox/requests/{id}/approve?as=<person>` acts as someone else; a refusal is kept on the
//!   request (still New) and shown by `GET /sandbox/requests/{id}`.
//! - Maskinporten error texts are the documented ones where known; the rest are ours. MP-303 is
//!   `{"error":"invalid_altinn_customer_configuration","error_description":"… (MP-303) …"}`.
//! - Access tokens live 120 s; exchanged Altinn tokens 30 min.
//! - Vendor isolation is stricter than Altinn in one place: the vendor DELETEs of requests and
//!   change requests refuse another vendor's object (AUTH-00011, as the sibling GET answers),
//!   where the real service deletes by id for anyone (see [`vendor_routes`]).
//! - Several processes may share one state file (each CLI command runs the sandbox in-process):
//!   every read and change holds an OS advisory lock on `<state file>.lock` and first reloads
//!   the file if another process changed it, so concurrent changes are all kept.

// Handlers return `Result<_, Response>` to bail out early with the real service's error body;
// the error path is cold and a boxed Response would only add noise.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod admin;
mod altinn;
mod auth;
pub mod catalogue;
pub mod faults;
pub mod files;
mod maskinporten;
mod metadata;
mod models;
mod orgs;
mod problem;
mod scopes;
mod state;
mod ui;
pub mod vendor_routes;

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

pub use catalogue::seeded_resources;
pub use faults::{Fault, FaultPlan, FaultPlanError, FaultReport, FaultRule, RuleCounter};
pub use maskinporten::SANDBOX_METADATA_MEMBER;
pub use orgs::{
    ClientRelation, ClientRole, FACILITATOR_ORG, client_relations, clients_of,
    is_client_administrator, party_uuid,
};
pub use orgs::{
    DelegationReason, Gap, SeedOrg, SeedPerson, default_person, people_of, seeded_orgs,
    seeded_people,
};

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
    /// Let a system's rights name resources the seeded catalogue does not have (any well-formed
    /// id then counts as a delegable resource). Default false: unknown resources are
    /// AUTH.VLD-00003, as in TT02. `sandbox serve --any-resource`.
    pub any_resource: bool,
    /// The base URL others reach this sandbox at (`http://192.168.1.20:8088`): links such as
    /// `confirmUrl`, the Maskinporten issuer and token `iss` use it. `None`: the address the
    /// caller's connection reached (the bind address; for `0.0.0.0`, the interface used).
    /// Requests naming another `Host` than this URL's, a loopback name or the address the
    /// connection reached get 421 Misdirected Request.
    pub public_url: Option<url::Url>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state_file: None,
            any_resource: false,
            public_url: None,
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
    /// More organisations the stand-in for the Entity Register knows, besides the seeded ones
    /// and the owners of clients (valid organisation numbers; tests and benchmarks with many
    /// customers). Nobody is seeded for them: their approver is an access manager who can
    /// delegate everything.
    pub known_orgs: Vec<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            page_size: 50,
            faults: FaultPlan::none(),
            known_orgs: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a sandbox could not start or run.
pub enum SandboxError {
    #[error(
        "could not listen on {addr}: {source}\n  hint: is another program using that port? Use port 0 for any free port"
    )]
    /// The listening socket could not be opened.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    #[error("could not read or write the sandbox state file {path}: {source}")]
    /// The state file (or its lock file) could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    #[error(
        "the sandbox state file {path} is corrupt: {reason}\n  hint: move it away (or delete it) to start with a fresh sandbox"
    )]
    /// The state file is not a sandbox state this program understands.
    CorruptState {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    #[error("sandbox signing key problem: {0}")]
    /// The signing key in the state could not be used.
    Key(String),
    #[error("the sandbox server failed: {0}")]
    /// The server or a helper task failed.
    Server(String),
    #[error(transparent)]
    /// The fault plan given at start is invalid.
    Faults(#[from] FaultPlanError),
}

/// Everything the handlers share.
pub(crate) struct App {
    pub state: Mutex<State>,
    pub key: SigningKey,
    pub state_file: Option<PathBuf>,
    pub any_resource: bool,
    pub page_size: usize,
    /// [`SandboxOptions::known_orgs`].
    pub known_orgs: std::collections::HashSet<String>,
    pub local_addr: SocketAddr,
    /// The state file as we last read or wrote it (to notice other processes' writes).
    pub seen: std::sync::Mutex<state::Seen>,
    /// The fault plan, its counters and the clock offset.
    pub faults: faults::Faults,
    /// The host secret for the administration routes (see [`admin`]).
    pub admin_secret: String,
    /// [`SandboxConfig::public_url`], without a trailing slash.
    pub public_url: Option<String>,
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

    /// Whether the stand-in Register knows `org`: seeded, owner of a client, or named in
    /// [`SandboxOptions::known_orgs`].
    pub fn is_known_org(&self, st: &State, org: &str) -> bool {
        st.is_known_org(org) || self.known_orgs.contains(org)
    }

    /// Canonical base URL of this server (`http://127.0.0.1:N`).
    pub fn canonical_base(&self) -> String {
        canonical_base(self.local_addr)
    }

    /// Write the state file (if any) and count a new generation in the lock file. Called with
    /// the guard from [`App::lock`] held, so writes are ordered, also between processes.
    pub async fn persist(&self, state: &State) -> Result<(), SandboxError> {
        let Some(path) = self.state_file.clone() else {
            return Ok(());
        };
        let bytes = state::serialize(state)?;
        let generation = self.seen().generation + 1;
        let written = path.clone();
        let stamp = tokio::task::spawn_blocking(move || {
            state::save_atomically(&written, &bytes)?;
            state::write_generation(&written, generation).map_err(|source| SandboxError::Io {
                path: state::lock_path(&written),
                source,
            })?;
            Ok::<_, SandboxError>(state::FileStamp::of(&written))
        })
        .await
        .map_err(|e| SandboxError::Server(format!("state writer task failed: {e}")))??;
        self.remember(state::Seen { generation, stamp });
        Ok(())
    }

    fn seen(&self) -> state::Seen {
        self.seen.lock().map(|s| *s).unwrap_or_default()
    }

    fn remember(&self, seen: state::Seen) {
        if let Ok(mut s) = self.seen.lock() {
            *s = seen;
        }
    }

    /// Take the state for a read or a read-modify-write. With a state file this is also the
    /// lock between processes (several CLI commands each run the sandbox in-process on one
    /// file): the OS advisory lock on `<state file>.lock` is held until the guard drops, and if
    /// another process committed a change since we last read or wrote the file, its version is
    /// loaded first. So every change is applied to the latest state and nothing is lost.
    pub async fn lock(&self) -> StateGuard<'_> {
        let mut st = self.state.lock().await;
        let Some(path) = &self.state_file else {
            return StateGuard {
                state: st,
                _file_lock: None,
            };
        };
        // Fast path without a thread hop; wait on a blocking thread only when another
        // process holds the lock.
        let file_lock = match state::try_open_locked(path) {
            Ok(Some(f)) => Ok(f),
            Ok(None) => {
                let p = path.clone();
                tokio::task::spawn_blocking(move || state::open_locked(&p))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            }
            Err(e) => Err(e),
        };
        let file_lock = match file_lock {
            Ok(f) => f,
            Err(e) => {
                // Better to serve unlocked (the old last-writer-wins) than to fail every call.
                tracing::warn!(
                    "could not lock {}: {e}; other processes' changes may be lost",
                    state::lock_path(path).display()
                );
                return StateGuard {
                    state: st,
                    _file_lock: None,
                };
            }
        };
        let current = state::seen_now(path, &file_lock);
        if current.stamp.is_some() && current != self.seen() {
            match state::load(path) {
                // Only adopt a file signed by the same key; tokens must keep verifying.
                Ok(Some(fresh)) if fresh.signing_key_pem == st.signing_key_pem => {
                    tracing::debug!("state file changed on disk; reloaded it");
                    *st = fresh;
                }
                _ => tracing::warn!(
                    "the sandbox state file changed on disk but could not be adopted; keeping this process's state"
                ),
            }
            self.remember(current);
        }
        StateGuard {
            state: st,
            _file_lock: Some(file_lock),
        }
    }
}

/// The sandbox's state, held: in-process by the mutex, between processes by the lock file
/// (released when this drops).
pub(crate) struct StateGuard<'a> {
    state: tokio::sync::MutexGuard<'a, State>,
    _file_lock: Option<std::fs::File>,
}

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
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

/// The address of this server that a connection reached (the socket's local address): with
/// `--bind 0.0.0.0` it says which interface the caller used, which no header can forge.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalAddr(pub SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for LocalAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        let fallback = *stream.remote_addr();
        LocalAddr(stream.io().local_addr().unwrap_or(fallback))
    }
}

/// The address this request's connection reached, or the listening address.
fn reached(parts: &Parts, app: &App) -> SocketAddr {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<LocalAddr>>()
        .map(|c| c.0.0)
        .unwrap_or(app.local_addr)
}

/// The base URL links, the issuer and token `iss` are built from (issue 16, item 11): the
/// configured public URL, else the address the connection reached (never the `Host` header,
/// which the caller chooses: `Host: evil.example` once put another host into `confirmUrl`).
/// The second field is the base as the caller named this server (`Host`, already checked by
/// [`check_host`] to be one of ours), which a grant's `aud` may also name (a client configured
/// with `http://localhost:N/`).
pub(crate) struct Base(pub String, pub Option<String>);

impl FromRequestParts<Shared> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Self::Rejection> {
        let reached = reached(parts, app);
        let named = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| host_is_ours(h, app, reached))
            .map(|h| format!("http://{}", h.trim().to_ascii_lowercase()));
        Ok(Base(
            match &app.public_url {
                Some(u) => u.clone(),
                None => canonical_base(reached),
            },
            named,
        ))
    }
}

/// The `Host` names this server answers to: the public URL's authority, a loopback name or the
/// address the connection reached, each with the port (LAN workshops use the host's address;
/// `localhost` and `127.0.0.1` always work on the host itself). Anything else is for another
/// server: 421 Misdirected Request (RFC 9110 §15.5.20). A request without `Host` is allowed.
fn host_is_ours(host: &str, app: &App, reached: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if let Some(public) = app
        .public_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        && let Some(name) = public.host_str()
    {
        let port = public.port_or_known_default().unwrap_or(80);
        let with_port = format!("{}:{port}", name.to_ascii_lowercase());
        if host == with_port || (public.port().is_none() && host == name.to_ascii_lowercase()) {
            return true;
        }
    }
    // Our own port, as seen on the reached address (a port-forward needs --public-url).
    let port = reached.port();
    let Some(name) = host.strip_suffix(&format!(":{port}")) else {
        return false;
    };
    let ip = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || ip
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip == reached.ip() || ip == app.local_addr.ip())
}

/// Refuse requests addressed to another host (see [`host_is_ours`]).
async fn check_host(
    axum::extract::State(app): axum::extract::State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let reached = req
        .extensions()
        .get::<axum::extract::ConnectInfo<LocalAddr>>()
        .map(|c| c.0.0)
        .unwrap_or(app.local_addr);
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}").to_string());
    match host {
        Some(h) if !host_is_ours(&h, &app, reached) => problem::sandbox_error(
            axum::http::StatusCode::MISDIRECTED_REQUEST,
            "misdirected_request",
            format!(
                "This sandbox answers as {}, not as the Host this request named; use that URL (a sandbox reached under another name needs `sandbox serve --public-url`)",
                app.public_url
                    .clone()
                    .unwrap_or_else(|| canonical_base(reached))
            ),
        ),
        _ => next.run(req).await,
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

    /// Which sandbox this is: the same for every process and restart that uses the same state
    /// (it is the kid of the state's signing key), different for a sandbox with other state,
    /// e.g. one started without a state file. Also served at `GET /sandbox/info`.
    pub fn instance_id(&self) -> String {
        self.app.key.kid.clone()
    }

    /// The host secret (random per start): `Authorization: Bearer <secret>` may change the
    /// fault plan and any client (see [`admin`]). Print it for the host; keep it from others.
    pub fn admin_secret(&self) -> &str {
        &self.app.admin_secret
    }

    /// The socket address the sandbox listens on (with the port picked for port 0).
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

    /// Test hook, not on any HTTP route: move a request's creation time `days` into the past,
    /// as if it had waited that long (Altinn reports a request older than 180 days with
    /// `timedOut: true` while its status stays `New`, RequestRepository.cs:23, 473-476).
    /// Returns false when there is no request (standard or agent) with that id.
    pub async fn backdate_request(&self, id: &str, days: i64) -> bool {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return false;
        };
        let mut st = self.app.lock().await;
        let Some(r) = st.requests.get_mut(&id) else {
            return false;
        };
        r.created -= chrono::Duration::days(days);
        if let Err(e) = self.app.persist(&st).await {
            tracing::warn!("could not save the sandbox state: {e}");
        }
        true
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

impl SandboxHandle {
    /// Serve until the process gets SIGINT (Ctrl-C) or SIGTERM, then [`shutdown`](Self::shutdown)
    /// (in-flight requests finish, the state file is saved). For a long-running sandbox such
    /// as `altinn-onboard sandbox serve`.
    ///
    /// The signal handlers are installed when this is called, not when the future is first
    /// polled: a caller that announces its address after calling it cannot be killed by a
    /// signal that arrives in between (the default action of both signals ends the process).
    /// Needs a Tokio runtime.
    pub fn serve_until_signal(self) -> impl Future<Output = Result<(), SandboxError>> + Send {
        let signals = Signals::install();
        async move {
            let result = signals.recv().await;
            self.shutdown().await;
            result
        }
    }
}

/// SIGINT and SIGTERM (Ctrl-C only where there is no SIGTERM).
struct Signals {
    #[cfg(unix)]
    handlers: std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                handlers: signal(SignalKind::interrupt())
                    .and_then(|int| Ok((int, signal(SignalKind::terminate())?))),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn recv(self) -> Result<(), SandboxError> {
        let failed = |e: std::io::Error| {
            SandboxError::Server(format!("could not wait for a stop signal: {e}"))
        };
        #[cfg(unix)]
        {
            let (mut int, mut term) = self.handlers.map_err(failed)?;
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT: stopping the sandbox"),
                _ = term.recv() => tracing::info!("SIGTERM: stopping the sandbox"),
            }
            Ok(())
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.map_err(failed)
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
    let (state, seen) =
        tokio::task::spawn_blocking(move || state::load_or_create(state_file.as_deref()))
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
        any_resource: config.any_resource,
        page_size: options.page_size.max(1),
        known_orgs: options.known_orgs.iter().cloned().collect(),
        local_addr,
        seen: std::sync::Mutex::new(seen),
        faults: faults::Faults::new(options.faults),
        admin_secret: admin::new_host_secret(),
        public_url: config
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_string()),
    });
    let router = routes(app.clone());
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<LocalAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown_rx.await;
        })
        .await
    });
    tracing::info!(
        base = %canonical_base(local_addr),
        persisted = config.state_file.is_some(),
        any_resource = config.any_resource,
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

/// `GET /sandbox/info`: `{"instance_id", "persisted"}`. The instance id names the state (the
/// signing key's kid), so a tool can tell whether the sandbox it reached holds its objects;
/// `persisted` says whether the state outlives the process (a state file).
async fn info(axum::extract::State(app): axum::extract::State<Shared>) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::Json(serde_json::json!({
        "instance_id": app.key.kid,
        "persisted": app.state_file.is_some(),
    }))
    .into_response()
}

/// THE route table. Every entry names what it mirrors, so a reader can check them one by one.
/// `AA` = Altinn/altinn-authentication, controllers under src/Authentication/Controllers/.
fn routes(app: Shared) -> Router {
    const V1: &str = "/authentication/api/v1";
    let r = Router::new()
        // ---- Maskinporten (maskinporten.rs) ----
        // mirrors: Maskinporten token endpoint, JWT-bearer grant (RFC 7523) incl. authorization_details
        .route("/token", post(maskinporten::token))
        // mirrors: Maskinporten RFC 8414 metadata, plus the sandbox's self-identification
        //          (extension member `altinn_onboard_sandbox: {version, admin}`; sandbox-only)
        .route("/.well-known/oauth-authorization-server", get(maskinporten::metadata))
        // mirrors: Maskinporten jwks_uri (`/jwk` as in production)
        .route("/jwk", get(maskinporten::jwks))
        // ---- Altinn authentication: token exchange and OIDC metadata (auth.rs) ----
        // mirrors: AA AuthenticationController.ExchangeExternalSystemToken (GET exchange/{tokenProvider})
        .route(&format!("{V1}/exchange/{{provider}}"), get(auth::exchange))
        // mirrors: AA OpenIdController.GetOpenIdConfigurationAsync (issuer of exchanged tokens)
        .route(&format!("{V1}/openid/.well-known/openid-configuration"), get(auth::openid_configuration))
        // mirrors: AA OpenIdController.GetJsonWebKeySetAsync
        .route(&format!("{V1}/openid/.well-known/openid-configuration/jwks"), get(maskinporten::jwks))
        // ---- Public metadata APIs the authentication service consults (metadata.rs; anonymous,
        //      served from catalogue.rs) ----
        // mirrors: RR ResourceController.Search (Altinn/altinn-resource-registry@408d858a
        //          src/Altinn.ResourceRegistry/Controllers/ResourceController.cs:527-532; `[HttpGet("Search")]`,
        //          ASP.NET routes are case-insensitive, so `search` too)
        .route("/resourceregistry/api/v1/resource/search", get(metadata::resource_search))
        .route("/resourceregistry/api/v1/resource/Search", get(metadata::resource_search))
        // mirrors: RR ResourceController.Get (ResourceController.cs:84-111)
        .route("/resourceregistry/api/v1/resource/{id}", get(metadata::resource_get))
        // mirrors: AM PackagesController.Search (Altinn/altinn-authorization-tmp@f7ff53bd2
        //          src/apps/Altinn.AccessManagement/src/Altinn.AccessManagement.Api.Metadata/Controllers/PackagesController.cs:42-79)
        .route("/accessmanagement/api/v1/meta/info/accesspackages/search", get(metadata::package_search))
        // mirrors: AM PackagesController.GetPackage (PackagesController.cs:246-263)
        .route("/accessmanagement/api/v1/meta/info/accesspackages/package/{id}", get(metadata::package_get))
        // mirrors: AM PackagesController.GetPackageByUrn (PackagesController.cs:270-287)
        .route("/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urn}", get(metadata::package_by_urn))
        // mirrors: AM PackagesController.GetPackageResources (PackagesController.cs:294-319)
        .route("/accessmanagement/api/v1/meta/info/accesspackages/package/{id}/resources", get(metadata::package_resources))
        // ---- Digdir's self-service API, public part (scopes.rs; anonymous) ----
        // mirrors: Digdir self-service API GET api/v1/scopes/all (the public scope catalogue on
        //          api.test.samarbeid.digdir.no / api.samarbeid.digdir.no): the sandbox's known
        //          scopes with accessible_for_all, so readiness checks run offline
        .route("/api/v1/scopes/all", get(scopes::all_scopes))
        // ---- Vendor routes: every route below whose path has `/vendor` checks that the object's
        //      system belongs to the caller (token `consumer`) as the real controller does; each
        //      is listed in vendor_routes::VENDOR_ROUTES (refusal + real file:line), which the
        //      isolation property test walks and a unit test keeps in step with this table. ----
        // ---- Altinn system register (SystemRegisterController; altinn/system_register.rs) ----
        // mirrors: AA SystemRegisterController.CreateRegisteredSystem (POST vendor) +
        //          GetListOfRegisteredSystemsForVendor (GET vendor)
        // owner: POST body vendor = caller else 403 (SystemRegisterController.cs:306-309); GET lists own only (:76-92)
        .route(&format!("{V1}/systemregister/vendor"),
            post(altinn::system_register::create_system).get(altinn::system_register::list_systems))
        // mirrors: AA SystemRegisterController.GetRegisteredSystemInfo (GET vendor/{systemId};
        //          unknown -> bare NotFound() SR:140 = RFC 9110 ProblemDetails) +
        //          UpdateWholeRegisteredSystem (PUT; NotFound/BadRequest(string) SR:171,185,200 =
        //          content-negotiated text, JSON string under Accept: application/json) +
        //          SetDeleteOnRegisteredSystem (DELETE). allowedRedirectUrls are stored and returned
        //          as .NET Uri.ToString() writes them (SystemRegisterRepository.cs:163,222,523)
        //          UpdateWholeRegisteredSystem (PUT) + SetDeleteOnRegisteredSystem (DELETE)
        // owner: HasWriteAccess -> 403 empty (SystemRegisterController.cs:143, 177, 426)
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}"),
            get(altinn::system_register::get_system).put(altinn::system_register::update_system).delete(altinn::system_register::delete_system))
        // mirrors: AA SystemRegisterController.UpdateRightsOnRegisteredSystem
        // owner: HasWriteAccess -> 403 empty (SystemRegisterController.cs:345)
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}/rights"), put(altinn::system_register::update_system_rights))
        // mirrors: AA SystemRegisterController.UpdateAccessPackagesOnRegisteredSystem
        // owner: HasWriteAccess -> 403 empty (SystemRegisterController.cs:383)
        .route(&format!("{V1}/systemregister/vendor/{{system_id}}/accesspackages"), put(altinn::system_register::update_system_packages))
        // ---- Altinn system-user requests (RequestSystemUserController; altinn/request.rs) ----
        // mirrors: AA RequestSystemUserController.CreateRequest (POST vendor); a soft-deleted
        //          system is accepted (RSUS:60-64, SystemRegisterRepository.cs:245-282 has no
        //          is_deleted filter)
        // owner: ValidateVendorOrgNo -> AUTH-00011 after the AUTH-00004/6-9 checks (RequestSystemUserService.cs:60-76, 292-311)
        .route(&format!("{V1}/systemuser/request/vendor"), post(altinn::request::create_request))
        // mirrors: AA RequestSystemUserController.CreateAgentRequest (POST vendor/agent); missing
        //          SystemId/PartyOrgNo/AccessPackages -> automatic 400 ValidationProblemDetails
        //          ([Required], CreateAgentRequestSystemUser.cs:31-50), [] -> AUTH-00058 (RSUS:209-212)
        // owner: as CreateRequest (RequestSystemUserService.cs:176-192)
        .route(&format!("{V1}/systemuser/request/vendor/agent"), post(altinn::request::create_agent_request))
        // mirrors: AA RequestSystemUserController.GetRequestByGuid (GET vendor/{requestId}) +
        //          DeleteRequestByRequestId (DELETE vendor/{requestId})
        // owner: GET -> AUTH-00011 (RequestSystemUserService.cs:376, 433-448)
        // stricter than real: RequestSystemUserService.cs:818-827 does no vendor check; DELETE answers as GET
        .route(&format!("{V1}/systemuser/request/vendor/{{request_id}}"),
            get(altinn::request::get_request).delete(altinn::request::delete_request))
        // mirrors: AA RequestSystemUserController.GetAgentSystemUserRequestByGuid (GET vendor/agent/{requestId});
        //          not found (incl. a standard request: RequestRepository.cs:320 filters the type)
        //          -> AUTH-00010 (RSUS:401-405)
        // owner: AUTH-00011 (RequestSystemUserService.cs:412-416)
        .route(&format!("{V1}/systemuser/request/vendor/agent/{{request_id}}"), get(altinn::request::get_agent_request))
        // mirrors: AA RequestSystemUserController.GetRequestByExternalRef
        // owner: AUTH-00011 (RequestSystemUserService.cs:345-349)
        .route(&format!("{V1}/systemuser/request/vendor/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::request::get_request_by_external_ref))
        // mirrors: AA RequestSystemUserController.GetAgentRequestByExternalRef; not found -> AUTH-00010
        //          (RSUS:856-861)
        // owner: AUTH-00011 (RequestSystemUserService.cs:863-867)
        .route(&format!("{V1}/systemuser/request/vendor/agent/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::request::get_agent_request_by_external_ref))
        // mirrors: AA RequestSystemUserController.GetAllRequestsForVendor (paginated, Opaque<Guid> token;
        //          items without confirmUrl, RSU:545-586)
        // owner: AUTH-00011 (RequestSystemUserService.cs:762-772)
        .route(&format!("{V1}/systemuser/request/vendor/bysystem/{{system_id}}"), get(altinn::request::list_requests))
        // mirrors: AA RequestSystemUserController.GetAllAgentRequestsForVendor (items without confirmUrl,
        //          RSU:595-636)
        // owner: AUTH-00011 (RequestSystemUserService.cs:793-803)
        .route(&format!("{V1}/systemuser/request/vendor/agent/bysystem/{{system_id}}"), get(altinn::request::list_agent_requests))
        // ---- Altinn change requests (ChangeRequestSystemUserController; altinn/change_request.rs) ----
        // mirrors: AA ChangeRequestSystemUserController.CreateChangeRequest (POST vendor?correlation-id&system-user-id;
        //          BadRequest(string) CR:92,115 content-negotiated; another vendor's system user ->
        //          Unauthorized() CR:122 = 401 RFC 9110 ProblemDetails)
        // owner: system user's supplier = caller else 401, after AUTH-00015 (ChangeRequestSystemUserController.cs:106-123)
        .route(&format!("{V1}/systemuser/changerequest/vendor"), post(altinn::change_request::create_change_request))
        // mirrors: AA ChangeRequestSystemUserController.GetChangeRequestByGuid + DeleteChangeRequestByRequestId
        // owner: GET -> AUTH-00011 (ChangeRequestSystemUserService.cs:231-235)
        // stricter than real: ChangeRequestSystemUserService.cs:492-501 does no vendor check; DELETE answers as GET
        .route(&format!("{V1}/systemuser/changerequest/vendor/{{request_id}}"),
            get(altinn::change_request::get_change_request).delete(altinn::change_request::delete_change_request))
        // mirrors: AA ChangeRequestSystemUserController.GetChangeRequestByExternalRef
        // owner: AUTH-00011 (ChangeRequestSystemUserService.cs:201-205)
        .route(&format!("{V1}/systemuser/changerequest/vendor/byexternalref/{{system_id}}/{{org_no}}/{{external_ref}}"),
            get(altinn::change_request::get_change_request_by_external_ref))
        // mirrors: AA ChangeRequestSystemUserController.GetAllChangeRequestsForVendor (items without
        //          confirmUrl, CR:340-381)
        // owner: AUTH-00011 (ChangeRequestSystemUserService.cs:473-483)
        .route(&format!("{V1}/systemuser/changerequest/vendor/bysystem/{{system_id}}"), get(altinn::change_request::list_change_requests))
        // ---- Altinn system users (SystemUserController; altinn/system_user.rs) ----
        // mirrors: AA SystemUserController.GetAllSystemUsersByVendorSystem (paginated, Opaque<long> token)
        // owner: AUTH-00011 (SystemUserService.cs:292-302)
        .route(&format!("{V1}/systemuser/vendor/bysystem/{{system_id}}"), get(altinn::system_user::list_system_users))
        // mirrors: AA SystemUserController.GetSingleSystemUserForVendor (GET vendor/byquery; not found ->
        //          bare NotFound() SU:274 = RFC 9110 ProblemDetails)
        // owner: supplier = caller else 404 (SystemUserController.cs:268-274)
        .route(&format!("{V1}/systemuser/vendor/byquery"), get(altinn::system_user::system_user_by_query))
        // ---- The facilitator's clients for agent system users (SystemUserClientDelegationController,
        //      SUCD; altinn/client_delegation.rs). An end-user token (simulated ID-porten, exchanged)
        //      with altinn:clientdelegations.read/.write; the PDP on altinn_client_administration. ----
        // mirrors: AA SUCD.GetAllAgentSystemUsersForParty (SystemUserClientDelegationController.cs:287-309)
        .route(&format!("{V1}/enduser/systemuser/agents"), get(altinn::client_delegation::list_agents))
        // mirrors: AA SUCD.GetAvailableClientsForDelegation (SystemUserClientDelegationController.cs:45-97)
        .route(&format!("{V1}/enduser/systemuser/clients/available"), get(altinn::client_delegation::available))
        // mirrors: AA SUCD.GetClientsDelegatedToSystemUser (:104-155) + DelegateClientToSystemUser
        //          (:164-217) + RemoveClientFromSystemUser (:226-277)
        .route(&format!("{V1}/enduser/systemuser/clients"),
            get(altinn::client_delegation::delegated).post(altinn::client_delegation::add).delete(altinn::client_delegation::remove))
        // ---- The customer's approval pages (Altinn AM UI; what confirmUrl points at; ui.rs,
        //      decisions in altinn/decision.rs) ----
        // mirrors: AM UI /accessmanagement/ui/systemuser/request?id= (RequestSystemUserController.CONFIRMURL_STANDARD_REQUEST)
        .route("/accessmanagement/ui/systemuser/request", get(ui::page_request).post(ui::decide_request))
        // mirrors: AM UI /accessmanagement/ui/systemuser/agentrequest?id= (CONFIRMURL_AGENTREQUEST)
        .route("/accessmanagement/ui/systemuser/agentrequest", get(ui::page_agent_request).post(ui::decide_agent_request))
        // sandbox: the AM UI's client administration for an agent system user (what Altinn's
        //          system-access overview offers as "Add clients"), incl. the facilitator's own
        //          organisation (SystemUserController.cs:500-530, "self"); ui.rs + client_delegation.rs
        .route("/accessmanagement/ui/systemuser/agentclients", get(ui::page_agent_clients).post(ui::change_agent_clients))
        // mirrors: AM UI /accessmanagement/ui/systemuser/changerequest?id= (ChangeRequestSystemUserController.CONFIRMURL2)
        .route("/accessmanagement/ui/systemuser/changerequest", get(ui::page_change_request).post(ui::decide_change_request))
        // ---- Sandbox-only administration (Digdir self-service and the customer's clicks) ----
        // sandbox: create a Maskinporten client (client id, vendor org, scopes, public JWKs)
        .route("/sandbox/clients", post(ui::create_client))
        // sandbox: read a client; delete it (the portal's "delete client")
        .route("/sandbox/clients/{client_id}", get(ui::get_client).delete(ui::delete_client))
        // sandbox: POST adds keys (rotation step 1), PUT replaces the whole key set (like DCR's PUT /clients/{id}/jwks)
        .route("/sandbox/clients/{client_id}/jwks", post(ui::add_client_keys).put(ui::replace_client_keys))
        // sandbox-only: replace a client's scopes (the portal's "edit scopes")
        .route("/sandbox/clients/{client_id}/scopes", put(ui::replace_client_scopes))
        // sandbox: the seeded organisations
        .route("/sandbox/orgs", get(ui::list_orgs))
        // sandbox: the stand-in for ID-porten, a simulated person log-in (`?as=<person>`, as on
        //          the approval page); exchange its token at {V1}/exchange/id-porten (auth.rs)
        .route("/sandbox/idporten/token", post(auth::idporten_token))
        // sandbox: which sandbox this is (clients tell a restarted or other sandbox from theirs)
        .route("/sandbox/info", get(info))
        // sandbox: act as the customer (standard, agent and change requests); mirrors the effect of
        //          AA RequestSystemUserController.ApproveSystemUserRequest / RejectSystemUserRequest,
        //          the agent variants and ChangeRequestSystemUserController approve/reject
        //          (RSU:437-455, 491-509; CR:314-331), as a seeded person of the customer
        //          (`?as=`; default its access manager), with the approval checks of
        //          SystemUserService (altinn/decision.rs names each file:line)
        .route("/sandbox/requests/{request_id}/approve", post(ui::admin_approve))
        .route("/sandbox/requests/{request_id}/reject", post(ui::admin_reject))
        // sandbox-only: a request's status and why its last approval was refused
        //          (`{id, kind, status, partyOrgNo, lastRefusal}`); no real counterpart
        .route("/sandbox/requests/{request_id}", get(ui::admin_request_state))
        // sandbox: the fault plan (PUT replaces it, GET shows it with counters, DELETE clears
        //          it); never faulted itself
        .route(faults::FAULTS_PATH, get(faults::get_plan).put(faults::put_plan).delete(faults::delete_plan))
        // ---- Reference API ----
        // sandbox: who is calling, for a system-user token
        .route("/reference/whoami", get(ui::whoami))
        // sandbox: may the system user in the token act for this organisation? 200 (Permit) or
        //          403 (NotApplicable), as an API provider asks Altinn's PDP with
        //          urn:altinn:systemuser:uuid + urn:altinn:organization:identifier-no
        //          (test/...SystemIntegrationTests/Resources/Testdata/AccessManagement/systemUserDecision.json)
        .route("/reference/clients/{org}", get(ui::act_for))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        // sandbox: fault injection over every route (after routing, so rules can name a route
        // template); a no-op while the plan is empty
        .layer(axum::middleware::from_fn_with_state(app.clone(), faults::inject))
        // sandbox: answer only requests addressed to this sandbox (421 otherwise; issue 16)
        .layer(axum::middleware::from_fn_with_state(app.clone(), check_host));
    // Unknown routes: axum's 404 with an empty body, as ASP.NET answers (no endpoint, no
    // status-code-pages middleware). Every vendor action answers a missing vendor in the token
    // with `Unauthorized()` (RSU:226 etc.), a 401 RFC 9110 ProblemDetails; failed
    // authentication and scope policies stay 401/403 with empty bodies.
    r.with_state(app)
}
