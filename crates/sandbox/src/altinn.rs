//! The Altinn authentication API under `/authentication/api/v1`: system register, system-user
//! requests (standard and agent), change requests and system-user lists.
//!
//! Order of checks per handler follows ASP.NET: authentication and the scope policy first
//! (401/403, empty bodies), then model binding (415/400), then the controller's own logic.

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
    SCOPE_SYSTEMREGISTER_WRITE, authorize, json_body, parse_guid,
};
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

/// mirrors: SystemRegisterController.ValidateRights + SystemRegisterService.GetInvalidResourceIdsDetailed
fn validate_rights(app: &Shared, rights: &[Right]) -> ValidationProblem {
    let mut errors = ValidationProblem::default();
    let mut invalid_format = Vec::new();
    let mut not_found = Vec::new();
    for right in rights {
        for attr in &right.resource {
            if attr.id != "urn:altinn:resource" {
                invalid_format.push(attr.value.clone());
            } else if app.strict_resources {
                if !orgs::seeded_resources().contains(&attr.value.as_str()) {
                    not_found.push(attr.value.clone());
                }
            } else if !orgs::is_wellformed_resource(&attr.value) {
                // guess: without a resource registry, any well-formed id "exists".
                not_found.push(attr.value.clone());
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

/// mirrors: SystemRegisterController.ValidateAccessPackages
fn validate_packages(packages: &[AccessPackage], is_visible: bool) -> ValidationProblem {
    let mut errors = ValidationProblem::default();
    let invalid: Vec<String> = packages
        .iter()
        .map(|p| p.urn.clone().unwrap_or_default())
        .filter(|u| !orgs::is_wellformed_package(u))
        .collect();
    if !invalid.is_empty() {
        errors.add_with(
            VLD_ACCESS_PACKAGE_NOT_VALID,
            PATH_ACCESS_PACKAGES,
            Some((
                "Invalid Urn Details : ",
                format!("Invalid format: {}", invalid.join(", ")),
            )),
        );
    }
    let mut seen = std::collections::HashSet::new();
    if packages
        .iter()
        .any(|p| !seen.insert(p.urn.clone().unwrap_or_default()))
    {
        errors.add(VLD_DUPLICATE_ACCESS_PACKAGES, PATH_ACCESS_PACKAGES);
    }
    if is_visible
        && packages
            .iter()
            .any(|p| orgs::is_client_only_package(p.urn.as_deref().unwrap_or("")))
    {
        errors.add(VLD_VISIBLE_WITH_CLIENT_PACKAGE, PATH_ACCESS_PACKAGES);
    }
    errors
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

/// mirrors: SystemUserService.ValidateAccessPackages (AUTH-00063, then AUTH-00064/65), with the
/// `NotFoundPackages` / `NotDelegablePackages` problem extensions.
/// guess: the real check asks Access Management whether a package is "assignable" (standard) or
/// "delegable" (agent). The sandbox treats the client-relation packages in `orgs` as not
/// assignable, and every package as delegable.
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
        .filter(|p| !agent && orgs::is_client_only_package(p.urn.as_deref().unwrap_or("")))
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

fn vendor_of(caller: &Caller) -> Result<String, Response> {
    caller.vendor_org().ok_or_else(problem::unauthorized)
}

fn owned_system<'a>(st: &'a World, system_id: &str, vendor: &str) -> Result<&'a System, Response> {
    match st.systems.get(system_id) {
        Some(s) if s.vendor_org() == vendor => Ok(s),
        _ => Err(SYSTEM_ID_NOT_FOUND.into_response()),
    }
}

// ---------------------------------------------------------------------------------------------
// System register
// ---------------------------------------------------------------------------------------------

/// mirrors: SystemRegisterController.CreateRegisteredSystem
pub async fn create_system(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(create_system_inner(app, base, headers, body).await)
}

async fn create_system_inner(app: Shared, base: Base, headers: HeaderMap, body: Bytes) -> HResult {
    let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
    let req: RegisterSystemRequest = json_body(&headers, &body, true)?;
    let vendor_id = req.vendor.id.clone().unwrap_or_default();

    // 1. vendor.ID must be `0192:`-prefixed; returned on its own.
    let vendor_org = match vendor_id.split_once(':') {
        Some(("0192", org)) if !org.is_empty() => org.to_string(),
        _ => {
            let mut e = ValidationProblem::default();
            e.add(VLD_INVALID_ORG_IDENTIFIER, PATH_VENDOR_ID);
            return Err(e.into_response());
        }
    };

    let mut st = app.lock().await;
    // 2. collect the rest.
    let mut errors = ValidationProblem::default();
    if req.id.contains(' ') {
        errors.add(VLD_SYSTEM_ID_SPACES, PATH_SYSTEM_ID);
    }
    if req.id.split('_').next() != Some(vendor_org.as_str()) {
        errors.add(VLD_INVALID_SYSTEM_ID_FORMAT, PATH_SYSTEM_ID);
    }
    if st.systems.contains_key(&req.id) {
        errors.add(VLD_SYSTEM_ID_EXISTS, PATH_SYSTEM_ID);
    }
    if !valid_redirect_urls(&req.allowed_redirect_urls) {
        errors.add(VLD_INVALID_REDIRECT_URL, PATH_REDIRECT_URLS);
    }
    // mirrors: SystemRegisterService.DoesClientIdExists
    if req.client_id.iter().any(|c| {
        st.systems
            .values()
            .any(|s| !s.is_deleted && s.client_id.iter().any(|x| x.eq_ignore_ascii_case(c)))
    }) {
        errors.add(VLD_CLIENT_ID_EXISTS, PATH_CLIENT_ID);
    }
    let rights = req.rights.clone().unwrap_or_default();
    let packages = req.access_packages.clone().unwrap_or_default();
    errors.merge(validate_rights(&app, &rights));
    errors.merge(validate_packages(&packages, req.is_visible));

    // 3. ownership (after validation was computed, before it is returned): 403, empty body.
    if !caller.has_any_scope(&[SCOPE_SYSTEMREGISTER_ADMIN])
        && caller.vendor_org().as_deref() != Some(vendor_org.as_str())
    {
        return Err(problem::forbidden());
    }
    if !errors.is_empty() {
        return Err(errors.into_response());
    }
    let internal_id = Uuid::new_v4();
    st.systems.insert(
        req.id.clone(),
        System {
            internal_id,
            id: req.id.clone(),
            vendor_id,
            name: req.name,
            description: req.description,
            rights,
            access_packages: packages,
            client_id: req.client_id,
            is_visible: req.is_visible,
            allowed_redirect_urls: req.allowed_redirect_urls,
            is_deleted: false,
            created: Utc::now(),
        },
    );
    save(&app, &st).await?;
    tracing::info!(system_id = %req.id, "system registered");
    // `Ok(Guid)`: 200 with the internal id as a JSON string.
    Ok(json_ok(StatusCode::OK, &internal_id.to_string()))
}

/// mirrors: SystemRegisterController.GetListOfRegisteredSystemsForVendor
pub async fn list_systems(State(app): State<Shared>, base: Base, headers: HeaderMap) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let Some(vendor) = caller.vendor_org() else {
                return Err(problem::forbidden());
            };
            let st = app.lock().await;
            let list: Vec<RegisteredSystemDto> = st
                .systems
                .values()
                .filter(|s| !s.is_deleted && s.vendor_org() == vendor)
                .map(|s| RegisteredSystemDto {
                    system_id: s.id.clone(),
                    system_vendor_org_number: s.vendor_org().to_string(),
                    system_vendor_org_name: String::new(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    rights: s.rights.clone(),
                    access_packages: s.access_packages.clone(),
                    is_visible: s.is_visible,
                })
                .collect();
            Ok(json_ok(StatusCode::OK, &list))
        }
        .await,
    )
}

/// mirrors: AuthenticationHelper.HasWriteAccess (admin scope or owner by `consumer`)
fn has_write_access(caller: &Caller, system: &System) -> bool {
    caller.has_any_scope(&[SCOPE_SYSTEMREGISTER_ADMIN])
        || caller.vendor_org().as_deref() == Some(system.vendor_org())
}

/// mirrors: SystemRegisterController.GetRegisteredSystemInfo
pub async fn get_system(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let st = app.lock().await;
            let Some(system) = st.systems.get(&system_id) else {
                return Err(problem::not_found_empty());
            };
            if !has_write_access(&caller, system) {
                return Err(problem::forbidden());
            }
            Ok(json_ok(StatusCode::OK, &system_response(system)))
        }
        .await,
    )
}

