//! The HTTP side of `tokens serve`: texas-compatible routes, the caller secret, loopback only.
//!
//! Routes (all POST, all need `Authorization: Bearer <secret>`):
//! - `/api/v1/token`: body (JSON, or `application/x-www-form-urlencoded`)
//!   `identity_provider` = `maskinporten` (required, as in texas), `target` = space-separated
//!   scopes (required), and for a system-user token EITHER `authorization_details` (texas/
//!   Maskinporten shape: an array with one `{"type":"urn:altinn:systemuser","systemuser_org":
//!   {"authority":"iso6523-actorid-upis","ID":"0192:<orgno>"},"externalRef"?}`; in a form, that
//!   array as a JSON string) OR the convenience fields `customer_org` (9 digits) and optional
//!   `external_ref`. Optional `skip_cache` (texas) and `altinn_exchange` (bool, or "true").
//!   Answers `{"access_token","expires_in","token_type":"Bearer"}`.
//! - `/api/v1/token/exchange`: the same body, and the answer is the Altinn token exchanged for
//!   the Maskinporten token (`GET {altinn}/authentication/api/v1/exchange/maskinporten`).
//!   Note: texas uses this path for user-token exchange; here it is Altinn's exchange.
//! - `/api/v1/introspect`: `{"token": "..."}` -> `{"active": true, ...claims}` or
//!   `{"active": false, "error": "..."}`.
//!
//! Errors are `{"error","error_description"}` with 400 (the request) or 500 (upstream), as
//! texas answers; 401 without the right secret.

use crate::maskinporten::{ORG_AUTHORITY, SYSTEM_USER_TYPE, SystemUserTarget};
use crate::secret::Secret;
use crate::tokens::service::{ServiceError, TokenService, Want};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

struct AppState {
    service: Arc<TokenService>,
    /// SHA-256 of the secret: comparing digests keeps the comparison constant-time whatever
    /// the length of what a caller sends.
    secret_digest: [u8; 32],
}

/// A running token service.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, let requests in flight finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
}

/// Refuse a non-loopback bind unless the user said so: the service hands out tokens to anyone
/// who has the secret, and on a shared network the secret is all that stands in the way.
pub fn bind_allowed(addr: &SocketAddr, allow_non_loopback: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || allow_non_loopback {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {}: it is not a loopback address, so other machines could ask for \
         tokens acting as your customers' system users. Use 127.0.0.1 (the default), or pass \
         --allow-non-loopback if you really mean to share it (callers still need the secret).",
        addr.ip()
    ))
}

/// A new random caller secret: 32 bytes from the OS, base64url.
pub fn generate_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Read the caller secret from a file that only its owner can read (0600 or stricter).
pub fn read_secret_file(path: &Path) -> Result<Secret, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the secret file {} has mode {mode:o}; others could read it. Run `chmod 600 {}`.",
                path.display(),
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
    let s = text.trim();
    if s.len() < 16 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the secret in {} must be one line of at least 16 characters without spaces",
            path.display()
        ));
    }
    Ok(Secret::new(s))
}

/// Serve on `listener` until the handle is shut down.
pub async fn start(
    service: Arc<TokenService>,
    secret: &Secret,
    listener: tokio::net::TcpListener,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState {
        service,
        secret_digest: Sha256::digest(secret.expose().as_bytes()).into(),
    });
    let app = Router::new()
        .route("/api/v1/token", post(token))
        .route("/api/v1/token/exchange", post(token_exchange))
        .route("/api/v1/introspect", post(introspect))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_secret,
        ))
        .with_state(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "token service stopped");
        }
    });
    Ok(ServerHandle {
        addr,
        stop: Some(tx),
        task,
    })
}

fn error(status: u16, error: &str, description: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn require_secret(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, s)| s.trim());
    let ok = presented.is_some_and(|s| {
        let digest: [u8; 32] = Sha256::digest(s.as_bytes()).into();
        bool::from(digest.ct_eq(&state.secret_digest))
    });
    if !ok {
        tracing::warn!(%peer, path = %req.uri().path(), presented = presented.is_some(), "refused a caller without the right secret");
        let mut resp = error(
            401,
            "unauthorized",
            "send the secret printed by `tokens serve` as Authorization: Bearer <secret>",
        );
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return resp;
    }
    next.run(req).await
}

/// The body as a JSON object, whether it came as JSON or as a form.
fn body_fields(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ServiceError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    // curl -d and many clients label JSON as a form; a body that starts with `{` is JSON.
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if form && !looks_json {
        Ok(url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ServiceError::invalid_request(
                "the body must be a JSON object",
            )),
            Err(e) => Err(ServiceError::invalid_request(format!(
                "the body is not JSON: {e}"
            ))),
        }
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ServiceError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(ServiceError::invalid_request(format!(
            "{name} must be a string"
        ))),
    }
}

fn bool_field(m: &Map<String, Value>, name: &str) -> Result<bool, ServiceError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        Some(_) => Err(ServiceError::invalid_request(format!(
            "{name} must be true or false"
        ))),
    }
}

