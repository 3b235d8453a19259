//! Maskinporten: the JWT-bearer token endpoint, metadata and JWKS.
//!
//! Rules (docs.digdir.no jwtgrant/token pages, via shared/docs/altinn-api-details.md §2): `kid`
//! registered for the client (`iss`), RS256/384/512 signature, `aud` = issuer, `iat` at most 10 s
//! in the future, `exp - iat <= 120`, not expired (10 s skew), `jti` used once, every scope
//! granted. System-user grants: `authorization_details` as a JSON array; the match rule is the
//! one of Altinn's `SystemUserRepository` lookup behind `CheckIfPartyHasIntegration`.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::orgs;
use super::problem::oauth_error;
use super::{Base, Shared};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const MAX_SKEW_SECS: i64 = 10;
const MAX_GRANT_LIFETIME_SECS: i64 = 120;
/// guess: the client's token lifetime setting; [WE] sets 120 s in the portal.
const ACCESS_TOKEN_SECS: i64 = 120;

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    assertion: Option<String>,
}

/// The issuers a grant's `aud` may name: this server as the caller addressed it, and its
/// canonical `http://127.0.0.1:N/`.
fn accepted_audiences(app: &Shared, base: &Base) -> Vec<String> {
    let mut v = vec![format!("{}/", base.0)];
    let canonical = format!("{}/", app.canonical_base());
    if !v.contains(&canonical) {
        v.push(canonical);
    }
    v
}

/// mirrors: Maskinporten POST /token (JWT-bearer grant).
pub async fn token(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    // guess: texts for malformed requests are ours; the codes are the OAuth ones.
    let Form(form) = match form {
        Ok(f) if is_form => f,
        _ => {
            return oauth_error(
                "invalid_request",
                "The token request must be an application/x-www-form-urlencoded POST with grant_type and assertion",
            );
        }
    };
    if form.grant_type.as_deref() != Some(JWT_BEARER) {
        return oauth_error(
            "unsupported_grant_type",
            &format!("Unsupported grant_type. Use {JWT_BEARER}"),
        );
    }
    let Some(assertion) = form.assertion.filter(|a| !a.trim().is_empty()) else {
        return oauth_error("invalid_request", "Missing assertion");
    };
    let assertion = assertion.trim().to_string();
    match issue(&app, &base, &assertion).await {
        Ok(resp) => resp,
        Err(e) => e,
    }
}

