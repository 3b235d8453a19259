//! The sandbox under workshop load, and its peak memory (issue 6, fourth and fifth benchmarks).
//!
//! `cargo bench --bench load [-- --secs 20 --pollers 200 --token-clients 20 --token-rate HZ
//!  --state --in-process]`
//!
//! A `sandbox serve --bind 127.0.0.1 --port 0` release process (or, with `--in-process`, a
//! sandbox in this process) gets, set up first and not measured:
//! - `--pollers` simulated workshop participants, each with its own Runner (HTTP client,
//!   token cache), its own Maskinporten client, system `{vendor}_load{i}` and a pending request
//!   for a seeded customer, made through `Flow` + `Runner` as the CLI does (key imported);
//! - `--token-clients` participants with their own Maskinporten client.
//!
//! Then, for `--secs` seconds (every loop checks the deadline; the whole phase is also under a
//! hard timeout): each poller asks for its request's status once a second at a random phase
//! (`GET .../systemuser/request/vendor/{id}` with its cached vendor token, no retries), and each
//! token client fetches fresh Maskinporten tokens back to back, or `--token-rate` per second (a
//! new signed grant each time, `MaskinportenClient::token(.., fresh = true)`). Reported per operation: count, throughput,
//! latency p50/p99/max, and errors (any non-2xx, transport error or wrong answer). For the
//! spawned server also its CPU time during the window and VmHWM/VmRSS after it.
//! `--state` makes the server persist to a state file, as the README's workshop recipe does.

mod common;

use altinn_onboard::altinn::AltinnClient;
use altinn_onboard::altinn::client::{SCOPE_REQUEST_READ, VENDOR_SCOPES};
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Msg, Step};
use altinn_onboard::http::RetryPolicy;
use altinn_onboard::keys::{KeyBits, KeyPair};
use altinn_onboard::maskinporten::{MaskinportenClient, TokenCache, TokenRequest};
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle};
use common::{Samples, drive, expect_step, fmt};
use rand::Rng;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What one simulated participant measured.
#[derive(Default)]
struct Outcome {
    latencies: Samples,
    errors: BTreeMap<String, usize>,
}

impl Outcome {
    fn error(&mut self, e: impl std::fmt::Display) {
        let text: String = e.to_string().chars().take(120).collect();
        *self.errors.entry(text).or_default() += 1;
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.0.extend(other.latencies.0);
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

enum Target {
    Process { child: Child, url: String },
    InProcess(SandboxHandle),
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Process { url, .. } => url.clone(),
            Target::InProcess(h) => h.base_url(),
        }
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Target::Process { child, .. } => Some(child.id()),
            Target::InProcess(_) => None,
        }
    }
}

fn spawn_server(home: &std::path::Path, state: bool) -> Target {
    let mut cmd = Command::new(common::bin());
    cmd.args(["sandbox", "serve", "--port", "0", "--bind", "127.0.0.1"]);
    if state {
        cmd.arg("--state").arg(home.join("room.json"));
    }
    let mut child = cmd
        .env("ALTINN_ONBOARD_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read url");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no loopback url in: {line}"))
        .to_string();
    Target::Process { child, url }
}

/// A participant after set-up.
struct Participant {
    runner: Arc<Runner>,
    profile: Profile,
    request_id: Option<String>,
}

async fn set_up(
    i: usize,
    env: Environment,
    store: Arc<ProfileStore>,
    pem: Arc<String>,
    with_request: bool,
) -> Participant {
    let runner =
        Arc::new(Runner::new(env, store, Arc::new(TokenCache::in_memory())).expect("http client"));
    let mut flow = common::new_flow(&format!("load{i}"));
    drive(
        &mut flow,
        &runner,
        Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)),
    )
    .await;
    drive(
        &mut flow,
        &runner,
        Msg::ImportKey {
            source: pem.to_string().into(),
            // A kid is unique across the sandbox's clients (as in Maskinporten).
            kid: Some(format!("load-{i}")),
        },
    )
    .await;
    expect_step(&flow, Step::Client, "key");
    drive(&mut flow, &runner, common::client_msg()).await;
    expect_step(&flow, Step::System, "client");
    let mut request_id = None;
    if with_request {
        drive(
            &mut flow,
            &runner,
            Msg::SubmitSystem(common::system_form(&format!("load{i}"))),
        )
        .await;
        expect_step(&flow, Step::Request, "system");
        drive(
            &mut flow,
            &runner,
            Msg::SubmitRequest(common::request_form()),
        )
        .await;
        expect_step(&flow, Step::Approval, "request");
        request_id = Some(flow.profile.current_request().expect("request").id.clone());
    }
    Participant {
        runner,
        profile: flow.profile.clone(),
        request_id,
    }
}

