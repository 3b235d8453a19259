//! The whole non-interactive onboarding on the sandbox, wall time (issue 6, second benchmark).
//!
//! `cargo bench --bench onboarding [-- --iters N --cli-iters M]`
//!
//! 1. In process, through `Flow` + `Runner` as tests/onboarding.rs does: environment, key
//!    (imported from a pre-generated PEM, so RSA key generation is excluded and reported on its
//!    own), client registered with the sandbox, system registered, request created, approved via
//!    the sandbox admin API, polled to Accepted (no wait between polls), system-user token and
//!    the test call. A fresh profile store, runner and HTTP client per run; one sandbox.
//!    Also a few runs with `Msg::GenerateKey` (key generation included).
//! 2. As the documented CLI sequence of processes (the release binary, a fresh
//!    `ALTINN_ONBOARD_HOME` per run):
//!    a. embedded sandbox (no server; every command starts the emulator from the state file),
//!    with the sandbox state pre-created and `keys import` of a pre-generated key;
//!    b. the same against one `sandbox serve` process (the README's workshop sequence);
//!    c. cold: a brand-new home with `keys generate` and no sandbox state (two key generations).

mod common;

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Msg, Step};
use altinn_onboard::keys::{KeyBits, KeyPair};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::ProfileStore;
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig};
use common::{CUSTOMER, Samples, VENDOR, drive, expect_step, fmt};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STEPS: [&str; 8] = [
    "environment+runner",
    "key (import)",
    "client",
    "system",
    "request",
    "approve (admin API)",
    "poll to Accepted",
    "token + test call",
];

