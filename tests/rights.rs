//! The rights domain against the in-process sandbox's catalogue (search, pick, pre-flight,
//! cache and offline fallback), and `rights search` / `rights check` / the pre-flight of
//! `system register` and `request create` end to end on the embedded sandbox.

use altinn_onboard::env::{EnvKind, Environment};
use altinn_onboard::http::RetryPolicy;
use altinn_onboard::profile::{RequestKind, SystemSpec};
use altinn_onboard::rights::{
    MetadataClient, Outcome, Purpose, RightKind, RightsError, SearchKind, Source, preflight,
    preflight_lookup,
};
use altinn_onboard::sandbox::{self, SandboxConfig};
use assert_cmd::Command;
use serde_json::Value;

fn env_at(base: &str) -> Environment {
    Environment::from_parts(EnvKind::Sandbox, &format!("{base}/"), base).expect("env")
}

/// A loopback port nobody listens on (bound, then released).
fn dead_base() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

fn client(base: &str, cache: Option<&std::path::Path>) -> MetadataClient {
    let env = env_at(base);
    let c = MetadataClient::new(&env, altinn_onboard::http::client().expect("http"))
        .with_retry(RetryPolicy::none());
    match cache {
        Some(root) => c.with_default_cache(root, &env),
        None => c,
    }
}

fn spec(rights: &[&str], packages: &[&str], visible: bool) -> SystemSpec {
    let mut s = SystemSpec::simple("s", "S", "S");
    s.rights = rights.iter().map(|r| r.to_string()).collect();
    s.access_packages = packages.iter().map(|r| r.to_string()).collect();
    s.is_visible = visible;
    s
}

