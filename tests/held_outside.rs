//! Issue 16, "held from outside": each defect reproduced through the binary, against a spawned
//! `sandbox serve` (with a fault plan where the defect needs one), the embedded sandbox, or a
//! small server in the test that misbehaves on purpose. Servers listen on 127.0.0.1 only.

mod sandbox_common;

use altinn_onboard::sandbox::{self, Fault, FaultPlan, FaultRule, SandboxConfig, SandboxOptions};
use assert_cmd::Command;
use sandbox_common::{
    CUSTOMER_ORG, OTHER_VENDOR_ORG, SCOPE_DEMO, VENDOR_ORG, admin_call, create_client,
    create_request, http, key_a, key_b, setup, standard_request,
};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

struct Server {
    child: Child,
    url: String,
    /// The rest of what `sandbox serve` printed on stdout after its first line.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only this child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `altinn-onboard sandbox serve --port 0 [extra]`, reading the URL it prints first.
fn serve(home: &std::path::Path, extra: &[&str]) -> Server {
    let mut child = std::process::Command::new(bin())
        .args(["sandbox", "serve", "--port", "0"])
        .args(extra)
        .env("ALTINN_ONBOARD_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read url");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no url in the first line: {line}"))
        .to_string();
    Server {
        child,
        url,
        _stdout: stdout,
    }
}

struct Cli {
    home: tempfile::TempDir,
    args: Vec<String>,
}

impl Cli {
    /// A profile on the embedded sandbox (no server of the test's own).
    fn embedded(profile: &str) -> Self {
        Cli {
            home: tempfile::tempdir().expect("tempdir"),
            args: vec!["--profile".into(), profile.into()],
        }
    }