fn org_from_id(id: &str) -> Result<String, ServiceError> {
    let org = id.strip_prefix("0192:").ok_or_else(|| {
        ServiceError::invalid_request(format!(
            "systemuser_org.ID must be 0192:<organisation number>, not `{id}`"
        ))
    })?;
    crate::validate::org_number(org).map_err(|e| ServiceError::invalid_request(e.to_string()))
}

/// `authorization_details` as Maskinporten takes it: one `urn:altinn:systemuser` entry.
fn system_user_from_details(v: &Value) -> Result<SystemUserTarget, ServiceError> {
    let parsed;
    let v = match v {
        // A form can only carry it as a JSON string.
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| {
                ServiceError::invalid_request(format!("authorization_details is not JSON: {e}"))
            })?;
            &parsed
        }
        other => other,
    };
    let items = match v {
        Value::Array(a) => a.as_slice(),
        Value::Object(_) => std::slice::from_ref(v),
        _ => {
            return Err(ServiceError::invalid_request(
                "authorization_details must be an array of objects",
            ));
        }
    };
    let [d] = items else {
        return Err(ServiceError::invalid_request(
            "authorization_details must hold exactly one urn:altinn:systemuser entry",
        ));
    };
    if d["type"] != SYSTEM_USER_TYPE {
        return Err(ServiceError::invalid_request(format!(
            "authorization_details[0].type must be {SYSTEM_USER_TYPE}"
        )));
    }
    let org = &d["systemuser_org"];
    if org["authority"] != ORG_AUTHORITY {
        return Err(ServiceError::invalid_request(format!(
            "systemuser_org.authority must be {ORG_AUTHORITY}"
        )));
    }
    // Maskinporten spells it `ID`; accept `id` too, as tokens echo it.
    let id = org["ID"]
        .as_str()
        .or(org["id"].as_str())
        .ok_or_else(|| ServiceError::invalid_request("systemuser_org.ID is missing"))?;
    let external_ref = match &d["externalRef"] {
        Value::Null => None,
        Value::String(s) => Some(
            crate::validate::external_ref(s)
                .map_err(|e| ServiceError::invalid_request(e.to_string()))?,
        ),
        _ => {
            return Err(ServiceError::invalid_request(
                "externalRef must be a string",
            ));
        }
    };
    Ok(SystemUserTarget {
        customer_org: org_from_id(id)?,
        external_ref,
    })
}

/// Parse a token request (see the module docs for what is accepted).
pub fn parse_token_request(m: &Map<String, Value>) -> Result<Want, ServiceError> {
    match str_field(m, "identity_provider")? {
        Some("maskinporten") => {}
        Some(other) => {
            return Err(ServiceError::invalid_request(format!(
                "identity_provider `{other}` is not supported here: only maskinporten"
            )));
        }
        None => {
            return Err(ServiceError::invalid_request(
                "identity_provider is required (maskinporten)",
            ));
        }
    }
    let target = str_field(m, "target")?.ok_or_else(|| {
        ServiceError::invalid_request("target is required: the space-separated scopes")
    })?;
    let scopes = crate::validate::scopes(target)
        .map_err(|e| ServiceError::invalid_request(e.to_string()))?;
    let from_details = match m.get("authorization_details") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(system_user_from_details(v)?),
    };
    let customer = str_field(m, "customer_org")?;
    let external_ref = str_field(m, "external_ref")?;
    let system_user = match (from_details, customer) {
        (Some(_), Some(_)) => {
            return Err(ServiceError::invalid_request(
                "give either authorization_details or customer_org, not both",
            ));
        }
        (Some(t), None) => {
            if external_ref.is_some() {
                return Err(ServiceError::invalid_request(
                    "with authorization_details, put externalRef inside it",
                ));
            }
            Some(t)
        }
        (None, Some(org)) => Some(SystemUserTarget {
            customer_org: crate::validate::org_number(org)
                .map_err(|e| ServiceError::invalid_request(e.to_string()))?,
            external_ref: external_ref
                .map(crate::validate::external_ref)
                .transpose()
                .map_err(|e| ServiceError::invalid_request(e.to_string()))?,
        }),
        (None, None) => {
            if external_ref.is_some() {
                return Err(ServiceError::invalid_request(
                    "external_ref needs customer_org",
                ));
            }
            None
        }
    };
    Ok(Want {
        scopes,
        system_user,
        altinn_exchange: bool_field(m, "altinn_exchange")?,
        skip_cache: bool_field(m, "skip_cache")?,
    })
}

async fn token(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue(state, peer, headers, body, false).await
}

async fn token_exchange(
    state: State<Arc<AppState>>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue(state, peer, headers, body, true).await
}

