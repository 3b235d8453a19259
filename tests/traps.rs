//! Issue 17: a newcomer's traps, each walked into as a user would (the real binary, a fresh
//! home per user, `sandbox serve` spawned on 127.0.0.1:0), and the fix shown.
//!
//! 1. a running `sandbox serve` must not take over a profile whose objects live elsewhere;
//! 2. fixing a vendor-org typo must not lead to a dead end;
//! 6. switching environments keeps each one's progress;
//! 7. two workshop participants on one `sandbox serve` never share a system or a request.

use altinn_onboard::profile::ProfileStore;
use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const RESOURCE: &str = "ske-krav-og-betalinger";

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

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

/// `altinn-onboard sandbox serve --port 0 [extra]` with `home` as its data home; reads the URL.
fn serve(home: &Path, extra: &[&str]) -> Server {
    let mut child = std::process::Command::new(bin())
        .args(["sandbox", "serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(extra)
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
        .unwrap_or_else(|| panic!("no url in the first line: {line}"))
        .to_string();
    Server { child, url }
}

/// One user: a home of their own and the global flags they always pass.
struct User {
    home: tempfile::TempDir,
    args: Vec<String>,
}

impl User {
    fn new(args: &[&str]) -> Self {
        User {
            home: tempfile::tempdir().expect("tempdir"),
            args: args.iter().map(|s| s.to_string()).collect(),
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
        c.timeout(std::time::Duration::from_secs(120));
        c
    }

    /// Run with `--json`, check the exit code; stdout as JSON and stderr.
    fn run(&self, extra: &[&str], code: i32) -> (Value, String) {
        let out = self.cmd(extra).arg("--json").output().expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{extra:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        let v = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{extra:?}: stdout is not JSON ({e}): {stdout}"));
        (v, stderr)
    }

    fn json(&self, extra: &[&str], code: i32) -> Value {
        self.run(extra, code).0
    }

    fn store(&self) -> ProfileStore {
        ProfileStore::at(self.home.path())
    }
}

/// A bare HTTP POST (as `curl -X POST` in the README); the status line must be 2xx.
fn post(url: &str) {
    let u = url::Url::parse(url).expect("url");
    let addr = format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(80)
    );
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    // The real Host: the sandbox answers 421 to a Host it is not (issue 16).
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

/// keys, client, system, request, approval from the CLI (embedded or found sandbox).
fn onboard_to_accepted(u: &User) -> (String, String) {
    let (client, id, _) = onboard_to_accepted_noting(u);
    (client, id)
}

/// The same, also returning what `request create` said on stderr.
fn onboard_to_accepted_noting(u: &User) -> (String, String, String) {
    u.json(&["keys", "generate"], 0);
    let client = u.json(&["client", "set", "--vendor-org", VENDOR], 0);
    u.json(
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            RESOURCE,
        ],
        0,
    );
    let (req, said) = u.run(&["request", "create", "--customer-org", CUSTOMER], 0);
    let id = req["id"].as_str().expect("request id").to_string();
    u.json(&["sandbox", "approve", &id], 0);
    assert_eq!(u.json(&["request", "status"], 0)["status"], "Accepted");
    (
        client["client_id"].as_str().expect("client id").to_string(),
        id,
        said,
    )
}

/// Item 1: the profile's objects are in the embedded sandbox; then the user starts
/// `sandbox serve` (as the tool suggests) without --state. Before the fix every command went to
/// that empty server and failed with "Client not found" and a hint about Digdir's portal.
#[test]
fn a_running_sandbox_serve_does_not_take_over_a_profile() {
    let a = User::new(&[]);
    let (_, _, said) = onboard_to_accepted_noting(&a);
    // The tool's own advice names the state file, so following it gives the right server.
    let state = a.store().sandbox_state_path();
    assert!(
        said.contains(&format!("sandbox serve --state {}", state.display())),
        "{said}"
    );

    let stateless = serve(a.home.path(), &[]);
    let (status, stderr) = a.run(&["request", "status"], 0);
    assert_eq!(status["status"], "Accepted", "{stderr}");
    assert!(
        stderr.contains("holds other state")
            && stderr.contains("started without --state")
            && stderr.contains("sandbox serve --state"),
        "the user is told which sandbox is used and how to share it: {stderr}"
    );
    let (call, _) = a.run(&["call"], 0);
    assert_eq!(call["status"], 200);
    drop(stateless);

    // A server on the profile's own state is that sandbox: it is used, not the embedded one.
    let shared = serve(
        a.home.path(),
        &["--state", state.to_str().expect("utf-8 path")],
    );
    let (status, stderr) = a.run(&["request", "status"], 0);
    assert_eq!(status["status"], "Accepted");
    assert!(
        stderr.contains(&format!("using the sandbox running at {}", shared.url)),
        "{stderr}"
    );
}

/// Item 1, the other way round: the profile's objects were in a stateless `sandbox serve`
/// that was restarted (so they are gone). The session says so, with the fix, and `client set`
/// moves the profile to the sandbox reached now.
#[test]
fn a_profile_whose_sandbox_is_gone_says_so_and_client_set_starts_over() {
    let b = User::new(&[]);
    let first = serve(b.home.path(), &[]);
    b.json(&["keys", "generate"], 0);
    let (_, stderr) = b.run(&["client", "set", "--vendor-org", VENDOR], 0);
    assert!(stderr.contains(&first.url), "{stderr}");
    drop(first);

    let _second = serve(b.home.path(), &[]);
    let out = b
        .cmd(&[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            RESOURCE,
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not the sandbox reached")
            && stderr.contains("started without --state")
            && stderr.contains("client set"),
        "{stderr}"
    );
    assert!(!stderr.contains("Client not found"), "{stderr}");

    // The fix as given: register again (the profile's org is kept), then carry on.
    let (_, stderr) = b.run(&["client", "set"], 0);
    assert!(stderr.contains("now uses this sandbox"), "{stderr}");
    b.json(
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            RESOURCE,
        ],
        0,
    );
}

/// Item 2: a typo in the vendor org, fixed with `client set`. Before the fix the sandbox
/// client kept the old org and `system register` failed with 403; `doctor` saw nothing.
#[test]
fn fixing_a_vendor_org_typo_replaces_the_sandbox_client() {
    let a = User::new(&[]);
    a.json(&["keys", "generate"], 0);
    let typo = a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    let fixed = a.json(&["client", "set", "--vendor-org", CUSTOMER], 0);
    assert_eq!(fixed["vendor_org"], CUSTOMER);
    assert_ne!(fixed["client_id"], typo["client_id"], "a new client");
    let doctor = a.json(&["doctor"], 0);
    let org = doctor["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "client org")
        .cloned()
        .expect("a client org check");
    assert_eq!(org["status"], "pass", "{org}");
    let sys = a.json(
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            RESOURCE,
        ],
        0,
    );
    assert_eq!(sys["id"], format!("{CUSTOMER}_smartcloud"), "{sys}");

    // A profile left in the old state (org changed, client not): doctor names the mismatch
    // before the register does, with the fix, and the fix works.
    let store = a.store();
    let mut p = store.load("default").expect("load").expect("profile");
    p.vendor_org = Some(VENDOR.into());
    store.save(&mut p).expect("save");
    let doctor = a.json(&["doctor"], 1);
    let org = doctor["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "client org")
        .cloned()
        .expect("a client org check");
    assert_eq!(org["status"], "fail", "{doctor}");
    assert!(
        org["fix"]
            .as_str()
            .is_some_and(|f| f.contains(&format!("client set --vendor-org {VENDOR}"))),
        "{org}"
    );
    a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    a.json(
        &[
            "system",
            "register",
            "--name",
            "smartcloud",
            "--resource",
            RESOURCE,
        ],
        0,
    );
    let doctor = a.json(&["doctor"], 0);
    assert!(
        doctor["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["name"] == "client org" && c["status"] == "pass"),
        "{doctor}"
    );
}

/// Item 6: `--env tt02` and back. Before the fix the switch dropped the sandbox's client
/// registration and requests, and TT02 inherited the sandbox's client id.
#[test]
fn switching_environments_keeps_each_ones_progress() {
    let a = User::new(&[]);
    let (sandbox_client, request) = onboard_to_accepted(&a);

    // TT02 starts empty: the sandbox's client id is not offered as TT02's.
    let out = a
        .cmd(&["--env", "tt02", "client", "set", "--vendor-org", CUSTOMER])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("client id shown in"), "{stderr}");
    assert!(
        stderr.contains("kept"),
        "the switch says what is kept: {stderr}"
    );
    let tt02_client = "0b7e6c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b";
    let tt02 = a.json(
        &[
            "--env",
            "tt02",
            "client",
            "set",
            "--vendor-org",
            CUSTOMER,
            "--client-id",
            tt02_client,
            "--kid",
            "portal-kid-1",
        ],
        0,
    );
    assert_eq!(tt02["client_id"], tt02_client);
    let p = a.store().load("default").expect("load").expect("profile");
    assert_eq!(p.portal_kid.as_deref(), Some("portal-kid-1"));
    assert!(p.environments.contains_key("sandbox"));

    // Back on the sandbox: the approved request and the client are there.
    let status = a.json(&["--env", "sandbox", "request", "status"], 0);
    assert_eq!(status["status"], "Accepted");
    assert_eq!(status["id"], request.as_str());
    let p = a.store().load("default").expect("load").expect("profile");
    assert_eq!(p.client_id.as_deref(), Some(sandbox_client.as_str()));
    assert_eq!(p.portal_kid, None, "the portal's kid is TT02's");
    assert_eq!(a.json(&["call"], 0)["status"], 200);
    // And TT02's client comes back with TT02 (no --client-id needed; nothing is sent there).
    let (again, stderr) = a.run(
        &["--env", "tt02", "client", "set", "--vendor-org", CUSTOMER],
        0,
    );
    assert!(stderr.contains("as you left them"), "{stderr}");
    assert_eq!(again["client_id"], tt02_client);
}

/// Item 7: the README's workshop recipe, two participants on one `sandbox serve`. Before the
/// fix both used the README's example org and system name, shared one system, and the second
/// got the first's approved request and a 200 test call without approving anything.
#[test]
fn workshop_participants_each_get_their_own_system_and_request() {
    let room = tempfile::tempdir().expect("tempdir");
    let state = room.path().join("room.json");
    let host = serve(
        room.path(),
        &["--state", state.to_str().expect("utf-8 path")],
    );
    let s = host.url.clone();
    let mp = format!("{s}/");
    let participant = || {
        User::new(&[
            "--env",
            "custom",
            "--maskinporten-url",
            &mp,
            "--altinn-url",
            &s,
        ])
    };
    let (alice, bob) = (participant(), participant());
    let mut made = Vec::new();
    for p in [&alice, &bob] {
        // Exactly the README's recipe: no --vendor-org.
        p.json(&["keys", "generate"], 0);
        let (client, stderr) = p.run(&["client", "set"], 0);
        assert!(stderr.contains("shared sandbox"), "{stderr}");
        let sys = p.json(
            &[
                "system",
                "register",
                "--name",
                "smartcloud",
                "--resource",
                RESOURCE,
            ],
            0,
        );
        let req = p.json(&["request", "create", "--customer-org", CUSTOMER], 0);
        assert_eq!(req["status"], "New", "{req}");
        made.push((
            client["vendor_org"].as_str().expect("org").to_string(),
            sys["id"].as_str().expect("system id").to_string(),
            req["id"].as_str().expect("request id").to_string(),
        ));
    }
    assert_ne!(made[0].0, made[1].0, "each participant has a vendor org");
    assert_ne!(made[0].1, made[1].1, "and a system");
    assert_ne!(made[0].2, made[1].2, "and a request");

    // Alice approves hers (the README's curl line) and her test call works.
    post(&format!("{s}/sandbox/requests/{}/approve", made[0].2));
    let st = alice.json(&["request", "status", "--wait", "--timeout", "30"], 0);
    assert_eq!(st["status"], "Accepted");
    assert_eq!(alice.json(&["call"], 0)["status"], 200);

    // Bob approved nothing: his request is still new and his call gets no token.
    assert_eq!(bob.json(&["request", "status"], 0)["status"], "New");
    let out = bob.cmd(&["call", "--json"]).output().expect("run");
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Until he approves his own.
    post(&format!("{s}/sandbox/requests/{}/approve", made[1].2));
    let st = bob.json(&["request", "status", "--wait", "--timeout", "30"], 0);
    assert_eq!(st["status"], "Accepted");
    assert_eq!(bob.json(&["call"], 0)["status"], 200);
}

/// Items 6 and 7 in the wizard: after a switch from a finished sandbox profile to TT02 the
/// client step offers no client id (the sandbox's is not TT02's), a switch back finds the
/// sandbox done, and on a custom (shared) server the vendor org offered is one's own.
#[test]
fn the_wizard_keeps_environments_apart_and_offers_an_own_org_on_a_shared_sandbox() {
    use altinn_onboard::env::{EnvKind, EnvSetting};
    use altinn_onboard::flow::{Flow, Msg, Step};
    use altinn_onboard::profile::{Profile, RegistrationRecord, SystemSpec};
    use altinn_onboard::tui::app::{App, AppOptions, seeded_for};
    use altinn_onboard::tui::theme::Theme;
    use ratatui::{Terminal, backend::TestBackend};

    const SANDBOX_CLIENT: &str = "5a5d1c1e-aaaa-4bbb-8ccc-0123456789ab";
    let opts = |kind| AppOptions {
        default_test_url: "http://127.0.0.1:1/reference/whoami".into(),
        headless: None,
        seeded_orgs: seeded_for(kind),
        theme: Theme::plain(),
    };
    let render = |app: &App| {
        let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        term.draw(|f| altinn_onboard::tui::ui::draw(f, app))
            .expect("draw");
        term.backend().to_string()
    };
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Sandbox));
    p.kid = Some("kid-1".into());
    p.key_path = Some("/keys/k.pem".into());
    p.vendor_org = Some(VENDOR.into());
    p.client_id = Some(SANDBOX_CLIENT.into());
    p.scopes = altinn_onboard::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    p.client_registered = true;
    p.system = Some(SystemSpec::simple("smartcloud", "Smart", "Smart"));
    p.system_registered = Some(RegistrationRecord {
        system_id: format!("{VENDOR}_smartcloud"),
        at: chrono::Utc::now(),
        outcome: "created".into(),
        client_id: Some(SANDBOX_CLIENT.into()),
    });
    let mut app = App::new(Flow::resume(p), opts(EnvKind::Sandbox));
    assert_eq!(app.flow.step, Step::Request);

    app.handle_msg(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Tt02)));
    assert_eq!(app.flow.step, Step::Client);
    assert_eq!(app.forms.client.client_id.value(), "");
    let screen = render(&app);
    assert!(!screen.contains("5a5d1c1e"), "{screen}");

    app.handle_msg(Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)));
    assert_eq!(
        app.flow.step,
        Step::Request,
        "the sandbox's progress is back"
    );
    assert_eq!(app.flow.profile.client_id.as_deref(), Some(SANDBOX_CLIENT));

    // A custom server (a workshop's `sandbox serve`): an org of one's own is offered.
    app.handle_msg(Msg::SelectEnvironment(EnvSetting {
        kind: EnvKind::Custom,
        maskinporten_url: Some("http://127.0.0.1:9/".into()),
        altinn_url: Some("http://127.0.0.1:9".into()),
    }));
    assert_eq!(app.flow.step, Step::Client);
    let org = app.forms.client.vendor_org.value().to_string();
    assert!(org.starts_with("39") && org != VENDOR, "{org}");
    let screen = render(&app);
    assert!(screen.contains("vendor org of their own"), "{screen}");
}

