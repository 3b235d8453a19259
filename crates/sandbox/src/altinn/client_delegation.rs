//! The facilitator's clients for agent system users: mirrors Altinn/altinn-authentication
//! SystemUserClientDelegationController (`/enduser/systemuser/...`, SUCD below) and the
//! SystemUserService / Access Management calls behind it, plus the rules the approval page's
//! client administration (the access-management UI) and the reference API share.
//!
//! Who calls: the facilitator's client administrator, with an ID-porten token exchanged for an
//! Altinn token carrying `altinn:clientdelegations.read` / `.write`
//! (docs.altinn.studio/en/api/authentication/systemuserapi/clientdelegation). In the sandbox the
//! ID-porten log-in is simulated (`POST /sandbox/idporten/token?as=<person>`, see
//! [`crate::auth::idporten_token`]). Order of checks per action (SUCD:47-97 etc.): the scope
//! policy (401/403 empty), model binding of the Guid query values (400), ValidateSystemUser and
//! ValidateClient (AUTH.VLD-00014/15/16, merged), the owner's party (404 ProblemDetails), the
//! PDP on `altinn_client_administration` for the owner (403 empty), then the service.

use super::*;
use crate::auth::{SCOPE_CLIENTDELEGATION_READ, SCOPE_CLIENTDELEGATION_WRITE};
use crate::orgs::{ClientRelation, SeedPerson};
use crate::state::AgentClients;

const CLIENTDELEGATION_READ: &[&str] = &[SCOPE_CLIENTDELEGATION_READ];
const CLIENTDELEGATION_WRITE: &[&str] = &[SCOPE_CLIENTDELEGATION_WRITE];

// ---------------------------------------------------------------------------------------------
// The rules (shared with the approval page and the reference API)
// ---------------------------------------------------------------------------------------------

/// The agent system user's package names (SUCD:82 takes the last `:` segment of each urn).
fn agent_packages(su: &SystemUser) -> Vec<String> {
    su.access_packages
        .iter()
        .filter_map(|p| p.urn.as_deref())
        .filter_map(|u| u.rsplit(':').next())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn relation_packages(rel: &ClientRelation) -> Vec<&'static str> {
    rel.roles
        .iter()
        .flat_map(|r| r.packages())
        .copied()
        .collect()
}

/// mirrors: GetClientsForFacilitator (SystemUserService.cs:1130-1145 -> Access Management
/// `enduser/clientdelegations/clients?party=&packages=`, AccessManagementClient.cs:697-713):
/// the facilitator's clients that gave it at least one of the agent's packages. guess: Access
/// Management filters on "any of" the packages (the service's own filter, :1137-1138, is
/// "Any" too, though its result is unused).
pub(crate) fn available_clients(su: &SystemUser) -> Vec<&'static ClientRelation> {
    let wanted = agent_packages(su);
    orgs::clients_of(&su.reportee_org_no)
        .into_iter()
        .filter(|rel| {
            relation_packages(rel)
                .iter()
                .any(|p| wanted.iter().any(|w| w == p))
        })
        .collect()
}

/// mirrors: DelegateToAgentSystemUser + ValidateClientForAgentSystemUser
/// (SystemUserService.cs:831-935): the user must be an agent with packages (AUTH-00034,
/// AUTH-00063), the client must be among [`available_clients`] (AUTH-00079) and must have given
/// the facilitator every one of the agent's packages (AUTH-00080; Altinn's "AND" rule).
pub(crate) fn check_client(su: &SystemUser, client_org: &str) -> Result<(), AuthProblem> {
    if su.user_type != "agent" {
        return Err(AGENT_EXPECTED_AGENT_USER_TYPE);
    }
    let wanted = agent_packages(su);
    if wanted.is_empty() {
        return Err(ACCESS_PACKAGE_NOT_FOUND);
    }
    let Some(rel) = available_clients(su)
        .into_iter()
        .find(|r| r.client == client_org)
    else {
        return Err(AGENT_CLIENT_NOT_FOUND);
    };
    let has = relation_packages(rel);
    if wanted.iter().all(|w| has.contains(&w.as_str())) {
        Ok(())
    } else {
        Err(AGENT_CLIENT_MISSING_ACCESS_PACKAGES)
    }
}