fn system_not_found_text(system_id: &str) -> Response {
    problem::plain(
        StatusCode::NOT_FOUND,
        format!("System with ID '{system_id}' not found."),
    )
}

/// mirrors: SystemRegisterController.UpdateWholeRegisteredSystem
pub async fn update_system(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    body: Bytes,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let req: RegisterSystemRequest = json_body(&headers, &body, true)?;
            let mut st = app.lock().await;
            let Some(current) = st.systems.get(&system_id).cloned() else {
                return Err(system_not_found_text(&system_id));
            };
            if !has_write_access(&caller, &current) {
                return Err(problem::forbidden());
            }
            // A different vendor in the body answers 404 on purpose (no vendor-id enumeration).
            if req.vendor.id.as_deref() != Some(current.vendor_id.as_str()) {
                return Err(system_not_found_text(&system_id));
            }
            if req.id != system_id {
                let mut e = ValidationProblem::default();
                e.add(VLD_SYSTEM_ID_MISMATCH, PATH_SYSTEM_ID);
                return Err(e.into_response());
            }
            if current.is_deleted {
                return Err(problem::plain(
                    StatusCode::BAD_REQUEST,
                    "Cannot update a system marked as deleted.",
                ));
            }
            let rights = req.rights.clone().unwrap_or_default();
            let packages = req.access_packages.clone().unwrap_or_default();
            let mut errors = validate_rights(&app, &rights);
            errors.merge(validate_packages(&packages, req.is_visible));
            // mirrors: SystemRegisterController.ValidateClientIds
            let mut seen = std::collections::HashSet::new();
            if req.client_id.iter().any(|c| !seen.insert(c.to_lowercase())) {
                errors.add(VLD_DUPLICATE_CLIENT_IDS, PATH_CLIENT_ID);
            }
            for c in &req.client_id {
                let used_by_other = st.systems.values().any(|s| {
                    s.internal_id != current.internal_id
                        && !s.is_deleted
                        && s.client_id.iter().any(|x| x.eq_ignore_ascii_case(c))
                });
                if used_by_other {
                    errors.add(VLD_CLIENT_ID_EXISTS, PATH_CLIENT_ID);
                }
            }
            if !errors.is_empty() {
                return Err(errors.into_response());
            }
            if let Some(s) = st.systems.get_mut(&system_id) {
                s.name = req.name;
                s.description = req.description;
                s.rights = rights;
                s.access_packages = packages;
                s.client_id = req.client_id;
                s.is_visible = req.is_visible;
                s.allowed_redirect_urls = req.allowed_redirect_urls;
            }
            save(&app, &st).await?;
            Ok(json_ok(
                StatusCode::OK,
                &SystemRegisterUpdateResult { succeeded: true },
            ))
        }
        .await,
    )
}