    /// A profile on the sandbox at `url`, with its home in `home`.
    fn against(home: tempfile::TempDir, profile: &str, url: &str) -> Self {
        let mp = format!("{url}/");
        Cli {
            home,
            args: [
                "--profile",
                profile,
                "--env",
                "sandbox",
                "--maskinporten-url",
                &mp,
                "--altinn-url",
                url,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }

    fn cmd(&self, extra: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.env("ALTINN_ONBOARD_HOME", self.home.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .args(&self.args)
            .args(extra);
        // A hung command fails the test instead of hanging it.
        c.timeout(Duration::from_secs(180));
        c
    }

    /// Run with `--json`; check the exit code; stdout as JSON and stderr as text.
    fn run(&self, extra: &[&str], code: i32) -> (Value, String) {
        let out = self.cmd(extra).arg("--json").output().expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{extra:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (v, stderr)
    }

    fn json(&self, extra: &[&str], code: i32) -> Value {
        self.run(extra, code).0
    }

    /// Key, client, system and a request; returns the request id.
    fn onboard_to_request(&self, name: &str) -> String {
        self.json(&["keys", "generate"], 0);
        self.json(&["client", "set", "--vendor-org", VENDOR], 0);
        self.json(
            &[
                "system",
                "register",
                "--name",
                name,
                "--resource",
                "ske-krav-og-betalinger",
            ],
            0,
        );
        let req = self.json(&["request", "create", "--customer-org", CUSTOMER], 0);
        req["id"].as_str().expect("request id").to_string()
    }
}

/// The error's message and hint, as one text.
fn error_message(v: &Value) -> String {
    format!(
        "{}\n{}",
        v["error"]["message"].as_str().unwrap_or_default(),
        v["error"]["hint"].as_str().unwrap_or_default()
    )
}

/// A server on 127.0.0.1 that answers every request with `answer` (a whole HTTP response),
/// for at most `max` connections; or, with `answer` = None, accepts and never answers.
fn fake_server(answer: Option<&'static str>, max: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(max) {
            let Ok(mut conn) = conn else { continue };
            match answer {
                Some(a) => {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buf = [0u8; 8192];
                    let n = conn.read(&mut buf).unwrap_or(0);
                    // The server says it is a sandbox (its RFC 8414 metadata, which is how the
                    // tool decides): only then are the sandbox routes asked, and they answer `a`.
                    if String::from_utf8_lossy(&buf[..n])
                        .starts_with("GET /.well-known/oauth-authorization-server")
                    {
                        let body = r#"{"issuer":"x","token_endpoint":"x","altinn_onboard_sandbox":{"version":"test","admin":"/sandbox"}}"#;
                        let _ = write!(
                            conn,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        continue;
                    }
                    let _ = conn.write_all(a.as_bytes());
                }
                // Keep it open, say nothing (dropped when the test process ends).
                None => held.push(conn),
            }
        }
        // Hold the silent connections a while longer than any command may take.
        std::thread::sleep(Duration::from_secs(if held.is_empty() { 0 } else { 200 }));
    });
    url
}

// Item 5a: an HTML page (a proxy's or a login page) is not an approval: exit 3, and the
// message says nothing was approved.
#[test]
fn approve_against_an_html_answer_is_a_server_failure() {
    let html = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 39\r\nConnection: close\r\n\r\n<html><body>Please sign in</body></html>";
    let url = fake_server(Some(html), 8);
    let mp = format!("{url}/");
    let a = Cli {
        home: tempfile::tempdir().expect("tempdir"),
        args: [
            "--profile",
            "html",
            "--env",
            "custom",
            "--maskinporten-url",
            &mp,
            "--altinn-url",
            &url,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    };
    let (v, stderr) = a.run(
        &["sandbox", "approve", "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11"],
        3,
    );
    let msg = error_message(&v);
    assert!(
        msg.contains("not JSON") && msg.contains("nothing was approved"),
        "{v}\n{stderr}"
    );
    assert!(!stderr.contains("request 7d7cbb59") || stderr.contains("error"));
}

// Item 5b and 5c: a decided request is "no longer New" with the upstream code, not "refused
// to register the client"; a huge or malformed id is refused locally with exit 1.
#[test]
fn approve_twice_says_the_request_was_decided_and_ids_are_checked_locally() {
    let a = Cli::embedded("twice");
    let id = a.onboard_to_request("twice");
    let first = a.json(&["sandbox", "approve", &id], 0);
    assert_eq!(first["decision"], "approved");
    let (again, stderr) = a.run(&["sandbox", "approve", &id], 2);
    let msg = error_message(&again);
    assert!(
        msg.contains("no longer New") && !msg.contains("register the client"),
        "{again}\n{stderr}"
    );
    assert_eq!(again["error"]["code"], "AUTH-00013", "{again}");
    assert_eq!(again["error"]["status"], 409, "{again}");

    let huge = "a".repeat(131_000);
    let started = Instant::now();
    let (bad, _) = a.run(&["sandbox", "reject", &huge], 1);
    assert!(error_message(&bad).contains("not a UUID"), "{bad}");
    assert!(
        error_message(&bad).chars().count() < 400,
        "the id is not echoed whole"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    let (bad, _) = a.run(&["sandbox", "approve", "../../faults"], 1);
    assert!(error_message(&bad).contains("not a UUID"), "{bad}");
}

// Item 4: `request status --wait --timeout 5` against a server that accepts connections and
// never answers ends within the timeout (plus start-up), not after the HTTP client's 30 s
// timeouts times the retries (121 s). No answer at all before the deadline: exit 3.
#[test]
fn request_status_timeout_bounds_the_whole_command() {
    let a = Cli::embedded("hung");
    a.json(&["keys", "generate"], 0);
    a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    let hung = fake_server(None, 64);
    let mp = format!("{hung}/");
    let started = Instant::now();
    let (v, stderr) = a.run(
        &[
            "--env",
            "custom",
            "--maskinporten-url",
            &mp,
            "--altinn-url",
            &hung,
            "request",
            "status",
            "--id",
            "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11",
            "--wait",
            "--timeout",
            "5",
        ],
        3,
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5 + 15),
        "took {took:?}: {v}\n{stderr}"
    );
    assert!(took >= Duration::from_secs(4), "gave up early: {took:?}");
    assert!(
        error_message(&v).contains("within the timeout"),
        "{v}\n{stderr}"
    );
}

// Item 7: `keys generate` on a profile whose key is registered with a client refuses without
// --replace and says what would be lost; with --replace it names the next command, and that
// command makes tokens work again.
#[test]
fn keys_generate_does_not_silently_replace_a_registered_key() {
    let a = Cli::embedded("rekey");
    let first = a.json(&["keys", "generate"], 0);
    let client = a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    let client_id = client["client_id"].as_str().expect("client id").to_string();
    a.json(&["token"], 0);

    let (refused, _) = a.run(&["keys", "generate"], 1);
    let msg = error_message(&refused);
    assert!(
        msg.contains(&client_id) && msg.contains("--replace") && msg.contains("`token`"),
        "{refused}"
    );
    // Nothing changed: the old key still works.
    assert_eq!(a.json(&["keys", "show"], 0)["kid"], first["kid"]);
    a.json(&["token", "--fresh"], 0);
    let (refused, _) = a.run(
        &[
            "keys",
            "import",
            first["private_key_path"].as_str().expect("path"),
        ],
        1,
    );
    assert!(error_message(&refused).contains("--replace"), "{refused}");

    let (new, stderr) = a.run(&["keys", "generate", "--replace"], 0);
    assert_ne!(new["kid"], first["kid"]);
    assert!(
        stderr.contains(&format!(
            "next: `client set --vendor-org {VENDOR} --client-id {client_id}"
        )),
        "{stderr}"
    );
    // Exactly what it said to run.
    let again = a.json(
        &[
            "client",
            "set",
            "--vendor-org",
            VENDOR,
            "--client-id",
            &client_id,
        ],
        0,
    );
    assert_eq!(again["client_id"], client_id.as_str());
    a.json(&["token", "--fresh"], 0);
}

// Item 9: `call` retries its GET like every other safe call: one 503, then the answer.
#[test]
fn call_retries_a_get_after_a_503() {
    let home = tempfile::tempdir().expect("tempdir");
    let plan = home.path().join("faults.json");
    std::fs::write(
        &plan,
        r#"{"rules": [{"path": "/reference/whoami", "method": "GET", "first": 1,
                       "fault": {"kind": "status", "status": 503}}]}"#,
    )
    .expect("plan");
    let server = serve(home.path(), &["--faults", plan.to_str().expect("utf-8")]);
    let a = Cli::against(home, "retry", &server.url);
    let id = a.onboard_to_request("retry");
    a.json(&["sandbox", "approve", &id], 0);
    let call = a.json(&["call"], 0);
    assert_eq!(call["status"], 200, "{call}");
    let report: Value =
        serde_json::from_str(&get(&format!("{}/sandbox/faults", server.url))).expect("report");
    assert_eq!(
        report["counters"][0]["fired"], 1,
        "the 503 was served: {report}"
    );
    assert_eq!(
        report["counters"][0]["seen"], 2,
        "and then a retry: {report}"
    );
}

/// GET with std only; the body.
fn get(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    let mut s = std::net::TcpStream::connect(format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(80)
    ))
    .expect("connect");
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        u.path(),
        u.authority()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 2"), "{resp}");
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

// Item 1: the client admin routes prove who calls. Creating needs a proof signed by a key being
// registered and naming the org; changing needs one signed by a key the client has; the host
// secret may do both. Before issue 16 every one of these answered 201/200 to anybody.
#[tokio::test]
async fn client_admin_routes_need_the_owners_key_or_the_host_secret() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("start");
    let base = sb.base_url();
    let body = serde_json::json!({"org": VENDOR_ORG, "scopes": [SCOPE_DEMO],
        "jwks": {"keys": [key_a().jwk("own-a")]}});
    // No proof: 401 with the way to do it.
    let resp = http()
        .post(format!("{base}/sandbox/clients"))
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    // Signed by a key that is not being registered (B registering A's public key): 403.
    let resp = admin_call(
        &sb,
        reqwest::Method::POST,
        "/sandbox/clients",
        &body,
        key_b(),
        "own-a",
        VENDOR_ORG,
        None,
    )
    .await;
    assert_eq!(resp.status(), 403);
    // Naming another org than the body's: 403.
    let resp = admin_call(
        &sb,
        reqwest::Method::POST,
        "/sandbox/clients",
        &body,
        key_a(),
        "own-a",
        OTHER_VENDOR_ORG,
        None,
    )
    .await;
    assert_eq!(resp.status(), 403);
    // A proof for another body (a replay with changed content): 403.
    let other = serde_json::json!({"org": VENDOR_ORG, "scopes": ["altinn:everything"],
        "jwks": {"keys": [key_a().jwk("own-a")]}});
    let proof = sandbox_common::admin_proof(
        &sb,
        "POST",
        "/sandbox/clients",
        &serde_json::to_vec(&body).expect("json"),
        key_a(),
        "own-a",
        VENDOR_ORG,
        None,
    );
    let resp = http()
        .post(format!("{base}/sandbox/clients"))
        .bearer_auth(proof)
        .json(&other)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);

    // The owners: vendor A (key A) and vendor B (key B, another org).
    let a = create_client(&sb, VENDOR_ORG, &[SCOPE_DEMO], key_a()).await;
    let b = create_client(&sb, OTHER_VENDOR_ORG, &[SCOPE_DEMO], key_b()).await;
    let jwks = format!("/sandbox/clients/{}/jwks", a.client_id);
    let scopes = format!("/sandbox/clients/{}/scopes", a.client_id);
    let add_b = serde_json::json!({"keys": [key_b().jwk("planted-b")]});
    // B adds its key to A's client, signing with its own registered key: 403. Without: 401.
    for method in [reqwest::Method::POST, reqwest::Method::PUT] {
        let resp = admin_call(
            &sb,
            method.clone(),
            &jwks,
            &add_b,
            key_b(),
            &b.kid,
            VENDOR_ORG,
            Some(&a.client_id),
        )
        .await;
        assert_eq!(resp.status(), 403, "{method}");
        let resp = http()
            .request(method.clone(), format!("{base}{jwks}"))
            .json(&add_b)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 401, "{method}");
    }
    let wider = serde_json::json!({"scopes": [SCOPE_DEMO, "altinn:authentication/systemuser.request.read"]});
    let resp = admin_call(
        &sb,
        reqwest::Method::PUT,
        &scopes,
        &wider,
        key_b(),
        &b.kid,
        VENDOR_ORG,
        Some(&a.client_id),
    )
    .await;
    assert_eq!(resp.status(), 403);
    // A proof made for B's own client does not work on A's either.
    let resp = admin_call(
        &sb,
        reqwest::Method::PUT,
        &scopes,
        &wider,
        key_a(),
        &a.kid,
        VENDOR_ORG,
        Some(&b.client_id),
    )
    .await;
    assert_eq!(resp.status(), 403);
    // A itself may; so may the host.
    let resp = admin_call(
        &sb,
        reqwest::Method::PUT,
        &scopes,
        &wider,
        key_a(),
        &a.kid,
        VENDOR_ORG,
        Some(&a.client_id),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = http()
        .post(format!("{base}{jwks}"))
        .bearer_auth(sb.admin_secret())
        .json(&serde_json::json!({"keys": [key_b().jwk("host-added")]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    // Reading a client stays open (public data only).
    let resp = http()
        .get(format!("{base}/sandbox/clients/{}", a.client_id))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    sb.shutdown().await;
}

// Item 1: a fault plan is the host's: PUT and DELETE need the host secret.
#[tokio::test]
async fn fault_plans_need_the_host_secret() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("start");
    let url = format!("{}/sandbox/faults", sb.base_url());
    let plan = serde_json::json!({"rules": [{"prefix": "/", "fault": {"kind": "drop"}}]});
    let resp = http().put(&url).json(&plan).send().await.expect("send");
    assert_eq!(resp.status(), 401);
    let resp = http()
        .put(&url)
        .bearer_auth("not-the-secret")
        .json(&plan)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert!(
        sb.fault_report().plan.rules.is_empty(),
        "nothing was installed"
    );
    let resp = http()
        .put(&url)
        .bearer_auth(sb.admin_secret())
        .json(&serde_json::json!({"rules": [{"path": "/jwk", "fault": {"kind": "status", "status": 503}}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let resp = http().delete(&url).send().await.expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(sb.fault_report().plan.rules.len(), 1);
    let resp = http()
        .delete(&url)
        .bearer_auth(sb.admin_secret())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 204);
    sb.shutdown().await;
}

// Item 1: `sandbox serve` records its host secret 0600 for this user's other commands, and the
// CLI's `client set` needs no extra flags on loopback.
#[test]
fn sandbox_serve_keeps_its_host_secret_private_and_client_set_needs_no_flags() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().expect("tempdir");
    let server = serve(home.path(), &[]);
    let file = home.path().join("data").join("sandbox-server.json");
    let mode = std::fs::metadata(&file)
        .expect("server file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let secret = recorded["admin_secret"]
        .as_str()
        .expect("admin_secret")
        .to_string();
    assert!(secret.len() >= 32);
    let a = Cli::against(home, "noflags", &server.url);
    a.json(&["keys", "generate"], 0);
    a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    a.json(&["token"], 0);
    drop(server);
}

// Item 3: the answer to a registration is lost after the sandbox made the client. A retry with
// the same key and org gets that client (200), not "kid already used by another client".
#[tokio::test]
async fn registration_is_idempotent_for_the_same_key_and_org() {
    let plan = FaultPlan::none().rule(
        FaultRule::path("/sandbox/clients", Fault::dropped_answer())
            .method("POST")
            .first(1),
    );
    let sb = sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            faults: plan,
            ..Default::default()
        },
    )
    .await
    .expect("start");
    let body = serde_json::json!({"org": VENDOR_ORG, "scopes": [SCOPE_DEMO],
        "jwks": {"keys": [key_a().jwk("lost-answer")]}});
    let bytes = serde_json::to_vec(&body).expect("json");
    let proof = sandbox_common::admin_proof(
        &sb,
        "POST",
        "/sandbox/clients",
        &bytes,
        key_a(),
        "lost-answer",
        VENDOR_ORG,
        None,
    );
    let lost = http()
        .post(format!("{}/sandbox/clients", sb.base_url()))
        .bearer_auth(proof)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await;
    assert!(lost.is_err(), "the answer is lost");
    assert_eq!(sb.fault_report().counters[0].fired, 1);
    let again = admin_call(
        &sb,
        reqwest::Method::POST,
        "/sandbox/clients",
        &body,
        key_a(),
        "lost-answer",
        VENDOR_ORG,
        None,
    )
    .await;
    assert_eq!(again.status(), 200, "the existing client, not a conflict");
    let client: Value = again.json().await.expect("json");
    let id = client["client_id"].as_str().expect("client_id");
    assert_eq!(client["jwks"]["keys"][0]["kid"], "lost-answer");
    // Once more: still that one client.
    let third = admin_call(
        &sb,
        reqwest::Method::POST,
        "/sandbox/clients",
        &body,
        key_a(),
        "lost-answer",
        VENDOR_ORG,
        None,
    )
    .await;
    assert_eq!(third.status(), 200);
    let third: Value = third.json().await.expect("json");
    assert_eq!(third["client_id"], id);
    // The same key for another org is still someone else's kid: 409.
    let other = serde_json::json!({"org": OTHER_VENDOR_ORG, "scopes": [SCOPE_DEMO],
        "jwks": {"keys": [key_a().jwk("lost-answer")]}});
    let resp = admin_call(
        &sb,
        reqwest::Method::POST,
        "/sandbox/clients",
        &other,
        key_a(),
        "lost-answer",
        OTHER_VENDOR_ORG,
        None,
    )
    .await;
    assert_eq!(resp.status(), 409);
    sb.shutdown().await;
}

// Item 3 through the CLI: `client set` whose answer is dropped after the sandbox registered the
// client carries on with that client (and a rerun gets the same id).
#[test]
fn client_set_recovers_when_the_registration_answer_is_lost() {
    let home = tempfile::tempdir().expect("tempdir");
    let plan = home.path().join("faults.json");
    std::fs::write(
        &plan,
        r#"{"rules": [{"path": "/sandbox/clients", "method": "POST", "first": 1,
                       "fault": {"kind": "drop", "after_handler": true}}]}"#,
    )
    .expect("plan");
    let server = serve(home.path(), &["--faults", plan.to_str().expect("utf-8")]);
    let a = Cli::against(home, "lost", &server.url);
    a.json(&["keys", "generate"], 0);
    let first = a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    let id = first["client_id"].as_str().expect("client id").to_string();
    let report: Value =
        serde_json::from_str(&get(&format!("{}/sandbox/faults", server.url))).expect("report");
    assert_eq!(
        report["counters"][0]["fired"], 1,
        "the answer was dropped: {report}"
    );
    let again = a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    assert_eq!(again["client_id"], id.as_str());
    a.json(&["token"], 0);
    drop(server);
}

