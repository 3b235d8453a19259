//! `doctor`: checks everything that can be checked, prints each as pass/fail with the fix, and
//! when the system-user token fails walks the known causes of MP-303.

use crate::altinn::client::{SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ, VENDOR_SCOPES};
use crate::altinn::problem::CodeHelp;
use crate::app::{AppError, Ctx, exit};
use crate::env::EnvKind;
use crate::portal::SandboxPortal;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
    /// Ready e-mails where a fix is a request to a service desk or a scope owner.
    emails: Vec<crate::readiness::ReadyEmail>,
}

impl Report {
    fn add(
        &mut self,
        name: &str,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) -> bool {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix,
        });
        status != Status::Fail
    }
    fn pass(&mut self, name: &str, detail: impl Into<String>) -> bool {
        self.add(name, Status::Pass, detail, None)
    }
    /// A failed check. When the detail carries codes Altinn or Maskinporten answered with,
    /// the fix names, per code, the step it belongs to, the cause and the fix ([`explain_text`]);
    /// the generic fix is kept only when no code is known.
    fn fail(&mut self, name: &str, detail: impl Into<String>, fix: impl Into<String>) -> bool {
        let detail = detail.into();
        let explained = explain_text(&detail);
        let fix = if explained.is_empty() {
            fix.into()
        } else {
            explained
                .iter()
                .map(|(code, h)| format!("{code} ({} step): {}; fix: {}", h.step, h.cause, h.fix))
                .collect::<Vec<_>>()
                .join("\n       ")
        };
        self.add(name, Status::Fail, detail, Some(fix))
    }
    fn skip(&mut self, name: &str, why: &str) {
        self.add(name, Status::Skip, why, None);
    }
}