/// Shared first steps of the partial updates (rights, access packages).
fn partial_update_guard(st: &World, caller: &Caller, system_id: &str) -> Result<System, Response> {
    // guess: the real code dereferences a null system here (500); we answer like PUT does.
    let Some(system) = st.systems.get(system_id).cloned() else {
        return Err(system_not_found_text(system_id));
    };
    if !has_write_access(caller, &system) {
        return Err(problem::forbidden());
    }
    if system.is_deleted {
        return Err(problem::plain(
            StatusCode::BAD_REQUEST,
            "Cannot update a system marked as deleted.",
        ));
    }
    Ok(system)
}

/// mirrors: SystemRegisterController.UpdateRightsOnRegisteredSystem (no TrimStrings filter)
pub async fn update_system_rights(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    body: Bytes,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let rights: Vec<Right> = json_body(&headers, &body, false)?;
            let mut st = app.lock().await;
            partial_update_guard(&st, &caller, &system_id)?;
            let errors = validate_rights(&app, &rights);
            if !errors.is_empty() {
                return Err(errors.into_response());
            }
            if let Some(s) = st.systems.get_mut(&system_id) {
                s.rights = rights;
            }
            save(&app, &st).await?;
            Ok(json_ok(
                StatusCode::OK,
                &SystemRegisterUpdateResult { succeeded: true },
            ))
        }
        .await,
    )
}

/// mirrors: SystemRegisterController.UpdateAccessPackagesOnRegisteredSystem
pub async fn update_system_packages(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    body: Bytes,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let packages: Vec<AccessPackage> = json_body(&headers, &body, false)?;
            let mut st = app.lock().await;
            let system = partial_update_guard(&st, &caller, &system_id)?;
            let errors = validate_packages(&packages, system.is_visible);
            if !errors.is_empty() {
                return Err(errors.into_response());
            }
            if let Some(s) = st.systems.get_mut(&system_id) {
                s.access_packages = packages;
            }
            save(&app, &st).await?;
            Ok(json_ok(
                StatusCode::OK,
                &SystemRegisterUpdateResult { succeeded: true },
            ))
        }
        .await,
    )
}

/// mirrors: SystemRegisterController.SetDeleteOnRegisteredSystem (soft delete)
pub async fn delete_system(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let mut st = app.lock().await;
            let Some(system) = st.systems.get(&system_id).cloned() else {
                // `ModelState.AddModelError("return", "System not found"); return ValidationProblem(ModelState);`
                return Err(problem::model_binding_problem("return", "System not found"));
            };
            if !has_write_access(&caller, &system) {
                return Err(problem::forbidden());
            }
            if let Some(s) = st.systems.get_mut(&system_id) {
                s.is_deleted = true;
            }
            save(&app, &st).await?;
            Ok(json_ok(
                StatusCode::OK,
                &SystemRegisterUpdateResult { succeeded: true },
            ))
        }
        .await,
    )
}

// ---------------------------------------------------------------------------------------------
// Requests (standard and agent)
// ---------------------------------------------------------------------------------------------

struct NewRequest {
    kind: RequestKind,
    integration_title: Option<String>,
    external_ref: Option<String>,
    system_id: String,
    party_org_no: String,
    rights: Option<Vec<Right>>,
    access_packages: Option<Vec<AccessPackage>>,
    redirect_url: Option<String>,
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

fn find_request<'a>(
    st: &'a World,
    kind: RequestKind,
    org: &str,
    ext: &str,
    system_id: &str,
) -> Option<&'a Request> {
    st.requests.values().find(|r| {
        !r.deleted
            && r.kind == kind
            && r.party_org_no == org
            && r.external_ref == ext
            && r.system_id == system_id
    })
}