/// Item 6's migration: a format-1 profile (from before per-environment state) loads with its
/// progress as the current environment's, and the first save keeps the old file as `.v1.bak`.
#[test]
fn a_format_1_profile_keeps_its_progress_and_a_backup() {
    use altinn_onboard::env::{EnvKind, EnvSetting};
    let home = tempfile::tempdir().expect("tempdir");
    let store = ProfileStore::at(home.path());
    let path = store.profile_path("old");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let v1 = serde_json::json!({
        "version": 1, "name": "old", "environment": {"kind": "sandbox"},
        "vendor_org": VENDOR, "client_id": "c-1", "client_registered": true,
        "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z",
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&v1).expect("json")).expect("write");
    let mut p = store.load("old").expect("load").expect("profile");
    assert_eq!(p.client_id.as_deref(), Some("c-1"));
    assert!(p.environments.is_empty());
    p.switch_environment(EnvSetting::new(EnvKind::Tt02));
    store.save(&mut p).expect("save");
    assert!(path.with_file_name("old.json.v1.bak").exists());
    let p = store.load("old").expect("load").expect("profile");
    assert_eq!(p.version, altinn_onboard::profile::PROFILE_FORMAT_VERSION);
    assert_eq!(p.client_id, None);
    assert_eq!(p.environments["sandbox"].client_id.as_deref(), Some("c-1"));
}
