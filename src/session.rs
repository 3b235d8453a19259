//! A session: the resolved environment, the effect runner for it, and, for the default
//! sandbox, the sandbox itself (an already running `sandbox serve` when there is one, else one
//! started in-process for the session's lifetime with its state in the data directory, so
//! successive commands see the same clients, systems and requests).
//!
//! A profile remembers which sandbox holds its objects (its *binding*: the sandbox's instance
//! id, which names its state, and where it was reached), so a `sandbox serve` that holds other
//! state does not take the profile over: the profile's own sandbox is preferred over
//! discovery, and when it cannot be reached the session says where the objects are and how to
//! get them back, instead of failing later with "Client not found".

use crate::env::{EnvError, EnvKind, EnvSetting, Environment};
use crate::maskinporten::TokenCache;
use crate::profile::ProfileStore;
use crate::runner::Runner;
use crate::sandbox::{self, SandboxConfig, SandboxHandle};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(
        "could not start the embedded sandbox: {0}\n  hint: if its state file is damaged, move {1} away"
    )]
    Sandbox(String, String),
    #[error(transparent)]
    Http(#[from] crate::http::ClientError),
    /// The profile's objects live in a sandbox that is not the one reached.
    #[error("{0}")]
    Elsewhere(String),
}

/// Which sandbox holds a profile's objects (implicit sandbox only; custom URLs name theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxBinding {
    /// The sandbox's instance id (`GET /sandbox/info`): the same for every run on one state.
    pub instance_id: String,
    /// The `sandbox serve` it was reached at; `None` for the embedded sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether that sandbox keeps its state in a file (one without forgets all when stopped).
    #[serde(default)]
    pub persisted: bool,
}

/// `data/bindings/<profile>.json`: kept beside the profile rather than in it, because only the
/// session reads and writes it, whatever the command or wizard does with the profile.
pub fn binding_path(store: &ProfileStore, profile: &str) -> PathBuf {
    store
        .data_dir()
        .join("bindings")
        .join(format!("{profile}.json"))
}

pub fn read_binding(store: &ProfileStore, profile: &str) -> Option<SandboxBinding> {
    let text = crate::files::read_to_string_capped(
        &binding_path(store, profile),
        crate::files::MAX_SMALL_FILE,
    )
    .ok()?;
    serde_json::from_str(&text).ok()
}

fn write_binding(store: &ProfileStore, profile: &str, b: &SandboxBinding) {
    let path = binding_path(store, profile);
    if let Ok(bytes) = serde_json::to_vec_pretty(b)
        && let Err(e) = crate::profile::write_atomic(&path, &bytes, 0o600)
    {
        tracing::warn!(error = %e, path = %path.display(), "could not record the profile's sandbox");
    }
}

/// How to open a session.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Registering the client again (`client set`): a profile whose sandbox is gone may move
    /// to the sandbox reached now instead of failing.
    pub rebind: bool,
}

/// Written by `sandbox serve` so that other commands on this machine find it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerFile {
    pub url: String,
    pub pid: u32,
    /// The sandbox's host secret (the file is 0600: only this user reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_secret: Option<String>,
}

pub fn server_file_path(store: &ProfileStore) -> PathBuf {
    store.data_dir().join("sandbox-server.json")
}

pub struct Session {
    pub env: Environment,
    pub runner: Arc<Runner>,
    pub store: Arc<ProfileStore>,
    sandbox: Option<SandboxHandle>,
    /// Where the sandbox came from, for messages.
    pub sandbox_origin: Option<String>,
    /// The profile moved to another sandbox (see [`OpenOptions::rebind`]): what it had made in
    /// the old one (system registration, requests) is not in this one.
    pub rebound: bool,
}

/// A `sandbox serve` found through the server file.
struct Running {
    url: String,
    /// `None` for a server without `/sandbox/info` (an older build).
    info: Option<Info>,
    /// Its host secret, when it recorded one in the server file.
    admin_secret: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Info {
    instance_id: String,
    #[serde(default)]
    persisted: bool,
}

impl Session {
    pub async fn open(
        setting: &EnvSetting,
        store: Arc<ProfileStore>,
        profile: &str,
    ) -> Result<Session, SessionError> {
        Self::open_with(setting, store, profile, OpenOptions::default()).await
    }