/// Poll once a second until the deadline.
async fn poller(p: Participant, env: Environment, start: Instant, deadline: Instant) -> Outcome {
    let mut out = Outcome::default();
    let id = p.request_id.clone().expect("request id");
    let altinn = AltinnClient::new(&env, altinn_onboard::http::client().expect("http client"))
        .with_retry(RetryPolicy::none());
    // Warm the connection and the token cache before the window opens.
    let token = p
        .runner
        .vendor_token(&p.profile, SCOPE_REQUEST_READ, false)
        .await
        .expect("vendor token");
    let first = altinn
        .get_request(&token.token, &id, false)
        .await
        .expect("status before the window");
    assert_eq!(first.effective_status().as_str(), "New");
    let phase = Duration::from_millis(rand::thread_rng().gen_range(0..1000));
    let mut tick = tokio::time::interval_at((start + phase).into(), Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let t = Instant::now();
        // As the wizard polls (Runner::poll_status): cached vendor token, then the GET.
        let res = match p
            .runner
            .vendor_token(&p.profile, SCOPE_REQUEST_READ, false)
            .await
        {
            Ok(tok) => altinn
                .get_request(&tok.token, &id, false)
                .await
                .map_err(|e| e.to_string()),
            Err(f) => Err(f.message),
        };
        let d = t.elapsed();
        match res {
            Ok(info) if info.id == id && info.effective_status().as_str() == "New" => {
                out.latencies.push(d)
            }
            Ok(info) => out.error(format!(
                "wrong answer: {} {}",
                info.id,
                info.effective_status().as_str()
            )),
            Err(e) => out.error(e),
        }
    }
    out
}

