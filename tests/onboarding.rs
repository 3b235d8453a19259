//! The whole onboarding through the flow and the effect runner against the in-process sandbox:
//! key -> client registered -> system registered (and re-registered: unchanged, then updated)
//! -> request -> approved via the sandbox -> polled to Accepted -> system-user token -> test
//! call answered by the reference API with the right system user. Also rejection and agent.

use altinn_onboard::altinn::client::VENDOR_SCOPES;
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{
    Effect, ErrorKind, Flow, Msg, RequestForm, Step, SystemForm, resume_step,
};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const OTHER_CUSTOMER: &str = "313456781";

struct World {
    _dir: tempfile::TempDir,
    store: Arc<ProfileStore>,
    sandbox: SandboxHandle,
    runner: Runner,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(ProfileStore::at(dir.path()));
    let sandbox = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let env = Environment::from_parts(EnvKind::Sandbox, &sandbox.issuer(), &sandbox.base_url())
        .expect("env");
    let runner =
        Runner::new(env, store.clone(), Arc::new(TokenCache::in_memory())).expect("http client");
    World {
        _dir: dir,
        store,
        sandbox,
        runner,
    }
}

/// Run a message and all effects it causes, like the CLI and wizard do (polls without waiting).
async fn drive(flow: &mut Flow, runner: &Runner, msg: Msg) {
    let mut queue: VecDeque<Effect> = flow.update(msg).into();
    let mut polls = 0;
    while let Some(effect) = queue.pop_front() {
        let effect = match effect {
            Effect::OpenBrowser { .. } => continue,
            Effect::PollStatus {
                request_id,
                agent,
                generation,
                ..
            } => {
                polls += 1;
                assert!(polls < 50, "polling never ended");
                Effect::PollStatus {
                    request_id,
                    agent,
                    after: Duration::from_millis(20),
                    generation,
                }
            }
            other => other,
        };
        let snapshot = flow.profile.clone();
        if let Some(reply) = runner.run(effect, &snapshot).await {
            queue.extend(flow.update(reply));
        }
    }
}

async fn decide(w: &World, request_id: &str, approve: bool) {
    let url = format!(
        "{}/sandbox/requests/{request_id}/{}",
        w.sandbox.base_url(),
        if approve { "approve" } else { "reject" }
    );
    let resp = reqwest::Client::new()
        .post(url)
        .send()
        .await
        .expect("decide");
    assert!(resp.status().is_success(), "decide: {}", resp.status());
}

fn system_form(rights: &str) -> SystemForm {
    SystemForm {
        name: "smartcloud".into(),
        display_name: "SmartCloud".into(),
        description: "Accounting in the cloud".into(),
        rights: rights.into(),
        is_visible: true,
        ..Default::default()
    }
}

/// From nothing to a registered system.
async fn onboard_to_request_step(w: &World) -> Flow {
    let mut flow = Flow::new(Profile::new("it", EnvSetting::new(EnvKind::Sandbox)));
    assert_eq!(flow.step, Step::Environment);
    drive(
        &mut flow,
        &w.runner,
        Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)),
    )
    .await;
    assert_eq!(flow.step, Step::Key);
    drive(
        &mut flow,
        &w.runner,
        Msg::GenerateKey {
            bits: 2048,
            kid: None,
        },
    )
    .await;
    assert_eq!(flow.step, Step::Client, "{:?}", flow.error);
    let key = flow.key.clone().expect("key info");
    assert!(key.path.starts_with(w.store.config_dir()));
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitClient {
            vendor_org: VENDOR.into(),
            client_id: String::new(),
            scopes: VENDOR_SCOPES.join(" "),
        },
    )
    .await;
    assert_eq!(flow.step, Step::System, "{:?}", flow.error);
    assert!(flow.profile.client_id.is_some());
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitSystem(system_form("ske-krav-og-betalinger")),
    )
    .await;
    assert_eq!(flow.step, Step::Request, "{:?}", flow.error);
    assert_eq!(
        flow.registration.as_ref().map(|r| r.outcome.as_str()),
        Some("created")
    );
    flow
}