#[tokio::test]
async fn search_and_pick_from_the_sandbox_catalogue() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let base = sb.base_url();
    let c = client(&base, None);

    let found = c
        .search("krav", SearchKind::Resources)
        .await
        .expect("search");
    assert_eq!(found.source, Source::Network);
    let krav = found
        .candidates
        .iter()
        .find(|r| r.id == "ske-krav-og-betalinger")
        .expect("ske-krav-og-betalinger found by its name");
    assert_eq!(krav.kind, RightKind::Resource);
    assert_eq!(krav.name.nb, "Krav og betalinger");
    assert_eq!(
        krav.owner.as_ref().and_then(|o| o.code.as_deref()),
        Some("skd")
    );
    assert_eq!(krav.resource_type.as_deref(), Some("GenericAccessResource"));
    assert!(krav.standard().is_yes() && krav.agent().is_no());
    // Search by owner: the MaskinportenSchema resource, which no system user can hold.
    let mp = c
        .search("maskinportenschema", SearchKind::Resources)
        .await
        .expect("search");
    let mp = mp
        .candidates
        .iter()
        .find(|r| r.id == "skd-maskinportenschemaid-8")
        .expect("found by id");
    assert!(mp.standard().is_no());

    let pkgs = c
        .search("skatt", SearchKind::Packages)
        .await
        .expect("packages");
    let skatt = pkgs
        .candidates
        .iter()
        .find(|p| p.id == "urn:altinn:accesspackage:skatt-naering")
        .expect("skatt-naering");
    assert_eq!(
        (skatt.delegable, skatt.assignable),
        (Some(true), Some(true))
    );
    assert_eq!(
        skatt.area.as_ref().map(|a| a.urn.as_str()),
        Some("accesspackage:area:skatt_avgift_regnskap_og_toll")
    );
    // 204 for a term nothing matches: an empty list, not an error.
    let none = c
        .search("zzqqxx-nothing", SearchKind::Packages)
        .await
        .expect("204");
    assert!(none.candidates.is_empty());

    // Pick: resolve by id, by package code, and the package's resources.
    let (r, _) = c
        .resource("urn:altinn:resource:ske-krav-og-betalinger")
        .await
        .unwrap();
    assert_eq!(r.map(|r| r.id).as_deref(), Some("ske-krav-og-betalinger"));
    let (p, _) = c.package("skatt-naering").await.unwrap();
    let p = p.expect("package by code");
    assert_eq!(p.urn, "urn:altinn:accesspackage:skatt-naering");
    let (res, _) = c
        .package_resources(p.package_id.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        res.iter().any(|r| r.id == "ske-krav-og-betalinger"),
        "{res:?}"
    );
    assert!(c.resource("no-such-resource").await.unwrap().0.is_none());
    assert!(c.package("skattnaering").await.unwrap().0.is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn preflight_refuses_what_the_sandbox_refuses() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let c = client(&sb.base_url(), None);
    let s = spec(
        &[
            "ske-krav-og-betalinger",
            "skd-maskinportenschemaid-8",
            "eformidling-dpo-meldingsutveksling",
            "no-such-resource",
        ],
        &[
            "urn:altinn:accesspackage:skatt-naering",
            "urn:altinn:accesspackage:regnskapsforer-lonn",
        ],
        true,
    );
    let lookup = c.resolve(&s).await;
    assert_eq!(lookup.not_found, ["no-such-resource"]);
    assert!(lookup.unchecked.is_empty() && lookup.note.is_none());

    let reg = preflight_lookup(&s, Purpose::Register, &lookup);
    let refused: Vec<(&str, &str)> = reg
        .refused()
        .map(|f| (f.subject.as_str(), f.code.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        refused,
        [
            ("skd-maskinportenschemaid-8", "AUTH.VLD-00017"),
            ("eformidling-dpo-meldingsutveksling", "AUTH-00070"),
            ("no-such-resource", "AUTH.VLD-00003"),
            (
                "urn:altinn:accesspackage:regnskapsforer-lonn",
                "AUTH.VLD-00018"
            ),
        ]
    );
    let msg = reg.refusal_message();
    assert!(
        msg.contains("MaskinportenSchema") && msg.contains("not delegable"),
        "{msg}"
    );

    // A standard request: the client-only package is AUTH-00064; an agent request takes it.
    let s = spec(
        &[],
        &["urn:altinn:accesspackage:regnskapsforer-lonn"],
        false,
    );
    let std = preflight(&s, Purpose::Request(RequestKind::Standard), &lookup.found);
    let f = std.refused().next().expect("refused");
    assert_eq!(f.code.as_deref(), Some("AUTH-00064"));
    assert!(
        f.reason
            .contains("client-only package in a standard request")
    );
    assert!(f.fix.as_deref().unwrap_or("").contains("--agent"));
    assert!(!preflight(&s, Purpose::Request(RequestKind::Agent), &lookup.found).is_refused());

    // An agent request with an assignable-only package: AUTH-00065.
    let s = spec(&[], &["urn:altinn:accesspackage:hovedadministrator"], false);
    let l = c.resolve(&s).await;
    let agent = preflight_lookup(&s, Purpose::Request(RequestKind::Agent), &l);
    assert_eq!(agent.first_code(), Some("AUTH-00065"));
    sb.shutdown().await;
}

#[tokio::test]
async fn cache_serves_fresh_answers_and_the_offline_fallback() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let cache = tempfile::tempdir().unwrap();
    let online = client(&sb.base_url(), Some(cache.path()));
    let first = online.search("krav", SearchKind::Resources).await.unwrap();
    assert_eq!(first.source, Source::Network);
    let again = online.search("krav", SearchKind::Resources).await.unwrap();
    assert!(
        matches!(again.source, Source::Cache { offline: false, .. }),
        "a fresh entry is used without asking: {:?}",
        again.source
    );
    online
        .resolve(&spec(&["ske-krav-og-betalinger"], &[], true))
        .await;
    sb.shutdown().await;

    // A second client at a dead port with the warm cache (a zero lifetime: every entry is
    // stale, so it must ask, fail, and fall back).
    let env = env_at(&dead_base());
    let offline = MetadataClient::new(&env, altinn_onboard::http::client().unwrap())
        .with_retry(RetryPolicy::none())
        .with_cache(cache.path(), &env, std::time::Duration::ZERO);
    let r = offline
        .search("krav", SearchKind::Resources)
        .await
        .expect("from cache");
    assert_eq!(r.candidates, first.candidates);
    assert!(matches!(r.source, Source::Cache { offline: true, .. }));
    let note = r.source.note().expect("note");
    assert!(
        note.starts_with("offline: results from cache of "),
        "{note}"
    );
    let lookup = offline
        .resolve(&spec(&["ske-krav-og-betalinger"], &[], true))
        .await;
    assert_eq!(lookup.found.len(), 1);
    assert!(lookup.note.as_deref().unwrap_or("").starts_with("offline:"));

    // Neither network nor cache: a clear error, and a pre-flight that could not check.
    let cold = client(&dead_base(), Some(tempfile::tempdir().unwrap().path()));
    let e = cold
        .search("krav", SearchKind::Resources)
        .await
        .expect_err("nothing to serve");
    assert!(matches!(e, RightsError::Unavailable { .. }));
    assert!(e.to_string().contains("no cached copy"), "{e}");
    let s = spec(&["ske-krav-og-betalinger"], &["skatt-naering"], true);
    let lookup = cold.resolve(&s).await;
    assert_eq!(lookup.unchecked.len(), 2);
    let report = preflight_lookup(&s, Purpose::Register, &lookup);
    assert!(!report.is_refused(), "the service decides");
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.outcome == Outcome::Unchecked)
    );
    assert!(report.notes().iter().any(|n| n.contains("could not check")));
}

