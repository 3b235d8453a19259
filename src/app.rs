//! What the CLI and the wizard share: the global options, the profile store, output, the
//! error every command ends in and its exit code, profile + environment resolution, opening a
//! session, and stderr logging. `cli` and `tui` both build on this module and never on each
//! other; `main.rs` chooses between them.

use crate::env::{EnvKind, EnvSetting};
use crate::flow::{ErrorKind, Failure, Flow, Msg};
use crate::profile::{Profile, ProfileStore};
use crate::session::Session;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;

/// Documented exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 1;
    pub const REJECTED: i32 = 2;
    pub const NETWORK: i32 = 3;
    pub const REFUSED: i32 = 4;
    pub const PENDING: i32 = 5;
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Profile to use (created on first use).
    #[arg(
        long,
        global = true,
        env = "ALTINN_ONBOARD_PROFILE",
        default_value = "default"
    )]
    pub profile: String,
    /// Environment: sandbox, tt02, prod or custom. Defaults to the profile's (sandbox for a new one).
    #[arg(long = "env", global = true, env = "ALTINN_ONBOARD_ENV", value_enum)]
    pub environment: Option<EnvArg>,
    /// Maskinporten issuer URL (the grant's aud; token endpoint is <issuer>token).
    #[arg(long, global = true, env = "ALTINN_ONBOARD_MASKINPORTEN_URL")]
    pub maskinporten_url: Option<String>,
    /// Altinn platform base URL (the API is under /authentication/api/v1).
    #[arg(long, global = true, env = "ALTINN_ONBOARD_ALTINN_URL")]
    pub altinn_url: Option<String>,
    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only results (no progress or hints on stderr).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvArg {
    Sandbox,
    Tt02,
    Prod,
    Custom,
}

/// An error at the edge: what to print and how to exit. `code` and `status` are the upstream
/// error code (AUTH-00004, MP-303, OAuth `invalid_grant`, ...) and HTTP status when a remote
/// answered, kept apart from the message so scripts need not parse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// The process exit code.
    pub exit_code: i32,
    pub message: String,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub hint: Option<String>,
}

impl AppError {
    pub fn new(exit_code: i32, message: impl Into<String>) -> Self {
        AppError {
            exit_code,
            message: message.into(),
            code: None,
            status: None,
            hint: None,
        }
    }

    pub fn usage(m: impl Into<String>) -> Self {
        AppError::new(exit::USAGE, m)
    }

    /// The `--json` form: one object on stdout.
    pub fn to_json(&self) -> ErrorOutput {
        // Messages carry their hint on a "\n  hint: " line for humans; JSON has a field.
        let (message, inline_hint) = match self.message.split_once("\n  hint: ") {
            Some((m, h)) => (m.to_string(), Some(h.to_string())),
            None => (self.message.clone(), None),
        };
        ErrorOutput {
            error: ErrorBody {
                message,
                code: self.code.clone(),
                status: self.status,
                hint: self.hint.clone().or(inline_hint),
                exit_code: self.exit_code,
            },
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        AppError {
            exit_code: code_for(f.kind),
            message: f.message,
            code: f.code,
            status: f.status,
            hint: None,
        }
    }
}

impl From<&crate::flow::FlowError> for AppError {
    fn from(e: &crate::flow::FlowError) -> Self {
        AppError {
            exit_code: code_for(e.kind),
            message: e.message.clone(),
            code: e.code.clone(),
            status: e.status,
            hint: None,
        }
    }
}

/// `{"error": {...}}`: what every command prints on stdout in `--json` mode when it fails.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorOutput {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub message: String,
    /// Upstream error code, e.g. `AUTH-00004`, `AUTH.VLD-00001`, `invalid_grant`.
    pub code: Option<String>,
    /// HTTP status of the remote's answer.
    pub status: Option<u16>,
    pub hint: Option<String>,
    pub exit_code: i32,
}

pub fn code_for(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Validation | ErrorKind::Local => exit::USAGE,
        ErrorKind::Rejected => exit::REJECTED,
        ErrorKind::Network => exit::NETWORK,
        ErrorKind::Refused => exit::REFUSED,
    }
}

/// Output helper: results to stdout, talk to stderr.
pub struct Out {
    pub json: bool,
    pub quiet: bool,
}

impl Out {
    /// Print a command's result: its typed JSON shape with `--json`, else the human text.
    pub fn result<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce() -> String) {
        let mut stdout = std::io::stdout().lock();
        let text = if self.json {
            serde_json::to_string_pretty(value).unwrap_or_default()
        } else {
            human()
        };
        let _ = writeln!(stdout, "{text}");
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Report a failed command: the JSON error object on stdout with `--json`, and always the
    /// message on stderr.
    pub fn error(&self, e: &AppError) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&e.to_json()).unwrap_or_default()
            );
        }
        eprintln!("error: {}", e.message);
    }
}

/// Everything a command or the wizard needs from the command line.
pub struct Ctx {
    pub out: Out,
    pub store: Arc<ProfileStore>,
    pub global: GlobalArgs,
}

impl Ctx {
    /// The context for these options, with the profile store from the environment.
    pub fn from_env(global: GlobalArgs) -> Result<Ctx, AppError> {
        let store = ProfileStore::from_env().map_err(|e| AppError::usage(e.to_string()))?;
        // Before anything is read or written there (OpenSSH's StrictModes).
        store
            .check_dirs()
            .map_err(|e| AppError::usage(e.to_string()))?;
        Ok(Ctx {
            out: Out {
                json: global.json,
                quiet: global.quiet,
            },
            store: Arc::new(store),
            global,
        })
    }

