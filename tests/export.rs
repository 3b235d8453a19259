//! `export` (issue 13): a golden file per format, and the Python, Node and curl exports run
//! against the in-process sandbox, where each must obtain a system-user token that the
//! sandbox's reference API accepts for the right customer and externalRef.

mod sandbox_common;

use altinn_onboard::altinn::model::RequestStatus;
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::export::{self, Format, InlineKey};
use altinn_onboard::keys::KeyPair;
use altinn_onboard::profile::{Profile, RequestKind, RequestRecord};
use sandbox_common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXTERNAL_REF: &str = "kunde-1";

fn profile(client_id: &str, kid: &str, key_path: &Path, external_ref: Option<&str>) -> Profile {
    let mut p = Profile::new("default", EnvSetting::new(EnvKind::Tt02));
    p.vendor_org = Some(VENDOR_ORG.into());
    p.client_id = Some(client_id.into());
    p.kid = Some(kid.into());
    p.key_path = Some(key_path.to_path_buf());
    p.scopes = vec![SCOPE_DEMO.into()];
    p.customer_org = Some(CUSTOMER_ORG.into());
    p.requests.push(RequestRecord {
        id: "7f0c1d7e-4c52-4a8e-9d35-0c4f3f6a2b11".into(),
        kind: RequestKind::Standard,
        customer_org: CUSTOMER_ORG.into(),
        external_ref: external_ref.map(str::to_string),
        status: RequestStatus::Accepted,
        confirm_url: None,
        created_at: chrono::Utc::now(),
        checked_at: None,
        change: None,
    });
    p
}

fn golden_profile() -> Profile {
    profile(
        "b8a7c3d2-5e4f-4a1b-9c8d-7e6f5a4b3c2d",
        "vendor-key-2026",
        Path::new("/home/vendor/.config/altinn-onboard/keys/default-vendor-key-2026.pem"),
        Some(EXTERNAL_REF),
    )
}

#[test]
fn golden_tt02_every_format() {
    let p = golden_profile();
    let env = Environment::tt02();
    for f in Format::ALL {
        let c = export::context(&p, &env, None).unwrap();
        let out = export::render(f, &c).unwrap();
        insta::assert_snapshot!(format!("export_tt02_{f}"), out);
    }
}

#[test]
fn golden_production_dotnet_and_sandbox_dotnet_without_external_ref() {
    let mut p = golden_profile();
    let c = export::context(&p, &Environment::prod(), None).unwrap();
    insta::assert_snapshot!(
        "export_prod_dotnet",
        export::render(Format::Dotnet, &c).unwrap()
    );
    p.requests[0].external_ref = None;
    let sandbox = Environment::from_parts(
        EnvKind::Sandbox,
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080",
    )
    .unwrap();
    let c = export::context(&p, &sandbox, None).unwrap();
    insta::assert_snapshot!(
        "export_sandbox_dotnet",
        export::render(Format::Dotnet, &c).unwrap()
    );
    let c = export::context(&p, &sandbox, None).unwrap();
    insta::assert_snapshot!(
        "export_sandbox_python_no_external_ref",
        export::render(Format::Python, &c).unwrap()
    );
}

/// The key material (volatile: a fresh key) replaced by a marker.
fn redact_key(text: &str, key: &InlineKey) -> String {
    let pem = key.pkcs8_pem.trim_end();
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
    };
    text.replace(pem, "[PRIVATE KEY PEM]")
        .replace(
            &serde_json::to_string(pem).unwrap(),
            "\"[PRIVATE KEY PEM]\"",
        )
        .replace(&b64, "[PRIVATE KEY PEM, base64]")
        .replace(key.encoded_jwk.as_str(), "[PRIVATE JWK, base64]")
}

#[test]
fn golden_inline_key_every_format() {
    let p = golden_profile();
    let key = KeyPair::import(&key_a().pem, Some("vendor-key-2026".into())).unwrap();
    for f in Format::ALL {
        let inline = InlineKey::from_key(&key).unwrap();
        let c = export::context(
            &p,
            &Environment::tt02(),
            Some(InlineKey::from_key(&key).unwrap()),
        )
        .unwrap();
        let out = export::render(f, &c).unwrap();
        let redacted = redact_key(&out, &inline);
        assert!(
            !redacted.contains("PRIVATE KEY-----"),
            "{f}: key left after redaction"
        );
        assert!(
            !redacted.contains("/home/vendor"),
            "{f}: inline output still points at the key file"
        );
        insta::assert_snapshot!(format!("export_tt02_{f}_inline_key"), redacted);
    }
}

#[test]
fn inline_jwk_is_the_same_private_key() {
    use base64::Engine;
    use rsa::traits::PublicKeyParts;
    let key = KeyPair::import(&key_a().pem, Some("k".into())).unwrap();
    let inline = InlineKey::from_key(&key).unwrap();
    let jwk: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(inline.encoded_jwk.as_bytes())
            .unwrap(),
    )
    .unwrap();
    let b = |name: &str| {
        rsa::BigUint::from_bytes_be(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk[name].as_str().unwrap())
                .unwrap(),
        )
    };
    let rebuilt =
        rsa::RsaPrivateKey::from_components(b("n"), b("e"), b("d"), vec![b("p"), b("q")]).unwrap();
    rebuilt.validate().unwrap();
    assert_eq!(jwk["n"], key.public_jwk().n);
    assert_eq!(jwk["kid"], "k");
    // dp, dq, qi as the CRT defines them.
    let one = rsa::BigUint::from(1u8);
    assert_eq!(b("dp"), b("d") % (b("p") - &one));
    assert_eq!(b("dq"), b("d") % (b("q") - &one));
    assert_eq!((b("qi") * b("q")) % b("p"), one);
    assert_eq!(*rebuilt.n(), b("n"));
}