#[tokio::test]
async fn full_onboarding_to_a_successful_test_call() {
    let w = world().await;
    let mut flow = onboard_to_request_step(&w).await;

    // Re-registering the same system changes nothing; adding a right updates it and says so.
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitSystem(system_form("ske-krav-og-betalinger")),
    )
    .await;
    assert_eq!(
        flow.registration.as_ref().map(|r| r.outcome.as_str()),
        Some("unchanged"),
        "{:?}",
        flow.error
    );
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitSystem(system_form(
            "ske-krav-og-betalinger ttd_systembruker-salary",
        )),
    )
    .await;
    let reg = flow.registration.clone().expect("registration");
    assert_eq!(reg.outcome, "updated");
    assert!(
        reg.changes.iter().any(|c| c.starts_with("rights")),
        "{:?}",
        reg.changes
    );

    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitRequest(RequestForm {
            customer_org: CUSTOMER.into(),
            agent: false,
            external_ref: String::new(),
        }),
    )
    .await;
    assert_eq!(flow.step, Step::Approval, "{:?}", flow.error);
    let req = flow.profile.current_request().cloned().expect("request");
    assert_eq!(req.status.as_str(), "New");
    let confirm = req.confirm_url.clone().expect("confirmUrl");
    assert!(confirm.starts_with(&w.sandbox.base_url()), "{confirm}");

    // Asking again for the same customer returns the same request (the API de-duplicates).
    let mut again = flow.clone();
    drive(
        &mut again,
        &w.runner,
        Msg::SubmitRequest(RequestForm {
            customer_org: CUSTOMER.into(),
            agent: false,
            external_ref: String::new(),
        }),
    )
    .await;
    assert_eq!(
        again.profile.current_request().map(|r| r.id.clone()),
        Some(req.id.clone())
    );

    // Before approval the system-user token is refused with MP-303's error.
    drive(&mut flow, &w.runner, Msg::GoTo(Step::Approval)).await;
    let early = w
        .runner
        .system_user_token(
            &flow.profile,
            flow.profile.scopes.clone(),
            CUSTOMER,
            None,
            true,
        )
        .await
        .expect_err("no system user yet");
    assert!(
        early
            .message
            .contains("invalid_altinn_customer_configuration"),
        "{}",
        early.message
    );
    assert_eq!(early.kind, ErrorKind::Rejected);

    decide(&w, &req.id, true).await;
    drive(&mut flow, &w.runner, Msg::StartPolling).await;
    assert_eq!(flow.step, Step::TestCall, "{:?}", flow.error);
    assert_eq!(
        flow.profile
            .current_request()
            .map(|r| r.status.as_str().to_string())
            .as_deref(),
        Some("Accepted")
    );

    drive(&mut flow, &w.runner, Msg::SubmitTestCall { url: None }).await;
    assert_eq!(flow.step, Step::Done, "{:?}", flow.error);
    let test = flow.test.clone().expect("test call");
    assert_eq!(test.record.status, 200);
    let details = &test.token_claims["authorization_details"][0];
    assert_eq!(details["type"], "urn:altinn:systemuser");
    assert_eq!(details["systemuser_org"]["ID"], format!("0192:{CUSTOMER}"));
    assert_eq!(details["system_id"], format!("{VENDOR}_smartcloud"));
    let body = test.response_json.clone().expect("json body");
    let su = details["systemuser_id"][0].as_str().expect("systemuser_id");
    assert!(
        body.to_string().contains(su),
        "whoami names the system user: {body}"
    );
    assert!(body.to_string().contains(CUSTOMER));

    // Everything is on disk: a new flow from the saved profile is done.
    let saved = w.store.load("it").expect("load").expect("saved");
    assert_eq!(resume_step(&saved), Step::Done);
    assert_eq!(saved.last_test_call.as_ref().map(|t| t.status), Some(200));
    let text = std::fs::read_to_string(w.store.profile_path("it")).expect("profile file");
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains("eyJ"),
        "no secrets in the profile"
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn rejection_then_a_new_request() {
    let w = world().await;
    let mut flow = onboard_to_request_step(&w).await;
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitRequest(RequestForm {
            customer_org: OTHER_CUSTOMER.into(),
            agent: false,
            external_ref: String::new(),
        }),
    )
    .await;
    let first = flow.profile.current_request().cloned().expect("request");
    decide(&w, &first.id, false).await;
    drive(&mut flow, &w.runner, Msg::StartPolling).await;
    let err = flow.error.clone().expect("refused");
    assert_eq!(err.kind, ErrorKind::Refused);
    assert_eq!(resume_step(&flow.profile), Step::Request);

    // A new request for the same customer replaces the rejected one.
    drive(&mut flow, &w.runner, Msg::GoTo(Step::Request)).await;
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitRequest(RequestForm {
            customer_org: OTHER_CUSTOMER.into(),
            agent: false,
            external_ref: String::new(),
        }),
    )
    .await;
    let second = flow
        .profile
        .current_request()
        .cloned()
        .expect("second request");
    assert_ne!(second.id, first.id, "{:?}", flow.error);
    assert_eq!(second.status.as_str(), "New");
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn agent_request_with_external_ref() {
    let w = world().await;
    let mut flow = onboard_to_request_step(&w).await;
    let form = SystemForm {
        access_packages: "regnskapsforer-lonn".into(),
        rights: String::new(),
        is_visible: false,
        ..system_form("")
    };
    drive(&mut flow, &w.runner, Msg::SubmitSystem(form)).await;
    assert_eq!(flow.step, Step::Request, "{:?}", flow.error);
    drive(
        &mut flow,
        &w.runner,
        Msg::SubmitRequest(RequestForm {
            customer_org: CUSTOMER.into(),
            agent: true,
            external_ref: "client-batch-1".into(),
        }),
    )
    .await;
    assert_eq!(flow.step, Step::Approval, "{:?}", flow.error);
    let req = flow
        .profile
        .current_request()
        .cloned()
        .expect("agent request");
    assert!(
        req.confirm_url
            .as_deref()
            .is_some_and(|u| u.contains("agentrequest")),
        "{:?}",
        req.confirm_url
    );
    decide(&w, &req.id, true).await;
    drive(&mut flow, &w.runner, Msg::StartPolling).await;
    assert_eq!(flow.step, Step::TestCall, "{:?}", flow.error);
    // The grant must carry the externalRef; the flow sends the request's.
    drive(&mut flow, &w.runner, Msg::SubmitTestCall { url: None }).await;
    assert_eq!(flow.step, Step::Done, "{:?}", flow.error);
    let wrong = w
        .runner
        .system_user_token(
            &flow.profile,
            flow.profile.scopes.clone(),
            CUSTOMER,
            None,
            true,
        )
        .await;
    assert!(
        wrong.is_err(),
        "a grant without the externalRef must fail (MP-303)"
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn grant_made_by_our_code_verifies_with_only_the_public_jwk() {
    use altinn_onboard::keys::{KeyBits, KeyPair};
    use altinn_onboard::maskinporten::{SystemUserTarget, TokenRequest, grant_claims, sign_grant};
    let key = KeyPair::generate(KeyBits::B2048, None).expect("key");
    let req = TokenRequest {
        scopes: vec!["altinn:x".into()],
        resource: vec![],
        system_user: Some(SystemUserTarget {
            customer_org: CUSTOMER.into(),
            external_ref: Some("r".into()),
        }),
    };
    let now = chrono::Utc::now().timestamp();
    let claims = grant_claims("https://test.maskinporten.no/", "client-1", &req, now);
    let jwt = sign_grant(&key, &claims).expect("sign");
    let header = jsonwebtoken::decode_header(jwt.expose()).expect("header");
    assert_eq!(header.kid.as_deref(), Some(key.kid()));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://test.maskinporten.no/"]);
    v.set_issuer(&["client-1"]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        jwt.expose(),
        &key.public_jwk().decoding_key().expect("dk"),
        &v,
    )
    .expect("verifies");
    let c = decoded.claims;
    let mut names: Vec<_> = c.as_object().expect("object").keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "aud",
            "authorization_details",
            "exp",
            "iat",
            "iss",
            "jti",
            "scope"
        ]
    );
    assert!(c["exp"].as_i64().unwrap_or(0) - c["iat"].as_i64().unwrap_or(0) <= 120);
    assert_eq!(c["authorization_details"][0]["externalRef"], "r");
}
