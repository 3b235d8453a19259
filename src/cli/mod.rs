//! The non-interactive CLI: every wizard step as a subcommand, driving the same flow and
//! effect runner. Results go to stdout (JSON with `--json`); progress, hints and logs to stderr.

pub mod args;
pub mod doctor;
pub mod tokens;

use crate::altinn::client::{SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ};
use crate::altinn::model::{RegisteredSystem, RequestStatus, SystemRegistration};
use crate::env::{EnvKind, EnvSetting};
use crate::flow::{Effect, ErrorKind, Failure, Flow, Msg, RequestForm, SystemForm};
use crate::profile::{Profile, ProfileStore, TestCallRecord};
use crate::session::Session;
use args::*;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Documented exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 1;
    pub const REJECTED: i32 = 2;
    pub const NETWORK: i32 = 3;
    pub const REFUSED: i32 = 4;
    pub const PENDING: i32 = 5;
}

/// An error at the edge: what to print and how to exit.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn usage(m: impl Into<String>) -> Self {
        CliError {
            code: exit::USAGE,
            message: m.into(),
        }
    }
}

impl From<Failure> for CliError {
    fn from(f: Failure) -> Self {
        CliError {
            code: code_for(f.kind),
            message: f.message,
        }
    }
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
    pub fn result(&self, value: &Value, human: impl FnOnce() -> String) {
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
}

pub struct Ctx {
    pub out: Out,
    pub store: Arc<ProfileStore>,
    pub global: GlobalArgs,
}

impl Ctx {
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
    pub fn profile_and_env(&self) -> Result<(Profile, EnvSetting), CliError> {
        crate::validate::profile_name(&self.global.profile)
            .map_err(|e| CliError::usage(e.to_string()))?;
        let requested = self.requested_env();
        let existing = self
            .store
            .load(&self.global.profile)
            .map_err(|e| CliError::usage(e.to_string()))?;
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
                    profile = flow.profile;
                    self.out.info(format!(
                        "profile `{}` now uses the {} environment",
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
            .map_err(|e| CliError::usage(e.to_string()))?;
        Ok((profile, effective))
    }

    /// Hold the profile for the whole command (waits, saying so, while another copy has it).
    pub fn lock_profile(&self) -> Result<crate::profile::ProfileLock, CliError> {
        crate::validate::profile_name(&self.global.profile)
            .map_err(|e| CliError::usage(e.to_string()))?;
        self.store
            .lock(&self.global.profile)
            .map_err(|e| CliError::usage(e.to_string()))
    }

    pub async fn session(&self, env: &EnvSetting) -> Result<Session, CliError> {
        let s = Session::open(env, self.store.clone(), &self.global.profile)
            .await
            .map_err(|e| CliError::usage(e.to_string()))?;
        if let Some(o) = &s.sandbox_origin {
            self.out.info(o);
        }
        Ok(s)
    }

    fn save(&self, profile: &mut Profile) -> Result<(), CliError> {
        self.store
            .save(profile)
            .map_err(|e| CliError::usage(e.to_string()))
    }
}

/// Feed a message to the flow and run the resulting effects to completion (polling and the
/// browser are left to the caller). Returns the flow's error, if any, as a CLI error.
pub async fn drive(flow: &mut Flow, session: &Session, msg: Msg) -> Result<(), CliError> {
    let mut queue: VecDeque<Effect> = flow.update(msg).into();
    while let Some(effect) = queue.pop_front() {
        if matches!(
            effect,
            Effect::PollStatus { .. } | Effect::OpenBrowser { .. }
        ) {
            continue;
        }
        let snapshot = flow.profile.clone();
        if let Some(reply) = session.runner.run(effect, &snapshot).await {
            queue.extend(flow.update(reply));
        }
    }
    match &flow.error {
        Some(e) => Err(CliError {
            code: code_for(e.kind),
            message: e.message.clone(),
        }),
        None => Ok(()),
    }
}

/// Logging: the CLI logs to stderr (warnings by default, more with -v); the wizard logs to a
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
        .try_init();
}

/// Run the CLI; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let out = Out {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    let store = match ProfileStore::from_env() {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let ctx = Ctx {
        out,
        store,
        global: cli.global,
    };
    let result = match cli.command {
        None | Some(Command::Wizard) => crate::tui::run_wizard(&ctx).await,
        Some(cmd) => dispatch(&ctx, cmd).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if ctx.out.json {
                let v = json!({ "error": e.message, "exit_code": e.code });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            eprintln!("error: {}", e.message);
            e.code
        }
    }
}