/// Fresh tokens until the deadline: back to back (`rate` 0) or `rate` per second.
async fn token_client(
    p: Participant,
    env: Environment,
    start: Instant,
    deadline: Instant,
    rate: f64,
) -> Outcome {
    let mut out = Outcome::default();
    let creds = p.runner.credentials(&p.profile).expect("credentials");
    let mp = MaskinportenClient::new(
        &env,
        altinn_onboard::http::client().expect("http client"),
        Arc::new(TokenCache::in_memory()),
    );
    let req = TokenRequest {
        scopes: VENDOR_SCOPES.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    mp.token(&creds, &req, true).await.expect("warm-up token");
    let mut tick = (rate > 0.0).then(|| {
        let period = Duration::from_secs_f64(1.0 / rate);
        let phase = period.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        let mut t = tokio::time::interval_at((start + phase).into(), period);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    if tick.is_none() {
        tokio::time::sleep_until(start.into()).await;
    }
    loop {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        if Instant::now() >= deadline {
            break;
        }
        let t = Instant::now();
        match mp.token(&creds, &req, true).await {
            Ok(tok) if !tok.token.expose().is_empty() => out.latencies.push(t.elapsed()),
            Ok(_) => out.error("empty token"),
            Err(e) => out.error(e),
        }
    }
    out
}

fn report(name: &str, o: &Outcome, secs: f64) {
    let errors: usize = o.errors.values().sum();
    println!(
        "{name:<16} ok {:>7}  {:>8.1}/s  p50 {:>9}  p99 {:>9}  max {:>9}  errors {}",
        o.latencies.len(),
        o.latencies.len() as f64 / secs,
        fmt(o.latencies.median()),
        fmt(o.latencies.p99()),
        fmt(o.latencies.max()),
        errors
    );
    for (e, n) in &o.errors {
        println!("    {n} x {e}");
    }
}

fn main() {
    let secs = common::arg_usize("--secs", 20).clamp(1, 300) as u64;
    let pollers = common::arg_usize("--pollers", 200);
    let token_clients = common::arg_usize("--token-clients", 20);
    let token_rate: f64 = common::arg("--token-rate")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let state = common::flag("--state");
    let in_process = common::flag("--in-process");
    println!(
        "== load: {pollers} pollers at 1 Hz + {token_clients} token clients {}, {secs} s, {} sandbox{}",
        if token_rate > 0.0 {
            format!("at {token_rate} Hz each")
        } else {
            "back to back".to_string()
        },
        if in_process {
            "in-process"
        } else {
            "spawned `sandbox serve`"
        },
        if state { " with --state" } else { "" }
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let home = tempfile::tempdir().expect("tempdir");
    let target = if in_process {
        Target::InProcess(
            rt.block_on(sandbox::start(SandboxConfig::default()))
                .expect("sandbox"),
        )
    } else {
        spawn_server(home.path(), state)
    };
    let url = target.url();
    println!("sandbox: {url} (pid {:?})", target.pid());
    if let Some(pid) = target.pid() {
        println!(
            "server idle: VmHWM {} kB  VmRSS {} kB",
            common::proc_status_kb(pid, "VmHWM").unwrap_or(0),
            common::proc_status_kb(pid, "VmRSS").unwrap_or(0)
        );
    }

    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(run(
            &url,
            target.pid(),
            secs,
            pollers,
            token_clients,
            token_rate,
        ))
    }));

    if let Some(pid) = target.pid() {
        println!(
            "server after load: VmHWM {} kB ({:.1} MB)  VmRSS {} kB",
            common::proc_status_kb(pid, "VmHWM").unwrap_or(0),
            common::proc_status_kb(pid, "VmHWM").unwrap_or(0) as f64 / 1024.0,
            common::proc_status_kb(pid, "VmRSS").unwrap_or(0)
        );
    }
    match target {
        Target::Process { mut child, .. } => {
            let _ = child.kill();
            let _ = child.wait();
        }
        Target::InProcess(h) => rt.block_on(h.shutdown()),
    }
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

async fn run(
    url: &str,
    pid: Option<u32>,
    secs: u64,
    pollers: usize,
    token_clients: usize,
    token_rate: f64,
) {
    let env = Environment::from_parts(EnvKind::Sandbox, &format!("{url}/"), url).expect("env");
    let t = Instant::now();
    let pem = Arc::new(
        KeyPair::generate(KeyBits::B2048, None)
            .expect("key")
            .private_pkcs8_pem()
            .to_string(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(ProfileStore::at(dir.path()));
    // Set-up: a few participants at a time (as a room joining), not measured.
    let gate = Arc::new(Semaphore::new(8));
    let mut setups = Vec::new();
    for i in 0..pollers + token_clients {
        let (env, store, pem, gate) = (env.clone(), store.clone(), pem.clone(), gate.clone());
        setups.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("gate");
            set_up(i, env, store, pem, i < pollers).await
        }));
    }
    let mut people = Vec::new();
    for s in setups {
        people.push(s.await.expect("set-up task"));
    }
    println!(
        "set-up of {} participants (clients, systems, requests): {}",
        people.len(),
        fmt(t.elapsed())
    );

    // The window opens a little later so that every task is waiting when it does.
    let start = Instant::now() + Duration::from_millis(1500);
    let deadline = start + Duration::from_secs(secs);
    let mut poll_tasks = Vec::new();
    let mut token_tasks = Vec::new();
    for (i, p) in people.into_iter().enumerate() {
        let env = env.clone();
        if i < pollers {
            poll_tasks.push(tokio::spawn(poller(p, env, start, deadline)));
        } else {
            token_tasks.push(tokio::spawn(token_client(
                p, env, start, deadline, token_rate,
            )));
        }
    }
    tokio::time::sleep_until(start.into()).await;
    let cpu0 = pid.and_then(common::proc_cpu);
    let all = async {
        let mut polls = Outcome::default();
        for t in poll_tasks {
            polls.merge(t.await.expect("poller"));
        }
        let mut tokens = Outcome::default();
        for t in token_tasks {
            tokens.merge(t.await.expect("token client"));
        }
        (polls, tokens)
    };
    let (polls, tokens) = tokio::time::timeout(Duration::from_secs(secs + 60), all)
        .await
        .expect("the load did not stop within the hard timeout");
    let cpu1 = pid.and_then(common::proc_cpu);
    let drained = start.elapsed().as_secs_f64();
    // Throughput over the window itself; the last calls end shortly after the deadline.
    let window = secs as f64;
    println!("window: {window:.1} s (all calls ended after {drained:.1} s)");
    report("status polls", &polls, window);
    report("fresh tokens", &tokens, window);
    let (poll_p99, token_p99) = (polls.latencies.p99(), tokens.latencies.p99());
    let mut all = Outcome::default();
    all.merge(polls);
    all.merge(tokens);
    report("all requests", &all, window);
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        println!(
            "server CPU during the window: {:.1} s of {drained:.1} s wall ({:.0}% of one core; {} cores)",
            (b - a).as_secs_f64(),
            100.0 * (b - a).as_secs_f64() / drained,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    let errors: usize = all.errors.values().sum();
    println!(
        "target: p99 < 50 ms with zero errors -> polls p99 {}, tokens p99 {}, errors {errors}",
        fmt(poll_p99),
        fmt(token_p99)
    );
}
