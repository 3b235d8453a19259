//! `doctor`: checks everything that can be checked, prints each as pass/fail with the fix, and
//! when the system-user token fails walks the known causes of MP-303.

use crate::altinn::client::{SCOPE_REGISTER_WRITE, SCOPE_REQUEST_READ, VENDOR_SCOPES};
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
    fn fail(&mut self, name: &str, detail: impl Into<String>, fix: impl Into<String>) -> bool {
        self.add(name, Status::Fail, detail, Some(fix.into()))
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

    // The client as the sandbox knows it.
    if let (Some(k), Some(cid), true) = (
        &key,
        &profile.client_id,
        matches!(env.kind, EnvKind::Sandbox | EnvKind::Custom),
    ) {
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
                            "`system register`",
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
                            "wait for approval or create a new request",
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
                                        "systemuser_org must be the org that approved",
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
                                        r.fail("cause: externalRef", format!("the grant sends `{want}`, the system user has [{}]", refs.join(", ")), "use the request's externalRef (`request create --external-ref`)");
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
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(if failed { exit::USAGE } else { exit::OK })
}
