//! Change requests: mirrors Altinn/altinn-authentication ChangeRequestSystemUserController
//! (`/systemuser/changerequest/vendor/...`).

use super::*;

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
            // mirrors: CR:90-93 BadRequest(string): content-negotiated text.
            return Err(problem::text_result(
                &headers,
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
            // mirrors: CR:113-116 BadRequest(string): content-negotiated text.
            return Err(problem::text_result(
                &headers,
                StatusCode::BAD_REQUEST,
                "The correlation-id should not be the same as the system-user-id. Generate a unique id.",
            ));
        }
        if su.supplier_org_no != vendor {
            // mirrors: CR:120-123 `return Unauthorized();` inside the action: 401 ProblemDetails.
            return Err(problem::unauthorized_in_action());
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
        // mirrors: CR:148-154 — an existing change request with this id is returned only if
        // GetChangeRequestByGuid passes its vendor check (CRS:223-235); another vendor's falls
        // through to CreateChangeRequest.
        let existing = st.change_requests.get(&correlation_id).filter(|c| !c.deleted);
        if let Some(existing) = existing
            && st
                .systems
                .get(&existing.system_id)
                .is_some_and(|s| s.vendor_org() == vendor)
        {
            return Ok(json_ok(StatusCode::OK, &change_response(&base, existing)));
        }
        // For now the real service does not support change requests for agent system users.
        if su.user_type == "agent" {
            return Err(SYSTEM_USER_NOT_FOUND.into_response());
        }
        // mirrors: ValidateStatus (CRS:105-119, createNew) — another vendor's change request under
        // this correlation id is refused, never replaced: AUTH-00007 while New, else AUTH-00061.
        if let Some(existing) = existing {
            return Err(if existing.status == "New" {
                EXTERNAL_REQUEST_ID_PENDING.into_response()
            } else {
                CHANGE_REQUEST_STATUS_NOT_NEW.into_response()
            });
        }
        let system = match st.systems.get(&su.system_id) {
            Some(s) if !s.is_deleted => s.clone(),
            _ => return Err(SYSTEM_ID_NOT_FOUND.into_response()),
        };
        if system.vendor_org() != vendor {
            return Err(SYSTEM_ID_NOT_FOUND.into_response());
        }
        if !app.is_known_org(&st, &su.reportee_org_no) {
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
            last_refusal: None,
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
            // The token is still model-bound (a malformed one is a 400), then unused.
            let _ignored = guid_token(&query)?;
            let vendor = vendor_of(&caller)?;
            let st = app.lock().await;
            owned_system(&st, &system_id, &vendor)?;
            // mirrors: ChangeRequestSystemUserService.cs:485-488 (altinn-authentication@ad4f6f36):
            // GetAllChangeRequestsForVendor takes the controller's continue-from
            // (ChangeRequestSystemUserController.cs:353-361) but never uses it: it reads every
            // change request of the system (ChangeRequestRepository.cs:189-224, no
            // continue-from, no LIMIT, no ORDER BY; guess: by id, as the request lists) and
            // hands them to Page.Create (src/Core/Models/Page.cs:40-47), which names the item
            // after the page as the token. So every call answers the first page, and with more
            // than a page `links.next` carries the same token every time: page 2 repeats page 1
            // and items past the first page cannot be listed. Reproduced on purpose, so clients
            // learn to cope (ours stops and fetches the ids it knows one by one).
            let mut items: Vec<&ChangeRequest> = st
                .change_requests
                .values()
                .filter(|c| !c.deleted && c.system_id == system_id)
                .collect();
            items.sort_by_key(|c| c.id);
            let next_first = items.get(app.page_size).map(|c| c.id);
            items.truncate(app.page_size);
            let path = format!("/systemuser/changerequest/vendor/bysystem/{system_id}");
            let next = next_first.map(|id| {
                next_link(
                    &base,
                    &path,
                    opaque_encode(&serde_json::json!(id.to_string())),
                )
            });
            Ok(json_ok(
                StatusCode::OK,
                &Paginated {
                    links: PaginatedLinks { next },
                    data: items
                        .iter()
                        .map(|c| ChangeRequestResponse {
                            // mirrors: CR:340-381 sets ConfirmUrl only on single answers
                            // (CR:152,162,223,266); WhenWritingNull drops the key on items.
                            confirm_url: None,
                            ..change_response(&base, c)
                        })
                        .collect(),
                },
            ))
        }
        .await,
    )
}

/// mirrors: ChangeRequestSystemUserController.DeleteChangeRequestByRequestId (202)
// stricter than real: ChangeRequestSystemUserService.cs:492-501 does no vendor check (see soft_delete).
pub async fn delete_change_request(
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
                st.change_requests
                    .get(&id)
                    .filter(|c| !c.deleted)
                    .map(|c| c.system_id.clone())
            },
            |st, id| st.change_requests.get_mut(&id).map(|c| &mut c.deleted),
        )
        .await,
    )
}
