//! Bearer-token authentication for the Altinn routes, the token exchange, and request parsing
//! helpers shared by the Altinn handlers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::models::normalize_input;
use super::problem;
use super::{Base, Shared};

// mirrors: src/Core/Constants/AuthzConstants.cs
pub const SCOPE_SYSTEMREGISTER_WRITE: &str = "altinn:authentication/systemregister.write";
pub const SCOPE_SYSTEMREGISTER_ADMIN: &str = "altinn:authentication/systemregister.admin";
pub const SCOPE_REQUEST_WRITE: &str = "altinn:authentication/systemuser.request.write";
pub const SCOPE_REQUEST_READ: &str = "altinn:authentication/systemuser.request.read";

/// Altinn token lifetime after exchange. guess: `GeneralSettings.JwtValidityMinutes` is 30 in
/// the repository's appsettings; the deployed value is unknown.
const ALTINN_TOKEN_MINUTES: i64 = 30;

/// Path of the issuer of exchanged (Altinn) tokens, relative to the platform base.
pub const ALTINN_ISSUER_PATH: &str = "/authentication/api/v1/openid/";

/// The authenticated caller of an Altinn route.
pub struct Caller {
    pub claims: Map<String, Value>,
}

impl Caller {
    /// mirrors: Altinn.Common.PEP ScopeAccessHandler, the handler of every `RequireScopeAnyOf`
    /// route policy (SystemRegisterAuthorizationPolicyBuilderExtensions.cs:19-25; read at
    /// Altinn/altinn-authorization-tmp@f7ff53bd2
    /// src/pkgs/Altinn.Authorization.PEP/src/Altinn.Authorization.PEP/Authorization/ScopeAccessHandler.cs):
    /// the first `urn:altinn:scope` claim, else the first `scope` claim, split on single spaces,
    /// and an exact, case-sensitive (ordinal) match of a whole token against any required scope.
    /// So `…systemregister.write.extra` or `ALTINN:…` do not pass (spec §4a).
    pub fn has_exact_scope(&self, any_of: &[&str]) -> bool {
        let scope = self
            .claims
            .get("urn:altinn:scope")
            .or_else(|| self.claims.get("scope"))
            .and_then(Value::as_str)
            .unwrap_or("");
        scope.split(' ').any(|token| any_of.contains(&token))
    }

    /// mirrors: AuthenticationHelper.ContainsRequiredScope (AuthenticationHelper.cs:418-431) —
    /// `urn:altinn:scope` or `scope`, and a case-insensitive *substring* test on the whole scope
    /// string (faithfully odd). Used ONLY for the system register's admin bypass
    /// (HasAdminAccess in HasWriteAccess, AuthenticationHelper.cs:357-381); route policies use
    /// [`Caller::has_exact_scope`].
    pub fn has_any_scope(&self, required: &[&str]) -> bool {
        let scope = self
            .claims
            .get("urn:altinn:scope")
            .or_else(|| self.claims.get("scope"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        !scope.trim().is_empty() && required.iter().any(|r| scope.contains(&r.to_lowercase()))
    }

    /// mirrors: RetrieveOrgNoFromToken / OrganisationNumber.CreateFromMaskinPortenToken — the vendor
    /// is the token's `consumer` claim `{"authority":"iso6523-actorid-upis","ID":"0192:<orgno>"}`.
    pub fn vendor_org(&self) -> Option<String> {
        let consumer = self.claims.get("consumer")?;
        let obj = match consumer {
            Value::Object(o) => o.clone(),
            // Some issuers put the claim in as a JSON string.
            Value::String(s) => serde_json::from_str::<Map<String, Value>>(s).ok()?,
            _ => return None,
        };
        let authority = obj.get("authority").and_then(Value::as_str)?;
        if authority != "iso6523-actorid-upis" {
            return None;
        }
        let id = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("id"))
            .and_then(|(_, v)| v.as_str())?;
        let (prefix, org) = id.split_once(':')?;
        (prefix == "0192" && !org.is_empty()).then(|| org.to_string())
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Is `iss` an issuer this sandbox (in this or an earlier process) uses?
///
/// Why not "equal to this server's issuer": a state file outlives the process, and every process
/// listens on a new random port. A token issued yesterday by the sandbox on port 41234 is signed
/// with the same persisted key, and a CLI that cached it must still be able to call Altinn routes
/// on today's port 38211 — just as real Altinn accepts tokens from both of Maskinporten's
/// configured issuers. The signature (sandbox key) is what proves the origin; the issuer only
/// has to look like a sandbox one: plain http on loopback (or the host the caller used), path
/// `/` (Maskinporten) or `/authentication/api/v1/openid/` (exchanged Altinn token).
pub fn is_sandbox_issuer(iss: &str, base: &Base) -> bool {
    let Ok(url) = url::Url::parse(iss) else {
        return false;
    };
    if url.scheme() != "http" || url.query().is_some() || url.fragment().is_some() {
        return false;
    }
    let host_ok = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    } || url::Url::parse(&base.0)
        .ok()
        .and_then(|b| b.host_str().map(str::to_string))
        .is_some_and(|h| url.host_str() == Some(h.as_str()));
    host_ok && (url.path() == "/" || url.path() == ALTINN_ISSUER_PATH)
}

/// Clock skew allowed when checking `exp`.
const TOKEN_LEEWAY_SECS: i64 = 10;

/// Verify a sandbox-signed token: RS256 with the sandbox key, not expired by the sandbox's clock
/// (10 s skew), sandbox issuer.
pub fn verify_sandbox_token(
    app: &Shared,
    base: &Base,
    token: &str,
) -> Result<Map<String, Value>, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is not a JWT")?;
    if header.alg != Algorithm::RS256 {
        return Err("the token is not signed with RS256".into());
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    // `exp` is checked below against the sandbox's clock (which a fault plan may skew).
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &app.key.decoding, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "the token has expired".to_string()
            }
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                "the token's signature does not match the sandbox's key".to_string()
            }
            _ => format!("the token is invalid ({e})"),
        })?;
    let exp = data.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp < app.now().timestamp() - TOKEN_LEEWAY_SECS {
        return Err("the token has expired".into());
    }
    let iss = data.claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if !is_sandbox_issuer(iss, base) {
        return Err(format!(
            "the token's issuer {iss:?} is not a sandbox issuer"
        ));
    }
    Ok(data.claims)
}

