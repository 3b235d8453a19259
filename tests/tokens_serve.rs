//! `tokens serve` (issue 13) against the in-process sandbox: a vendor client, a registered
//! system and an approved request are set up with the sandbox's own API (sandbox_common), then
//! the token service holds that client's key and callers talk to it over loopback HTTP.

mod sandbox_common;

use altinn_onboard::env::{EnvKind, Environment};
use altinn_onboard::keys::KeyPair;
use altinn_onboard::maskinporten::ClientCredentials;
use altinn_onboard::sandbox::SandboxHandle;
use altinn_onboard::tokens::{self, ServerHandle, TokenService};
use sandbox_common::*;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const EXTERNAL_REF: &str = "kunde-1";
const SECRET: &str = "test-secret-0123456789abcdef";

/// Everything every test in this binary logs, at trace level, to scan for tokens.
fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("altinn_onboard=trace"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        buf
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct World {
    sandbox: SandboxHandle,
    service: Arc<TokenService>,
    server: ServerHandle,
    /// Seconds added to the service's clock.
    skew: Arc<AtomicI64>,
    client_id: String,
}

impl World {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn post(&self, path: &str, secret: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = http().post(self.url(path)).json(body);
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, body: &Value) -> (u16, Value) {
        self.post("/api/v1/token", Some(SECRET), body).await
    }

    async fn stop(self) {
        self.server.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

fn system_user_body() -> Value {
    json!({
        "identity_provider": "maskinporten",
        "target": SCOPE_DEMO,
        "authorization_details": [{
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER_ORG}")},
            "externalRef": EXTERNAL_REF,
        }],
    })
}

/// Sandbox with an approved system user (request with externalRef) and the token service.
async fn world() -> World {
    captured_logs();
    let sandbox = start().await;
    let s = setup(&sandbox, "smartcloud").await;
    let mut body = standard_request(&s.system_id, CUSTOMER_ORG);
    body["externalRef"] = json!(EXTERNAL_REF);
    let resp = create_request(&sandbox, &s.token, &body).await;
    assert!(resp.status().is_success(), "request: {}", resp.status());
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(approve(&sandbox, &id).await.status().is_success());

    let env = Environment::from_parts(EnvKind::Sandbox, &sandbox.issuer(), &sandbox.base_url())
        .expect("env");
    let key = KeyPair::import(&key_a().pem, Some(s.vendor.kid.clone())).expect("key");
    let creds = ClientCredentials {
        client_id: s.vendor.client_id.clone(),
        key: Arc::new(key),
    };
    let skew = Arc::new(AtomicI64::new(0));
    let clock_skew = skew.clone();
    let service = Arc::new(
        TokenService::new(&env, creds)
            .expect("http client")
            .with_clock(Arc::new(move || {
                chrono::Utc::now().timestamp() + clock_skew.load(Ordering::Relaxed)
            })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = tokens::start(
        service.clone(),
        &altinn_onboard::secret::Secret::new(SECRET),
        listener,
    )
    .await
    .expect("start");
    World {
        sandbox,
        service,
        server,
        skew,
        client_id: s.vendor.client_id,
    }
}

#[tokio::test]
async fn issues_caches_and_renews_system_user_tokens() {
    let w = world().await;
    let (status, first) = w.token(&system_user_body()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["token_type"], "Bearer");
    assert!(first["expires_in"].as_i64().unwrap() > 60);
    let t1 = first["access_token"].as_str().unwrap().to_string();
    assert_eq!(w.service.upstream_maskinporten_calls(), 1);

    // It is a system-user token the sandbox's reference API accepts for this customer.
    let (status, who) = get_json(&format!("{}/reference/whoami", w.sandbox.base_url()), &t1).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["customerOrg"], CUSTOMER_ORG);
    assert_eq!(who["externalRef"], EXTERNAL_REF);
    assert_eq!(who["clientId"], w.client_id.as_str());

    // The same request again (convenience fields, other scope order): from the cache.
    let (status, second) = w
        .token(
            &json!({"identity_provider": "maskinporten", "target": SCOPE_DEMO,
            "customer_org": CUSTOMER_ORG, "external_ref": EXTERNAL_REF}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["access_token"], t1.as_str());
    assert_eq!(
        w.service.upstream_maskinporten_calls(),
        1,
        "second call went upstream"
    );

    // A different externalRef is a different cache entry (and Maskinporten refuses it: MP-303).
    let (status, wrong) = w
        .token(
            &json!({"identity_provider": "maskinporten", "target": SCOPE_DEMO,
            "customer_org": CUSTOMER_ORG, "external_ref": "someone-else"}),
        )
        .await;
    assert_eq!(status, 400, "{wrong}");
    assert_eq!(wrong["error"], "invalid_altinn_customer_configuration");
    assert!(
        wrong["error_description"]
            .as_str()
            .unwrap()
            .contains("MP-303")
    );
    assert_eq!(w.service.upstream_maskinporten_calls(), 2);

    // 61 s later less than the 60 s margin is left of the 120 s token: renewed.
    w.skew.store(61, Ordering::Relaxed);
    let (status, third) = w.token(&system_user_body()).await;
    assert_eq!(status, 200, "{third}");
    assert_ne!(third["access_token"], t1.as_str(), "not renewed");
    assert_eq!(w.service.upstream_maskinporten_calls(), 3);
    // ...and the renewed one is cached again.
    let (_, fourth) = w.token(&system_user_body()).await;
    assert_eq!(fourth["access_token"], third["access_token"]);
    assert_eq!(w.service.upstream_maskinporten_calls(), 3);

    // skip_cache (texas) forces a new one.
    let mut body = system_user_body();
    body["skip_cache"] = json!(true);
    let (_, fifth) = w.token(&body).await;
    assert_ne!(fifth["access_token"], fourth["access_token"]);
    assert_eq!(w.service.upstream_maskinporten_calls(), 4);
    w.stop().await;
}

#[tokio::test]
async fn introspection_and_altinn_exchange() {
    let w = world().await;
    let (_, tok) = w.token(&system_user_body()).await;
    let t = tok["access_token"].as_str().unwrap();
    let (status, info) = w
        .post("/api/v1/introspect", Some(SECRET), &json!({ "token": t }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["iss"], w.sandbox.issuer().as_str());
    assert_eq!(
        info["authorization_details"][0]["systemuser_org"]["ID"],
        format!("0192:{CUSTOMER_ORG}")
    );

    // A tampered signature, and something that is not a JWT: inactive, with the reason.
    let tampered = format!("{}AAAA", &t[..t.len() - 4]);
    let (_, bad) = w
        .post(
            "/api/v1/introspect",
            Some(SECRET),
            &json!({ "token": tampered }),
        )
        .await;
    assert_eq!(bad["active"], false, "{bad}");
    assert!(bad["error"].as_str().is_some());
    let (_, junk) = w
        .post(
            "/api/v1/introspect",
            Some(SECRET),
            &json!({ "token": "nope" }),
        )
        .await;
    assert_eq!(junk["active"], false);

    // Altinn exchange: on request, by route or by flag; cached like any other token.
    let (status, ex) = w
        .post("/api/v1/token/exchange", Some(SECRET), &system_user_body())
        .await;
    assert_eq!(status, 200, "{ex}");
    let altinn = ex["access_token"].as_str().unwrap();
    assert_ne!(altinn, t);
    let (_, ex_info) = w
        .post(
            "/api/v1/introspect",
            Some(SECRET),
            &json!({ "token": altinn }),
        )
        .await;
    assert_eq!(ex_info["active"], true, "{ex_info}");
    assert!(
        ex_info["iss"]
            .as_str()
            .unwrap()
            .ends_with("/authentication/api/v1/openid/")
    );
    let mut flagged = system_user_body();
    flagged["altinn_exchange"] = json!(true);
    let (_, again) = w.token(&flagged).await;
    assert_eq!(again["access_token"], altinn);
    assert_eq!(w.service.upstream_exchange_calls(), 1);
    // The Maskinporten token under it came from the cache.
    assert_eq!(w.service.upstream_maskinporten_calls(), 1);
    w.stop().await;
}

#[tokio::test]
async fn callers_need_the_secret() {
    let w = world().await;
    for secret in [
        None,
        Some("wrong"),
        Some(""),
        Some("test-secret-0123456789abcdeF"),
    ] {
        let (status, body) = w.post("/api/v1/token", secret, &system_user_body()).await;
        assert_eq!(status, 401, "{secret:?}: {body}");
        assert_eq!(body["error"], "unauthorized");
        let (status, _) = w
            .post("/api/v1/introspect", secret, &json!({"token": "x"}))
            .await;
        assert_eq!(status, 401);
    }
    // A Basic header with the secret is not a bearer secret.
    let resp = http()
        .post(w.url("/api/v1/token"))
        .basic_auth(SECRET, Some(""))
        .json(&system_user_body())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(w.service.upstream_maskinporten_calls(), 0);
    // texas-style errors for a bad request from an authorised caller.
    let (status, body) = w
        .token(&json!({"identity_provider": "azuread", "target": SCOPE_DEMO}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("azuread")
    );
    // A form body, as texas also takes.
    let resp = http()
        .post(w.url("/api/v1/token"))
        .bearer_auth(SECRET)
        .form(&[
            ("identity_provider", "maskinporten"),
            ("target", SCOPE_DEMO),
            ("customer_org", CUSTOMER_ORG),
            ("external_ref", EXTERNAL_REF),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    w.stop().await;
}

#[tokio::test]
async fn two_hundred_concurrent_callers_zero_errors_one_upstream_call_per_key() {
    let w = Arc::new(world().await);
    let bodies = [
        system_user_body(),
        // A vendor token (no system user) and another scope set: separate cache entries.
        json!({"identity_provider": "maskinporten", "target": SCOPE_REQ_READ}),
        json!({"identity_provider": "maskinporten", "target": format!("{SCOPE_REQ_READ} {SCOPE_REQ_WRITE}")}),
    ];
    let mut tasks = Vec::new();
    for i in 0..200 {
        let w = w.clone();
        let body = bodies[i % bodies.len()].clone();
        // Each caller its own client: its own connection, as separate processes would have.
        tasks.push(tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(w.url("/api/v1/token"))
                .bearer_auth(SECRET)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.map_err(|e| e.to_string())?;
            if status == 200 && v["access_token"].as_str().is_some_and(|t| !t.is_empty()) {
                Ok(())
            } else {
                Err(format!("{status}: {v}"))
            }
        }));
    }
    let results = tokio::time::timeout(Duration::from_secs(120), async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    })
    .await
    .expect("200 callers did not finish within 120 s");
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    // Identical concurrent requests were coalesced: one upstream call per distinct request.
    assert_eq!(w.service.upstream_maskinporten_calls(), 3);

    // Concurrent requests Maskinporten refuses (MP-303): every caller gets the refusal, those
    // that waited for the same attempt without asking again (how many did is timing, so it is
    // only printed).
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            w.token(
                &json!({"identity_provider": "maskinporten", "target": SCOPE_DEMO,
                "customer_org": CUSTOMER_ORG, "external_ref": "not-approved"}),
            )
            .await
        }));
    }
    for t in tasks {
        let (status, body) = tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .expect("bounded")
            .expect("task");
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_altinn_customer_configuration");
    }
    eprintln!(
        "50 refused callers caused {} upstream calls",
        w.service.upstream_maskinporten_calls() - 3
    );
    let w = Arc::into_inner(w).expect("tasks done");
    w.stop().await;
}

#[tokio::test]
async fn tokens_never_reach_the_log() {
    let w = world().await;
    let mut issued = Vec::new();
    for body in [
        system_user_body(),
        json!({"identity_provider": "maskinporten", "target": SCOPE_REQ_READ}),
    ] {
        let (status, v) = w.token(&body).await;
        assert_eq!(status, 200, "{v}");
        issued.push(v["access_token"].as_str().unwrap().to_string());
        let (_, v) = w.token(&body).await; // cached path logs too
        issued.push(v["access_token"].as_str().unwrap().to_string());
    }
    let (_, ex) = w
        .post("/api/v1/token/exchange", Some(SECRET), &system_user_body())
        .await;
    issued.push(ex["access_token"].as_str().unwrap().to_string());
    let (_, _) = w
        .post(
            "/api/v1/introspect",
            Some(SECRET),
            &json!({"token": issued[0]}),
        )
        .await;
    let _ = w
        .post("/api/v1/token", Some("wrong-secret"), &system_user_body())
        .await;
    w.stop().await;

    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    // The capture works: the access log names who asked for what.
    assert!(
        logs.contains("outcome=\"issued\""),
        "no access log captured:\n{logs}"
    );
    assert!(logs.contains("outcome=\"cached\""));
    assert!(logs.contains(&format!("customer={CUSTOMER_ORG}")));
    assert!(logs.contains("peer=127.0.0.1:"));
    for t in &issued {
        let signature = t.rsplit('.').next().unwrap();
        assert!(
            !logs.contains(signature),
            "a token's signature is in the log"
        );
        let payload = t.split('.').nth(1).unwrap();
        assert!(!logs.contains(payload), "a token's payload is in the log");
    }
    assert!(!logs.contains(SECRET), "the caller secret is in the log");
    assert!(
        !logs.contains("wrong-secret"),
        "a presented secret is in the log"
    );
}

#[test]
fn serve_refuses_non_loopback_without_the_flag() {
    let home = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("altinn-onboard")
        .unwrap()
        .env("ALTINN_ONBOARD_HOME", home.path())
        .args(["tokens", "serve", "--bind", "0.0.0.0", "--port", "0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("--allow-non-loopback"), "{err}");
}

#[test]
fn serve_refuses_a_readable_secret_file() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let secret = home.path().join("secret");
    std::fs::write(&secret, "0123456789abcdef0123").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = assert_cmd::Command::cargo_bin("altinn-onboard")
        .unwrap()
        .env("ALTINN_ONBOARD_HOME", home.path())
        .args(["tokens", "serve", "--port", "0", "--secret-file"])
        .arg(&secret)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
}