async fn dispatch(ctx: &Ctx, cmd: Command) -> Result<i32, CliError> {
    match cmd {
        Command::Wizard => unreachable!("handled by run"),
        Command::Keys(k) => keys(ctx, k).await,
        Command::Client(ClientCommand::Set {
            vendor_org,
            client_id,
            scope,
            confirm_uploaded,
        }) => client_set(ctx, vendor_org, client_id, scope, confirm_uploaded).await,
        Command::System(SystemCommand::Register(a)) => system_register(ctx, a).await,
        Command::System(SystemCommand::Show) => system_show(ctx).await,
        Command::Request(RequestCommand::Create {
            agent,
            customer_org,
            external_ref,
            open,
        }) => request_create(ctx, agent, customer_org, external_ref, open).await,
        Command::Request(RequestCommand::Status { id, wait, timeout }) => {
            request_status(ctx, id, wait, timeout).await
        }
        Command::Request(RequestCommand::List) => request_list(ctx).await,
        Command::Token(a) => token(ctx, a).await,
        Command::Call(a) => call(ctx, a).await,
        Command::Profile(p) => profile_cmd(ctx, p),
        Command::Doctor => doctor::run(ctx).await,
        Command::Sandbox(s) => sandbox_cmd(ctx, s).await,
        Command::Tokens(t) => tokens::run(ctx, t).await,
        Command::Export(a) => tokens::export(ctx, a).await,
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "altinn-onboard", &mut std::io::stdout());
            Ok(exit::OK)
        }
    }
}

async fn with_flow<F, Fut>(ctx: &Ctx, f: F) -> Result<i32, CliError>
where
    F: FnOnce(Flow, Session) -> Fut,
    Fut: std::future::Future<Output = (Result<i32, CliError>, Session)>,
{
    // Lock first, then load: a copy that waited for the lock must see the other's changes.
    let _lock = ctx.lock_profile()?;
    let (profile, env) = ctx.profile_and_env()?;
    let session = ctx.session(&env).await?;
    let flow = Flow::resume(profile);
    let (result, session) = f(flow, session).await;
    session.close().await;
    result
}

async fn keys(ctx: &Ctx, cmd: KeysCommand) -> Result<i32, CliError> {
    // Lock first, then load: a copy that waited for the lock must see the other's changes.
    let _lock = ctx.lock_profile()?;
    let (mut profile, _env) = ctx.profile_and_env()?;
    // Key work needs no remote: a runner on any environment will do, so no sandbox is started.
    let runner = crate::runner::Runner::new(
        crate::env::Environment::tt02(),
        ctx.store.clone(),
        Arc::new(crate::maskinporten::TokenCache::in_memory()),
    );
    match cmd {
        KeysCommand::Show { jwks } => {
            let key = runner.key_for(&profile)?;
            let jwk = serde_json::to_value(key.public_jwk()).unwrap_or_default();
            let path = profile.key_path.clone().unwrap_or_default();
            let v = if jwks {
                json!({ "keys": [jwk] })
            } else {
                json!({ "kid": key.kid(), "private_key_path": path, "bits": key.bits(), "public_jwk": jwk })
            };
            ctx.out.result(&v, || {
                if jwks {
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                } else {
                    format!(
                        "kid:  {}\npath: {}\npublic JWK:\n{}",
                        key.kid(),
                        path.display(),
                        serde_json::to_string_pretty(&jwk).unwrap_or_default()
                    )
                }
            });
            Ok(exit::OK)
        }
        KeysCommand::Generate { bits, kid } => {
            let mut flow = Flow::resume(profile.clone());
            let msgs = flow.update(Msg::GenerateKey { bits, kid });
            key_effects(ctx, &runner, &mut flow, msgs).await?;
            profile = flow.profile.clone();
            print_key(ctx, &flow, &profile)
        }
        KeysCommand::Import { source, kid } => {
            let source = if source == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| CliError::usage(format!("reading stdin: {e}")))?;
                s
            } else {
                source
            };
            let mut flow = Flow::resume(profile.clone());
            let msgs = flow.update(Msg::ImportKey {
                source: crate::secret::Secret::new(source),
                kid,
            });
            key_effects(ctx, &runner, &mut flow, msgs).await?;
            profile = flow.profile.clone();
            print_key(ctx, &flow, &profile)
        }
    }
}

