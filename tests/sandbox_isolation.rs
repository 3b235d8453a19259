//! Vendor isolation in the sandbox (issue 14): one vendor's token must not read or change
//! another vendor's systems, requests, change requests or system users.
//!
//! - the reproduction: vendor B's DELETE of vendor A's request is refused, and A still sees it;
//! - a property test over every route in `vendor_routes::VENDOR_ROUTES` (the list a unit test in
//!   the sandbox crate keeps in step with the route table): for random pairs of seeded vendors,
//!   calling the route with the other vendor's token on an object it does not own answers the
//!   real service's refusal and changes nothing (state file byte for byte, and the owner's view).

mod sandbox_common;

use altinn_onboard::sandbox::vendor_routes::{Refusal, Target, VENDOR_ROUTES, VendorRoute};
use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle, seeded_orgs};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sandbox_common::*;
use serde_json::{Value, json};

const PACKAGE: &str = "urn:altinn:accesspackage:skatt-naering";

/// What one vendor owns in the shared sandbox.
#[derive(Clone)]
struct Owned {
    org: String,
    vendor: Vendor,
    token: String,
    system_id: String,
    /// Standard request, New, for (CUSTOMER_ORG, "pending").
    request: String,
    /// Agent request, New, for (CUSTOMER_ORG, "agent").
    agent_request: String,
    /// System user from an approved request for (CUSTOMER_ORG_2, "approved").
    system_user: String,
    /// Change request, New, on that system user.
    change_request: String,
}

fn v1(sb: &SandboxHandle, path: &str) -> String {
    format!("{}{path}", sb.base_url())
}

async fn send(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, String) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    // One client per test thread (building one reads the system's root certificates; a client
    // must not outlive the runtime its connections run on, and each test has its own).
    thread_local! {
        static CLIENT: reqwest::Client = http();
    }
    let mut rb = CLIENT.with(|c| c.request(m, url).bearer_auth(token));
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let resp = rb.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