async fn issue(app: &Shared, base: &Base, assertion: &str) -> Result<Response, Response> {
    // MP-011: malformed grant.
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        oauth_error(
            "invalid_request",
            "Invalid assertion. The JWT could not be parsed",
        )
    })?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. Client authentication failed. Unsupported signing algorithm (use RS256, RS384 or RS512)",
        ));
    }
    let unverified: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| {
            oauth_error(
                "invalid_request",
                "Invalid assertion. The JWT could not be parsed",
            )
        })?;
    let Some(client_id) = unverified
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. Missing JWT claim iss",
        ));
    };

    let st = app.lock().await;
    let Some(client) = st.clients.get(&client_id).cloned() else {
        // MP-100
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. Client authentication failed. Client not found",
        ));
    };
    drop(st);

    // x5c (certificate) clients are not emulated: the sandbox only knows pre-registered keys.
    let Some(kid) = header.kid.clone() else {
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. Client authentication failed. Missing key identifier (kid); clients with a registered key must use kid",
        ));
    };
    let Some(jwk) = client
        .keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
    else {
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.",
        ));
    };
    let key = jwk_decoding_key(jwk).ok_or_else(|| {
        oauth_error(
            "invalid_grant",
            "Invalid assertion. Client authentication failed. The registered key is unusable",
        )
    })?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(assertion, &key, &validation)
        .map_err(|_| {
            oauth_error(
                "invalid_grant",
                "Invalid assertion. Client authentication failed. Invalid signature",
            )
        })?
        .claims;

    // aud: exactly one value, the issuer with its trailing slash (MP-110).
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => accepted_audiences(app, base).contains(a),
        Some(Value::Array(a)) if a.len() == 1 => a[0]
            .as_str()
            .is_some_and(|s| accepted_audiences(app, base).iter().any(|x| x == s)),
        _ => false,
    };
    if !aud_ok {
        return Err(oauth_error("invalid_grant", "Invalid JWT claim aud"));
    }

    // The sandbox's clock, moved by the fault plan's clock offset.
    let now = app.now().timestamp();
    let iat = claims.get("iat").and_then(Value::as_i64);
    let exp = claims.get("exp").and_then(Value::as_i64);
    let (Some(iat), Some(exp)) = (iat, exp) else {
        return Err(oauth_error(
            "invalid_grant",
            "Invalid assertion. JWT claims iat and exp are required",
        ));
    };
    // Checked arithmetic throughout: the claims are the caller's numbers, and a wrapped
    // `exp - iat` once let iat = i64::MIN through (and an exp near i64::MAX then overflowed
    // the replay store's expiry, so the grant could be used again).
    if iat > now.saturating_add(MAX_SKEW_SECS) {
        // guess: text
        return Err(oauth_error(
            "invalid_grant",
            "Invalid JWT claim iat. iat is in the future (MP-130)",
        ));
    }
    if exp < now.saturating_sub(MAX_SKEW_SECS) {
        return Err(oauth_error("invalid_grant", "JWT is expired"));
    }
    match exp.checked_sub(iat) {
        Some(lifetime) if (0..=MAX_GRANT_LIFETIME_SECS).contains(&lifetime) => {}
        // guess: text; Maskinporten reports lifetime problems under MP-130 as well.
        Some(lifetime) if lifetime < 0 => {
            return Err(oauth_error(
                "invalid_grant",
                "Invalid JWT claim exp. exp is before iat",
            ));
        }
        _ => {
            // guess: text
            return Err(oauth_error(
                "invalid_grant",
                "Invalid JWT claim exp. The JWT lifetime (exp - iat) must not exceed 120 seconds",
            ));
        }
    }

    // Scopes: at least one; all granted to the client (MP-200).
    let scope_str = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let scopes: Vec<&str> = scope_str.split_whitespace().collect();
    if scopes.is_empty() {
        return Err(oauth_error(
            "invalid_scope",
            "Missing scope. At least one scope is required",
        ));
    }
    // MP-200: the scope must be on the client, and Digdir must (still) grant it to the client's
    // organisation: a scope the sandbox's catalogue lacks does not exist, and the
    // altinn:authentication/* scopes are for registered system vendors only (orgs.rs). One
    // answer for all, as Maskinporten gives; the reason goes to the sandbox's log.
    for s in &scopes {
        let reason = if !client.scopes.iter().any(|c| c == s) {
            Some(format!("the client does not have the scope {s}"))
        } else {
            orgs::scope_refusal(&client.org, s)
        };
        if let Some(reason) = reason {
            tracing::info!(client_id = %client_id, %reason, "invalid_scope");
            return Err(oauth_error(
                "invalid_scope",
                "Token request contains invalid scopes for client",
            ));
        }
    }

    // Replay key: client + jti; without a jti, the grant itself.
    let replay_key = match claims.get("jti").and_then(Value::as_str) {
        Some(jti) => format!("{client_id} {jti}"),
        None => format!(
            "{client_id} sha256:{}",
            hex(&Sha256::digest(assertion.as_bytes()))
        ),
    };

    let mut st = app.lock().await;
    if st.used_jtis.contains_key(&replay_key) {
        // MP-012
        return Err(oauth_error("invalid_request", "Grant is used before"));
    }

    let mut token_claims = Map::new();
    let issuer = format!("{}/", base.0);
    token_claims.insert("iss".into(), json!(issuer));
    token_claims.insert("client_amr".into(), json!("private_key_jwt"));
    token_claims.insert("token_type".into(), json!("Bearer"));
    if let Some(resource) = claims.get("resource") {
        // Audience-restricted token.
        token_claims.insert("aud".into(), resource.clone());
    }
    token_claims.insert("client_id".into(), json!(client_id));
    token_claims.insert(
        "consumer".into(),
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{}", client.org)}),
    );
    token_claims.insert("scope".into(), json!(scopes.join(" ")));

    if let Some(details) = claims.get("authorization_details") {
        let wanted = parse_systemuser_details(details)?;
        // mirrors: SystemUserController.CheckIfPartyHasIntegration + SystemUserRepository lookup:
        // owner org, system user not deleted, system not deleted, client_id in system.clientId,
        // system vendor = client's org, external_ref = ref (defaulting to the owner org).
        let external_ref = wanted
            .external_ref
            .clone()
            .unwrap_or_else(|| wanted.org.clone());
        let found = st.system_users.values().find(|su| {
            !su.is_deleted
                && su.reportee_org_no == wanted.org
                && su.external_ref == external_ref
                && st.systems.get(&su.system_id).is_some_and(|sys| {
                    !sys.is_deleted
                        // `@client_id = ANY (sr.client_id)`: PostgreSQL text equality,
                        // case-sensitive (SystemUserRepository.cs:355; spec §4c).
                        && sys.client_id.iter().any(|c| c == &client_id)
                        && sys.vendor_org() == client.org
                })
        });
        let Some(su) = found else {
            // guess: the split between error and error_description is not verified.
            return Err(oauth_error(
                "invalid_altinn_customer_configuration",
                "Altinn could not find an approved system user for this client, customer organisation and externalRef (MP-303). Check that the client id is on the registered system, that externalRef matches the request, and that the customer has approved the request.",
            ));
        };
        token_claims.insert(
            "authorization_details".into(),
            json!([{
                "type": "urn:altinn:systemuser",
                "systemuser_id": [su.id.to_string()],
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{}", wanted.org)},
                "system_id": su.system_id,
            }]),
        );
    }

    token_claims.insert("iat".into(), json!(now));
    token_claims.insert("exp".into(), json!(now + ACCESS_TOKEN_SECS));
    token_claims.insert("jti".into(), json!(Uuid::new_v4().to_string()));

    st.prune_jtis(now);
    st.used_jtis.insert(replay_key, exp);
    if let Err(e) = app.persist(&st).await {
        tracing::error!("could not save sandbox state: {e}");
        return Err(oauth_error(
            "server_error",
            "The sandbox could not save its state",
        ));
    }
    drop(st);
    // Signing (~2 ms of RSA) happens outside the state lock: under load every status poll
    // would otherwise queue behind every token being signed (see BENCHMARKS.md).
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(app.key.kid.clone());
    header.typ = Some("JWT".into());
    let access_token =
        jsonwebtoken::encode(&header, &token_claims, &app.key.encoding).map_err(|e| {
            tracing::error!("could not sign an access token: {e}");
            oauth_error("server_error", "The sandbox could not sign the token")
        })?;

    tracing::info!(client_id = %client_id, scope = %scope_str, system_user = token_claims.contains_key("authorization_details"), "issued access token");
    Ok(axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECS,
        "scope": scopes.join(" "),
    }))
    .into_response())
}