async fn key_effects(
    ctx: &Ctx,
    runner: &crate::runner::Runner,
    flow: &mut Flow,
    first: Vec<Effect>,
) -> Result<(), CliError> {
    let mut queue: VecDeque<Effect> = first.into();
    while let Some(e) = queue.pop_front() {
        let snap = flow.profile.clone();
        if let Some(m) = runner.run(e, &snap).await {
            queue.extend(flow.update(m));
        }
    }
    if let Some(e) = &flow.error {
        return Err(CliError {
            code: code_for(e.kind),
            message: e.message.clone(),
        });
    }
    if let Some(w) = flow.key.as_ref().and_then(|k| k.warning.clone()) {
        ctx.out.info(format!("warning: {w}"));
    }
    Ok(())
}

fn print_key(ctx: &Ctx, flow: &Flow, profile: &Profile) -> Result<i32, CliError> {
    let key = flow
        .key
        .as_ref()
        .ok_or_else(|| CliError::usage("no key was produced"))?;
    let v = json!({ "kid": key.kid, "private_key_path": key.path, "public_jwk": key.public_jwk });
    ctx.out.result(&v, || {
        format!(
            "kid:  {}\npath: {} (private key, mode 0600)\npublic JWK (upload this in Maskinporten's self-service portal):\n{}",
            key.kid,
            key.path.display(),
            serde_json::to_string_pretty(&key.public_jwk).unwrap_or_default()
        )
    });
    if profile.environment.kind == EnvKind::Sandbox || profile.environment.kind == EnvKind::Custom {
        ctx.out.info("next: `client set --vendor-org <org>` registers the client with this key in the sandbox");
    } else if let Some(portal) = profile.environment.kind.self_service_portal() {
        ctx.out.info(format!("next: in {portal}, open your Maskinporten client, add the public JWK above as a key, then run `client set --client-id <id> --vendor-org <org> --confirm-uploaded`"));
    }
    Ok(exit::OK)
}

async fn client_set(
    ctx: &Ctx,
    vendor_org: String,
    client_id: Option<String>,
    scope: String,
    confirm: bool,
) -> Result<i32, CliError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            drive(&mut flow, &session, Msg::SubmitClient { vendor_org, client_id: client_id.unwrap_or_default(), scopes: scope }).await?;
            if confirm && !flow.profile.client_registered {
                drive(&mut flow, &session, Msg::ConfirmClientUploaded).await?;
            }
            let p = &flow.profile;
            let v = json!({
                "client_id": p.client_id, "vendor_org": p.vendor_org, "scopes": p.scopes, "kid": p.kid,
                "registered": p.client_registered, "environment": session.env.kind,
            });
            ctx.out.result(&v, || {
                format!(
                    "client id:  {}\nvendor org: {}\nscopes:     {}\nregistered: {}",
                    p.client_id.as_deref().unwrap_or("-"),
                    p.vendor_org.as_deref().unwrap_or("-"),
                    p.scopes.join(" "),
                    if p.client_registered { "yes" } else { "not confirmed (upload the JWK in the portal, then rerun with --confirm-uploaded)" }
                )
            });
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

