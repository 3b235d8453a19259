//! `tokens serve` and `export` (issue 13): argument types and command bodies, kept in one
//! file so the wiring in `args.rs`/`mod.rs` is two enum variants and two dispatch arms.

use super::output::{ExportOutput, TokensServeOutput};
use crate::app::{AppError, Ctx, exit, shutdown_signal};
use crate::export::{self, Format, InlineKey};
use crate::tokens::{self, TokenService};
use clap::{Args, Subcommand, ValueEnum};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Default port of the token service: fixed, so Postman/Bruno setups keep working.
pub const DEFAULT_PORT: u16 = 7311;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Serve system-user tokens to your own code on loopback (texas-compatible API; the key stays here).
    #[command(
        long_about = "Serve Maskinporten (system-user) tokens to your own code on 127.0.0.1, with the request shape of NAV's \
        token sidecar texas: POST /api/v1/token {\"identity_provider\":\"maskinporten\",\"target\":\"<scopes>\", \
        \"authorization_details\":[...] or \"customer_org\":\"<orgno>\",\"external_ref\":\"...\"}; POST /api/v1/introspect \
        {\"token\":\"...\"}; POST /api/v1/token/exchange for an Altinn token. Callers send the per-run secret as \
        Authorization: Bearer <secret>. Tokens are cached per scopes, customer and externalRef and renewed before \
        they expire. Ctrl-C stops it."
    )]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on. Non-loopback addresses are refused without --allow-non-loopback.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Read the caller secret from this file (mode 0600) instead of generating one per run.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Listen on a non-loopback address: other machines can then ask for tokens (with the secret).
    #[arg(long)]
    pub allow_non_loopback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// appsettings.json for Altinn.ApiClients.Maskinporten, with the system-user context.
    Dotnet,
    /// A Python script (PyJWT, cryptography, requests).
    Python,
    /// A Node 20 ES module (built-in crypto and fetch).
    Node,
    /// A bash script (openssl, curl).
    Curl,
    /// A file of environment variables.
    Env,
}

impl From<ExportFormat> for Format {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Dotnet => Format::Dotnet,
            ExportFormat::Python => Format::Python,
            ExportFormat::Node => Format::Node,
            ExportFormat::Curl => Format::Curl,
            ExportFormat::Env => Format::Env,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the PRIVATE KEY itself into the output (default: only its path). Needs --out; the file is written 0600.
    #[arg(long, requires = "out")]
    pub inline_key: bool,
}

pub async fn run(ctx: &Ctx, cmd: TokensCommand) -> Result<i32, AppError> {
    match cmd {
        TokensCommand::Serve(a) => serve(ctx, a).await,
    }
}

async fn serve(ctx: &Ctx, a: ServeArgs) -> Result<i32, AppError> {
    let addr = SocketAddr::new(a.bind, a.port);
    tokens::bind_allowed(&addr, a.allow_non_loopback).map_err(AppError::usage)?;
    let (secret, generated) = match &a.secret_file {
        Some(path) => (
            tokens::read_secret_file(path).map_err(AppError::usage)?,
            false,
        ),
        None => (tokens::generate_secret(), true),
    };
    // The profile is read once; the service does not hold its lock (it runs for hours).
    let (profile, env) = ctx.profile_and_env()?;
    let session = ctx.session(&env).await?;
    let r = async {
        let creds = session.runner.credentials(&profile)?;
        let service = Arc::new(
            TokenService::new(&session.env, creds)
                .map_err(|e| AppError::usage(e.to_string()))?,
        );
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| AppError::new(exit::NETWORK, format!("cannot listen on {addr}: {e}")))?;
        let handle = tokens::start(service, &secret, listener)
            .await
            .map_err(|e| AppError::new(exit::NETWORK, e.to_string()))?;
        let url = handle.base_url();
        let default_customer = profile.current_request().map(|r| super::output::TokensCustomer {
            customer_org: r.customer_org.clone(),
            external_ref: r.external_ref.clone(),
        });
        let scope = profile
            .system_user_scope
            .clone()
            .unwrap_or_else(|| profile.scopes.join(" "));
        let v = TokensServeOutput {
            token_endpoint: format!("{url}/api/v1/token"),
            introspection_endpoint: format!("{url}/api/v1/introspect"),
            exchange_endpoint: format!("{url}/api/v1/token/exchange"),
            url: url.clone(),
            environment: env.kind,
            client_id: profile.client_id.clone(),
            scope: scope.clone(),
            profile_request: default_customer,
        };
        ctx.out.result(&v, || {
            let example = match profile.current_request() {
                Some(r) => format!(
                    "{{\"identity_provider\":\"maskinporten\",\"target\":\"{scope}\",\"customer_org\":\"{}\"{}}}",
                    r.customer_org,
                    r.external_ref
                        .as_deref()
                        .map(|x| format!(",\"external_ref\":\"{x}\""))
                        .unwrap_or_default()
                ),
                None => format!("{{\"identity_provider\":\"maskinporten\",\"target\":\"{scope}\"}}"),
            };
            format!(
                "token service for profile {} ({}) listening on {url}\n  POST {url}/api/v1/token       {example}\n  POST {url}/api/v1/introspect  {{\"token\":\"...\"}}\n  POST {url}/api/v1/token/exchange (same body; answers an Altinn token)\n  send Authorization: Bearer <secret>. Ctrl-C stops it.",
                profile.name, env.kind
            )
        });
        // Printed once, on stderr, even with --quiet: without it no caller can use the service.
        if generated {
            eprintln!(
                "caller secret (shown once; use --secret-file to choose your own): {}",
                secret.expose()
            );
        }
        shutdown_signal().await;
        handle.shutdown().await;
        Ok(exit::OK)
    }
    .await;
    session.close().await;
    r
}

pub async fn export(ctx: &Ctx, a: ExportArgs) -> Result<i32, AppError> {
    let format: Format = a.format.into();
    let (profile, env) = ctx.profile_and_env()?;
    let session = ctx.session(&env).await?;
    let r = async {
        if session.hosts_sandbox() {
            ctx.out.info(
                "warning: no `sandbox serve` is running, so these URLs belong to a sandbox that stops when this command \
                 exits. Start `altinn-onboard sandbox serve --port 8080` and export again for URLs that keep working.",
            );
        }
        let inline = if a.inline_key {
            let key = session.runner.key_for(&profile)?;
            Some(InlineKey::from_key(&key).map_err(AppError::usage)?)
        } else {
            None
        };
        let c = export::context(&profile, &session.env, inline).map_err(AppError::usage)?;
        let text = export::render(format, &c).map_err(AppError::usage)?;
        match &a.out {
            Some(path) => {
                let mode = match (a.inline_key, format.is_script()) {
                    (true, true) => 0o700,
                    (true, false) => 0o600,
                    (false, true) => 0o755,
                    (false, false) => 0o644,
                };
                crate::profile::write_atomic(path, text.as_bytes(), mode)
                    .map_err(|e| AppError::usage(format!("cannot write {}: {e}", path.display())))?;
                let v = ExportOutput {
                    format: format.as_str(),
                    out: path.clone(),
                    inline_key: a.inline_key,
                };
                ctx.out.result(&v, || {
                    format!(
                        "wrote {} ({format}){}",
                        path.display(),
                        if a.inline_key { ", with the private key (mode 0600): keep it secret" } else { "" }
                    )
                });
            }
            None => print!("{text}"),
        }
        Ok(exit::OK)
    }
    .await;
    session.close().await;
    r
}