/// mirrors: RequestSystemUserController.CreateRequest / CreateAgentRequest and
/// RequestSystemUserService.CreateRequest / CreateAgentRequest.
async fn create_any_request(app: Shared, base: Base, caller: Caller, new: NewRequest) -> HResult {
    let Some(vendor) = caller.vendor_org() else {
        return Err(VENDOR_ORGNO_NOT_FOUND.into_response());
    };
    // guess: the controller defaults only a null externalRef, the service also an empty one; we
    // treat both alike so an empty ref cannot create duplicates.
    let external_ref = new
        .external_ref
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| new.party_org_no.clone());
    let kind_path = match new.kind {
        RequestKind::Standard => "request",
        RequestKind::Agent => "agentrequest",
    };
    let render = |r: &Request| -> Response {
        match r.kind {
            RequestKind::Standard => json_ok(StatusCode::OK, &request_response(&base, r)),
            RequestKind::Agent => json_ok(StatusCode::OK, &agent_response(&base, r)),
        }
    };

    let mut st = app.lock().await;
    if active_system_user(&st, &new.party_org_no, &external_ref, &new.system_id).is_some() {
        return Err(SYSTEM_USER_ALREADY_EXISTS.into_response());
    }
    // Same (org, externalRef, systemId) and not Timedout: 200 with the existing request,
    // whatever its status (if the caller's vendor owns its system).
    if let Some(existing) = find_request(
        &st,
        new.kind,
        &new.party_org_no,
        &external_ref,
        &new.system_id,
    ) && existing.status != "Timedout"
        && st
            .systems
            .get(&existing.system_id)
            .is_some_and(|s| s.vendor_org() == vendor)
    {
        return Ok(render(existing));
    }

    let system = match st.systems.get(&new.system_id) {
        Some(s) if !s.is_deleted => s.clone(),
        _ => return Err(SYSTEM_ID_NOT_FOUND.into_response()),
    };
    // mirrors: ValidateExternalRequestId (AUTH-00006..9)
    if let Some(r) = find_request(
        &st,
        new.kind,
        &new.party_org_no,
        &external_ref,
        &new.system_id,
    ) {
        let p = match r.status.as_str() {
            "Accepted" => Some(EXTERNAL_REQUEST_ID_ALREADY_ACCEPTED),
            "New" => Some(EXTERNAL_REQUEST_ID_PENDING),
            "Denied" => Some(EXTERNAL_REQUEST_ID_DENIED),
            "Rejected" => Some(EXTERNAL_REQUEST_ID_REJECTED),
            _ => None,
        };
        if let Some(p) = p {
            return Err(p.into_response());
        }
    }
    // mirrors: ValidateVendorOrgNo — another vendor's system is "not found" (AUTH-00011).
    if system.vendor_org() != vendor {
        return Err(SYSTEM_ID_NOT_FOUND.into_response());
    }
    // mirrors: ValidateCustomerOrgNo (Register lookup). The sandbox's "Register" knows the seeded
    // organisations and every organisation that owns a client; anything else is AUTH-00000.
    if !orgs::is_valid_org_no(&new.party_org_no) || !st.is_known_org(&new.party_org_no) {
        return Err(REPORTEE_ORGNO_NOT_FOUND.into_response());
    }
    if let Some(redirect) = new.redirect_url.as_deref().filter(|r| !r.is_empty())
        && let Err(p) = check_redirect(redirect, &system.allowed_redirect_urls)
    {
        return Err(p.into_response());
    }
    match new.kind {
        RequestKind::Standard => {
            if new.rights.is_none() && new.access_packages.is_none() {
                return Err(RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE.into_response());
            }
            let rights = new.rights.clone().unwrap_or_default();
            let packages = new.access_packages.clone().unwrap_or_default();
            if rights.is_empty() && packages.is_empty() {
                return Err(MISSING_RIGHTS_OR_ACCESS_PACKAGES.into_response());
            }
            if !rights.is_empty() && !rights_on_system(&rights, &system) {
                return Err(RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE.into_response());
            }
            check_packages(&packages, &system, false)?;
        }
        RequestKind::Agent => {
            let packages = new.access_packages.clone().unwrap_or_default();
            if packages.is_empty() {
                return Err(AGENT_MISSING_ACCESS_PACKAGES.into_response());
            }
            check_packages(&packages, &system, true)?;
        }
    }

    let id = Uuid::new_v4();
    let request = Request {
        id,
        kind: new.kind,
        integration_title: new
            .integration_title
            .map(|t| t.trim().to_string())
            .or_else(|| system.name.get("nb").cloned()),
        external_ref,
        system_id: new.system_id,
        party_org_no: new.party_org_no,
        rights: if new.kind == RequestKind::Standard {
            new.rights.unwrap_or_default()
        } else {
            Vec::new()
        },
        access_packages: new.access_packages.unwrap_or_default(),
        status: "New".into(),
        redirect_url: new.redirect_url,
        created: Utc::now(),
        deleted: false,
        system_user_id: None,
    };
    st.requests.insert(id, request.clone());
    save(&app, &st).await?;
    tracing::info!(request_id = %id, kind = kind_path, "system-user request created");
    // mirrors: Created(platform + "authentication/api/v1/systemuser/request/" + id, ...)
    Ok(created(
        format!("{}{V1}/systemuser/request/{id}", base.0),
        render(&request),
    ))
}

/// mirrors: RequestSystemUserController.CreateRequest
pub async fn create_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
            let req: CreateRequestSystemUser = json_body(&headers, &body, true)?;
            create_any_request(
                app,
                base,
                caller,
                NewRequest {
                    kind: RequestKind::Standard,
                    integration_title: req.integration_title,
                    external_ref: req.external_ref,
                    system_id: req.system_id,
                    party_org_no: req.party_org_no,
                    rights: req.rights,
                    access_packages: req.access_packages,
                    redirect_url: req.redirect_url,
                },
            )
            .await
        }
        .await,
    )
}

/// mirrors: RequestSystemUserController.CreateAgentRequest
pub async fn create_agent_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
            let req: CreateAgentRequestSystemUser = json_body(&headers, &body, true)?;
            create_any_request(
                app,
                base,
                caller,
                NewRequest {
                    kind: RequestKind::Agent,
                    integration_title: req.integration_title,
                    external_ref: req.external_ref,
                    system_id: req.system_id,
                    party_org_no: req.party_org_no,
                    rights: None,
                    access_packages: req.access_packages,
                    redirect_url: req.redirect_url,
                },
            )
            .await
        }
        .await,
    )
}