pub async fn run(ctx: &Ctx) -> Result<i32, AppError> {
    // Doctor fetches fresh tokens and may start the embedded sandbox: like every command, it
    // holds the profile while it works.
    let _lock = ctx.lock_profile()?;
    let mut r = Report::default();
    let (profile, env) = match ctx.profile_and_env() {
        Ok(x) => x,
        Err(e) => {
            r.fail(
                "profile",
                e.message,
                "fix or move the profile file away (`profile show` prints its path)",
            );
            return finish(ctx, r);
        }
    };
    let exists = ctx.store.load(&profile.name).ok().flatten().is_some();
    r.add(
        "profile",
        if exists { Status::Pass } else { Status::Warn },
        format!(
            "profile `{}` ({}), next step: {}",
            profile.name,
            env.kind,
            crate::flow::resume_step(&profile).title()
        ),
        (!exists).then(|| "run the wizard or `keys generate` to create it".to_string()),
    );
    let session = match ctx.session(&env).await {
        Ok(s) => s,
        Err(e) => {
            r.fail("environment", e.message, "check --env and the URLs");
            return finish(ctx, r);
        }
    };
    let runner = session.runner.clone();

    // Key file.
    let key = match (&profile.key_path, &profile.kid) {
        (Some(path), Some(_)) => match crate::keys::check_private_key_permissions(path) {
            Err(e) => {
                r.fail(
                    "key file",
                    e.to_string(),
                    format!("chmod 600 {}", path.display()),
                );
                None
            }
            Ok(()) => match runner.key_for(&profile) {
                Ok(k) => {
                    r.pass(
                        "key file",
                        format!(
                            "{} (kid {}, {} bits, mode 0600)",
                            path.display(),
                            k.kid(),
                            k.bits()
                        ),
                    );
                    Some(k)
                }
                Err(f) => {
                    r.fail(
                        "key file",
                        f.message,
                        "import the key again with `keys import`, or generate a new one",
                    );
                    None
                }
            },
        },
        _ => {
            r.fail(
                "key file",
                "no key in this profile",
                "`altinn-onboard keys generate`",
            );
            None
        }
    };

    // Client details and scopes.
    let client_ok = match (&profile.client_id, &profile.vendor_org) {
        (Some(c), Some(o)) => r.pass("client", format!("client id {c}, vendor org {o}")),
        _ => r.fail(
            "client",
            "client id or vendor org missing",
            "`altinn-onboard client set --vendor-org <org> [--client-id <id>]`",
        ),
    };
    let missing: Vec<&str> = VENDOR_SCOPES
        .iter()
        .copied()
        .filter(|s| !profile.scopes.iter().any(|p| p == s))
        .collect();
    if missing.is_empty() {
        r.pass("scopes", profile.scopes.join(" "));
    } else {
        r.add(
            "scopes",
            Status::Warn,
            format!("the vendor flow also needs: {}", missing.join(" ")),
            Some("add them to the client (portal) and to `client set --scope`".into()),
        );
    }

    // Reachability and clock.
    let http = crate::http::client().map_err(|e| AppError::usage(e.to_string()))?;
    let meta = format!(
        "{}.well-known/oauth-authorization-server",
        session.env.maskinporten_issuer
    );
    match http.get(&meta).send().await {
        Ok(resp) => {
            let offset = crate::http::clock_offset_secs(resp.headers());
            r.pass(
                "maskinporten reachable",
                format!("{meta} answered {}", resp.status().as_u16()),
            );
            match offset {
                Some(o) if o.abs() > 5 => {
                    r.fail("clock", format!("your clock is {} s {} the server's", o.abs(), if o > 0 { "behind" } else { "ahead of" }), "synchronise the system clock (NTP); grants are rejected beyond 10 s of skew");
                }
                Some(o) => {
                    r.pass(
                        "clock",
                        format!("offset {o} s against the server's Date header"),
                    );
                }
                None => r.skip("clock", "the server sent no Date header"),
            }
        }
        Err(e) => {
            r.fail(
                "maskinporten reachable",
                crate::maskinporten::describe_reqwest(&e),
                "check the URL, your network, or that the sandbox runs",
            );
        }
    }
    let altinn = session.env.authentication_api("systemregister/vendor");
    match http.get(&altinn).send().await {
        Ok(resp) => {
            r.pass(
                "altinn reachable",
                format!(
                    "{altinn} answered {} (401 is expected without a token)",
                    resp.status().as_u16()
                ),
            );
        }
        Err(e) => {
            r.fail(
                "altinn reachable",
                crate::maskinporten::describe_reqwest(&e),
                "check the URL and your network",
            );
        }
    }

    // The client as the sandbox knows it (a custom server only when it says it is a sandbox).
    let server = runner.server_kind().await;
    if let Err(f) = &server {
        r.add("server kind", Status::Warn, f.message.clone(), None);
    }
    let is_sandbox = server.as_ref().is_ok_and(|s| s.is_sandbox());
    if let (Some(k), Some(cid), true) = (&key, &profile.client_id, is_sandbox) {
        match SandboxPortal::new(&session.env, http.clone())
            .client(cid)
            .await
        {
            // Same kid but another public key: grants would fail their signature check.
            Ok(Some(c)) if c.public_key(k.kid()).is_some_and(|n| n != k.public_jwk().n) => {
                r.fail(
                    "client key",
                    format!(
                        "the sandbox has a different public key under kid {} for client {cid}",
                        k.kid()
                    ),
                    "`client set --vendor-org <org>` registers this profile's key",
                );
            }
            Ok(Some(c)) if c.kids().iter().any(|x| x == k.kid()) => {
                r.pass(
                    "client key",
                    format!("the sandbox knows kid {} for client {cid}", k.kid()),
                );
                client_org(
                    &mut r,
                    c.org.as_deref(),
                    profile.vendor_org.as_deref(),
                    &format!("the sandbox has client {cid} under"),
                );
            }
            Ok(Some(c)) => {
                r.fail(
                    "client key",
                    format!(
                        "the sandbox has kids [{}] for {cid}, this profile's key is {}",
                        c.kids().join(", "),
                        k.kid()
                    ),
                    "`client set --vendor-org <org> --client-id <id>` registers this key",
                );
            }
            Ok(None) => {
                r.fail(
                    "client key",
                    format!("the sandbox does not know client {cid}"),
                    "`client set --vendor-org <org>` registers the client again",
                );
            }
            Err(e) => {
                r.add("client key", Status::Warn, e.to_string(), None);
            }
        }
    } else if !matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom) {
        r.skip(
            "client key",
            "TT02/production: the portal holds the key; the token check below proves it",
        );
    } else if server.is_ok() && !is_sandbox {
        r.skip(
            "client key",
            "this server is not an altinn-onboard sandbox: its portal holds the key; the token check below proves it",
        );
    }

    // A vendor token.
    let mut token = None;
    if key.is_some() && client_ok {
        match runner
            .vendor_token(&profile, SCOPE_REGISTER_WRITE, true)
            .await
        {
            Ok(t) => {
                r.pass(
                    "vendor token",
                    format!("Maskinporten issued a token with {SCOPE_REGISTER_WRITE}"),
                );
                if !matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom) {
                    // The portal is not ours to ask: the token names the client's organisation.
                    let consumer = t.claims().and_then(|c| {
                        c["consumer"]["ID"]
                            .as_str()
                            .map(|id| id.trim_start_matches("0192:").to_string())
                    });
                    client_org(
                        &mut r,
                        consumer.as_deref(),
                        profile.vendor_org.as_deref(),
                        "Maskinporten's token (consumer claim) names",
                    );
                }
                token = Some(t);
            }
            Err(f) => {
                r.fail("vendor token", f.message, "see the hint above");
            }
        }
    } else {
        r.skip("vendor token", "needs a key and a client");
    }

    // Readiness: the scope catalogue, the key's expiry, the five-key limit, and on TT02 and
    // production what cannot be seen from outside (src/readiness.rs).
    let mut known = crate::readiness::Known {
        key_file_date: crate::readiness::key_file_date(&profile),
        ..Default::default()
    };
    if token.is_some() {
        known.granted.push(SCOPE_REGISTER_WRITE.to_string());
    }
    if let (Some(cid), true) = (&profile.client_id, is_sandbox) {
        // The sandbox's stand-in for Digdir's portal knows the client's scopes (each granted
        // when it was added) and keys.
        if let Ok(Some(c)) = SandboxPortal::new(&session.env, http.clone())
            .client(cid)
            .await
        {
            known.granted.extend(c.scopes.iter().cloned());
            known.client_keys = Some(c.kids().len());
        }
    }
    let readiness =
        crate::readiness::check(&http, &session.env, &profile, &known, chrono::Utc::now()).await;
    for item in &readiness.items {
        let status = match item.level {
            crate::readiness::Level::Pass => Status::Pass,
            crate::readiness::Level::Warn => Status::Warn,
            crate::readiness::Level::Fail => Status::Fail,
            crate::readiness::Level::Skip => Status::Skip,
        };
        r.add(&item.name, status, item.detail.clone(), item.fix.clone());
    }
    r.emails = readiness.emails;

    // The system.
    let system_id = profile.system_id();
    let mut system_clients: Option<Vec<String>> = None;
    match (&token, &system_id) {
        (Some(t), Some(id)) => match runner.altinn().get_system(&t.token, id).await {
            Ok(Some(s)) => {
                let has = profile
                    .client_id
                    .as_ref()
                    .is_some_and(|c| s.client_id.contains(c));
                if has {
                    r.pass("system", format!("{id} is registered with this client id"));
                } else {
                    r.fail(
                        "system",
                        format!(
                            "{id} does not list client id {} (it has [{}])",
                            profile.client_id.as_deref().unwrap_or("?"),
                            s.client_id.join(", ")
                        ),
                        "`system register` adds it",
                    );
                }
                system_clients = Some(s.client_id);
            }
            Ok(None) => {
                r.fail(
                    "system",
                    format!("{id} is not in the register"),
                    "`system register`",
                );
            }
            Err(e) => {
                r.fail("system", e.to_string(), "see the hint");
            }
        },
        (_, None) => r.skip("system", "no system in this profile yet"),
        _ => r.skip("system", "needs a vendor token"),
    }

    // The request and the system-user token.
    let request = profile.current_request().cloned();
    let mut status = None;
    match (&request, key.is_some() && client_ok) {
        (Some(req), true) => {
            match runner
                .poll_status(
                    &profile,
                    &req.id,
                    req.kind == crate::profile::RequestKind::Agent,
                )
                .await
            {
                Ok(u) => {
                    status = Some(u.status.clone());
                    if u.status.is_accepted() {
                        r.pass(
                            "request",
                            format!("{} for {} is Accepted", req.id, req.customer_org),
                        );
                    } else {
                        r.fail("request", format!("{} for {} is {}", req.id, req.customer_org, u.status), if u.status.is_pending() { "the customer must approve at the confirmUrl (`request status --wait`)".to_string() } else { "create a new request (`request create`)".to_string() });
                    }
                }
                Err(f) => {
                    r.fail("request", f.message, "see the hint");
                }
            }
        }
        (None, _) => r.skip("request", "no request in this profile yet"),
        _ => r.skip("request", "needs a key and a client"),
    }
    if let Some(req) = &request {
        let scopes = profile
            .system_user_scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_else(|| profile.scopes.clone());
        match runner
            .system_user_token(
                &profile,
                scopes,
                &req.customer_org,
                req.external_ref.clone(),
                true,
            )
            .await
        {
            Ok(_) => {
                r.pass(
                    "system-user token",
                    format!(
                        "Maskinporten issued a system-user token for {}",
                        req.customer_org
                    ),
                );
            }
            Err(f) => {
                r.fail(
                    "system-user token",
                    f.message,
                    "the checks below name the cause",
                );
                // Walk the known causes (MP-303).
                match (&system_clients, &profile.client_id) {
                    (Some(list), Some(c)) if !list.contains(c) => {
                        r.fail(
                            "cause: client id in system",
                            format!("{c} is missing from the system's clientId"),
                            mp303_fix("client id in system"),
                        );
                    }
                    (Some(_), Some(_)) => {
                        r.pass("cause: client id in system", "present");
                    }
                    _ => r.skip("cause: client id in system", "system unknown"),
                }
                match &status {
                    Some(s) if !s.is_accepted() => {
                        r.fail(
                            "cause: request accepted",
                            format!("the request is {s}"),
                            mp303_fix("request accepted"),
                        );
                    }
                    Some(_) => {
                        r.pass("cause: request accepted", "Accepted");
                    }
                    None => r.skip("cause: request accepted", "status unknown"),
                }
                if let (Some(t), Some(id)) = (&token, &system_id) {
                    match runner
                        .vendor_token(&profile, SCOPE_REQUEST_READ, false)
                        .await
                    {
                        Ok(read) => match runner.altinn().list_system_users(&t.token, id).await {
                            Ok(users) => {
                                let for_org: Vec<_> = users
                                    .iter()
                                    .filter(|u| u.reportee_org_no == req.customer_org)
                                    .collect();
                                if for_org.is_empty() {
                                    let orgs: Vec<_> =
                                        users.iter().map(|u| u.reportee_org_no.clone()).collect();
                                    r.fail(
                                        "cause: customer org",
                                        format!(
                                            "no system user for {} (system users exist for [{}])",
                                            req.customer_org,
                                            orgs.join(", ")
                                        ),
                                        mp303_fix("customer org"),
                                    );
                                } else {
                                    r.pass(
                                        "cause: customer org",
                                        format!("a system user exists for {}", req.customer_org),
                                    );
                                    let want = req
                                        .external_ref
                                        .clone()
                                        .unwrap_or_else(|| req.customer_org.clone());
                                    let refs: Vec<String> = for_org
                                        .iter()
                                        .filter_map(|u| u.external_ref.clone())
                                        .collect();
                                    if refs.contains(&want) {
                                        r.pass("cause: externalRef", format!("`{want}` matches"));
                                    } else {
                                        r.fail("cause: externalRef", format!("the grant sends `{want}`, the system user has [{}]", refs.join(", ")), mp303_fix("externalRef"));
                                    }
                                }
                                let _ = read;
                            }
                            Err(e) => {
                                r.add("cause: customer org", Status::Warn, e.to_string(), None);
                            }
                        },
                        Err(f) => {
                            r.add("cause: customer org", Status::Warn, f.message, None);
                        }
                    }
                }
            }
        }
    } else {
        r.skip("system-user token", "no request yet");
    }
    session.close().await;
    finish(ctx, r)
}

