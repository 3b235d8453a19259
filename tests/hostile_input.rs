//! Hostile input: every parser gets arbitrary and mutated input and must answer with a value or
//! a typed error, never a panic (and the sandbox never a 5xx). Property tests (proptest) rather
//! than cargo-fuzz so they run in CI on stable; longer runs: `PROPTEST_CASES=100000 cargo test
//! --release --test hostile_input`.

use altinn_onboard::altinn::model::{RequestInfo, RequestStatus, SystemRegistration};
use altinn_onboard::altinn::problem::{ProblemDetails, hint_for};
use altinn_onboard::keys::KeyPair;
use altinn_onboard::maskinporten::{HintContext, OAuthError, TokenResponse, oauth_hint};
use altinn_onboard::profile::ProfileStore;
use altinn_onboard::secret::jwt_claims_unverified;
use altinn_onboard::validate;
use proptest::prelude::*;
use std::sync::OnceLock;

/// JSON-ish text: arbitrary strings are mostly rejected by the first byte; these reach deeper.
fn jsonish() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "[a-zA-Z0-9:._ -]{0,12}".prop_map(|s| format!("{s:?}")),
    ];
    let keys = prop_oneof![
        Just("type"),
        Just("title"),
        Just("status"),
        Just("code"),
        Just("detail"),
        Just("validationErrors"),
        Just("errors"),
        Just("paths"),
        Just("error"),
        Just("error_description"),
        Just("access_token"),
        Just("expires_in"),
        Just("scope"),
        Just("id"),
        Just("version"),
        Just("name"),
        Just("requests"),
        Just("environment"),
        Just("kty"),
        Just("n"),
        Just("e"),
        Just("d"),
        Just("p"),
        Just("q"),
        Just("keys"),
        Just("systemId"),
        Just("partyOrgNo"),
        Just("rights"),
        Just("resource"),
        Just("vendor"),
        Just("ID"),
        Just("timedOut"),
        Just("created_at"),
        Just("updated_at"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("{k:?}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        ]
    })
}

/// Valid documents cut or with a byte flipped.
fn mutated(seed: &'static str) -> impl Strategy<Value = String> {
    (0..seed.len(), any::<u8>(), any::<bool>()).prop_map(move |(at, byte, cut)| {
        let mut b = seed.as_bytes().to_vec();
        if cut {
            b.truncate(at);
        } else {
            b[at] = byte;
        }
        String::from_utf8_lossy(&b).into_owned()
    })
}

fn valid_key_texts() -> &'static (String, String) {
    static K: OnceLock<(String, String)> = OnceLock::new();
    K.get_or_init(|| {
        let k =
            KeyPair::generate(altinn_onboard::keys::KeyBits::B2048, Some("k".into())).expect("key");
        let pem = k.private_pkcs8_pem().to_string();
        let jwk = serde_json::to_string(&k.public_jwk()).expect("jwk");
        (pem, jwk)
    })
}

const PROBLEM: &str = r#"{"type":"urn:altinn:error:STD-00000","title":"One or more validation errors occurred.","status":400,"code":"STD-00000","validationErrors":[{"code":"AUTH.VLD-00004","title":"t","paths":["/registersystemrequest/clientid"]}]}"#;
const REQUEST: &str = r#"{"id":"bb4955d4-6c44-4716-841c-911205dadade","externalRef":"310904473","systemId":"991825827_x","partyOrgNo":"310904473","rights":[{"resource":[{"id":"urn:altinn:resource","value":"abcd"}]}],"status":"New","confirmUrl":"https://x/","timedOut":false}"#;
const PROFILE: &str = r#"{"version":1,"name":"p","environment":{"kind":"sandbox"},"vendor_org":"310904473","scopes":["a:b"],"requests":[{"id":"x","customer_org":"312345676","status":"New","created_at":"2026-01-01T00:00:00Z"}],"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#;

fn exercise_problem(text: &str) {
    if let Ok(p) = serde_json::from_str::<ProblemDetails>(text) {
        let _ = p.to_string();
        let _ = hint_for(&p);
    }
}

fn exercise_oauth(text: &str) {
    if let Ok(e) = serde_json::from_str::<OAuthError>(text) {
        let _ = oauth_hint(
            &e,
            &HintContext {
                clock_offset: Some(-30),
                ..Default::default()
            },
        );
    }
    let _ = serde_json::from_str::<TokenResponse>(text);
}

