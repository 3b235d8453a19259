//! `request change` end to end on the embedded sandbox (state in the data directory, so each
//! command sees the last one's objects): a change request from creation to Accepted, approved
//! as the customer's access manager, after which a system-user token's call shows the new
//! right; a change that would change nothing (NoChangeNeeded, exit 0); a right the system
//! lacks (refused before sending, with the `system register` to run); an approval by someone
//! who is not an access manager (AUTH-00066, the change request stays New); `--wait` answered
//! from another process; and the `--json` shapes (insta, ids and URLs redacted).

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const FIRST: &str = "ske-krav-og-betalinger";
const SECOND: &str = "ttd_systembruker-salary";

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("altinn-onboard")
}

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Self {
        Home(tempfile::tempdir().expect("tempdir"))
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.env("ALTINN_ONBOARD_HOME", self.0.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .env("NO_COLOR", "1")
            .args(args);
        c.timeout(std::time::Duration::from_secs(120));
        c
    }

    /// Run; (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {out}\n{err}");
        out
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.run(&all);
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
        (code, v)
    }
}

/// A vendor whose system user for CUSTOMER has FIRST, and whose system now has SECOND too.
fn onboarded() -> Home {
    let h = Home::new();
    h.ok(&["keys", "generate"]);
    h.ok(&["client", "set", "--vendor-org", VENDOR]);
    h.ok(&[
        "system",
        "register",
        "--name",
        "smartcloud",
        "--resource",
        FIRST,
    ]);
    h.ok(&["request", "create", "--customer-org", CUSTOMER]);
    h.ok(&["sandbox", "approve"]);
    let (code, v) = h.json(&["request", "status"]);
    assert_eq!((code, v["status"].as_str()), (0, Some("Accepted")), "{v}");
    h
}

fn register_both(h: &Home) {
    h.ok(&[
        "system",
        "register",
        "--name",
        "smartcloud",
        "--resource",
        FIRST,
        "--resource",
        SECOND,
    ]);
}

/// The `rights` of the system user as the sandbox's reference API reports it for a
/// system-user token.
fn rights_seen_by_api(h: &Home) -> Vec<String> {
    let (code, v) = h.json(&["call"]);
    assert_eq!(code, 0, "{v}");
    v["body"]["rights"]
        .as_array()
        .unwrap_or_else(|| panic!("no rights in {v}"))
        .iter()
        .filter_map(|r| r["resource"][0]["value"].as_str().map(str::to_string))
        .collect()
}

fn redacted(mut v: Value) -> Value {
    for key in ["id", "system_user_id", "confirm_url"] {
        if let Some(x) = v.get_mut(key)
            && !x.is_null()
        {
            *x = Value::String(format!("[{key}]"));
        }
    }
    v
}

#[test]
fn change_request_from_creation_to_accepted_gives_the_system_user_the_right() {
    let h = onboarded();
    assert_eq!(rights_seen_by_api(&h), vec![FIRST.to_string()]);
    register_both(&h);
    let (code, created) = h.json(&[
        "request",
        "change",
        "--add-resource",
        SECOND,
        "--customer-org",
        CUSTOMER,
    ]);
    assert_eq!(code, 0, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let su = created["system_user_id"].as_str().expect("system user id");
    // The correlation id is fresh: never the system user's id, which is the id of the request
    // that made it.
    let (_, first) = h.json(&["request", "status", "--id", su]);
    assert_eq!(first["status"], "Accepted");
    assert_ne!(id, su);
    assert!(
        created["confirm_url"]
            .as_str()
            .is_some_and(|u| u.contains("/accessmanagement/ui/systemuser/changerequest?id=")),
        "{created}"
    );
    insta::assert_json_snapshot!("request_change_new", redacted(created));

    // The newest record is the change request: `request status` and `sandbox approve` find it.
    let (code, pending) = h.json(&["request", "status"]);
    assert_eq!((code, pending["id"].as_str()), (0, Some(id.as_str())));
    assert_eq!(pending["status"], "New");
    // Before approval the system user has only the first right.
    assert_eq!(rights_seen_by_api(&h), vec![FIRST.to_string()]);

    h.ok(&["sandbox", "approve", &id, "--as", "kari"]);
    let (code, done) = h.json(&["request", "status", "--wait", "--timeout", "30"]);
    assert_eq!(
        (code, done["status"].as_str()),
        (0, Some("Accepted")),
        "{done}"
    );
    assert_eq!(
        rights_seen_by_api(&h),
        vec![FIRST.to_string(), SECOND.to_string()]
    );

    // Asking again is NoChangeNeeded: the system user has it now (known from the accepted
    // change request), so the request goes out empty and Altinn says so. Exit 0.
    let (code, again) = h.json(&["request", "change", "--add-resource", SECOND]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["status"], "NoChangeNeeded");
    assert_eq!(again["already_rights"], serde_json::json!([SECOND]));
    assert!(again["id"].is_null(), "{again}");
}

#[test]
fn a_change_that_changes_nothing_is_no_change_needed_and_success() {
    let h = onboarded();
    let (code, v) = h.json(&["request", "change", "--add-resource", FIRST]);
    assert_eq!(code, 0, "{v}");
    insta::assert_json_snapshot!("request_change_no_change_needed", redacted(v));
    let (code, out, _) = h.run(&["request", "change", "--add-resource", FIRST]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "no change needed: the system user for 312345676 already has ske-krav-og-betalinger"
        ),
        "{out}"
    );
    // Nothing was stored: the profile's newest record is still the accepted request.
    let (_, status) = h.json(&["request", "status"]);
    assert_eq!(status["status"], "Accepted");
}

