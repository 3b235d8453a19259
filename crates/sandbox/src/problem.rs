//! Error bodies as the real services write them.
//!
//! - Altinn domain errors: `AltinnProblemDetails` (Altinn.Authorization.ProblemDetails 5.x):
//!   `{"type":"urn:altinn:error:AUTH-000nn","title","status","code","traceId","statusDescription"}`
//!   with the codes and titles of src/Core/Problems/Problem.cs.
//! - System-register validation errors: STD-00000 with `validationErrors`
//!   (src/Core/Errors/ValidationErrors.cs, paths from src/Authentication/Constants/ErrorPathConstant.cs).
//! - ASP.NET defaults where the controller uses them: `Forbid()` and failed policies: empty
//!   body; bare `NotFound()` / `Unauthorized()` inside an action: RFC 9110 ProblemDetails;
//!   `NotFound("text")` and friends: a string, JSON-quoted when the caller asks for JSON;
//!   model binding failures: RFC 9110 validation problem.
//! - Maskinporten: OAuth JSON `{"error","error_description"}`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde_json::{Map, Value, json};

/// A W3C traceparent-style id, as `Activity.Current?.Id` looks in ASP.NET.
pub fn trace_id() -> String {
    let mut rng = rand::thread_rng();
    let mut a = [0u8; 16];
    let mut b = [0u8; 8];
    rng.fill_bytes(&mut a);
    rng.fill_bytes(&mut b);
    format!("00-{}-{}-00", hex(&a), hex(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// mirrors: Altinn.Authorization.ProblemDetails StatusDescriptions (the HTTP reason phrase).
fn status_description(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Unknown")
}

fn json_response(status: StatusCode, content_type: &'static str, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An AUTH-xxxxx problem from src/Core/Problems/Problem.cs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthProblem {
    pub code: u32,
    pub status: u16,
    pub title: &'static str,
}

impl AuthProblem {
    pub fn code_string(&self) -> String {
        format!("AUTH-{:05}", self.code)
    }
}

macro_rules! problems {
    ($($name:ident = ($code:expr, $status:expr, $title:expr);)*) => {
        $(pub const $name: AuthProblem = AuthProblem { code: $code, status: $status, title: $title };)*
    };
}

// mirrors: src/Core/Problems/Problem.cs (titles copied verbatim, they are part of the contract).
// AUTH-00030 is used only on the customer's approve path (RSUS:571, 1002; the sandbox's
// decision.rs); vendor lookups of agent requests answer AUTH-00010.
problems! {
    REPORTEE_ORGNO_NOT_FOUND = (0, 400, "Can't resolve the Organisation Number from the logged in Reportee PartyId.");
    RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE = (1, 400, "One or more Right not found or not delegable.");
    SYSTEM_USER_ALREADY_EXISTS = (4, 400, "Failed to create new SystemUser, existing SystemUser tied to the given System-Id.");
    EXTERNAL_REQUEST_ID_ALREADY_ACCEPTED = (6, 400, "The combination of External Ids refer to an already Accepted SystemUser.");
    EXTERNAL_REQUEST_ID_PENDING = (7, 400, "The combination of External Ids refer to a Pending Request, please reuse or delete.");
    EXTERNAL_REQUEST_ID_DENIED = (8, 400, "The combination of External Ids refer to a Denied Request, please delete and renew the Request.");
    EXTERNAL_REQUEST_ID_REJECTED = (9, 400, "The combination of External Ids refer to a Rejected Request, please delete and renew the Request.");
    REQUEST_NOT_FOUND = (10, 404, "The Id does not refer to a Request in our system.");
    SYSTEM_ID_NOT_FOUND = (11, 404, "The Id does not refer to a Registered System.");
    REQUEST_STATUS_NOT_NEW = (13, 409, "The Status of the Request is not New.");
    AGENT_REQUEST_NOT_FOUND = (30, 404, "The Id does not refer to an AgentRequest in our system.");
    SYSTEM_USER_NOT_FOUND = (15, 404, "The SystemUser was not found.");
    REDIRECT_URI_NOT_FOUND = (21, 400, "The RedirectUri was not found or not valid.");
    VENDOR_ORGNO_NOT_FOUND = (23, 401, "Can't resolve the Organisation Number for the Vendor from the Token.");
    NO_REDIRECT_URIS_ON_SYSTEM = (26, 400, "No redirect uris are set for the system");
    CHANGE_REQUEST_STATUS_NOT_NEW = (61, 409, "The Status of the Request is not New. Please generate a new CorrellationId for a new Change Request");
    AGENT_MISSING_ACCESS_PACKAGES = (58, 400, "No AccessPackages found, an Agent SystemUser must have at least one");
    MISSING_RIGHTS_OR_ACCESS_PACKAGES = (59, 400, "No AccessPackages or Single Rights found, a SystemUser must have at least one");
    ACCESS_PACKAGE_NOT_FOUND = (63, 400, "One or more accesspackage is not found in the referenced system in the System Register.");
    ACCESS_PACKAGE_NOT_DELEGABLE_STANDARD = (64, 400, "One or more access packages cannot be delegated. Either they are intended for clients or they cannot be delegated further.");
    ACCESS_PACKAGE_NOT_DELEGABLE_AGENT = (65, 400, "One or more access packages cannot be delegated because they are not intended for client relationships");
    // Client delegation (SystemUserService.cs:831-935, 1064-1075; Problem.cs:198, 216, 491, 497)
    CUSTOMER_DELEGATION_FAILED_TO_REVOKE = (31, 400, "Party does not match delegation facilitator.");
    AGENT_EXPECTED_AGENT_USER_TYPE = (34, 400, "The system user type of the provided system user GUID is not an agent.");
    AGENT_CLIENT_NOT_FOUND = (79, 400, "Client not found.");
    AGENT_CLIENT_MISSING_ACCESS_PACKAGES = (80, 400, "Client does not have the accesspackages the agent system user requires");
}

impl AuthProblem {
    fn body(&self) -> (StatusCode, Map<String, Value>) {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let code = self.code_string();
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("urn:altinn:error:{code}")));
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status));
        body.insert("code".into(), json!(code));
        body.insert("traceId".into(), json!(trace_id()));
        body.insert(
            "statusDescription".into(),
            json!(status_description(status)),
        );
        (status, body)
    }

    /// The problem with several extension members (top-level, like ProblemExtensionData).
    pub fn with_members(&self, members: Map<String, Value>) -> Response {
        let (status, mut body) = self.body();
        body.extend(members);
        json_response(status, "application/problem+json", &Value::Object(body))
    }

    /// `Problem.X.Create(ProblemExtensionData)`: extensions are top-level members.
    pub fn with_extension(&self, key: &str, value: String) -> Response {
        let (status, mut body) = self.body();
        body.insert(key.to_string(), json!(value));
        json_response(status, "application/problem+json", &Value::Object(body))
    }
}