proptest! {
    #[test]
    fn remote_bodies_never_panic(text in prop_oneof![jsonish(), any::<String>(), mutated(PROBLEM), mutated(REQUEST)]) {
        exercise_problem(&text);
        exercise_oauth(&text);
        if let Ok(r) = serde_json::from_str::<RequestInfo>(&text) {
            let _ = r.effective_status();
        }
        let _ = serde_json::from_str::<SystemRegistration>(&text);
        let _ = RequestStatus::parse(&text);
        let _ = jwt_claims_unverified(&text);
        let _ = altinn_onboard::runner::redact_tokens(&text);
    }

    #[test]
    fn validators_never_panic(s in any::<String>()) {
        let _ = validate::org_number(&s);
        let _ = validate::client_id(&s);
        let _ = validate::kid(&s);
        let _ = validate::scopes(&s);
        let _ = validate::system_name(&s);
        let _ = validate::https_url(&s);
        let _ = validate::resource_id(&s);
        let _ = validate::access_package(&s);
        let _ = validate::external_ref(&s);
        let _ = validate::profile_name(&s);
        let _ = validate::uuid(&s);
    }

    #[test]
    fn key_import_never_panics(text in prop_oneof![
        any::<String>(),
        jsonish(),
        (0..2usize, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(which, at, byte)| {
            let (pem, jwk) = valid_key_texts();
            let src = if which == 0 { pem } else { jwk };
            let mut b = src.as_bytes().to_vec();
            let i = at.index(b.len());
            b[i] = byte;
            String::from_utf8_lossy(&b).into_owned()
        }),
    ]) {
        let _ = KeyPair::import(&text, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn profile_files_never_panic(text in prop_oneof![jsonish(), any::<String>(), mutated(PROFILE)]) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProfileStore::at(dir.path());
        let path = store.profile_path("p");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, &text).expect("write");
        if store.load("p").is_err() {
            // A damaged file is reported and left exactly as it was.
            prop_assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
        }
    }
}

/// The sandbox's grant verification and request bodies: arbitrary input is a 4xx, never a 5xx
/// or a dead server.
#[test]
fn sandbox_never_answers_5xx_to_garbage() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = rt
        .block_on(altinn_onboard::sandbox::start(Default::default()))
        .expect("sandbox");
    let base = sandbox.base_url();
    let http = reqwest::Client::new();
    // A real vendor token, so request bodies get past authentication and are parsed.
    let token = rt.block_on(vendor_token(&sandbox));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    let strategy = (
        prop_oneof![jsonish(), any::<String>(), mutated(REQUEST)],
        0..6usize,
    );
    runner
        .run(&strategy, |(text, route)| {
            let status = rt.block_on(async {
                let rb = match route {
                    0 => http.post(format!("{base}/token")).form(&[
                        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                        ("assertion", text.as_str()),
                    ]),
                    1 => http
                        .post(format!("{base}/token"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(text.clone()),
                    2 => http
                        .post(format!("{base}/sandbox/clients"))
                        .header("content-type", "application/json")
                        .body(text.clone()),
                    3 => http
                        .post(format!(
                            "{base}/authentication/api/v1/systemuser/request/vendor"
                        ))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(text.clone()),
                    4 => http
                        .post(format!(
                            "{base}/authentication/api/v1/systemregister/vendor"
                        ))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(text.clone()),
                    _ => http
                        .get(format!("{base}/reference/whoami"))
                        .bearer_auth(text.replace(['\r', '\n'], "")),
                };
                rb.send().await.map(|r| r.status().as_u16())
            });
            match status {
                Ok(s) if (route == 3 || route == 4) && s == 401 => {
                    prop_assert!(false, "the token was refused, so the body was never parsed")
                }
                Ok(s) => prop_assert!(
                    s < 500,
                    "HTTP {} for route {} and input {:?}",
                    s,
                    route,
                    text
                ),
                // A header value reqwest itself refuses to send is not the server's fault.
                // Anything else (a dropped connection) would be a panicking handler.
                Err(e) => prop_assert!(e.is_builder(), "{e}"),
            }
            Ok(())
        })
        .expect("no 5xx");
    // Still serving.
    let ok = rt
        .block_on(
            http.get(format!("{base}/.well-known/oauth-authorization-server"))
                .send(),
        )
        .expect("alive");
    assert!(ok.status().is_success());
    rt.block_on(sandbox.shutdown());
}

/// A Maskinporten token of a sandbox client with the vendor scopes.
async fn vendor_token(sandbox: &altinn_onboard::sandbox::SandboxHandle) -> String {
    use altinn_onboard::env::{EnvKind, Environment};
    use altinn_onboard::maskinporten::{
        ClientCredentials, MaskinportenClient, TokenCache, TokenRequest,
    };
    let env = Environment::from_parts(EnvKind::Sandbox, &sandbox.issuer(), &sandbox.base_url())
        .expect("env");
    let key = KeyPair::generate(altinn_onboard::keys::KeyBits::B2048, None).expect("key");
    let scopes: Vec<String> = altinn_onboard::altinn::client::VENDOR_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let portal = altinn_onboard::portal::SandboxPortal::new(&env, reqwest::Client::new());
    let client_id = portal
        .register_client(None, "310904473", &scopes, &key)
        .await
        .expect("client");
    let mp = MaskinportenClient::new(
        &env,
        reqwest::Client::new(),
        std::sync::Arc::new(TokenCache::in_memory()),
    );
    let creds = ClientCredentials {
        client_id,
        key: std::sync::Arc::new(key),
    };
    let t = mp
        .token(
            &creds,
            &TokenRequest {
                scopes,
                ..Default::default()
            },
            true,
        )
        .await
        .expect("token");
    t.token.expose().to_string()
}
