//! The `--json` shape of every command, snapshotted (insta). Values that change from run to
//! run (ids, timestamps, ports, kids, key material, elapsed times, paths) are redacted; what
//! is left is the contract scripts rely on: field names, nesting and stable values.

use assert_cmd::Command;
use insta::assert_json_snapshot;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";

struct Server {
    child: Child,
    url: String,
    /// What `sandbox serve --json` printed.
    printed: Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

/// `sandbox serve --port 0 --json`: its JSON object comes first on stdout.
fn serve(home: &std::path::Path) -> Server {
    let mut child = std::process::Command::new(bin())
        .args(["sandbox", "serve", "--port", "0", "--json"])
        .env("ALTINN_ONBOARD_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut text = String::new();
    // Bounded: the object is a few dozen lines.
    for _ in 0..200 {
        let Some(Ok(line)) = lines.next() else { break };
        let end = line == "}";
        text.push_str(&line);
        text.push('\n');
        if end {
            break;
        }
    }
    let printed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let url = printed["base_url"].as_str().expect("base_url").to_string();
    Server {
        child,
        url,
        printed,
    }
}

struct Cli {
    home: tempfile::TempDir,
    args: Vec<String>,
    url: String,
}

impl Cli {
    /// Run with `--json`, check the exit code, parse stdout, and put placeholders where the
    /// server's address and the temporary home appear inside strings.
    fn json(&self, extra: &[&str], code: i32) -> Value {
        let mut c = Command::new(bin());
        c.env("ALTINN_ONBOARD_HOME", self.home.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .args(&self.args)
            .args(extra)
            .arg("--json")
            .timeout(std::time::Duration::from_secs(120));
        let out = c.output().expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{extra:?}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{extra:?}: not JSON ({e}): {stdout}"));
        stable_strings(v, &self.url, &self.home.path().display().to_string())
    }
}

/// A UUID (request and system-user ids) inside a longer string, e.g. a URL or a message.
fn mask_uuids(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let is_uuid = b.len() - i >= 36
            && b[i..i + 36].iter().enumerate().all(|(j, c)| {
                if matches!(j, 8 | 13 | 18 | 23) {
                    *c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        if is_uuid {
            out.push_str("[uuid]");
            i += 36;
        } else {
            let ch = s[i..].chars().next().expect("char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every UUID inside a string value masked (ids in URLs and messages).
fn masked(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(mask_uuids(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(masked).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, masked(x))).collect()),
        other => other,
    }
}

fn stable_strings(v: Value, url: &str, home: &str) -> Value {
    match v {
        Value::String(s) if !home.is_empty() => {
            Value::String(s.replace(url, "[sandbox]").replace(home, "[home]"))
        }
        Value::String(s) => Value::String(s.replace(url, "[sandbox]")),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| stable_strings(x, url, home))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, stable_strings(x, url, home)))
                .collect(),
        ),
        other => other,
    }
}

/// Redact, at any depth, the fields whose values differ between runs.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        assert_json_snapshot!($name, masked($value), {
            ".**.kid" => "[kid]",
            ".**.n" => "[modulus]",
            ".**.id" => "[id]",
            ".**.client_id" => "[client-id]",
            ".**.clientId" => "[client-ids]",
            ".**.systemuser_id" => "[system-user-id]",
            ".**.systemUserId" => "[system-user-id]",
            ".**.system_user_id" => "[system-user-id]",
            ".**.jti" => "[jti]",
            ".**.iat" => "[time]",
            ".**.exp" => "[time]",
            ".**.nbf" => "[time]",
            ".**.at" => "[time]",
            ".**.created" => "[time]",
            ".**.created_at" => "[time]",
            ".**.checked_at" => "[time]",
            ".**.updated_at" => "[time]",
            ".**.key_registered_at" => "[time]",
            ".**.expires_at" => "[time]",
            ".**.expires_in" => "[seconds]",
            ".**.elapsed_ms" => "[ms]",
            ".**.key_thumbprint" => "[thumbprint]",
            ".**.private_key_path" => "[key-path]",
            ".**.key_path" => "[key-path]",
            ".**.tokenExpiresAt" => "[time]",
            ".**.body_excerpt" => "[body]",
            ".**.access_token" => "[token]",
            ".**.headers" => "[headers]",
            ".checks[].detail" => "[detail]",
            ".checks[].fix" => "[fix]",
        });
    };
}

#[test]
fn every_command_has_a_stable_json_shape() {
    let home = tempfile::tempdir().expect("tempdir");
    let server = serve(home.path());
    let s = server.url.clone();
    let mp = format!("{s}/");
    let a = Cli {
        args: [
            "--profile",
            "shapes",
            "--env",
            "sandbox",
            "--maskinporten-url",
            &mp,
            "--altinn-url",
            &s,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect(),
        url: s.clone(),
        home,
    };
    snap!(
        "sandbox_serve",
        stable_strings(server.printed.clone(), &s, "")
    );
    snap!("sandbox_orgs", a.json(&["sandbox", "orgs"], 0));
    snap!("keys_generate", a.json(&["keys", "generate"], 0));
    snap!("keys_show", a.json(&["keys", "show"], 0));
    snap!("keys_show_jwks", a.json(&["keys", "show", "--jwks"], 0));
    snap!(
        "client_set",
        a.json(&["client", "set", "--vendor-org", VENDOR], 0)
    );
    snap!(
        "system_register",
        a.json(
            &[
                "system",
                "register",
                "--name",
                "shapes",
                "--resource",
                "ske-krav-og-betalinger"
            ],
            0
        )
    );
    snap!("system_show", a.json(&["system", "show"], 0));
    let req = a.json(&["request", "create", "--customer-org", CUSTOMER], 0);
    let id = req["id"].as_str().expect("id").to_string();
    snap!("request_create", req);
    snap!(
        "request_status_pending",
        a.json(&["request", "status", "--wait", "--timeout", "1"], 5)
    );
    snap!("sandbox_approve", a.json(&["sandbox", "approve", &id], 0));
    snap!("request_status", a.json(&["request", "status"], 0));
    snap!("request_list", a.json(&["request", "list"], 0));
    snap!("token", a.json(&["token", "--system-user", "--show"], 0));
    snap!("call", a.json(&["call"], 0));
    snap!("profile_list", a.json(&["profile", "list"], 0));
    snap!("profile_show", a.json(&["profile", "show"], 0));
    snap!("doctor", a.json(&["doctor"], 0));
    // Errors: one object, the upstream code and status apart from the message.
    snap!(
        "error_usage",
        a.json(&["client", "set", "--vendor-org", "123456789"], 1)
    );
    snap!(
        "error_altinn_404",
        a.json(
            &[
                "request",
                "status",
                "--id",
                "7d7cbb59-0f43-4e48-9f4b-5d4b2f4a6b11"
            ],
            2
        )
    );
    snap!(
        "error_maskinporten_400",
        a.json(&["token", "--scope", "altinn:not-granted", "--fresh"], 2)
    );
    snap!("profile_rm", a.json(&["profile", "rm", "shapes"], 0));
}