/// GET by id, standard or agent. mirrors: GetRequestByGuid / GetAgentSystemUserRequestByGuid
/// and RequestSystemUserService.RetrieveChosenSystemInfoAndValidateVendorOrgNo (AUTH-00011).
async fn get_any_request(
    app: Shared,
    base: Base,
    headers: HeaderMap,
    raw_id: String,
    kind: RequestKind,
) -> HResult {
    let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
    let id = parse_guid("requestId", &raw_id)?;
    let vendor = vendor_of(&caller)?;
    let not_found = match kind {
        RequestKind::Standard => REQUEST_NOT_FOUND,
        RequestKind::Agent => AGENT_REQUEST_NOT_FOUND,
    };
    let st = app.lock().await;
    let Some(r) = st
        .requests
        .get(&id)
        .filter(|r| !r.deleted && r.kind == kind)
    else {
        return Err(not_found.into_response());
    };
    owned_system(&st, &r.system_id, &vendor)?;
    Ok(match kind {
        RequestKind::Standard => json_ok(StatusCode::OK, &request_response(&base, r)),
        RequestKind::Agent => json_ok(StatusCode::OK, &agent_response(&base, r)),
    })
}

pub async fn get_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(get_any_request(app, base, headers, request_id, RequestKind::Standard).await)
}

pub async fn get_agent_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(get_any_request(app, base, headers, request_id, RequestKind::Agent).await)
}

async fn get_any_by_external_ref(
    app: Shared,
    base: Base,
    headers: HeaderMap,
    (system_id, org_no, external_ref): (String, String, String),
    kind: RequestKind,
) -> HResult {
    let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
    let vendor = vendor_of(&caller)?;
    let st = app.lock().await;
    let not_found = match kind {
        RequestKind::Standard => REQUEST_NOT_FOUND,
        RequestKind::Agent => AGENT_REQUEST_NOT_FOUND,
    };
    let Some(r) = find_request(&st, kind, &org_no, &external_ref, &system_id) else {
        return Err(not_found.into_response());
    };
    owned_system(&st, &r.system_id, &vendor)?;
    Ok(match kind {
        RequestKind::Standard => json_ok(StatusCode::OK, &request_response(&base, r)),
        RequestKind::Agent => json_ok(StatusCode::OK, &agent_response(&base, r)),
    })
}

/// mirrors: RequestSystemUserController.GetRequestByExternalRef
pub async fn get_request_by_external_ref(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(p): Path<(String, String, String)>,
) -> Response {
    respond(get_any_by_external_ref(app, base, headers, p, RequestKind::Standard).await)
}

/// mirrors: RequestSystemUserController.GetAgentRequestByExternalRef
pub async fn get_agent_request_by_external_ref(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(p): Path<(String, String, String)>,
) -> Response {
    respond(get_any_by_external_ref(app, base, headers, p, RequestKind::Agent).await)
}

fn guid_token(query: &HashMap<String, String>) -> Result<Option<Uuid>, Response> {
    match query.get("token") {
        None => Ok(None),
        Some(t) => opaque_decode::<Uuid>(t).map(Some).ok_or_else(|| {
            problem::model_binding_problem("token", &format!("The value '{t}' is not valid."))
        }),
    }
}

async fn list_any_requests(
    app: Shared,
    base: Base,
    headers: HeaderMap,
    system_id: String,
    query: HashMap<String, String>,
    kind: RequestKind,
) -> HResult {
    let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
    let after = guid_token(&query)?;
    let vendor = vendor_of(&caller)?;
    let st = app.lock().await;
    owned_system(&st, &system_id, &vendor)?;
    // Ordered by id, continuing after the token's id (Page<Guid>).
    let mut items: Vec<&Request> = st
        .requests
        .values()
        .filter(|r| !r.deleted && r.kind == kind && r.system_id == system_id)
        .filter(|r| after.is_none_or(|a| r.id > a))
        .collect();
    items.sort_by_key(|r| r.id);
    let more = items.len() > app.page_size;
    items.truncate(app.page_size);
    let path = match kind {
        RequestKind::Standard => format!("/systemuser/request/vendor/bysystem/{system_id}"),
        RequestKind::Agent => format!("/systemuser/request/vendor/agent/bysystem/{system_id}"),
    };
    let next = more
        .then(|| {
            items.last().map(|r| {
                next_link(
                    &base,
                    &path,
                    opaque_encode(&serde_json::json!(r.id.to_string())),
                )
            })
        })
        .flatten();
    Ok(match kind {
        RequestKind::Standard => json_ok(
            StatusCode::OK,
            &Paginated {
                links: PaginatedLinks { next },
                data: items.iter().map(|r| request_response(&base, r)).collect(),
            },
        ),
        RequestKind::Agent => json_ok(
            StatusCode::OK,
            &Paginated {
                links: PaginatedLinks { next },
                data: items.iter().map(|r| agent_response(&base, r)).collect(),
            },
        ),
    })
}

/// mirrors: RequestSystemUserController.GetAllRequestsForVendor
pub async fn list_requests(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(list_any_requests(app, base, headers, system_id, query, RequestKind::Standard).await)
}

/// mirrors: RequestSystemUserController.GetAllAgentRequestsForVendor
pub async fn list_agent_requests(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(list_any_requests(app, base, headers, system_id, query, RequestKind::Agent).await)
}

/// mirrors: RequestSystemUserController.DeleteRequestByRequestId — soft delete, 202, and (like the
/// real code) no ownership check.
pub async fn delete_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(
        async {
            authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
            let id = parse_guid("requestId", &request_id)?;
            let mut st = app.lock().await;
            match st.requests.get_mut(&id) {
                Some(r) if !r.deleted => r.deleted = true,
                _ => return Err(REQUEST_NOT_FOUND.into_response()),
            }
            save(&app, &st).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        .await,
    )
}