/// Every code in an error text that the client's tables explain, in order of appearance, each
/// once: Altinn's `AUTH-nnnnn` / `AUTH.VLD-nnnnn` ([`crate::altinn::problem::explain_code`]),
/// Maskinporten's `MP-nnn`, the OAuth error names `invalid_scope`, `invalid_client`,
/// `invalid_altinn_customer_configuration`, the self-service portal's `PRECONDITION_REQUIRED`
/// and the "Unknown key identifier (kid)" answer ([`crate::maskinporten::explain_mp_code`]).
pub fn explain_text(text: &str) -> Vec<(String, CodeHelp)> {
    let mut found: Vec<(usize, String)> = Vec::new();
    // (prefix, digits) of the numbered codes.
    for (prefix, digits) in [("AUTH.VLD-", 5), ("AUTH-", 5), ("MP-", 3)] {
        for (i, _) in text.match_indices(prefix) {
            let rest = &text[i + prefix.len()..];
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if n.len() == digits {
                found.push((i, format!("{prefix}{n}")));
            }
        }
    }
    for name in [
        "invalid_scope",
        "invalid_client",
        "invalid_altinn_customer_configuration",
        "PRECONDITION_REQUIRED",
    ] {
        if let Some(i) = text.find(name) {
            found.push((i, name.to_string()));
        }
    }
    // Maskinporten's "Unknown key identifier (kid)" carries no id of its own.
    if let Some(i) = text
        .to_ascii_lowercase()
        .find("unknown key identifier")
        .or_else(|| text.find(crate::maskinporten::UNKNOWN_KID))
    {
        found.push((i, crate::maskinporten::UNKNOWN_KID.to_string()));
    }
    found.sort();
    // An unknown kid comes as `invalid_client`, but the client exists: only the kid is news.
    if found
        .iter()
        .any(|(_, c)| c == crate::maskinporten::UNKNOWN_KID)
    {
        found.retain(|(_, c)| c != "invalid_client");
    }
    let mut out: Vec<(String, CodeHelp)> = Vec::new();
    for (_, code) in found {
        let help = crate::altinn::problem::explain_code(&code)
            .or_else(|| crate::maskinporten::explain_mp_code(&code));
        if let Some(h) = help
            // One explanation per cause: MP-303 and its OAuth name say the same.
            && !out.iter().any(|(c, x)| *c == code || *x == h)
        {
            out.push((code, h));
        }
    }
    out
}

