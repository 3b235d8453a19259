//! Several processes on one embedded-sandbox state file (every CLI command runs the sandbox
//! in-process on `<data dir>/sandbox-state.json`) must not lose each other's changes, and
//! `sandbox serve` stops cleanly on SIGINT and SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const PER_PROFILE: usize = 8;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_altinn-onboard")
}

fn cmd(home: &std::path::Path, profile: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .args(["--profile", profile, "--json"])
        .args(args)
        .stdin(Stdio::null());
    c
}

fn ok_json(out: Output, what: &str) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {stdout}"))
}

fn run(home: &std::path::Path, profile: &str, args: &[&str]) -> Value {
    ok_json(
        cmd(home, profile, args).output().expect("run"),
        &format!("{profile} {args:?}"),
    )
}

#[test]
fn two_processes_creating_requests_at_once_lose_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let profiles = ["left", "right"];
    for p in profiles {
        run(home.path(), p, &["keys", "generate"]);
        run(home.path(), p, &["client", "set", "--vendor-org", VENDOR]);
        run(
            home.path(),
            p,
            &[
                "system",
                "register",
                "--name",
                p,
                "--resource",
                "ske-krav-og-betalinger",
            ],
        );
    }
    // All at once. Commands of one profile wait for each other on the profile lock, so at any
    // moment one process per profile is inside the sandbox; the two race on the state file.
    let mut children = Vec::new();
    for i in 0..PER_PROFILE {
        for p in profiles {
            let ext = format!("{p}-{i}");
            let child = cmd(
                home.path(),
                p,
                &[
                    "request",
                    "create",
                    "--customer-org",
                    CUSTOMER,
                    "--external-ref",
                    &ext,
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
            children.push((ext, child));
        }
    }
    let mut created = Vec::new();
    for (ext, child) in children {
        let v = ok_json(child.wait_with_output().expect("wait"), &ext);
        created.push(v["id"].as_str().expect("id").to_string());
    }
    assert_eq!(created.len(), 2 * PER_PROFILE);

    // Every created request is still there, through the API and in the state file.
    let mut listed = Vec::new();
    for p in profiles {
        let list = run(home.path(), p, &["request", "list"]);
        let items = list
            .as_array()
            .or_else(|| list["requests"].as_array())
            .unwrap_or_else(|| panic!("request list: {list}"));
        listed.extend(
            items
                .iter()
                .filter_map(|r| r["id"].as_str())
                .map(String::from),
        );
    }
    let store = altinn_onboard::profile::ProfileStore::at(home.path());
    let state = std::fs::read_to_string(store.sandbox_state_path()).expect("state file");
    let missing_in_list: Vec<_> = created.iter().filter(|id| !listed.contains(id)).collect();
    let missing_in_file: Vec<_> = created.iter().filter(|id| !state.contains(*id)).collect();
    assert!(
        missing_in_list.is_empty() && missing_in_file.is_empty(),
        "lost requests: {} of {} missing from `request list`, {} from the state file",
        missing_in_list.len(),
        created.len(),
        missing_in_file.len()
    );
}

/// `sandbox serve --port 0 --state <file>` in `home`, stopped by `signal`: exits 0, has written
/// the state file and removed the server file.
#[cfg(unix)]
fn serve_and_stop_with(signal: &str) {
    let home = tempfile::tempdir().expect("tempdir");
    let state = home.path().join("serve-state.json");
    let mut child = Command::new(bin())
        .env("ALTINN_ONBOARD_HOME", home.path())
        .args(["sandbox", "serve", "--port", "0", "--state"])
        .arg(&state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the url");
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    let store = altinn_onboard::profile::ProfileStore::at(home.path());
    let server_file = altinn_onboard::session::server_file_path(&store);
    assert!(server_file.exists(), "sandbox serve records itself");
    // Remove the state file so that finding it afterwards proves the shutdown saved it.
    std::fs::remove_file(&state).expect("state file written at start");

    // Signal this child's PID only.
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), pid.as_str()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sandbox serve did not stop within 20 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "SIG{signal}: {status:?}");
    assert!(state.exists(), "SIG{signal}: state saved at shutdown");
    assert!(!server_file.exists(), "SIG{signal}: server file removed");
}

#[cfg(unix)]
#[test]
fn sandbox_serve_stops_cleanly_on_sigint() {
    serve_and_stop_with("INT");
}

#[cfg(unix)]
#[test]
fn sandbox_serve_stops_cleanly_on_sigterm() {
    serve_and_stop_with("TERM");
}
