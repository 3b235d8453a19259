//! The project's own clients (`AltinnClient`, `MaskinportenClient`, `Runner`) against the
//! in-process sandbox in fault-injection mode: idempotent GETs survive a few 5xx, 429s and
//! dropped connections; `Retry-After` is honoured; a create without a de-duplication key
//! (externalRef) is sent once, with one it is retried without duplicating; broken JSON becomes a
//! typed `BadResponse`; a skewed sandbox clock fails the grant with a hint naming the offset.
//!
//! The world is set up like tests/onboarding.rs (flow + runner up to a registered system); the
//! faults are set afterwards so they hit only the call under test. The sandbox's per-rule
//! counters (`seen`) tell how many requests the client really sent.

use altinn_onboard::altinn::AltinnError;
use altinn_onboard::altinn::client::{SCOPE_REQUEST_READ, SCOPE_REQUEST_WRITE, VENDOR_SCOPES};
use altinn_onboard::altinn::model::{CreateRequest, RequestInfo, Right};
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Effect, Flow, Msg, Step, SystemForm};
use altinn_onboard::http::RetryPolicy;
use altinn_onboard::maskinporten::{MaskinportenError, TokenCache, TokenRequest};
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{
    self, Fault, FaultPlan, FaultRule, RuleCounter, SandboxConfig, SandboxHandle, SandboxOptions,
};
use altinn_onboard::secret::Secret;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const V1: &str = "/authentication/api/v1";

struct World {
    _dir: tempfile::TempDir,
    sandbox: SandboxHandle,
    runner: Runner,
    profile: Profile,
    system_id: String,
}

impl World {
    async fn token(&self, scope: &str) -> Secret {
        self.runner
            .vendor_token(&self.profile, scope, false)
            .await
            .map(|t| t.token)
            .unwrap_or_else(|f| panic!("vendor token: {f:?}"))
    }

    fn faults(&self, plan: FaultPlan) {
        self.sandbox.set_faults(plan).expect("a valid fault plan");
    }

    /// How many requests rule `i` saw and acted on.
    fn counter(&self, i: usize) -> RuleCounter {
        self.sandbox.fault_report().counters[i]
    }

    fn request_body(&self, external_ref: Option<&str>) -> CreateRequest {
        CreateRequest {
            external_ref: external_ref.map(str::to_string),
            system_id: self.system_id.clone(),
            party_org_no: CUSTOMER.into(),
            rights: Some(vec![Right::resource("ske-krav-og-betalinger")]),
            access_packages: None,
            redirect_url: None,
            integration_title: None,
        }
    }

    /// A request made while no faults are active.
    async fn new_request(&self) -> RequestInfo {
        let token = self.token(SCOPE_REQUEST_WRITE).await;
        self.runner
            .altinn()
            .create_request(&token, &self.request_body(None), false)
            .await
            .expect("create request")
            .request
    }
}

/// Run a message and the effects it causes, like the CLI does (no browser, no real polling).
async fn drive(flow: &mut Flow, runner: &Runner, msg: Msg) {
    let mut queue: VecDeque<Effect> = flow.update(msg).into();
    while let Some(effect) = queue.pop_front() {
        if matches!(
            effect,
            Effect::OpenBrowser { .. } | Effect::PollStatus { .. }
        ) {
            continue;
        }
        let snapshot = flow.profile.clone();
        if let Some(reply) = runner.run(effect, &snapshot).await {
            queue.extend(flow.update(reply));
        }
    }
}

