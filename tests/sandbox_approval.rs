//! Approval-time checks (issue 10): the customer's seeded people, AUTH-00066 on page load and
//! on approve, the delegation checks (AUTH-00016/18/19/20/68, 53) in SystemUserService's order,
//! the request staying New with its last refusal readable at `GET /sandbox/requests/{id}`,
//! system-user id = request id, change requests (AUTH-00001 for a failed rights check,
//! AUTH-00013 when no longer New). HTTP against the in-process sandbox only.

mod sandbox_common;

use sandbox_common::*;
use serde_json::{Value, json};

/// Orgs whose default approver (first access manager) can delegate everything.
const HAPPY_ORG: &str = CUSTOMER_ORG; // Havbris Bakeri AS: kari approves, per is refused (66)
/// Solsikke Barnehage SA: tor (LEDE) approves by default; siri (DAGL) lacks the role
/// (AUTH-00016 for rights, AUTH-00053 for packages).
const REFUSING_ORG: &str = "314567897";

async fn expect_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "expected {code}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:altinn:error:{code}"));
    assert_eq!(body["status"], status);
    body
}

async fn decide_as(
    sb: &altinn_onboard::sandbox::SandboxHandle,
    id: &str,
    what: &str,
    person: &str,
) -> reqwest::Response {
    http()
        .post(format!("{}/sandbox/requests/{id}/{what}", sb.base_url()))
        .query(&[("as", person)])
        .send()
        .await
        .expect("send")
}