/// mirrors: DelegateSelfToAgentSystemUser (SystemUserService.cs:967-998, behind the
/// access-management UI's `systemuser/agent/{party}/{systemUserId}/self`,
/// SystemUserController.cs:500-530): the facilitator's own organisation is assigned "in the
/// same way as if it was a standard SystemUser", so every package must be assignable to a
/// standard system user (ValidateAccessPackages with isAgentRequest: false, :682-755), else
/// AUTH-00064 naming the packages. Client packages (regnskapsforer-*, revisor ...) are not.
pub(crate) fn check_own_org(su: &SystemUser) -> Result<(), (AuthProblem, String)> {
    if su.user_type != "agent" {
        return Err((AGENT_EXPECTED_AGENT_USER_TYPE, String::new()));
    }
    if su.access_packages.is_empty() {
        return Err((ACCESS_PACKAGE_NOT_FOUND, String::new()));
    }
    let not_assignable: Vec<String> = su
        .access_packages
        .iter()
        .filter_map(|p| p.urn.clone())
        .filter(|u| !catalogue::package(u).is_some_and(|p| p.is_assignable()))
        .collect();
    if not_assignable.is_empty() {
        Ok(())
    } else {
        Err((
            ACCESS_PACKAGE_NOT_DELEGABLE_STANDARD,
            not_assignable.join(", "),
        ))
    }
}

/// What the agent user may act for now: delegated clients, and the facilitator when assigned.
pub(crate) fn acting_for(st: &World, su: &SystemUser) -> Vec<String> {
    if su.user_type != "agent" {
        return vec![su.reportee_org_no.clone()];
    }
    let a = st.agent_clients.get(&su.id).cloned().unwrap_or_default();
    let mut out = Vec::new();
    if a.own_org {
        out.push(su.reportee_org_no.clone());
    }
    out.extend(a.clients);
    out
}

/// guess: the PDP's decision for a system user on a client organisation
/// (ClientDelegationVendorTests.cs: Permit after a client is added, NotApplicable after it is
/// removed): a standard user acts for its own customer only, an agent for what
/// [`acting_for`] lists.
pub(crate) fn may_act_for(st: &World, su: &SystemUser, org: &str) -> bool {
    acting_for(st, su).iter().any(|o| o == org)
}

/// Record a client on the agent user (idempotent: adding it twice keeps one).
pub(crate) fn add_client(st: &mut World, su: &SystemUser, client_org: &str) {
    let entry = st.agent_clients.entry(su.id).or_default();
    if !entry.clients.iter().any(|c| c == client_org) {
        entry.clients.push(client_org.to_string());
    }
}

/// Remove a client. guess: Access Management refuses to revoke a delegation that does not
/// exist, which the service reports as AUTH-00031 (AccessManagementClient.cs:581-596 maps any
/// failure to CustomerDelegation_FailedToRevoke).
pub(crate) fn remove_client(
    st: &mut World,
    su: &SystemUser,
    client_org: &str,
) -> Result<(), AuthProblem> {
    let entry = st.agent_clients.entry(su.id).or_default();
    let before = entry.clients.len();
    entry.clients.retain(|c| c != client_org);
    if entry.clients.len() == before {
        return Err(CUSTOMER_DELEGATION_FAILED_TO_REVOKE);
    }
    prune(st, su.id);
    Ok(())
}

/// Assign or unassign the facilitator's own organisation (the UI's "self" delegation).
pub(crate) fn set_own_org(st: &mut World, su: &SystemUser, on: bool) {
    st.agent_clients.entry(su.id).or_default().own_org = on;
    prune(st, su.id);
}

fn prune(st: &mut World, id: Uuid) {
    if st.agent_clients.get(&id) == Some(&AgentClients::default()) {
        st.agent_clients.remove(&id);
    }
}

/// mirrors: the PDP's answer for `altinn_client_administration` on the owner's party
/// (SUCD:325-341): the person logged in must be the owner's client administrator.
pub(crate) fn may_administer_clients(person: &SeedPerson, owner_org: &str) -> bool {
    person.org_no == owner_org && orgs::is_client_administrator(person)
}

/// The organisation behind a party UUID (seeded orgs and every org that owns a client).
pub(crate) fn org_of_party(st: &World, party: Uuid) -> Option<String> {
    orgs::seeded_orgs()
        .iter()
        .map(|o| o.org_no.to_string())
        .chain(st.clients.values().map(|c| c.org.clone()))
        .find(|org| orgs::party_uuid(org) == party)
}