/// Key, Maskinporten client and registered system, with the sandbox's page size.
async fn world_with(page_size: usize) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(ProfileStore::at(dir.path()));
    let sandbox = sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            page_size,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox");
    let env = Environment::from_parts(EnvKind::Sandbox, &sandbox.issuer(), &sandbox.base_url())
        .expect("env");
    let runner = Runner::new(env, store, Arc::new(TokenCache::in_memory())).expect("http client");
    let mut flow = Flow::new(Profile::new("faults", EnvSetting::new(EnvKind::Sandbox)));
    drive(
        &mut flow,
        &runner,
        Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)),
    )
    .await;
    drive(
        &mut flow,
        &runner,
        Msg::GenerateKey {
            bits: 2048,
            kid: None,
        },
    )
    .await;
    drive(
        &mut flow,
        &runner,
        Msg::SubmitClient {
            vendor_org: VENDOR.into(),
            client_id: String::new(),
            scopes: VENDOR_SCOPES.join(" "),
        },
    )
    .await;
    drive(
        &mut flow,
        &runner,
        Msg::SubmitSystem(SystemForm {
            name: "faulty".into(),
            display_name: "Faulty".into(),
            description: "Survives a bad network".into(),
            rights: "ske-krav-og-betalinger".into(),
            is_visible: true,
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(flow.step, Step::Request, "{:?}", flow.error);
    let system_id = flow
        .registration
        .as_ref()
        .map(|r| r.system_id.clone())
        .expect("registered system");
    World {
        _dir: dir,
        sandbox,
        runner,
        profile: flow.profile.clone(),
        system_id,
    }
}

async fn world() -> World {
    world_with(50).await
}

fn request_route() -> String {
    format!("{V1}/systemuser/request/vendor/{{request_id}}")
}

fn create_path() -> String {
    format!("{V1}/systemuser/request/vendor")
}

// ---- GETs survive transient failures ----

#[tokio::test]
async fn get_system_survives_two_503s() {
    let w = world().await;
    let token = w.token("altinn:authentication/systemregister.write").await;
    w.faults(
        FaultPlan::none().rule(
            FaultRule::route(
                &format!("{V1}/systemregister/vendor/{{system_id}}"),
                Fault::status(503),
            )
            .method("GET")
            .first(2),
        ),
    );
    let system = w
        .runner
        .altinn()
        .get_system(&token, &w.system_id)
        .await
        .expect("get_system after two 503s")
        .expect("the system exists");
    assert_eq!(system.id, w.system_id);
    assert_eq!(w.counter(0), RuleCounter { seen: 3, fired: 2 });
}

#[tokio::test]
async fn request_status_polling_survives_a_502_and_a_504() {
    let w = world().await;
    let req = w.new_request().await;
    w.faults(
        FaultPlan::none()
            .rule(FaultRule::route(&request_route(), Fault::status(502)).first(1))
            .rule(FaultRule::route(&request_route(), Fault::status(504)).first(1)),
    );
    let update = w
        .runner
        .poll_status(&w.profile, &req.id, false)
        .await
        .expect("poll after 502 and 504");
    assert_eq!(update.request_id, req.id);
    assert_eq!(update.status.as_str(), "New");
    assert_eq!(w.counter(0), RuleCounter { seen: 3, fired: 1 });
    assert_eq!(w.counter(1), RuleCounter { seen: 2, fired: 1 });
}

#[tokio::test]
async fn request_status_polling_survives_two_dropped_connections() {
    let w = world().await;
    let req = w.new_request().await;
    w.faults(
        FaultPlan::none()
            .rule(FaultRule::route(&request_route(), Fault::dropped_connection()).first(2)),
    );
    let update = w
        .runner
        .poll_status(&w.profile, &req.id, false)
        .await
        .expect("poll after two dropped connections");
    assert_eq!(update.status.as_str(), "New");
    assert_eq!(w.counter(0), RuleCounter { seen: 3, fired: 2 });
}

#[tokio::test]
async fn get_request_survives_two_429s() {
    let w = world().await;
    let req = w.new_request().await;
    let token = w.token(SCOPE_REQUEST_READ).await;
    w.faults(
        FaultPlan::none().rule(FaultRule::route(&request_route(), Fault::rate_limit(0)).first(2)),
    );
    let info = w
        .runner
        .altinn()
        .get_request(&token, &req.id, false)
        .await
        .expect("get_request after two 429s");
    assert_eq!(info.id, req.id);
    assert_eq!(w.counter(0), RuleCounter { seen: 3, fired: 2 });
}

#[tokio::test]
async fn paging_survives_a_dropped_page() {
    let w = world_with(1).await;
    let token = w.token(SCOPE_REQUEST_WRITE).await;
    for org in [CUSTOMER, "313456781"] {
        let mut body = w.request_body(None);
        body.party_org_no = org.into();
        w.runner
            .altinn()
            .create_request(&token, &body, false)
            .await
            .expect("create");
    }
    let read = w.token(SCOPE_REQUEST_READ).await;
    // Every second page request is dropped: page 2's first try (and any later even one).
    w.faults(
        FaultPlan::none().rule(
            FaultRule::route(
                &format!("{V1}/systemuser/request/vendor/bysystem/{{system_id}}"),
                Fault::dropped_connection(),
            )
            .every(2),
        ),
    );
    let all = w
        .runner
        .altinn()
        .list_requests(&read, &w.system_id, false)
        .await
        .expect("all pages despite a dropped one");
    assert_eq!(all.len(), 2, "{all:?}");
    let c = w.counter(0);
    assert!(c.fired >= 1 && c.seen >= 3, "{c:?}");
}

#[tokio::test]
async fn a_persistent_503_is_retried_a_bounded_number_of_times_then_reported() {
    let w = world().await;
    let req = w.new_request().await;
    let token = w.token(SCOPE_REQUEST_READ).await;
    w.faults(FaultPlan::none().rule(FaultRule::route(&request_route(), Fault::status(503))));
    let err = w
        .runner
        .altinn()
        .get_request(&token, &req.id, false)
        .await
        .expect_err("503 forever");
    assert!(
        matches!(err, AltinnError::Server { status: 503, .. }),
        "{err}"
    );
    assert_eq!(
        w.counter(0).seen,
        u64::from(RetryPolicy::default().max_attempts),
        "capped attempts"
    );
}

#[tokio::test]
async fn token_requests_survive_a_503_and_a_lost_answer_with_a_fresh_grant() {
    let w = world().await;
    let creds = w.runner.credentials(&w.profile).expect("credentials");
    let req = TokenRequest {
        scopes: vec![SCOPE_REQUEST_READ.into()],
        ..Default::default()
    };
    // The lost answer consumed the first grant's jti: only a new grant can succeed.
    w.faults(
        FaultPlan::none()
            .rule(FaultRule::path("/token", Fault::status(503)).first(1))
            .rule(FaultRule::path("/token", Fault::dropped_answer()).first(1)),
    );
    let token = w
        .runner
        .maskinporten()
        .token(&creds, &req, true)
        .await
        .expect("a token after a 503 and a lost answer");
    assert!(!token.cached);
    assert_eq!(w.counter(0), RuleCounter { seen: 3, fired: 1 });
    assert_eq!(w.counter(1), RuleCounter { seen: 2, fired: 1 });
}

// ---- Retry-After ----

#[tokio::test]
async fn retry_after_is_honoured() {
    let w = world().await;
    let req = w.new_request().await;
    let token = w.token(SCOPE_REQUEST_READ).await;
    w.faults(
        FaultPlan::none().rule(FaultRule::route(&request_route(), Fault::rate_limit(1)).first(1)),
    );
    let started = Instant::now();
    let info = w
        .runner
        .altinn()
        .get_request(&token, &req.id, false)
        .await
        .expect("get_request after a 429");
    let waited = started.elapsed();
    assert_eq!(info.id, req.id);
    assert_eq!(w.counter(0), RuleCounter { seen: 2, fired: 1 });
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After: 1 but the retry came after {waited:?}"
    );
}

#[tokio::test]
async fn a_retry_after_too_long_to_wait_for_is_a_prompt_typed_error() {
    let w = world().await;
    let req = w.new_request().await;
    let token = w.token(SCOPE_REQUEST_READ).await;
    let creds = w.runner.credentials(&w.profile).expect("credentials");
    w.faults(
        FaultPlan::none()
            .rule(FaultRule::route(&request_route(), Fault::rate_limit(3600)))
            .rule(FaultRule::path("/token", Fault::rate_limit(3600))),
    );
    // A guard against a client that would sleep for the hour, not a timing assertion.
    let guard = Duration::from_secs(120);
    let err = tokio::time::timeout(guard, w.runner.altinn().get_request(&token, &req.id, false))
        .await
        .expect("the client did not wait an hour")
        .expect_err("throttled");
    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(w.counter(0).seen, 1);

    let tr = TokenRequest {
        scopes: vec![SCOPE_REQUEST_READ.into()],
        ..Default::default()
    };
    let err = tokio::time::timeout(guard, w.runner.maskinporten().token(&creds, &tr, true))
        .await
        .expect("the client did not wait an hour")
        .expect_err("throttled");
    assert!(
        matches!(
            err,
            MaskinportenError::Throttled {
                retry_after: Some(3600),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(w.counter(1).seen, 1);
}

// ---- Creates: retried only with a de-duplication key ----

#[tokio::test]
async fn create_request_without_external_ref_is_sent_once_after_a_503() {
    let w = world().await;
    let token = w.token(SCOPE_REQUEST_WRITE).await;
    w.faults(
        FaultPlan::none().rule(
            FaultRule::path(&create_path(), Fault::status(503))
                .method("POST")
                .first(1),
        ),
    );
    let err = w
        .runner
        .altinn()
        .create_request(&token, &w.request_body(None), false)
        .await
        .expect_err("a create without externalRef is not retried");
    assert!(
        matches!(err, AltinnError::Server { status: 503, .. }),
        "{err}"
    );
    assert_eq!(
        w.counter(0).seen,
        1,
        "the sandbox must see exactly one POST"
    );
}

#[tokio::test]
async fn create_request_without_external_ref_is_sent_once_when_the_answer_is_lost() {
    let w = world().await;
    let token = w.token(SCOPE_REQUEST_WRITE).await;
    w.faults(
        FaultPlan::none().rule(
            FaultRule::path(&create_path(), Fault::dropped_answer())
                .method("POST")
                .first(1),
        ),
    );
    let err = w
        .runner
        .altinn()
        .create_request(&token, &w.request_body(None), false)
        .await
        .expect_err("a create without externalRef is not retried");
    assert!(matches!(err, AltinnError::Network { .. }), "{err}");
    assert_eq!(
        w.counter(0).seen,
        1,
        "the sandbox must see exactly one POST"
    );
    // The request was made; the caller can find it instead of creating another.
    w.sandbox.clear_faults();
    let read = w.token(SCOPE_REQUEST_READ).await;
    let found = w
        .runner
        .altinn()
        .get_request_by_external_ref(&read, &w.system_id, CUSTOMER, None, false)
        .await
        .expect("lookup");
    assert!(found.is_some());
}

#[tokio::test]
async fn create_request_with_external_ref_is_retried_after_a_503() {
    let w = world().await;
    let token = w.token(SCOPE_REQUEST_WRITE).await;
    w.faults(
        FaultPlan::none().rule(
            FaultRule::path(&create_path(), Fault::status(503))
                .method("POST")
                .first(1),
        ),
    );
    let created = w
        .runner
        .altinn()
        .create_request(&token, &w.request_body(Some("faults-ext-1")), false)
        .await
        .expect("a create with externalRef may be retried");
    assert!(created.newly_created);
    assert_eq!(
        created.request.external_ref.as_deref(),
        Some("faults-ext-1")
    );
    assert_eq!(w.counter(0), RuleCounter { seen: 2, fired: 1 });
}

#[tokio::test]
async fn create_request_with_external_ref_retried_after_a_lost_answer_makes_one_request() {
    let w = world().await;
    let token = w.token(SCOPE_REQUEST_WRITE).await;
    w.faults(
        FaultPlan::none().rule(
            FaultRule::path(&create_path(), Fault::dropped_answer())
                .method("POST")
                .first(1),
        ),
    );
    let created = w
        .runner
        .altinn()
        .create_request(&token, &w.request_body(Some("faults-ext-2")), false)
        .await
        .expect("a create with externalRef may be retried");
    // The first POST made it; the retry got the existing request back (200, not 201).
    assert!(!created.newly_created);
    assert_eq!(w.counter(0), RuleCounter { seen: 2, fired: 1 });
    w.sandbox.clear_faults();
    let read = w.token(SCOPE_REQUEST_READ).await;
    let all = w
        .runner
        .altinn()
        .list_requests(&read, &w.system_id, false)
        .await
        .expect("list");
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].id, created.request.id);
}

// ---- Broken JSON is a typed error ----

#[tokio::test]
async fn truncated_and_malformed_altinn_answers_are_bad_responses() {
    let w = world().await;
    let req = w.new_request().await;
    let token = w.token(SCOPE_REQUEST_READ).await;
    for fault in [Fault::truncated(), Fault::malformed()] {
        // Always: a client that retries still ends up with the broken answer.
        w.faults(FaultPlan::none().rule(FaultRule::route(&request_route(), fault.clone())));
        let err = w
            .runner
            .altinn()
            .get_request(&token, &req.id, false)
            .await
            .expect_err("a broken answer is an error");
        assert!(
            matches!(err, AltinnError::BadResponse { status: 200, .. }),
            "{fault:?}: {err}"
        );
    }
    w.sandbox.clear_faults();
    let info = w
        .runner
        .altinn()
        .get_request(&token, &req.id, false)
        .await
        .expect("fine again");
    assert_eq!(info.id, req.id);
}

#[tokio::test]
async fn truncated_and_malformed_token_answers_are_bad_responses() {
    let w = world().await;
    let creds = w.runner.credentials(&w.profile).expect("credentials");
    let req = TokenRequest {
        scopes: vec![SCOPE_REQUEST_READ.into()],
        ..Default::default()
    };
    for fault in [Fault::truncated(), Fault::malformed()] {
        w.faults(FaultPlan::none().rule(FaultRule::path("/token", fault.clone())));
        let err = w
            .runner
            .maskinporten()
            .token(&creds, &req, true)
            .await
            .expect_err("a broken answer is an error");
        assert!(
            matches!(err, MaskinportenError::BadResponse { status: 200, .. }),
            "{fault:?}: {err}"
        );
    }
    w.sandbox.clear_faults();
    w.runner
        .maskinporten()
        .token(&creds, &req, true)
        .await
        .expect("fine again");
}

// ---- Clock skew ----

#[tokio::test]
async fn a_skewed_sandbox_clock_fails_the_grant_with_a_hint_naming_the_offset() {
    let w = world().await;
    let creds = w.runner.credentials(&w.profile).expect("credentials");
    let req = TokenRequest {
        scopes: vec![SCOPE_REQUEST_READ.into()],
        ..Default::default()
    };
    // -60: our grant's iat is a minute in the sandbox's future. +90: our grant (60 s) has
    // expired by the sandbox's clock.
    for (offset, words) in [(-60i64, "ahead of"), (90, "behind")] {
        w.faults(FaultPlan::none().clock_offset(offset));
        let err = w
            .runner
            .maskinporten()
            .token(&creds, &req, true)
            .await
            .expect_err("a grant from a skewed clock is refused");
        let text = err.to_string();
        match err {
            MaskinportenError::Rejected {
                clock_offset: Some(seen),
                hint,
                ..
            } => {
                assert!(
                    (seen - offset).abs() <= 2,
                    "offset {offset}, client measured {seen}"
                );
                // `Date` has whole seconds, so the measured offset may be a second short.
                assert!(
                    hint.contains(&format!("{} s", seen.abs())) && hint.contains(words),
                    "{hint}"
                );
            }
            _ => panic!("offset {offset}: expected Rejected with a clock offset, got {text}"),
        }
    }
    w.sandbox.clear_faults();
    w.runner
        .maskinporten()
        .token(&creds, &req, true)
        .await
        .expect("the real clock works");
}
