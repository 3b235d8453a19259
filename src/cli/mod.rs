//! The non-interactive CLI: every wizard step as a subcommand, driving the same flow and
//! effect runner. Results go to stdout (JSON with `--json`); progress, hints and logs to stderr.

pub mod agent;
pub mod args;
pub mod customers;
pub mod doctor;
pub mod output;
pub mod rights;
pub mod tokens;

use crate::altinn::client::{SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ};
use crate::altinn::model::{RegisteredSystem, RequestStatus, SystemRegistration};
pub use crate::app::{AppError, Ctx, Out, exit};
use crate::env::EnvKind;
use crate::flow::{ChangeForm, Effect, ErrorKind, Failure, Flow, Msg, RequestForm, SystemForm};
use crate::profile::Profile;
use crate::session::Session;
use args::*;
use output::*;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Feed a message to the flow and run every effect it leads to (polling and the browser
/// excepted); what came of it is in the flow's state.
async fn run_all(flow: &mut Flow, session: &Session, msg: Msg) {
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
}

/// Feed a message to the flow and run the resulting effects to completion (polling and the
/// browser are left to the caller). Returns the flow's error, if any, as a CLI error.
pub async fn drive(flow: &mut Flow, session: &Session, msg: Msg) -> Result<(), AppError> {
    run_all(flow, session, msg).await;
    match &flow.error {
        Some(e) => Err(AppError::from(e)),
        None => Ok(()),
    }
}

/// Run one command (the wizard is not one: `main` starts it); returns the process exit code.
pub async fn run(ctx: &Ctx, cmd: Command) -> i32 {
    match dispatch(ctx, cmd).await {
        Ok(code) => code,
        Err(e) => {
            ctx.out.error(&e);
            e.exit_code
        }
    }
}

async fn dispatch(ctx: &Ctx, cmd: Command) -> Result<i32, AppError> {
    match cmd {
        Command::Wizard => Err(AppError::usage("the wizard is not a command")),
        Command::Keys(k) => keys(ctx, k).await,
        Command::Client(ClientCommand::Set {
            vendor_org,
            client_id,
            scope,
            confirm_uploaded,
            kid,
        }) => client_set(ctx, vendor_org, client_id, scope, confirm_uploaded, kid).await,
        Command::System(SystemCommand::Register(a)) => system_register(ctx, a).await,
        Command::System(SystemCommand::Show) => system_show(ctx).await,
        Command::Request(RequestCommand::Create {
            agent,
            customer_org,
            external_ref,
            open,
            wait,
            timeout,
            no_preflight,
            customers,
        }) => match customers {
            Some(file) => customers::request_create_many(ctx, agent, &file, no_preflight).await,
            None => {
                request_create(
                    ctx,
                    agent,
                    customer_org,
                    external_ref,
                    open,
                    wait,
                    timeout,
                    no_preflight,
                )
                .await
            }
        },
        Command::Request(RequestCommand::Change {
            add_resources,
            add_packages,
            customer_org,
            open,
            wait,
            timeout,
        }) => {
            let form = ChangeForm {
                customer_org: customer_org.unwrap_or_default(),
                add_rights: add_resources.join(" "),
                add_access_packages: add_packages.join(" "),
            };
            request_change(ctx, form, open, wait, timeout).await
        }
        Command::Request(RequestCommand::Status { id, wait, timeout }) => {
            request_status(ctx, id, wait, timeout).await
        }
        Command::Request(RequestCommand::List) => request_list(ctx).await,
        Command::Rights(r) => rights::run(ctx, r).await,
        Command::Agent(a) => agent::run(ctx, a).await,
        Command::Token(a) => token(ctx, a).await,
        Command::Call(a) => call(ctx, a).await,
        Command::Customers(a) => customers::list(ctx, a).await,
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
        Command::Man { out } => man(ctx, out),
    }
}

pub(crate) async fn with_flow<F, Fut>(ctx: &Ctx, f: F) -> Result<i32, AppError>
where
    F: FnOnce(Flow, Session) -> Fut,
    Fut: std::future::Future<Output = (Result<i32, AppError>, Session)>,
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

async fn keys(ctx: &Ctx, cmd: KeysCommand) -> Result<i32, AppError> {
    // Lock first, then load: a copy that waited for the lock must see the other's changes.
    let _lock = ctx.lock_profile()?;
    let (mut profile, _env) = ctx.profile_and_env()?;
    // Key work is local: no environment, no session, no sandbox.
    let runner = crate::runner::LocalRunner::new(ctx.store.clone());
    match cmd {
        KeysCommand::Show { jwks } => {
            let key = runner.key_for(&profile)?;
            let jwk = serde_json::to_value(key.public_jwk()).unwrap_or_default();
            let path = profile.key_path.clone().unwrap_or_default();
            if jwks {
                // The same JWK set either way: it is what the portal takes.
                let v = JwksOutput { keys: vec![jwk] };
                ctx.out
                    .result(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
                return Ok(exit::OK);
            }
            let v = KeyShowOutput {
                kid: key.kid().to_string(),
                private_key_path: path.clone(),
                bits: key.bits(),
                public_jwk: jwk.clone(),
            };
            ctx.out.result(&v, || {
                format!(
                    "kid:  {}\npath: {}\npublic JWK:\n{}",
                    key.kid(),
                    path.display(),
                    serde_json::to_string_pretty(&jwk).unwrap_or_default()
                )
            });
            Ok(exit::OK)
        }
        KeysCommand::Generate { bits, kid, replace } => {
            let before = profile.clone();
            let mut flow = Flow::resume(profile.clone());
            if replace {
                flow.update(Msg::AllowKeyReplacement);
            }
            let msgs = flow.update(Msg::GenerateKey { bits, kid });
            key_effects(ctx, &runner, &mut flow, msgs).await?;
            profile = flow.profile.clone();
            print_key(ctx, &flow, &profile)?;
            replaced_key_next_step(ctx, &before, &profile);
            Ok(exit::OK)
        }
        KeysCommand::Import {
            source,
            kid,
            replace,
        } => {
            let before = profile.clone();
            let source = if source == "-" {
                let bytes = crate::files::read_capped_from(
                    std::io::stdin(),
                    crate::files::MAX_SMALL_FILE,
                    "the key on stdin",
                )
                .map_err(|e| AppError::usage(format!("reading stdin: {e}")))?;
                String::from_utf8(bytes)
                    .map_err(|_| AppError::usage("reading stdin: the key is not UTF-8 text"))?
            } else {
                source
            };
            let mut flow = Flow::resume(profile.clone());
            if replace {
                flow.update(Msg::AllowKeyReplacement);
            }
            let msgs = flow.update(Msg::ImportKey {
                source: crate::secret::Secret::new(source),
                kid,
            });
            key_effects(ctx, &runner, &mut flow, msgs).await?;
            profile = flow.profile.clone();
            print_key(ctx, &flow, &profile)?;
            replaced_key_next_step(ctx, &before, &profile);
            Ok(exit::OK)
        }
    }
}

/// After a key registered with a client was replaced (`--replace`): the exact command that
/// gives the client the new key, so `token` and `call` work again.
fn replaced_key_next_step(ctx: &Ctx, before: &Profile, after: &Profile) {
    let (Some(client_id), Some(org)) = (&before.client_id, &before.vendor_org) else {
        return;
    };
    if !before.client_registered || after.client_registered {
        return;
    }
    let scope = if before.scopes.is_empty() {
        String::new()
    } else {
        format!(" --scope \"{}\"", before.scopes.join(" "))
    };
    let old = before.kid.as_deref().unwrap_or("?");
    match after.environment.kind.self_service_portal() {
        Some(portal) => ctx.out.info(format!(
            "the key {old} was registered with client {client_id}; until the client has the new key, `token` and `call` fail.\nnext: in {portal}, add the new public JWK to client {client_id} (and remove the old key), then run `client set --vendor-org {org} --client-id {client_id}{scope} --confirm-uploaded`"
        )),
        None => ctx.out.info(format!(
            "the key {old} was registered with client {client_id}; until the client has the new key, `token` and `call` fail.\nnext: `client set --vendor-org {org} --client-id {client_id}{scope}`"
        )),
    }
}

async fn key_effects(
    ctx: &Ctx,
    runner: &crate::runner::LocalRunner,
    flow: &mut Flow,
    first: Vec<Effect>,
) -> Result<(), AppError> {
    let mut queue: VecDeque<Effect> = first.into();
    while let Some(e) = queue.pop_front() {
        let snap = flow.profile.clone();
        if let Some(m) = runner.run(e, &snap).await {
            queue.extend(flow.update(m));
        }
    }
    if let Some(e) = &flow.error {
        return Err(AppError::from(e));
    }
    if let Some(w) = flow.key.as_ref().and_then(|k| k.warning.clone()) {
        ctx.out.info(format!("warning: {w}"));
    }
    Ok(())
}

fn print_key(ctx: &Ctx, flow: &Flow, profile: &Profile) -> Result<i32, AppError> {
    let key = flow
        .key
        .as_ref()
        .ok_or_else(|| AppError::usage("no key was produced"))?;
    let v = KeyOutput {
        kid: key.kid.clone(),
        private_key_path: key.path.clone(),
        public_jwk: key.public_jwk.clone(),
    };
    ctx.out.result(&v, || {
        format!(
            "kid:  {}\npath: {} (private key, mode 0600)\npublic JWK (upload this in Maskinporten's self-service portal):\n{}",
            key.kid,
            key.path.display(),
            serde_json::to_string_pretty(&key.public_jwk).unwrap_or_default()
        )
    });
    if profile.environment.kind == EnvKind::Sandbox {
        ctx.out.info("next: `client set --vendor-org <org>` registers the client with this key in the sandbox");
    } else if profile.environment.kind == EnvKind::Custom {
        ctx.out.info("next: `client set --vendor-org <org>` registers the client with this key if the server is an altinn-onboard sandbox; on any other server upload the public JWK in its portal and add `--client-id <id> --confirm-uploaded`");
    } else if let Some(portal) = profile.environment.kind.self_service_portal() {
        ctx.out.info(format!("next: in {portal}, open your Maskinporten client, add the public JWK above as a key, then run `client set --client-id <id> --vendor-org <org> --confirm-uploaded`"));
        // Digdir's portal keeps a pasted JWK's kid but gives a pasted PEM one of its own.
        ctx.out.info(format!("kid: paste the JWK (the portal keeps kid {}); if you paste a PEM instead, the portal shows its own kid: add `--kid <that kid>` to `client set`", key.kid));
    }
    Ok(exit::OK)
}

async fn client_set(
    ctx: &Ctx,
    vendor_org: Option<String>,
    client_id: Option<String>,
    scope: String,
    confirm: bool,
    kid: Option<String>,
) -> Result<i32, AppError> {
    let _lock = ctx.lock_profile()?;
    let (profile, env) = ctx.profile_and_env()?;
    let sandbox_like = matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom);
    let portal_kid = match kid.as_deref().map(str::trim) {
        None => None,
        Some(_) if sandbox_like => {
            return Err(AppError::usage(
                "--kid is for TT02/production, where the self-service portal may give an uploaded key its own kid; \
                 on the sandbox the client gets the key with its own kid",
            ));
        }
        Some("") => Some(None),
        Some(k) => Some(Some(
            crate::validate::kid(k).map_err(|e| AppError::usage(e.to_string()))?,
        )),
    };
    // Registering the client is what may move a profile whose sandbox is gone to the one
    // reached now (see session::OpenOptions::rebind).
    let session = ctx
        .session_with(&env, crate::session::OpenOptions { rebind: true })
        .await?;
    let mut flow = Flow::resume(profile);
    if session.rebound {
        // What was made in the old sandbox is not in this one.
        let p = &mut flow.profile;
        p.client_registered = false;
        p.system_registered = None;
        p.requests.clear();
        p.customers.clear();
        p.last_test_call = None;
    }
    let r = async {
        let vendor_org = match vendor_org.or_else(|| flow.profile.vendor_org.clone()) {
            Some(v) => v,
            None if session.shared_sandbox() => {
                // A shared sandbox (a workshop): an organisation of one's own, or everyone
                // using the README's example org would share one system and its requests.
                let org = crate::portal::participant_vendor_org();
                ctx.out.info(format!(
                    "vendor org: {org}, made up for you on this shared sandbox so that your system and requests are \
                     your own (pass --vendor-org to choose one)"
                ));
                org
            }
            None if sandbox_like => crate::sandbox::seeded_orgs()
                .last()
                .map(|o| o.org_no.to_string())
                .unwrap_or_default(),
            None => {
                return Err(AppError::usage(
                    "--vendor-org is required: your organisation number, the one the client belongs to in the self-service portal",
                ));
            }
        };
        if let Some(k) = portal_kid.clone() {
            flow.profile.portal_kid = k;
        }
        drive(&mut flow, &session, Msg::SubmitClient { vendor_org, client_id: client_id.unwrap_or_default(), scopes: scope }).await?;
        if confirm && !flow.profile.client_registered {
            drive(&mut flow, &session, Msg::ConfirmClientUploaded).await?;
        }
        if !sandbox_like && let Some(n) = &flow.notice {
            ctx.out.info(n);
        }
        let p = &flow.profile;
        let v = ClientOutput {
            client_id: p.client_id.clone(), vendor_org: p.vendor_org.clone(), scopes: p.scopes.clone(), kid: p.kid.clone(),
            registered: p.client_registered, environment: session.env.kind,
        };
        ctx.out.result(&v, || {
            let mut text = format!(
                "client id:  {}\nvendor org: {}\nscopes:     {}\nregistered: {}",
                p.client_id.as_deref().unwrap_or("-"),
                p.vendor_org.as_deref().unwrap_or("-"),
                p.scopes.join(" "),
                if p.client_registered { "yes" } else { "not confirmed (upload the JWK in the portal, then rerun with --confirm-uploaded)" }
            );
            if let Some(k) = &p.portal_kid {
                text.push_str(&format!("\nkid:        {k} (the portal's; the key's own is {})", p.kid.as_deref().unwrap_or("-")));
            }
            text
        });
        Ok(exit::OK)
    }
    .await;
    session.close().await;
    r
}

/// Read a system definition file in the register's own JSON format.
fn system_form_from_file(
    path: &std::path::Path,
    vendor_org: Option<&str>,
) -> Result<SystemForm, AppError> {
    let text = crate::files::read_to_string_capped(path, crate::files::MAX_SMALL_FILE)
        .map_err(|e| AppError::usage(format!("cannot read {}: {e}", path.display())))?;
    let reg: SystemRegistration = serde_json::from_str(&text).map_err(|e| {
        AppError::usage(format!(
            "{} is not a system definition: {e}\n  hint: expected the register's JSON: {{\"id\": \"<org>_<name>\", \"vendor\": {{\"ID\": \"0192:<org>\"}}, \"name\": {{\"nb\": ...}}, \"description\": {{...}}, \"rights\": [...]}}",
            path.display()
        ))
    })?;
    let name = match (vendor_org, reg.id.split_once('_')) {
        (Some(org), Some((prefix, rest))) if prefix == org => rest.to_string(),
        (Some(org), _) => {
            return Err(AppError::usage(format!(
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

async fn system_register(ctx: &Ctx, a: SystemArgs) -> Result<i32, AppError> {
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
                return Err(AppError::usage("give the system a name: --name <name> (the id becomes <vendorOrg>_<name>), or --file system.json"));
            }
            if flow.profile.client_id.is_none() {
                return Err(AppError::usage("set up the Maskinporten client first: `client set --vendor-org <org>`"));
            }
            session.runner.set_preflight(!a.no_preflight);
            let driven = drive(&mut flow, &session, Msg::SubmitSystem(form)).await;
            preflight_notes(ctx, &session);
            driven?;
            let reg = flow.registration.clone().ok_or_else(|| AppError::usage("the registration produced no result"))?;
            let v = SystemRegisterOutput {
                id: reg.system_id.clone(),
                outcome: reg.outcome.clone(),
                created: reg.outcome == "created",
                updated: reg.outcome == "updated",
                unchanged: reg.outcome == "unchanged",
                changes: reg.changes.clone(),
                client_id: reg.client_id.clone(),
            };
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

async fn system_show(ctx: &Ctx) -> Result<i32, AppError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let id = flow.profile.system_id().ok_or_else(|| {
                AppError::usage("no system in this profile yet: `system register --name <name>`")
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
            let sys = sys.ok_or_else(|| {
                AppError::new(
                    exit::REJECTED,
                    format!("system {id} is not in the register (run `system register`)"),
                )
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

/// The last pre-flight's warnings, offline note and unchecked rights, on stderr.
fn preflight_notes(ctx: &Ctx, session: &Session) {
    if let Some(report) = session.runner.take_preflight() {
        for n in report.notes() {
            ctx.out.info(n);
        }
    }
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

/// The command that approves `request_id` as the customer would, for this profile.
fn approve_command(ctx: &Ctx, request_id: &str) -> String {
    let profile = if ctx.global.profile == "default" {
        String::new()
    } else {
        format!(" --profile {}", ctx.global.profile)
    };
    format!("altinn-onboard{profile} sandbox approve {request_id}")
}

/// `request create`. On the embedded sandbox (no `sandbox serve` running) the approval page
/// lives only as long as this process: without `--wait` no confirmUrl or QR code is printed
/// (they would be dead by the time anyone opened them) and the first thing shown is the
/// command that approves; with `--wait` the process keeps the sandbox and its page up, prints
/// the confirmUrl and QR code first and waits for the answer. Elsewhere (a running `sandbox
/// serve`, TT02, production) the page outlives the command and the URL is printed at once.
#[allow(clippy::too_many_arguments)] // one per flag of `request create`
async fn request_create(
    ctx: &Ctx,
    agent: bool,
    customer_org: Option<String>,
    external_ref: Option<String>,
    open: bool,
    wait: bool,
    timeout: u64,
    no_preflight: bool,
) -> Result<i32, AppError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let customer = customer_org
                .or_else(|| flow.profile.customer_org.clone())
                .ok_or_else(|| AppError::usage("which customer? --customer-org <org number> (sandbox: `sandbox orgs` lists the seeded ones)"))?;
            session.runner.set_preflight(!no_preflight);
            let driven = drive(&mut flow, &session, Msg::SubmitRequest(RequestForm { customer_org: customer, agent, external_ref: external_ref.unwrap_or_default() })).await;
            preflight_notes(ctx, &session);
            driven?;
            let req = flow.profile.current_request().cloned().ok_or_else(|| AppError::usage("no request was created"))?;
            let embedded = session.hosts_sandbox();
            // Opening a page that is gone when this command ends helps nobody: --open waits.
            let wait = wait || (open && embedded);
            let approve = approve_command(ctx, &req.id);
            let v = RequestCreateOutput { id: req.id.clone(), status: req.status.clone(), confirm_url: req.confirm_url.clone(), customer_org: req.customer_org.clone(), external_ref: req.external_ref.clone(), kind: req.kind };
            let url = req.confirm_url.clone().unwrap_or_default();
            if !req.status.is_pending() {
                // The API hands back an existing request for the same system, customer and
                // reference: one already answered needs no page and no wait.
                ctx.out.result(&v, || format!("request {} is {} (answered already)", req.id, req.status));
                return Ok(if wait { status_exit(&req.status, true) } else { exit::OK });
            }
            if !wait {
                if embedded {
                    ctx.out.result(&v, || {
                        format!("request {} is {}\napprove it as the customer would:\n  {approve}", req.id, req.status)
                    });
                    ctx.out.info(format!(
                        "the embedded sandbox stops when this command ends, so no approval page is left to open. \
                         For a page to open or scan, run `altinn-onboard request create --wait` (it serves the page \
                         until the customer decides) or start `altinn-onboard sandbox serve --state {}` first (on this \
                         profile's state: a server without it knows none of this profile's objects).",
                        ctx.store.sandbox_state_path().display()
                    ));
                } else {
                    ctx.out.result(&v, || {
                        format!("request {} is {}\nthe customer approves at:\n  {url}", req.id, req.status)
                    });
                    if !ctx.out.json && !ctx.out.quiet
                        && let Some(qr) = req.confirm_url.as_deref().and_then(qr_text) {
                            eprintln!("{qr}");
                        }
                }
                if open {
                    open_browser(ctx, &session, &flow.profile, req.confirm_url.clone()).await;
                }
                return Ok(exit::OK);
            }
            // --wait: what works comes first (the URL, its QR code), then the live status; the
            // result is printed once the wait ends, with the answer's status.
            let headline = format!("request {} is {}", req.id, req.status);
            announce_wait(ctx, &session, &flow.profile, &headline, req.confirm_url.as_deref(), embedded, &approve, timeout, open).await;
            let update = poll(ctx, &mut flow, &session, req.id.clone(), true, tokio::time::Instant::now() + Duration::from_secs(timeout))
                .await
                .map_err(AppError::from)?;
            ctx.save(&mut flow.profile)?;
            let v = RequestCreateOutput { status: update.status.clone(), ..v };
            ctx.out.result(&v, || format!("request {}: {}", update.request_id, update.status));
            Ok(status_exit(&update.status, true))
        }
        .await;
        (r, session)
    })
    .await
}

/// `request change`: find the customer's system user, leave out what it has, and ask the
/// customer for the rest; then, like `request create`, show the confirmUrl (on the embedded
/// sandbox only with `--wait`, the page dies with the process) and wait with `--wait`.
/// `NoChangeNeeded` (the system user has everything already) is success.
async fn request_change(
    ctx: &Ctx,
    mut form: ChangeForm,
    open: bool,
    wait: bool,
    timeout: u64,
) -> Result<i32, AppError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            if form.customer_org.is_empty() {
                form.customer_org = flow.profile.customer_org.clone().ok_or_else(|| {
                    AppError::usage("which customer? --customer-org <org number>")
                })?;
            }
            drive(&mut flow, &session, Msg::SubmitChange(form)).await?;
            let outcome = flow
                .change
                .clone()
                .ok_or_else(|| AppError::usage("no change request was created"))?;
            let rec = outcome.record.clone();
            let change = rec.change.clone();
            let v = RequestChangeOutput {
                id: (rec.status != RequestStatus::NoChangeNeeded).then(|| rec.id.clone()),
                status: rec.status.clone(),
                confirm_url: rec.confirm_url.clone(),
                customer_org: rec.customer_org.clone(),
                system_user_id: change.as_ref().map(|c| c.system_user_id.clone()),
                add_rights: change.as_ref().map(|c| c.add_rights.clone()).unwrap_or_default(),
                add_access_packages: change
                    .as_ref()
                    .map(|c| c.add_access_packages.clone())
                    .unwrap_or_default(),
                already_rights: outcome.already_rights.clone(),
                already_access_packages: outcome.already_access_packages.clone(),
            };
            if !rec.status.is_pending() {
                ctx.out.result(&v, || match flow.notice.clone() {
                    Some(n) if rec.status == RequestStatus::NoChangeNeeded => n,
                    _ => format!("change request {} is {}", rec.id, rec.status),
                });
                return Ok(status_exit(&rec.status, wait));
            }
            let embedded = session.hosts_sandbox();
            let wait = wait || (open && embedded);
            let approve = approve_command(ctx, &rec.id);
            let url = rec.confirm_url.clone().unwrap_or_default();
            let asked = outcome.asked().join(", ");
            if !outcome.already_rights.is_empty() || !outcome.already_access_packages.is_empty() {
                ctx.out.info(format!(
                    "left out (the system user has them already): {}",
                    outcome
                        .already_rights
                        .iter()
                        .chain(outcome.already_access_packages.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !wait {
                if embedded {
                    ctx.out.result(&v, || {
                        format!("change request {} ({asked}) is {}\napprove it as the customer would:\n  {approve}", rec.id, rec.status)
                    });
                    ctx.out.info(
                        "the embedded sandbox stops when this command ends, so no approval page is left to open: \
                         `request change ... --wait` serves it until the customer decides",
                    );
                } else {
                    ctx.out.result(&v, || {
                        format!("change request {} ({asked}) is {}\nthe customer approves at:\n  {url}", rec.id, rec.status)
                    });
                    if !ctx.out.json
                        && !ctx.out.quiet
                        && let Some(qr) = rec.confirm_url.as_deref().and_then(qr_text)
                    {
                        eprintln!("{qr}");
                    }
                }
                if open {
                    open_browser(ctx, &session, &flow.profile, rec.confirm_url.clone()).await;
                }
                return Ok(exit::OK);
            }
            let headline = format!("change request {} ({asked}) is {}", rec.id, rec.status);
            announce_wait(ctx, &session, &flow.profile, &headline, rec.confirm_url.as_deref(), embedded, &approve, timeout, open).await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            let update = poll(ctx, &mut flow, &session, rec.id.clone(), true, deadline)
                .await
                .map_err(AppError::from)?;
            ctx.save(&mut flow.profile)?;
            let v = RequestChangeOutput { status: update.status.clone(), ..v };
            ctx.out.result(&v, || {
                if update.status.is_accepted() {
                    format!(
                        "change request {}: {} (the system user for {} now has {asked})",
                        update.request_id, update.status, v.customer_org
                    )
                } else {
                    format!("change request {}: {}", update.request_id, update.status)
                }
            });
            Ok(status_exit(&update.status, true))
        }
        .await;
        (r, session)
    })
    .await
}

/// `--open`: the confirmUrl in the browser; a browser that cannot start is reported, not fatal.
/// `--wait` (request create, request change): what works comes first (the approval link and
/// its QR code), then how the wait ends (on the embedded sandbox: the page is served until the
/// customer decides, or `approve` decides from another terminal), then the page opens if asked.
#[allow(clippy::too_many_arguments)]
async fn announce_wait(
    ctx: &Ctx,
    session: &Session,
    profile: &Profile,
    headline: &str,
    confirm_url: Option<&str>,
    embedded: bool,
    approve: &str,
    timeout: u64,
    open: bool,
) {
    let url = confirm_url.unwrap_or_default();
    if ctx.out.json {
        ctx.out.info(format!("the customer approves at: {url}"));
    } else {
        println!("{headline}\nthe customer approves at:\n  {url}");
        if !ctx.out.quiet
            && let Some(qr) = confirm_url.and_then(qr_text)
        {
            eprintln!("{qr}");
        }
    }
    if embedded {
        ctx.out.info(format!(
            "this command serves the page until the customer decides (or {timeout} s pass); \
             the sandbox's page has an Approve button, or run `{approve}` in another terminal"
        ));
    } else {
        ctx.out.info(format!(
            "waiting up to {timeout} s for the customer's answer"
        ));
    }
    if open {
        open_browser(ctx, session, profile, confirm_url.map(str::to_string)).await;
    }
}

async fn open_browser(ctx: &Ctx, session: &Session, profile: &Profile, url: Option<String>) {
    if let Some(url) = url
        && let Some(crate::flow::Msg::BrowserOpened(Err(f))) = session
            .runner
            .run(Effect::OpenBrowser { url }, profile)
            .await
    {
        ctx.out.info(f.message);
    }
}

async fn request_status(
    ctx: &Ctx,
    id: Option<String>,
    wait: bool,
    timeout: u64,
) -> Result<i32, AppError> {
    // The deadline starts with the command, so `--timeout` bounds all of it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let req_id = match &id {
                Some(id) => match flow.profile.requests.iter().find(|r| &r.id == id) {
                    Some(r) => r.id.clone(),
                    None => {
                        crate::validate::uuid(id).map_err(|e| AppError::usage(e.to_string()))?
                    }
                },
                None => match flow.profile.newest_request() {
                    Some(r) => r.id.clone(),
                    None => {
                        return Err(AppError::usage(
                            "no request in this profile yet: `request create --customer-org <org>`",
                        ));
                    }
                },
            };
            let outcome = poll(ctx, &mut flow, &session, req_id, wait, deadline).await;
            let update = outcome.map_err(AppError::from)?;
            // The flow saves final answers; a pending one is recorded too (its checked_at).
            if flow
                .profile
                .requests
                .iter()
                .any(|r| r.id == update.request_id)
            {
                ctx.save(&mut flow.profile)?;
            }
            let v = RequestStatusOutput {
                id: update.request_id.clone(),
                status: update.status.clone(),
                confirm_url: update.confirm_url.clone(),
                last_refusal: update.refusal.clone(),
            };
            ctx.out.result(&v, || {
                let mut text = format!("request {}: {}", update.request_id, update.status);
                if let Some(r) = &update.refusal {
                    text += &format!("\n  {}", r.lines().join("\n  "));
                }
                text
            });
            Ok(status_exit(&update.status, wait))
        }
        .await;
        (r, session)
    })
    .await
}

/// Poll a request's status the way the wizard does: the flow's polling (its backoff, its
/// handling of transient errors) run by the session's runner. Without `wait`, one answer;
/// with it, until the status is final or the deadline has passed. The deadline bounds every
/// call, the first one included (its token fetch, connects, reads and retries): a server that
/// accepts connections and never answers cannot keep the command past `--timeout`. Returns
/// the last answer, the last error if that came last, or a network failure (exit 3) when no
/// answer came at all before the deadline.
async fn poll(
    ctx: &Ctx,
    flow: &mut Flow,
    session: &Session,
    request_id: String,
    wait: bool,
    deadline: tokio::time::Instant,
) -> Result<crate::flow::StatusUpdate, Failure> {
    let started = Instant::now();
    let mut last: Option<Result<crate::flow::StatusUpdate, Failure>> = None;
    let mut queue: VecDeque<Effect> = flow.update(Msg::PollRequest { request_id }).into();
    while let Some(effect) = queue.pop_front() {
        let is_poll = matches!(effect, Effect::PollStatus { .. });
        // The first answer is always asked for; later polls only while waiting and in time.
        if is_poll && last.is_some() && (!wait || tokio::time::Instant::now() >= deadline) {
            break;
        }
        let snapshot = flow.profile.clone();
        let run = session.runner.run(effect, &snapshot);
        let reply = match tokio::time::timeout_at(deadline, run).await {
            Ok(reply) => reply,
            Err(_) => break,
        };
        if let Some(Msg::StatusPolled { result, .. }) = &reply {
            match result {
                Ok(u) if wait && u.status.is_pending() => ctx.out.info(format!(
                    "{}: {} ({}s)",
                    u.request_id,
                    u.status,
                    started.elapsed().as_secs()
                )),
                Err(f) if wait && f.kind == ErrorKind::Network => {
                    ctx.out.info(format!("(retrying) {}", f.message))
                }
                _ => {}
            }
            last = Some(result.clone());
        }
        if let Some(reply) = reply {
            queue.extend(flow.update(reply));
        }
    }
    last.unwrap_or_else(|| {
        Err(Failure::new(
            ErrorKind::Network,
            format!(
                "no answer from {} within the timeout ({}s); the request's status is unknown\n  hint: check that the server is up and answering (`doctor`), or allow longer with --timeout",
                session.env.altinn_base.as_str().trim_end_matches('/'),
                started.elapsed().as_secs(),
            ),
        ))
    })
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

async fn request_list(ctx: &Ctx) -> Result<i32, AppError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let id = flow.profile.system_id().ok_or_else(|| {
                AppError::usage("no system in this profile yet: `system register --name <name>`")
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

pub(crate) fn scopes_arg(arg: Option<String>, profile: &Profile) -> Result<Vec<String>, AppError> {
    match arg {
        Some(s) => crate::validate::scopes(&s).map_err(|e| AppError::usage(e.to_string())),
        None => Ok(profile
            .system_user_scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_else(|| profile.scopes.clone())),
    }
}

async fn token(ctx: &Ctx, a: TokenArgs) -> Result<i32, AppError> {
    with_flow(ctx, |flow, session| async move {
        let r = async {
            let p = &flow.profile;
            let scopes = scopes_arg(a.scope, p)?;
            let tok = if a.system_user {
                let req = p.current_request().ok_or_else(|| AppError::usage("no request in this profile yet: the system-user token needs an approved request"))?;
                session.runner.system_user_token(p, scopes, &req.customer_org, req.external_ref.clone(), a.fresh).await?
            } else {
                let creds = session.runner.credentials(p)?;
                let req = crate::maskinporten::TokenRequest { scopes, ..Default::default() };
                session.runner.maskinporten().token(&creds, &req, a.fresh).await.map_err(Failure::from)?
            };
            let claims = tok.claims().unwrap_or(Value::Null);
            let v = TokenOutput {
                token_type: tok.token_type.clone(),
                expires_in: tok.expires_in,
                expires_at: tok.expires_at,
                scope: tok.scope.clone(),
                cached: tok.cached,
                claims: claims.clone(),
                access_token: a.show.then(|| tok.token.expose().to_string()),
            };
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

async fn call(ctx: &Ctx, a: CallArgs) -> Result<i32, AppError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let method = reqwest::Method::from_bytes(a.method.to_ascii_uppercase().as_bytes())
                .map_err(|_| AppError::usage(format!("unknown HTTP method `{}`", a.method)))?;
            let body: Option<Value> = match &a.data {
                Some(d) => Some(
                    serde_json::from_str(d)
                        .map_err(|e| AppError::usage(format!("--data is not JSON: {e}")))?,
                ),
                None => None,
            };
            if flow.profile.current_request().is_none() {
                return Err(AppError::usage(
                    "no request in this profile yet: the test call needs an approved system user",
                ));
            }
            let scope = match a.scope {
                Some(s) => {
                    Some(crate::validate::scopes(&s).map_err(|e| AppError::usage(e.to_string()))?)
                }
                None => None,
            };
            // The wizard's test call, with this command's method, body, URL and scope: the
            // flow records the result in the profile and the runner saves it.
            run_all(
                &mut flow,
                &session,
                Msg::SubmitApiCall(crate::flow::ApiCall {
                    url: a.url,
                    method: Some(method.to_string()),
                    body,
                    scope,
                }),
            )
            .await;
            let Some(summary) = flow.test.clone() else {
                return Err(flow
                    .error
                    .as_ref()
                    .map(AppError::from)
                    .unwrap_or_else(|| AppError::usage("the call produced no result")));
            };
            let rec = &summary.record;
            let body_text = rec.body_excerpt.clone().unwrap_or_default();
            let v = CallOutput {
                status: rec.status,
                elapsed_ms: rec.elapsed_ms,
                url: rec.url.clone(),
                method: rec.method.clone(),
                headers: summary
                    .headers
                    .iter()
                    .map(|(k, v)| std::collections::BTreeMap::from([(k.clone(), v.clone())]))
                    .collect(),
                body: summary
                    .response_json
                    .clone()
                    .unwrap_or_else(|| Value::String(body_text.clone())),
                token_claims: summary.token_claims.clone(),
            };
            ctx.out.result(&v, || {
                format!(
                    "{} {} -> HTTP {} in {} ms\n{}",
                    rec.method,
                    rec.url,
                    rec.status,
                    rec.elapsed_ms,
                    summary
                        .response_json
                        .as_ref()
                        .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
                        .unwrap_or(body_text.clone())
                )
            });
            Ok(if (200..300).contains(&rec.status) {
                exit::OK
            } else {
                exit::REJECTED
            })
        }
        .await;
        (r, session)
    })
    .await
}

fn profile_cmd(ctx: &Ctx, cmd: ProfileCommand) -> Result<i32, AppError> {
    let err = |e: crate::profile::ProfileError| AppError::usage(e.to_string());
    match cmd {
        ProfileCommand::List => {
            let names = ctx.store.list().map_err(err)?;
            let mut rows = Vec::new();
            for n in &names {
                match ctx.store.load(n) {
                    Ok(Some(p)) => rows.push(ProfileRow {
                        name: n.clone(),
                        environment: Some(p.environment.kind),
                        step: Some(crate::flow::resume_step(&p)),
                        updated_at: Some(p.updated_at),
                        error: None,
                    }),
                    Ok(None) => {}
                    Err(e) => rows.push(ProfileRow {
                        name: n.clone(),
                        environment: None,
                        step: None,
                        updated_at: None,
                        error: Some(e.to_string()),
                    }),
                }
            }
            ctx.out.result(&rows, || {
                if rows.is_empty() {
                    return "no profiles yet".into();
                }
                rows.iter()
                    .map(|r| {
                        format!(
                            "{:<16} {:<8} {}",
                            r.name,
                            r.environment
                                .map(|e| e.to_string())
                                .unwrap_or_else(|| "?".into()),
                            r.step
                                .map(step_name)
                                .or(r.error.clone())
                                .unwrap_or_default()
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
                    AppError::usage(format!("no profile named `{}`", ctx.global.profile))
                })?;
            let v = ProfileShowOutput {
                profile: &p,
                path: ctx.store.profile_path(&p.name),
                next_step: crate::flow::resume_step(&p),
            };
            ctx.out
                .result(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
            Ok(exit::OK)
        }
        ProfileCommand::Rm { name } => {
            crate::validate::profile_name(&name).map_err(|e| AppError::usage(e.to_string()))?;
            let removed = ctx.store.remove(&name).map_err(err)?;
            if removed {
                // Which sandbox held its objects: meaningless without the profile.
                let _ = std::fs::remove_file(crate::session::binding_path(&ctx.store, &name));
            }
            if !removed {
                return Err(AppError::usage(format!("no profile named `{name}`")));
            }
            ctx.out.result(
                &ProfileRemovedOutput {
                    removed: name.clone(),
                },
                || format!("removed profile {name} (its key file, if any, was kept)"),
            );
            Ok(exit::OK)
        }
    }
}

async fn sandbox_cmd(ctx: &Ctx, cmd: SandboxCommand) -> Result<i32, AppError> {
    match cmd {
        SandboxCommand::Serve {
            port,
            bind,
            state,
            any_resource,
            strict_resources: _,
            faults,
            public_url,
        } => {
            let config = crate::sandbox::SandboxConfig {
                bind: std::net::SocketAddr::new(bind, port),
                state_file: state,
                any_resource,
                public_url: public_url.clone(),
            };
            let mut options = crate::sandbox::SandboxOptions::default();
            if let Some(path) = faults {
                options.faults = crate::sandbox::FaultPlan::from_file(&path)
                    .map_err(|e| AppError::usage(e.to_string()))?;
            }
            let handle = crate::sandbox::start_with(config, options)
                .await
                .map_err(|e| AppError::new(exit::NETWORK, e.to_string()))?;
            let url = handle.base_url();
            let server_file = crate::session::server_file_path(&ctx.store);
            let file = crate::session::ServerFile {
                url: url.clone(),
                pid: std::process::id(),
                admin_secret: Some(handle.admin_secret().to_string()),
            };
            if let Ok(bytes) = serde_json::to_vec(&file)
                && let Err(e) = crate::profile::write_atomic(&server_file, &bytes, 0o600)
            {
                tracing::warn!(error = %e, "could not record the running sandbox");
            }
            let v = SandboxServeOutput {
                base_url: url.clone(),
                maskinporten_issuer: handle.issuer(),
                token_endpoint: format!("{}token", handle.issuer()),
                altinn_base: url.clone(),
                orgs: output::seeded_orgs(),
            };
            // Bound to every interface (a workshop): participants use this machine's address
            // on the room's network, which the sandbox cannot know; it answers on any of them.
            let shared = bind.is_unspecified();
            let peer = if let Some(p) = &public_url {
                p.as_str().trim_end_matches('/').to_string()
            } else if shared {
                format!(
                    "http://<this machine's LAN address>:{}",
                    handle.local_addr().port()
                )
            } else {
                url.clone()
            };
            let issuer = handle.issuer();
            let host_secret = handle.admin_secret().to_string();
            // Signal handlers go in before the address is announced (see serve_until_signal).
            let serving = handle.serve_until_signal();
            ctx.out.result(&v, || {
                format!(
                    "sandbox listening on {url}{}\n  Maskinporten issuer: {issuer}\n  Altinn platform:     {url}\n  participants: altinn-onboard --env custom --maskinporten-url {peer}/ --altinn-url {peer}\nCtrl-C stops it.",
                    if shared { " (and on every other address of this machine)" } else { "" },
                )
            });
            // Printed once, on stderr, even with --quiet: the host needs it to change the fault
            // plan or re-key a participant's client (see the sandbox's admin module).
            eprintln!(
                "host secret (shown once; also in {} for this user): {}\n  PUT/DELETE /sandbox/faults and changes to any client take Authorization: Bearer <host secret>",
                server_file.display(),
                host_secret
            );
            let stopped = serving.await;
            let _ = std::fs::remove_file(&server_file);
            stopped.map_err(|e| AppError::new(exit::NETWORK, e.to_string()))?;
            Ok(exit::OK)
        }
        SandboxCommand::Orgs => {
            let orgs = output::seeded_orgs();
            ctx.out.result(&orgs, || {
                orgs.iter()
                    .map(|o| {
                        let people = o
                            .people
                            .iter()
                            .map(|p| {
                                format!(
                                    "    {:<7} {} ({}{}){}: {}",
                                    p.id,
                                    p.name,
                                    p.role,
                                    if p.access_manager { ", access manager" } else { "" },
                                    if p.default_approver { " [default]" } else { "" },
                                    p.shows
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n");
                        format!("{}  {}\n{people}", o.org_no, o.name)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\napprove as someone else: `sandbox approve <request id> --as <person>`, or choose the person on the approval page"
            });
            Ok(exit::OK)
        }
        SandboxCommand::Approve { id, person } => sandbox_decide(ctx, id, true, person).await,
        SandboxCommand::Reject { id, person } => sandbox_decide(ctx, id, false, person).await,
    }
}

async fn sandbox_decide(
    ctx: &Ctx,
    id: Option<String>,
    approve: bool,
    person: Option<String>,
) -> Result<i32, AppError> {
    let (profile, env) = ctx.profile_and_env()?;
    if !matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom) {
        return Err(AppError::usage(
            "approving from the command line only exists in the sandbox; in TT02 the customer approves at the confirmUrl",
        ));
    }
    // Without an id: the profile's newest request, the one `request create` just made, so the
    // README's sequence needs no id copied by hand.
    let id = match id {
        Some(id) => id,
        None => profile
            .newest_request()
            .map(|r| r.id.clone())
            .ok_or_else(|| {
                AppError::usage(format!(
                    "profile `{}` has no request yet: `request create --customer-org <org>` first, or give the request id",
                    profile.name
                ))
            })?,
    };
    // Checked here, before anything is sent: a request id is a UUID, and a wrong one is the
    // user's mistake (exit 1), not a server failure.
    let id = crate::validate::uuid(&id).map_err(|e| AppError::usage(e.to_string()))?;
    let session = ctx.session(&env).await?;
    // A custom server takes decisions only if it says it is a sandbox (its metadata).
    match session.runner.server_kind().await {
        Ok(kind) if kind.is_sandbox() => {}
        Ok(_) => {
            session.close().await;
            return Err(AppError::usage(
                "this server is not an altinn-onboard sandbox (its Maskinporten metadata does not say so); the customer approves at the confirmUrl",
            ));
        }
        Err(f) => {
            session.close().await;
            return Err(AppError::from(f));
        }
    }
    let http = crate::http::client().map_err(|e| AppError::usage(e.to_string()))?;
    let portal = crate::portal::SandboxPortal::new(&session.env, http);
    let r = portal
        .decide(&id, approve, person.as_deref())
        .await
        .map_err(|e| AppError::from(Failure::from(e)));
    session.close().await;
    let decided = r?;
    let v = DecisionOutput {
        id: id.clone(),
        decision: if approve { "approved" } else { "rejected" },
        person: decided.person.clone(),
    };
    ctx.out.result(&v, || {
        format!(
            "request {id} {}{}",
            if approve { "approved" } else { "rejected" },
            decided
                .person
                .as_deref()
                .map(|p| format!(" (as {p})"))
                .unwrap_or_default()
        )
    });
    Ok(exit::OK)
}

/// A step as `profile list` prints it: the name `--json` uses.
fn step_name(step: crate::flow::Step) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `man`: the man page from the same clap definition as `--help`, so they cannot disagree.
fn man(ctx: &Ctx, out: Option<std::path::PathBuf>) -> Result<i32, AppError> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let failed = |e: std::io::Error| AppError::usage(format!("cannot write the man page: {e}"));
    match out {
        None => {
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout().lock())
                .map_err(failed)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(failed)?;
            // altinn-onboard.1, plus altinn-onboard-keys.1, altinn-onboard-keys-generate.1, ...
            clap_mangen::generate_to(cmd, &dir).map_err(failed)?;
            ctx.out.info(format!(
                "wrote altinn-onboard.1 and its subcommand pages to {}",
                dir.display()
            ));
        }
    }
    Ok(exit::OK)
}
