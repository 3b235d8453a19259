//! The customer's decisions on requests (used by the approval pages and the `/sandbox` admin
//! routes): the checks of RequestSystemUserService.ApproveAndCreateSystemUser /
//! ApproveAndCreateAgentSystemUser (then SystemUserService.CreateSystemUserFromApprovedVendorRequest)
//! and ChangeRequestSystemUserService.ApproveAndDelegateChangeOnSystemUser, in their order,
//! made by a seeded person of the customer organisation (see `orgs::SeedPerson`).
//!
//! File references: RSUS = src/Authentication/Services/RequestSystemUserService.cs,
//! SUS = src/Authentication/Services/SystemUserService.cs,
//! CRS = src/Authentication/Services/ChangeRequestSystemUserService.cs,
//! DH = src/Authentication/Helpers/DelegationHelper.cs, P = src/Core/Problems/Problem.cs
//! (Altinn/altinn-authentication@ad4f6f36).
//!
//! A refusal leaves the request `New` (status only changes in SetRequestApproved, RSUS:550 /
//! CRS PersistApprovalOfChangeRequest) and is kept on the request as `last_refusal`, so the
//! vendor can see it through `GET /sandbox/requests/{id}` (sandbox-only).

use super::*;
use crate::orgs::{self, DelegationReason, Gap, SeedPerson};
use crate::state::Refusal;

// mirrors: P (codes, statuses and titles verbatim; line of each descriptor)
/// P:113-114
pub const DELEGATION_MISSING_ROLE_ACCESS: AuthProblem = AuthProblem {
    code: 16,
    status: 403,
    title: "DelegationCheck failed with error: Has not access by a delegation of role in ER or Altinn.",
};
/// P:119-120
pub const SYSTEM_NAME_NOT_FOUND: AuthProblem = AuthProblem {
    code: 17,
    status: 404,
    title: "The SystemName was not found.",
};
/// P:125-126
pub const DELEGATION_MISSING_DELEGATION_ACCESS: AuthProblem = AuthProblem {
    code: 18,
    status: 403,
    title: "DelegationCheck failed with error: Has not access by direct delegation.",
};
/// P:131-132
pub const DELEGATION_MISSING_SRR_RIGHT_ACCESS: AuthProblem = AuthProblem {
    code: 19,
    status: 403,
    title: "DelegationCheck failed with error: The service requires explicit access in SRR and the reportee is missing this.",
};
/// P:137-138
pub const DELEGATION_INSUFFICIENT_AUTHENTICATION_LEVEL: AuthProblem = AuthProblem {
    code: 20,
    status: 403,
    title: "DelegationCheck failed with error: The service requires explicit authentication level and the reportee is missing this.",
};
/// P:330-331
pub const PACKAGE_DELEGATION_MISSING_REQUIRED_ACCESS: AuthProblem = AuthProblem {
    code: 53,
    status: 400,
    title: "The user does not have enough access to delegate the requested access packages",
};
/// P:408-409
pub const USER_IS_NOT_ACCESS_MANAGER: AuthProblem = AuthProblem {
    code: 66,
    status: 403,
    title: "The request requires logged in user to have accessmanager write.",
};
/// P:420-421
pub const DELEGATION_MISSING_PACKAGE_ACCESS: AuthProblem = AuthProblem {
    code: 68,
    status: 403,
    title: "DelegationCheck failed with error: Has not access by a delegation of package in Altinn.",
};
/// P:426-427
pub const DELEGATION_ACCESS_LIST_VALIDATION_FAIL: AuthProblem = AuthProblem {
    code: 69,
    status: 403,
    title: "DelegationCheck failed with error: The receiver does not have the right based on Access List delegation.",
};
/// P:432-433
pub const DELEGATION_RESOURCE_NOT_DELEGABLE: AuthProblem = AuthProblem {
    code: 70,
    status: 403,
    title: "DelegationCheck failed with error: The resource cannot be delegated to another user or entity.",
};
/// P:438-439
pub const DELEGATION_RESOURCE_IS_MASKINPORTEN_SCHEMA: AuthProblem = AuthProblem {
    code: 71,
    status: 403,
    title: "DelegationCheck failed with error: The resource is not delegable because it is a Maskinporten schema resource.",
};

