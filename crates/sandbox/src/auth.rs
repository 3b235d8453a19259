//! Bearer-token authentication for the Altinn routes, the token exchange, and request parsing
//! helpers shared by the Altinn handlers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
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
// mirrors: AuthzConstants.SCOPE_CLIENTDELEGATION_READ / _WRITE (AuthzConstants.cs:122-137),
// required by POLICY_CLIENTDELEGATION_READ / _WRITE (AuthenticationHost.cs:275-278)
pub const SCOPE_CLIENTDELEGATION_READ: &str = "altinn:clientdelegations.read";
pub const SCOPE_CLIENTDELEGATION_WRITE: &str = "altinn:clientdelegations.write";
/// mirrors: AuthzConstants.SCOPE_PORTAL, the scope every end user logged in to Altinn has.
pub const SCOPE_PORTAL: &str = "altinn:portal/enduser";

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
    json_body_required(headers, body, trim, &[])
}

/// [`json_body`] for a model with `[Required]` properties: `required` pairs each property's
/// JSON name (as [`normalize_input`] spells it) with its C# name. A property that is missing or
/// null fails validation before the action runs: the automatic 400 with one `errors` key per
/// C# name ([`problem::required_fields_problem`]).
pub fn json_body_required<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    trim: bool,
    required: &[(&str, &str)],
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
    let value = normalize_input(value, trim);
    let missing: Vec<&str> = required
        .iter()
        .filter(|(json_name, _)| value.get(json_name).is_none_or(Value::is_null))
        .map(|(_, cs_name)| *cs_name)
        .collect();
    if value.is_object() && !missing.is_empty() {
        return Err(problem::required_fields_problem(&missing));
    }
    serde_json::from_value(value).map_err(|e| {
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
        // The sandbox's stand-in for ID-porten issues person tokens (POST /sandbox/idporten/token,
        // a simulated log-in like the approval page's); they are exchanged like ID-porten's.
        "id-porten" => return exchange_person_token(&app, &base, token, &headers),
        // guess: the sandbox has no Altinn Studio, so its tokens can never validate.
        "altinnstudio" => return problem::unauthorized(),
        _ => {
            // mirrors: AuthenticationController.cs BadRequest(string), content-negotiated.
            return problem::text_result(
                &headers,
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
    // `Ok(string)`: content negotiation picks the string formatter (text/plain) unless the
    // caller asked for JSON, in which case the JSON formatter writes a quoted string.
    problem::text_result(&headers, StatusCode::OK, jwt)
}

fn sign_claims(app: &Shared, claims: &Map<String, Value>) -> Result<String, Response> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(app.key.kid.clone());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, &app.key.encoding).map_err(|e| {
        tracing::error!("could not sign a token: {e}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// The `pid` claim of a seeded person's sandbox ID-porten token. guess: synthetic, 11 digits
/// but not a valid national identity number (the sandbox's people are invented).
fn person_pid(user_id: u64) -> String {
    format!("{:011}", 99_000_000_000u64 + user_id)
}

/// Lifetime of the sandbox's ID-porten tokens. guess: ID-porten's access tokens live 120 s by
/// default; the sandbox keeps them a little longer for people clicking through a workshop.
const IDPORTEN_TOKEN_SECS: i64 = 600;

/// sandbox-only: the stand-in for ID-porten. A simulated log-in, as on the approval page (choose
/// a seeded person; no password, nothing to prove): `POST /sandbox/idporten/token?as=<person>
/// [&scope=...]` answers `{"access_token","token_type","expires_in","scope"}`, an ID-porten-like
/// token (`pid`, `acr`, `scope`) that the real exchange path
/// (`GET /authentication/api/v1/exchange/id-porten`) turns into an Altinn end-user token. The
/// default scopes are an end-user system's for client administration: `altinn:portal/enduser
/// altinn:clientdelegations.read altinn:clientdelegations.write`
/// (docs.altinn.studio/en/api/authentication/systemuserapi/clientdelegation).
pub async fn idporten_token(
    State(app): State<Shared>,
    base: Base,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Some(who) = q.get("as").map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return problem::sandbox_error(
            StatusCode::BAD_REQUEST,
            "person_required",
            "Say who logs in: ?as=<person> (a seeded person, see `altinn-onboard sandbox orgs`)",
        );
    };
    let Some(person) = super::orgs::person_by_id(who) else {
        return problem::sandbox_error(
            StatusCode::NOT_FOUND,
            "unknown_person",
            format!("No seeded person {who:?}; `altinn-onboard sandbox orgs` lists them"),
        );
    };
    let allowed = [
        SCOPE_PORTAL,
        SCOPE_CLIENTDELEGATION_READ,
        SCOPE_CLIENTDELEGATION_WRITE,
    ];
    let scope = q
        .get("scope")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| allowed.join(" "));
    if let Some(bad) = scope.split(' ').find(|s| !allowed.contains(s)) {
        return problem::oauth_error(
            "invalid_scope",
            &format!(
                "the sandbox's end-user system may ask ID-porten only for {}; not {bad}",
                allowed.join(", ")
            ),
        );
    }
    let Some(user_id) = super::orgs::user_id(person) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let now = app.now().timestamp();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(format!("{}/", base.0)));
    claims.insert("sub".into(), json!(format!("sandbox-person-{}", person.id)));
    claims.insert("pid".into(), json!(person_pid(user_id)));
    claims.insert("acr".into(), json!("idporten-loa-substantial"));
    claims.insert("amr".into(), json!(["TestID"]));
    claims.insert("client_id".into(), json!("sandbox-enduser-system"));
    claims.insert("scope".into(), json!(scope));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + IDPORTEN_TOKEN_SECS));
    claims.insert("jti".into(), json!(Uuid::new_v4().to_string()));
    let jwt = match sign_claims(&app, &claims) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    tracing::info!(person = person.id, "simulated ID-porten log-in");
    axum::Json(json!({
        "access_token": jwt,
        "token_type": "Bearer",
        "expires_in": IDPORTEN_TOKEN_SECS,
        "scope": scope,
    }))
    .into_response()
}