// ---------------------------------------------------------------------------------------------
// Change requests
// ---------------------------------------------------------------------------------------------

/// mirrors: ChangeRequestSystemUserController.CreateChangeRequest +
/// ChangeRequestSystemUserService.CreateChangeRequest / ValidateChangeRequest
pub async fn create_change_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    respond(async {
        let caller = authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
        // Model binding: query Guids (absent = Guid.Empty) and the body.
        let guid_or_empty = |name: &str| -> Result<Uuid, Response> {
            match query.get(name).filter(|v| !v.is_empty()) {
                None => Ok(Uuid::nil()),
                Some(v) => parse_guid(name, v),
            }
        };
        let correlation_id = guid_or_empty("correlation-id")?;
        let system_user_id = guid_or_empty("system-user-id")?;
        let req: ChangeRequestSystemUser = json_body(&headers, &body, true)?;
        if correlation_id.is_nil() {
            return Err(problem::plain(
                StatusCode::BAD_REQUEST,
                "Missing or invalid QueryParameter: correlation-id. Generate a unique UUID (RFC 4122) for this Change Request, and add as a Query Parameter.",
            ));
        }
        let vendor = vendor_of(&caller)?;
        let mut st = app.lock().await;
        let Some(su) = st.system_users.get(&system_user_id).filter(|s| !s.is_deleted).cloned() else {
            return Err(SYSTEM_USER_NOT_FOUND.into_response());
        };
        if correlation_id == su.id {
            return Err(problem::plain(
                StatusCode::BAD_REQUEST,
                "The correlation-id should not be the same as the system-user-id. Generate a unique id.",
            ));
        }
        if su.supplier_org_no != vendor {
            return Err(problem::unauthorized());
        }
        if req.required_rights.is_empty()
            && req.unwanted_rights.is_empty()
            && req.required_access_packages.is_empty()
            && req.unwanted_access_packages.is_empty()
        {
            let empty = ChangeRequestResponse {
                id: correlation_id.to_string(),
                external_ref: Some(su.external_ref.clone()),
                system_id: su.system_id.clone(),
                system_user_id: su.id.to_string(),
                party_org_no: su.reportee_org_no.clone(),
                required_rights: vec![],
                unwanted_rights: vec![],
                required_access_packages: vec![],
                unwanted_access_packages: vec![],
                status: "NoChangeNeeded".into(),
                redirect_url: req.redirect_url.clone(),
                confirm_url: Some(String::new()),
                // DateTime default, as the C# object initialiser leaves it.
                created: "0001-01-01T00:00:00".into(),
                timed_out: false,
            };
            return Ok(json_ok(StatusCode::OK, &empty));
        }
        if let Some(existing) = st.change_requests.get(&correlation_id).filter(|c| !c.deleted) {
            if st
                .systems
                .get(&existing.system_id)
                .is_some_and(|s| s.vendor_org() == vendor)
            {
                return Ok(json_ok(StatusCode::OK, &change_response(&base, existing)));
            }
            return Err(SYSTEM_ID_NOT_FOUND.into_response());
        }
        // For now the real service does not support change requests for agent system users.
        if su.user_type == "agent" {
            return Err(SYSTEM_USER_NOT_FOUND.into_response());
        }
        let system = match st.systems.get(&su.system_id) {
            Some(s) if !s.is_deleted => s.clone(),
            _ => return Err(SYSTEM_ID_NOT_FOUND.into_response()),
        };
        if system.vendor_org() != vendor {
            return Err(SYSTEM_ID_NOT_FOUND.into_response());
        }
        if !st.is_known_org(&su.reportee_org_no) {
            return Err(REPORTEE_ORGNO_NOT_FOUND.into_response());
        }
        if let Some(redirect) = req.redirect_url.as_deref().filter(|r| !r.is_empty())
            && let Err(p) = check_redirect(redirect, &system.allowed_redirect_urls)
        {
            return Err(p.into_response());
        }
        if !req.required_rights.is_empty() && !rights_on_system(&req.required_rights, &system) {
            return Err(RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE.into_response());
        }
        check_packages(&req.required_access_packages, &system, false)?;
        let change = ChangeRequest {
            id: correlation_id,
            system_user_id: su.id,
            external_ref: su.external_ref.clone(),
            system_id: su.system_id.clone(),
            party_org_no: su.reportee_org_no.clone(),
            required_rights: req.required_rights,
            unwanted_rights: req.unwanted_rights,
            required_access_packages: req.required_access_packages,
            unwanted_access_packages: req.unwanted_access_packages,
            status: "New".into(),
            redirect_url: req.redirect_url,
            created: Utc::now(),
            deleted: false,
        };
        st.change_requests.insert(correlation_id, change.clone());
        save(&app, &st).await?;
        Ok(created(
            format!("{}{V1}/systemuser/changerequest/{correlation_id}", base.0),
            json_ok(StatusCode::OK, &change_response(&base, &change)),
        ))
    }
    .await)
}

/// mirrors: ChangeRequestSystemUserController.GetChangeRequestByGuid
pub async fn get_change_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
            let id = parse_guid("requestId", &request_id)?;
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            let Some(c) = st.change_requests.get(&id).filter(|c| !c.deleted) else {
                return Err(REQUEST_NOT_FOUND.into_response());
            };
            owned_system(&st, &c.system_id, &vendor)?;
            Ok(json_ok(StatusCode::OK, &change_response(&base, c)))
        }
        .await,
    )
}

