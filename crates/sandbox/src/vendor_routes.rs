//! The vendor routes of the route table ([`crate::routes`] in lib.rs), each with the ownership
//! check it makes and what another vendor gets (issue 14: one vendor must not read or change
//! another's systems, requests, change requests or system users).
//!
//! The list is the one the isolation property test (tests/sandbox_isolation.rs in the main
//! crate) walks. A unit test below reads the route table's source and fails when a route whose
//! path contains `/vendor` is registered there but missing here (or listed here but gone there),
//! so a new vendor route cannot escape the test.
//!
//! "Vendor" is the organisation in the token's `consumer` claim. File names are those of
//! Altinn/altinn-authentication (src/Authentication/Controllers and Services); line numbers are
//! at commit ad4f6f36.

/// What a vendor route acts on (the object another vendor must not reach).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A registered system (path `{system_id}`), or in `POST systemregister/vendor` the vendor
    /// named in the body.
    System,
    /// The list of the caller's own systems (`GET systemregister/vendor`).
    OwnSystems,
    /// A standard system-user request (path `{request_id}`; the DELETE takes an agent request's
    /// id too).
    Request,
    /// An agent system-user request (path `{request_id}`).
    AgentRequest,
    /// The (system, customer, externalRef) triple of a standard request (byexternalref routes and
    /// the create route's body).
    RequestRef,
    /// The (system, customer, externalRef) triple of an agent request.
    AgentRequestRef,
    /// A change request (path `{request_id}`).
    ChangeRequest,
    /// The (system, customer, externalRef) triple of a change request.
    ChangeRequestRef,
    /// A system user (query `system-user-id`, or the byquery triple).
    SystemUser,
}

/// What the real service answers a vendor asking about another vendor's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403 with an empty body (`Forbid()` after AuthenticationHelper.HasWriteAccess).
    Forbidden,
    /// 404 AUTH-00011 "The Id does not refer to a Registered System." (ValidateVendorOrgNo).
    SystemIdNotFound,
    /// 401 (`Unauthorized()`).
    Unauthorized,
    /// 404 (`NotFound()`).
    NotFound,
    /// 200, listing only the caller's own systems.
    OnlyOwn,
}

/// One vendor route.
#[derive(Debug, Clone, Copy)]
pub struct VendorRoute {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template exactly as registered (`{name}` for a path parameter).
    pub path: &'static str,
    /// What it acts on.
    pub target: Target,
    /// What another vendor gets.
    pub refusal: Refusal,
    /// Where the real service makes the check (file:line).
    pub real: &'static str,
    /// The real service makes no vendor check here; the sandbox refuses anyway (issue 14).
    pub stricter_than_real: bool,
}

/// One table row: `(method, path under /authentication/api/v1, target, refusal, real file:line)`,
/// `stricter` when the real service has no vendor check there.
macro_rules! route {
    ($method:literal, $path:literal, $target:ident, $refusal:ident, $real:literal) => {
        route!($method, $path, $target, $refusal, $real, false)
    };
    ($method:literal, $path:literal, $target:ident, $refusal:ident, $real:literal, $stricter:literal) => {
        VendorRoute {
            method: $method,
            path: concat!("/authentication/api/v1", $path),
            target: Target::$target,
            refusal: Refusal::$refusal,
            real: $real,
            stricter_than_real: $stricter,
        }
    };
}

