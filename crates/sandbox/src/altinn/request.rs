//! System-user requests, standard and agent: mirrors Altinn/altinn-authentication
//! RequestSystemUserController (`/systemuser/request/vendor/...`). The standard and agent
//! endpoints share one implementation per action (`*_any_*`), parameterised by the kind.

use super::*;

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

    // mirrors: RequestSystemUserService.CreateRequest RSUS:60-64 -> GetRegisteredSystemInfo ->
    // SystemRegisterRepository.GetRegisteredSystemById (SystemRegisterRepository.cs:245-282,
    // `WHERE sr.system_id = @system_id`, no is_deleted filter): a soft-deleted system is still
    // found, and nothing in CreateRequest (RSUS:50-163) or CreateAgentRequest (RSUS:166-249)
    // checks IsDeleted. So the request is accepted (201); the system user it may become can
    // never get a token (MP-303 requires `sr.is_deleted = false`, SystemUserRepository.cs:353).
    let Some(system) = st.systems.get(&new.system_id).cloned() else {
        return Err(SYSTEM_ID_NOT_FOUND.into_response());
    };
    if system.is_deleted {
        tracing::warn!(system_id = %new.system_id, "request for a deleted system accepted, as Altinn does; its system user will get MP-303");
    }
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
    if !orgs::is_valid_org_no(&new.party_org_no) || !app.is_known_org(&st, &new.party_org_no) {
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
        last_refusal: None,
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
            // mirrors: CreateAgentRequestSystemUser.cs:31-50 — SystemId, PartyOrgNo and
            // AccessPackages are [Required]; missing or null fails model validation before the
            // action (RSU:149-152) runs: ASP.NET's automatic 400, not AUTH-00058 (which is for
            // an empty list, RSUS:209-212).
            let req: CreateAgentRequestSystemUser = json_body_required(
                &headers,
                &body,
                true,
                &[
                    ("systemId", "SystemId"),
                    ("partyOrgNo", "PartyOrgNo"),
                    ("accessPackages", "AccessPackages"),
                ],
            )?;
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
    let st = app.lock().await;
    // mirrors: RSUS.GetRequestByGuid RSUS:370-374 and GetAgentRequestByGuid RSUS:401-405: both
    // answer Problem.RequestNotFound (AUTH-00010). The repository queries filter on
    // `systemuser_type` (RequestRepository.cs:280/288 standard, :320/328 agent), so a request of
    // the other kind is "not found" too. The AUTH-00025 branch (RSUS:407-410, accessPackages
    // null) cannot fire: ConvertFromReaderToAgentRequest maps a NULL column to [] (:507).
    let Some(r) = st
        .requests
        .get(&id)
        .filter(|r| !r.deleted && r.kind == kind)
    else {
        return Err(REQUEST_NOT_FOUND.into_response());
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
    // mirrors: RSUS.GetRequestByExternalRef RSUS:338-342 / GetAgentRequestByExternalRef
    // RSUS:856-861: AUTH-00010 for both kinds (AUTH-00030 is only on the BFF approve path,
    // RSUS:571, 1002).
    let Some(r) = find_request(&st, kind, &org_no, &external_ref, &system_id) else {
        return Err(REQUEST_NOT_FOUND.into_response());
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
    // mirrors: RequestRepository.GetAllRequestsBySystem (RequestRepository.cs:525-545):
    // ordered by id (the agent query, :608-626, has no ORDER BY; guess: by id too), continuing
    // strictly after the token's id (`r.id > @continue_from`, :542/:624). The token is the id
    // of the first request of the NEXT page (Page.Create, src/Core/Models/Page.cs:40-47), so
    // the real service skips that request: one per page boundary. Reproduced on purpose, so
    // clients learn to cope (ours fetches the token's request by id).
    let mut items: Vec<&Request> = st
        .requests
        .values()
        .filter(|r| !r.deleted && r.kind == kind && r.system_id == system_id)
        .filter(|r| after.is_none_or(|a| r.id > a))
        .collect();
    items.sort_by_key(|r| r.id);
    let next_first = items.get(app.page_size).map(|r| r.id);
    items.truncate(app.page_size);
    let path = match kind {
        RequestKind::Standard => format!("/systemuser/request/vendor/bysystem/{system_id}"),
        RequestKind::Agent => format!("/systemuser/request/vendor/agent/bysystem/{system_id}"),
    };
    let next = next_first.map(|id| {
        next_link(
            &base,
            &path,
            opaque_encode(&serde_json::json!(id.to_string())),
        )
    });
    Ok(match kind {
        RequestKind::Standard => json_ok(
            StatusCode::OK,
            &Paginated {
                links: PaginatedLinks { next },
                data: items
                    .iter()
                    .map(|r| RequestSystemResponse {
                        // mirrors: RSU:545-586 sets ConfirmUrl only on single answers; the
                        // repository never fills it and WhenWritingNull drops the key.
                        confirm_url: None,
                        ..request_response(&base, r)
                    })
                    .collect(),
            },
        ),
        RequestKind::Agent => json_ok(
            StatusCode::OK,
            &Paginated {
                links: PaginatedLinks { next },
                data: items
                    .iter()
                    .map(|r| AgentRequestSystemResponse {
                        // mirrors: RSU:595-636, as above: no confirmUrl on list items.
                        confirm_url: None,
                        ..agent_response(&base, r)
                    })
                    .collect(),
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

/// mirrors: RequestSystemUserController.DeleteRequestByRequestId — soft delete, 202, any kind
/// (standard or agent) by id.
// stricter than real: RequestSystemUserService.cs:818-827 does no vendor check (see soft_delete).
pub async fn delete_request(
    State(app): State<Shared>,
    base: Base,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    respond(
        soft_delete(
            &app,
            &base,
            &headers,
            &request_id,
            |st, id| {
                st.requests
                    .get(&id)
                    .filter(|r| !r.deleted)
                    .map(|r| r.system_id.clone())
            },
            |st, id| st.requests.get_mut(&id).map(|r| &mut r.deleted),
        )
        .await,
    )
}