/// A refusal: the Altinn problem, the sandbox's explanation of it, and the problem's
/// extension member where the real one has one (AUTH-00063/64/65).
#[derive(Debug, Clone)]
pub struct Refused {
    pub problem: AuthProblem,
    pub refusal: Refusal,
    pub extension: Option<(&'static str, String)>,
}

/// Why a decision failed.
#[derive(Debug)]
pub enum DecideError {
    /// An Altinn problem that is not an approval refusal (unknown id, not New, ...).
    Problem(AuthProblem),
    /// An approval (or page load) refused by one of the checks; recorded on the request.
    Refused(Box<Refused>),
    /// `--as` / the page named nobody of the customer organisation.
    UnknownPerson {
        org: String,
        who: String,
    },
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
            // The Altinn problem as the customer's browser gets it, plus (sandbox-only) the
            // explanation as the extension member `sandboxRefusal`.
            DecideError::Refused(r) => {
                let mut members = serde_json::Map::new();
                if let Some((k, v)) = &r.extension {
                    members.insert((*k).to_string(), serde_json::json!(v));
                }
                members.insert(
                    "sandboxRefusal".into(),
                    serde_json::to_value(&r.refusal).unwrap_or_default(),
                );
                r.problem.with_members(members)
            }
            DecideError::UnknownPerson { org, who } => problem::sandbox_error(
                StatusCode::BAD_REQUEST,
                "unknown_person",
                format!(
                    "{who:?} is not a seeded person of organisation {org}; choose one of: {}",
                    people_list(&org)
                ),
            ),
            DecideError::Save(e) => problem::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("The sandbox could not save its state file: {e}"),
            ),
        }
    }
}

/// "kari (Kari Havbris, DAGL), per (Per Bakke, ANSATT)"
pub fn people_list(org: &str) -> String {
    orgs::people_of(org)
        .iter()
        .map(|p| format!("{} ({}, {})", p.id, p.name, p.role))
        .collect::<Vec<_>>()
        .join(", ")
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
    /// The seeded person who decided (sandbox-only).
    pub person: String,
}

