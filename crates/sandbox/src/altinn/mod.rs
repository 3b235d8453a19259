//! The Altinn authentication API under `/authentication/api/v1`: system register, system-user
//! requests (standard and agent), change requests and system-user lists.
//!
//! One submodule per controller it mirrors; this file holds what they share (response
//! shapes, pagination tokens, validation, ownership checks).
//!
//! Order of checks per handler follows ASP.NET: authentication and the scope policy first
//! (401/403, empty bodies), then model binding (415/400), then the controller's own logic.

pub(crate) mod change_request;
pub(crate) mod client_delegation;
pub(crate) mod decision;
pub(crate) mod request;
pub(crate) mod system_register;
pub(crate) mod system_user;

pub(crate) use decision::{
    DecideError, Decision, check_page_load, decide, people_list, request_state, resolve_person,
};

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::auth::{
    Caller, SCOPE_REQUEST_READ, SCOPE_REQUEST_WRITE, SCOPE_SYSTEMREGISTER_ADMIN,
    SCOPE_SYSTEMREGISTER_WRITE, authorize, json_body, json_body_required, parse_guid,
};
use super::catalogue;
use super::models::*;
use super::orgs;
use super::problem::{self, *};
use super::state::{ChangeRequest, Request, RequestKind, State as World, System, SystemUser};
use super::{Base, Shared};

const V1: &str = "/authentication/api/v1";
/// mirrors: RequestRepository.REQUEST_TIMEOUT_DAYS (reads set `timedOut`, status is kept)
const REQUEST_TIMEOUT_DAYS: i64 = 180;

const SYSTEMREGISTER_POLICY: &[&str] = &[SCOPE_SYSTEMREGISTER_ADMIN, SCOPE_SYSTEMREGISTER_WRITE];
const REQUEST_WRITE_POLICY: &[&str] = &[SCOPE_REQUEST_WRITE];
const REQUEST_READ_POLICY: &[&str] = &[SCOPE_REQUEST_READ];

type HResult = Result<Response, Response>;

fn respond(r: HResult) -> Response {
    match r {
        Ok(r) | Err(r) => r,
    }
}

