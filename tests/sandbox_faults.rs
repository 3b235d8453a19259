//! The sandbox's fault-injection mode, observed from a raw HTTP client (real HTTP on
//! 127.0.0.1:0): every fault kind, the triggers (first N, every Nth, method, route template),
//! the skewed clock, the `/sandbox/faults` admin routes, plans given at start and from a file,
//! and that the server keeps serving after each fault.

mod sandbox_common;

use std::time::{Duration, Instant};

use altinn_onboard::sandbox::{
    self, Fault, FaultPlan, FaultPlanError, FaultRule, RuleCounter, SandboxConfig, SandboxError,
    SandboxHandle, SandboxOptions,
};
use sandbox_common::*;
use serde_json::{Value, json};

const METADATA: &str = "/.well-known/oauth-authorization-server";

async fn start_faulty(plan: FaultPlan) -> SandboxHandle {
    sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            faults: plan,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox starts")
}

async fn get(sb: &SandboxHandle, path: &str) -> Result<reqwest::Response, reqwest::Error> {
    http().get(format!("{}{path}", sb.base_url())).send().await
}

/// The server still answers normally.
async fn still_serving(sb: &SandboxHandle) {
    let resp = get(sb, "/jwk").await.expect("the sandbox still answers");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert!(body["keys"].is_array());
}

async fn faults_admin(sb: &SandboxHandle) -> Value {
    let resp = get(sb, "/sandbox/faults")
        .await
        .expect("GET /sandbox/faults");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

/// The full chain of a reqwest error (its Display hides the cause).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[tokio::test]
async fn status_fault_answers_the_5xx_with_a_body_then_serves() {
    let sb = start_faulty(
        FaultPlan::none()
            .rule(FaultRule::path("/jwk", Fault::status(503)).first(1))
            .rule(
                FaultRule::path(
                    METADATA,
                    Fault::Status {
                        status: 502,
                        body: Some(r#"{"gateway": "down"}"#.into()),
                    },
                )
                .first(1),
            ),
    )
    .await;
    let resp = get(&sb, "/jwk").await.expect("an answer");
    assert_eq!(resp.status(), 503);
    let text = resp.text().await.expect("body");
    assert!(text.contains("503") && text.contains("fault"), "{text}");

    let resp = get(&sb, METADATA).await.expect("an answer");
    assert_eq!(resp.status(), 502);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"gateway": "down"})
    );

    still_serving(&sb).await;
    assert_eq!(get(&sb, METADATA).await.expect("ok").status(), 200);
}

#[tokio::test]
async fn every_5xx_code_can_be_injected() {
    for code in [500u16, 502, 503, 504] {
        let sb = start_faulty(
            FaultPlan::none().rule(FaultRule::path("/jwk", Fault::status(code)).first(1)),
        )
        .await;
        assert_eq!(get(&sb, "/jwk").await.expect("answer").status(), code);
        still_serving(&sb).await;
    }
}

#[tokio::test]
async fn rate_limit_is_a_429_with_retry_after() {
    let sb = start_faulty(
        FaultPlan::none().rule(FaultRule::path("/jwk", Fault::rate_limit(7)).first(1)),
    )
    .await;
    let resp = get(&sb, "/jwk").await.expect("an answer");
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: Value = resp.json().await.expect("json body");
    assert_eq!(body["statusCode"], 429);
    assert!(body["message"].as_str().unwrap().contains("7 seconds"));
    still_serving(&sb).await;
}

#[tokio::test]
async fn dropped_connection_gives_the_client_a_connection_error() {
    let sb = start_faulty(
        FaultPlan::none().rule(FaultRule::path("/jwk", Fault::dropped_connection()).first(2)),
    )
    .await;
    // A fresh connection, and (second time) a pooled keep-alive one.
    let client = http();
    let ok = client
        .get(format!("{}{METADATA}", sb.base_url()))
        .send()
        .await
        .expect("warm-up");
    assert_eq!(ok.status(), 200);
    let _ = ok.bytes().await;
    for round in 0..2 {
        let err = client
            .get(format!("{}/jwk", sb.base_url()))
            .send()
            .await
            .expect_err("no answer at all, not even a status line");
        assert!(
            err.is_request() && !err.is_timeout() && err.status().is_none(),
            "round {round}: {}",
            chain(&err)
        );
    }
    still_serving(&sb).await;
    let report = sb.fault_report();
    assert_eq!(report.counters[0], RuleCounter { seen: 3, fired: 2 });
}