async fn ok_json(method: &str, url: &str, token: &str, body: Option<&Value>) -> Value {
    let (status, text) = send(method, url, token, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {url}: {status} {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn onboard(sb: &SandboxHandle, org: &str) -> Owned {
    let vendor = create_client(sb, org, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(
        sb,
        &vendor,
        &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ],
    )
    .await;
    let body = system_body(org, "iso", &[&vendor.client_id]);
    let resp = create_system(sb, &token, &body).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let system_id = format!("{org}_iso");
    let mut req = standard_request(&system_id, CUSTOMER_ORG);
    req["externalRef"] = json!("pending");
    let request = ok_json(
        "POST",
        &api(sb, "/systemuser/request/vendor"),
        &token,
        Some(&req),
    )
    .await;
    let agent = json!({
        "systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "externalRef": "agent",
        "accessPackages": [{"urn": PACKAGE}],
    });
    let agent_request = ok_json(
        "POST",
        &api(sb, "/systemuser/request/vendor/agent"),
        &token,
        Some(&agent),
    )
    .await;
    let mut req2 = standard_request(&system_id, CUSTOMER_ORG_2);
    req2["externalRef"] = json!("approved");
    let approved = ok_json(
        "POST",
        &api(sb, "/systemuser/request/vendor"),
        &token,
        Some(&req2),
    )
    .await;
    let approved_id = approved["id"].as_str().expect("id");
    assert_eq!(approve(sb, approved_id).await.status(), 200);
    let users = ok_json(
        "GET",
        &api(sb, &format!("/systemuser/vendor/bysystem/{system_id}")),
        &token,
        None,
    )
    .await;
    let system_user = users["data"][0]["id"]
        .as_str()
        .expect("system user")
        .to_string();
    let change = ok_json(
        "POST",
        &api(
            sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={}&system-user-id={system_user}",
                uuid::Uuid::new_v4()
            ),
        ),
        &token,
        Some(&json!({"requiredAccessPackages": [{"urn": PACKAGE}]})),
    )
    .await;
    Owned {
        org: org.to_string(),
        vendor,
        token,
        system_id,
        request: request["id"].as_str().expect("id").to_string(),
        agent_request: agent_request["id"].as_str().expect("id").to_string(),
        system_user,
        change_request: change["id"].as_str().expect("id").to_string(),
    }
}

/// The owner's view of everything it owns (success bodies only: no trace ids).
async fn owner_view(sb: &SandboxHandle, o: &Owned) -> Vec<Value> {
    let mut view = Vec::new();
    for path in [
        format!("/systemregister/vendor/{}", o.system_id),
        format!("/systemuser/request/vendor/{}", o.request),
        format!("/systemuser/request/vendor/agent/{}", o.agent_request),
        format!("/systemuser/changerequest/vendor/{}", o.change_request),
        format!("/systemuser/request/vendor/bysystem/{}", o.system_id),
        format!("/systemuser/request/vendor/agent/bysystem/{}", o.system_id),
        format!("/systemuser/changerequest/vendor/bysystem/{}", o.system_id),
        format!("/systemuser/vendor/bysystem/{}", o.system_id),
    ] {
        view.push(ok_json("GET", &api(sb, &path), &o.token, None).await);
    }
    view
}

/// The call `attacker` makes against `victim`'s object on `route`. `variant` picks between
/// objects where a route can reach several (which triple a create names, which request a
/// DELETE names). Returns (method, url, body) and the refusal the real service gives.
fn attack(
    sb: &SandboxHandle,
    route: &VendorRoute,
    attacker: &Owned,
    victim: &Owned,
    variant: usize,
) -> (String, Option<Value>, Expect) {
    let fresh = uuid::Uuid::new_v4().to_string();
    // Existing triples of the victim's: (customer, externalRef).
    let (customer, ext) = match route.target {
        Target::AgentRequestRef => (CUSTOMER_ORG, "agent"),
        Target::ChangeRequestRef => (CUSTOMER_ORG_2, "approved"),
        _ => (CUSTOMER_ORG, "pending"),
    };
    let request_id = match (route.target, route.method, variant % 2) {
        (Target::AgentRequest, _, _) | (Target::Request, "DELETE", 1) => &victim.agent_request,
        (Target::ChangeRequest, _, _) => &victim.change_request,
        _ => &victim.request,
    };
    let path = route
        .path
        .replace("{system_id}", &victim.system_id)
        .replace("{request_id}", request_id)
        .replace("{org_no}", customer)
        .replace("{external_ref}", ext);
    let mut expect = Expect::from(route.refusal);
    let body = match (route.method, route.path.rsplit('/').next().unwrap_or("")) {
        ("POST", "vendor") if route.target == Target::System => {
            // Registering a system in the victim's name.
            let mut b = system_body(&victim.org, &format!("x{}", &fresh[..8]), &[]);
            b["clientId"] = json!([fresh]);
            Some(b)
        }
        ("PUT", "rights") => Some(json!([
            {"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}
        ])),
        ("PUT", "accesspackages") => Some(json!([{"urn": PACKAGE}])),
        ("PUT", _) => Some(system_body(&victim.org, "iso", &[])),
        ("POST", "vendor") if route.target == Target::SystemUser => {
            Some(json!({"requiredAccessPackages": [{"urn": PACKAGE}]}))
        }
        ("POST", "vendor" | "agent") => {
            // A create naming the victim's system. The real service answers the triple checks
            // before the vendor check (RequestSystemUserController.cs:116-120,
            // RequestSystemUserService.cs:66-76), so naming an existing triple leaks its state
            // (AUTH-00004 / AUTH-00007) — but still creates nothing.
            let agent = route.target == Target::AgentRequestRef;
            let (customer, ext) = match variant % 3 {
                0 => (CUSTOMER_ORG, fresh.as_str()),
                1 => {
                    expect = Expect::Code(400, "AUTH-00007");
                    (CUSTOMER_ORG, if agent { "agent" } else { "pending" })
                }
                _ => {
                    expect = Expect::Code(400, "AUTH-00004");
                    (CUSTOMER_ORG_2, "approved")
                }
            };
            let mut b = if agent {
                json!({"systemId": victim.system_id, "partyOrgNo": customer,
                       "accessPackages": [{"urn": PACKAGE}]})
            } else {
                standard_request(&victim.system_id, customer)
            };
            b["externalRef"] = json!(ext);
            Some(b)
        }
        _ => None,
    };
    let query = match route.target {
        Target::SystemUser if route.method == "POST" => format!(
            "?correlation-id={}&system-user-id={}",
            uuid::Uuid::new_v4(),
            victim.system_user
        ),
        Target::SystemUser => format!(
            "?system-id={}&orgno={CUSTOMER_ORG_2}&external-ref=approved",
            victim.system_id
        ),
        _ => String::new(),
    };
    if route.refusal == Refusal::OnlyOwn {
        expect = Expect::OnlyOwn {
            mine: attacker.system_id.clone(),
            theirs: victim.system_id.clone(),
        };
    }
    (format!("{}{query}", v1(sb, &path)), body, expect)
}

#[derive(Debug, Clone)]
enum Expect {
    /// Status with an empty body.
    Empty(u16),
    /// Status with this Altinn problem code.
    Code(u16, &'static str),
    /// Status, whatever the body (it must not carry the victim's object).
    Status(u16),
    /// 200 listing the attacker's system and not the victim's.
    OnlyOwn { mine: String, theirs: String },
}

impl From<Refusal> for Expect {
    fn from(r: Refusal) -> Expect {
        match r {
            Refusal::Forbidden => Expect::Empty(403),
            Refusal::SystemIdNotFound => Expect::Code(404, "AUTH-00011"),
            Refusal::Unauthorized => Expect::Status(401),
            Refusal::NotFound => Expect::Status(404),
            // Filled in by `attack`.
            Refusal::OnlyOwn => Expect::Status(200),
        }
    }
}

fn check(expect: &Expect, status: u16, body: &str, victim: &Owned) -> Result<(), String> {
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string));
    let ok = match expect {
        Expect::Empty(s) => status == *s && body.is_empty(),
        Expect::Code(s, c) => status == *s && code.as_deref() == Some(*c),
        Expect::Status(s) => status == *s,
        Expect::OnlyOwn { mine, theirs } => {
            status == 200 && body.contains(mine.as_str()) && !body.contains(theirs.as_str())
        }
    };
    // Whatever the refusal, none of the victim's objects may show in it.
    let leaked = [
        &victim.request,
        &victim.agent_request,
        &victim.system_user,
        &victim.change_request,
    ]
    .iter()
    .any(|id| body.contains(id.as_str()));
    if ok && !leaked {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {status} {body}"))
    }
}

#[test]
fn every_vendor_route_refuses_another_vendors_object_and_changes_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join("state.json");
    let (sb, world) = rt.block_on(async {
        let sb = sandbox::start(SandboxConfig {
            state_file: Some(state_file.clone()),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        // Vendors: seeded registered system vendors other than the two customers.
        let vendors: Vec<&str> = seeded_orgs()
            .iter()
            .filter(|o| o.system_vendor)
            .map(|o| o.org_no)
            .filter(|o| *o != CUSTOMER_ORG && *o != CUSTOMER_ORG_2)
            .take(3)
            .collect();
        let mut world = Vec::new();
        for org in vendors {
            world.push(onboard(&sb, org).await);
        }
        (sb, world)
    });
    assert!(world.len() >= 3);

    let started = std::time::Instant::now();
    let mut world = world;
    for route in VENDOR_ROUTES {
        // Fresh tokens per route: sandbox access tokens live 120 s, and a loaded machine may
        // take longer than that for the whole table.
        rt.block_on(async {
            for o in &mut world {
                o.token = token_for(
                    &sb,
                    &o.vendor,
                    &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ],
                )
                .await;
            }
        });
        let mut runner = TestRunner::new(Config {
            cases: 4,
            failure_persistence: None,
            ..Config::default()
        });
        let n = world.len();
        let result = runner.run(&(0..n, 1..n, 0..6usize), |(a, offset, variant)| {
            let attacker = &world[a];
            let victim = &world[(a + offset) % n];
            rt.block_on(async {
                let state_before = std::fs::read(&state_file).expect("state file");
                let view_before = owner_view(&sb, victim).await;
                let (url, body, expect) = attack(&sb, route, attacker, victim, variant);
                let (status, text) = send(route.method, &url, &attacker.token, body.as_ref()).await;
                check(&expect, status, &text, victim).map_err(|e| {
                    TestCaseError::fail(format!("{} {} ({}): {e}", route.method, url, route.real))
                })?;
                let state_after = std::fs::read(&state_file).expect("state file");
                if state_after != state_before {
                    return Err(TestCaseError::fail(format!(
                        "{} {url} changed the sandbox state",
                        route.method
                    )));
                }
                if owner_view(&sb, victim).await != view_before {
                    return Err(TestCaseError::fail(format!(
                        "{} {url} changed what the owner sees",
                        route.method
                    )));
                }
                Ok(())
            })
        });
        if let Err(e) = result {
            panic!("{} {}: {e}", route.method, route.path);
        }
    }
    eprintln!("{} routes in {:?}", VENDOR_ROUTES.len(), started.elapsed());
    rt.block_on(sb.shutdown());
}

/// The reproduction: B's Maskinporten token deleted A's request (202), and A's next
/// status call got AUTH-00010.
#[tokio::test]
async fn another_vendors_delete_is_refused_and_the_owner_still_sees_its_request() {
    let sb = start().await;
    let orgs: Vec<&str> = seeded_orgs()
        .iter()
        .filter(|o| o.system_vendor)
        .map(|o| o.org_no)
        .filter(|o| *o != CUSTOMER_ORG && *o != CUSTOMER_ORG_2)
        .collect();
    let a = onboard(&sb, orgs[0]).await;
    let b = onboard(&sb, orgs[1]).await;

    for (id, what) in [(&a.request, "request"), (&a.agent_request, "agent request")] {
        let (status, body) = send(
            "DELETE",
            &api(&sb, &format!("/systemuser/request/vendor/{id}")),
            &b.token,
            None,
        )
        .await;
        assert_eq!(status, 404, "{what}: {body}");
        let v: Value = serde_json::from_str(&body).expect("problem json");
        assert_eq!(v["code"], "AUTH-00011", "{what}: {v}");
    }
    let (status, body) = send(
        "DELETE",
        &api(
            &sb,
            &format!("/systemuser/changerequest/vendor/{}", a.change_request),
        ),
        &b.token,
        None,
    )
    .await;
    assert_eq!((status, body.contains("AUTH-00011")), (404, true), "{body}");

    // A still sees its request, New.
    let (status, v) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/{}", a.request)),
        &a.token,
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (200, Some("New")), "{v}");

    // The owner itself may still delete (202), and then it is gone (AUTH-00010) for everyone.
    let (status, _) = send(
        "DELETE",
        &api(&sb, &format!("/systemuser/request/vendor/{}", a.request)),
        &a.token,
        None,
    )
    .await;
    assert_eq!(status, 202);
    let (status, v) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/{}", a.request)),
        &a.token,
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (404, Some("AUTH-00010")),
        "{v}"
    );
    let (status, v) = send(
        "DELETE",
        &api(&sb, &format!("/systemuser/request/vendor/{}", a.request)),
        &b.token,
        None,
    )
    .await;
    assert_eq!((status, v.contains("AUTH-00010")), (404, true), "{v}");
    sb.shutdown().await;
}

