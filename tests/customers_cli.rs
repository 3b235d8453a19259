//! Issue 12, "Every customer at a glance": 120 customers from a CSV (more than two pages of
//! 50), a re-run that makes no duplicates, and `customers --json`/`--csv` listing every one with
//! the right status (accepted, rejected, timed out, pending), against an in-process sandbox
//! that knows 120 generated organisation numbers (valid mod-11; `SandboxOptions::known_orgs`).

use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle, SandboxOptions};
use altinn_onboard::validate::org_check_digit;
use serde_json::Value;
use std::collections::HashMap;

const VENDOR: &str = "310904473";

/// `n` valid organisation numbers (the mod-11 check digit of `validate`; some bases have none),
/// in a range the sandbox does not seed.
fn org_numbers(n: usize) -> Vec<String> {
    (97_100_001u32..)
        .filter_map(|base| {
            let digits: Vec<u32> = base
                .to_string()
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            org_check_digit(&digits).map(|check| format!("{base}{check}"))
        })
        .take(n)
        .collect()
}

struct Cli {
    home: tempfile::TempDir,
    args: Vec<String>,
}

impl Cli {
    fn new(sb: &SandboxHandle) -> Cli {
        let s = sb.base_url();
        Cli {
            home: tempfile::tempdir().expect("tempdir"),
            args: vec![
                "--profile".into(),
                "bulk".into(),
                "--env".into(),
                "sandbox".into(),
                "--maskinporten-url".into(),
                format!("{s}/"),
                "--altinn-url".into(),
                s,
            ],
        }
    }

    /// Run on a blocking thread (the sandbox serves on this test's runtime); returns the exit
    /// code, stdout and stderr.
    async fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let home = self.home.path().to_path_buf();
        let args: Vec<String> = self
            .args
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
                .env("ALTINN_ONBOARD_HOME", &home)
                .env_remove("ALTINN_ONBOARD_PROFILE")
                .env_remove("ALTINN_ONBOARD_ENV")
                .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
                .env_remove("ALTINN_ONBOARD_ALTINN_URL")
                .env_remove("NO_COLOR")
                .args(&args)
                .output()
                .expect("run");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        })
        .await
        .expect("join")
    }

    async fn json(&self, extra: &[&str], code: i32) -> Value {
        let mut args = extra.to_vec();
        args.push("--json");
        let (got, stdout, stderr) = self.run(&args).await;
        assert_eq!(got, code, "{extra:?}\nstdout: {stdout}\nstderr: {stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }
}

/// A sandbox that knows `orgs` as customers, and a vendor (key, client) whose system is
/// registered with `register` (the arguments after `system register`).
async fn vendor_with_system(orgs: &[String], register: &[&str]) -> (SandboxHandle, Cli) {
    let sb = sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            known_orgs: orgs.to_vec(),
            ..Default::default()
        },
    )
    .await
    .expect("sandbox");
    let cli = Cli::new(&sb);
    cli.json(&["keys", "generate"], 0).await;
    cli.json(&["client", "set", "--vendor-org", VENDOR], 0)
        .await;
    let mut args = vec!["system", "register"];
    args.extend_from_slice(register);
    cli.json(&args, 0).await;
    (sb, cli)
}