#[tokio::test]
async fn dropped_answer_after_handler_runs_the_handler() {
    let sb = start_faulty(
        FaultPlan::none().rule(
            FaultRule::path("/sandbox/clients", Fault::dropped_answer())
                .method("POST")
                .first(1),
        ),
    )
    .await;
    let key = key_a();
    let body = json!({"org": VENDOR_ORG, "client_id": "dropped-answer-client",
        "scopes": [SCOPE_DEMO], "jwks": {"keys": [key.jwk("k1")]}});
    let bytes = serde_json::to_vec(&body).expect("json");
    let proof = admin_proof(
        &sb,
        "POST",
        "/sandbox/clients",
        &bytes,
        key,
        "k1",
        VENDOR_ORG,
        None,
    );
    let err = http()
        .post(format!("{}/sandbox/clients", sb.base_url()))
        .bearer_auth(proof)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .expect_err("the answer is lost");
    assert!(err.status().is_none(), "{}", chain(&err));
    // ...but the client was created.
    let resp = get(&sb, "/sandbox/clients/dropped-answer-client")
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    still_serving(&sb).await;
}

#[tokio::test]
async fn truncated_json_keeps_the_status_and_cuts_the_body_in_half() {
    let sb = start().await;
    let whole = get(&sb, METADATA)
        .await
        .expect("answer")
        .text()
        .await
        .expect("body");
    serde_json::from_str::<Value>(&whole).expect("the real answer is JSON");

    sb.set_faults(FaultPlan::none().rule(FaultRule::path(METADATA, Fault::truncated()).first(1)))
        .expect("valid plan");
    let resp = get(&sb, METADATA).await.expect("answer");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    let cut = resp.text().await.expect("a complete (short) body");
    assert_eq!(cut.len(), whole.len() / 2);
    assert!(whole.starts_with(&cut));
    let err = serde_json::from_str::<Value>(&cut).expect_err("not JSON any more");
    assert!(err.is_eof(), "{err}");
    still_serving(&sb).await;
    assert_eq!(
        get(&sb, METADATA).await.expect("ok").text().await.unwrap(),
        whole
    );
}

#[tokio::test]
async fn malformed_json_is_a_200_with_garbage() {
    let sb = start_faulty(
        FaultPlan::none()
            .rule(FaultRule::path("/jwk", Fault::malformed()).first(1))
            .rule(
                FaultRule::path(
                    METADATA,
                    Fault::Malformed {
                        body: Some("<html>oops</html>".into()),
                    },
                )
                .first(1),
            ),
    )
    .await;
    let resp = get(&sb, "/jwk").await.expect("answer");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = resp.text().await.expect("body");
    assert!(!text.is_empty());
    let err = serde_json::from_str::<Value>(&text).expect_err("garbage");
    assert!(err.is_syntax(), "{err}");
    let resp = get(&sb, METADATA).await.expect("answer");
    assert_eq!(resp.text().await.expect("body"), "<html>oops</html>");
    still_serving(&sb).await;
}

#[tokio::test]
async fn latency_delays_and_adds_up_with_other_faults() {
    let sb = start_faulty(
        FaultPlan::none()
            .rule(FaultRule::path("/jwk", Fault::latency_ms(300)).first(2))
            .rule(FaultRule::path("/jwk", Fault::latency_ms(200)).first(1))
            .rule(FaultRule::path("/jwk", Fault::status(504)).first(1)),
    )
    .await;
    let started = Instant::now();
    let resp = get(&sb, "/jwk").await.expect("answer");
    assert_eq!(resp.status(), 504);
    assert!(started.elapsed() >= Duration::from_millis(500));

    let started = Instant::now();
    let resp = get(&sb, "/jwk").await.expect("answer");
    assert_eq!(resp.status(), 200, "latency alone lets the request through");
    assert!(started.elapsed() >= Duration::from_millis(300));
    still_serving(&sb).await;
}