/// One raw request with a chosen `Host` header; the status and body.
fn with_host(base: &str, method: &str, path: &str, host: &str) -> (u16, String) {
    let u = url::Url::parse(base).expect("url");
    let addr = format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(80)
    );
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// Item 11: a forged Host neither becomes the issuer nor goes into links: the sandbox answers
// 421 to requests naming another host, and builds confirmUrl from its public URL.
#[tokio::test]
async fn a_forged_host_is_misdirected_and_links_use_the_public_url() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("start");
    let base = sb.base_url();
    let port = sb.local_addr().port();
    let meta = "/.well-known/oauth-authorization-server";
    let b = base.clone();
    let forged = tokio::task::spawn_blocking(move || with_host(&b, "GET", meta, "evil.example"))
        .await
        .expect("join");
    assert_eq!(forged.0, 421, "{}", forged.1);
    assert!(!forged.1.contains("evil.example/"), "{}", forged.1);
    // The names of this machine keep working, and the issuer is the sandbox's own URL.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let b = base.clone();
        let (status, body) = tokio::task::spawn_blocking(move || with_host(&b, "GET", meta, &host))
            .await
            .expect("join");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["issuer"], format!("{base}/"));
    }
    let b = base.clone();
    let other_port = tokio::task::spawn_blocking(move || {
        with_host(
            &b,
            "GET",
            meta,
            &format!("127.0.0.1:{}", port.wrapping_add(1)),
        )
    })
    .await
    .expect("join");
    assert_eq!(other_port.0, 421);
    sb.shutdown().await;

    // With a public URL (a workshop host's LAN name), links use it whatever Host was sent.
    let public = "http://workshop.example:8088";
    let sb = sandbox::start(SandboxConfig {
        public_url: Some(url::Url::parse(public).expect("url")),
        ..Default::default()
    })
    .await
    .expect("start");
    let s = setup(&sb, "publicurl").await;
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201);
    let req: Value = resp.json().await.expect("json");
    assert!(
        req["confirmUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{public}/accessmanagement/"))),
        "{req}"
    );
    let b = sb.base_url();
    let named =
        tokio::task::spawn_blocking(move || with_host(&b, "GET", meta, "workshop.example:8088"))
            .await
            .expect("join");
    assert_eq!(named.0, 200, "{}", named.1);
    let v: Value = serde_json::from_str(&named.1).expect("json");
    assert_eq!(v["issuer"], format!("{public}/"));
    let b = sb.base_url();
    let forged =
        tokio::task::spawn_blocking(move || with_host(&b, "GET", meta, "evil.example:8088"))
            .await
            .expect("join");
    assert_eq!(forged.0, 421);
    sb.shutdown().await;
}