/// Authenticate an Altinn route; the JwtCookie handler answers any failure with 401, empty body.
pub fn authenticate(app: &Shared, base: &Base, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(token) = bearer(headers) else {
        return Err(problem::unauthorized());
    };
    match verify_sandbox_token(app, base, token) {
        Ok(claims) => Ok(Caller { claims }),
        Err(reason) => {
            tracing::debug!(%reason, "rejected bearer token on an Altinn route");
            Err(problem::unauthorized())
        }
    }
}

/// Authenticate and check the scope policy (`RequireScopeAnyOf`): 401 / 403, empty bodies.
pub fn authorize(
    app: &Shared,
    base: &Base,
    headers: &HeaderMap,
    any_of: &[&str],
) -> Result<Caller, Response> {
    let caller = authenticate(app, base, headers)?;
    if !caller.has_exact_scope(any_of) {
        return Err(problem::forbidden());
    }
    Ok(caller)
}

/// Read a [FromBody] JSON model the way ASP.NET binds it: JSON content type (else 415), valid JSON
/// and required properties (else the automatic 400), property names case-insensitive, strings
/// trimmed where the controller has TrimStringsActionFilter.
pub fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    trim: bool,
) -> Result<T, Response> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime == "text/json" || mime.ends_with("+json")
        })
        .unwrap_or(false);
    if !is_json {
        return Err(problem::unsupported_media_type());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        problem::model_binding_problem("$", &format!("The JSON value could not be read: {e}"))
    })?;
    if value.is_null() {
        return Err(problem::model_binding_problem(
            "$",
            "A non-empty request body is required.",
        ));
    }
    serde_json::from_value(normalize_input(value, trim)).map_err(|e| {
        problem::model_binding_problem(
            "$",
            &format!("The JSON value is not valid for this model: {e}"),
        )
    })
}

/// Bind a Guid route/query value; failure is ASP.NET's automatic 400.
pub fn parse_guid(field: &str, raw: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        problem::model_binding_problem(field, &format!("The value '{raw}' is not valid."))
    })
}

// ---------------------------------------------------------------------------------------------
// Token exchange
// ---------------------------------------------------------------------------------------------

