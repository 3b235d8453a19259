//! Altinn authentication side of the sandbox over real HTTP: system register, requests (standard,
//! agent, change), system-user lists, scopes, error bodies and bad input.

mod sandbox_common;

use altinn_onboard::sandbox::{self, SandboxConfig};
use sandbox_common::*;
use serde_json::{Value, json};

/// Assert an Altinn ProblemDetails body with the given AUTH code and status.
async fn expect_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "expected {code}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json"),
        "content type"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:altinn:error:{code}"));
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string());
    assert!(body["traceId"].as_str().unwrap().starts_with("00-"));
    assert!(body["statusDescription"].is_string());
    body
}

/// Assert a STD-00000 validation problem and return its AUTH.VLD codes.
async fn expect_validation(resp: reqwest::Response) -> Vec<String> {
    let body = expect_problem(resp, 400, "STD-00000").await;
    assert_eq!(body["title"], "One or more validation errors occurred.");
    body["validationErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["paths"].as_array().unwrap()[0]
                    .as_str()
                    .unwrap()
                    .starts_with("/registersystemrequest/")
            );
            assert!(e["title"].is_string());
            e["code"].as_str().unwrap().to_string()
        })
        .collect()
}

async fn empty_status(resp: reqwest::Response) -> u16 {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap();
    assert!(
        body.is_empty(),
        "expected empty body, got {:?}",
        String::from_utf8_lossy(&body)
    );
    status
}