/// Every vendor route of the route table, with its ownership rule, in the table's order.
pub const VENDOR_ROUTES: &[VendorRoute] = &[
    // ---- SystemRegisterController (SR), AuthenticationHelper.HasWriteAccess ----
    // The body's vendor must be the caller (after validation is computed, before it is returned).
    route!(
        "POST",
        "/systemregister/vendor",
        System,
        Forbidden,
        "SystemRegisterController.cs:306-309"
    ),
    // Filtered by the caller's org; no consumer -> Forbid.
    route!(
        "GET",
        "/systemregister/vendor",
        OwnSystems,
        OnlyOwn,
        "SystemRegisterController.cs:76-92"
    ),
    // 404 when absent, then HasWriteAccess.
    route!(
        "GET",
        "/systemregister/vendor/{system_id}",
        System,
        Forbidden,
        "SystemRegisterController.cs:138-146"
    ),
    // 404 text when absent; HasWriteAccess before the body's vendor is compared.
    route!(
        "PUT",
        "/systemregister/vendor/{system_id}",
        System,
        Forbidden,
        "SystemRegisterController.cs:166-180"
    ),
    // ValidationProblem when absent, then HasWriteAccess.
    route!(
        "DELETE",
        "/systemregister/vendor/{system_id}",
        System,
        Forbidden,
        "SystemRegisterController.cs:418-429"
    ),
    route!(
        "PUT",
        "/systemregister/vendor/{system_id}/rights",
        System,
        Forbidden,
        "SystemRegisterController.cs:344-348"
    ),
    route!(
        "PUT",
        "/systemregister/vendor/{system_id}/accesspackages",
        System,
        Forbidden,
        "SystemRegisterController.cs:382-386"
    ),
    // ---- RequestSystemUserController (RSU) / RequestSystemUserService (RSUS) ----
    // Order: active system user for the triple (AUTH-00004, before any vendor check),
    // existing request (returned only to its vendor), system exists (11), ValidateExternalRequestId
    // (6/7/8/9, also before the vendor check), ValidateVendorOrgNo (11).
    route!(
        "POST",
        "/systemuser/request/vendor",
        RequestRef,
        SystemIdNotFound,
        "RequestSystemUserController.cs:116-131; RequestSystemUserService.cs:60-76"
    ),
    route!(
        "POST",
        "/systemuser/request/vendor/agent",
        AgentRequestRef,
        SystemIdNotFound,
        "RequestSystemUserController.cs:169-184; RequestSystemUserService.cs:176-192"
    ),
    route!(
        "GET",
        "/systemuser/request/vendor/{request_id}",
        Request,
        SystemIdNotFound,
        "RequestSystemUserService.cs:370-380, 433-448"
    ),
    // stricter than real: RequestSystemUserService.cs:818-827 does no vendor check (any vendor
    // deletes any request by id, 202); the sandbox answers as the sibling GET does.
    route!(
        "DELETE",
        "/systemuser/request/vendor/{request_id}",
        Request,
        SystemIdNotFound,
        "RequestSystemUserController.cs:748-759; RequestSystemUserService.cs:818-827",
        true
    ),
    // 10 -> 25 (a standard request) -> vendor.
    route!(
        "GET",
        "/systemuser/request/vendor/agent/{request_id}",
        AgentRequest,
        SystemIdNotFound,
        "RequestSystemUserService.cs:401-416"
    ),
    // 10 if none, then the vendor of the path's system.
    route!(
        "GET",
        "/systemuser/request/vendor/byexternalref/{system_id}/{org_no}/{external_ref}",
        RequestRef,
        SystemIdNotFound,
        "RequestSystemUserService.cs:338-349"
    ),
    route!(
        "GET",
        "/systemuser/request/vendor/agent/byexternalref/{system_id}/{org_no}/{external_ref}",
        AgentRequestRef,
        SystemIdNotFound,
        "RequestSystemUserService.cs:856-867"
    ),
    route!(
        "GET",
        "/systemuser/request/vendor/bysystem/{system_id}",
        System,
        SystemIdNotFound,
        "RequestSystemUserService.cs:762-772"
    ),
    route!(
        "GET",
        "/systemuser/request/vendor/agent/bysystem/{system_id}",
        System,
        SystemIdNotFound,
        "RequestSystemUserService.cs:793-803"
    ),
    // ---- ChangeRequestSystemUserController (CR) / ChangeRequestSystemUserService (CRS) ----
    // System user looked up first (AUTH-00015 for anyone), then its supplier must be the caller.
    route!(
        "POST",
        "/systemuser/changerequest/vendor",
        SystemUser,
        Unauthorized,
        "ChangeRequestSystemUserController.cs:106-123"
    ),
    route!(
        "GET",
        "/systemuser/changerequest/vendor/{request_id}",
        ChangeRequest,
        SystemIdNotFound,
        "ChangeRequestSystemUserService.cs:225-235"
    ),
    // stricter than real: ChangeRequestSystemUserService.cs:492-501 does no vendor check.
    route!(
        "DELETE",
        "/systemuser/changerequest/vendor/{request_id}",
        ChangeRequest,
        SystemIdNotFound,
        "ChangeRequestSystemUserController.cs:413-424; ChangeRequestSystemUserService.cs:492-501",
        true
    ),
    route!(
        "GET",
        "/systemuser/changerequest/vendor/byexternalref/{system_id}/{org_no}/{external_ref}",
        ChangeRequestRef,
        SystemIdNotFound,
        "ChangeRequestSystemUserService.cs:194-205"
    ),
    route!(
        "GET",
        "/systemuser/changerequest/vendor/bysystem/{system_id}",
        System,
        SystemIdNotFound,
        "ChangeRequestSystemUserService.cs:473-483"
    ),
    // ---- SystemUserController (SU) / SystemUserService (SUS) ----
    route!(
        "GET",
        "/systemuser/vendor/bysystem/{system_id}",
        System,
        SystemIdNotFound,
        "SystemUserService.cs:292-302"
    ),
    // Found and SupplierOrgNo == caller, else a bare NotFound().
    route!(
        "GET",
        "/systemuser/vendor/byquery",
        SystemUser,
        NotFound,
        "SystemUserController.cs:266-274"
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `(METHOD, path)` pairs registered in `routes()` whose path contains `/vendor`, read
    /// from lib.rs's source: axum's Router cannot list its routes.
    fn registered_vendor_routes() -> BTreeSet<(String, String)> {
        let source = include_str!("lib.rs");
        let start = source.find("fn routes(").expect("routes() in lib.rs");
        let body = &source[start..];
        let end = body.find("\n}\n").unwrap_or(body.len());
        // Comments may mention methods; drop them.
        let code: String = body[..end]
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = BTreeSet::new();
        for chunk in code.split(".route(").skip(1) {
            let chunk = chunk.split(".layer(").next().unwrap_or(chunk);
            let Some(open) = chunk.find('"') else {
                continue;
            };
            let rest = &chunk[open + 1..];
            let Some(close) = rest.find('"') else {
                continue;
            };
            let path = rest[..close]
                .replace("{V1}", "/authentication/api/v1")
                .replace("{{", "{")
                .replace("}}", "}");
            if !path.contains("/vendor") {
                continue;
            }
            let after = &rest[close..];
            for method in ["get", "post", "put", "delete", "patch"] {
                let needle = format!("{method}(");
                let mut at = 0;
                while let Some(i) = after[at..].find(&needle) {
                    let pos = at + i;
                    let before = after[..pos].chars().last().unwrap_or(' ');
                    if !before.is_ascii_alphanumeric() && before != '_' && before != ':' {
                        found.insert((method.to_ascii_uppercase(), path.clone()));
                    }
                    at = pos + needle.len();
                }
            }
        }
        found
    }

    #[test]
    fn every_vendor_route_of_the_route_table_is_listed_once() {
        let registered = registered_vendor_routes();
        assert!(
            registered.len() >= 20,
            "the route-table reader found too few vendor routes: {registered:?}"
        );
        let listed: BTreeSet<(String, String)> = VENDOR_ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        assert_eq!(listed.len(), VENDOR_ROUTES.len(), "a route is listed twice");
        let missing: Vec<_> = registered.difference(&listed).collect();
        let stale: Vec<_> = listed.difference(&registered).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "vendor_routes::VENDOR_ROUTES is out of step with routes() in lib.rs\n  missing here: {missing:?}\n  gone from the route table: {stale:?}\n  fix: add the route with its ownership check (real file:line) and refusal"
        );
    }

    #[test]
    fn the_routes_without_a_real_vendor_check_are_exactly_the_two_deletes() {
        let stricter: Vec<_> = VENDOR_ROUTES
            .iter()
            .filter(|r| r.stricter_than_real)
            .map(|r| (r.method, r.path))
            .collect();
        assert_eq!(
            stricter,
            [
                (
                    "DELETE",
                    "/authentication/api/v1/systemuser/request/vendor/{request_id}"
                ),
                (
                    "DELETE",
                    "/authentication/api/v1/systemuser/changerequest/vendor/{request_id}"
                ),
            ]
        );
        assert!(VENDOR_ROUTES.iter().all(|r| r.real.contains(".cs:")));
    }
}