/// mirrors: AuthenticationController.ExchangeExternalSystemToken + AuthenticateMaskinportenToken
pub async fn exchange(
    State(app): State<Shared>,
    base: Base,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return problem::unauthorized();
    };
    if jsonwebtoken::decode_header(token).is_err() {
        return problem::unauthorized();
    }
    match provider.to_lowercase().as_str() {
        "maskinporten" => {}
        // guess: the sandbox has no ID-porten or Altinn Studio, so those tokens can never validate.
        "id-porten" | "altinnstudio" => return problem::unauthorized(),
        _ => {
            return problem::plain(
                StatusCode::BAD_REQUEST,
                format!(
                    "Invalid token provider: {provider}. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'."
                ),
            );
        }
    }
    let claims = match verify_sandbox_token(&app, &base, token) {
        Ok(c) => c,
        Err(reason) => {
            tracing::debug!(%reason, "exchange rejected");
            return problem::unauthorized();
        }
    };
    // Only Maskinporten tokens (issuer path "/") can be exchanged, not Altinn tokens.
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.ends_with(ALTINN_ISSUER_PATH) {
        return problem::unauthorized();
    }
    if headers.contains_key("X-Altinn-EnterpriseUser-Authentication") {
        let body = json!({
            "type": "https://docs.altinn.studio",
            "title": "Virksomhetsbruker is no longer available",
            "status": 410,
            "detail": "Virksomhetsbruker (enterprise user) is no longer available. It has been replaced by Systembruker (system user) or ID-porten, depending on the use case. See https://docs.altinn.studio for migration guidance.",
        });
        return (StatusCode::GONE, axum::Json(body)).into_response();
    }
    let caller = Caller {
        claims: claims.clone(),
    };
    let Some(org) = caller.vendor_org() else {
        return problem::unauthorized();
    };
    let issuer = format!("{}{ALTINN_ISSUER_PATH}", base.0);
    let mut out = claims;
    for k in ["aud", "iss", "client_amr", "sid", "exp", "iat", "nbf"] {
        out.remove(k);
    }
    let now = app.now().timestamp();
    out.insert("urn:altinn:orgNumber".into(), json!(org));
    out.insert(
        "urn:altinn:authenticatemethod".into(),
        json!("maskinporten"),
    );
    out.insert("urn:altinn:authlevel".into(), json!(3));
    out.insert("iss".into(), json!(issuer));
    out.insert("sid".into(), json!(Uuid::new_v4().to_string()));
    out.insert("iat".into(), json!(now));
    out.insert("nbf".into(), json!(now));
    out.insert("exp".into(), json!(now + ALTINN_TOKEN_MINUTES * 60));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(app.key.kid.clone());
    header.typ = Some("JWT".into());
    let jwt = match jsonwebtoken::encode(&header, &out, &app.key.encoding) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("could not sign an exchanged token: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // `Ok(string)`: ASP.NET's string formatter writes text/plain unless the client asked for JSON
    // only, in which case the JSON formatter writes a quoted string.
    let wants_json_only = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.contains("json") && !a.contains("text/plain") && !a.contains("*/*"))
        .unwrap_or(false);
    if wants_json_only {
        let mut resp = (StatusCode::OK, json!(jwt).to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp
    } else {
        problem::plain(StatusCode::OK, jwt)
    }
}

/// mirrors: AA OpenIdController — discovery for the issuer of exchanged tokens.
pub async fn openid_configuration(base: Base) -> Response {
    let issuer = format!("{}{ALTINN_ISSUER_PATH}", base.0);
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}{ALTINN_ISSUER_PATH}.well-known/openid-configuration/jwks", base.0),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(claims: Value) -> Caller {
        Caller {
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn route_policies_match_whole_scope_tokens_exactly() {
        let w = SCOPE_SYSTEMREGISTER_WRITE;
        let ok = |scope: &str| caller(json!({ "scope": scope })).has_exact_scope(&[w]);
        assert!(ok(w));
        assert!(ok(&format!("x {w}")));
        assert!(ok(&format!("{w} {SCOPE_REQUEST_READ}")));
        // What the substring test let through and ScopeAccessHandler does not.
        assert!(!ok(&format!("{w}.extra")));
        assert!(!ok(&w.to_uppercase()));
        assert!(!ok(&format!("x{w}")));
        assert!(!ok(""));
        // `urn:altinn:scope` wins over `scope`.
        let both = caller(json!({ "urn:altinn:scope": "a:b", "scope": w }));
        assert!(!both.has_exact_scope(&[w]));
    }

    #[test]
    fn the_admin_bypass_keeps_its_substring_test() {
        let c = caller(json!({ "scope": "ALTINN:AUTHENTICATION/SYSTEMREGISTER.ADMIN.x" }));
        assert!(c.has_any_scope(&[SCOPE_SYSTEMREGISTER_ADMIN]));
        assert!(!c.has_exact_scope(&[SCOPE_SYSTEMREGISTER_ADMIN]));
    }
}