/// mirrors: ChangeRequestSystemUserController.GetChangeRequestByExternalRef
/// guess: with several change requests for one system user, the newest is returned.
pub async fn get_change_request_by_external_ref(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path((system_id, org_no, external_ref)): Path<(String, String, String)>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            let Some(c) = st
                .change_requests
                .values()
                .filter(|c| {
                    !c.deleted
                        && c.system_id == system_id
                        && c.party_org_no == org_no
                        && c.external_ref == external_ref
                })
                .max_by_key(|c| c.created)
            else {
                return Err(REQUEST_NOT_FOUND.into_response());
            };
            owned_system(&st, &c.system_id, &vendor)?;
            Ok(json_ok(StatusCode::OK, &change_response(&base, c)))
        }
        .await,
    )
}

/// mirrors: ChangeRequestSystemUserController.GetAllChangeRequestsForVendor
pub async fn list_change_requests(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_READ_POLICY)?;
            let after = guid_token(&query)?;
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            owned_system(&st, &system_id, &vendor)?;
            let mut items: Vec<&ChangeRequest> = st
                .change_requests
                .values()
                .filter(|c| !c.deleted && c.system_id == system_id)
                .filter(|c| after.is_none_or(|a| c.id > a))
                .collect();
            items.sort_by_key(|c| c.id);
            let more = items.len() > app.page_size;
            items.truncate(app.page_size);
            let path = format!("/systemuser/changerequest/vendor/bysystem/{system_id}");
            let next = more
                .then(|| {
                    items.last().map(|c| {
                        next_link(
                            &base,
                            &path,
                            opaque_encode(&serde_json::json!(c.id.to_string())),
                        )
                    })
                })
                .flatten();
            Ok(json_ok(
                StatusCode::OK,
                &Paginated {
                    links: PaginatedLinks { next },
                    data: items.iter().map(|c| change_response(&base, c)).collect(),
                },
            ))
        }
        .await,
    )
}

/// mirrors: ChangeRequestSystemUserController.DeleteChangeRequestByRequestId (202)
pub async fn delete_change_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(
        async {
            authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
            let id = parse_guid("requestId", &request_id)?;
            let mut st = app.lock().await;
            match st.change_requests.get_mut(&id) {
                Some(c) if !c.deleted => c.deleted = true,
                _ => return Err(REQUEST_NOT_FOUND.into_response()),
            }
            save(&app, &st).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        .await,
    )
}

// ---------------------------------------------------------------------------------------------
// System users
// ---------------------------------------------------------------------------------------------

/// mirrors: SystemUserController.GetAllSystemUsersByVendorSystem (scope systemregister.write!)
pub async fn list_system_users(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(system_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, SYSTEMREGISTER_POLICY)?;
            let after: Option<i64> = match query.get("token") {
                None => None,
                Some(t) => Some(opaque_decode::<i64>(t).ok_or_else(|| {
                    problem::model_binding_problem(
                        "token",
                        &format!("The value '{t}' is not valid."),
                    )
                })?),
            };
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            owned_system(&st, &system_id, &vendor)?;
            let mut items: Vec<&SystemUser> = st
                .system_users
                .values()
                .filter(|su| !su.is_deleted && su.system_id == system_id)
                .filter(|su| after.is_none_or(|a| su.seq > a))
                .collect();
            items.sort_by_key(|su| su.seq);
            let more = items.len() > app.page_size;
            items.truncate(app.page_size);
            let path = format!("/systemuser/vendor/bysystem/{system_id}");
            let next = more
                .then(|| {
                    items.last().map(|su| {
                        next_link(&base, &path, opaque_encode(&serde_json::json!(su.seq)))
                    })
                })
                .flatten();
            Ok(json_ok(
                StatusCode::OK,
                &Paginated {
                    links: PaginatedLinks { next },
                    data: items.iter().map(|su| system_user_dto(su)).collect(),
                },
            ))
        }
        .await,
    )
}

/// mirrors: SystemUserController.GetSingleSystemUserForVendor (scope systemuser.request.write, sic)
pub async fn system_user_by_query(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, REQUEST_WRITE_POLICY)?;
            let Some(system_id) = query.get("system-id").filter(|s| !s.is_empty()) else {
                return Err(problem::model_binding_problem(
                    "system-id",
                    "The systemId field is required.",
                ));
            };
            let Some(orgno) = query.get("orgno").filter(|s| !s.is_empty()) else {
                return Err(problem::model_binding_problem(
                    "orgno",
                    "The orgno field is required.",
                ));
            };
            let external_ref = query
                .get("external-ref")
                .cloned()
                .unwrap_or_else(|| orgno.clone());
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            match active_system_user(&st, orgno, &external_ref, system_id) {
                Some(su) if su.supplier_org_no == vendor => {
                    Ok(json_ok(StatusCode::OK, &system_user_dto(su)))
                }
                _ => Err(problem::not_found_empty()),
            }
        }
        .await,
    )
}

// ---------------------------------------------------------------------------------------------
// The customer's decisions (used by the approval page and the /sandbox admin routes)
// ---------------------------------------------------------------------------------------------

/// Why a decision failed.
#[derive(Debug)]
pub enum DecideError {
    Problem(AuthProblem),
    Save(String),
}

impl From<AuthProblem> for DecideError {
    fn from(p: AuthProblem) -> Self {
        DecideError::Problem(p)
    }
}