#[tokio::test]
async fn every_nth_and_method_and_route_template_select_requests() {
    let sb = start_faulty(
        FaultPlan::none()
            // Every 3rd GET /jwk.
            .rule(FaultRule::path("/jwk", Fault::status(500)).every(3))
            // POSTs anywhere under /sandbox/clients, not GETs.
            .rule(FaultRule::prefix("/sandbox/clients", Fault::status(503)).method("post"))
            // A route template from the route table (the matched route, not the path).
            .rule(FaultRule::route(
                "/sandbox/clients/{client_id}",
                Fault::status(502),
            )),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(get(&sb, "/jwk").await.expect("answer").status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 500, 200, 200, 500, 200]);

    let resp = http()
        .post(format!("{}/sandbox/clients", sb.base_url()))
        .json(&json!({}))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 503);
    // GET /sandbox/clients/x: rule 1 does not match the method; rule 2 matches the template.
    let resp = get(&sb, "/sandbox/clients/whoever").await.expect("answer");
    assert_eq!(resp.status(), 502);
    // Not routed there: the template does not match a path that merely looks similar.
    let resp = get(&sb, "/sandbox/clients").await.expect("answer");
    assert_eq!(
        resp.status(),
        405,
        "only POST is routed on /sandbox/clients"
    );

    let report = faults_admin(&sb).await;
    assert_eq!(report["counters"][0], json!({"seen": 7, "fired": 2}));
    assert_eq!(report["counters"][1], json!({"seen": 1, "fired": 1}));
    assert_eq!(report["counters"][2], json!({"seen": 1, "fired": 1}));
    assert_eq!(report["plan"]["rules"][1]["method"], "POST");
    still_serving(&sb).await;
}

#[tokio::test]
async fn skewed_clock_moves_the_date_header_and_the_grant_checks() {
    let sb = start().await;
    let vendor = create_client(&sb, VENDOR_ORG, &[SCOPE_DEMO], key_a()).await;
    let grant = || {
        sign(
            &grant_claims(&sb, &vendor, SCOPE_DEMO),
            Some(&vendor.kid),
            key_a(),
        )
    };

    // Sandbox 60 s behind: our iat is 60 s in its future.
    sb.set_faults(FaultPlan::none().clock_offset(-60))
        .expect("valid plan");
    let resp = post_grant(&sb, &grant()).await;
    let date = resp.headers()["date"].to_str().unwrap().to_string();
    let server = httpdate::parse_http_date(&date).expect("HTTP date");
    let behind = std::time::SystemTime::now()
        .duration_since(server)
        .expect("the sandbox's Date is in the past")
        .as_secs();
    assert!((58..=62).contains(&behind), "Date is {behind} s behind");
    let (error, description) = expect_oauth_error(resp).await;
    assert_eq!(error, "invalid_grant");
    assert!(description.contains("iat"), "{description}");

    // Sandbox 200 s ahead: the grant (exp = iat + 110) has expired by its clock.
    sb.set_faults(FaultPlan::none().clock_offset(200))
        .expect("valid plan");
    let resp = post_grant(&sb, &grant()).await;
    let server = httpdate::parse_http_date(resp.headers()["date"].to_str().unwrap()).unwrap();
    let ahead = server
        .duration_since(std::time::SystemTime::now())
        .expect("the sandbox's Date is in the future")
        .as_secs();
    assert!((198..=202).contains(&ahead), "Date is {ahead} s ahead");
    let (_, description) = expect_oauth_error(resp).await;
    assert!(description.contains("expired"), "{description}");

    // Back to the real clock: the same kind of grant works, and Date is now.
    sb.clear_faults();
    let resp = post_grant(&sb, &grant()).await;
    assert_eq!(resp.status(), 200);
    let server = httpdate::parse_http_date(resp.headers()["date"].to_str().unwrap()).unwrap();
    let off = match server.duration_since(std::time::SystemTime::now()) {
        Ok(d) => d.as_secs(),
        Err(e) => e.duration().as_secs(),
    };
    assert!(off <= 2, "{off}");
}

