//! The sandbox answers as the real Altinn authentication service does where an earlier version
//! was kinder or differently shaped (issue 10, "the remaining mismatches"). Each test names the
//! real code (Altinn/altinn-authentication@ad4f6f36) it pins.

mod sandbox_common;

use sandbox_common::*;
use serde_json::{Value, json};

/// Assert an Altinn ProblemDetails body with the given AUTH code and status.
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

/// Assert ASP.NET's own RFC 9110 ProblemDetails (client-error mapping of a bare status result
/// inside an [ApiController] action): type = the RFC section, title = the reason phrase, no
/// Altinn `code`.
async fn expect_framework_problem(
    resp: reqwest::Response,
    status: u16,
    section: &str,
    title: &str,
) {
    assert_eq!(resp.status().as_u16(), status);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("https://tools.ietf.org/html/rfc9110#section-{section}"),
        "{body}"
    );
    assert_eq!(body["title"], title, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["traceId"].as_str().unwrap().starts_with("00-"),
        "{body}"
    );
    assert!(body.get("code").is_none(), "{body}");
}

async fn get(url: &str, token: &str) -> reqwest::Response {
    http().get(url).bearer_auth(token).send().await.unwrap()
}

async fn post_agent(
    sb: &altinn_onboard::sandbox::SandboxHandle,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    http()
        .post(api(sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A hidden system with a client package, for agent requests.
async fn agent_system(sb: &altinn_onboard::sandbox::SandboxHandle, s: &Setup) -> String {
    let mut b = system_body(VENDOR_ORG, "agentfid", &[]);
    b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
    b["isVisible"] = json!(false);
    let resp = create_system(sb, &s.token, &b).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    format!("{VENDOR_ORG}_agentfid")
}

#[tokio::test]
async fn agent_lookups_that_find_nothing_answer_auth_00010() {
    let sb = start().await;
    let s = setup(&sb, "fidlook").await;
    let agent_sys = agent_system(&sb, &s).await;
    let body = json!({"systemId": agent_sys, "partyOrgNo": CUSTOMER_ORG,
                      "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    assert_eq!(post_agent(&sb, &s.token, &body).await.status(), 201);

    // RSUS.GetAgentRequestByGuid RSUS:401-405: Problem.RequestNotFound (AUTH-00010, 404).
    let unknown = uuid::Uuid::new_v4();
    let resp = get(
        &api(&sb, &format!("/systemuser/request/vendor/agent/{unknown}")),
        &s.token,
    )
    .await;
    let p = expect_problem(resp, 404, "AUTH-00010").await;
    assert_eq!(
        p["title"],
        "The Id does not refer to a Request in our system."
    );
    // RSUS.GetAgentRequestByExternalRef RSUS:856-861: the same.
    let resp = get(
        &api(
            &sb,
            &format!(
                "/systemuser/request/vendor/agent/byexternalref/{agent_sys}/{CUSTOMER_ORG}/nope"
            ),
        ),
        &s.token,
    )
    .await;
    expect_problem(resp, 404, "AUTH-00010").await;
    // A standard request on the agent route: the repository query filters on systemuser_type
    // (RequestRepository.cs:320,328), so it is not found (AUTH-00010); the AUTH-00025 branch
    // (RSUS:407-410) cannot fire because a NULL accesspackages column reads as [] (:507).
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201);
    let std_id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = get(
        &api(&sb, &format!("/systemuser/request/vendor/agent/{std_id}")),
        &s.token,
    )
    .await;
    expect_problem(resp, 404, "AUTH-00010").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn agent_request_without_access_packages_is_the_automatic_validation_400() {
    let sb = start().await;
    let s = setup(&sb, "fidreq").await;
    let agent_sys = agent_system(&sb, &s).await;
    // CreateAgentRequestSystemUser.cs:48-50 `[Required] AccessPackages`: ModelStateInvalidFilter
    // answers before the action (RSU:149-152) with ValidationProblemDetails keyed by the C#
    // property name.
    for body in [
        json!({"systemId": agent_sys, "partyOrgNo": CUSTOMER_ORG}),
        json!({"systemId": agent_sys, "partyOrgNo": CUSTOMER_ORG, "accessPackages": null}),
    ] {
        let resp = post_agent(&sb, &s.token, &body).await;
        assert_eq!(resp.status(), 400);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
        let p: Value = resp.json().await.unwrap();
        assert_eq!(
            p["type"], "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "{p}"
        );
        assert_eq!(p["title"], "One or more validation errors occurred.");
        assert_eq!(p["status"], 400);
        assert_eq!(
            p["errors"],
            json!({"AccessPackages": ["The AccessPackages field is required."]}),
            "{p}"
        );
        assert!(p["traceId"].as_str().unwrap().starts_with("00-"));
        assert!(p.get("code").is_none(), "not an Altinn problem: {p}");
    }
    // Every [Required] property that is missing gets its own key (SystemId, PartyOrgNo: :31-41).
    let resp = post_agent(&sb, &s.token, &json!({})).await;
    assert_eq!(resp.status(), 400);
    let p: Value = resp.json().await.unwrap();
    let mut keys: Vec<&str> = p["errors"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["AccessPackages", "PartyOrgNo", "SystemId"], "{p}");
    // An empty list passes [Required] and reaches RSUS:209-212: AUTH-00058.
    let body = json!({"systemId": agent_sys, "partyOrgNo": CUSTOMER_ORG, "accessPackages": []});
    expect_problem(post_agent(&sb, &s.token, &body).await, 400, "AUTH-00058").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn list_items_carry_no_confirm_url() {
    let sb = start().await;
    let s = setup(&sb, "fidlist").await;
    let agent_sys = agent_system(&sb, &s).await;
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    let std: Value = resp.json().await.unwrap();
    assert!(
        std["confirmUrl"].is_string(),
        "single answers keep it (RSU:126,136)"
    );
    let body = json!({"systemId": agent_sys, "partyOrgNo": CUSTOMER_ORG,
                      "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    let agent: Value = post_agent(&sb, &s.token, &body).await.json().await.unwrap();
    assert!(agent["confirmUrl"].is_string());

    // A change request needs an approved system user.
    let std_id = std["id"].as_str().unwrap();
    assert_eq!(approve(&sb, std_id).await.status(), 200);
    let (_, users) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
        &s.token,
    )
    .await;
    let su_id = users["data"][0]["id"].as_str().unwrap().to_string();
    let corr = uuid::Uuid::new_v4();
    let resp = http()
        .post(api(&sb, &format!("/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su_id}")))
        .bearer_auth(&s.token)
        .json(&json!({"unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let (_, single) = get_json(
        &api(&sb, &format!("/systemuser/changerequest/vendor/{corr}")),
        &s.token,
    )
    .await;
    assert!(single["confirmUrl"].is_string(), "{single}");

    // RSU:545-586, RSU:595-636, CR:340-381: the controllers set ConfirmUrl only on single
    // answers; WhenWritingNull drops the key from list items.
    for path in [
        format!("/systemuser/request/vendor/bysystem/{}", s.system_id),
        format!("/systemuser/request/vendor/agent/bysystem/{agent_sys}"),
        format!("/systemuser/changerequest/vendor/bysystem/{}", s.system_id),
    ] {
        let (status, list) = get_json(&api(&sb, &path), &s.token).await;
        assert_eq!(status, 200, "{path}: {list}");
        let items = list["data"].as_array().unwrap();
        assert!(!items.is_empty(), "{path}: {list}");
        for item in items {
            assert!(item.get("confirmUrl").is_none(), "{path}: {item}");
            assert!(item["id"].is_string() && item["status"].is_string());
        }
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn redirect_urls_come_back_as_dotnet_uri_writes_them() {
    let sb = start().await;
    let s = setup(&sb, "fidurl").await;
    let id = format!("{VENDOR_ORG}_fidurl2");
    let mut b = system_body(VENDOR_ORG, "fidurl2", &[]);
    b["allowedRedirectUrls"] = json!([
        "https://x.no",
        "HTTPS://Vendor.EXAMPLE:443/Receipt?Session=A#Top",
        "https://x.no?a=1",
        "https://x.no:8443/a/./b/../c",
        "https://x.no/cb",
    ]);
    assert_eq!(create_system(&sb, &s.token, &b).await.status(), 200);
    // SystemRegisterRepository.cs:163 stores Uri.ToString(), :523 reads it back as new Uri(s):
    // lower-case scheme and host, default port dropped, empty path "/", dot segments resolved;
    // path case, query and fragment kept; a non-empty path gets no trailing slash.
    let canonical = json!([
        "https://x.no/",
        "https://vendor.example/Receipt?Session=A#Top",
        "https://x.no/?a=1",
        "https://x.no:8443/a/c",
        "https://x.no/cb",
    ]);
    let (_, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &s.token).await;
    assert_eq!(got["allowedRedirectUrls"], canonical, "{got}");
    // The same on update (:222).
    b["allowedRedirectUrls"] = json!(["https://Other.example"]);
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&s.token)
        .json(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &s.token).await;
    assert_eq!(
        got["allowedRedirectUrls"],
        json!(["https://other.example/"])
    );
    // A request's redirectUrl still matches by GetLeftPart(Path) against the stored form.
    let mut r = standard_request(&id, CUSTOMER_ORG);
    r["rights"] =
        json!([{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]);
    r["redirectUrl"] = json!("https://other.example/?back=1");
    assert_eq!(create_request(&sb, &s.token, &r).await.status(), 201);
    sb.shutdown().await;
}

#[tokio::test]
async fn text_bodies_are_json_strings_when_json_is_asked_for() {
    let sb = start().await;
    let s = setup(&sb, "fidtext").await;
    let url = api(&sb, "/systemregister/vendor/991825827_nope");
    let body = system_body(VENDOR_ORG, "nope", &[]);
    // SR:171 `NotFound($"System with ID '{systemId}' not found.")`: content negotiation.
    for (accept, content_type, text) in [
        (
            "application/json",
            "application/json; charset=utf-8",
            "\"System with ID '991825827_nope' not found.\"",
        ),
        (
            "text/plain",
            "text/plain; charset=utf-8",
            "System with ID '991825827_nope' not found.",
        ),
        // `*/*` makes ASP.NET ignore Accept: the string formatter (text/plain) wins.
        (
            "application/json, */*",
            "text/plain; charset=utf-8",
            "System with ID '991825827_nope' not found.",
        ),
        (
            "text/plain;q=0.5, application/json",
            "application/json; charset=utf-8",
            "\"System with ID '991825827_nope' not found.\"",
        ),
    ] {
        let resp = http()
            .put(&url)
            .bearer_auth(&s.token)
            .header("accept", accept)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{accept}");
        assert_eq!(resp.headers()["content-type"], content_type, "{accept}");
        assert_eq!(resp.text().await.unwrap(), text, "{accept}");
    }
    // CR:90-93 BadRequest(string), likewise.
    let resp = http()
        .post(api(&sb, "/systemuser/changerequest/vendor"))
        .bearer_auth(&s.token)
        .header("accept", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let quoted: Value = resp.json().await.unwrap();
    assert!(
        quoted
            .as_str()
            .unwrap()
            .starts_with("Missing or invalid QueryParameter: correlation-id.")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn bare_not_found_and_unauthorized_inside_actions_are_rfc9110_problems() {
    let sb = start().await;
    let s = setup(&sb, "fidnf").await;
    // SR:138-141 `return NotFound();` in GetRegisteredSystemInfo.
    let resp = get(&api(&sb, "/systemregister/vendor/991825827_nope"), &s.token).await;
    expect_framework_problem(resp, 404, "15.5.5", "Not Found").await;
    // SU:274 `return NotFound();` in GetSingleSystemUserForVendor.
    let resp = get(
        &api(
            &sb,
            &format!(
                "/systemuser/vendor/byquery?system-id={}&orgno={CUSTOMER_ORG}",
                s.system_id
            ),
        ),
        &s.token,
    )
    .await;
    expect_framework_problem(resp, 404, "15.5.5", "Not Found").await;
    // CR:120-123 `return Unauthorized();` when the system user belongs to another vendor.
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(approve(&sb, &id).await.status(), 200);
    let (_, users) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
        &s.token,
    )
    .await;
    let su_id = users["data"][0]["id"].as_str().unwrap().to_string();
    let other = create_client(&sb, OTHER_VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let other_token = token_for(&sb, &other, &[SCOPE_REQ_WRITE]).await;
    let corr = uuid::Uuid::new_v4();
    let resp = http()
        .post(api(
            &sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su_id}"
            ),
        ))
        .bearer_auth(&other_token)
        .json(&json!({"unwantedRights": []}))
        .send()
        .await
        .unwrap();
    expect_framework_problem(resp, 401, "15.5.2", "Unauthorized").await;
    // A failed policy (no token) and an unknown route stay empty, as in ASP.NET.
    let resp = http()
        .get(api(&sb, "/systemregister/vendor/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = get(&api(&sb, "/no/such/route"), &s.token).await;
    assert_eq!(resp.status(), 404);
    assert!(resp.bytes().await.unwrap().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_request_against_a_deleted_system_is_accepted() {
    let sb = start().await;
    let s = setup(&sb, "fiddel").await;
    let resp = http()
        .delete(api(&sb, &format!("/systemregister/vendor/{}", s.system_id)))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // RSUS.CreateRequest RSUS:60-64 -> SystemRegisterRepository.GetRegisteredSystemById
    // (SystemRegisterRepository.cs:245-282) has no is_deleted filter and nothing in
    // CreateRequest checks IsDeleted: 201, as for a live system.
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    // An unknown system is still AUTH-00011.
    let resp = create_request(
        &sb,
        &s.token,
        &standard_request("991825827_never", CUSTOMER_ORG),
    )
    .await;
    expect_problem(resp, 404, "AUTH-00011").await;
    sb.shutdown().await;
}