impl IntoResponse for AuthProblem {
    fn into_response(self) -> Response {
        let (status, body) = self.body();
        json_response(status, "application/problem+json", &Value::Object(body))
    }
}

/// An AUTH.VLD-xxxxx validation error from src/Core/Errors/ValidationErrors.cs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vld {
    pub code: u32,
    pub title: &'static str,
}

macro_rules! vlds {
    ($($name:ident = ($code:expr, $title:expr);)*) => {
        $(pub const $name: Vld = Vld { code: $code, title: $title };)*
    };
}

// mirrors: src/Core/Errors/ValidationErrors.cs
vlds! {
    VLD_INVALID_ORG_IDENTIFIER = (0, "the org number identifier is not valid ISO6523 identifier");
    VLD_INVALID_SYSTEM_ID_FORMAT = (1, "The system id does not match the format orgnumber_xxxx...");
    VLD_SYSTEM_ID_EXISTS = (2, "The system id already exists");
    VLD_RESOURCE_DOES_NOT_EXIST = (3, "One or more resources specified in rights were not found in Altinn's resource register.");
    VLD_CLIENT_ID_EXISTS = (4, "One of the client id is already tagged with an existing system");
    VLD_INVALID_REDIRECT_URL = (5, "One or more of the redirect urls format is not valid. The valid format is https://xxx.xx");
    VLD_DUPLICATE_RIGHTS = (6, "One or more duplicate rights found");
    VLD_DUPLICATE_ACCESS_PACKAGES = (7, "One or more duplicate access package(s) found");
    VLD_ACCESS_PACKAGE_NOT_VALID = (8, "One or all the accesspackage(s) is not found in altinn's access packages or is not delegable");
    VLD_RESOURCE_ID_INVALID_FORMAT = (9, "One or more resource id is in wrong format. The valid format is urn:altinn:resource");
    VLD_DUPLICATE_CLIENT_IDS = (11, "Request contains duplicate client ids");
    VLD_SYSTEM_ID_MISMATCH = (12, "The system ID in the request body does not match the system ID in the URL");
    VLD_SYSTEM_ID_SPACES = (13, "System ID cannot have spaces in id (leading, trailing or in between the id)");
    VLD_RESOURCE_NOT_DELEGABLE = (17, "One or more resources specified in rights is of resource type which is not delegable.");
    // SystemUserClientDelegationController.ValidateSystemUser / ValidateClient (:385-427); 14 has two titles
    VLD_AGENT_MISSING = (14, "The agent query parameter is missing or invalid");
    VLD_AGENT_NOT_FOUND = (14, "System user not found");
    VLD_AGENT_NOT_AGENT = (15, "SystemUser is not a valid system user of type agent");
    VLD_CLIENT_MISSING = (16, "The client query parameter is missing or invalid");
    VLD_VISIBLE_WITH_CLIENT_PACKAGE = (18, "Access packages meant for system user for client relations can't be used in combination with the flag isVisible: true");
}

