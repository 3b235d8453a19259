//! `--env custom` against a server that is NOT an altinn-onboard sandbox: a small
//! Maskinporten-compatible token server (JWT-bearer grants verified against the JWK the user
//! "uploaded in its portal"), metadata without the sandbox's self-identification, no
//! `/sandbox/...` admin API (unknown routes answer 404), a bare-bones Altinn register and
//! request API, and a reference API. The CLI must treat it like TT02: record the client id the
//! user gives, never call `/sandbox/...`, and get tokens and make the call.

use assert_cmd::Command;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const VENDOR: &str = "310904473";
const CUSTOMER: &str = "312345676";
const CLIENT_ID: &str = "0b7f4c43-5a4e-4c0a-9a51-6f0f3f0c2b11";
/// The server's own token key (HS256: only this server reads its tokens).
const SERVER_SECRET: &[u8] = b"custom-server-test-secret-not-a-real-one";

#[derive(Default)]
struct World {
    issuer: String,
    /// client id -> registered public JWKs ("uploaded in the portal").
    jwks: HashMap<String, Vec<Value>>,
    systems: HashMap<String, Value>,
    requests: HashMap<String, Value>,
    /// Every path asked for, to prove no `/sandbox/...` call was made.
    seen: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

fn lock(w: &Shared) -> std::sync::MutexGuard<'_, World> {
    w.lock().unwrap_or_else(|p| p.into_inner())
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// RFC 8414 metadata as Maskinporten publishes it: no `altinn_onboard_sandbox` member.
async fn metadata(State(w): State<Shared>) -> Json<Value> {
    let issuer = lock(&w).issuer.clone();
    Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}token"),
        "jwks_uri": format!("{issuer}jwk"),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
    }))
}

/// POST /token: the JWT-bearer grant, verified with the client's registered JWK (by `kid`).
async fn token(State(w): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error("unsupported_grant_type", "grant_type must be jwt-bearer");
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error("invalid_request", "Missing assertion");
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return oauth_error("invalid_request", "Invalid assertion (MP-011)");
    };
    let claims: Value = match jsonwebtoken::dangerous::insecure_decode::<Value>(assertion) {
        Ok(d) => d.claims,
        Err(_) => return oauth_error("invalid_request", "Invalid assertion (MP-011)"),
    };
    let issuer = lock(&w).issuer.clone();
    let client_id = claims["iss"].as_str().unwrap_or_default().to_string();
    let Some(keys) = lock(&w).jwks.get(&client_id).cloned() else {
        return oauth_error("invalid_client", "Client not found (MP-100)");
    };
    let Some(jwk) = keys
        .iter()
        .find(|k| header.kid.is_some() && k["kid"].as_str() == header.kid.as_deref())
    else {
        return oauth_error("invalid_grant", "Invalid key identifier (kid)");
    };
    let Ok(key) = DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    ) else {
        return oauth_error("invalid_grant", "Invalid key");
    };
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[issuer.as_str()]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    if jsonwebtoken::decode::<Value>(assertion, &key, &validation).is_err() {
        return oauth_error("invalid_grant", "Invalid signature or claims (MP-123)");
    }
    let now = chrono::Utc::now().timestamp();
    let scope = claims["scope"].as_str().unwrap_or_default().to_string();
    let mut out = json!({
        "iss": issuer, "client_id": client_id, "scope": scope, "iat": now, "exp": now + 120,
        "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")},
    });
    if let Some(details) = claims.get("authorization_details") {
        out["authorization_details"] = details.clone();
    }
    let access_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &out,
        &EncodingKey::from_secret(SERVER_SECRET),
    )
    .expect("sign");
    Json(json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 120, "scope": scope}))
        .into_response()
}

/// The claims of a token this server issued, or None.
fn bearer_claims(headers: &HeaderMap) -> Option<Value> {
    let raw = headers.get("authorization")?.to_str().ok()?;
    let token = raw.strip_prefix("Bearer ")?;
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(SERVER_SECRET), &v)
        .ok()
        .map(|d| d.claims)
}

/// 401 unless the caller has a token of this server.
fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    bearer_claims(headers)
        .is_none()
        .then(|| StatusCode::UNAUTHORIZED.into_response())
}