struct WantedSystemUser {
    org: String,
    external_ref: Option<String>,
}

/// Parse `authorization_details` for a system user: an array with exactly one
/// `{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:<org>"}}`.
fn parse_systemuser_details(details: &Value) -> Result<WantedSystemUser, Response> {
    // guess: texts; `invalid_authorization_details` is RFC 9396's error code.
    let bad = |msg: &str| oauth_error("invalid_authorization_details", msg);
    let Value::Array(items) = details else {
        return Err(bad("authorization_details must be a JSON array"));
    };
    if items.len() != 1 {
        return Err(bad(
            "authorization_details must contain exactly one urn:altinn:systemuser entry",
        ));
    }
    let item = items[0]
        .as_object()
        .ok_or_else(|| bad("authorization_details entries must be objects"))?;
    if item.get("type").and_then(Value::as_str) != Some("urn:altinn:systemuser") {
        return Err(bad(
            "Unsupported authorization_details type; expected urn:altinn:systemuser",
        ));
    }
    let org_obj = item
        .get("systemuser_org")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("authorization_details is missing systemuser_org"))?;
    if org_obj.get("authority").and_then(Value::as_str) != Some("iso6523-actorid-upis") {
        return Err(bad("systemuser_org.authority must be iso6523-actorid-upis"));
    }
    // Parsers in Altinn accept `ID` or `id`.
    let id = org_obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("id"))
        .and_then(|(_, v)| v.as_str())
        .ok_or_else(|| bad("systemuser_org.ID is missing"))?;
    let org = id
        .strip_prefix("0192:")
        .filter(|o| !o.is_empty())
        .ok_or_else(|| bad("systemuser_org.ID must look like 0192:<organisation number>"))?;
    let external_ref = item
        .get("externalRef")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(WantedSystemUser {
        org: org.to_string(),
        external_ref,
    })
}