// mirrors: src/Authentication/Constants/ErrorPathConstant.cs
pub const PATH_VENDOR_ID: &str = "/registersystemrequest/vendor/id";
pub const PATH_SYSTEM_ID: &str = "/registersystemrequest/systemid";
pub const PATH_REDIRECT_URLS: &str = "/registersystemrequest/allowedredirecturls";
pub const PATH_CLIENT_ID: &str = "/registersystemrequest/clientid";
pub const PATH_ACCESS_PACKAGES: &str = "/registersystemrequest/accesspackages";
pub const PATH_RESOURCE_RIGHTS: &str = "/registersystemrequest/rights/resource";

/// Collects validation errors like ValidationProblemBuilder.
#[derive(Debug, Default)]
pub struct ValidationProblem {
    errors: Vec<Value>,
}

impl ValidationProblem {
    pub fn add(&mut self, vld: Vld, path: &str) {
        self.add_with(vld, path, None);
    }

    /// `extension` mirrors ProblemExtensionData (one key/value pair written into the error).
    pub fn add_with(&mut self, vld: Vld, path: &str, extension: Option<(&str, String)>) {
        let mut e = Map::new();
        e.insert("code".into(), json!(format!("AUTH.VLD-{:05}", vld.code)));
        e.insert("title".into(), json!(vld.title));
        e.insert("paths".into(), json!([path]));
        if let Some((k, v)) = extension {
            e.insert(k.to_string(), json!(v));
        }
        self.errors.push(Value::Object(e));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn merge(&mut self, other: ValidationProblem) {
        self.errors.extend(other.errors);
    }
}

impl IntoResponse for ValidationProblem {
    fn into_response(self) -> Response {
        // mirrors: AltinnValidationProblemDetails with StdProblemDescriptors.ValidationError
        let body = json!({
            "type": "urn:altinn:error:STD-00000",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "code": "STD-00000",
            "traceId": trace_id(),
            "statusDescription": "Bad Request",
            "validationErrors": self.errors,
        });
        json_response(StatusCode::BAD_REQUEST, "application/problem+json", &body)
    }
}

/// ASP.NET's built-in answer when model binding fails ([ApiController] automatic 400).
/// guess: the real service may route this through Altinn's problem factory; the RFC 9110 shape
/// with an `errors` map is ASP.NET's default.
pub fn model_binding_problem(field: &str, message: &str) -> Response {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": { field: [message] },
        "traceId": trace_id(),
    });
    json_response(StatusCode::BAD_REQUEST, "application/problem+json", &body)
}

/// The automatic 400 for `[Required]` properties that are missing or null
/// (ModelStateInvalidFilter -> ValidationProblemDetails): one key per property, named as the
/// C# property (MVC's default model metadata, no SystemTextJsonValidationMetadataProvider), with
/// DataAnnotations' default message "The {Name} field is required.".
pub fn required_fields_problem(missing: &[&str]) -> Response {
    let errors: Map<String, Value> = missing
        .iter()
        .map(|name| {
            (
                (*name).to_string(),
                json!([format!("The {name} field is required.")]),
            )
        })
        .collect();
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
        "traceId": trace_id(),
    });
    json_response(StatusCode::BAD_REQUEST, "application/problem+json", &body)
}

/// ASP.NET's 415 answer for a [FromBody] with a non-JSON content type.
pub fn unsupported_media_type() -> Response {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        "title": "Unsupported Media Type",
        "status": 415,
        "traceId": trace_id(),
    });
    json_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/problem+json",
        &body,
    )
}

/// A failed JwtCookie authentication: 401, empty body (the authentication handler's
/// challenge, which no client-error mapping touches).
pub fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