fn main() {
    let iters = common::arg_usize("--iters", 30);
    let cli_iters = common::arg_usize("--cli-iters", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    println!("== onboarding: in process (Flow + Runner), {iters} runs after 3 warm-up runs");
    let t = Instant::now();
    let key = KeyPair::generate(KeyBits::B2048, None).expect("key");
    let keygen = t.elapsed();
    let pem = key.private_pkcs8_pem().to_string();
    println!("(RSA-2048 key generation, excluded below: {})", fmt(keygen));

    rt.block_on(in_process(&pem, iters));

    println!();
    println!("== onboarding: CLI sequence of processes ({cli_iters} runs each)");
    println!("binary: {}", common::bin().display());
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("bench-key.pem");
    std::fs::write(&key_file, &pem).expect("write key");
    set_mode_600(&key_file);
    // A sandbox state file made once (its signing key generated here), copied into each home.
    let state_template = dir.path().join("sandbox-state.json");
    rt.block_on(async {
        let sb = sandbox::start(SandboxConfig {
            state_file: Some(state_template.clone()),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        sb.shutdown().await;
    });

    cli_embedded(&key_file, &state_template, cli_iters);
    cli_served(&key_file, cli_iters);
    cli_cold(cli_iters.min(3));
}

fn set_mode_600(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

async fn in_process(pem: &str, iters: usize) {
    let t = Instant::now();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    println!(
        "(in-process sandbox start incl. its RSA-2048 key generation, excluded: {})",
        fmt(t.elapsed())
    );
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).expect("env");
    let approver = reqwest::Client::new();

    let mut total = Samples::default();
    let mut per_step: BTreeMap<usize, Samples> = BTreeMap::new();
    let mut with_keygen = Samples::default();
    let warmup = 3;
    for i in 0..warmup + iters + 3 {
        let gen_key = i >= warmup + iters;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut marks = Vec::with_capacity(9);
        let start = Instant::now();
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
        expect_step(&flow, Step::Key, "environment");
        marks.push(start.elapsed());
        let key_msg = if gen_key {
            Msg::GenerateKey {
                bits: 2048,
                kid: None,
            }
        } else {
            // A kid is unique across the sandbox's clients (as in Maskinporten).
            Msg::ImportKey {
                source: pem.to_string().into(),
                kid: Some(format!("bench-inproc-{i}")),
            }
        };
        drive(&mut flow, &runner, key_msg).await;
        expect_step(&flow, Step::Client, "key");
        marks.push(start.elapsed());
        drive(&mut flow, &runner, common::client_msg()).await;
        expect_step(&flow, Step::System, "client");
        marks.push(start.elapsed());
        let name = format!("bench{i}");
        drive(
            &mut flow,
            &runner,
            Msg::SubmitSystem(common::system_form(&name)),
        )
        .await;
        expect_step(&flow, Step::Request, "system");
        marks.push(start.elapsed());
        drive(
            &mut flow,
            &runner,
            Msg::SubmitRequest(common::request_form()),
        )
        .await;
        expect_step(&flow, Step::Approval, "request");
        marks.push(start.elapsed());
        let id = flow.profile.current_request().expect("request").id.clone();
        let resp = approver
            .post(format!("{}/sandbox/requests/{id}/approve", sb.base_url()))
            .send()
            .await
            .expect("approve");
        assert!(resp.status().is_success(), "approve: {}", resp.status());
        marks.push(start.elapsed());
        drive(&mut flow, &runner, Msg::StartPolling).await;
        expect_step(&flow, Step::TestCall, "poll");
        marks.push(start.elapsed());
        drive(&mut flow, &runner, Msg::SubmitTestCall { url: None }).await;
        expect_step(&flow, Step::Done, "test call");
        let elapsed = start.elapsed();
        marks.push(elapsed);
        assert_eq!(flow.test.as_ref().map(|t| t.record.status), Some(200));
        if gen_key {
            with_keygen.push(elapsed);
        } else if i >= warmup {
            total.push(elapsed);
            let mut prev = Duration::ZERO;
            for (n, m) in marks.iter().enumerate() {
                per_step.entry(n).or_default().push(*m - prev);
                prev = *m;
            }
        }
    }
    for (n, s) in &per_step {
        s.report(&format!("  step: {}", STEPS[*n]));
    }
    total.report("in-process onboarding, key imported");
    with_keygen.report("in-process onboarding, key generated");
    println!(
        "target: onboarding < 0.5 s -> median {} ({})",
        fmt(total.median()),
        if total.median() < Duration::from_millis(500) {
            "met"
        } else {
            "MISSED"
        }
    );
    sb.shutdown().await;
}

/// One CLI invocation: run, check the exit code, parse `--json` stdout.
fn run(home: &Path, base: &[String], extra: &[&str], code: i32) -> (Duration, Value) {
    let t = Instant::now();
    let out = Command::new(common::bin())
        .env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .args(base)
        .args(extra)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    let elapsed = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{extra:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (elapsed, v)
}

/// The sequence after the key step; `approve` acts as the customer.
fn sequence(
    home: &Path,
    base: &[String],
    key: Option<&Path>,
    approve: &dyn Fn(&str),
    per: &mut BTreeMap<&'static str, Samples>,
) -> Duration {
    let start = Instant::now();
    let (d, _) = match key {
        Some(k) => {
            let kid = format!("bench-cli-{}", uuid::Uuid::new_v4().simple());
            let path = k.to_string_lossy();
            run(home, base, &["keys", "import", &path, "--kid", &kid], 0)
        }
        None => run(home, base, &["keys", "generate"], 0),
    };
    per.entry(if key.is_some() {
        "keys import"
    } else {
        "keys generate"
    })
    .or_default()
    .push(d);
    let (d, _) = run(home, base, &["client", "set", "--vendor-org", VENDOR], 0);
    per.entry("client set").or_default().push(d);
    // Unique per run: runs against one `sandbox serve` share its system register.
    let name = format!("smartcloud{}", uuid::Uuid::new_v4().simple());
    let (d, _) = run(
        home,
        base,
        &[
            "system",
            "register",
            "--name",
            &name,
            "--resource",
            "ske-krav-og-betalinger",
        ],
        0,
    );
    per.entry("system register").or_default().push(d);
    let (d, req) = run(
        home,
        base,
        &["request", "create", "--customer-org", CUSTOMER],
        0,
    );
    per.entry("request create").or_default().push(d);
    let id = req["id"].as_str().expect("request id").to_string();
    let t = Instant::now();
    approve(&id);
    per.entry("approve").or_default().push(t.elapsed());
    let (d, st) = run(
        home,
        base,
        &["request", "status", "--wait", "--timeout", "30"],
        0,
    );
    assert_eq!(st["status"], "Accepted");
    per.entry("request status --wait").or_default().push(d);
    let (d, _) = run(home, base, &["token", "--system-user"], 0);
    per.entry("token --system-user").or_default().push(d);
    let (d, call) = run(home, base, &["call"], 0);
    assert_eq!(call["status"], 200, "{call}");
    per.entry("call").or_default().push(d);
    start.elapsed()
}

fn report_cli(title: &str, total: &Samples, per: &BTreeMap<&'static str, Samples>) {
    for (name, s) in per {
        s.report(&format!("  {name}"));
    }
    total.report(title);
}

fn cli_embedded(key: &Path, state: &Path, iters: usize) {
    println!("-- a. embedded sandbox, state pre-created, key imported (8 processes + approve)");
    let mut total = Samples::default();
    let mut per = BTreeMap::new();
    for _ in 0..iters {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(home.path().join("data")).expect("mkdir");
        std::fs::copy(state, home.path().join("data/sandbox-state.json")).expect("copy");
        let base: Vec<String> = Vec::new();
        let h = home.path().to_path_buf();
        let approve = |id: &str| {
            run(&h, &[], &["sandbox", "approve", id], 0);
        };
        total.push(sequence(home.path(), &base, Some(key), &approve, &mut per));
    }
    report_cli("CLI sequence, embedded sandbox", &total, &per);
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Path) -> Server {
    let mut child = Command::new(common::bin())
        .args(["sandbox", "serve", "--port", "0", "--bind", "127.0.0.1"])
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
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no url in: {line}"))
        .to_string();
    Server { child, url }
}

/// `curl -X POST` with std only.
fn post(url: &str) {
    let u = url::Url::parse(url).expect("url");
    let addr = format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(80)
    );
    // The sandbox answers only requests naming it (421 for another Host; issue 16).
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        u.path()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 2"), "{resp}");
}

fn cli_served(key: &Path, iters: usize) {
    println!("-- b. against one `sandbox serve` process, key imported (8 processes + HTTP POST)");
    let server_home = tempfile::tempdir().expect("tempdir");
    let server = serve(server_home.path());
    let s = server.url.clone();
    let mut total = Samples::default();
    let mut per = BTreeMap::new();
    for _ in 0..iters {
        let home = tempfile::tempdir().expect("tempdir");
        let base: Vec<String> = [
            "--profile",
            "demo",
            "--env",
            "sandbox",
            "--maskinporten-url",
            &format!("{s}/"),
            "--altinn-url",
            &s,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        let approve = |id: &str| post(&format!("{s}/sandbox/requests/{id}/approve"));
        total.push(sequence(home.path(), &base, Some(key), &approve, &mut per));
    }
    report_cli("CLI sequence, sandbox serve", &total, &per);
    drop(server);
}

fn cli_cold(iters: usize) {
    println!("-- c. cold: new home, `keys generate`, no sandbox state (embedded)");
    let mut total = Samples::default();
    let mut per = BTreeMap::new();
    for _ in 0..iters {
        let home = tempfile::tempdir().expect("tempdir");
        let h = home.path().to_path_buf();
        let approve = |id: &str| {
            run(&h, &[], &["sandbox", "approve", id], 0);
        };
        total.push(sequence(home.path(), &[], None, &approve, &mut per));
    }
    report_cli("CLI sequence, cold", &total, &per);
}