    pub async fn open_with(
        setting: &EnvSetting,
        store: Arc<ProfileStore>,
        profile: &str,
        opts: OpenOptions,
    ) -> Result<Session, SessionError> {
        // The sandbox's host secret, when this process knows it (see `Runner::with_sandbox_secret`).
        let mut secret = None;
        let (env, sandbox, origin, rebound) = match setting.resolve()? {
            Some(env) => (env, None, None, false),
            None => {
                let (reached, origin, rebound) = open_sandbox(&store, profile, opts).await?;
                let (env, handle) = match reached {
                    Reached::Server(url, admin_secret) => {
                        secret = admin_secret.map(crate::secret::Secret::new);
                        (
                            Environment::from_parts(EnvKind::Sandbox, &format!("{url}/"), &url)?,
                            None,
                        )
                    }
                    Reached::Embedded(handle) => {
                        secret = Some(crate::secret::Secret::new(
                            handle.admin_secret().to_string(),
                        ));
                        (
                            Environment::from_parts(
                                EnvKind::Sandbox,
                                &handle.issuer(),
                                &handle.base_url(),
                            )?,
                            Some(handle),
                        )
                    }
                };
                (env, handle, Some(origin), rebound)
            }
        };
        let cache = Arc::new(TokenCache::with_file(store.token_cache_path(profile)));
        let runner =
            Arc::new(Runner::new(env.clone(), store.clone(), cache)?.with_sandbox_secret(secret));
        Ok(Session {
            env,
            runner,
            store,
            sandbox,
            sandbox_origin: origin,
            rebound,
        })
    }

    /// A sandbox the user shares with others (a `sandbox serve`, or a custom server), as
    /// opposed to the embedded one this process runs for this data directory alone.
    pub fn shared_sandbox(&self) -> bool {
        matches!(self.env.kind, EnvKind::Sandbox | EnvKind::Custom) && self.sandbox.is_none()
    }