#[test]
fn a_profile_without_a_request_or_client_cannot_be_exported() {
    let mut p = golden_profile();
    p.requests.clear();
    p.customer_org = None;
    let e = export::context(&p, &Environment::tt02(), None)
        .err()
        .unwrap();
    assert!(e.contains("request create"), "{e}");
    p.client_id = None;
    let e = export::context(&p, &Environment::tt02(), None)
        .err()
        .unwrap();
    assert!(e.contains("client set"), "{e}");
}

// ---- the exports, run ----

/// Run `program args` with a deadline; (success, stdout, stderr).
fn run_bounded(program: &str, args: &[&str], timeout: Duration) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

struct Run {
    format: Format,
    /// (program, args before the file) or the reason it is skipped.
    runner: Result<(&'static str, Vec<&'static str>), String>,
    file: &'static str,
}

fn runners() -> Vec<Run> {
    let python = if !have("python3", &["--version"]) {
        Err("python3 is not installed".to_string())
    } else if !have("python3", &["-c", "import jwt, cryptography, requests"]) {
        Err("the Python packages are missing (pip install pyjwt cryptography requests)".to_string())
    } else {
        Ok(("python3", vec![]))
    };
    let node = if have(
        "node",
        &[
            "-e",
            "if (+process.versions.node.split('.')[0] < 20) process.exit(1)",
        ],
    ) {
        Ok(("node", vec![]))
    } else {
        Err("node 20 or newer is not installed".to_string())
    };
    let curl = if !have("bash", &["--version"]) || !have("curl", &["--version"]) {
        Err("bash or curl is not installed".to_string())
    } else if !have("openssl", &["version"]) {
        Err("openssl is not installed".to_string())
    } else {
        Ok(("bash", vec![]))
    };
    vec![
        Run {
            format: Format::Python,
            runner: python,
            file: "altinn_token.py",
        },
        Run {
            format: Format::Node,
            runner: node,
            file: "altinn-token.mjs",
        },
        Run {
            format: Format::Curl,
            runner: curl,
            file: "altinn-token.sh",
        },
    ]
}

/// The whoami answer a snippet printed (the last JSON object in its stdout).
fn whoami(stdout: &str) -> Value {
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in output: {stdout}"));
    serde_json::from_str(stdout[start..].trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn run_exports_against_sandbox(external_ref: Option<&str>, inline: bool) {
    let sb = start().await;
    let s = setup(&sb, "smartcloud").await;
    let mut body = standard_request(&s.system_id, CUSTOMER_ORG);
    if let Some(r) = external_ref {
        body["externalRef"] = json!(r);
    }
    let resp = create_request(&sb, &s.token, &body).await;
    assert!(resp.status().is_success());
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(approve(&sb, &id).await.status().is_success());

    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    let key = KeyPair::import(&key_a().pem, Some(s.vendor.kid.clone())).unwrap();
    key.write_private_key(&key_path).unwrap();
    let p = profile(&s.vendor.client_id, &s.vendor.kid, &key_path, external_ref);
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).unwrap();

    let mut ran = 0;
    for r in runners() {
        let (program, args) = match &r.runner {
            Ok(x) => x.clone(),
            Err(reason) => {
                eprintln!("SKIPPED running the {} export: {reason}", r.format);
                continue;
            }
        };
        let c =
            export::context(&p, &env, inline.then(|| InlineKey::from_key(&key).unwrap())).unwrap();
        let text = export::render(r.format, &c).unwrap();
        let file = dir.path().join(r.file);
        std::fs::write(&file, &text).unwrap();
        if inline {
            // The inline export must work without the key file.
            assert!(!text.contains(&key_path.display().to_string()));
        }
        let file_arg = file.display().to_string();
        let mut all: Vec<&str> = args.clone();
        all.push(&file_arg);
        // The blocking child must not stall the sandbox's runtime (multi-thread runtime).
        let (ok, stdout, stderr) =
            tokio::task::block_in_place(|| run_bounded(program, &all, Duration::from_secs(60)));
        assert!(
            ok,
            "{} export failed:\nstdout: {stdout}\nstderr: {stderr}",
            r.format
        );
        let who = whoami(&stdout);
        assert_eq!(who["customerOrg"], CUSTOMER_ORG, "{}: {who}", r.format);
        assert_eq!(who["clientId"], s.vendor.client_id.as_str(), "{}", r.format);
        // Without one in the request, Altinn's externalRef defaults to the customer's org number.
        assert_eq!(
            who["externalRef"],
            external_ref.unwrap_or(CUSTOMER_ORG),
            "{}",
            r.format
        );
        assert!(
            who["systemUserId"].as_str().is_some_and(|x| !x.is_empty()),
            "{}: {who}",
            r.format
        );
        ran += 1;
    }
    eprintln!("ran {ran} exports against the sandbox");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_node_and_curl_exports_get_a_system_user_token_with_external_ref() {
    run_exports_against_sandbox(Some(EXTERNAL_REF), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_without_external_ref_and_with_inline_key_also_work() {
    run_exports_against_sandbox(None, true).await;
}