/// mirrors: AuthenticationController.ExchangeExternalSystemToken for `id-porten`: the person's
/// Altinn token, with `urn:altinn:userid`, `urn:altinn:partyid`, `urn:altinn:authlevel` and the
/// ID-porten scopes kept. Only the sandbox's own ID-porten tokens (`pid`, no `consumer`) pass.
fn exchange_person_token(app: &Shared, base: &Base, token: &str, headers: &HeaderMap) -> Response {
    let claims = match verify_sandbox_token(app, base, token) {
        Ok(c) => c,
        Err(reason) => {
            tracing::debug!(%reason, "id-porten exchange rejected");
            return problem::unauthorized();
        }
    };
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let pid = claims.get("pid").and_then(Value::as_str).unwrap_or("");
    if iss.ends_with(ALTINN_ISSUER_PATH) || claims.contains_key("consumer") || pid.is_empty() {
        return problem::unauthorized();
    }
    let Some(person) = pid
        .parse::<u64>()
        .ok()
        .and_then(|p| p.checked_sub(99_000_000_000))
        .and_then(super::orgs::person_by_user_id)
    else {
        return problem::unauthorized();
    };
    let Some(user_id) = super::orgs::user_id(person) else {
        return problem::unauthorized();
    };
    let now = app.now().timestamp();
    let mut out = Map::new();
    for k in ["pid", "scope", "acr", "amr", "sub", "client_id"] {
        if let Some(v) = claims.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    out.insert("urn:altinn:userid".into(), json!(user_id.to_string()));
    out.insert(
        "urn:altinn:partyid".into(),
        json!(super::orgs::party_id(&format!("person:{}", person.id))),
    );
    out.insert(
        "urn:altinn:authenticatemethod".into(),
        json!("IdportenTestId"),
    );
    out.insert("urn:altinn:authlevel".into(), json!(3));
    out.insert(
        "iss".into(),
        json!(format!("{}{ALTINN_ISSUER_PATH}", base.0)),
    );
    out.insert("sid".into(), json!(Uuid::new_v4().to_string()));
    out.insert("iat".into(), json!(now));
    out.insert("nbf".into(), json!(now));
    out.insert("exp".into(), json!(now + ALTINN_TOKEN_MINUTES * 60));
    match sign_claims(app, &out) {
        Ok(jwt) => problem::text_result(headers, StatusCode::OK, jwt),
        Err(resp) => resp,
    }
}

impl Caller {
    /// The seeded person an Altinn end-user token (exchanged from the sandbox's ID-porten) is
    /// for; `None` for Maskinporten and system-user tokens.
    pub fn person(&self) -> Option<&'static super::orgs::SeedPerson> {
        let iss = self.claims.get("iss").and_then(Value::as_str)?;
        if !iss.ends_with(ALTINN_ISSUER_PATH) {
            return None;
        }
        let id = self.claims.get("urn:altinn:userid")?;
        let id = id
            .as_u64()
            .or_else(|| id.as_str().and_then(|s| s.parse().ok()))?;
        super::orgs::person_by_user_id(id)
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
