//! `tokens serve` and `export` as commands: onboarding through the CLI against a spawned
//! `sandbox serve`, then the token service as its own process, asked over loopback.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::Duration;

const CUSTOMER: &str = "312345676";
const SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read altinn:systembruker.demo";

/// A child process killed (by its own pid) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

fn cmd(home: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .args(args)
        .timeout(Duration::from_secs(120));
    c
}

fn ok_json(home: &std::path::Path, args: &[&str]) -> Value {
    let out = cmd(home, args).arg("--json").output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The first `http://` word on the first stdout line.
fn first_url(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no url in: {line}"))
        .to_string()
}

#[test]
fn onboard_then_serve_tokens_and_export_from_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let mut sandbox = Proc(
        std::process::Command::new(bin())
            .args(["sandbox", "serve", "--port", "0"])
            .env("ALTINN_ONBOARD_HOME", h)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sandbox"),
    );
    let sandbox_url = first_url(&mut sandbox.0);

    ok_json(h, &["keys", "generate"]);
    ok_json(
        h,
        &[
            "client",
            "set",
            "--vendor-org",
            "310904473",
            "--scope",
            SCOPES,
        ],
    );
    ok_json(
        h,
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            "ske-krav-og-betalinger",
        ],
    );
    let req = ok_json(
        h,
        &[
            "request",
            "create",
            "--customer-org",
            CUSTOMER,
            "--external-ref",
            "kunde-1",
        ],
    );
    let id = req["id"].as_str().expect("id").to_string();
    ok_json(h, &["sandbox", "approve", &id]);
    ok_json(h, &["request", "status"]);

    // tokens serve: its URL on stdout, the secret once on stderr.
    let mut serve = Proc(
        std::process::Command::new(bin())
            .args(["tokens", "serve", "--port", "0"])
            .env("ALTINN_ONBOARD_HOME", h)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tokens serve"),
    );
    let url = first_url(&mut serve.0);
    let mut stderr = BufReader::new(serve.0.stderr.take().expect("stderr"));
    let mut secret = None;
    for _ in 0..20 {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read") == 0 {
            break;
        }
        if let Some((_, s)) = line.split_once("caller secret") {
            secret = s.rsplit(": ").next().map(|s| s.trim().to_string());
            break;
        }
    }
    let secret = secret.expect("the secret is printed on stderr");
    assert!(secret.len() >= 32);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let body = json!({"identity_provider": "maskinporten", "target": "altinn:systembruker.demo",
            "customer_org": CUSTOMER, "external_ref": "kunde-1"});
        let resp = http
            .post(format!("{url}/api/v1/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let resp = http
            .post(format!("{url}/api/v1/token"))
            .bearer_auth(&secret)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let tok: Value = resp.json().await.unwrap();
        let who: Value = http
            .get(format!("{sandbox_url}/reference/whoami"))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(who["customerOrg"], CUSTOMER, "{who}");
        assert_eq!(who["externalRef"], "kunde-1");
    });
    drop(serve);

    // export: stdout, or a file; the private key only with --inline-key, then 0600/0700.
    let out = cmd(h, &["export", "--format", "env"]).output().unwrap();
    assert!(out.status.success());
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(
        env.contains(&format!("ALTINN_SYSTEMUSER_ORG='{CUSTOMER}'")),
        "{env}"
    );
    assert!(
        env.contains(&format!(
            "MASKINPORTEN_TOKEN_ENDPOINT='{sandbox_url}/token'"
        )),
        "{env}"
    );
    assert!(!env.contains("PRIVATE KEY-----"));

    let file = h.join("settings.json");
    let v = ok_json(
        h,
        &[
            "export",
            "--format",
            "dotnet",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(v["inline_key"], false);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    let script = h.join("token.sh");
    ok_json(
        h,
        &[
            "export",
            "--format",
            "curl",
            "--inline-key",
            "--out",
            script.to_str().unwrap(),
        ],
    );
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a script with the private key is owner-only");
    assert!(
        std::fs::read_to_string(&script)
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );

    // --inline-key without --out is refused (the key would land on the terminal).
    let out = cmd(h, &["export", "--format", "python", "--inline-key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}
