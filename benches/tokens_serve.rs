//! The local token service (issue 13): tokens per second and latency, from the cache and fresh.
//!
//! `cargo bench --bench tokens_serve [-- --iters N --concurrency C]`
//!
//! One in-process sandbox, onboarded through the flow (key generated, client, system, request
//! approved); `tokens serve`'s server on 127.0.0.1:0 holding that client's key; callers POST
//! texas-style system-user token requests with the secret over loopback HTTP (keep-alive).
//! - cached: the same request again and again (served from the cache);
//! - cached, concurrent: C callers at once, each its own connection;
//! - fresh: `skip_cache: true`, so every request signs a grant and asks the sandbox, which
//!   signs an access token (two RS256 signatures per token, as with the real Maskinporten).

mod common;

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Msg, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::ProfileStore;
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig};
use altinn_onboard::secret::Secret;
use altinn_onboard::tokens::{self, TokenService};
use common::{CUSTOMER, Samples, drive, expect_step, fmt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-0123456789abcdef";

async fn call(http: &reqwest::Client, url: &str, body: &Value) -> Duration {
    let t = Instant::now();
    let resp = http
        .post(url)
        .bearer_auth(SECRET)
        .json(body)
        .send()
        .await
        .expect("send");
    let status = resp.status();
    let v: Value = resp.json().await.expect("json");
    assert_eq!(status, 200, "token request failed: {v}");
    assert!(v["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    t.elapsed()
}

fn rate(n: usize, d: Duration) -> String {
    format!("{:.0} tokens/s", n as f64 / d.as_secs_f64())
}

fn main() {
    let iters = common::arg_usize("--iters", 2000);
    let fresh_iters = (iters / 10).max(50);
    let concurrency = common::arg_usize("--concurrency", 32);
    println!(
        "== tokens serve: {iters} cached, {fresh_iters} fresh requests, {concurrency} concurrent callers"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sb = sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox");
        let env =
            Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).expect("env");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(ProfileStore::at(dir.path()));
        let runner = Runner::new(env.clone(), store, Arc::new(TokenCache::in_memory()))
            .expect("http client");
        let mut flow = common::new_flow("bench");
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
        drive(&mut flow, &runner, common::client_msg()).await;
        drive(
            &mut flow,
            &runner,
            Msg::SubmitSystem(common::system_form("tokensbench")),
        )
        .await;
        drive(&mut flow, &runner, Msg::SubmitRequest(common::request_form())).await;
        expect_step(&flow, Step::Approval, "request");
        let id = flow.profile.current_request().expect("request").id.clone();
        let resp = reqwest::Client::new()
            .post(format!("{}/sandbox/requests/{id}/approve", sb.base_url()))
            .send()
            .await
            .expect("approve");
        assert!(resp.status().is_success());
        drive(&mut flow, &runner, Msg::StartPolling).await;
        expect_step(&flow, Step::TestCall, "poll");

        let creds = runner.credentials(&flow.profile).expect("credentials");
        let service = Arc::new(TokenService::new(&env, creds).expect("http client"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = tokens::start(service.clone(), &Secret::new(SECRET), listener)
            .await
            .expect("start");
        let url = format!("{}/api/v1/token", server.base_url());
        let body = json!({
            "identity_provider": "maskinporten",
            // The client's scopes (the bench's client has the vendor scopes only).
            "target": flow.profile.scopes.join(" "),
            "authorization_details": [{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")}}],
        });
        let mut fresh_body = body.clone();
        fresh_body["skip_cache"] = json!(true);
        let http = reqwest::Client::new();

        // Warm-up: the first token (upstream) and the connection.
        for _ in 0..20 {
            call(&http, &url, &body).await;
        }

        let mut cached = Samples::default();
        let t = Instant::now();
        for _ in 0..iters {
            cached.push(call(&http, &url, &body).await);
        }
        let cached_total = t.elapsed();

        let per_task = iters / concurrency.max(1);
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let url = url.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut s = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    s.push(call(&http, &url, &body).await);
                }
                s
            }));
        }
        let mut concurrent = Samples::default();
        for task in tasks {
            for d in task.await.expect("task") {
                concurrent.push(d);
            }
        }
        let concurrent_total = t.elapsed();

        for _ in 0..5 {
            call(&http, &url, &fresh_body).await;
        }
        let mut fresh = Samples::default();
        let before = service.upstream_maskinporten_calls();
        let t = Instant::now();
        for _ in 0..fresh_iters {
            fresh.push(call(&http, &url, &fresh_body).await);
        }
        let fresh_total = t.elapsed();
        assert_eq!(
            service.upstream_maskinporten_calls() - before,
            fresh_iters as u64,
            "every fresh request must go upstream"
        );

        println!();
        cached.report("cached, 1 caller");
        concurrent.report(&format!("cached, {concurrency} callers"));
        fresh.report("fresh (skip_cache), 1 caller");
        println!();
        println!(
            "throughput: cached 1 caller {}   cached {concurrency} callers {}   fresh 1 caller {}",
            rate(cached.len(), cached_total),
            rate(concurrent.len(), concurrent_total),
            rate(fresh.len(), fresh_total)
        );
        println!(
            "p99: cached {}   cached x{concurrency} {}   fresh {}",
            fmt(cached.p99()),
            fmt(concurrent.p99()),
            fmt(fresh.p99())
        );
        println!(
            "upstream Maskinporten calls in total: {}",
            service.upstream_maskinporten_calls()
        );
        server.shutdown().await;
        sb.shutdown().await;
    });
}
