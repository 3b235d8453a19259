//! System register: mirrors Altinn/altinn-authentication SystemRegisterController
//! (`/systemregister/vendor/...`).

use super::*;

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
            allowed_redirect_urls: dotnet_uri_strings(req.allowed_redirect_urls),
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
                // mirrors: SR:138-141 `return NotFound();` inside the action: 404 ProblemDetails.
                return Err(problem::not_found_in_action());
            };
            if !has_write_access(&caller, system) {
                return Err(problem::forbidden());
            }
            Ok(json_ok(StatusCode::OK, &system_response(system)))
        }
        .await,
    )
}

/// mirrors: SR:171,185 `NotFound($"System with ID '{systemId}' not found.")`: a string result,
/// content-negotiated (JSON-quoted for `Accept: application/json`).
fn system_not_found_text(headers: &HeaderMap, system_id: &str) -> Response {
    problem::text_result(
        headers,
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
                return Err(system_not_found_text(&headers, &system_id));
            };
            if !has_write_access(&caller, &current) {
                return Err(problem::forbidden());
            }
            // A different vendor in the body answers 404 on purpose (no vendor-id enumeration).
            if req.vendor.id.as_deref() != Some(current.vendor_id.as_str()) {
                return Err(system_not_found_text(&headers, &system_id));
            }
            if req.id != system_id {
                let mut e = ValidationProblem::default();
                e.add(VLD_SYSTEM_ID_MISMATCH, PATH_SYSTEM_ID);
                return Err(e.into_response());
            }
            if current.is_deleted {
                // mirrors: SR:198-201 BadRequest(string), content-negotiated.
                return Err(problem::text_result(
                    &headers,
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
                s.allowed_redirect_urls = dotnet_uri_strings(req.allowed_redirect_urls);
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
fn partial_update_guard(
    st: &World,
    caller: &Caller,
    headers: &HeaderMap,
    system_id: &str,
) -> Result<System, Response> {
    // guess: the real code dereferences a null system here (500); we answer like PUT does.
    let Some(system) = st.systems.get(system_id).cloned() else {
        return Err(system_not_found_text(headers, system_id));
    };
    if !has_write_access(caller, &system) {
        return Err(problem::forbidden());
    }
    if system.is_deleted {
        // mirrors: SR:350-353, 388-391 BadRequest(string), content-negotiated.
        return Err(problem::text_result(
            headers,
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
        partial_update(
            &app,
            &base,
            &headers,
            &system_id,
            &body,
            |app, rights: &Vec<Right>, _| validate_rights(app, rights),
            |s, rights| s.rights = rights,
        )
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
        partial_update(
            &app,
            &base,
            &headers,
            &system_id,
            &body,
            |_, packages: &Vec<AccessPackage>, system| {
                validate_packages(packages, system.is_visible)
            },
            |s, packages| s.access_packages = packages,
        )
        .await,
    )
}

/// What the two partial updates (rights, access packages) share: scope, body, the
/// ownership guard, validation against the stored system, then apply, save and answer
/// `{"succeeded": true}`.
async fn partial_update<T: serde::de::DeserializeOwned>(
    app: &Shared,
    base: &Base,
    headers: &HeaderMap,
    system_id: &str,
    body: &Bytes,
    validate: impl FnOnce(&Shared, &T, &System) -> ValidationProblem,
    apply: impl FnOnce(&mut System, T),
) -> HResult {
    let caller = authorize(app, base, headers, SYSTEMREGISTER_POLICY)?;
    let value: T = json_body(headers, body, false)?;
    let mut st = app.lock().await;
    let system = partial_update_guard(&st, &caller, headers, system_id)?;
    let errors = validate(app, &value, &system);
    if !errors.is_empty() {
        return Err(errors.into_response());
    }
    if let Some(s) = st.systems.get_mut(system_id) {
        apply(s, value);
    }
    save(app, &st).await?;
    Ok(json_ok(
        StatusCode::OK,
        &SystemRegisterUpdateResult { succeeded: true },
    ))
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