/// The fix for one of MP-303's causes, from [`crate::maskinporten::MP303_CAUSES`].
fn mp303_fix(cause: &str) -> String {
    crate::maskinporten::MP303_CAUSES
        .iter()
        .find(|(c, _)| *c == cause)
        .map(|(_, h)| format!("{}: {}", h.cause, h.fix))
        .unwrap_or_default()
}

/// The client's organisation against the profile's: a client made for another (mistyped)
/// organisation gets tokens for that one, and the register answers 403 for the profile's.
fn client_org(r: &mut Report, client: Option<&str>, profile: Option<&str>, source: &str) {
    match (client, profile) {
        (Some(c), Some(p)) if c == p => {
            r.pass("client org", format!("{source} {c}, as the profile"));
        }
        (Some(c), Some(p)) => {
            r.fail(
                "client org",
                format!("{source} {c}, but the profile's vendor org is {p}: the register will refuse the system (403)"),
                format!(
                    "on the sandbox, `client set --vendor-org {p}` makes a client for {p} with this key; in TT02/production a \
                     client's organisation is fixed: create a client for {p} in the self-service portal and `client set \
                     --vendor-org {p} --client-id <its id>` (or, if {c} is right, `client set --vendor-org {c}`)"
                ),
            );
        }
        _ => r.skip("client org", "the client's organisation is not known"),
    }
}