async fn save(app: &Shared, st: &World) -> Result<(), Response> {
    app.persist(st).await.map_err(|e| {
        tracing::error!("could not save sandbox state: {e}");
        problem::plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("The sandbox could not save its state file: {e}"),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// URLs (built from the current request's base; never stored)
// ---------------------------------------------------------------------------------------------

/// mirrors: RequestSystemUserController CONFIRMURL_* + REPORTEESELECTIONPARAMETER, with the sandbox
/// serving the page instead of https://am.ui.{HostName}.
fn confirm_url(base: &Base, kind: &str, id: &Uuid) -> String {
    format!(
        "{}/accessmanagement/ui/systemuser/{kind}?id={id}&DONTCHOOSEREPORTEE=true",
        base.0
    )
}

fn created(location: String, body: Response) -> Response {
    let mut resp = body;
    *resp.status_mut() = StatusCode::CREATED;
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn timed_out(created: &chrono::DateTime<Utc>) -> bool {
    Utc::now() - *created > Duration::days(REQUEST_TIMEOUT_DAYS)
}

pub(crate) fn request_response(base: &Base, r: &Request) -> RequestSystemResponse {
    RequestSystemResponse {
        id: r.id.to_string(),
        integration_title: r.integration_title.clone(),
        external_ref: Some(r.external_ref.clone()),
        system_id: r.system_id.clone(),
        party_org_no: r.party_org_no.clone(),
        rights: r.rights.clone(),
        access_packages: r.access_packages.clone(),
        status: r.status.clone(),
        redirect_url: r.redirect_url.clone(),
        confirm_url: Some(confirm_url(base, "request", &r.id)),
        escalated: false,
        created: dotnet_time(&r.created),
        timed_out: timed_out(&r.created),
    }
}

pub(crate) fn agent_response(base: &Base, r: &Request) -> AgentRequestSystemResponse {
    AgentRequestSystemResponse {
        id: r.id.to_string(),
        integration_title: r.integration_title.clone(),
        external_ref: Some(r.external_ref.clone()),
        system_id: r.system_id.clone(),
        party_org_no: r.party_org_no.clone(),
        access_packages: r.access_packages.clone(),
        status: r.status.clone(),
        redirect_url: r.redirect_url.clone(),
        confirm_url: Some(confirm_url(base, "agentrequest", &r.id)),
        escalated: false,
        created: dotnet_time(&r.created),
        timed_out: timed_out(&r.created),
    }
}

pub(crate) fn change_response(base: &Base, c: &ChangeRequest) -> ChangeRequestResponse {
    ChangeRequestResponse {
        id: c.id.to_string(),
        external_ref: Some(c.external_ref.clone()),
        system_id: c.system_id.clone(),
        system_user_id: c.system_user_id.to_string(),
        party_org_no: c.party_org_no.clone(),
        required_rights: c.required_rights.clone(),
        unwanted_rights: c.unwanted_rights.clone(),
        required_access_packages: c.required_access_packages.clone(),
        unwanted_access_packages: c.unwanted_access_packages.clone(),
        status: c.status.clone(),
        redirect_url: c.redirect_url.clone(),
        confirm_url: Some(confirm_url(base, "changerequest", &c.id)),
        created: dotnet_time(&c.created),
        timed_out: timed_out(&c.created),
    }
}

fn system_user_dto(su: &SystemUser) -> SystemUserExternalDto {
    SystemUserExternalDto {
        id: su.id.to_string(),
        integration_title: su.integration_title.clone(),
        system_id: su.system_id.clone(),
        // guess: the docs example shows "" for productName and supplierName in vendor lists.
        product_name: String::new(),
        reportee_org_no: su.reportee_org_no.clone(),
        created: dotnet_time(&su.created),
        is_deleted: su.is_deleted,
        supplier_name: String::new(),
        supplier_org_no: su.supplier_org_no.clone(),
        external_ref: su.external_ref.clone(),
        user_type: su.user_type.clone(),
    }
}

fn system_response(s: &System) -> RegisteredSystemResponse {
    RegisteredSystemResponse {
        id: s.id.clone(),
        vendor: VendorInfo {
            id: Some(s.vendor_id.clone()),
        },
        name: s.name.clone(),
        description: s.description.clone(),
        rights: s.rights.clone(),
        access_packages: s.access_packages.clone(),
        is_deleted: s.is_deleted,
        client_id: s.client_id.clone(),
        is_visible: s.is_visible,
        allowed_redirect_urls: s.allowed_redirect_urls.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination (Opaque<T> = base64url of the JSON-serialised value; src/Authentication/Model/Opaque.cs)
// ---------------------------------------------------------------------------------------------

fn opaque_encode(json_value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(json_value.to_string())
}

fn opaque_decode<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn next_link(base: &Base, path: &str, token: String) -> String {
    format!("{}{V1}{path}?token={token}", base.0)
}

// ---------------------------------------------------------------------------------------------
// Shared validation
// ---------------------------------------------------------------------------------------------

/// mirrors: SystemRegisterController.ValidateRights (SR:469-487) +
/// SystemRegisterService.GetInvalidResourceIdsDetailed (SRS:154-185): per attribute pair,
/// `id` must be `urn:altinn:resource` (AUTH.VLD-00009), the Resource Registry must know `value`
/// (AUTH.VLD-00003), and its type must be on the whitelist SRS:31-40 (AUTH.VLD-00017).
/// The registry is the sandbox's catalogue ([`catalogue::resource`]); with `--any-resource`
/// an unknown well-formed id counts as a delegable resource (the sandbox's old leniency).
fn validate_rights(app: &Shared, rights: &[Right]) -> ValidationProblem {
    let mut errors = ValidationProblem::default();
    let mut invalid_format = Vec::new();
    let mut not_found = Vec::new();
    let mut not_delegable = Vec::new();
    for right in rights {
        for attr in &right.resource {
            if attr.id != "urn:altinn:resource" {
                invalid_format.push(attr.value.clone());
                continue;
            }
            match catalogue::resource(&attr.value) {
                Some(r) if !r.type_allowed_on_system() => not_delegable.push(attr.value.clone()),
                Some(_) => {}
                // guess: `--any-resource` stands in for resources the sandbox does not seed.
                None if app.any_resource && orgs::is_wellformed_resource(&attr.value) => {}
                None => not_found.push(attr.value.clone()),
            }
        }
    }
    if !invalid_format.is_empty() {
        errors.add_with(
            VLD_RESOURCE_ID_INVALID_FORMAT,
            PATH_RESOURCE_RIGHTS,
            Some(("Invalid Resource Id Details : ", invalid_format.join(" | "))),
        );
    }
    if !not_found.is_empty() {
        errors.add_with(
            VLD_RESOURCE_DOES_NOT_EXIST,
            PATH_RESOURCE_RIGHTS,
            Some(("ResourceIds Not Found : ", not_found.join(" | "))),
        );
    }
    if !not_delegable.is_empty() {
        errors.add_with(
            VLD_RESOURCE_NOT_DELEGABLE,
            PATH_RESOURCE_RIGHTS,
            Some(("ResourceIds Not Delegable : ", not_delegable.join(" | "))),
        );
    }
    // mirrors: AuthenticationHelper.HasDuplicateRights (action + resource list as key)
    let mut seen = std::collections::HashSet::new();
    if rights.iter().any(|r| {
        let key = format!(
            "{}:{}",
            r.action.clone().unwrap_or_default(),
            r.resource
                .iter()
                .map(|a| format!("{}:{}", a.id, a.value))
                .collect::<Vec<_>>()
                .join(",")
        );
        !seen.insert(key)
    }) {
        errors.add(VLD_DUPLICATE_RIGHTS, PATH_RESOURCE_RIGHTS);
    }
    errors
}

/// mirrors: SystemRegisterController.ValidateAccessPackages (SR:489-535) +
/// SystemRegisterService.GetInvalidAccessPackageUrnsDetailed (SRS:205-254): an empty urn or
/// one with fewer than four `:`-parts is "Invalid format"; Access Management's
/// `package/urn/{urn}` (here [`catalogue::package`]) must find it ("Not found"); neither
/// `isDelegable` nor `isAssignable` is "Not possible to delegate" — all three one
/// AUTH.VLD-00008. Duplicates: AUTH.VLD-00007. A visible system with any package that is not
/// `isAssignable` (the client-relation packages, and the undelegable ones): AUTH.VLD-00018.
fn validate_packages(packages: &[AccessPackage], is_visible: bool) -> ValidationProblem {
    let mut errors = ValidationProblem::default();
    let (mut invalid_format, mut not_found, mut not_delegable) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut non_assignable = false;
    for p in packages {
        let urn = p.urn.clone().unwrap_or_default();
        if urn.is_empty() || urn.split(':').count() < 4 {
            invalid_format.push(urn);
            continue;
        }
        match catalogue::package(&urn) {
            None => not_found.push(urn),
            Some(pkg) => {
                if !pkg.is_delegable() && !pkg.is_assignable() {
                    not_delegable.push(urn);
                }
                non_assignable |= !pkg.is_assignable();
            }
        }
    }
    let mut details = Vec::new();
    for (label, urns) in [
        ("Invalid format", &invalid_format),
        ("Not found", &not_found),
        ("Not possible to delegate", &not_delegable),
    ] {
        if !urns.is_empty() {
            details.push(format!("{label}: {}", urns.join(", ")));
        }
    }
    if !details.is_empty() {
        errors.add_with(
            VLD_ACCESS_PACKAGE_NOT_VALID,
            PATH_ACCESS_PACKAGES,
            Some(("Invalid Urn Details : ", details.join(" | "))),
        );
    }
    let mut seen = std::collections::HashSet::new();
    if packages
        .iter()
        .any(|p| !seen.insert(p.urn.clone().unwrap_or_default()))
    {
        errors.add(VLD_DUPLICATE_ACCESS_PACKAGES, PATH_ACCESS_PACKAGES);
    }
    if is_visible && non_assignable {
        errors.add(VLD_VISIBLE_WITH_CLIENT_PACKAGE, PATH_ACCESS_PACKAGES);
    }
    errors
}

/// The register stores `allowedRedirectUrls` as `Uri.ToString()` and reads them back with
/// `new Uri(s)` (SystemRegisterRepository.cs:163 insert, :222 update, :523 read), so what a
/// vendor gets back is .NET's canonical form: scheme and host lower-cased, the default port
/// dropped, an empty path written as `/` (`https://x.no` -> `https://x.no/`,
/// `https://x.no?a=1` -> `https://x.no/?a=1`), `.`/`..` segments resolved, `\` read as `/`;
/// a non-empty path, the query and the fragment are kept. The URL standard's serialisation
/// (the `url` crate) applies exactly these rules to http(s) URLs.
/// guess: characters the URL standard percent-encodes (spaces, quotes, non-ASCII) stay encoded
/// here, while .NET's ToString() shows them unescaped; no sensible redirect URL has them.
/// A string that is not an absolute URL is kept as given (it fails AUTH.VLD-00005 anyway).
pub(crate) fn dotnet_uri_string(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.to_string(),
        _ => raw.to_string(),
    }
}

fn dotnet_uri_strings(urls: Vec<String>) -> Vec<String> {
    urls.iter().map(|u| dotnet_uri_string(u)).collect()
}

/// mirrors: AuthenticationHelper.IsValidRedirectUrl — absolute https.
fn valid_redirect_urls(urls: &[String]) -> bool {
    urls.iter()
        .all(|u| url::Url::parse(u).is_ok_and(|p| p.scheme() == "https"))
}

/// mirrors: AuthenticationHelper.ValidateRedirectUrl — compare GetLeftPart(UriPartial.Path).
fn check_redirect(redirect: &str, allowed: &[String]) -> Result<(), AuthProblem> {
    if allowed.is_empty() {
        return Err(NO_REDIRECT_URIS_ON_SYSTEM);
    }
    let left = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    // guess: the real `new Uri(...)` throws (500) on a malformed URL; we answer AUTH-00021.
    let Some(chosen) = left(redirect) else {
        return Err(REDIRECT_URI_NOT_FOUND);
    };
    if allowed
        .iter()
        .any(|a| left(a).as_deref() == Some(chosen.as_str()))
    {
        Ok(())
    } else {
        Err(REDIRECT_URI_NOT_FOUND)
    }
}

/// mirrors: SystemUserService.ValidateRights — every requested right must be on the system.
fn rights_on_system(requested: &[Right], system: &System) -> bool {
    // `rights.Count > systemInfo.Rights.Count` fails first; an empty resource list would throw in
    // the real code (Resource[0]) — we answer AUTH-00001 instead of a 500.
    requested.len() <= system.rights.len()
        && requested
            .iter()
            .all(|r| !r.resource.is_empty() && system.rights.iter().any(|s| s.same_as(r)))
}

/// mirrors: SystemUserService.ValidateAccessPackages (SUS:682-757; AUTH-00063, then
/// AUTH-00064/65), with the `NotFoundPackages` / `NotDelegablePackages` problem extensions.
/// Every requested urn must be on the system (exact, case-sensitive `==`); then Access
/// Management ([`catalogue::package`]) must know it and, for a standard request, say
/// `isAssignable` (else AUTH-00064), for an agent request `isDelegable` (else AUTH-00065).
/// All not-found urns are reported before any not-delegable one (SUS:739-745).
fn check_packages(
    requested: &[AccessPackage],
    system: &System,
    agent: bool,
) -> Result<(), Response> {
    let urn = |p: &AccessPackage| p.urn.clone().unwrap_or_default();
    if system.access_packages.len() < requested.len() {
        return Err(ACCESS_PACKAGE_NOT_FOUND.into_response());
    }
    let not_found: Vec<String> = requested
        .iter()
        .filter(|p| !system.access_packages.iter().any(|s| s.urn == p.urn))
        .map(urn)
        .collect();
    if !not_found.is_empty() {
        return Err(
            ACCESS_PACKAGE_NOT_FOUND.with_extension("NotFoundPackages", not_found.join(", "))
        );
    }
    let not_delegable: Vec<String> = requested
        .iter()
        .filter(
            |p| match catalogue::package(p.urn.as_deref().unwrap_or("")) {
                None => true,
                Some(pkg) if agent => !pkg.is_delegable(),
                Some(pkg) => !pkg.is_assignable(),
            },
        )
        .map(urn)
        .collect();
    if !not_delegable.is_empty() {
        let p = if agent {
            ACCESS_PACKAGE_NOT_DELEGABLE_AGENT
        } else {
            ACCESS_PACKAGE_NOT_DELEGABLE_STANDARD
        };
        return Err(p.with_extension("NotDelegablePackages", not_delegable.join(", ")));
    }
    Ok(())
}

/// The vendor org from the token's `consumer`; without one the controllers answer
/// `Unauthorized()` from inside the action (RSU:226,257,292,333,555,605; CR:103,212,247,350;
/// SU:256,294), which ASP.NET maps to a 401 ProblemDetails (not the empty 401 of a failed
/// authentication).
fn vendor_of(caller: &Caller) -> Result<String, Response> {
    caller
        .vendor_org()
        .ok_or_else(problem::unauthorized_in_action)
}

/// The vendor check of every request, agent-request, change-request and system-user route:
/// the object's system must exist and belong to the caller's organisation (the token's
/// `consumer`), else AUTH-00011 — another vendor cannot tell "not yours" from "no such system".
/// mirrors: RequestSystemUserService.RetrieveChosenSystemInfoAndValidateVendorOrgNo
/// (RequestSystemUserService.cs:433-448) + ValidateVendorOrgNo (RequestSystemUserService.cs:292-311;
/// ChangeRequestSystemUserService.cs:148-165), and the inline checks of the bysystem lists
/// (RequestSystemUserService.cs:762-772, 793-803; ChangeRequestSystemUserService.cs:473-483;
/// SystemUserService.cs:292-302). Like GetRegisteredSystemById, a deleted system still counts.
fn owned_system<'a>(st: &'a World, system_id: &str, vendor: &str) -> Result<&'a System, Response> {
    match st.systems.get(system_id) {
        Some(s) if s.vendor_org() == vendor => Ok(s),
        _ => Err(SYSTEM_ID_NOT_FOUND.into_response()),
    }
}

fn guid_token(query: &HashMap<String, String>) -> Result<Option<Uuid>, Response> {
    match query.get("token") {
        None => Ok(None),
        Some(t) => opaque_decode::<Uuid>(t).map(Some).ok_or_else(|| {
            problem::model_binding_problem("token", &format!("The value '{t}' is not valid."))
        }),
    }
}

fn active_system_user<'a>(
    st: &'a World,
    org: &str,
    ext: &str,
    system_id: &str,
) -> Option<&'a SystemUser> {
    st.system_users.values().find(|su| {
        !su.is_deleted
            && su.reportee_org_no == org
            && su.external_ref == ext
            && su.system_id == system_id
    })
}

/// What the two DELETE endpoints (requests, change requests) share: soft delete, 202;
/// `REQUEST_NOT_FOUND` when missing or already deleted.
///
/// stricter than real: RequestSystemUserService.cs:818-827 (DeleteRequestByRequestId) and
/// ChangeRequestSystemUserService.cs:492-501 (DeleteChangeRequestByRequestId) do no vendor
/// check, so in Altinn any vendor may delete any request whose id it knows. A shared workshop
/// sandbox must not let participants destroy each other's work (issue 14), so another vendor's
/// request gets what the sibling GET answers it (RequestSystemUserService.cs:376-380,
/// ChangeRequestSystemUserService.cs:231-235): AUTH-00011. That reveals nothing new: the GET
/// already tells "not yours" (11) from "no such request" (10).
async fn soft_delete(
    app: &Shared,
    base: &Base,
    headers: &HeaderMap,
    request_id: &str,
    system_of: impl FnOnce(&World, Uuid) -> Option<String>,
    deleted_flag: impl FnOnce(&mut World, Uuid) -> Option<&mut bool>,
) -> HResult {
    let caller = authorize(app, base, headers, REQUEST_WRITE_POLICY)?;
    let id = parse_guid("requestId", request_id)?;
    // Same order as the sibling GET: the token's vendor (RequestSystemUserController.cs:224-228).
    let vendor = vendor_of(&caller)?;
    let mut st = app.lock().await;
    let Some(system_id) = system_of(&st, id) else {
        return Err(REQUEST_NOT_FOUND.into_response());
    };
    owned_system(&st, &system_id, &vendor)?;
    match deleted_flag(&mut st, id) {
        Some(deleted) if !*deleted => *deleted = true,
        _ => return Err(REQUEST_NOT_FOUND.into_response()),
    }
    save(app, &st).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