async fn issue(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
    force_exchange: bool,
) -> Response {
    let want = body_fields(&headers, &body).and_then(|m| parse_token_request(&m));
    let mut want = match want {
        Ok(w) => w,
        Err(e) => {
            tracing::info!(%peer, outcome = "bad_request", reason = %e.description, "token request refused");
            return error(e.status, &e.error, &e.description);
        }
    };
    want.altinn_exchange |= force_exchange;
    let scopes = want.scopes.join(" ");
    let customer = want
        .system_user
        .as_ref()
        .map(|t| t.customer_org.as_str())
        .unwrap_or("-");
    let external_ref = want
        .system_user
        .as_ref()
        .and_then(|t| t.external_ref.as_deref())
        .unwrap_or("-");
    match state.service.token(&want).await {
        Ok(t) => {
            tracing::info!(%peer, %scopes, %customer, %external_ref, altinn_exchange = want.altinn_exchange,
                outcome = if t.cached { "cached" } else { "issued" }, expires_in = t.expires_in, "token request");
            axum::Json(json!({
                "access_token": t.token.expose(),
                "expires_in": t.expires_in,
                "token_type": "Bearer",
            }))
            .into_response()
        }
        Err(e) => {
            tracing::warn!(%peer, %scopes, %customer, %external_ref, altinn_exchange = want.altinn_exchange,
                outcome = "error", error = %e.error, status = e.status, "token request failed: {}", e.description);
            error(e.status, &e.error, &e.description)
        }
    }
}

async fn introspect(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let m = match body_fields(&headers, &body) {
        Ok(m) => m,
        Err(e) => return error(e.status, &e.error, &e.description),
    };
    let token = match str_field(&m, "token") {
        Ok(Some(t)) => t.to_string(),
        Ok(None) => return error(400, "invalid_request", "token is required"),
        Err(e) => return error(e.status, &e.error, &e.description),
    };
    let answer = state.service.introspector().introspect(&token).await;
    tracing::info!(%peer, active = answer["active"].as_bool().unwrap_or(false), "introspection");
    axum::Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Want, ServiceError> {
        parse_token_request(v.as_object().expect("object"))
    }

    #[test]
    fn texas_shape_with_authorization_details() {
        let w = parse(json!({
            "identity_provider": "maskinporten",
            "target": "altinn:systembruker.demo  a:b",
            "authorization_details": [{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:312345676"},
                "externalRef": "kunde-1"}],
        }))
        .unwrap();
        assert_eq!(w.scopes, vec!["altinn:systembruker.demo", "a:b"]);
        let t = w.system_user.unwrap();
        assert_eq!(t.customer_org, "312345676");
        assert_eq!(t.external_ref.as_deref(), Some("kunde-1"));
        assert!(!w.altinn_exchange && !w.skip_cache);
    }

    #[test]
    fn convenience_fields_and_flags() {
        let w = parse(json!({"identity_provider": "maskinporten", "target": "a:b",
            "customer_org": "312345676", "external_ref": "r", "skip_cache": "true", "altinn_exchange": true}))
        .unwrap();
        assert_eq!(w.system_user.unwrap().external_ref.as_deref(), Some("r"));
        assert!(w.skip_cache && w.altinn_exchange);
        let plain = parse(json!({"identity_provider": "maskinporten", "target": "a:b"})).unwrap();
        assert!(plain.system_user.is_none());
    }

    #[test]
    fn refusals_name_the_problem() {
        let e = |v: Value| parse(v).unwrap_err().description;
        assert!(e(json!({"target": "a:b"})).contains("identity_provider"));
        assert!(e(json!({"identity_provider": "azuread", "target": "a:b"})).contains("azuread"));
        assert!(e(json!({"identity_provider": "maskinporten"})).contains("target"));
        assert!(
            parse(
                json!({"identity_provider": "maskinporten", "target": "a:b", "customer_org": "123"})
            )
            .is_err()
        );
        assert!(e(json!({"identity_provider": "maskinporten", "target": "a:b",
            "authorization_details": [{"type": "x", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:312345676"}}]}))
        .contains("type"));
        assert!(e(json!({"identity_provider": "maskinporten", "target": "a:b",
            "authorization_details": [{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "312345676"}}]}))
        .contains("0192:"));
        assert!(
            e(json!({"identity_provider": "maskinporten", "target": "a:b", "external_ref": "r"}))
                .contains("customer_org")
        );
    }

    #[test]
    fn form_bodies_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let body =
            Bytes::from("identity_provider=maskinporten&target=a%3Ab&customer_org=312345676");
        let w = parse_token_request(&body_fields(&h, &body).unwrap()).unwrap();
        assert_eq!(w.system_user.unwrap().customer_org, "312345676");
    }

    #[test]
    fn loopback_rule() {
        assert!(bind_allowed(&"127.0.0.1:1".parse().unwrap(), false).is_ok());
        assert!(bind_allowed(&"[::1]:1".parse().unwrap(), false).is_ok());
        let e = bind_allowed(&"0.0.0.0:1".parse().unwrap(), false).unwrap_err();
        assert!(e.contains("--allow-non-loopback"));
        assert!(bind_allowed(&"0.0.0.0:1".parse().unwrap(), true).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_secret_file(&p).unwrap_err().contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_secret_file(&p).unwrap().expose(),
            "0123456789abcdef0123"
        );
        assert_ne!(generate_secret().expose(), generate_secret().expose());
    }
}