    /// The environment asked for by flags/env vars, if any.
    fn requested_env(&self) -> Option<EnvSetting> {
        let g = &self.global;
        let kind = g.environment.map(|e| match e {
            EnvArg::Sandbox => EnvKind::Sandbox,
            EnvArg::Tt02 => EnvKind::Tt02,
            EnvArg::Prod => EnvKind::Prod,
            EnvArg::Custom => EnvKind::Custom,
        });
        if kind.is_none() && g.maskinporten_url.is_none() && g.altinn_url.is_none() {
            return None;
        }
        Some(EnvSetting {
            kind: kind.unwrap_or(if g.maskinporten_url.is_some() {
                EnvKind::Custom
            } else {
                EnvKind::Sandbox
            }),
            maskinporten_url: g.maskinporten_url.clone(),
            altinn_url: g.altinn_url.clone(),
        })
    }

    /// Load (or create) the profile and apply flag overrides. A different environment kind
    /// switches the profile (its client, system and requests belong to the old one); other
    /// URL overrides apply to this run only, except for `custom`, which needs them stored.
    pub fn profile_and_env(&self) -> Result<(Profile, EnvSetting), AppError> {
        crate::validate::profile_name(&self.global.profile)
            .map_err(|e| AppError::usage(e.to_string()))?;
        let requested = self.requested_env();
        let existing = self
            .store
            .load(&self.global.profile)
            .map_err(|e| AppError::usage(e.to_string()))?;
        let mut profile = existing.unwrap_or_else(|| {
            Profile::new(
                &self.global.profile,
                requested
                    .clone()
                    .map(|r| EnvSetting::new(r.kind))
                    .unwrap_or_default(),
            )
        });
        let effective = match requested {
            None => profile.environment.clone(),
            Some(req) => {
                if req.kind != profile.environment.kind {
                    let mut flow = Flow::resume(profile.clone());
                    flow.update(Msg::SelectEnvironment(EnvSetting::new(req.kind)));
                    let notice = flow.notice.take().unwrap_or_default();
                    profile = flow.profile;
                    self.out.info(format!(
                        "profile `{}` now uses the {} environment ({notice})",
                        profile.name, req.kind
                    ));
                }
                if req.kind == EnvKind::Custom {
                    profile.environment = req.clone();
                }
                req
            }
        };
        effective
            .resolve()
            .map_err(|e| AppError::usage(e.to_string()))?;
        Ok((profile, effective))
    }

    /// Hold the profile for the whole command (waits, saying so, while another copy has it).
    pub fn lock_profile(&self) -> Result<crate::profile::ProfileLock, AppError> {
        crate::validate::profile_name(&self.global.profile)
            .map_err(|e| AppError::usage(e.to_string()))?;
        self.store
            .lock(&self.global.profile)
            .map_err(|e| AppError::usage(e.to_string()))
    }

    /// Open the session for `env` (on the sandbox, possibly an embedded one).
    pub async fn session(&self, env: &EnvSetting) -> Result<Session, AppError> {
        self.session_with(env, crate::session::OpenOptions::default())
            .await
    }

    pub async fn session_with(
        &self,
        env: &EnvSetting,
        opts: crate::session::OpenOptions,
    ) -> Result<Session, AppError> {
        let s = Session::open_with(env, self.store.clone(), &self.global.profile, opts)
            .await
            .map_err(|e| AppError::usage(e.to_string()))?;
        if let Some(o) = &s.sandbox_origin {
            // An embedded sandbox's address dies with the command: only worth a log line (-v).
            // A running `sandbox serve` stays up, so where it is helps the reader.
            if s.hosts_sandbox() {
                // ... but a note about which sandbox holds the profile's objects (a running
                // `sandbox serve` with other state was passed over) is for the reader.
                match o.split_once("\n  note: ") {
                    Some((line, note)) => {
                        tracing::info!("{line}");
                        self.out.info(format!("note: {note}"));
                    }
                    None => tracing::info!("{o}"),
                }
            } else {
                self.out.info(o);
            }
        }
        Ok(s)
    }

    pub fn save(&self, profile: &mut Profile) -> Result<(), AppError> {
        self.store
            .save(profile)
            .map_err(|e| AppError::usage(e.to_string()))
    }
}

/// Logging: commands log to stderr (warnings by default, more with -v); the wizard logs to a
/// file (set up by the wizard itself) so nothing ever lands on its screen.
pub fn init_logging(global: &GlobalArgs) {
    let level = match global.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("ALTINN_ONBOARD_LOG").unwrap_or_else(|_| {
            // `tokens serve` logs who asked for which token at info: shown by default.
            let access_log = if global.verbose == 0 {
                ",altinn_onboard::tokens::server=info"
            } else {
                ""
            };
            tracing_subscriber::EnvFilter::new(format!("altinn_onboard={level}{access_log}"))
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(stderr_colours())
        .try_init();
}

/// Colour on stderr only for a person at a terminal: never into a pipe, file or CI log, and
/// never when `NO_COLOR` (https://no-color.org) is set to anything non-empty.
pub fn stderr_colours() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Ctrl-C, or SIGTERM from a service manager or `kill`: what long-running commands wait for.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