fn org_name(org: &str) -> String {
    orgs::seeded_org_name(org).unwrap_or("").to_string()
}

// ---------------------------------------------------------------------------------------------
// Wire shapes
// ---------------------------------------------------------------------------------------------

/// mirrors: src/Authentication/Model/ClientInfo.cs
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientInfo {
    client_id: Uuid,
    client_organization_number: String,
    client_organization_name: String,
}

/// mirrors: src/Authentication/Model/SystemUserInfo.cs
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemUserInfo {
    system_user_id: Uuid,
    system_user_owner_org: String,
}

/// mirrors: ClientInfoPaginated<ClientInfo> (Model/ClientInfoPaginated.cs: `links`, `data`
/// from ListObject, `systemUserInformation`); `next` is always null here (SUCD:362, 382).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientInfoPaginated {
    links: PaginatedLinks,
    data: Vec<ClientInfo>,
    system_user_information: SystemUserInfo,
}

fn client_page(su: &SystemUser, orgs_: impl IntoIterator<Item = String>) -> Response {
    let body = ClientInfoPaginated {
        links: PaginatedLinks { next: None },
        data: orgs_
            .into_iter()
            .map(|org| ClientInfo {
                client_id: orgs::party_uuid(&org),
                client_organization_name: org_name(&org),
                client_organization_number: org,
            })
            .collect(),
        system_user_information: SystemUserInfo {
            system_user_id: su.id,
            system_user_owner_org: su.reportee_org_no.clone(),
        },
    };
    json_ok(StatusCode::OK, &body)
}

/// mirrors: src/Core/Models/SystemUserInternalDTO.cs as the docs' example of GET agents shows it
/// (`productName`, `partyUuId` and `supplierName` empty; `accessPackages` camelCase).
fn internal_dto(st: &World, su: &SystemUser) -> serde_json::Value {
    serde_json::json!({
        "id": su.id.to_string(),
        "integrationTitle": su.integration_title,
        "systemId": su.system_id,
        "productName": "",
        "systemInternalId": st.systems.get(&su.system_id).map(|s| s.internal_id.to_string()),
        "partyId": orgs::party_id(&su.reportee_org_no).to_string(),
        "partyUuId": "",
        "reporteeOrgNo": su.reportee_org_no,
        "created": dotnet_time(&su.created),
        "isDeleted": su.is_deleted,
        "supplierName": "",
        "supplierOrgno": su.supplier_org_no,
        "externalRef": su.external_ref,
        "accessPackages": su.access_packages,
        "userType": su.user_type,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// `[FromQuery] Guid name`: absent or empty binds Guid.Empty (the validators then say
/// "missing"), anything else that is not a Guid is the automatic 400.
fn query_guid(query: &HashMap<String, String>, name: &str) -> Result<Uuid, Response> {
    match query.get(name).map(|s| s.trim()) {
        None | Some("") => Ok(Uuid::nil()),
        Some(raw) => parse_guid(name, raw),
    }
}

/// mirrors: SUCD.ValidateSystemUser (:385-414)
fn validate_system_user(
    st: &World,
    agent: Uuid,
    errors: &mut ValidationProblem,
) -> Option<SystemUser> {
    if agent.is_nil() {
        errors.add(VLD_AGENT_MISSING, "?agent");
        return None;
    }
    let Some(su) = st.system_users.get(&agent).filter(|s| !s.is_deleted) else {
        errors.add(VLD_AGENT_NOT_FOUND, "?agent");
        return None;
    };
    if su.user_type != "agent" {
        errors.add(VLD_AGENT_NOT_AGENT, "?agent");
    }
    Some(su.clone())
}

/// Scope policy, the agent (and client) query values, their validation, the owner's party and
/// the PDP, in the controller's order. Returns the system user and the client party.
async fn prelude(
    app: &Shared,
    base: &Base,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    policy: &[&str],
    with_client: bool,
) -> Result<(SystemUser, Uuid), Response> {
    let caller = authorize(app, base, headers, policy)?;
    let agent = query_guid(query, "agent")?;
    let client = if with_client {
        query_guid(query, "client")?
    } else {
        Uuid::nil()
    };
    let st = app.lock().await;
    let mut errors = ValidationProblem::default();
    let su = validate_system_user(&st, agent, &mut errors);
    if with_client && client.is_nil() {
        // mirrors: SUCD.ValidateClient (:416-427), merged with the system user's errors
        errors.add(VLD_CLIENT_MISSING, "?client");
    }
    let Some(su) = su.filter(|_| errors.is_empty()) else {
        return Err(errors.into_response());
    };
    if !st.is_known_org(&su.reportee_org_no) {
        return Err(problem::not_found_details(
            "System Owner not Found",
            &format!(
                "No associated party information found for systemuser owner {}",
                su.reportee_org_no
            ),
        ));
    }
    if !caller
        .person()
        .is_some_and(|p| may_administer_clients(p, &su.reportee_org_no))
    {
        return Err(problem::forbidden());
    }
    Ok((su, client))
}

/// mirrors: SUCD.GetAllAgentSystemUsersForParty (GET agents?party=, :287-309)
pub async fn list_agents(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let caller = authorize(&app, &base, &headers, CLIENTDELEGATION_READ)?;
            let party = query.get("party").map(|s| s.trim()).unwrap_or("");
            let st = app.lock().await;
            if party.is_empty() || !st.is_known_org(party) {
                return Err(problem::not_found_details(
                    "Party not found",
                    &format!("No associated party information found for organisation {party}"),
                ));
            }
            if !caller
                .person()
                .is_some_and(|p| may_administer_clients(p, party))
            {
                return Err(problem::forbidden());
            }
            let mut agents: Vec<&SystemUser> = st
                .system_users
                .values()
                .filter(|su| {
                    !su.is_deleted && su.user_type == "agent" && su.reportee_org_no == party
                })
                .collect();
            agents.sort_by_key(|su| su.seq);
            let body: Vec<serde_json::Value> =
                agents.into_iter().map(|su| internal_dto(&st, su)).collect();
            Ok(json_ok(StatusCode::OK, &body))
        }
        .await,
    )
}

/// mirrors: SUCD.GetAvailableClientsForDelegation (GET clients/available?agent=, :45-97)
pub async fn available(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (su, _) =
                prelude(&app, &base, &headers, &query, CLIENTDELEGATION_READ, false).await?;
            Ok(client_page(
                &su,
                available_clients(&su)
                    .into_iter()
                    .map(|r| r.client.to_string()),
            ))
        }
        .await,
    )
}