/// The person acting for `org`: the named one, or the org's default approver.
pub fn resolve_person(org: &str, who: Option<&str>) -> Result<&'static SeedPerson, DecideError> {
    match who.map(str::trim).filter(|w| !w.is_empty()) {
        None => Ok(orgs::default_person(org)),
        Some(w) => orgs::find_person(org, w).ok_or_else(|| DecideError::UnknownPerson {
            org: org.to_string(),
            who: w.to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// What the checks need from the Resource Registry and Access Management
// ---------------------------------------------------------------------------------------------

/// `(is MaskinportenSchema, delegable)` of a resource, from the sandbox's resource catalogue
/// (what Access Management's CheckDelegationAccess reports as ResourceIsMaskinPortenSchema /
/// ResourceNotDelegable); `None` for a resource the catalogue does not know (only possible in
/// the lenient resource mode).
fn resource_facts(id: &str) -> Option<(bool, bool)> {
    crate::catalogue::resource(id).map(|r| (r.is_maskinporten_schema(), r.delegable))
}

/// `(isDelegable, isAssignable)` of an access package, from the sandbox's package catalogue
/// (AccessManagementClient.cs:380-405 reads the same two flags).
fn package_flags(urn: &str) -> Option<(bool, bool)> {
    crate::catalogue::package(urn).map(|p| (p.is_delegable(), p.is_assignable()))
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

fn refused(
    problem: AuthProblem,
    person: &SeedPerson,
    subject: Option<String>,
    detail: String,
    fix: String,
) -> Refused {
    Refused {
        problem,
        refusal: Refusal {
            code: problem.code_string(),
            status: problem.status,
            title: problem.title.to_string(),
            detail,
            subject,
            fix,
            person: person.id.to_string(),
            person_name: person.name.to_string(),
            at: Utc::now(),
        },
        extension: None,
    }
}

fn who(person: &SeedPerson) -> String {
    format!("{} ({})", person.name, person.role)
}

/// AUTH-00066: the PDP does not permit the person to write altinn_access_management for the
/// customer (RSUS:925-953 for standard and agent requests, CRS:890-961 for change requests).
/// guess: the real page offers "escalate" to a user who has the party in their reportee list
/// (RSUS:945); the sandbox's people have no such relation, so they all get AUTH-00066.
fn access_manager_check(person: &SeedPerson, org: &str) -> Result<(), Box<Refused>> {
    if person.access_manager {
        return Ok(());
    }
    Err(Box::new(refused(
        USER_IS_NOT_ACCESS_MANAGER,
        person,
        None,
        format!(
            "{} is not an access manager (tilgangsstyrer) for organisation {org}, so Altinn does not let them see or approve the request.",
            who(person)
        ),
        format!(
            "Nothing for the vendor to change: someone with access-manager rights in {org} (e.g. the general manager, {}) must approve.",
            orgs::default_person(org).name
        ),
    )))
}

/// mirrors: DH.MapDetailExternalErrorListToProblemInstance (DH:205-224)
fn reason_problem(reason: DelegationReason) -> AuthProblem {
    match reason {
        DelegationReason::MissingPackageAccess => DELEGATION_MISSING_PACKAGE_ACCESS,
        DelegationReason::MissingRoleAccess => DELEGATION_MISSING_ROLE_ACCESS,
        DelegationReason::MissingDelegationAccess => DELEGATION_MISSING_DELEGATION_ACCESS,
        DelegationReason::MissingSrrRightAccess => DELEGATION_MISSING_SRR_RIGHT_ACCESS,
        DelegationReason::InsufficientAuthenticationLevel => {
            DELEGATION_INSUFFICIENT_AUTHENTICATION_LEVEL
        }
        DelegationReason::AccessListValidationFail => DELEGATION_ACCESS_LIST_VALIDATION_FAIL,
    }
}

fn reason_words(reason: DelegationReason) -> &'static str {
    match reason {
        DelegationReason::MissingPackageAccess => "has no access package that gives this right",
        DelegationReason::MissingRoleAccess => "has no role in ER or Altinn that gives this right",
        DelegationReason::MissingDelegationAccess => {
            "has not been given this right by direct delegation"
        }
        DelegationReason::MissingSrrRightAccess => {
            "lacks the explicit access in the service owner's rights register (SRR) the service requires"
        }
        DelegationReason::InsufficientAuthenticationLevel => {
            "is logged in at a lower security level than the service requires"
        }
        DelegationReason::AccessListValidationFail => {
            "belongs to an organisation that is not on the resource's access list"
        }
    }
}

fn resource_id(right: &Right) -> String {
    // mirrors: DH:73 — the resource registry attribute only
    right
        .resource
        .iter()
        .find(|a| a.id == "urn:altinn:resource")
        .map(|a| a.value.clone())
        .unwrap_or_default()
}

/// The single-rights delegation check of DH.UserDelegationCheckForReportee (DH:36-126): per
/// right, Access Management's CheckDelegationAccess; the first right that fails stops the
/// check and its first reason is mapped (DH:205-224).
/// Resource-level reasons first (AM answers them whoever asks), then the person's own.
fn rights_delegation_check(rights: &[Right], person: &SeedPerson) -> Result<(), Box<Refused>> {
    for right in rights {
        let id = resource_id(right);
        if let Some((maskinporten_schema, delegable)) = resource_facts(&id) {
            if maskinporten_schema {
                return Err(Box::new(refused(
                    DELEGATION_RESOURCE_IS_MASKINPORTEN_SCHEMA,
                    person,
                    Some(id.clone()),
                    format!(
                        "The resource {id} is a MaskinportenSchema resource; it cannot be delegated to a system user."
                    ),
                    format!(
                        "The vendor must remove the MaskinportenSchema resource {id} from the system (PUT systemregister/vendor/{{id}}/rights) and send a new request; the API's scope belongs on the Maskinporten client instead."
                    ),
                )));
            }
            if !delegable {
                return Err(Box::new(refused(
                    DELEGATION_RESOURCE_NOT_DELEGABLE,
                    person,
                    Some(id.clone()),
                    format!(
                        "The resource {id} is marked not delegable (delegable: false) in the resource registry."
                    ),
                    format!(
                        "The vendor must remove {id} from the system's rights and send a new request (ask the resource owner for a delegable resource)."
                    ),
                )));
            }
        }
        let gap = person.gaps.iter().find_map(|g| match g {
            Gap::AnyResource(r) => Some(*r),
            Gap::Resource(rid, r) if *rid == id => Some(*r),
            _ => None,
        });
        if let Some(reason) = gap {
            return Err(Box::new(refused(
                reason_problem(reason),
                person,
                Some(id.clone()),
                format!(
                    "{} cannot delegate the right {id}: the approver {}.",
                    who(person),
                    reason_words(reason)
                ),
                format!(
                    "The customer must have someone who holds {id} approve (or give {} that access); otherwise the vendor can drop {id} from the request.",
                    person.name
                ),
            )));
        }
    }
    Ok(())
}

/// The access-package delegation check of DH.ValidateDelegationRightsForAccessPackages
/// (DH:235-335): any package the person cannot delegate -> AUTH-00053 (no per-reason mapping).
/// AUTH-00052 (package not on the system) cannot happen here: ValidateAccessPackages ran first.
fn package_delegation_check(
    packages: &[AccessPackage],
    person: &SeedPerson,
) -> Result<(), Box<Refused>> {
    let lacking: Vec<String> = packages
        .iter()
        .filter_map(|p| p.urn.clone())
        .filter(|urn| {
            person.gaps.iter().any(|g| match g {
                Gap::AnyPackage => true,
                Gap::Package(u) => u == urn,
                _ => false,
            })
        })
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    let list = lacking.join(", ");
    Err(Box::new(refused(
        PACKAGE_DELEGATION_MISSING_REQUIRED_ACCESS,
        person,
        Some(list.clone()),
        format!(
            "{} does not hold the access package(s) {list}, so cannot delegate them.",
            who(person)
        ),
        format!(
            "The customer must have someone who holds {list} (e.g. the main administrator) approve; otherwise the vendor can drop the package(s) from the request."
        ),
    )))
}

/// mirrors: SUS.ValidateAccessPackages (SUS:682-757): AUTH-00063 (not on the system, extension
/// `NotFoundPackages`), then AUTH-00064 (standard: not isAssignable) / AUTH-00065 (agent: not
/// isDelegable), extension `NotDelegablePackages`.
fn package_validation(
    requested: &[AccessPackage],
    system: &System,
    agent: bool,
    person: &SeedPerson,
) -> Result<(), Box<Refused>> {
    let urn = |p: &AccessPackage| p.urn.clone().unwrap_or_default();
    let not_found: Vec<String> = if system.access_packages.len() < requested.len() {
        requested.iter().map(urn).collect()
    } else {
        requested
            .iter()
            .filter(|p| !system.access_packages.iter().any(|s| s.urn == p.urn))
            .map(urn)
            .collect()
    };
    if !not_found.is_empty() {
        let list = not_found.join(", ");
        let mut r = refused(
            ACCESS_PACKAGE_NOT_FOUND,
            person,
            Some(list.clone()),
            format!("The request asks for access package(s) the system does not list: {list}."),
            format!(
                "The vendor must add {list} to the system (PUT systemregister/vendor/{{id}}/accesspackages) or send a request without them."
            ),
        );
        r.extension = Some(("NotFoundPackages", list));
        return Err(Box::new(r));
    }
    // guess: a package the catalogue does not know passes here; creating the request ran the
    // same check against the same catalogue.
    let not_delegable: Vec<String> = requested
        .iter()
        .map(urn)
        .filter(|u| {
            package_flags(u).is_some_and(
                |(delegable, assignable)| {
                    if agent { !delegable } else { !assignable }
                },
            )
        })
        .collect();
    if !not_delegable.is_empty() {
        let list = not_delegable.join(", ");
        let (problem, detail, fix) = if agent {
            (
                ACCESS_PACKAGE_NOT_DELEGABLE_AGENT,
                format!(
                    "The access package(s) {list} are not meant for client relationships (isDelegable: false), so an agent system user cannot get them."
                ),
                format!(
                    "The vendor must remove {list} from the agent request (and the system), or ask for a standard system user instead."
                ),
            )
        } else {
            (
                ACCESS_PACKAGE_NOT_DELEGABLE_STANDARD,
                format!(
                    "The access package(s) {list} are meant for client relationships (isAssignable: false), so a standard system user cannot get them."
                ),
                format!(
                    "The vendor must remove {list} from the request, or send an agent request (system user for clients) instead."
                ),
            )
        };
        let mut r = refused(problem, person, Some(list.clone()), detail, fix);
        r.extension = Some(("NotDelegablePackages", list));
        return Err(Box::new(r));
    }
    Ok(())
}

fn simple(problem: AuthProblem, person: &SeedPerson, detail: &str, fix: &str) -> Box<Refused> {
    Box::new(refused(
        problem,
        person,
        None,
        detail.to_string(),
        fix.to_string(),
    ))
}

/// The approval checks for a standard or agent request, in the real order, up to creating the
/// system user. Returns the system.
fn request_checks(st: &World, r: &Request, person: &SeedPerson) -> Result<System, Box<Refused>> {
    let agent = r.kind == RequestKind::Agent;
    // SUS:420-424 (and RSUS:584-588 for agent): GetRegisteredSystemById has no is_deleted
    // filter, so a deleted system is still approvable (its system user never gets a token).
    let Some(system) = st.systems.get(&r.system_id).cloned() else {
        return Err(simple(
            SYSTEM_ID_NOT_FOUND,
            person,
            "The system the request is for does not exist.",
            "The vendor must register the system and send a new request.",
        ));
    };
    let no_name = || {
        simple(
            SYSTEM_NAME_NOT_FOUND,
            person,
            "The system has no Norwegian bokmål name (name.nb).",
            "The vendor must give the system a name.nb (PUT systemregister/vendor/{id}).",
        )
    };
    // RSUS:590-594: the agent path maps the system's name.nb before SUS runs.
    if agent && !system.name.contains_key("nb") {
        return Err(no_name());
    }
    // SUS:426-436: the party was resolved when the request was created (AUTH-00000 there).
    // SUS:439-451
    if active_system_user(st, &r.party_org_no, &r.external_ref, &r.system_id).is_some() {
        return Err(simple(
            SYSTEM_USER_ALREADY_EXISTS,
            person,
            "The customer already has a system user for this system and external reference.",
            "Use the existing system user, or the vendor deletes it / uses another externalRef.",
        ));
    }
    // SUS:453-460
    if !r.rights.is_empty() && !rights_on_system(&r.rights, &system) {
        return Err(simple(
            RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE,
            person,
            "The request asks for a right the system does not list.",
            "The vendor must add the right to the system (PUT systemregister/vendor/{id}/rights) or send a request without it.",
        ));
    }
    // SUS:462-469
    if !r.access_packages.is_empty() {
        package_validation(&r.access_packages, &system, agent, person)?;
    }
    if !agent {
        // SUS:471-485 (Standard only)
        if !r.rights.is_empty() {
            rights_delegation_check(&r.rights, person)?;
        }
        // SUS:487-498 (Standard only)
        if !r.access_packages.is_empty() {
            package_delegation_check(&r.access_packages, person)?;
        }
        // SUS:500-505
        if !system.name.contains_key("nb") {
            return Err(no_name());
        }
    }
    Ok(system)
}

/// The change-request packages that are not on the system user yet (CRS.VerifyAccessPackages,
/// CRS:634-660): only these are delegation-checked.
fn packages_to_add(c: &ChangeRequest, su: &SystemUser) -> Vec<AccessPackage> {
    c.required_access_packages
        .iter()
        .filter(|p| !su.access_packages.contains(p))
        .cloned()
        .collect()
}

/// The approval checks of a change request after AUTH-00010/13 (CRS:324-388).
fn change_checks(st: &World, c: &ChangeRequest, person: &SeedPerson) -> Result<(), Box<Refused>> {
    // CRS:324-328 (no is_deleted filter, as for requests)
    if !st.systems.contains_key(&c.system_id) {
        return Err(simple(
            SYSTEM_ID_NOT_FOUND,
            person,
            "The system the change request is for does not exist.",
            "The vendor must register the system again and send a new change request.",
        ));
    }
    // CRS:332-336
    let Some(su) = st
        .system_users
        .get(&c.system_user_id)
        .filter(|s| !s.is_deleted)
    else {
        return Err(simple(
            SYSTEM_USER_NOT_FOUND,
            person,
            "The system user the change request is for no longer exists.",
            "The vendor must send a new system-user request instead.",
        ));
    };
    // CRS:366-375: any failure of the rights check is AUTH-00001, not the mapped 16..71.
    if !c.required_rights.is_empty()
        && let Err(inner) = rights_delegation_check(&c.required_rights, person)
    {
        let mut r = refused(
            RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE,
            person,
            inner.refusal.subject.clone(),
            format!(
                "{} (Access Management: {})",
                inner.refusal.detail, inner.refusal.code
            ),
            inner.refusal.fix.clone(),
        );
        r.refusal.title = RIGHTS_NOT_FOUND_OR_NOT_DELEGABLE.title.to_string();
        return Err(Box::new(r));
    }
    // CRS:382-388: the package check on the diff only
    let add = packages_to_add(c, su);
    if !add.is_empty() {
        package_delegation_check(&add, person)?;
    }
    Ok(())
}

/// What the approval page checks when it loads for `person`: AUTH-00066 (RSUS:907-953,
/// CRS:890-961) and, for a change request, the package delegation check too (CRS:925-936).
/// A refusal is recorded on the request.
pub async fn check_page_load(
    app: &Shared,
    id: Uuid,
    person: &'static SeedPerson,
) -> Result<(), DecideError> {
    let mut guard = app.lock().await;
    let st = &mut *guard;
    let result = if let Some(r) = st.requests.get(&id).filter(|r| !r.deleted) {
        access_manager_check(person, &r.party_org_no)
    } else if let Some(c) = st.change_requests.get(&id).filter(|c| !c.deleted) {
        // CRS:925-936 checks every required package when the page loads (the request's own
        // list, not the diff the approval uses at CRS:382-384).
        access_manager_check(person, &c.party_org_no).and_then(|()| {
            if c.required_access_packages.is_empty() {
                Ok(())
            } else {
                package_delegation_check(&c.required_access_packages, person)
            }
        })
    } else {
        Ok(())
    };
    match result {
        Ok(()) => Ok(()),
        Err(refusal) => Err(record(app, st, id, refusal).await),
    }
}

/// Keep the refusal on the (New) request and hand it back as the error.
async fn record(app: &Shared, st: &mut World, id: Uuid, refused: Box<Refused>) -> DecideError {
    let stored = if let Some(r) = st.requests.get_mut(&id).filter(|r| r.status == "New") {
        r.last_refusal = Some(refused.refusal.clone());
        true
    } else if let Some(c) = st
        .change_requests
        .get_mut(&id)
        .filter(|c| c.status == "New")
    {
        c.last_refusal = Some(refused.refusal.clone());
        true
    } else {
        false
    };
    if stored && let Err(e) = app.persist(st).await {
        tracing::error!("could not save sandbox state: {e}");
        return DecideError::Save(e.to_string());
    }
    tracing::info!(request_id = %id, code = %refused.refusal.code, person = %refused.refusal.person, "approval refused");
    DecideError::Refused(refused)
}

/// Approve or reject any request by id, as `who` (a seeded person of the customer org; `None`:
/// its default approver). `expect_kind` restricts the lookup (the approval pages know which
/// kind they show).
pub async fn decide(
    app: &Shared,
    id: Uuid,
    decision: Decision,
    expect_kind: Option<&'static str>,
    who: Option<&str>,
) -> Result<DecisionOutcome, DecideError> {
    let mut guard = app.lock().await;
    let st = &mut *guard;
    if let Some(r) = st.requests.get(&id).filter(|r| !r.deleted).cloned() {
        let kind = match r.kind {
            RequestKind::Standard => "standard",
            RequestKind::Agent => "agent",
        };
        match expect_kind {
            // RSUS:999-1003: the agent approve path answers AUTH-00030
            Some("agent") if kind != "agent" => return Err(AGENT_REQUEST_NOT_FOUND.into()),
            Some(k) if k != kind => return Err(REQUEST_NOT_FOUND.into()),
            _ => {}
        }
        let person = resolve_person(&r.party_org_no, who)?;
        // The real approve/reject POSTs carry [Authorize(POLICY_ACCESS_MANAGEMENT_WRITE)]
        // (RSU:437-455, 491-509) and answer 403 with an empty body; the page load before it
        // answers AUTH-00066 (RSUS:953). guess: the sandbox answers AUTH-00066 here too, since
        // it is what the customer saw.
        // RSUS:1019-1022 / 1005-1008 (AUTH-00041/42, party != request org) cannot happen: the
        // person is chosen from the request's own organisation.
        if let Err(refusal) = access_manager_check(person, &r.party_org_no) {
            return Err(record(app, st, id, refusal).await);
        }
        // RSUS:538-541, 579-582 (reject: RSUS:612-654)
        if r.status != "New" {
            return Err(REQUEST_STATUS_NOT_NEW.into());
        }
        let mut system_user_id = None;
        let status = match decision {
            Decision::Reject => "Rejected",
            Decision::Approve => {
                let system = match request_checks(st, &r, person) {
                    Ok(s) => s,
                    Err(refusal) => return Err(record(app, st, id, refusal).await),
                };
                let seq = st.next_system_user_seq.max(1);
                st.next_system_user_seq = seq + 1;
                let su = SystemUser {
                    // SUS:507-509: Id = requestId (agent: RSUS:694); SystemUserRepository.cs:238-278
                    // inserts it as the system user's id.
                    id: r.id,
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
        tracing::info!(request_id = %id, kind, status, person = person.id, "customer decided");
        return Ok(DecisionOutcome {
            id: id.to_string(),
            kind,
            status: status.to_string(),
            system_user_id: system_user_id.map(|u| u.to_string()),
            redirect_url: r.redirect_url.clone(),
            person: person.id.to_string(),
        });
    }
    if let Some(c) = st.change_requests.get(&id).filter(|c| !c.deleted).cloned() {
        if expect_kind.is_some_and(|k| k != "change") {
            return Err(REQUEST_NOT_FOUND.into());
        }
        let person = resolve_person(&c.party_org_no, who)?;
        // CR:314-331 [Authorize(POLICY_ACCESS_MANAGEMENT_WRITE)]; the page: CRS:961
        if let Err(refusal) = access_manager_check(person, &c.party_org_no) {
            return Err(record(app, st, id, refusal).await);
        }
        // CRS:319-322 (approve), CRS:450-463 (reject): not New -> AUTH-00013 (409).
        // (AUTH-00006/8/9 come from CRS.ValidateStatus, used only when the vendor creates one.)
        if c.status != "New" {
            return Err(REQUEST_STATUS_NOT_NEW.into());
        }
        let status = match decision {
            Decision::Reject => "Rejected",
            Decision::Approve => {
                if let Err(refusal) = change_checks(st, &c, person) {
                    return Err(record(app, st, id, refusal).await);
                }
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
        tracing::info!(change_request_id = %id, status, person = person.id, "customer decided on a change request");
        return Ok(DecisionOutcome {
            id: id.to_string(),
            kind: "change",
            status: status.to_string(),
            system_user_id: Some(c.system_user_id.to_string()),
            redirect_url: c.redirect_url.clone(),
            person: person.id.to_string(),
        });
    }
    Err(match expect_kind {
        Some("agent") => AGENT_REQUEST_NOT_FOUND,
        _ => REQUEST_NOT_FOUND,
    }
    .into())
}

/// sandbox-only: `GET /sandbox/requests/{id}` -> `{id, kind, status, lastRefusal}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestState {
    pub id: String,
    pub kind: &'static str,
    pub status: String,
    pub party_org_no: String,
    pub last_refusal: Option<Refusal>,
}

/// The request's state for the sandbox admin route (no vendor check: the admin routes act for
/// the sandbox's operator).
pub async fn request_state(app: &Shared, id: Uuid) -> Option<RequestState> {
    let st = app.lock().await;
    if let Some(r) = st.requests.get(&id).filter(|r| !r.deleted) {
        return Some(RequestState {
            id: id.to_string(),
            kind: match r.kind {
                RequestKind::Standard => "standard",
                RequestKind::Agent => "agent",
            },
            status: r.status.clone(),
            party_org_no: r.party_org_no.clone(),
            last_refusal: r.last_refusal.clone(),
        });
    }
    st.change_requests
        .get(&id)
        .filter(|c| !c.deleted)
        .map(|c| RequestState {
            id: id.to_string(),
            kind: "change",
            status: c.status.clone(),
            party_org_no: c.party_org_no.clone(),
            last_refusal: c.last_refusal.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right(id: &str) -> Right {
        Right {
            action: None,
            resource: vec![AttributePair {
                id: "urn:altinn:resource".into(),
                value: id.into(),
            }],
        }
    }

    fn pkg(name: &str) -> AccessPackage {
        AccessPackage {
            urn: Some(format!("urn:altinn:accesspackage:{name}")),
        }
    }

    fn system(packages: Vec<AccessPackage>) -> System {
        System {
            internal_id: Uuid::new_v4(),
            id: "991825827_s".into(),
            vendor_id: "0192:991825827".into(),
            name: [("nb".to_string(), "S".to_string())].into(),
            description: BTreeMap::new(),
            rights: vec![],
            access_packages: packages,
            client_id: vec![],
            is_visible: false,
            allowed_redirect_urls: vec![],
            is_deleted: false,
            created: Utc::now(),
        }
    }

    fn person(id: &str) -> &'static SeedPerson {
        orgs::seeded_people()
            .iter()
            .find(|p| p.id == id)
            .expect("seeded")
    }

    #[test]
    fn resource_level_reasons_come_first() {
        let kari = person("kari");
        // MaskinportenSchema -> AUTH-00071, whoever approves (DelegationHelper.cs:205-224)
        let e = rights_delegation_check(&[right("skd-maskinportenschemaid-8")], kari).unwrap_err();
        assert_eq!(e.problem.code, 71);
        assert_eq!(
            e.refusal.subject.as_deref(),
            Some("skd-maskinportenschemaid-8")
        );
        assert!(
            e.refusal
                .fix
                .contains("remove the MaskinportenSchema resource")
        );
        // delegable: false -> AUTH-00070, before the person's own gap (siri: role -> 16)
        let e = rights_delegation_check(
            &[right("eformidling-dpo-meldingsutveksling")],
            person("siri"),
        )
        .unwrap_err();
        assert_eq!(e.problem.code, 70);
        // the first failing right decides (DelegationHelper.cs:85-112)
        let e = rights_delegation_check(
            &[
                right("ske-krav-og-betalinger"),
                right("skd-maskinportenschemaid-8"),
            ],
            person("siri"),
        )
        .unwrap_err();
        assert_eq!(
            (e.problem.code, e.refusal.subject.as_deref()),
            (16, Some("ske-krav-og-betalinger"))
        );
        // delegable resources and unknown ones (lenient mode) pass for a person without gaps
        assert!(
            rights_delegation_check(&[right("ske-krav-og-betalinger"), right("x-unknown")], kari)
                .is_ok()
        );
    }

    #[test]
    fn every_reason_maps_to_its_problem() {
        use DelegationReason::*;
        for (reason, code) in [
            (MissingPackageAccess, 68),
            (MissingRoleAccess, 16),
            (MissingDelegationAccess, 18),
            (MissingSrrRightAccess, 19),
            (InsufficientAuthenticationLevel, 20),
            (AccessListValidationFail, 69),
        ] {
            let p = reason_problem(reason);
            assert_eq!((p.code, p.status), (code, 403));
            assert!(p.title.starts_with("DelegationCheck failed with error:"));
        }
    }

    #[test]
    fn package_validation_uses_the_catalogue_flags() {
        let kari = person("kari");
        let sys = system(vec![pkg("regnskapsforer-lonn"), pkg("tilgangsstyrer")]);
        // standard: a client package is not assignable -> AUTH-00064
        let e = package_validation(&[pkg("regnskapsforer-lonn")], &sys, false, kari).unwrap_err();
        assert_eq!(e.problem.code, 64);
        assert_eq!(
            e.extension,
            Some((
                "NotDelegablePackages",
                "urn:altinn:accesspackage:regnskapsforer-lonn".to_string()
            ))
        );
        // agent: tilgangsstyrer is assignable but not delegable -> AUTH-00065
        let e = package_validation(&[pkg("tilgangsstyrer")], &sys, true, kari).unwrap_err();
        assert_eq!(e.problem.code, 65);
        assert!(package_validation(&[pkg("regnskapsforer-lonn")], &sys, true, kari).is_ok());
        assert!(package_validation(&[pkg("tilgangsstyrer")], &sys, false, kari).is_ok());
        // not on the system -> AUTH-00063 first
        let e = package_validation(&[pkg("skattegrunnlag")], &sys, false, kari).unwrap_err();
        assert_eq!(
            (e.problem.code, e.extension.map(|x| x.0)),
            (63, Some("NotFoundPackages"))
        );
    }

    #[test]
    fn package_delegation_is_auth_00053_for_any_reason() {
        let e = package_delegation_check(&[pkg("tilgangsstyrer")], person("ingrid")).unwrap_err();
        assert_eq!((e.problem.code, e.problem.status), (53, 400));
        assert!(package_delegation_check(&[pkg("tilgangsstyrer")], person("kari")).is_ok());
    }

    #[test]
    fn not_an_access_manager_is_auth_00066() {
        let e = access_manager_check(person("per"), "312345676").unwrap_err();
        assert_eq!((e.problem.code, e.problem.status), (66, 403));
        assert!(e.refusal.fix.contains("Kari Havbris"));
        assert!(access_manager_check(person("kari"), "312345676").is_ok());
    }
}
