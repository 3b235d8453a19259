//! A session: the resolved environment, the effect runner for it, and, for the default
//! sandbox, the sandbox itself (an already running `sandbox serve` when there is one, else one
//! started in-process for the session's lifetime with its state in the data directory, so
//! successive commands see the same clients, systems and requests).

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
}

impl Session {
    pub async fn open(
        setting: &EnvSetting,
        store: Arc<ProfileStore>,
        profile: &str,
    ) -> Result<Session, SessionError> {
        let mut secret = None;
        let (env, sandbox, origin) = match setting.resolve()? {
            Some(env) => (env, None, None),
            None => match find_running_sandbox(&store).await {
                Some(file) => {
                    let url = file.url;
                    secret = file.admin_secret.map(crate::secret::Secret::new);
                    let env = Environment::from_parts(EnvKind::Sandbox, &format!("{url}/"), &url)?;
                    (
                        env,
                        None,
                        Some(format!("using the sandbox running at {url}")),
                    )
                }
                None => {
                    let state = store.sandbox_state_path();
                    let config = SandboxConfig {
                        state_file: Some(state.clone()),
                        ..SandboxConfig::default()
                    };
                    let handle = sandbox::start(config).await.map_err(|e| {
                        SessionError::Sandbox(e.to_string(), state.display().to_string())
                    })?;
                    let env = Environment::from_parts(
                        EnvKind::Sandbox,
                        &handle.issuer(),
                        &handle.base_url(),
                    )?;
                    secret = Some(crate::secret::Secret::new(
                        handle.admin_secret().to_string(),
                    ));
                    let origin = format!(
                        "started an embedded sandbox at {} (state in {})",
                        handle.base_url(),
                        state.display()
                    );
                    (env, Some(handle), Some(origin))
                }
            },
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
        })
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

/// A `sandbox serve` on this machine that still answers.
async fn find_running_sandbox(store: &ProfileStore) -> Option<ServerFile> {
    let text =
        crate::files::read_to_string_capped(&server_file_path(store), crate::files::MAX_SMALL_FILE)
            .ok()?;
    let file: ServerFile = serde_json::from_str(&text).ok()?;
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .ok()?;
    let ok = probe
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            file.url
        ))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false);
    ok.then_some(file)
}