#[tokio::test]
async fn tokens_are_checked_against_the_skewed_clock() {
    let sb = start().await;
    let s = setup(&sb, "skewcheck").await;
    let url = api(&sb, &format!("/systemregister/vendor/{}", s.system_id));
    assert_eq!(get_json(&url, &s.token).await.0, 200);
    // Two hours later by the sandbox's clock the token (120 s) has expired: 401.
    sb.set_faults(FaultPlan::none().clock_offset(7200))
        .expect("valid plan");
    assert_eq!(get_json(&url, &s.token).await.0, 401);
    sb.clear_faults();
    assert_eq!(get_json(&url, &s.token).await.0, 200);
}

#[tokio::test]
async fn admin_routes_set_show_and_clear_the_plan_and_are_never_faulted() {
    let sb = start().await;
    let url = format!("{}/sandbox/faults", sb.base_url());
    assert_eq!(
        faults_admin(&sb).await,
        json!({"plan": {"clock_offset_secs": 0, "rules": []}, "counters": []})
    );

    // Everything is dropped and slow...
    let plan = json!({
        "seed": 3,
        "rules": [
            {"prefix": "/", "fault": {"kind": "latency", "ms": 2000}},
            {"prefix": "/", "fault": {"kind": "drop"}}
        ]
    });
    let resp = http()
        .put(&url)
        .bearer_auth(sb.admin_secret())
        .json(&plan)
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["plan"]["seed"], 3);
    assert_eq!(body["plan"]["rules"][1]["fault"], json!({"kind": "drop"}));
    assert_eq!(
        body["counters"],
        json!([{"seen": 0, "fired": 0}, {"seen": 0, "fired": 0}])
    );
    assert!(get(&sb, "/jwk").await.is_err());

    // ...except the admin routes: no rule even counts them (only the GET /jwk above).
    let report = faults_admin(&sb).await;
    assert_eq!(report["counters"][0], json!({"seen": 1, "fired": 1}));
    assert_eq!(report["counters"][1], json!({"seen": 1, "fired": 1}));

    // Bad plans: a clear 400, and the active plan stays.
    let resp = http()
        .put(&url)
        .bearer_auth(sb.admin_secret())
        .json(&json!({"rules": [{"path": "/token", "fault": {"kind": "status", "status": 404}}]}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.expect("json");
    assert_eq!(err["error"], "invalid_fault_plan");
    let d = err["error_description"].as_str().unwrap();
    assert!(d.contains("rule 0") && d.contains("5xx"), "{d}");
    let resp = http()
        .put(&url)
        .bearer_auth(sb.admin_secret())
        .header("content-type", "application/json")
        .body("{\"rules\": [")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    let resp = http()
        .put(&url)
        .bearer_auth(sb.admin_secret())
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 415);
    assert_eq!(
        faults_admin(&sb).await["plan"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // DELETE clears it.
    let resp = http()
        .delete(&url)
        .bearer_auth(sb.admin_secret())
        .send()
        .await
        .expect("DELETE");
    assert_eq!(resp.status(), 204);
    assert_eq!(faults_admin(&sb).await["plan"]["rules"], json!([]));
    still_serving(&sb).await;
}

#[tokio::test]
async fn put_replaces_the_plan_and_restarts_the_counters() {
    let sb = start().await;
    let url = format!("{}/sandbox/faults", sb.base_url());
    let plan = json!({"rules": [{"path": "/jwk", "method": "GET", "first": 1,
        "fault": {"kind": "status", "status": 503}}]});
    for _ in 0..2 {
        let resp = http()
            .put(&url)
            .bearer_auth(sb.admin_secret())
            .json(&plan)
            .send()
            .await
            .expect("PUT");
        assert_eq!(resp.status(), 200);
        assert_eq!(get(&sb, "/jwk").await.expect("answer").status(), 503);
        assert_eq!(get(&sb, "/jwk").await.expect("answer").status(), 200);
    }
    assert_eq!(
        faults_admin(&sb).await["counters"][0],
        json!({"seen": 2, "fired": 1})
    );
}

#[tokio::test]
async fn an_invalid_plan_in_the_options_refuses_to_start() {
    let plan = FaultPlan::none().rule(FaultRule::path("/token", Fault::status(429)));
    let err = sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            faults: plan,
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, SandboxError::Faults(_)), "{err}");
    assert!(err.to_string().contains("rate_limit"), "{err}");
}