/// Read a system definition file in the register's own JSON format.
fn system_form_from_file(
    path: &std::path::Path,
    vendor_org: Option<&str>,
) -> Result<SystemForm, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let reg: SystemRegistration = serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{} is not a system definition: {e}\n  hint: expected the register's JSON: {{\"id\": \"<org>_<name>\", \"vendor\": {{\"ID\": \"0192:<org>\"}}, \"name\": {{\"nb\": ...}}, \"description\": {{...}}, \"rights\": [...]}}",
            path.display()
        ))
    })?;
    let name = match (vendor_org, reg.id.split_once('_')) {
        (Some(org), Some((prefix, rest))) if prefix == org => rest.to_string(),
        (Some(org), _) => {
            return Err(CliError::usage(format!(
                "the system id `{}` in {} must start with the vendor org `{org}_`",
                reg.id,
                path.display()
            )));
        }
        (None, Some((_, rest))) => rest.to_string(),
        (None, None) => reg.id.clone(),
    };
    let pick = |m: &std::collections::BTreeMap<String, String>| {
        m.get("nb")
            .or_else(|| m.values().next())
            .cloned()
            .unwrap_or_default()
    };
    Ok(SystemForm {
        name,
        display_name: pick(&reg.name),
        description: pick(&reg.description),
        rights: reg
            .rights
            .iter()
            .filter_map(|r| r.resource_id())
            .collect::<Vec<_>>()
            .join(" "),
        access_packages: reg
            .access_packages
            .iter()
            .map(|p| p.urn.clone())
            .collect::<Vec<_>>()
            .join(" "),
        redirect_urls: reg.allowed_redirect_urls.join(" "),
        is_visible: reg.is_visible,
    })
}

async fn system_register(ctx: &Ctx, a: SystemArgs) -> Result<i32, CliError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let mut form = match (&a.file, flow.profile.system.as_ref()) {
                (Some(f), _) => system_form_from_file(f, flow.profile.vendor_org.as_deref())?,
                (None, Some(spec)) => SystemForm::from_spec(spec),
                (None, None) => SystemForm { is_visible: true, ..Default::default() },
            };
            if let Some(n) = a.name {
                form.name = n;
            }
            if let Some(d) = a.display_name {
                form.display_name = d;
            }
            if let Some(d) = a.description {
                form.description = d;
            }
            if !a.resources.is_empty() {
                form.rights = a.resources.join(" ");
            }
            if !a.access_packages.is_empty() {
                form.access_packages = a.access_packages.join(" ");
            }
            if !a.redirect_urls.is_empty() {
                form.redirect_urls = a.redirect_urls.join(" ");
            }
            if a.invisible {
                form.is_visible = false;
            }
            if form.name.trim().is_empty() {
                return Err(CliError::usage("give the system a name: --name <name> (the id becomes <vendorOrg>_<name>), or --file system.json"));
            }
            if flow.profile.client_id.is_none() {
                return Err(CliError::usage("set up the Maskinporten client first: `client set --vendor-org <org>`"));
            }
            drive(&mut flow, &session, Msg::SubmitSystem(form)).await?;
            let reg = flow.registration.clone().ok_or_else(|| CliError::usage("the registration produced no result"))?;
            let mut v = json!({ "id": reg.system_id, "outcome": reg.outcome, "changes": reg.changes, "client_id": reg.client_id });
            v[reg.outcome.as_str()] = json!(true);
            ctx.out.result(&v, || {
                let mut s = format!("system {}: {}", reg.system_id, reg.outcome);
                for c in &reg.changes {
                    s.push_str(&format!("\n  {c}"));
                }
                s
            });
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

