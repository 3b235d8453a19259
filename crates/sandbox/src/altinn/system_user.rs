//! System users as the vendor sees them: mirrors Altinn/altinn-authentication
//! SystemUserController (`/systemuser/vendor/...`).

use super::*;

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
            // mirrors: SystemUserRepository.GetAllSystemUsersByVendorSystem (:419-452):
            // `sequence_no >= @sequenceFrom ORDER BY sequence_no LIMIT pageSize + 1`, and the
            // token is the sequence number of the first item of the next page (Page.Create,
            // src/Core/Models/Page.cs:40-47): nothing is skipped.
            let mut items: Vec<&SystemUser> = st
                .system_users
                .values()
                .filter(|su| !su.is_deleted && su.system_id == system_id)
                .filter(|su| after.is_none_or(|a| su.seq >= a))
                .collect();
            items.sort_by_key(|su| su.seq);
            let next_first = items.get(app.page_size).map(|su| su.seq);
            items.truncate(app.page_size);
            let path = format!("/systemuser/vendor/bysystem/{system_id}");
            let next = next_first
                .map(|seq| next_link(&base, &path, opaque_encode(&serde_json::json!(seq))));
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
                // mirrors: SU:274 `return NotFound();` inside the action: 404 ProblemDetails.
                _ => Err(problem::not_found_in_action()),
            }
        }
        .await,
    )
}
