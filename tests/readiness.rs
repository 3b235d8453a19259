//! `doctor`'s readiness section against the sandbox (issue 11): the scope catalogue on Digdir's
//! path (scope exists, missing, not open to all), the ready e-mail in `--json`, the key's
//! expiry and the five-key limit.

use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::keys::{KeyBits, KeyPair};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::{Profile, ProfileStore};
use altinn_onboard::readiness::Level;
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig};
use assert_cmd::Command;
use serde_json::Value;
use std::sync::Arc;

const VENDOR: &str = "310904473";

struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            home: tempfile::tempdir().unwrap(),
        }
    }
    fn json(&self, args: &[&str], code: i32) -> Value {
        let out = Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
            .env("ALTINN_ONBOARD_HOME", self.home.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .args(["--profile", "ready"])
            .args(args)
            .arg("--json")
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
    fn profile_file(&self) -> std::path::PathBuf {
        self.home.path().join("config/profiles/ready.json")
    }
}

fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name}: {report}"))
}

#[test]
fn doctor_reads_the_scope_catalogue_and_prints_the_ready_email() {
    let a = Cli::new();
    a.json(&["keys", "generate"], 0);
    // No client yet: the vendor scopes exist but are not open to all, so their access must
    // come from Digdir, and the e-mail to ask for it is ready.
    let before = a.json(&["doctor"], 1);
    assert_eq!(
        item(&before, "scope catalogue")["status"],
        "pass",
        "{before}"
    );
    let write = item(&before, "scope altinn:authentication/systemregister.write");
    assert_eq!(write["status"], "warn", "{before}");
    assert!(
        write["detail"]
            .as_str()
            .unwrap()
            .contains("not open to all")
    );
    let mail = &before["emails"][0];
    assert_eq!(mail["to"], "servicedesk@digdir.no", "{before}");
    for s in [
        "altinn:authentication/systemregister.write",
        "altinn:authentication/systemuser.request.write",
        "altinn:authentication/systemuser.request.read",
    ] {
        assert!(mail["body"].as_str().unwrap().contains(s), "{mail}");
    }
    assert_eq!(item(&before, "key expiry")["status"], "pass", "{before}");

    // The client has them (the sandbox granted them): no e-mail; 1 key of 5.
    a.json(&["client", "set", "--vendor-org", VENDOR], 0);
    let after = a.json(&["doctor"], 0);
    assert_eq!(
        item(&after, "scope altinn:authentication/systemregister.write")["status"],
        "pass",
        "{after}"
    );
    assert!(after.get("emails").is_none(), "{after}");
    let keys = item(&after, "client keys");
    assert_eq!(keys["status"], "pass");
    assert!(
        keys["detail"].as_str().unwrap().contains("1 of at most 5"),
        "{keys}"
    );
    // The profile now knows when the key was registered (for the one-year expiry).
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(a.profile_file()).unwrap()).unwrap();
    assert!(saved["key_registered_at"].is_string(), "{saved}");
    assert!(
        item(&after, "key expiry")["detail"]
            .as_str()
            .unwrap()
            .contains("registered with the client"),
        "{after}"
    );

    // A scope that does not exist fails; one open to all passes without a grant.
    let mut p: Value = saved.clone();
    p["system_user_scope"] = "altinn:systembruker.demo altinn:no-such-scope".into();
    std::fs::write(a.profile_file(), serde_json::to_string_pretty(&p).unwrap()).unwrap();
    let odd = a.json(&["doctor"], 1);
    let missing = item(&odd, "scope altinn:no-such-scope");
    assert_eq!(missing["status"], "fail", "{odd}");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    let demo = item(&odd, "scope altinn:systembruker.demo");
    assert_eq!(demo["status"], "pass", "{odd}");
    assert!(
        demo["detail"]
            .as_str()
            .unwrap()
            .contains("open to every organisation")
    );
}

/// A client at the five-key limit is warned about (the sandbox's admin API knows its keys),
/// and the sandbox refuses a sixth, as Digdir's API does.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_at_five_keys_is_warned_about() {
    let sb = sandbox::start(SandboxConfig::default()).await.unwrap();
    let key = KeyPair::generate(KeyBits::B2048, Some("k0".into())).unwrap();
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    let with_kid = |i: usize| {
        let mut j = jwk.clone();
        j["kid"] = format!("ready-five-{i}").into();
        j
    };
    let http = reqwest::Client::new();
    let create = |n: usize| {
        let keys: Vec<Value> = (0..n).map(with_kid).collect();
        http.post(format!("{}/sandbox/clients", sb.base_url()))
            .bearer_auth(sb.admin_secret())
            .json(&serde_json::json!({"org": VENDOR, "scopes": [], "jwks": {"keys": keys}}))
            .send()
    };
    let six = create(6).await.unwrap();
    assert_eq!(six.status().as_u16(), 400, "a sixth key is refused");
    assert!(six.text().await.unwrap().contains("at most 5"));
    let five: Value = create(5).await.unwrap().json().await.unwrap();
    let client_id = five["client_id"].as_str().expect("client id").to_string();

    let dir = tempfile::tempdir().unwrap();
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).unwrap();
    let runner = Runner::new(
        env,
        Arc::new(ProfileStore::at(dir.path())),
        Arc::new(TokenCache::in_memory()),
    )
    .unwrap();
    let mut p = Profile::new("five", EnvSetting::default());
    p.client_id = Some(client_id.clone());
    let report = runner.readiness(&p).await;
    let keys = report
        .items
        .iter()
        .find(|i| i.name == "client keys")
        .expect("client keys");
    assert_eq!(keys.level, Level::Warn, "{keys:?}");
    assert!(keys.detail.contains("5 keys"), "{keys:?}");
    sb.shutdown().await;
}
