//! The customer's decisions on requests (used by the approval pages and the `/sandbox` admin
//! routes): mirrors the effect of RequestSystemUserController / ChangeRequestSystemUserController
//! approve and reject, and RequestSystemUserService.ApproveAndCreateSystemUser.

use super::*;

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