async fn decide(sb: &SandboxHandle, id: &str, what: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/sandbox/requests/{id}/{what}", sb.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200, "{what} {id}: {:?}", resp.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hundred_twenty_customers_from_a_csv() {
    let orgs = org_numbers(120);
    let (sb, cli) = vendor_with_system(
        &orgs,
        &["--name", "bulk", "--resource", "ske-krav-og-betalinger"],
    )
    .await;

    // A file with a bad row is refused whole, with the line; nothing is sent.
    let dir = cli.home.path().to_path_buf();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("org,external_ref\n{},r1\n123456789,r2\n", orgs[0]),
    )
    .expect("write");
    let (code, _, stderr) = cli
        .run(&[
            "request",
            "create",
            "--customers",
            bad.to_str().expect("path"),
        ])
        .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    let none = cli.json(&["customers"], 0).await;
    assert_eq!(none["count"], 0, "{none}");

    let file = dir.join("customers.csv");
    let mut csv = String::from("org,external_ref,note\n");
    for (i, org) in orgs.iter().enumerate() {
        csv += &format!("{org},cust-{i},\"row {i}, from the CRM\"\n");
    }
    std::fs::write(&file, csv).expect("write");
    let path = file.to_str().expect("path");
    let first = cli
        .json(&["request", "create", "--customers", path], 0)
        .await;
    assert_eq!(
        (
            &first["total"],
            &first["created"],
            &first["found"],
            &first["refused"]
        ),
        (
            &Value::from(120),
            &Value::from(120),
            &Value::from(0),
            &Value::from(0)
        ),
        "{first}"
    );
    // Safe to re-run: every request is found, none made again.
    let again = cli
        .json(&["request", "create", "--customers", path], 0)
        .await;
    assert_eq!(
        (&again["created"], &again["found"]),
        (&Value::from(0), &Value::from(120)),
        "{again}"
    );
    let ids: Vec<(String, String)> = again["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["org"].as_str().expect("org").to_string(),
                r["request_id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    let first_ids: Vec<&str> = first["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["request_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>(),
        first_ids
    );

    // 40 approve, 30 reject, 20 wait past the 180-day lifetime, 30 stay pending.
    let mut expected = HashMap::new();
    for (i, (org, id)) in ids.iter().enumerate() {
        let status = match i {
            0..40 => {
                decide(&sb, id, "approve").await;
                "accepted"
            }
            40..70 => {
                decide(&sb, id, "reject").await;
                "rejected"
            }
            70..90 => {
                assert!(sb.backdate_request(id, 181).await);
                "timed_out"
            }
            _ => "pending",
        };
        expected.insert(org.clone(), status);
    }

    let (code, stdout, stderr) = cli.run(&["customers", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    // Progress for the lists of more than one page.
    assert!(stderr.contains("requests: page 3"), "{stderr}");
    let list: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(list["count"], 120);
    assert!(
        list["pages"].as_u64().expect("pages") >= 4,
        "{}",
        list["pages"]
    );
    assert_eq!(list["by_status"]["accepted"], 40);
    assert_eq!(list["by_status"]["rejected"], 30);
    assert_eq!(list["by_status"]["timed_out"], 20);
    assert_eq!(list["by_status"]["pending"], 30);
    let rows = list["customers"].as_array().expect("customers");
    assert_eq!(rows.len(), 120);
    for row in rows {
        let org = row["org"].as_str().expect("org");
        assert_eq!(row["status"], expected[org], "{row}");
        match expected[org] {
            "accepted" => assert!(row["system_user_id"].is_string(), "{row}"),
            "timed_out" => assert_eq!(row["request_status"], "New", "{row}"),
            _ => assert!(row["system_user_id"].is_null(), "{row}"),
        }
        assert_eq!(row["rights"][0], "ske-krav-og-betalinger", "{row}");
        assert_eq!(row["external_refs"].as_array().map(Vec::len), Some(1));
    }

    // CSV: a header and one properly quoted line per customer.
    let (code, stdout, _) = cli.run(&["customers", "--csv"]).await;
    assert_eq!(code, 0);
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(&header[..3], ["org", "name", "status"]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 120);
    for r in &records {
        assert_eq!(r.get(2), Some(expected[r.get(0).expect("org")]));
    }

    // The profile holds every customer.
    let profile = altinn_onboard::profile::ProfileStore::at(cli.home.path())
        .load("bulk")
        .expect("load")
        .expect("profile");
    assert_eq!(profile.customers.len(), 120);
    assert_eq!(
        profile
            .customers
            .iter()
            .filter(|c| c.status == altinn_onboard::profile::CustomerStatus::TimedOut)
            .count(),
        20
    );
    sb.shutdown().await;
}

/// The bulk create runs the same pre-flight as `request create`, once for the whole file: a
/// system whose resource a customer could not delegate (registered past the pre-flight) sends
/// no request at all, naming the code; `--no-preflight` leaves the decision to the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulk_create_runs_the_preflight_first() {
    let orgs = org_numbers(3);
    let (_sb, cli) = vendor_with_system(
        &orgs,
        &[
            "--name",
            "undelegable",
            "--resource",
            "eformidling-dpo-meldingsutveksling",
            "--no-preflight",
        ],
    )
    .await;
    let file = cli.home.path().join("three.csv");
    let mut csv = String::from("org,external_ref\n");
    for (i, org) in orgs.iter().enumerate() {
        csv += &format!("{org},r-{i}\n");
    }
    std::fs::write(&file, csv).expect("write");
    let path = file.to_str().expect("path");
    let (code, stdout, stderr) = cli.run(&["request", "create", "--customers", path]).await;
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("AUTH-00070"), "{stderr}");
    let none = cli.json(&["customers"], 0).await;
    assert_eq!(none["count"], 0, "nothing was sent: {none}");

    let sent = cli
        .json(
            &["request", "create", "--customers", path, "--no-preflight"],
            0,
        )
        .await;
    assert_eq!(sent["created"], 3, "{sent}");
}