async fn sandbox_state(sb: &altinn_onboard::sandbox::SandboxHandle, id: &str) -> Value {
    let resp = http()
        .get(format!("{}/sandbox/requests/{id}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// A standard request from the setup's system for `customer`, returning its id.
async fn request_for(
    s: &Setup,
    sb: &altinn_onboard::sandbox::SandboxHandle,
    body: Value,
) -> String {
    let resp = create_request(sb, &s.token, &body).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn vendor_status(s: &Setup, sb: &altinn_onboard::sandbox::SandboxHandle, id: &str) -> String {
    let (status, got) = get_json(
        &api(sb, &format!("/systemuser/request/vendor/{id}")),
        &s.token,
    )
    .await;
    assert_eq!(status, 200);
    got["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn default_person_approves_and_the_system_user_has_the_request_id() {
    let sb = start().await;
    let s = setup(&sb, "happy").await;
    let id = request_for(&s, &sb, standard_request(&s.system_id, HAPPY_ORG)).await;
    let resp = approve(&sb, &id).await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["status"], "Accepted");
    assert_eq!(out["person"], "kari");
    // SystemUserService.cs:507-509: Id = requestId
    assert_eq!(out["systemUserId"], id.as_str());
    let (_, users) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
        &s.token,
    )
    .await;
    assert_eq!(users["data"][0]["id"], id.as_str());
    let st = sandbox_state(&sb, &id).await;
    assert_eq!(st["status"], "Accepted");
    assert!(st["lastRefusal"].is_null());
    sb.shutdown().await;
}

#[tokio::test]
async fn not_an_access_manager_gets_auth_00066_and_the_request_stays_new() {
    let sb = start().await;
    let s = setup(&sb, "am").await;
    let id = request_for(&s, &sb, standard_request(&s.system_id, HAPPY_ORG)).await;

    // The page, as per (ANSATT): AUTH-00066 instead of the request.
    let page = format!(
        "{}/accessmanagement/ui/systemuser/request?id={id}",
        sb.base_url()
    );
    let resp = http()
        .get(format!("{page}&person=per"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"data-status="AUTH-00066""#), "{html}");
    assert!(html.contains("accessmanager write"));
    assert!(!html.contains(r#"id="approve""#));

    // The page as the default person: a person chooser, kari selected, Approve offered.
    let html = http()
        .get(&page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<option value="kari" selected>"#), "{html}");
    assert!(html.contains(r#"<option value="per">"#));
    assert!(html.contains(r#"name="person" value="kari""#));
    // ... and it shows the earlier refusal.
    assert!(html.contains(r#"id="last-refusal""#) && html.contains("AUTH-00066"));

    // The admin routes as per: AUTH-00066 (403) for approve and reject.
    expect_problem(
        decide_as(&sb, &id, "approve", "per").await,
        403,
        "AUTH-00066",
    )
    .await;
    expect_problem(
        decide_as(&sb, &id, "reject", "Per Bakke").await,
        403,
        "AUTH-00066",
    )
    .await;
    // The form post as per: the refusal page.
    let resp = http()
        .post(format!(
            "{}/accessmanagement/ui/systemuser/request",
            sb.base_url()
        ))
        .form(&[
            ("id", id.as_str()),
            ("decision", "approve"),
            ("person", "per"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains(r#"id="refusal-fix""#));

    assert_eq!(vendor_status(&s, &sb, &id).await, "New");
    let st = sandbox_state(&sb, &id).await;
    assert_eq!(st["status"], "New");
    assert_eq!(st["kind"], "standard");
    assert_eq!(st["lastRefusal"]["code"], "AUTH-00066");
    assert_eq!(st["lastRefusal"]["person"], "per");
    assert_eq!(st["lastRefusal"]["personName"], "Per Bakke");

    // Someone unknown: a sandbox error naming who can log in.
    let resp = decide_as(&sb, &id, "approve", "nobody").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unknown_person");
    assert!(body["error_description"].as_str().unwrap().contains("kari"));

    // The access manager still approves afterwards.
    assert_eq!(decide_as(&sb, &id, "approve", "kari").await.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn rights_delegation_refusals_map_to_the_real_codes() {
    let sb = start().await;
    let s = setup(&sb, "rights").await;
    // (org, person, code): DelegationHelper.cs:205-224 per reason.
    let cases = [
        (REFUSING_ORG, Some("siri"), "AUTH-00016"),
        (HAPPY_ORG, None, "none: kari approves"),
        ("316789013", Some("nils"), "AUTH-00018"),
        ("310904473", Some("bjorn"), "AUTH-00019"),
        ("315678900", Some("jon"), "AUTH-00020"),
        (CUSTOMER_ORG_2, Some("ingrid"), "AUTH-00068"),
    ];
    for (org, person, code) in cases {
        let id = request_for(&s, &sb, standard_request(&s.system_id, org)).await;
        let resp = match person {
            Some(p) => decide_as(&sb, &id, "approve", p).await,
            None => approve(&sb, &id).await,
        };
        if person.is_none() {
            assert_eq!(resp.status(), 200, "{code}");
            continue;
        }
        let body = expect_problem(resp, 403, code).await;
        assert!(
            body["title"]
                .as_str()
                .unwrap()
                .starts_with("DelegationCheck failed with error:"),
            "{body}"
        );
        let r = &body["sandboxRefusal"];
        assert_eq!(r["code"], code);
        assert_eq!(r["subject"], "ske-krav-og-betalinger", "{body}");
        assert!(r["fix"].as_str().unwrap().len() > 10);
        assert_eq!(vendor_status(&s, &sb, &id).await, "New", "{code}");
        let st = sandbox_state(&sb, &id).await;
        assert_eq!(st["lastRefusal"]["code"], code);
        assert_eq!(st["lastRefusal"]["subject"], "ske-krav-og-betalinger");
        // No system user was created for it.
        let (_, users) = get_json(
            &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
            &s.token,
        )
        .await;
        assert!(
            !users["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["id"] == id.as_str()),
            "{code}"
        );
    }
    // Another person of the refusing org (tor, LEDE) approves the same kind of request.
    let (_, list) = get_json(
        &api(
            &sb,
            &format!("/systemuser/request/vendor/bysystem/{}", s.system_id),
        ),
        &s.token,
    )
    .await;
    let refused_id = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["partyOrgNo"] == REFUSING_ORG)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = decide_as(&sb, &refused_id, "approve", "tor").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["person"], "tor");
    sb.shutdown().await;
}

#[tokio::test]
async fn package_delegation_refusal_is_auth_00053() {
    let sb = start().await;
    let s = setup(&sb, "pkgs").await;
    let body = json!({
        "systemId": s.system_id,
        "partyOrgNo": REFUSING_ORG,
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
    });
    let id = request_for(&s, &sb, body).await;
    let body = expect_problem(
        decide_as(&sb, &id, "approve", "siri").await,
        400,
        "AUTH-00053",
    )
    .await;
    assert_eq!(
        body["title"],
        "The user does not have enough access to delegate the requested access packages"
    );
    assert_eq!(
        body["sandboxRefusal"]["subject"],
        "urn:altinn:accesspackage:skatt-naering"
    );
    assert_eq!(vendor_status(&s, &sb, &id).await, "New");
    sb.shutdown().await;
}

#[tokio::test]
async fn agent_requests_skip_the_delegation_checks() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &v, &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ]).await;
    let mut b = system_body(VENDOR_ORG, "agentsys", &[&v.client_id]);
    b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
    b["isVisible"] = json!(false);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let body = json!({"systemId": format!("{VENDOR_ORG}_agentsys"), "partyOrgNo": REFUSING_ORG,
                      "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    let resp = http()
        .post(api(&sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // As siri, who lacks the role and every package, the agent approval still passes:
    // SystemUserService.cs:471 and :487 run for Standard only.
    let resp = decide_as(&sb, &id, "approve", "siri").await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(
        (out["kind"].as_str(), out["person"].as_str()),
        (Some("agent"), Some("siri"))
    );
    assert_eq!(out["systemUserId"], id.as_str());
    sb.shutdown().await;
}

#[tokio::test]
async fn change_requests_use_auth_00001_and_auth_00013() {
    let sb = start().await;
    let s = setup(&sb, "change").await;
    // A system user for the refusing org, approved by tor (who can delegate everything).
    let mut body = standard_request(&s.system_id, REFUSING_ORG);
    body["rights"] = json!([]);
    body["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}]);
    let id = request_for(&s, &sb, body).await;
    let resp = decide_as(&sb, &id, "approve", "tor").await;
    assert_eq!(resp.status(), 200);
    let su_id = resp.json::<Value>().await.unwrap()["systemUserId"]
        .as_str()
        .unwrap()
        .to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let change = json!({"requiredRights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]});
    let resp = http()
        .post(api(
            &sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su_id}"
            ),
        ))
        .bearer_auth(&s.token)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    // siri lacks the role: a change request answers AUTH-00001, not AUTH-00016
    // (ChangeRequestSystemUserService.cs:366-375).
    let body = expect_problem(
        decide_as(&sb, &corr, "approve", "siri").await,
        400,
        "AUTH-00001",
    )
    .await;
    assert!(
        body["sandboxRefusal"]["detail"]
            .as_str()
            .unwrap()
            .contains("AUTH-00016"),
        "{body}"
    );
    let st = sandbox_state(&sb, &corr).await;
    assert_eq!(
        (st["kind"].as_str(), st["status"].as_str()),
        (Some("change"), Some("New"))
    );
    assert_eq!(st["lastRefusal"]["code"], "AUTH-00001");
    // The default approver (tor) approves it.
    assert_eq!(approve(&sb, &corr).await.status(), 200);
    // Deciding again: no longer New -> AUTH-00013 (409), approve and reject
    // (ChangeRequestSystemUserService.cs:319-322, 450-463).
    expect_problem(approve(&sb, &corr).await, 409, "AUTH-00013").await;
    expect_problem(reject(&sb, &corr).await, 409, "AUTH-00013").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn sandbox_orgs_lists_the_people() {
    let sb = start().await;
    let resp = http()
        .get(format!("{}/sandbox/orgs", sb.base_url()))
        .send()
        .await
        .unwrap();
    let orgs: Value = resp.json().await.unwrap();
    let havbris = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["orgNo"] == HAPPY_ORG)
        .unwrap();
    assert_eq!(havbris["people"][0]["id"], "kari");
    assert_eq!(havbris["people"][0]["accessManager"], true);
    assert_eq!(havbris["people"][1]["accessManager"], false);
    let resp = http()
        .get(format!(
            "{}/sandbox/requests/{}",
            sb.base_url(),
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    sb.shutdown().await;
}

/// A system whose only right is `resource`, and a request for it; `None` when registration
/// refused the resource (with the code it gave).
async fn system_with_right(
    sb: &altinn_onboard::sandbox::SandboxHandle,
    s: &Setup,
    name: &str,
    resource: &str,
) -> Result<String, Value> {
    let mut b = system_body(VENDOR_ORG, name, &[]);
    b["rights"] = json!([{"resource": [{"id": "urn:altinn:resource", "value": resource}]}]);
    b["accessPackages"] = json!([]);
    let resp = create_system(sb, &s.token, &b).await;
    if resp.status() != 200 {
        return Err(resp.json().await.unwrap());
    }
    let mut r = standard_request(&format!("{VENDOR_ORG}_{name}"), HAPPY_ORG);
    r["rights"] = b["rights"].clone();
    Ok(request_for(s, sb, r).await)
}

#[tokio::test]
async fn resource_level_refusals_70_and_71() {
    let sb = start().await;
    let s = setup(&sb, "base").await;
    // delegable: false in the resource catalogue (a BrokerService, allowed on a system):
    // AUTH-00070 at approval, whoever approves.
    let id = system_with_right(&sb, &s, "nodelegate", "eformidling-dpo-meldingsutveksling")
        .await
        .expect("a BrokerService resource may be registered");
    let body = expect_problem(approve(&sb, &id).await, 403, "AUTH-00070").await;
    assert_eq!(
        body["sandboxRefusal"]["subject"],
        "eformidling-dpo-meldingsutveksling"
    );
    assert_eq!(vendor_status(&s, &sb, &id).await, "New");
    // A MaskinportenSchema resource: refused at registration (AUTH.VLD-00017) where the
    // resource types are checked, else at approval with AUTH-00071 and what to change.
    match system_with_right(&sb, &s, "mpschema", "skd-maskinportenschemaid-8").await {
        Ok(id) => {
            let body = expect_problem(approve(&sb, &id).await, 403, "AUTH-00071").await;
            let fix = body["sandboxRefusal"]["fix"].as_str().unwrap();
            assert!(
                fix.contains("remove the MaskinportenSchema resource skd-maskinportenschemaid-8"),
                "{fix}"
            );
            let st = sandbox_state(&sb, &id).await;
            assert_eq!(
                (st["status"].as_str(), st["lastRefusal"]["code"].as_str()),
                (Some("New"), Some("AUTH-00071"))
            );
        }
        Err(problem) => {
            assert_eq!(
                problem["validationErrors"][0]["code"], "AUTH.VLD-00017",
                "{problem}"
            );
        }
    }
    sb.shutdown().await;
}