impl IntoResponse for DecideError {
    fn into_response(self) -> Response {
        match self {
            DecideError::Problem(p) => p.into_response(),
            DecideError::Save(e) => problem::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("The sandbox could not save its state file: {e}"),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// What a decision did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionOutcome {
    pub id: String,
    /// "standard" | "agent" | "change"
    pub kind: &'static str,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// Approve or reject any request by id. mirrors: RequestSystemUserService.ApproveAndCreateSystemUser
/// / RejectSystemUser (status must be New, else AUTH-00013), the agent variants, and
/// ChangeRequestSystemUserService.ApproveAndDelegateChangeOnSystemUser (AUTH-00006/8/9 when not New).
/// `expect_kind` restricts the lookup (the approval pages know which kind they show).
pub async fn decide(
    app: &Shared,
    id: Uuid,
    decision: Decision,
    expect_kind: Option<&'static str>,
) -> Result<DecisionOutcome, DecideError> {
    let mut st = app.lock().await;
    let st = &mut *st;
    if let Some(r) = st.requests.get(&id).filter(|r| !r.deleted).cloned() {
        let kind = match r.kind {
            RequestKind::Standard => "standard",
            RequestKind::Agent => "agent",
        };
        if expect_kind.is_some_and(|k| k != kind) {
            return Err(REQUEST_NOT_FOUND.into());
        }
        if r.status != "New" {
            return Err(REQUEST_STATUS_NOT_NEW.into());
        }
        let mut system_user_id = None;
        let status = match decision {
            Decision::Reject => "Rejected",
            Decision::Approve => {
                if active_system_user(st, &r.party_org_no, &r.external_ref, &r.system_id).is_some()
                {
                    return Err(SYSTEM_USER_ALREADY_EXISTS.into());
                }
                let Some(system) = st
                    .systems
                    .get(&r.system_id)
                    .filter(|s| !s.is_deleted)
                    .cloned()
                else {
                    return Err(SYSTEM_ID_NOT_FOUND.into());
                };
                let seq = st.next_system_user_seq.max(1);
                st.next_system_user_seq = seq + 1;
                let su = SystemUser {
                    id: Uuid::new_v4(),
                    seq,
                    integration_title: r
                        .integration_title
                        .clone()
                        .unwrap_or_else(|| system.display_name()),
                    system_id: r.system_id.clone(),
                    reportee_org_no: r.party_org_no.clone(),
                    supplier_org_no: system.vendor_org().to_string(),
                    external_ref: r.external_ref.clone(),
                    user_type: kind.to_string(),
                    rights: r.rights.clone(),
                    access_packages: r.access_packages.clone(),
                    created: Utc::now(),
                    is_deleted: false,
                };
                system_user_id = Some(su.id);
                st.system_users.insert(su.id, su);
                "Accepted"
            }
        };
        if let Some(stored) = st.requests.get_mut(&id) {
            stored.status = status.to_string();
            stored.system_user_id = system_user_id;
        }
        app.persist(st).await.map_err(|e| {
            tracing::error!("could not save sandbox state: {e}");
            DecideError::Save(e.to_string())
        })?;
        tracing::info!(request_id = %id, kind, status, "customer decided");
        return Ok(DecisionOutcome {
            id: id.to_string(),
            kind,
            status: status.to_string(),
            system_user_id: system_user_id.map(|u| u.to_string()),
            redirect_url: r.redirect_url.clone(),
        });
    }
    if let Some(c) = st.change_requests.get(&id).filter(|c| !c.deleted).cloned() {
        if expect_kind.is_some_and(|k| k != "change") {
            return Err(REQUEST_NOT_FOUND.into());
        }
        match c.status.as_str() {
            "New" => {}
            "Accepted" => return Err(EXTERNAL_REQUEST_ID_ALREADY_ACCEPTED.into()),
            "Denied" => return Err(EXTERNAL_REQUEST_ID_DENIED.into()),
            "Rejected" => return Err(EXTERNAL_REQUEST_ID_REJECTED.into()),
            _ => return Err(CHANGE_REQUEST_STATUS_NOT_NEW.into()),
        }
        let status = match decision {
            Decision::Reject => "Rejected",
            Decision::Approve => {
                let Some(su) = st
                    .system_users
                    .get_mut(&c.system_user_id)
                    .filter(|s| !s.is_deleted)
                else {
                    return Err(SYSTEM_USER_NOT_FOUND.into());
                };
                su.rights
                    .retain(|r| !c.unwanted_rights.iter().any(|u| u.same_as(r)));
                for r in &c.required_rights {
                    if !su.rights.iter().any(|x| x.same_as(r)) {
                        su.rights.push(r.clone());
                    }
                }
                su.access_packages
                    .retain(|p| !c.unwanted_access_packages.contains(p));
                for p in &c.required_access_packages {
                    if !su.access_packages.contains(p) {
                        su.access_packages.push(p.clone());
                    }
                }
                "Accepted"
            }
        };
        if let Some(stored) = st.change_requests.get_mut(&id) {
            stored.status = status.to_string();
        }
        app.persist(st).await.map_err(|e| {
            tracing::error!("could not save sandbox state: {e}");
            DecideError::Save(e.to_string())
        })?;
        tracing::info!(change_request_id = %id, status, "customer decided on a change request");
        return Ok(DecisionOutcome {
            id: id.to_string(),
            kind: "change",
            status: status.to_string(),
            system_user_id: Some(c.system_user_id.to_string()),
            redirect_url: c.redirect_url.clone(),
        });
    }
    Err(REQUEST_NOT_FOUND.into())
}