// ---------------------------------------------------------------------------------------------
// The CLI on the embedded sandbox
// ---------------------------------------------------------------------------------------------

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Self {
        Home(tempfile::tempdir().expect("tempdir"))
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
            .env("ALTINN_ONBOARD_HOME", self.0.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .env_remove("ALTINN_ONBOARD_LOG")
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    fn json(&self, args: &[&str], code: i32) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let (c, out, err) = self.run(&a);
        assert_eq!(c, code, "{args:?}\nstdout: {out}\nstderr: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    fn onboard(&self) {
        self.json(&["keys", "generate"], 0);
        self.json(&["client", "set", "--vendor-org", "310904473"], 0);
    }
}

#[test]
fn cli_rights_search_and_check() {
    let h = Home::new();
    let (code, out, _) = h.run(&["rights", "search", "krav"]);
    assert_eq!(code, 0);
    let header = out.lines().next().unwrap_or("");
    for col in [
        "NAME",
        "ID",
        "OWNER",
        "TYPE",
        "DELEGABLE",
        "STANDARD",
        "AGENT",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(
        out.contains("ske-krav-og-betalinger") && out.contains("skd"),
        "{out}"
    );

    let mut v = h.json(&["rights", "search", "krav"], 0);
    v["source"]["fetched_at"] = "[time]".into();
    insta::assert_json_snapshot!("rights_search_krav", v);
    let v = h.json(
        &["rights", "search", "--packages", "regnskapsfører lønn"],
        0,
    );
    let lonn = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "urn:altinn:accesspackage:regnskapsforer-lonn")
        .expect("regnskapsforer-lonn");
    assert_eq!(lonn["standard"], "no");
    assert_eq!(lonn["standard_code"], "AUTH-00064");
    assert_eq!(lonn["agent"], "yes");

    // No system yet: a usage error naming the fix.
    let (code, _, err) = h.run(&["rights", "check"]);
    assert_eq!(code, 1);
    assert!(err.contains("system register"), "{err}");

    h.onboard();
    h.json(
        &[
            "system",
            "register",
            "--name",
            "rights1",
            "--resource",
            "ske-krav-og-betalinger",
            "--access-package",
            "urn:altinn:accesspackage:skatt-naering",
        ],
        0,
    );
    let v = h.json(&["rights", "check"], 0);
    assert_eq!(v["ok"], true);
    insta::assert_json_snapshot!("rights_check_ok", v);

    // A resource that registers but cannot be approved (delegable: false), sent past the
    // pre-flight: `rights check` now refuses it and exits 1.
    h.json(
        &[
            "system",
            "register",
            "--name",
            "rights1",
            "--resource",
            "eformidling-dpo-meldingsutveksling",
            "--resource",
            "ske-krav-og-betalinger",
            "--no-preflight",
        ],
        0,
    );
    let v = h.json(&["rights", "check"], 1);
    assert_eq!(v["ok"], false);
    insta::assert_json_snapshot!("rights_check_refused", v);
}

#[test]
fn cli_preflight_refuses_before_anything_is_sent() {
    let h = Home::new();
    h.onboard();
    // MaskinportenSchema: refused by the pre-flight with the register's own code, exit 1.
    let v = h.json(
        &[
            "system",
            "register",
            "--name",
            "pf",
            "--resource",
            "skd-maskinportenschemaid-8",
        ],
        1,
    );
    assert_eq!(v["error"]["code"], "AUTH.VLD-00017");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was sent")
    );
    // Nothing was sent: the embedded sandbox's state (its system register) has no such system.
    let state = std::fs::read_to_string(h.0.path().join("data").join("sandbox-state.json"))
        .expect("the embedded sandbox's state");
    assert!(state.contains("310904473"), "the client is in the state");
    assert!(!state.contains("310904473_pf"), "no system was registered");
    // --no-preflight sends it; the sandbox answers the same code (exit 2: the remote said no).
    let v = h.json(
        &[
            "system",
            "register",
            "--name",
            "pf",
            "--resource",
            "skd-maskinportenschemaid-8",
            "--no-preflight",
        ],
        2,
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AUTH.VLD-00017"),
        "{v}"
    );

    // A client-only package on an (invisible) system: a standard request is refused before
    // sending (AUTH-00064, with the fix), an agent request goes through.
    h.json(
        &[
            "system",
            "register",
            "--name",
            "pf",
            "--access-package",
            "urn:altinn:accesspackage:regnskapsforer-lonn",
            "--invisible",
        ],
        0,
    );
    let v = h.json(&["request", "create", "--customer-org", "312345676"], 1);
    assert_eq!(v["error"]["code"], "AUTH-00064");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("client-only package in a standard request"),
        "{msg}"
    );
    let (code, out, _) = h.run(&["request", "list", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "[]", "no request was created");
    let v = h.json(
        &[
            "request",
            "create",
            "--customer-org",
            "312345676",
            "--agent",
        ],
        0,
    );
    assert_eq!(v["status"], "New");

    // Mixed owners: a warning on stderr, the registration (an update) goes through.
    let (code, _, err) = h.run(&[
        "system",
        "register",
        "--name",
        "pf",
        "--resource",
        "ske-krav-og-betalinger",
        "--resource",
        "ttd_systembruker-salary",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("pre-flight warning") && err.contains("all or nothing"),
        "{err}"
    );
}