fn finish(ctx: &Ctx, r: Report) -> Result<i32, AppError> {
    let failed = r.checks.iter().any(|c| c.status == Status::Fail);
    let v = super::output::DoctorOutput {
        ok: !failed,
        checks: &r.checks,
        emails: &r.emails,
    };
    ctx.out.result(&v, || {
        r.checks
            .iter()
            .map(|c| {
                let mark = match c.status {
                    Status::Pass => "PASS",
                    Status::Warn => "WARN",
                    Status::Fail => "FAIL",
                    Status::Skip => "skip",
                };
                let mut line = format!("[{mark}] {}: {}", c.name, c.detail);
                if let Some(f) = &c.fix {
                    line.push_str(&format!("\n       fix: {f}"));
                }
                line
            })
            .chain(
                r.emails
                    .iter()
                    .map(|m| format!("\nA ready e-mail (copy it):\n{}", m.as_text().trim_end())),
            )
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(if failed { exit::USAGE } else { exit::OK })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::altinn::AltinnError;
    use crate::altinn::problem::{ALTINN_CODES, ProblemDetails, hint_for};
    use crate::maskinporten::{MP_CODES, MaskinportenError};

    /// The error text the CLI prints for an Altinn answer carrying `code`, built from the
    /// answer's body the way the client parses it.
    fn altinn_error_text(code: &str) -> String {
        let body = if code.starts_with("AUTH.VLD-") {
            serde_json::json!({"type": "urn:altinn:error:STD-00000", "title": "One or more validation errors occurred.",
                "status": 400, "code": "STD-00000", "validationErrors": [{"code": code, "title": "t", "paths": ["/registersystemrequest/x"]}]})
        } else {
            serde_json::json!({"type": format!("urn:altinn:error:{code}"), "title": "t", "status": 400, "code": code})
        };
        let problem: ProblemDetails = serde_json::from_value(body).expect("problem");
        let hint = hint_for(&problem);
        AltinnError::Problem {
            method: "POST".into(),
            url: "https://platform.tt02.altinn.no/authentication/api/v1/x".into(),
            status: 400,
            problem,
            hint,
        }
        .to_string()
    }

    /// The error text for a Maskinporten refusal: `MP-nnn` inside the description, or only the
    /// OAuth error name.
    fn mp_error_text(code: &str) -> String {
        if code == "PRECONDITION_REQUIRED" {
            // What the self-service portal shows before the terms are accepted.
            return "PRECONDITION_REQUIRED: Virksomheten har ikke signert de relevante bruksvilkårene".into();
        }
        let (error, description) = if code == crate::maskinporten::UNKNOWN_KID {
            (
                "invalid_client".to_string(),
                Some("Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.".to_string()),
            )
        } else if code.starts_with("MP-") {
            (
                "invalid_grant".to_string(),
                Some(format!("Something went wrong ({code})")),
            )
        } else {
            (code.to_string(), None)
        };
        MaskinportenError::Rejected {
            status: 400,
            error,
            description,
            hint: "h".into(),
            clock_offset: None,
        }
        .to_string()
    }

    /// One row per code the doctor decodes: code, expected step, a word of the cause, a word
    /// of the fix.
    const ROWS: &[(&str, &str, &str, &str)] = &[
        ("AUTH.VLD-00000", "system", "0192", "0192:<your org number>"),
        (
            "AUTH.VLD-00001",
            "system",
            "org number",
            "<vendorOrg>_<name>",
        ),
        ("AUTH.VLD-00002", "system", "already exists", "update it"),
        (
            "AUTH.VLD-00003",
            "system",
            "resource registry",
            "Resource Registry",
        ),
        (
            "AUTH.VLD-00004",
            "system",
            "already used",
            "one client id per system",
        ),
        (
            "AUTH.VLD-00005",
            "system",
            "absolute https",
            "https://host/path",
        ),
        (
            "AUTH.VLD-00006",
            "system",
            "right is listed twice",
            "each resource once",
        ),
        (
            "AUTH.VLD-00007",
            "system",
            "access package is listed twice",
            "each access package once",
        ),
        (
            "AUTH.VLD-00008",
            "system",
            "unknown, malformed",
            "access-package catalogue",
        ),
        (
            "AUTH.VLD-00009",
            "system",
            "urn:altinn:resource",
            "urn:altinn:resource",
        ),
        (
            "AUTH.VLD-00011",
            "system",
            "client id is listed twice",
            "each client id once",
        ),
        (
            "AUTH.VLD-00012",
            "system",
            "differs from the id in the URL",
            "same system id",
        ),
        ("AUTH.VLD-00013", "system", "spaces", "without spaces"),
        (
            "AUTH.VLD-00017",
            "system",
            "MaskinportenSchema",
            "GenericAccessResource",
        ),
        (
            "AUTH.VLD-00018",
            "system",
            "client-only access package",
            "--invisible",
        ),
        ("AUTH-00000", "request", "Entity Register", "Tenor"),
        (
            "AUTH-00001",
            "request",
            "not on the registered system",
            "register the system with that right",
        ),
        (
            "AUTH-00004",
            "request",
            "already exists",
            "already approved",
        ),
        (
            "AUTH-00006",
            "request",
            "already accepted",
            "system user exists",
        ),
        ("AUTH-00007", "request", "still pending", "reuse it"),
        ("AUTH-00008", "request", "denied", "delete it"),
        ("AUTH-00009", "request", "rejected", "delete it"),
        ("AUTH-00010", "request", "agent route", "--agent"),
        ("AUTH-00011", "system", "another vendor", "owns the system"),
        ("AUTH-00013", "approval", "no longer New", "request status"),
        ("AUTH-00014", "approval", "unknown error", "traceId"),
        (
            "AUTH-00015",
            "request",
            "no such system user",
            "system-user id",
        ),
        ("AUTH-00016", "approval", "no role", "general manager"),
        (
            "AUTH-00018",
            "approval",
            "direct delegation",
            "delegated to the approver",
        ),
        ("AUTH-00019", "approval", "SRR", "service owner"),
        ("AUTH-00020", "approval", "authentication level", "BankID"),
        (
            "AUTH-00021",
            "request",
            "allowedRedirectUrls",
            "redirect URLs",
        ),
        ("AUTH-00023", "request", "consumer", "vendor's client"),
        (
            "AUTH-00025",
            "request",
            "not an agent request",
            "without --agent",
        ),
        (
            "AUTH-00026",
            "request",
            "no allowedRedirectUrls",
            "add a redirect URL",
        ),
        (
            "AUTH-00030",
            "approval",
            "not an agent request",
            "agent request's confirmUrl",
        ),
        ("AUTH-00050", "approval", "could not check", "try again"),
        (
            "AUTH-00052",
            "approval",
            "not on the system",
            "register the system with the package",
        ),
        (
            "AUTH-00053",
            "approval",
            "not have enough access",
            "holds the packages",
        ),
        (
            "AUTH-00058",
            "request",
            "at least one access package",
            "--access-package",
        ),
        (
            "AUTH-00059",
            "request",
            "at least one right or access package",
            "at least one right",
        ),
        (
            "AUTH-00061",
            "approval",
            "change request is no longer New",
            "new correlation id",
        ),
        (
            "AUTH-00063",
            "request",
            "not on the registered system",
            "register the system with the package",
        ),
        (
            "AUTH-00064",
            "request",
            "standard system user",
            "request create --agent",
        ),
        (
            "AUTH-00065",
            "request",
            "agent system user",
            "standard request",
        ),
        (
            "AUTH-00066",
            "approval",
            "access-manager",
            "access-manager role",
        ),
        (
            "AUTH-00068",
            "approval",
            "access package",
            "package delegated to the approver",
        ),
        (
            "AUTH-00069",
            "approval",
            "access list",
            "add the customer to the access list",
        ),
        (
            "AUTH-00070",
            "approval",
            "delegable: false",
            "delegable resource",
        ),
        (
            "AUTH-00071",
            "approval",
            "Maskinporten schema",
            "Digdir's portal",
        ),
        ("MP-011", "client", "malformed", "report it"),
        ("MP-012", "client", "used before", "try again"),
        ("MP-100", "client", "does not exist", "same environment"),
        (
            "invalid_client",
            "client",
            "does not exist",
            "same environment",
        ),
        ("MP-110", "client", "aud", "trailing slash"),
        ("MP-120", "client", "does not verify", "keys show --jwks"),
        ("MP-121", "client", "expired", "keys generate"),
        ("MP-122", "client", "does not verify", "keys show --jwks"),
        ("MP-123", "client", "does not verify", "keys show --jwks"),
        ("MP-124", "client", "does not verify", "keys show --jwks"),
        ("MP-130", "client", "timestamps", "NTP"),
        (
            "MP-200",
            "client",
            "not been granted a scope",
            "system vendor",
        ),
        (
            "invalid_scope",
            "client",
            "not been granted a scope",
            "system vendor",
        ),
        (
            "MP-250",
            "client",
            "key is accepted",
            "grant your organisation access",
        ),
        (
            "PRECONDITION_REQUIRED",
            "client",
            "terms of use",
            "accepts the terms",
        ),
        (
            "unknown_kid",
            "client",
            "propagation delay",
            "wait 2 minutes and retry",
        ),
        (
            "MP-201",
            "client",
            "integration type",
            "integration type maskinporten",
        ),
        (
            "MP-303",
            "token",
            "no approved system user",
            "request is Accepted",
        ),
        (
            "invalid_altinn_customer_configuration",
            "token",
            "no approved system user",
            "externalRef",
        ),
    ];

    #[test]
    fn every_code_is_explained_with_step_cause_and_fix() {
        for (code, step, cause, fix) in ROWS {
            let text = if code.starts_with("AUTH") {
                altinn_error_text(code)
            } else {
                mp_error_text(code)
            };
            let found = explain_text(&text);
            let (got, help) = found
                .first()
                .unwrap_or_else(|| panic!("{code}: nothing decoded from {text:?}"));
            assert_eq!(got, code, "{text}");
            assert_eq!(help.step, *step, "{code}");
            assert!(help.cause.contains(cause), "{code}: cause {:?}", help.cause);
            assert!(help.fix.contains(fix), "{code}: fix {:?}", help.fix);
        }
    }

    #[test]
    fn the_table_rows_cover_every_known_code() {
        for (code, _) in ALTINN_CODES.iter().chain(MP_CODES) {
            assert!(
                ROWS.iter().any(|(c, ..)| c == code),
                "{code} has no test row"
            );
        }
        // Everything the strict sandbox can answer (issue 10) is known.
        for code in [
            "AUTH.VLD-00003",
            "AUTH.VLD-00008",
            "AUTH.VLD-00017",
            "AUTH.VLD-00018",
            "AUTH-00063",
            "AUTH-00064",
            "AUTH-00065",
            "AUTH-00066",
            "AUTH-00016",
            "AUTH-00018",
            "AUTH-00019",
            "AUTH-00020",
            "AUTH-00068",
            "AUTH-00069",
            "AUTH-00070",
            "AUTH-00071",
            "AUTH-00013",
            "AUTH-00010",
            "AUTH-00011",
            "invalid_scope",
            "MP-303",
        ] {
            assert!(
                crate::altinn::problem::explain_code(code)
                    .or_else(|| crate::maskinporten::explain_mp_code(code))
                    .is_some(),
                "{code} is not explained"
            );
        }
    }

    /// MP-303's causes, each with step, cause and fix, in the order doctor walks them.
    #[test]
    fn mp303_has_its_three_documented_causes_and_the_pending_request() {
        use crate::maskinporten::MP303_CAUSES;
        let rows: &[(&str, &str, &str, &str)] = &[
            (
                "client id in system",
                "system",
                "clientId list",
                "`system register`",
            ),
            ("externalRef", "token", "externalRef", "--external-ref"),
            (
                "customer org",
                "token",
                "facilitator",
                "0192:<the org that approved>",
            ),
            (
                "request accepted",
                "approval",
                "not approved",
                "request status --wait",
            ),
        ];
        assert_eq!(MP303_CAUSES.len(), rows.len());
        for ((name, h), (want, step, cause, fix)) in MP303_CAUSES.iter().zip(rows) {
            assert_eq!(name, want);
            assert_eq!(h.step, *step, "{name}");
            assert!(h.cause.contains(cause), "{name}: {:?}", h.cause);
            assert!(h.fix.contains(fix), "{name}: {:?}", h.fix);
        }
    }

    /// Right after an upload an unknown kid is propagation, not a missing client.
    #[test]
    fn an_unknown_kid_is_not_explained_as_a_missing_client() {
        let found = explain_text(&mp_error_text("unknown_kid"));
        let codes: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes, ["unknown_kid"]);
        assert!(found[0].1.cause.contains("not a misconfiguration"));
    }

    #[test]
    fn a_failed_check_carries_the_explanation_as_its_fix() {
        let mut r = Report::default();
        let text = mp_error_text("MP-303");
        r.fail("system-user token", text, "generic");
        let fix = r.checks[0].fix.clone().unwrap_or_default();
        assert!(fix.starts_with("MP-303 (token step): "), "{fix}");
        assert!(fix.contains("request is Accepted"), "{fix}");
        // No code: the generic fix stays.
        r.fail("key file", "no key in this profile", "`keys generate`");
        assert_eq!(r.checks[1].fix.as_deref(), Some("`keys generate`"));
        // Two codes in one answer: both, in order, each once.
        let both = explain_text("AUTH-00066 then AUTH-00071, again AUTH-00066");
        let codes: Vec<&str> = both.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes, ["AUTH-00066", "AUTH-00071"]);
    }
}