    /// True when this process hosts the sandbox (it goes away when the session ends).
    pub fn hosts_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// Stop an in-process sandbox (persisting its state).
    pub async fn close(self) {
        if let Some(h) = self.sandbox {
            h.shutdown().await;
        }
    }
}

enum Reached {
    /// A running `sandbox serve`: its URL and host secret (from the server file, 0600).
    Server(String, Option<String>),
    Embedded(SandboxHandle),
}

async fn start_embedded(store: &ProfileStore) -> Result<SandboxHandle, SessionError> {
    let state = store.sandbox_state_path();
    let config = SandboxConfig {
        state_file: Some(state.clone()),
        ..SandboxConfig::default()
    };
    sandbox::start(config)
        .await
        .map_err(|e| SessionError::Sandbox(e.to_string(), state.display().to_string()))
}

fn embedded_origin(store: &ProfileStore, handle: &SandboxHandle) -> String {
    format!(
        "started an embedded sandbox at {} (state in {})",
        handle.base_url(),
        store.sandbox_state_path().display()
    )
}

/// The implicit sandbox for `profile`: its bound one when reachable (a running `sandbox serve`
/// with the same instance id, else the embedded one when that is it), else, for a profile not
/// bound yet, a running `sandbox serve` or the embedded one, as before bindings existed.
async fn open_sandbox(
    store: &ProfileStore,
    profile: &str,
    opts: OpenOptions,
) -> Result<(Reached, String, bool), SessionError> {
    let bound = read_binding(store, profile);
    let running = find_running_sandbox(store).await;
    let running_id = running
        .as_ref()
        .and_then(|r| r.info.as_ref().map(|i| i.instance_id.clone()));
    let state_path = store.sandbox_state_path();

    let Some(bound) = bound else {
        // Not bound yet: a new profile, or one from before bindings (bound on this first use).
        if let Some(r) = &running {
            // A profile that made its client in the embedded sandbox must not be taken over by
            // a `sandbox serve` that never saw it (one started without --state knows nothing).
            let known = match profile_client_id(store, profile) {
                Some(id) => server_knows_client(&r.url, &id).await,
                None => true,
            };
            if known {
                if let Some(info) = &r.info {
                    write_binding(store, profile, &binding_for_server(&r.url, info));
                }
                return Ok((
                    Reached::Server(r.url.clone(), r.admin_secret.clone()),
                    format!("using the sandbox running at {}", r.url),
                    false,
                ));
            }
        }
        let handle = start_embedded(store).await?;
        write_binding(store, profile, &binding_for_embedded(&handle));
        let mut origin = embedded_origin(store, &handle);
        if let Some(r) = &running {
            origin.push_str(&format!(
                "\n  note: the sandbox running at {} does not know this profile's client, so it is not used",
                r.url
            ));
        }
        return Ok((Reached::Embedded(handle), origin, false));
    };

    // Bound: the running server when it is that sandbox (e.g. `sandbox serve --state` on the
    // data directory's state file, or the same server still running).
    if let Some(r) = &running
        && running_id.as_deref() == Some(bound.instance_id.as_str())
    {
        if bound.url.as_deref() != Some(r.url.as_str()) && bound.url.is_some() {
            write_binding(
                store,
                profile,
                &SandboxBinding {
                    url: Some(r.url.clone()),
                    ..bound.clone()
                },
            );
        }
        return Ok((
            Reached::Server(r.url.clone(), r.admin_secret.clone()),
            format!(
                "using the sandbox running at {} (it holds this profile's objects)",
                r.url
            ),
            false,
        ));
    }
    let handle = start_embedded(store).await?;
    if handle.instance_id() == bound.instance_id {
        let mut origin = embedded_origin(store, &handle);
        if let Some(r) = &running {
            origin.push_str(&format!(
                "\n  note: a `sandbox serve` runs at {url}, but it holds other state{stateless}: this profile's \
                 client, system and requests live in the embedded sandbox, which is used instead. To share \
                 them with a server, stop that one and run `altinn-onboard sandbox serve --state {state}`",
                url = r.url,
                stateless = if r.info.as_ref().is_some_and(|i| !i.persisted) { " (it was started without --state)" } else { "" },
                state = state_path.display(),
            ));
        }
        return Ok((Reached::Embedded(handle), origin, false));
    }

    // Neither is the profile's sandbox.
    let lives = match &bound.url {
        Some(u) => format!(
            "in the sandbox served at {u} (instance {}{})",
            bound.instance_id,
            if bound.persisted {
                ""
            } else {
                ", started without --state"
            }
        ),
        None => format!(
            "in the embedded sandbox (instance {}, state in {})",
            bound.instance_id,
            state_path.display()
        ),
    };
    let mut reached = Vec::new();
    if let Some(r) = &running {
        reached.push(format!(
            "the sandbox at {} is instance {}",
            r.url,
            running_id.as_deref().unwrap_or("unknown (an older build)")
        ));
    }
    reached.push(format!(
        "the embedded sandbox (state in {}) is instance {}",
        state_path.display(),
        handle.instance_id()
    ));
    if opts.rebind {
        // Registering again: move the profile to the sandbox reached now.
        let (to, origin) = match &running {
            Some(r) => {
                handle.shutdown().await;
                if let Some(info) = &r.info {
                    write_binding(store, profile, &binding_for_server(&r.url, info));
                }
                (
                    Reached::Server(r.url.clone(), r.admin_secret.clone()),
                    format!("using the sandbox running at {}", r.url),
                )
            }
            None => {
                write_binding(store, profile, &binding_for_embedded(&handle));
                let o = embedded_origin(store, &handle);
                (Reached::Embedded(handle), o)
            }
        };
        let origin = format!(
            "{origin}\n  note: this profile's objects lived {lives}, which is gone ({}); it now uses this sandbox, \
             so its system and requests must be made here again",
            reached.join("; ")
        );
        return Ok((to, origin, true));
    }
    handle.shutdown().await;
    let fix = match &bound.url {
        Some(_) if bound.persisted => "start that sandbox again with the same state file \
             (`altinn-onboard sandbox serve --state <file>`); or, to start over in the sandbox reached now, \
             run `altinn-onboard client set` (then `system register` and `request create`)"
            .to_string(),
        Some(_) => "a sandbox started without --state forgets everything when it stops, so the objects are gone; \
             `altinn-onboard client set` registers this profile again in the sandbox reached now (then \
             `system register` and `request create`). Start a shared sandbox with --state FILE to keep its objects"
            .to_string(),
        None => format!(
            "the embedded sandbox's state file {} was replaced or removed; if you kept a copy, put it back, \
             or run `altinn-onboard client set` to register this profile again (then `system register` and `request create`)",
            state_path.display()
        ),
    };
    Err(SessionError::Elsewhere(format!(
        "this profile's client, system and requests live {lives}, which is not the sandbox reached: {}\n  hint: {fix}",
        reached.join("; ")
    )))
}

fn binding_for_server(url: &str, info: &Info) -> SandboxBinding {
    SandboxBinding {
        instance_id: info.instance_id.clone(),
        url: Some(url.to_string()),
        persisted: info.persisted,
    }
}

fn binding_for_embedded(handle: &SandboxHandle) -> SandboxBinding {
    SandboxBinding {
        instance_id: handle.instance_id(),
        url: None,
        persisted: true,
    }
}

/// The profile's client id as saved (read only; the caller holds the profile lock).
fn profile_client_id(store: &ProfileStore, profile: &str) -> Option<String> {
    store.load(profile).ok().flatten().and_then(|p| p.client_id)
}

fn probe_client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .ok()
}

async fn server_knows_client(url: &str, client_id: &str) -> bool {
    let Some(probe) = probe_client() else {
        return false;
    };
    probe
        .get(format!("{url}/sandbox/clients/{client_id}"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

/// A `sandbox serve` on this machine that still answers, and which sandbox it is.
async fn find_running_sandbox(store: &ProfileStore) -> Option<Running> {
    let text =
        crate::files::read_capped_nofollow(&server_file_path(store), crate::files::MAX_SMALL_FILE)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())?;
    let file: ServerFile = serde_json::from_str(&text).ok()?;
    let probe = probe_client()?;
    let ok = probe
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            file.url
        ))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false);
    if !ok {
        return None;
    }
    let info = match probe.get(format!("{}/sandbox/info", file.url)).send().await {
        Ok(r) if r.status().is_success() => r.json::<Info>().await.ok(),
        _ => None,
    };
    Some(Running {
        url: file.url,
        info,
        admin_secret: file.admin_secret,
    })
}