// Item 7, the wizard's side: the flow refuses a new key while the old one is registered (the
// wizard shows why), and the same key pressed again confirms; leaving the step withdraws it.
#[test]
fn the_wizard_asks_before_replacing_a_registered_key() {
    use altinn_onboard::env::{EnvKind, EnvSetting};
    use altinn_onboard::flow::{Effect, ErrorKind, Flow, Msg, Step};
    use altinn_onboard::profile::Profile;
    let mut p = Profile::new("w", EnvSetting::new(EnvKind::Sandbox));
    p.kid = Some("kid-1".into());
    p.key_path = Some("/keys/k.pem".into());
    p.vendor_org = Some(VENDOR.into());
    p.client_id = Some("client-1".into());
    p.scopes = vec!["altinn:authentication/systemregister.write".into()];
    p.client_registered = true;
    let generate = || Msg::GenerateKey {
        bits: 2048,
        kid: None,
    };
    let mut f = Flow::resume(p.clone());
    assert!(f.update(generate()).is_empty(), "refused the first time");
    let e = f.error.clone().expect("an explanation");
    assert_eq!((e.step, e.kind), (Step::Key, ErrorKind::Validation));
    assert!(
        e.message.contains("client-1") && e.message.contains("press the same key again"),
        "{}",
        e.message
    );
    let fx = f.update(generate());
    assert!(
        fx.iter().any(|x| matches!(x, Effect::GenerateKey { .. })),
        "confirmed the second time: {fx:?}"
    );
    // Leaving the step withdraws the confirmation.
    let mut f = Flow::resume(p.clone());
    f.update(generate());
    f.update(Msg::GoTo(Step::Key));
    assert!(f.update(generate()).is_empty());
    // A profile whose key is not registered anywhere is not asked.
    p.client_registered = false;
    let mut f = Flow::resume(p);
    assert!(!f.update(generate()).is_empty());
}