async fn system_show(ctx: &Ctx) -> Result<i32, CliError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let id = flow.profile.system_id().ok_or_else(|| {
                CliError::usage("no system in this profile yet: `system register --name <name>`")
            })?;
            let token = session
                .runner
                .vendor_token(&flow.profile, SCOPE_REGISTER_WRITE, false)
                .await?;
            let sys: Option<RegisteredSystem> = session
                .runner
                .altinn()
                .get_system(&token.token, &id)
                .await
                .map_err(Failure::from)?;
            let sys = sys.ok_or_else(|| CliError {
                code: exit::REJECTED,
                message: format!("system {id} is not in the register (run `system register`)"),
            })?;
            let v = serde_json::to_value(&sys).unwrap_or_default();
            ctx.out
                .result(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

/// A QR code of `text` for a terminal (two rows per character line).
pub fn qr_text(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}

async fn request_create(
    ctx: &Ctx,
    agent: bool,
    customer_org: Option<String>,
    external_ref: Option<String>,
    open: bool,
) -> Result<i32, CliError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let customer = customer_org
                .or_else(|| flow.profile.customer_org.clone())
                .ok_or_else(|| CliError::usage("which customer? --customer-org <org number> (sandbox: `sandbox orgs` lists the seeded ones)"))?;
            drive(&mut flow, &session, Msg::SubmitRequest(RequestForm { customer_org: customer, agent, external_ref: external_ref.unwrap_or_default() })).await?;
            let req = flow.profile.current_request().cloned().ok_or_else(|| CliError::usage("no request was created"))?;
            let v = json!({ "id": req.id, "status": req.status, "confirmUrl": req.confirm_url, "customerOrg": req.customer_org, "externalRef": req.external_ref, "kind": req.kind });
            ctx.out.result(&v, || {
                let url = req.confirm_url.clone().unwrap_or_default();
                format!("request {} is {}\nthe customer approves at:\n  {url}", req.id, req.status)
            });
            if !ctx.out.json && !ctx.out.quiet
                && let Some(qr) = req.confirm_url.as_deref().and_then(qr_text) {
                    eprintln!("{qr}");
                }
            if session.hosts_sandbox() {
                ctx.out.info(format!(
                    "note: the embedded sandbox stops when this command ends, so the page above is gone. Approve with \
                     `altinn-onboard sandbox approve {}`, or run `altinn-onboard sandbox serve` in another terminal first \
                     to get an approval page that stays up.",
                    req.id
                ));
            }
            if open
                && let Some(url) = req.confirm_url.clone()
                    && let Some(crate::flow::Msg::BrowserOpened(Err(f))) = session.runner.run(Effect::OpenBrowser { url }, &flow.profile).await {
                        ctx.out.info(f.message);
                    }
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

async fn request_status(
    ctx: &Ctx,
    id: Option<String>,
    wait: bool,
    timeout: u64,
) -> Result<i32, CliError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let rec = match &id {
                Some(id) => flow.profile.requests.iter().find(|r| &r.id == id).cloned(),
                None => flow.profile.current_request().cloned(),
            };
            let (req_id, agent) = match (&id, rec) {
                (_, Some(r)) => (r.id.clone(), r.kind == crate::profile::RequestKind::Agent),
                (Some(id), None) => (crate::validate::uuid(id).map_err(|e| CliError::usage(e.to_string()))?, false),
                (None, None) => return Err(CliError::usage("no request in this profile yet: `request create --customer-org <org>`")),
            };
            let started = Instant::now();
            let deadline = Duration::from_secs(timeout);
            let mut interval = flow.poll_config.first;
            let update = loop {
                let u = match session.runner.poll_status(&flow.profile, &req_id, agent).await {
                    Ok(u) => u,
                    Err(f) if wait && f.kind == ErrorKind::Network && started.elapsed() < deadline => {
                        ctx.out.info(format!("(retrying) {}", f.message));
                        let left = deadline.saturating_sub(started.elapsed());
                        tokio::time::sleep(interval.min(left)).await;
                        interval = flow.poll_config.next_interval(interval);
                        continue;
                    }
                    Err(f) => return Err(f.into()),
                };
                if !wait || !u.status.is_pending() || started.elapsed() >= deadline {
                    break u;
                }
                ctx.out.info(format!("{}: {} ({}s)", req_id, u.status, started.elapsed().as_secs()));
                let left = deadline.saturating_sub(started.elapsed());
                tokio::time::sleep(interval.min(left)).await;
                interval = flow.poll_config.next_interval(interval);
            };
            if let Some(r) = flow.profile.requests.iter_mut().find(|r| r.id == update.request_id) {
                r.status = update.status.clone();
                r.checked_at = Some(update.at);
                if update.confirm_url.is_some() {
                    r.confirm_url = update.confirm_url.clone();
                }
                ctx.save(&mut flow.profile)?;
            }
            let v = json!({ "id": update.request_id, "status": update.status, "confirmUrl": update.confirm_url });
            ctx.out.result(&v, || format!("request {}: {}", update.request_id, update.status));
            Ok(status_exit(&update.status, wait))
        }
        .await;
        (r, session)
    })
    .await
}