async fn get_system(
    State(w): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    match lock(&w).systems.get(&id) {
        Some(s) => Json(s.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn create_system(
    State(w): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let mut stored = body.clone();
    stored["isDeleted"] = json!(false);
    lock(&w).systems.insert(id, stored);
    Json(json!(uuid::Uuid::new_v4().to_string())).into_response()
}

async fn create_request(
    State(w): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut r = body.clone();
    r["id"] = json!(id);
    r["status"] = json!("New");
    r["externalRef"] = body
        .get("externalRef")
        .cloned()
        .unwrap_or(json!(body["partyOrgNo"]));
    lock(&w).requests.insert(id, r.clone());
    (StatusCode::CREATED, Json(r)).into_response()
}

/// The customer "approved" in this server's own UI: reads answer Accepted.
async fn get_request(
    State(w): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    match lock(&w).requests.get(&id) {
        Some(r) => {
            let mut r = r.clone();
            r["status"] = json!("Accepted");
            Json(r).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A reference API: who is calling, for a system-user token of this server.
async fn whoami(headers: HeaderMap) -> Response {
    match bearer_claims(&headers) {
        Some(c) if c.get("authorization_details").is_some() => Json(json!({
            "client_id": c["client_id"],
            "systemuser_org": c["authorization_details"][0]["systemuser_org"]["ID"],
        }))
        .into_response(),
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn record(
    State(w): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    lock(&w).seen.push(req.uri().path().to_string());
    next.run(req).await
}

struct TokenServer {
    base: String,
    world: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start the server on 127.0.0.1:0 in its own runtime thread.
fn start_token_server() -> TokenServer {
    let world: Shared = Arc::default();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let w = world.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            lock(&w).issuer = format!("http://{addr}/");
            const V1: &str = "/authentication/api/v1";
            let app = Router::new()
                .route("/.well-known/oauth-authorization-server", get(metadata))
                .route("/token", post(token))
                .route(&format!("{V1}/systemregister/vendor"), post(create_system))
                .route(
                    &format!("{V1}/systemregister/vendor/{{id}}"),
                    get(get_system),
                )
                .route(
                    &format!("{V1}/systemuser/request/vendor"),
                    post(create_request),
                )
                .route(
                    &format!("{V1}/systemuser/request/vendor/{{id}}"),
                    get(get_request),
                )
                .route("/reference/whoami", get(whoami))
                .layer(axum::middleware::from_fn_with_state(w.clone(), record))
                .with_state(w);
            addr_tx.send(addr).expect("send addr");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
        });
    });
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("server address");
    TokenServer {
        base: format!("http://{addr}"),
        world,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

fn cli(home: &std::path::Path, base: &str, extra: &[&str], code: i32) -> Value {
    let mp = format!("{base}/");
    let out = Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
        .env("ALTINN_ONBOARD_HOME", home)
        .env_remove("ALTINN_ONBOARD_PROFILE")
        .env_remove("ALTINN_ONBOARD_ENV")
        .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
        .env_remove("ALTINN_ONBOARD_ALTINN_URL")
        .args([
            "--profile",
            "custom",
            "--env",
            "custom",
            "--maskinporten-url",
            &mp,
            "--altinn-url",
            base,
        ])
        .args(extra)
        .arg("--json")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{extra:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{extra:?}: not JSON ({e}): {stdout}"))
}

#[test]
fn custom_environment_against_a_plain_token_server() {
    let server = start_token_server();
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let base = server.base.clone();

    cli(h, &base, &["keys", "generate"], 0);
    // "Upload the JWK in the server's portal": the server learns the public key for CLIENT_ID.
    let jwks = cli(h, &base, &["keys", "show", "--jwks"], 0);
    lock(&server.world).jwks.insert(
        CLIENT_ID.into(),
        jwks["keys"].as_array().expect("keys").clone(),
    );

    // Without a client id nothing can be registered there: a clear refusal, not "no admin API".
    let refused = cli(h, &base, &["client", "set", "--vendor-org", VENDOR], 1);
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not an altinn-onboard sandbox"),
        "{refused}"
    );

    let client = cli(
        h,
        &base,
        &[
            "client",
            "set",
            "--vendor-org",
            VENDOR,
            "--client-id",
            CLIENT_ID,
            "--confirm-uploaded",
        ],
        0,
    );
    assert_eq!(client["client_id"], CLIENT_ID, "{client}");
    assert_eq!(client["registered"], true, "{client}");

    let tok = cli(h, &base, &["token", "--fresh"], 0);
    assert_eq!(tok["claims"]["client_id"], CLIENT_ID, "{tok}");

    let sys = cli(
        h,
        &base,
        &[
            "system",
            "register",
            "--name",
            "plainsrv",
            "--resource",
            "ske-krav-og-betalinger",
            "--redirect-url",
            "https://Vendor.example",
        ],
        0,
    );
    assert_eq!(sys["id"], format!("{VENDOR}_plainsrv"), "{sys}");
    // Stored as sent: the client already sends the canonical form of the redirect URL.
    let stored = lock(&server.world).systems[&format!("{VENDOR}_plainsrv")].clone();
    assert_eq!(
        stored["allowedRedirectUrls"],
        json!(["https://vendor.example/"])
    );
    let again = cli(
        h,
        &base,
        &[
            "system",
            "register",
            "--name",
            "plainsrv",
            "--resource",
            "ske-krav-og-betalinger",
            "--redirect-url",
            "https://Vendor.example",
        ],
        0,
    );
    assert_eq!(again["unchanged"], true, "{again}");

    let req = cli(
        h,
        &base,
        &["request", "create", "--customer-org", CUSTOMER],
        0,
    );
    assert_eq!(req["status"], "New", "{req}");
    let status = cli(h, &base, &["request", "status"], 0);
    assert_eq!(status["status"], "Accepted", "{status}");

    let call = cli(h, &base, &["call"], 0);
    assert_eq!(call["status"], 200, "{call}");
    let body = serde_json::to_string(&call).unwrap_or_default();
    assert!(
        body.contains(CUSTOMER),
        "the reference API saw the system user: {body}"
    );

    // Not once did the CLI try the sandbox's admin API.
    let seen = lock(&server.world).seen.clone();
    assert!(seen.iter().all(|p| !p.starts_with("/sandbox")), "{seen:?}");
    assert!(
        seen.iter()
            .any(|p| p == "/.well-known/oauth-authorization-server"),
        "{seen:?}"
    );
}