/// A bare status result (`NotFound()`, `Unauthorized()`, `BadRequest()`, `Conflict()`) returned
/// from *inside* an `[ApiController]` action: ASP.NET's client-error mapping
/// (ApiBehaviorOptions.ClientErrorMapping, on by default; the service registers no
/// SuppressMapClientErrors and ServiceDefaults 5.5.0 adds no ProblemDetails factory) writes an
/// RFC 9110 ProblemDetails (`type` = the RFC section, `title` = the reason phrase, `traceId`).
/// Policy failures and unmatched routes never reach an action, so they stay empty.
pub fn framework_problem(status: StatusCode) -> Response {
    // mirrors: Microsoft.AspNetCore.Mvc.ApiBehaviorOptionsSetup.ConfigureClientErrorMapping
    let section = match status.as_u16() {
        400 => "15.5.1",
        401 => "15.5.2",
        403 => "15.5.4",
        404 => "15.5.5",
        409 => "15.5.10",
        _ => "15.6.1",
    };
    let body = json!({
        "type": format!("https://tools.ietf.org/html/rfc9110#section-{section}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "traceId": trace_id(),
    });
    json_response(status, "application/problem+json", &body)
}

/// `NotFound(new ProblemDetails { Title, Detail, Status = 404 })` inside an action
/// (SystemUserClientDelegationController.cs:62-67, 294-299): the given members plus the
/// defaults ASP.NET fills in (`type`, `traceId`).
pub fn not_found_details(title: &str, detail: &str) -> Response {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        "title": title,
        "status": 404,
        "detail": detail,
        "traceId": trace_id(),
    });
    json_response(StatusCode::NOT_FOUND, "application/problem+json", &body)
}

/// `Unauthorized()` inside an action (e.g. no vendor in the token, RSU:226): 401 ProblemDetails.
pub fn unauthorized_in_action() -> Response {
    framework_problem(StatusCode::UNAUTHORIZED)
}

/// `NotFound()` inside an action (e.g. SR:140, SU:274): 404 ProblemDetails.
pub fn not_found_in_action() -> Response {
    framework_problem(StatusCode::NOT_FOUND)
}

/// `Forbid()` / a failed scope policy: 403, empty body.
pub fn forbidden() -> Response {
    StatusCode::FORBIDDEN.into_response()
}

/// Does ASP.NET's content negotiation pick the JSON formatter over the string formatter for an
/// `ObjectResult` holding a string? mirrors: DefaultOutputFormatterSelector with the MVC
/// defaults (RespectBrowserAcceptHeader = false, formatters in the order
/// StringOutputFormatter, ..., SystemTextJsonOutputFormatter):
/// - an Accept header containing `*/*` is ignored altogether, so the first formatter that can
///   write a string wins: text/plain;
/// - otherwise the media types are tried by quality (highest first, ties in header order) and
///   the first one a formatter supports decides: `text/plain` (string formatter) or
///   `application/json`, `text/json`, `application/*+json` (JSON formatter);
/// - nothing supported (or no Accept at all): the first formatter again, text/plain.
pub fn negotiates_json(headers: &HeaderMap) -> bool {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut ranges: Vec<(f32, usize, String)> = accept
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let mut parts = r.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, i, media))
        })
        .collect();
    if ranges.iter().any(|(_, _, m)| m == "*/*") {
        return false;
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (q, _, media) in ranges {
        if q <= 0.0 {
            continue;
        }
        match media.as_str() {
            "text/plain" | "text/*" => return false,
            "application/json" | "text/json" | "application/*" => return true,
            m if m.starts_with("application/") && m.ends_with("+json") => return true,
            _ => {}
        }
    }
    false
}

/// `BadRequest("text")`, `NotFound("text")`, `Conflict("text")` inside an action: the string
/// goes through content negotiation ([`negotiates_json`]), so a caller that asks for JSON
/// (our client sends `Accept: application/json`) gets a JSON string
/// (`"System with ID 'x' not found."`, `application/json; charset=utf-8`) and anyone else
/// `text/plain; charset=utf-8`.
pub fn text_result(headers: &HeaderMap, status: StatusCode, text: impl Into<String>) -> Response {
    let text = text.into();
    if negotiates_json(headers) {
        let mut resp = (status, Value::String(text).to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp
    } else {
        plain(status, text)
    }
}

/// A text/plain body whatever the caller accepts (sandbox-only answers; Altinn's own string
/// results go through [`text_result`]).
pub fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    let mut resp = (status, text.into()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Plain JSON 200/201 answers.
pub fn json_ok<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_value(body) {
        Ok(v) => json_response(status, "application/json; charset=utf-8", &v),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Maskinporten OAuth error (always HTTP 400 from the token endpoint).
pub fn oauth_error(error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    json_response(StatusCode::BAD_REQUEST, "application/json", &body)
}

/// Errors of the sandbox-only routes (`/sandbox/...`, `/reference/...`): a small JSON shape of
/// our own, since no real service defines these.
pub fn sandbox_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({ "error": error, "error_description": description.into() });
    json_response(status, "application/json", &body)
}