/// mirrors: SUCD.GetClientsDelegatedToSystemUser (GET clients?agent=, :104-155): the client
/// delegations only (the facilitator's own organisation is an assignment, not a client).
pub async fn delegated(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (su, _) =
                prelude(&app, &base, &headers, &query, CLIENTDELEGATION_READ, false).await?;
            let st = app.lock().await;
            let clients = st
                .agent_clients
                .get(&su.id)
                .map(|a| a.clients.clone())
                .unwrap_or_default();
            Ok(client_page(&su, clients))
        }
        .await,
    )
}

/// mirrors: SUCD.DelegateClientToSystemUser (POST clients?agent=&client=, :164-217)
pub async fn add(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (su, client) =
                prelude(&app, &base, &headers, &query, CLIENTDELEGATION_WRITE, true).await?;
            let mut st = app.lock().await;
            // A party the facilitator has no client relationship with (its own included) is
            // not in Access Management's client list: AUTH-00079.
            let org = org_of_party(&st, client).ok_or(AGENT_CLIENT_NOT_FOUND.into_response())?;
            check_client(&su, &org).map_err(IntoResponse::into_response)?;
            add_client(&mut st, &su, &org);
            save(&app, &st).await?;
            tracing::info!(agent = %su.id, client = %org, "client delegated to agent system user");
            Ok(json_ok(
                StatusCode::OK,
                &serde_json::json!({"agent": su.id, "client": client}),
            ))
        }
        .await,
    )
}