#[tokio::test]
async fn plan_files_are_read_with_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.json");
    std::fs::write(
        &path,
        r#"{
  "clock_offset_secs": -5,
  "rules": [
    {"route": "/authentication/api/v1/systemuser/request/vendor/{request_id}", "method": "GET",
     "first": 2, "fault": {"kind": "status", "status": 503}},
    {"path": "/token", "every": 3, "fault": {"kind": "rate_limit", "retry_after_secs": 1}}
  ]
}"#,
    )
    .expect("write");
    let plan = FaultPlan::from_file(&path).expect("a valid plan");
    assert_eq!(plan.clock_offset_secs, -5);
    assert_eq!(plan.rules[1].fault, Fault::rate_limit(1));
    // The file's plan drives a sandbox.
    let sb = start_faulty(plan).await;
    assert_eq!(sb.fault_report().plan.rules.len(), 2);

    let missing = dir.path().join("nope.json");
    let err = FaultPlan::from_file(&missing).expect_err("missing");
    assert!(matches!(err, FaultPlanError::Io { .. }));
    assert!(err.to_string().contains("nope.json"), "{err}");

    std::fs::write(&path, "{\n  \"rules\": [\n    {\"path\": \"/token\", \"frist\": 2, \"fault\": {\"kind\": \"drop\"}}\n  ]\n}").unwrap();
    let err = FaultPlan::from_file(&path).expect_err("typo");
    let msg = err.to_string();
    assert!(matches!(err, FaultPlanError::Parse { .. }));
    assert!(
        msg.contains("plan.json") && msg.contains("frist") && msg.contains("line 3"),
        "{msg}"
    );

    std::fs::write(
        &path,
        r#"{"rules": [{"path": "/token", "fault": {"kind": "latency", "ms": 10}, "every": 0}]}"#,
    )
    .unwrap();
    let err = FaultPlan::from_file(&path).expect_err("every 0");
    assert!(matches!(err, FaultPlanError::Invalid { .. }));
    assert!(err.to_string().contains("rule 0: \"every\""), "{err}");
}

#[tokio::test]
async fn the_server_keeps_serving_through_a_mix_of_all_faults() {
    let sb = start_faulty(
        FaultPlan::none()
            .seed(11)
            .rule(FaultRule::prefix("/", Fault::latency_ms(1)).probability(0.5))
            .rule(FaultRule::path("/jwk", Fault::dropped_connection()).every(5))
            .rule(FaultRule::path("/jwk", Fault::status(502)).every(4))
            .rule(FaultRule::path("/jwk", Fault::rate_limit(1)).every(3))
            .rule(FaultRule::path("/jwk", Fault::truncated()).every(2))
            .rule(FaultRule::path("/jwk", Fault::malformed()).probability(0.3)),
    )
    .await;
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..40 {
        let key = match get(&sb, "/jwk").await {
            Err(_) => "dropped".to_string(),
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                let json = serde_json::from_str::<Value>(&body).is_ok();
                format!("{status}{}", if json { "" } else { " not-json" })
            }
        };
        *outcomes.entry(key).or_default() += 1;
    }
    for k in ["dropped", "502 not-json", "429", "200 not-json", "200"] {
        assert!(outcomes.contains_key(k), "{k} missing from {outcomes:?}");
    }
    sb.clear_faults();
    for _ in 0..5 {
        still_serving(&sb).await;
    }
}