/// A change request under a correlation id another vendor already used is refused (AUTH-00007
/// while that one is New, as ValidateStatus answers), never replaced.
#[tokio::test]
async fn a_correlation_id_of_another_vendor_is_refused_not_replaced() {
    let sb = start().await;
    let orgs: Vec<&str> = seeded_orgs()
        .iter()
        .filter(|o| o.system_vendor)
        .map(|o| o.org_no)
        .filter(|o| *o != CUSTOMER_ORG && *o != CUSTOMER_ORG_2)
        .collect();
    let a = onboard(&sb, orgs[0]).await;
    let b = onboard(&sb, orgs[1]).await;
    let url = api(
        &sb,
        &format!(
            "/systemuser/changerequest/vendor?correlation-id={}&system-user-id={}",
            a.change_request, b.system_user
        ),
    );
    let (status, body) = send(
        "POST",
        &url,
        &b.token,
        Some(&json!({"requiredAccessPackages": [{"urn": PACKAGE}]})),
    )
    .await;
    assert_eq!((status, body.contains("AUTH-00007")), (400, true), "{body}");
    let (status, v) = get_json(
        &api(
            &sb,
            &format!("/systemuser/changerequest/vendor/{}", a.change_request),
        ),
        &a.token,
    )
    .await;
    assert_eq!(
        (status, v["systemUserId"].as_str()),
        (200, Some(a.system_user.as_str())),
        "{v}"
    );
    sb.shutdown().await;
}
