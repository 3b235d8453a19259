//! Secrets never leak: the whole onboarding through the CLI with trace-level logging (every
//! crate) and `--json`, then every output, log, profile and snapshot is searched for the private
//! key material and for every token that was issued. Zero hits allowed.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";

struct Run {
    home: tempfile::TempDir,
    transcript: String,
    /// Every token that was ever in the cache (later commands replace entries).
    tokens: std::collections::BTreeSet<String>,
}

impl Run {
    fn cmd(&mut self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
            .env("ALTINN_ONBOARD_HOME", self.home.path())
            .env("ALTINN_ONBOARD_LOG", "trace")
            .args(["--profile", "leak", "-vvv", "--json"])
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "{args:?}\n{stdout}\n{}",
            &stderr[stderr.len().saturating_sub(2000)..]
        );
        self.transcript.push_str(&stdout);
        self.transcript.push_str(&stderr);
        let cache = self.home.path().join("data/cache/leak.tokens.json");
        if let Ok(text) = std::fs::read_to_string(cache) {
            let v: serde_json::Value = serde_json::from_str(&text).expect("cache json");
            for t in v.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(tok) = t["token"].as_str() {
                    self.tokens.insert(tok.to_string());
                }
            }
        }
        serde_json::from_str(&stdout).expect("json")
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

#[test]
fn no_key_material_or_token_in_logs_outputs_profiles_or_snapshots() {
    let mut run = Run {
        home: tempfile::tempdir().expect("tempdir"),
        transcript: String::new(),
        tokens: Default::default(),
    };
    let key = run.cmd(&["keys", "generate"]);
    run.cmd(&["keys", "show"]);
    run.cmd(&["client", "set", "--vendor-org", VENDOR]);
    run.cmd(&[
        "system",
        "register",
        "--name",
        "leak",
        "--resource",
        "ske-krav-og-betalinger",
    ]);
    let req = run.cmd(&["request", "create", "--customer-org", CUSTOMER]);
    run.cmd(&["sandbox", "approve", req["id"].as_str().expect("id")]);
    run.cmd(&["request", "status", "--wait", "--timeout", "30"]);
    run.cmd(&["token"]);
    run.cmd(&["token", "--system-user", "--fresh"]);
    run.cmd(&["call"]);
    run.cmd(&["doctor"]);
    run.cmd(&["profile", "show"]);

    // The secrets: the private key's PEM body, and every token in the (0600) cache.
    let pem = std::fs::read_to_string(key["private_key_path"].as_str().expect("key path"))
        .expect("key file");
    let key_chunks: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        // The first lines are the ASN.1 header (the same for every 2048-bit key, so it would
        // match the sandbox's own key) and the public modulus; the secret parts follow.
        .skip(7)
        .filter(|l| l.len() >= 40)
        .map(|l| l[..40].to_string())
        .collect();
    assert!(key_chunks.len() > 10, "the key file looks wrong");
    let cache = std::fs::read_to_string(run.home.path().join("data/cache/leak.tokens.json"))
        .expect("token cache");
    let cache: serde_json::Value = serde_json::from_str(&cache).expect("cache json");
    let _ = cache;
    let tokens: Vec<String> = run.tokens.iter().cloned().collect();
    assert!(
        tokens.len() >= 4,
        "expected several vendor and system-user tokens over the run, got {}",
        tokens.len()
    );
    // A token's signature is what makes it a credential; its header and claims are public.
    let signatures: Vec<String> = tokens
        .iter()
        .filter_map(|t| t.rsplit('.').next().map(str::to_string))
        .collect();

    let mut haystacks: Vec<(String, String)> =
        vec![("CLI output and logs".into(), run.transcript.clone())];
    let mut files = Vec::new();
    files_under(&run.home.path().join("config/profiles"), &mut files);
    files_under(&run.home.path().join("data/logs"), &mut files);
    files_under(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"),
        &mut files,
    );
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            haystacks.push((f.display().to_string(), text));
        }
    }
    // The sandbox's state holds its own signing key and the vendor's PUBLIC key only.
    if let Ok(state) = std::fs::read_to_string(run.home.path().join("data/sandbox-state.json")) {
        haystacks.push(("sandbox state".into(), state));
    }
    let mut hits = Vec::new();
    for (name, text) in &haystacks {
        for c in &key_chunks {
            if text.contains(c.as_str()) {
                hits.push(format!("private key material in {name}"));
            }
        }
        for s in &signatures {
            if text.contains(s.as_str()) {
                hits.push(format!("a token in {name}"));
            }
        }
    }
    hits.dedup();
    assert!(hits.is_empty(), "{hits:#?}");
    assert!(
        run.transcript.contains("TRACE") || run.transcript.contains("DEBUG"),
        "logging was not on: the test proves nothing"
    );

    // The key file and the cache are 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [
            PathBuf::from(key["private_key_path"].as_str().expect("path")),
            run.home.path().join("data/cache/leak.tokens.json"),
        ] {
            assert_eq!(
                std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777,
                0o600,
                "{}",
                p.display()
            );
        }
    }
}