#[test]
fn a_right_the_system_lacks_is_refused_before_sending_with_the_fix() {
    let h = onboarded();
    let (code, out, err) = h.run(&["request", "change", "--add-resource", SECOND]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains(&format!(
            "{SECOND} not registered on the system {VENDOR}_smartcloud"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "register the right on the system first: system register --name smartcloud --resource {FIRST} --resource {SECOND}"
        )),
        "{err}"
    );
    // Nothing at all to add is a usage error too.
    let (code, _, err) = h.run(&["request", "change"]);
    assert_eq!(code, 1);
    assert!(err.contains("--add-resource"), "{err}");
    // A customer without a system user: found out from Altinn (byquery), nothing created.
    register_both(&h);
    let (code, _, err) = h.run(&[
        "request",
        "change",
        "--add-resource",
        SECOND,
        "--customer-org",
        "313456781",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("313456781 has no system user of 310904473_smartcloud"),
        "{err}"
    );
}

#[test]
fn only_an_access_manager_may_approve_a_change_request() {
    let h = onboarded();
    register_both(&h);
    let (_, created) = h.json(&["request", "change", "--add-resource", SECOND]);
    let id = created["id"].as_str().expect("id").to_string();
    // per is an employee of Havbris Bakeri, not an access manager: refused as for a new request.
    let (code, _, err) = h.run(&["sandbox", "approve", &id, "--as", "per"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AUTH-00066"), "{err}");
    let (code, v) = h.json(&["request", "status", "--id", &id]);
    assert_eq!((code, v["status"].as_str()), (0, Some("New")), "{v}");
    assert_eq!(v["last_refusal"]["code"], "AUTH-00066", "{v}");
    assert_eq!(rights_seen_by_api(&h), vec![FIRST.to_string()]);
    // Rejected: exit 4 with --wait, and the system user keeps what it had.
    h.ok(&["sandbox", "reject", &id]);
    let (code, v) = h.json(&[
        "request",
        "status",
        "--id",
        &id,
        "--wait",
        "--timeout",
        "30",
    ]);
    assert_eq!((code, v["status"].as_str()), (4, Some("Rejected")), "{v}");
}

#[test]
fn wait_ends_when_the_customer_approves_from_elsewhere() {
    let h = onboarded();
    register_both(&h);
    let mut child = std::process::Command::new(bin())
        .env("ALTINN_ONBOARD_HOME", h.0.path())
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .env("NO_COLOR", "1")
        .args([
            "request",
            "change",
            "--add-resource",
            SECOND,
            "--wait",
            "--timeout",
            "120",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // "change request <id> (<rights>) is New", then the URL: printed before the wait starts.
    let first = lines.next().expect("a line").expect("utf-8");
    let id = first
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("no id in {first}"))
        .to_string();
    assert!(first.ends_with("is New"), "{first}");
    h.ok(&["sandbox", "approve", &id]);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains(&format!(
            "change request {id}: Accepted (the system user for {CUSTOMER} now has {SECOND})"
        ))),
        "{rest:?}"
    );
}