fn jwk_decoding_key(jwk: &Value) -> Option<DecodingKey> {
    let n = jwk.get("n")?.as_str()?;
    let e = jwk.get("e")?.as_str()?;
    DecodingKey::from_rsa_components(n, e).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// mirrors: Maskinporten `/.well-known/oauth-authorization-server` (RFC 8414)
pub async fn metadata(base: Base) -> Response {
    let b = &base.0;
    axum::Json(json!({
        "issuer": format!("{b}/"),
        "token_endpoint": format!("{b}/token"),
        "jwks_uri": format!("{b}/jwk"),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": [JWT_BEARER],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
        "authorization_details_types_supported": ["urn:altinn:systemuser"],
    }))
    .into_response()
}

/// mirrors: Maskinporten `/jwk` — the public key(s) tokens are signed with.
pub async fn jwks(State(app): State<Shared>) -> Response {
    axum::Json(json!({ "keys": [app.key.public_jwk.clone()] })).into_response()
}

/// Check a JWK a client registers: RSA with `kid`, `n`, `e`, at least 2048 bits.
/// mirrors (loosely): DCR's rule "only RS256 with a 2048-bit key"; we accept larger keys too.
pub fn validate_client_jwk(jwk: &Value) -> Result<String, String> {
    let obj = jwk.as_object().ok_or("each key must be a JSON object")?;
    let kid = obj
        .get("kid")
        .and_then(Value::as_str)
        .filter(|k| !k.trim().is_empty())
        .ok_or("each key needs a non-empty \"kid\"")?;
    if obj.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err(format!("key {kid}: \"kty\" must be \"RSA\""));
    }
    if obj.contains_key("d") || obj.contains_key("p") {
        return Err(format!(
            "key {kid}: that is a PRIVATE key; upload only the public part (kty, kid, n, e)"
        ));
    }
    let n = obj
        .get("n")
        .and_then(Value::as_str)
        .ok_or(format!("key {kid}: missing \"n\""))?;
    let e = obj
        .get("e")
        .and_then(Value::as_str)
        .ok_or(format!("key {kid}: missing \"e\""))?;
    use base64::Engine;
    let n_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .map_err(|_| format!("key {kid}: \"n\" is not base64url"))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(e.trim_end_matches('='))
        .map_err(|_| format!("key {kid}: \"e\" is not base64url"))?;
    let bits = n_bytes.iter().skip_while(|b| **b == 0).count() * 8;
    if bits < 2048 {
        return Err(format!(
            "key {kid}: the RSA key must be at least 2048 bits (got about {bits})"
        ));
    }
    if let Some(alg) = obj.get("alg").and_then(Value::as_str)
        && !matches!(alg, "RS256" | "RS384" | "RS512")
    {
        return Err(format!("key {kid}: \"alg\" must be RS256, RS384 or RS512"));
    }
    DecodingKey::from_rsa_components(n, e)
        .map_err(|_| format!("key {kid}: not a usable RSA key"))?;
    Ok(kid.to_string())
}