/// mirrors: SUCD.RemoveClientFromSystemUser (DELETE clients?agent=&client=, :226-277)
pub async fn remove(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (su, client) =
                prelude(&app, &base, &headers, &query, CLIENTDELEGATION_WRITE, true).await?;
            let mut st = app.lock().await;
            let org = org_of_party(&st, client)
                .ok_or(CUSTOMER_DELEGATION_FAILED_TO_REVOKE.into_response())?;
            remove_client(&mut st, &su, &org).map_err(IntoResponse::into_response)?;
            save(&app, &st).await?;
            tracing::info!(agent = %su.id, client = %org, "client removed from agent system user");
            Ok(json_ok(
                StatusCode::OK,
                &serde_json::json!({"agent": su.id, "client": client}),
            ))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGE_PREFIX: &str = "urn:altinn:accesspackage:";

    fn agent(packages: &[&str]) -> SystemUser {
        SystemUser {
            id: Uuid::new_v4(),
            seq: 1,
            integration_title: "t".into(),
            system_id: "310904473_x".into(),
            reportee_org_no: orgs::FACILITATOR_ORG.into(),
            supplier_org_no: "310904473".into(),
            external_ref: "r".into(),
            user_type: "agent".into(),
            rights: vec![],
            access_packages: packages
                .iter()
                .map(|p| AccessPackage {
                    urn: Some(format!("{PACKAGE_PREFIX}{p}")),
                })
                .collect(),
            created: Utc::now(),
            is_deleted: false,
        }
    }

    #[test]
    fn available_clients_follow_the_relationship_type() {
        let accountant = agent(&["regnskapsforer-lonn"]);
        let got: Vec<&str> = available_clients(&accountant)
            .iter()
            .map(|r| r.client)
            .collect();
        assert_eq!(got, ["312345676", "313456781", "316789013"]);
        let auditor = agent(&["ansvarlig-revisor"]);
        let got: Vec<&str> = available_clients(&auditor)
            .iter()
            .map(|r| r.client)
            .collect();
        assert_eq!(got, ["316789013", "315678900"]);
    }

    #[test]
    fn clients_are_checked_as_altinn_does() {
        let accountant = agent(&["regnskapsforer-lonn"]);
        assert_eq!(check_client(&accountant, "312345676"), Ok(()));
        // not a client at all, an auditor-only client, the facilitator itself
        for org in ["314567897", "315678900", orgs::FACILITATOR_ORG] {
            assert_eq!(
                check_client(&accountant, org),
                Err(AGENT_CLIENT_NOT_FOUND),
                "{org}"
            );
        }
        // both packages: only the client that gave both (Altinn's AND rule)
        let both = agent(&["regnskapsforer-lonn", "ansvarlig-revisor"]);
        assert_eq!(check_client(&both, "316789013"), Ok(()));
        assert_eq!(
            check_client(&both, "312345676"),
            Err(AGENT_CLIENT_MISSING_ACCESS_PACKAGES)
        );
        let mut standard = agent(&["regnskapsforer-lonn"]);
        standard.user_type = "standard".into();
        assert_eq!(
            check_client(&standard, "312345676"),
            Err(AGENT_EXPECTED_AGENT_USER_TYPE)
        );
        assert_eq!(
            check_client(&agent(&[]), "312345676"),
            Err(ACCESS_PACKAGE_NOT_FOUND)
        );
    }

    #[test]
    fn own_org_needs_assignable_packages() {
        let (p, which) = check_own_org(&agent(&["regnskapsforer-lonn"])).expect_err("client pkg");
        assert_eq!(p, ACCESS_PACKAGE_NOT_DELEGABLE_STANDARD);
        assert!(which.contains("regnskapsforer-lonn"), "{which}");
        assert_eq!(check_own_org(&agent(&["skatt-naering"])), Ok(()));
    }

    #[test]
    fn acting_for_lists_own_org_then_clients() {
        let mut st = World::new_with_fresh_key().expect("state");
        let su = agent(&["regnskapsforer-lonn"]);
        assert!(acting_for(&st, &su).is_empty());
        add_client(&mut st, &su, "312345676");
        add_client(&mut st, &su, "312345676");
        set_own_org(&mut st, &su, true);
        assert_eq!(acting_for(&st, &su), [orgs::FACILITATOR_ORG, "312345676"]);
        assert!(may_act_for(&st, &su, "312345676"));
        assert_eq!(remove_client(&mut st, &su, "312345676"), Ok(()));
        assert_eq!(
            remove_client(&mut st, &su, "312345676"),
            Err(CUSTOMER_DELEGATION_FAILED_TO_REVOKE)
        );
        set_own_org(&mut st, &su, false);
        assert!(st.agent_clients.is_empty(), "empty entries are pruned");
    }
}
