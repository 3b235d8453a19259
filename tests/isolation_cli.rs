//! Issue 14 from the outside, through the binary: another workshop participant's token cannot
//! delete your request, and files planted by another user (symlinks in place of the tool's own
//! files, a config directory others may write) are refused with the fix instead of being
//! written through.

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const VENDOR_A: &str = "310904473";
const VENDOR_B: &str = "313456781";
const CUSTOMER: &str = "312345676";
const SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
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
    let mut child = std::process::Command::new(bin())
        .args(["sandbox", "serve", "--port", "0"])
        .env("ALTINN_ONBOARD_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read url");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no url in the first line: {line}"))
        .to_string();
    Server { child, url }
}

fn cmd(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .args(args);
    c.timeout(std::time::Duration::from_secs(120));
    c
}

/// Run with --json, check the exit code, parse stdout.
fn json(home: &Path, args: &[&str], code: i32) -> Value {
    let out = cmd(home, args).arg("--json").output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

/// Run without --json; (exit code, stderr).
fn run(home: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = cmd(home, args).output().expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A bare HTTP/1.1 request (std only); returns (status, body).
fn http(method: &str, url: &str, bearer: &str) -> (u16, String) {
    let u = url::Url::parse(url).expect("url");
    let addr = format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(80)
    );
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "{method} {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nAccept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        u.path()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        resp.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

fn profile_args<'a>(name: &'a str, mp: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "--profile",
        name,
        "--env",
        "sandbox",
        "--maskinporten-url",
        mp,
        "--altinn-url",
        url,
    ]
}

/// The reproduction, through `sandbox serve` and two profiles of two seeded vendors.
#[test]
fn another_participants_token_cannot_delete_your_request() {
    let home = tempfile::tempdir().expect("tempdir");
    let server = serve(home.path());
    let s = server.url.clone();
    let mp = format!("{s}/");
    let with = |name: &'static str, rest: &[&str]| -> Vec<String> {
        profile_args(name, &mp, &s)
            .into_iter()
            .chain(rest.iter().copied())
            .map(str::to_string)
            .collect()
    };
    let j = |args: Vec<String>, code: i32| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        json(home.path(), &a, code)
    };

    j(with("a", &["keys", "generate"]), 0);
    j(
        with(
            "a",
            &["client", "set", "--vendor-org", VENDOR_A, "--scope", SCOPES],
        ),
        0,
    );
    j(
        with(
            "a",
            &[
                "system",
                "register",
                "--name",
                "isolated",
                "--resource",
                "urn:altinn:resource:ske-krav-og-betalinger",
            ],
        ),
        0,
    );
    let req = j(
        with("a", &["request", "create", "--customer-org", CUSTOMER]),
        0,
    );
    let id = req["id"].as_str().expect("id").to_string();

    j(with("b", &["keys", "generate"]), 0);
    j(
        with(
            "b",
            &["client", "set", "--vendor-org", VENDOR_B, "--scope", SCOPES],
        ),
        0,
    );
    let tok = j(with("b", &["token", "--show"]), 0);
    let b_token = tok["access_token"].as_str().expect("token").to_string();

    let (status, body) = http(
        "DELETE",
        &format!("{s}/authentication/api/v1/systemuser/request/vendor/{id}"),
        &b_token,
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("AUTH-00011"), "{body}");

    let st = j(with("a", &["request", "status"]), 0);
    assert_eq!(
        (st["id"].as_str(), st["status"].as_str()),
        (Some(id.as_str()), Some("New")),
        "{st}"
    );
    drop(server);
}

fn plant_link(at: &Path, target: &Path) {
    let _ = std::fs::remove_file(at);
    std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

fn precious(dir: &Path) -> PathBuf {
    let p = dir.join("precious.txt");
    std::fs::write(&p, "do not touch\n").expect("write");
    p
}

fn assert_untouched(p: &Path) {
    assert_eq!(std::fs::read_to_string(p).expect("read"), "do not touch\n");
}

#[test]
fn a_planted_lock_file_link_is_refused_and_its_target_kept() {
    let home = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    json(h, &["--profile", "p", "keys", "generate"], 0);
    let target = precious(other.path());
    let lock = h.join("config/profiles/p.lock");
    plant_link(&lock, &target);

    let (code, stderr) = run(
        h,
        &["--profile", "p", "client", "set", "--vendor-org", VENDOR_A],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&lock.display().to_string()) && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("rm {}", lock.display())),
        "the fix: {stderr}"
    );
    assert_untouched(&target);
}

#[test]
fn planted_key_cache_and_state_links_are_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let key = json(h, &["--profile", "k", "keys", "generate"], 0);
    json(
        h,
        &[
            "--profile",
            "k",
            "client",
            "set",
            "--vendor-org",
            VENDOR_A,
            "--scope",
            SCOPES,
        ],
        0,
    );
    let ok = json(h, &["--profile", "k", "token"], 0);
    assert!(ok["expires_in"].is_i64(), "{ok}");

    // Token cache: only a cache, so the command still works, but nothing is read or written
    // through the link, and stderr says why.
    let cache = h.join("data/cache/k.tokens.json");
    assert!(cache.exists(), "the token cache was written");
    let target = precious(other.path());
    plant_link(&cache, &target);
    let out = cmd(h, &["--profile", "k", "token", "--json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("symbolic link") && stderr.contains("k.tokens.json"),
        "{stderr}"
    );
    assert_untouched(&target);
    assert!(
        std::fs::symlink_metadata(&cache)
            .expect("lstat")
            .is_symlink()
    );
    std::fs::remove_file(&cache).expect("rm");

    // Sandbox state (and its lock): the embedded sandbox refuses to start on them.
    for name in ["data/sandbox-state.json", "data/sandbox-state.json.lock"] {
        let at = h.join(name);
        let saved = at.with_extension("saved");
        std::fs::rename(&at, &saved).expect("move the real file away");
        let target = precious(other.path());
        plant_link(&at, &target);
        let (code, stderr) = run(h, &["--profile", "k", "token", "--fresh"]);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains("symbolic link") && stderr.contains(&at.display().to_string()),
            "{name}: {stderr}"
        );
        assert_untouched(&target);
        std::fs::remove_file(&at).expect("rm link");
        std::fs::rename(&saved, &at).expect("restore");
    }

    // The private key: a link is refused (the wizard and every command load it the same way).
    let key_path = PathBuf::from(key["private_key_path"].as_str().expect("path"));
    let real = other.path().join("key.pem");
    std::fs::rename(&key_path, &real).expect("move key");
    plant_link(&key_path, &real);
    let (code, stderr) = run(h, &["--profile", "k", "token", "--fresh"]);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("symbolic link") && stderr.contains(&key_path.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn a_config_directory_others_may_write_is_refused_with_the_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    json(h, &["--profile", "d", "keys", "generate"], 0);
    for dir in ["config", "config/profiles", "config/keys", "data"] {
        let d = h.join(dir);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o775)).expect("chmod");
        let (code, stderr) = run(h, &["--profile", "d", "profile", "show"]);
        assert_eq!(code, Some(1), "{dir}: {stderr}");
        assert!(
            stderr.contains("writable by group or others")
                && stderr.contains(&format!("chmod 700 {}", d.display())),
            "{dir}: {stderr}"
        );
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    // Fixed as the message says: works again.
    json(h, &["--profile", "d", "profile", "show"], 0);
}