/// Exit code for a request status: refused 4; pending 5 when the caller waited for an answer.
pub fn status_exit(status: &RequestStatus, waited: bool) -> i32 {
    if status.is_accepted() {
        exit::OK
    } else if status.is_refused() {
        exit::REFUSED
    } else if waited {
        exit::PENDING
    } else {
        exit::OK
    }
}

async fn request_list(ctx: &Ctx) -> Result<i32, CliError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let id = flow.profile.system_id().ok_or_else(|| {
                CliError::usage("no system in this profile yet: `system register --name <name>`")
            })?;
            let token = session
                .runner
                .vendor_token(&flow.profile, SCOPE_REQUEST_READ, false)
                .await?;
            let mut all = session
                .runner
                .altinn()
                .list_requests(&token.token, &id, false)
                .await
                .map_err(Failure::from)?;
            all.extend(
                session
                    .runner
                    .altinn()
                    .list_requests(&token.token, &id, true)
                    .await
                    .map_err(Failure::from)?,
            );
            let v = serde_json::to_value(&all).unwrap_or_default();
            ctx.out.result(&v, || {
                if all.is_empty() {
                    return format!("no requests for {id}");
                }
                all.iter()
                    .map(|r| {
                        format!(
                            "{}  {:<9} {}  ref={}",
                            r.id,
                            r.status.as_str(),
                            r.party_org_no,
                            r.external_ref.as_deref().unwrap_or("-")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

fn scopes_arg(arg: Option<String>, profile: &Profile) -> Result<Vec<String>, CliError> {
    match arg {
        Some(s) => crate::validate::scopes(&s).map_err(|e| CliError::usage(e.to_string())),
        None => Ok(profile
            .system_user_scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_else(|| profile.scopes.clone())),
    }
}

async fn token(ctx: &Ctx, a: TokenArgs) -> Result<i32, CliError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let p = &flow.profile;
            let scopes = scopes_arg(a.scope, p)?;
            let tok = if a.system_user {
                let req = p.current_request().ok_or_else(|| CliError::usage("no request in this profile yet: the system-user token needs an approved request"))?;
                session.runner.system_user_token(p, scopes, &req.customer_org, req.external_ref.clone(), a.fresh).await?
            } else {
                let creds = session.runner.credentials(p)?;
                let req = crate::maskinporten::TokenRequest { scopes, ..Default::default() };
                session.runner.maskinporten().token(&creds, &req, a.fresh).await.map_err(Failure::from)?
            };
            let claims = tok.claims().unwrap_or(Value::Null);
            let mut v = json!({ "token_type": tok.token_type, "expires_in": tok.expires_in, "expires_at": tok.expires_at, "scope": tok.scope, "cached": tok.cached, "claims": claims });
            if a.show {
                v["access_token"] = json!(tok.token.expose());
            }
            ctx.out.result(&v, || {
                let mut s = format!(
                    "{} token, expires in {} s{}\nscope: {}\nclaims:\n{}",
                    if a.system_user { "system-user" } else { "vendor" },
                    tok.expires_at - chrono::Utc::now().timestamp(),
                    if tok.cached { " (cached)" } else { "" },
                    tok.scope,
                    serde_json::to_string_pretty(&claims).unwrap_or_default()
                );
                s.push_str(&format!("\ntoken: {}", if a.show { tok.token.expose().to_string() } else { format!("{} (use --show to print it)", tok.token.redacted()) }));
                s
            });
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

async fn call(ctx: &Ctx, a: CallArgs) -> Result<i32, CliError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let method = reqwest::Method::from_bytes(a.method.to_ascii_uppercase().as_bytes()).map_err(|_| CliError::usage(format!("unknown HTTP method `{}`", a.method)))?;
            let body: Option<Value> = match &a.data {
                Some(d) => Some(serde_json::from_str(d).map_err(|e| CliError::usage(format!("--data is not JSON: {e}")))?),
                None => None,
            };
            let url = match a.url {
                Some(u) => crate::validate::https_url(&u).map_err(|e| CliError::usage(e.to_string()))?,
                None => flow.profile.test_url.clone().unwrap_or_else(|| session.runner.default_test_url()),
            };
            let req = flow.profile.current_request().cloned().ok_or_else(|| CliError::usage("no request in this profile yet: the test call needs an approved system user"))?;
            let scopes = scopes_arg(a.scope, &flow.profile)?;
            let tok = session.runner.system_user_token(&flow.profile, scopes, &req.customer_org, req.external_ref.clone(), false).await?;
            let res = session.runner.altinn().test_call(method, &url, &tok.token, body.as_ref()).await.map_err(Failure::from)?;
            let body_json = res.json.clone().map(crate::runner::redact_json_tokens);
            let body_text = crate::runner::redact_tokens(&res.body);
            let claims = tok.claims().unwrap_or(Value::Null);
            flow.profile.last_test_call = Some(TestCallRecord {
                url: res.url.clone(),
                method: res.method.clone(),
                status: res.status,
                elapsed_ms: res.elapsed_ms,
                at: chrono::Utc::now(),
                system_user_id: claims["authorization_details"][0]["systemuser_id"][0].as_str().map(str::to_string),
                body_excerpt: Some(crate::http::excerpt(&body_text, 2000)),
            });
            ctx.save(&mut flow.profile)?;
            let v = json!({ "status": res.status, "elapsed_ms": res.elapsed_ms, "url": res.url, "method": res.method, "headers": res.headers.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(), "body": body_json.clone().unwrap_or(Value::String(body_text.clone())), "token_claims": claims });
            ctx.out.result(&v, || {
                format!(
                    "{} {} -> HTTP {} in {} ms\n{}",
                    res.method,
                    res.url,
                    res.status,
                    res.elapsed_ms,
                    body_json.as_ref().map(|j| serde_json::to_string_pretty(j).unwrap_or_default()).unwrap_or(body_text.clone())
                )
            });
            Ok(if (200..300).contains(&res.status) { exit::OK } else { exit::REJECTED })
        }
        .await;
        (r, session)
    })
    .await
}

fn profile_cmd(ctx: &Ctx, cmd: ProfileCommand) -> Result<i32, CliError> {
    let err = |e: crate::profile::ProfileError| CliError::usage(e.to_string());
    match cmd {
        ProfileCommand::List => {
            let names = ctx.store.list().map_err(err)?;
            let mut rows = Vec::new();
            for n in &names {
                match ctx.store.load(n) {
                    Ok(Some(p)) => rows.push(json!({ "name": n, "environment": p.environment.kind, "step": crate::flow::resume_step(&p), "updated_at": p.updated_at })),
                    Ok(None) => {}
                    Err(e) => rows.push(json!({ "name": n, "error": e.to_string() })),
                }
            }
            let v = Value::Array(rows.clone());
            ctx.out.result(&v, || {
                if rows.is_empty() {
                    return "no profiles yet".into();
                }
                rows.iter()
                    .map(|r| {
                        format!(
                            "{:<16} {:<8} {}",
                            r["name"].as_str().unwrap_or(""),
                            r["environment"].as_str().unwrap_or("?"),
                            r["step"].as_str().or(r["error"].as_str()).unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(exit::OK)
        }
        ProfileCommand::Show => {
            let p = ctx
                .store
                .load(&ctx.global.profile)
                .map_err(err)?
                .ok_or_else(|| {
                    CliError::usage(format!("no profile named `{}`", ctx.global.profile))
                })?;
            let mut v = serde_json::to_value(&p).unwrap_or_default();
            v["path"] = json!(ctx.store.profile_path(&p.name));
            v["next_step"] = json!(crate::flow::resume_step(&p));
            ctx.out
                .result(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
            Ok(exit::OK)
        }
        ProfileCommand::Rm { name } => {
            crate::validate::profile_name(&name).map_err(|e| CliError::usage(e.to_string()))?;
            let removed = ctx.store.remove(&name).map_err(err)?;
            if !removed {
                return Err(CliError::usage(format!("no profile named `{name}`")));
            }
            ctx.out.result(&json!({ "removed": name }), || {
                format!("removed profile {name} (its key file, if any, was kept)")
            });
            Ok(exit::OK)
        }
    }
}

async fn sandbox_cmd(ctx: &Ctx, cmd: SandboxCommand) -> Result<i32, CliError> {
    match cmd {
        SandboxCommand::Serve {
            port,
            bind,
            state,
            strict_resources,
            faults,
        } => {
            let config = crate::sandbox::SandboxConfig {
                bind: std::net::SocketAddr::new(bind, port),
                state_file: state,
                strict_resources,
            };
            let mut options = crate::sandbox::SandboxOptions::default();
            if let Some(path) = faults {
                options.faults = crate::sandbox::FaultPlan::from_file(&path)
                    .map_err(|e| CliError::usage(e.to_string()))?;
            }
            let handle = crate::sandbox::start_with(config, options)
                .await
                .map_err(|e| CliError {
                    code: exit::NETWORK,
                    message: e.to_string(),
                })?;
            let url = handle.base_url();
            let server_file = crate::session::server_file_path(&ctx.store);
            let file = crate::session::ServerFile {
                url: url.clone(),
                pid: std::process::id(),
            };
            if let Ok(bytes) = serde_json::to_vec(&file)
                && let Err(e) = crate::profile::write_atomic(&server_file, &bytes, 0o600)
            {
                tracing::warn!(error = %e, "could not record the running sandbox");
            }
            let v = json!({ "base_url": url, "maskinporten_issuer": handle.issuer(), "token_endpoint": format!("{}token", handle.issuer()), "altinn_base": url, "orgs": crate::sandbox::seeded_orgs().iter().map(|o| json!({"orgNo": o.org_no, "name": o.name})).collect::<Vec<_>>() });
            // Bound to every interface (a workshop): participants use this machine's address
            // on the room's network, which the sandbox cannot know; it answers on any of them.
            let shared = bind.is_unspecified();
            let peer = if shared {
                format!(
                    "http://<this machine's LAN address>:{}",
                    handle.local_addr().port()
                )
            } else {
                url.clone()
            };
            ctx.out.result(&v, || {
                format!(
                    "sandbox listening on {url}{}\n  Maskinporten issuer: {}\n  Altinn platform:     {url}\n  participants: altinn-onboard --env custom --maskinporten-url {peer}/ --altinn-url {peer}\nCtrl-C stops it.",
                    if shared { " (and on every other address of this machine)" } else { "" },
                    handle.issuer(),
                )
            });
            shutdown_signal().await;
            handle.shutdown().await;
            let _ = std::fs::remove_file(&server_file);
            Ok(exit::OK)
        }
        SandboxCommand::Orgs => {
            let orgs: Vec<Value> = crate::sandbox::seeded_orgs()
                .iter()
                .map(|o| json!({"orgNo": o.org_no, "name": o.name}))
                .collect();
            ctx.out.result(&Value::Array(orgs.clone()), || {
                crate::sandbox::seeded_orgs()
                    .iter()
                    .map(|o| format!("{}  {}", o.org_no, o.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(exit::OK)
        }
        SandboxCommand::Approve { id } => sandbox_decide(ctx, id, true).await,
        SandboxCommand::Reject { id } => sandbox_decide(ctx, id, false).await,
    }
}

/// Ctrl-C, or SIGTERM from a service manager or `kill`: either way the state is saved.
async fn shutdown_signal() {
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

async fn sandbox_decide(ctx: &Ctx, id: String, approve: bool) -> Result<i32, CliError> {
    let (profile, env) = ctx.profile_and_env()?;
    if !matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom) {
        return Err(CliError::usage(
            "approving from the command line only exists in the sandbox; in TT02 the customer approves at the confirmUrl",
        ));
    }
    let _ = profile;
    let session = ctx.session(&env).await?;
    let portal = crate::portal::SandboxPortal::new(&session.env, crate::http::client());
    let r = portal.decide(&id, approve).await.map_err(|e| CliError {
        code: if e.is_network() {
            exit::NETWORK
        } else {
            exit::REJECTED
        },
        message: e.to_string(),
    });
    session.close().await;
    r?;
    let v = json!({ "id": id, "decision": if approve { "approved" } else { "rejected" } });
    ctx.out.result(&v, || {
        format!(
            "request {id} {}",
            if approve { "approved" } else { "rejected" }
        )
    });
    Ok(exit::OK)
}