#[tokio::test]
async fn authentication_and_scopes() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let read_only = token_for(&sb, &v, &[SCOPE_REQ_READ]).await;
    let demo_only = token_for(&sb, &v, &[SCOPE_DEMO]).await;
    let c = http();
    let sys = api(&sb, "/systemregister/vendor");
    let req = api(&sb, "/systemuser/request/vendor");
    let body = system_body(VENDOR_ORG, "scopesys", &[]);

    // no token / garbage / a token signed by someone else: 401, empty body
    assert_eq!(
        empty_status(c.post(&sys).json(&body).send().await.unwrap()).await,
        401
    );
    assert_eq!(
        empty_status(c.get(&sys).bearer_auth("nonsense").send().await.unwrap()).await,
        401
    );
    let mut forged = grant_claims(&sb, &v, SCOPE_REGISTER);
    forged["iss"] = json!(sb.issuer());
    forged["consumer"] =
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")});
    let forged = sign(&forged, Some("x"), key_b());
    assert_eq!(
        empty_status(c.get(&sys).bearer_auth(&forged).send().await.unwrap()).await,
        401
    );

    // missing scope: 403, empty body
    assert_eq!(
        empty_status(
            c.post(&sys)
                .bearer_auth(&read_only)
                .json(&body)
                .send()
                .await
                .unwrap()
        )
        .await,
        403
    );
    assert_eq!(
        empty_status(
            c.post(&req)
                .bearer_auth(&read_only)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
        )
        .await,
        403
    );
    let some_id = uuid::Uuid::new_v4();
    assert_eq!(
        empty_status(
            c.get(format!("{req}/{some_id}"))
                .bearer_auth(&demo_only)
                .send()
                .await
                .unwrap()
        )
        .await,
        403
    );
    assert_eq!(
        empty_status(
            c.get(api(&sb, "/systemuser/vendor/bysystem/x"))
                .bearer_auth(&read_only)
                .send()
                .await
                .unwrap()
        )
        .await,
        403
    );
    // with the right scope the same call reaches the controller (unknown system → AUTH-00011)
    let register = token_for(&sb, &v, &[SCOPE_REGISTER]).await;
    let resp = c
        .get(api(&sb, "/systemuser/vendor/bysystem/x"))
        .bearer_auth(&register)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00011").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn system_register_create_get_update_delete() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &v, &[SCOPE_REGISTER]).await;
    let body = system_body(VENDOR_ORG, "crud", &[&v.client_id]);

    let resp = create_system(&sb, &token, &body).await;
    assert_eq!(resp.status(), 200);
    let guid: Value = resp.json().await.unwrap();
    assert!(uuid::Uuid::parse_str(guid.as_str().expect("a JSON string")).is_ok());

    let id = format!("{VENDOR_ORG}_crud");
    let (status, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &token).await;
    assert_eq!(status, 200);
    assert_eq!(got["id"], id);
    assert_eq!(got["vendor"], json!({"ID": format!("0192:{VENDOR_ORG}")}));
    assert_eq!(got["clientId"], json!([v.client_id]));
    assert_eq!(got["isDeleted"], false);
    assert_eq!(got["isVisible"], true);
    assert_eq!(
        got["allowedRedirectUrls"],
        json!(["https://vendor.example/receipt"])
    );
    assert_eq!(got["rights"], body["rights"]);
    assert_eq!(got["accessPackages"], body["accessPackages"]);

    let (status, list) = get_json(&api(&sb, "/systemregister/vendor"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["systemId"], id);
    assert_eq!(list[0]["systemVendorOrgNumber"], VENDOR_ORG);
    assert_eq!(list[0]["systemVendorOrgName"], "");

    // duplicate: VLD-00002 (and the client id is now taken: VLD-00004)
    let codes = expect_validation(create_system(&sb, &token, &body).await).await;
    assert!(codes.contains(&"AUTH.VLD-00002".to_string()), "{codes:?}");
    assert!(codes.contains(&"AUTH.VLD-00004".to_string()), "{codes:?}");

    // client id reused by another system
    let other = system_body(VENDOR_ORG, "crud2", &[&v.client_id]);
    assert_eq!(
        expect_validation(create_system(&sb, &token, &other).await).await,
        vec!["AUTH.VLD-00004"]
    );

    // PUT whole system (input is case-insensitive and trimmed, as ASP.NET binds it)
    let mut upd = body.clone();
    upd["name"] = json!({"nb": "Nytt navn"});
    upd["allowedRedirectUrls"] = json!([
        "https://vendor.example/receipt",
        "https://vendor.example/other"
    ]);
    let upd_pascal = json!({
        "Id": format!(" {id} "), "Vendor": {"ID": format!("0192:{VENDOR_ORG}")}, "Name": upd["name"],
        "Description": upd["description"], "Rights": upd["rights"], "AccessPackages": upd["accessPackages"],
        "ClientId": upd["clientId"], "AllowedRedirectUrls": upd["allowedRedirectUrls"], "IsVisible": true,
    });
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&token)
        .json(&upd_pascal)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"succeeded": true})
    );
    let (_, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &token).await;
    assert_eq!(got["name"], json!({"nb": "Nytt navn"}));

    // PUT: id mismatch → VLD-00012; unknown system → 404 text; other vendor in body → 404 text
    let mut mismatch = upd.clone();
    mismatch["id"] = json!(format!("{VENDOR_ORG}_other"));
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&token)
        .json(&mismatch)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_validation(resp).await, vec!["AUTH.VLD-00012"]);
    let resp = http()
        .put(api(&sb, "/systemregister/vendor/991825827_nope"))
        .bearer_auth(&token)
        .json(&upd)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.text().await.unwrap(),
        "System with ID '991825827_nope' not found."
    );
    let mut wrong_vendor = upd.clone();
    wrong_vendor["vendor"] = json!({"ID": "0192:310000000"});
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&token)
        .json(&wrong_vendor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // PUT rights / accesspackages
    let rights = json!([{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]},
                        {"resource": [{"id": "urn:altinn:resource", "value": "ttd_systembruker-salary"}]}]);
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}/rights")))
        .bearer_auth(&token)
        .json(&rights)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let dup = json!([rights[0], rights[0]]);
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}/rights")))
        .bearer_auth(&token)
        .json(&dup)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_validation(resp).await, vec!["AUTH.VLD-00006"]);
    let packages = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}, {"urn": "urn:altinn:accesspackage:regnskap-okonomi-rapport"}]);
    let resp = http()
        .put(api(
            &sb,
            &format!("/systemregister/vendor/{id}/accesspackages"),
        ))
        .bearer_auth(&token)
        .json(&packages)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &token).await;
    assert_eq!(got["rights"], rights);
    assert_eq!(got["accessPackages"], packages);

    // another vendor cannot read or change it: 403 empty
    let other_vendor = create_client(&sb, OTHER_VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let other_token = token_for(&sb, &other_vendor, &[SCOPE_REGISTER]).await;
    let resp = http()
        .get(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty_status(resp).await, 403);
    // ... and cannot register a system in our name: 403 empty
    let resp = create_system(&sb, &other_token, &system_body(VENDOR_ORG, "stolen", &[])).await;
    assert_eq!(empty_status(resp).await, 403);
    // unknown system: 404 with ASP.NET's RFC 9110 ProblemDetails (SR:140 `NotFound()` inside
    // the action; was an empty body before issue 10)
    let resp = http()
        .get(api(&sb, "/systemregister/vendor/991825827_nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let nf: Value = resp.json().await.unwrap();
    assert_eq!(
        nf["type"],
        "https://tools.ietf.org/html/rfc9110#section-15.5.5"
    );

    // DELETE soft-deletes; PUT then says so in text
    let resp = http()
        .delete(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"succeeded": true})
    );
    let (_, got) = get_json(&api(&sb, &format!("/systemregister/vendor/{id}")), &token).await;
    assert_eq!(got["isDeleted"], true);
    let resp = http()
        .put(api(&sb, &format!("/systemregister/vendor/{id}")))
        .bearer_auth(&token)
        .json(&upd)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        "Cannot update a system marked as deleted."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn system_register_validation_codes() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &v, &[SCOPE_REGISTER]).await;

    // vendor not 0192: VLD-00000 alone
    let mut b = system_body(VENDOR_ORG, "v0", &[]);
    b["vendor"] = json!({"ID": "9908:991825827"});
    b["id"] = json!("bad id");
    assert_eq!(
        expect_validation(create_system(&sb, &token, &b).await).await,
        vec!["AUTH.VLD-00000"]
    );

    // invalid system id (not {vendor}_...), with a space, bad redirect URL, bad resource format
    let mut b = system_body(VENDOR_ORG, "x", &[]);
    b["id"] = json!("123456789 sys");
    b["allowedRedirectUrls"] = json!(["http://insecure.example/cb"]);
    b["rights"] = json!([{"resource": [{"id": "urn:altinn:app", "value": "x"}]}]);
    let mut codes = expect_validation(create_system(&sb, &token, &b).await).await;
    codes.sort();
    assert_eq!(
        codes,
        vec![
            "AUTH.VLD-00001",
            "AUTH.VLD-00005",
            "AUTH.VLD-00009",
            "AUTH.VLD-00013"
        ]
    );

    // duplicate access packages, client-only package on a visible system
    let mut b = system_body(VENDOR_ORG, "pk", &[]);
    b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}, {"urn": "urn:altinn:accesspackage:skatt-naering"},
                                 {"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}, {"urn": "not-a-package"}]);
    let mut codes = expect_validation(create_system(&sb, &token, &b).await).await;
    codes.sort();
    assert_eq!(
        codes,
        vec!["AUTH.VLD-00007", "AUTH.VLD-00008", "AUTH.VLD-00018"]
    );
    sb.shutdown().await;

    // Unknown resource → VLD-00003: the default (the catalogue is the Resource Registry).
    let strict = sandbox::start(SandboxConfig::default()).await.unwrap();
    let v = create_client(&strict, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&strict, &v, &[SCOPE_REGISTER]).await;
    let mut b = system_body(VENDOR_ORG, "strict", &[]);
    assert_eq!(create_system(&strict, &token, &b).await.status(), 200);
    b["id"] = json!(format!("{VENDOR_ORG}_strict2"));
    b["rights"] =
        json!([{"resource": [{"id": "urn:altinn:resource", "value": "no-such-resource"}]}]);
    let resp = create_system(&strict, &token, &b).await;
    let body = expect_problem(resp, 400, "STD-00000").await;
    assert_eq!(body["validationErrors"][0]["code"], "AUTH.VLD-00003");
    assert_eq!(
        body["validationErrors"][0]["paths"],
        json!(["/registersystemrequest/rights/resource"])
    );
    assert_eq!(
        body["validationErrors"][0]["ResourceIds Not Found : "],
        "no-such-resource"
    );
    strict.shutdown().await;

    // `any_resource` (sandbox serve --any-resource): an unknown well-formed id passes.
    let lenient = sandbox::start(SandboxConfig {
        any_resource: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let v = create_client(&lenient, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&lenient, &v, &[SCOPE_REGISTER]).await;
    assert_eq!(create_system(&lenient, &token, &b).await.status(), 200);
    lenient.shutdown().await;
}

#[tokio::test]
async fn standard_request_lifecycle() {
    let sb = start().await;
    let s = setup(&sb, "reqsys").await;

    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let r: Value = resp.json().await.unwrap();
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(
        location,
        format!(
            "{}/authentication/api/v1/systemuser/request/{id}",
            sb.base_url()
        )
    );
    assert_eq!(r["status"], "New");
    assert_eq!(r["externalRef"], CUSTOMER_ORG);
    assert_eq!(r["partyOrgNo"], CUSTOMER_ORG);
    assert_eq!(r["systemId"], s.system_id);
    assert_eq!(r["integrationTitle"], "Testsystem");
    assert_eq!(r["accessPackages"], json!([]));
    assert_eq!(r["escalated"], false);
    assert_eq!(r["timedOut"], false);
    assert!(r["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        r["confirmUrl"],
        format!(
            "{}/accessmanagement/ui/systemuser/request?id={id}&DONTCHOOSEREPORTEE=true",
            sb.base_url()
        )
    );
    assert_eq!(r["redirectUrl"], "https://vendor.example/receipt?session=1");

    // same (org, externalRef, systemId) again: 200 with the same request
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["id"], id);

    // get by id / by external ref
    let (status, got) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/{id}")),
        &s.token,
    )
    .await;
    assert_eq!((status, got["id"].as_str()), (200, Some(id.as_str())));
    let (status, got) = get_json(
        &api(
            &sb,
            &format!(
                "/systemuser/request/vendor/byexternalref/{}/{CUSTOMER_ORG}/{CUSTOMER_ORG}",
                s.system_id
            ),
        ),
        &s.token,
    )
    .await;
    assert_eq!((status, got["id"].as_str()), (200, Some(id.as_str())));
    let resp = http()
        .get(api(
            &sb,
            &format!(
                "/systemuser/request/vendor/byexternalref/{}/{CUSTOMER_ORG}/nope",
                s.system_id
            ),
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00010").await;

    // another vendor cannot read it (AUTH-00011)
    let other = create_client(&sb, OTHER_VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let other_token = token_for(&sb, &other, &[SCOPE_REQ_READ, SCOPE_REQ_WRITE]).await;
    let resp = http()
        .get(api(&sb, &format!("/systemuser/request/vendor/{id}")))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00011").await;
    // ... nor create requests for our system (AUTH-00011)
    let resp = create_request(
        &sb,
        &other_token,
        &standard_request(&s.system_id, CUSTOMER_ORG_2),
    )
    .await;
    expect_problem(resp, 404, "AUTH-00011").await;

    // approve → Accepted; approving again → AUTH-00013 (409)
    let resp = approve(&sb, &id).await;
    assert_eq!(resp.status(), 200);
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["status"], "Accepted");
    let su_id = outcome["systemUserId"].as_str().unwrap().to_string();
    expect_problem(approve(&sb, &id).await, 409, "AUTH-00013").await;
    let (_, got) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/{id}")),
        &s.token,
    )
    .await;
    assert_eq!(got["status"], "Accepted");

    // a system user exists now: re-POST → AUTH-00004
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    expect_problem(resp, 400, "AUTH-00004").await;

    // system users: bysystem (systemregister.write) and byquery (request.write)
    let (status, list) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
        &s.token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["links"], json!({}));
    let su = &list["data"][0];
    assert_eq!(su["id"], su_id);
    assert_eq!(su["reporteeOrgNo"], CUSTOMER_ORG);
    assert_eq!(su["supplierOrgno"], VENDOR_ORG);
    assert_eq!(su["externalRef"], CUSTOMER_ORG);
    assert_eq!(su["userType"], "standard");
    assert_eq!(su["isDeleted"], false);
    for key in [
        "integrationTitle",
        "systemId",
        "productName",
        "created",
        "supplierName",
    ] {
        assert!(su.get(key).is_some(), "{key}");
    }
    let (status, one) = get_json(
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
    assert_eq!((status, one["id"].as_str()), (200, Some(su_id.as_str())));
    let resp = http()
        .get(api(
            &sb,
            &format!(
                "/systemuser/vendor/byquery?system-id={}&orgno={CUSTOMER_ORG_2}",
                s.system_id
            ),
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    // SU:274 `NotFound()` inside the action: RFC 9110 ProblemDetails (empty before issue 10)
    assert_eq!(resp.status(), 404);
    let nf: Value = resp.json().await.unwrap();
    assert_eq!(nf["title"], "Not Found");

    // reject another request; delete it (202), then it is gone (AUTH-00010), and can be renewed
    let resp = create_request(
        &sb,
        &s.token,
        &standard_request(&s.system_id, CUSTOMER_ORG_2),
    )
    .await;
    let id2 = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = reject(&sb, &id2).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "Rejected");
    let resp = create_request(
        &sb,
        &s.token,
        &standard_request(&s.system_id, CUSTOMER_ORG_2),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "Rejected");
    let resp = http()
        .delete(api(&sb, &format!("/systemuser/request/vendor/{id2}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty_status(resp).await, 202);
    let resp = http()
        .get(api(&sb, &format!("/systemuser/request/vendor/{id2}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00010").await;
    let resp = http()
        .delete(api(&sb, &format!("/systemuser/request/vendor/{id2}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00010").await;
    let resp = create_request(
        &sb,
        &s.token,
        &standard_request(&s.system_id, CUSTOMER_ORG_2),
    )
    .await;
    assert_eq!(resp.status(), 201);
    assert_ne!(resp.json::<Value>().await.unwrap()["id"], id2);
    // unknown request id
    expect_problem(
        approve(&sb, &uuid::Uuid::new_v4().to_string()).await,
        404,
        "AUTH-00010",
    )
    .await;
    sb.shutdown().await;
}

#[tokio::test]
async fn request_validation_errors() {
    let sb = start().await;
    let s = setup(&sb, "valsys").await;
    let check = |body: Value, status: u16, code: &'static str| {
        let sb = &sb;
        let token = s.token.clone();
        async move { expect_problem(create_request(sb, &token, &body).await, status, code).await }
    };
    // invalid/unknown system id
    check(
        standard_request("991825827_nope", CUSTOMER_ORG),
        404,
        "AUTH-00011",
    )
    .await;
    // customer org unknown to the sandbox's Register, or not an org number at all
    check(
        standard_request(&s.system_id, UNKNOWN_VALID_ORG),
        400,
        "AUTH-00000",
    )
    .await;
    check(standard_request(&s.system_id, "123"), 400, "AUTH-00000").await;
    // redirect URL not allowed on the system
    let mut b = standard_request(&s.system_id, CUSTOMER_ORG);
    b["redirectUrl"] = json!("https://evil.example/receipt");
    check(b, 400, "AUTH-00021").await;
    // right not on the system
    let mut b = standard_request(&s.system_id, CUSTOMER_ORG);
    b["rights"] = json!([{"resource": [{"id": "urn:altinn:resource", "value": "something-else"}]}]);
    check(b, 400, "AUTH-00001").await;
    // neither rights nor packages given (null) / both empty
    let b = json!({"systemId": s.system_id, "partyOrgNo": CUSTOMER_ORG});
    check(b, 400, "AUTH-00001").await;
    let b = json!({"systemId": s.system_id, "partyOrgNo": CUSTOMER_ORG, "rights": [], "accessPackages": []});
    check(b, 400, "AUTH-00059").await;
    // package not on the system
    let b = json!({"systemId": s.system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": [{"urn": "urn:altinn:accesspackage:other"}]});
    check(b, 400, "AUTH-00063").await;
    // package on the system: fine
    let b = json!({"systemId": s.system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]});
    assert_eq!(create_request(&sb, &s.token, &b).await.status(), 201);
    // the vendor's own org (known because it owns a client) is an acceptable customer
    assert_eq!(
        create_request(&sb, &s.token, &standard_request(&s.system_id, VENDOR_ORG))
            .await
            .status(),
        201
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_follows_links_next() {
    let sb = start_with_page_size(2).await;
    let s = setup(&sb, "pagesys").await;
    let orgs: Vec<Value> = http()
        .get(format!("{}/sandbox/orgs", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut created = Vec::new();
    for o in &orgs[..5] {
        let resp = create_request(
            &sb,
            &s.token,
            &standard_request(&s.system_id, o["orgNo"].as_str().unwrap()),
        )
        .await;
        assert_eq!(resp.status(), 201);
        created.push(
            resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut url = api(
        &sb,
        &format!("/systemuser/request/vendor/bysystem/{}", s.system_id),
    );
    let mut seen = Vec::new();
    let mut tokens = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = get_json(&url, &s.token).await;
        assert_eq!(status, 200);
        pages += 1;
        for r in page["data"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_string());
        }
        match page["links"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&sb.base_url()), "absolute link: {next}");
                let token = next.split("token=").nth(1).unwrap();
                // Opaque<Guid>: base64url of the JSON string
                use base64::Engine;
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(token)
                    .unwrap();
                let guid: String = serde_json::from_slice(&decoded).unwrap();
                tokens.push(guid);
                url = next.to_string();
            }
            None => break,
        }
    }
    // As Altinn does (RequestRepository.cs:542 with Page.cs:40-47): the token names the first
    // request of the next page and the next page starts strictly after it, so that request is
    // skipped: ids sorted r1..r5, page 1 = r1 r2 (token r3), page 2 = r4 r5.
    created.sort();
    assert_eq!(pages, 2);
    assert_eq!(tokens, [created[2].clone()]);
    assert_eq!(seen, [&created[..2], &created[3..]].concat());

    // system users, paginated by sequence number (Opaque<long>)
    for id in &created {
        assert_eq!(approve(&sb, id).await.status(), 200);
    }
    let (_, page1) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{}", s.system_id)),
        &s.token,
    )
    .await;
    assert_eq!(page1["data"].as_array().unwrap().len(), 2);
    let next = page1["links"]["next"].as_str().unwrap();
    // The first sequence number of the next page (base64url("3")), continued from inclusively.
    assert!(next.ends_with("token=Mw"), "{next}");
    let (_, page2) = get_json(next, &s.token).await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 2);
    let page3 = page2["links"]["next"].as_str().unwrap();
    let (_, page3) = get_json(page3, &s.token).await;
    assert_eq!(page3["data"].as_array().unwrap().len(), 1);
    assert!(page3["links"].get("next").is_none_or(|n| n.is_null()));
    // bad token → 400
    let resp = http()
        .get(api(
            &sb,
            &format!("/systemuser/vendor/bysystem/{}?token=!!", s.system_id),
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn agent_requests() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &v, &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ]).await;
    let mut b = system_body(VENDOR_ORG, "agentsys", &[&v.client_id]);
    b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
    b["isVisible"] = json!(false);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let system_id = format!("{VENDOR_ORG}_agentsys");

    let body = json!({"systemId": system_id, "partyOrgNo": "310904473",
                      "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    let resp = http()
        .post(api(&sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let r: Value = resp.json().await.unwrap();
    assert!(r.get("rights").is_none(), "agent responses have no rights");
    assert!(
        r["confirmUrl"]
            .as_str()
            .unwrap()
            .contains("/accessmanagement/ui/systemuser/agentrequest?id=")
    );
    let id = r["id"].as_str().unwrap().to_string();

    let (status, got) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/agent/{id}")),
        &token,
    )
    .await;
    assert_eq!((status, got["status"].as_str()), (200, Some("New")));
    let (status, got) = get_json(
        &api(
            &sb,
            &format!(
                "/systemuser/request/vendor/agent/byexternalref/{system_id}/310904473/310904473"
            ),
        ),
        &token,
    )
    .await;
    assert_eq!((status, got["id"].as_str()), (200, Some(id.as_str())));
    let (status, list) = get_json(
        &api(
            &sb,
            &format!("/systemuser/request/vendor/agent/bysystem/{system_id}"),
        ),
        &token,
    )
    .await;
    assert_eq!((status, list["data"].as_array().unwrap().len()), (200, 1));
    // an agent id on the standard route is not found there
    let resp = http()
        .get(api(&sb, &format!("/systemuser/request/vendor/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00010").await;
    // agent request without packages / with a non-client package
    let no_pk = json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": []});
    let resp = http()
        .post(api(&sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(&token)
        .json(&no_pk)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 400, "AUTH-00058").await;

    assert_eq!(approve(&sb, &id).await.status(), 200);
    let (_, users) = get_json(
        &api(&sb, &format!("/systemuser/vendor/bysystem/{system_id}")),
        &token,
    )
    .await;
    assert_eq!(users["data"][0]["userType"], "agent");
    // the facilitator's org gets a system-user token
    let resp = system_user_token_response(&sb, &v, "310904473", None).await;
    assert_eq!(resp.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn change_requests() {
    let sb = start().await;
    let s = setup(&sb, "chsys").await;
    // give the system a second right to ask for
    let rights = json!([{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]},
                        {"resource": [{"id": "urn:altinn:resource", "value": "ttd_systembruker-salary"}]}]);
    let resp = http()
        .put(api(
            &sb,
            &format!("/systemregister/vendor/{}/rights", s.system_id),
        ))
        .bearer_auth(&s.token)
        .json(&rights)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let su_id = approve(&sb, &id).await.json::<Value>().await.unwrap()["systemUserId"]
        .as_str()
        .unwrap()
        .to_string();

    let corr = uuid::Uuid::new_v4().to_string();
    let url = api(
        &sb,
        &format!("/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su_id}"),
    );
    // nothing to change → 200 NoChangeNeeded
    let resp = http()
        .post(&url)
        .bearer_auth(&s.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["status"], "NoChangeNeeded");
    assert_eq!(r["confirmUrl"], "");

    let body = json!({"requiredRights": [rights[1]]});
    let resp = http()
        .post(&url)
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!(
                "/authentication/api/v1/systemuser/changerequest/{corr}"
            ))
    );
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["id"], corr);
    assert_eq!(r["status"], "New");
    assert_eq!(r["systemUserId"], su_id);
    assert!(
        r["confirmUrl"]
            .as_str()
            .unwrap()
            .contains("/accessmanagement/ui/systemuser/changerequest?id=")
    );
    // the same correlation id again → 200 with it
    let resp = http()
        .post(&url)
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, got) = get_json(
        &api(&sb, &format!("/systemuser/changerequest/vendor/{corr}")),
        &s.token,
    )
    .await;
    assert_eq!((status, got["status"].as_str()), (200, Some("New")));
    let (status, list) = get_json(
        &api(
            &sb,
            &format!("/systemuser/changerequest/vendor/bysystem/{}", s.system_id),
        ),
        &s.token,
    )
    .await;
    assert_eq!((status, list["data"].as_array().unwrap().len()), (200, 1));

    assert_eq!(
        approve(&sb, &corr).await.json::<Value>().await.unwrap()["status"],
        "Accepted"
    );
    let (_, got) = get_json(
        &api(&sb, &format!("/systemuser/changerequest/vendor/{corr}")),
        &s.token,
    )
    .await;
    assert_eq!(got["status"], "Accepted");

    // errors: missing correlation-id (text), unknown system user (AUTH-00015), bad right (AUTH-00001)
    let resp = http()
        .post(api(
            &sb,
            &format!("/systemuser/changerequest/vendor?system-user-id={su_id}"),
        ))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .starts_with("Missing or invalid QueryParameter: correlation-id.")
    );
    let resp = http()
        .post(api(
            &sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={}&system-user-id={}",
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4()
            ),
        ))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 404, "AUTH-00015").await;
    let bad =
        json!({"requiredRights": [{"resource": [{"id": "urn:altinn:resource", "value": "nope"}]}]});
    let resp = http()
        .post(api(
            &sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={}&system-user-id={su_id}",
                uuid::Uuid::new_v4()
            ),
        ))
        .bearer_auth(&s.token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    expect_problem(resp, 400, "AUTH-00001").await;
    // delete → 202
    let resp = http()
        .delete(api(
            &sb,
            &format!("/systemuser/changerequest/vendor/{corr}"),
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty_status(resp).await, 202);
    sb.shutdown().await;
}

#[tokio::test]
async fn bad_input_never_500() {
    let sb = start().await;
    let s = setup(&sb, "badsys").await;
    let c = http();
    let url = api(&sb, "/systemuser/request/vendor");
    // malformed JSON
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("problem+json")
    );
    // missing required property
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .json(&json!({"partyOrgNo": CUSTOMER_ORG}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // JSON null / wrong types
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .json(&json!({"systemId": 5, "partyOrgNo": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // wrong content type
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let resp = c
        .post(api(&sb, "/systemregister/vendor"))
        .bearer_auth(&s.token)
        .form(&[("id", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // huge body
    let huge = format!("{{\"systemId\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let resp = c
        .post(&url)
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
    }
    // non-UUID ids
    for path in [
        "/systemuser/request/vendor/not-a-guid",
        "/systemuser/request/vendor/agent/123",
        "/systemuser/changerequest/vendor/zzz",
    ] {
        let resp = c
            .get(api(&sb, path))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["errors"].is_object());
    }
    let resp = c
        .delete(api(&sb, "/systemuser/request/vendor/%00"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = c
        .post(format!("{}/sandbox/requests/nope/approve", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // approval page with a bad or unknown id: 404 HTML, not a crash
    for q in [
        "?id=nope",
        "?id=",
        "",
        &format!("?id={}", uuid::Uuid::new_v4()),
    ] {
        let resp = c
            .get(format!(
                "{}/accessmanagement/ui/systemuser/request{q}",
                sb.base_url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
    }
    let resp = c
        .post(format!(
            "{}/accessmanagement/ui/systemuser/request",
            sb.base_url()
        ))
        .form(&[("id", "x")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    // unknown route
    assert_eq!(
        c.get(api(&sb, "/nothing/here"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // still serving
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201);
    sb.shutdown().await;
}

#[tokio::test]
async fn approval_page_html_and_form_post() {
    let sb = start().await;
    let s = setup(&sb, "pagesys2").await;
    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    let r: Value = resp.json().await.unwrap();
    let confirm = r["confirmUrl"].as_str().unwrap();
    let page = http().get(confirm).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Havbris Bakeri AS"), "customer name");
    assert!(html.contains(CUSTOMER_ORG));
    assert!(html.contains("Testsystem"), "system name");
    assert!(html.contains("ske-krav-og-betalinger"), "rights");
    assert!(html.contains(VENDOR_ORG));
    assert!(html.contains(r#"id="approve""#) && html.contains(r#"id="reject""#));
    // plain form POST, as the page's form does without JS
    let id = r["id"].as_str().unwrap();
    let resp = http()
        .post(format!(
            "{}/accessmanagement/ui/systemuser/request",
            sb.base_url()
        ))
        .form(&[("id", id), ("decision", "reject")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Request rejected"));
    assert!(
        html.contains("https://vendor.example/receipt?session=1"),
        "redirect link"
    );
    let (_, got) = get_json(
        &api(&sb, &format!("/systemuser/request/vendor/{id}")),
        &s.token,
    )
    .await;
    assert_eq!(got["status"], "Rejected");
    // the page now shows the status without buttons
    let html = http()
        .get(confirm)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(r#"id="approve""#));
    assert!(html.contains("Rejected"));
    sb.shutdown().await;
}

#[tokio::test]
async fn approval_pages_for_agent_and_change_requests() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &v, &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ]).await;
    let mut b = system_body(VENDOR_ORG, "mixed", &[&v.client_id]);
    b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}, {"urn": "urn:altinn:accesspackage:skatt-naering"}]);
    b["isVisible"] = json!(false);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let system_id = format!("{VENDOR_ORG}_mixed");

    // a client-relation package on a standard request: AUTH-00064; a package not on the system: AUTH-00063 + extension
    let std_pk = json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    let body = expect_problem(
        create_request(&sb, &token, &std_pk).await,
        400,
        "AUTH-00064",
    )
    .await;
    assert_eq!(
        body["NotDelegablePackages"],
        "urn:altinn:accesspackage:regnskapsforer-lonn"
    );
    let missing = json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": [{"urn": "urn:altinn:accesspackage:nope"}]});
    let body = expect_problem(
        create_request(&sb, &token, &missing).await,
        400,
        "AUTH-00063",
    )
    .await;
    assert_eq!(body["NotFoundPackages"], "urn:altinn:accesspackage:nope");

    // agent request page
    let agent = json!({"systemId": system_id, "partyOrgNo": "310904473", "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
    let r: Value = http()
        .post(api(&sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(&token)
        .json(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let html = http()
        .get(r["confirmUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Fjellbekk Regnskap AS")
            && html.contains("regnskapsforer-lonn")
            && html.contains(r#"id="approve""#)
    );
    // the agent id is not a standard request page
    let wrong = format!(
        "{}/accessmanagement/ui/systemuser/request?id={}",
        sb.base_url(),
        r["id"].as_str().unwrap()
    );
    assert_eq!(http().get(wrong).send().await.unwrap().status(), 404);
    let resp = http()
        .post(format!(
            "{}/accessmanagement/ui/systemuser/agentrequest",
            sb.base_url()
        ))
        .form(&[("id", r["id"].as_str().unwrap()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("Request approved"));

    // change request page for a standard system user
    let std_req = json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]});
    let id = create_request(&sb, &token, &std_req)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let su_id = approve(&sb, &id).await.json::<Value>().await.unwrap()["systemUserId"]
        .as_str()
        .unwrap()
        .to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let change = json!({"unwantedAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}], "requiredRights": [b["rights"][0]]});
    let resp = http()
        .post(api(
            &sb,
            &format!(
                "/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su_id}"
            ),
        ))
        .bearer_auth(&token)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let c: Value = resp.json().await.unwrap();
    let html = http()
        .get(c["confirmUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Access packages to remove") && html.contains("Rights to add"));
    let resp = http()
        .post(format!(
            "{}/accessmanagement/ui/systemuser/changerequest",
            sb.base_url()
        ))
        .form(&[("id", corr.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("Request approved"));
    // approving again through the admin route: the change request is no longer New ->
    // AUTH-00013 (409), ChangeRequestSystemUserService.cs:319-322 (issue 10; was AUTH-00006)
    expect_problem(approve(&sb, &corr).await, 409, "AUTH-00013").await;
    // the system user's rights changed (seen through a system-user token and whoami)
    let tok: Value = system_user_token_response(&sb, &v, CUSTOMER_ORG, None)
        .await
        .json()
        .await
        .unwrap();
    let (status, who) = get_json(
        &format!("{}/reference/whoami", sb.base_url()),
        tok["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(who["accessPackages"], json!([]));
    assert_eq!(
        who["rights"][0]["resource"][0]["value"],
        "ske-krav-og-betalinger"
    );
    sb.shutdown().await;
}
