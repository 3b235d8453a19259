//! The sandbox is as strict as TT02 about what a system may list and a request may ask for
//! (issue 10): resources and access packages come from the seeded catalogues, served on the
//! real public metadata paths, and Digdir's scope grants decide who gets the vendor scopes.
//! Real HTTP against an in-process sandbox; expected codes and texts are the real service's
//! (file:line in crates/sandbox/src/{altinn/mod.rs,metadata.rs,orgs.rs}).

mod sandbox_common;

use sandbox_common::*;
use serde_json::{Value, json};

const SKATT_NAERING_ID: &str = "1dba50d6-f604-48e9-bd41-82321b13e85c";
const CLIENT_PKG: &str = "urn:altinn:accesspackage:regnskapsforer-lonn";
const ASSIGNABLE_ONLY_PKG: &str = "urn:altinn:accesspackage:hovedadministrator";
/// A seeded organisation that is NOT a registered system vendor.
const NON_VENDOR_ORG: &str = "314567897";

async fn get(url: String, accept_language: Option<&str>) -> reqwest::Response {
    let mut req = http().get(url);
    if let Some(l) = accept_language {
        req = req.header("Accept-Language", l);
    }
    req.send().await.expect("send")
}

async fn problem_body(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    resp.json().await.unwrap()
}

fn no_nulls(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().all(no_nulls),
        Value::Object(o) => o.values().all(no_nulls),
        _ => true,
    }
}

/// The validation errors of an STD-00000 answer, by code.
async fn validation_errors(resp: reqwest::Response) -> Vec<Value> {
    let body = problem_body(resp, 400).await;
    assert_eq!(body["code"], "STD-00000", "{body}");
    body["validationErrors"].as_array().unwrap().clone()
}

fn error<'a>(errors: &'a [Value], code: &str) -> &'a Value {
    errors
        .iter()
        .find(|e| e["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {errors:?}"))
}

#[tokio::test]
async fn resource_registry_routes_have_the_real_shapes() {
    let sb = start().await;
    let rr = |p: &str| format!("{}/resourceregistry/api/v1/resource{p}", sb.base_url());

    // GET resource/{id}: the ServiceResource, nulls omitted, no token needed.
    let resp = get(rr("/ske-krav-og-betalinger"), None).await;
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["identifier"], "ske-krav-og-betalinger");
    assert_eq!(r["resourceType"], "GenericAccessResource");
    assert_eq!(r["hasCompetentAuthority"]["orgcode"], "skd");
    assert_eq!(r["hasCompetentAuthority"]["organization"], "974761076");
    assert_eq!(r["delegable"], true);
    assert!(r["title"]["nb"].is_string() && r["title"]["en"].is_string());
    assert!(no_nulls(&r), "{r}");
    let mp: Value = get(rr("/skd-maskinportenschemaid-8"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mp["resourceType"], "MaskinportenSchema");

    // Unknown: NotFound() -> RFC 9110 ProblemDetails.
    let body = problem_body(get(rr("/no-such-resource"), None).await, 404).await;
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "Not Found");

    // search: a plain array; apps excluded; criteria AND-ed, case-insensitive.
    let all: Vec<Value> = get(rr("/search"), None).await.json().await.unwrap();
    assert!(all.len() >= 8);
    assert!(all.iter().all(|r| r["resourceType"] != "AltinnApp"));
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|r| r["identifier"].as_str().unwrap().to_string())
            .collect()
    };
    let mp_only: Vec<Value> = get(rr("/search?resourceType=MaskinportenSchema"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&mp_only), ["skd-maskinportenschemaid-8"]);
    let krav: Vec<Value> = get(rr("/search?id=KRAV-OG&orgCode=SKD"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&krav), ["ske-krav-og-betalinger"]);
    let by_keyword: Vec<Value> = get(rr("/search?keyword=boligsameie"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&by_keyword), ["ske-innrapportering-boligsameie"]);
    // `title` is bound but never used by the real search.
    let titled: Vec<Value> = get(rr("/search?title=zzz-no-such-title"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titled.len(), all.len());
    let none = get(rr("/search?id=zzz-nothing"), None).await;
    assert_eq!(none.status(), 200);
    assert_eq!(none.json::<Value>().await.unwrap(), json!([]));
    // An enum value that does not bind: the automatic 400.
    let bad = problem_body(get(rr("/search?resourceType=Bogus"), None).await, 400).await;
    assert!(bad["errors"]["ResourceType"].is_array(), "{bad}");
    sb.shutdown().await;
}

#[tokio::test]
async fn access_management_package_routes_have_the_real_shapes() {
    let sb = start().await;
    let am = |p: &str| {
        format!(
            "{}/accessmanagement/api/v1/meta/info/accesspackages{p}",
            sb.base_url()
        )
    };

    // package/urn/{urn}: full urn (encoded) or just the name; PackageDto.
    for path in [
        "/package/urn/urn%3Aaltinn%3Aaccesspackage%3Askatt-naering",
        "/package/urn/skatt-naering",
    ] {
        let resp = get(am(path), None).await;
        assert_eq!(resp.status(), 200, "{path}");
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["id"], SKATT_NAERING_ID);
        assert_eq!(p["urn"], "urn:altinn:accesspackage:skatt-naering");
        assert_eq!(p["name"], "Skatt næring");
        assert_eq!(p["isDelegable"], true);
        assert_eq!(p["isAssignable"], true);
        assert!(p["isResourcePolicyAvailable"].is_boolean());
        assert_eq!(
            p["area"]["urn"],
            "accesspackage:area:skatt_avgift_regnskap_og_toll"
        );
        assert_eq!(p["area"]["packages"], json!([]));
        assert_eq!(p["type"]["name"], "Organisasjon");
        let res = p["resources"].as_array().unwrap();
        assert!(res.iter().any(|r| r["refId"] == "ske-krav-og-betalinger"));
    }
    let client: Value = get(am("/package/urn/regnskapsforer-lonn"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&client["isDelegable"], &client["isAssignable"]),
        (&json!(true), &json!(false))
    );
    problem_body(get(am("/package/urn/skattnaering"), None).await, 404).await;

    // package/{id}: by the real id; English on request; unknown 404; not a Guid 400.
    let en: Value = get(
        am(&format!("/package/{SKATT_NAERING_ID}")),
        Some("en-GB,nb"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(en["urn"], "urn:altinn:accesspackage:skatt-naering");
    assert_eq!(en["name"], "Business tax");
    problem_body(
        get(am("/package/00000000-0000-0000-0000-000000000001"), None).await,
        404,
    )
    .await;
    let bad = problem_body(get(am("/package/not-a-guid"), None).await, 400).await;
    assert!(bad["errors"]["id"].is_array(), "{bad}");

    // package/{id}/resources: ResourceDto list; 204 when none; 404 when no such package.
    let res: Vec<Value> = get(am(&format!("/package/{SKATT_NAERING_ID}/resources")), None)
        .await
        .json()
        .await
        .unwrap();
    let krav = res
        .iter()
        .find(|r| r["refId"] == "ske-krav-og-betalinger")
        .expect("linked resource");
    assert_eq!(krav["provider"]["code"], "skd");
    assert_eq!(krav["provider"]["refId"], "974761076");
    assert_eq!(krav["type"]["name"], "GenericAccessResource");
    let jordbruk = "c5bbbc3f-605a-4dcb-a587-32124d7bb76d";
    assert_eq!(
        get(am(&format!("/package/{jordbruk}/resources")), None)
            .await
            .status(),
        204
    );
    problem_body(
        get(
            am("/package/00000000-0000-0000-0000-000000000001/resources"),
            None,
        )
        .await,
        404,
    )
    .await;

    // search: [{object, score, fields}] best first; no term = all 223; nothing = 204.
    let hits: Vec<Value> = get(am("/search?term=skatt"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!hits.is_empty());
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(
        hits[0]["object"]["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with("skatt")
    );
    assert!(hits[0]["fields"][0]["field"].is_string());
    assert_eq!(hits[0]["fields"][0]["words"], json!([]));
    let all: Vec<Value> = get(am("/search"), None).await.json().await.unwrap();
    assert_eq!(all.len(), 223);
    assert!(all.iter().all(|h| h["score"] == 0));
    assert_eq!(get(am("/search?term=zzqqxx"), None).await.status(), 204);
    let persons: Vec<Value> = get(am("/search?typeName=person"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        persons
            .iter()
            .all(|h| h["object"]["type"]["name"] == "Person")
    );
    let bad_type = problem_body(get(am("/search?typeName=robot"), None).await, 500).await;
    assert!(
        bad_type["detail"]
            .as_str()
            .unwrap()
            .contains("Type 'robot' not found")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn registration_checks_resources_and_packages_like_the_system_register() {
    let sb = start().await;
    let vendor = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb, &vendor, &[SCOPE_REGISTER]).await;
    let right = |id: &str| json!({"resource": [{"id": "urn:altinn:resource", "value": id}]});

    // Unknown -> VLD-00003; MaskinportenSchema, Consent, Altinn2Service -> one VLD-00017.
    let mut b = system_body(VENDOR_ORG, "types", &[]);
    b["rights"] = json!([
        right("no-such-resource"),
        right("skd-maskinportenschemaid-8"),
        right("stami-samtykke-must"),
        right("se_1337_1338"),
    ]);
    let errors = validation_errors(create_system(&sb, &token, &b).await).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        error(&errors, "AUTH.VLD-00003")["ResourceIds Not Found : "],
        "no-such-resource"
    );
    let vld17 = error(&errors, "AUTH.VLD-00017");
    assert_eq!(
        vld17["title"],
        "One or more resources specified in rights is of resource type which is not delegable."
    );
    assert_eq!(
        vld17["ResourceIds Not Delegable : "],
        "skd-maskinportenschemaid-8 | stami-samtykke-must | se_1337_1338"
    );
    assert_eq!(
        vld17["paths"],
        json!(["/registersystemrequest/rights/resource"])
    );

    // Whitelisted types register, also a `delegable: false` one (that surfaces at approval).
    b["rights"] = json!([
        right("eformidling-dpo-meldingsutveksling"),
        right("app_ttd_endring-av-navn-v2"),
        right("ttd_systembruker-logistikk-demo"),
    ]);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);

    // Packages: format, existence, delegability in one VLD-00008; duplicates VLD-00007.
    let mut b = system_body(VENDOR_ORG, "pkgs", &[]);
    b["isVisible"] = json!(false);
    b["accessPackages"] = json!([
        {"urn": "bad:urn"},
        {"urn": "urn:altinn:accesspackage:skattnaering"},
        {"urn": "urn:altinn:accesspackage:eksplisitt"},
        {"urn": "urn:altinn:accesspackage:skatt-naering"},
        {"urn": "urn:altinn:accesspackage:skatt-naering"},
    ]);
    let errors = validation_errors(create_system(&sb, &token, &b).await).await;
    let vld8 = error(&errors, "AUTH.VLD-00008");
    assert_eq!(
        vld8["Invalid Urn Details : "],
        "Invalid format: bad:urn | Not found: urn:altinn:accesspackage:skattnaering | Not possible to delegate: urn:altinn:accesspackage:eksplisitt"
    );
    error(&errors, "AUTH.VLD-00007");
    assert_eq!(errors.len(), 2, "{errors:?}");

    // isVisible with a package that is not assignable (client-only) -> VLD-00018; an
    // assignable-only package is fine on a visible system; hidden systems may carry both.
    let mut b = system_body(VENDOR_ORG, "visible", &[]);
    b["accessPackages"] = json!([{"urn": CLIENT_PKG}]);
    let errors = validation_errors(create_system(&sb, &token, &b).await).await;
    assert_eq!(errors.len(), 1);
    error(&errors, "AUTH.VLD-00018");
    b["accessPackages"] = json!([{"urn": ASSIGNABLE_ONLY_PKG}]);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let mut b = system_body(VENDOR_ORG, "hidden", &[]);
    b["isVisible"] = json!(false);
    b["accessPackages"] = json!([{"urn": CLIENT_PKG}, {"urn": ASSIGNABLE_ONLY_PKG}]);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);

    // The partial updates validate the same way.
    let resp = http()
        .put(api(
            &sb,
            &format!("/systemregister/vendor/{VENDOR_ORG}_hidden/accesspackages"),
        ))
        .bearer_auth(&token)
        .json(&json!([{"urn": "urn:altinn:accesspackage:nope"}]))
        .send()
        .await
        .unwrap();
    let errors = validation_errors(resp).await;
    assert_eq!(
        error(&errors, "AUTH.VLD-00008")["Invalid Urn Details : "],
        "Not found: urn:altinn:accesspackage:nope"
    );
    let resp = http()
        .put(api(
            &sb,
            &format!("/systemregister/vendor/{VENDOR_ORG}_hidden/rights"),
        ))
        .bearer_auth(&token)
        .json(&json!([right("skd-maskinportenschemaid-8")]))
        .send()
        .await
        .unwrap();
    error(&validation_errors(resp).await, "AUTH.VLD-00017");
    sb.shutdown().await;
}

#[tokio::test]
async fn requests_check_packages_against_access_management_flags() {
    let sb = start().await;
    let vendor = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(
        &sb,
        &vendor,
        &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ],
    )
    .await;
    let mut b = system_body(VENDOR_ORG, "mixed", &[&vendor.client_id]);
    b["isVisible"] = json!(false);
    b["accessPackages"] = json!([
        {"urn": "urn:altinn:accesspackage:skatt-naering"},
        {"urn": CLIENT_PKG},
        {"urn": ASSIGNABLE_ONLY_PKG},
    ]);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let system_id = format!("{VENDOR_ORG}_mixed");
    let std_req = |urns: &[&str]| {
        json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG,
                              "accessPackages": urns.iter().map(|u| json!({"urn": u})).collect::<Vec<_>>()})
    };
    let agent_req = |urns: &[&str]| {
        let mut r = std_req(urns);
        r["partyOrgNo"] = json!(CUSTOMER_ORG_2);
        r
    };
    let post_agent = |body: Value| {
        let url = api(&sb, "/systemuser/request/vendor/agent");
        let token = token.clone();
        async move {
            http()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };

    // Standard + client-only package: not assignable -> AUTH-00064.
    let body = problem_body(
        create_request(&sb, &token, &std_req(&[CLIENT_PKG])).await,
        400,
    )
    .await;
    assert_eq!(body["code"], "AUTH-00064");
    assert_eq!(body["NotDelegablePackages"], CLIENT_PKG);
    // Agent + assignable-only package: not delegable -> AUTH-00065.
    let body = problem_body(post_agent(agent_req(&[ASSIGNABLE_ONLY_PKG])).await, 400).await;
    assert_eq!(body["code"], "AUTH-00065");
    assert_eq!(body["NotDelegablePackages"], ASSIGNABLE_ONLY_PKG);
    // Not on the system (exact urn) -> AUTH-00063, reported before not-delegable ones.
    let body = problem_body(
        create_request(
            &sb,
            &token,
            &std_req(&["urn:altinn:accesspackage:lonn", CLIENT_PKG]),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(body["code"], "AUTH-00063");
    assert_eq!(body["NotFoundPackages"], "urn:altinn:accesspackage:lonn");
    // What fits: a standard request with assignable packages, an agent request with delegable ones.
    let ok = create_request(
        &sb,
        &token,
        &std_req(&[
            "urn:altinn:accesspackage:skatt-naering",
            ASSIGNABLE_ONLY_PKG,
        ]),
    )
    .await;
    assert_eq!(ok.status(), 201, "{:?}", ok.text().await);
    let ok = post_agent(agent_req(&[
        "urn:altinn:accesspackage:skatt-naering",
        CLIENT_PKG,
    ]))
    .await;
    assert_eq!(ok.status(), 201, "{:?}", ok.text().await);
    sb.shutdown().await;
}

#[tokio::test]
async fn digdir_grants_the_vendor_scopes_only_to_registered_vendors() {
    let sb = start().await;
    let create = |org: &str, scopes: &[&str]| {
        let body = json!({"org": org, "scopes": scopes, "jwks": {"keys": [key_a().jwk(&format!("kid-{}", uuid::Uuid::new_v4()))]}});
        let url = format!("{}/sandbox/clients", sb.base_url());
        // The host secret: these calls test what Digdir grants, not who may ask.
        let secret = sb.admin_secret().to_string();
        async move {
            http()
                .post(url)
                .bearer_auth(secret)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    // /sandbox/orgs says who is a vendor.
    let orgs: Vec<Value> = http()
        .get(format!("{}/sandbox/orgs", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let non_vendor = orgs.iter().find(|o| o["orgNo"] == NON_VENDOR_ORG).unwrap();
    assert_eq!(non_vendor["systemVendor"], false);
    assert!(
        orgs.iter()
            .filter(|o| o["orgNo"] != NON_VENDOR_ORG)
            .all(|o| o["systemVendor"] == true)
    );

    // The seeded non-vendor cannot get altinn:authentication/* scopes.
    let resp = create(NON_VENDOR_ORG, &[SCOPE_REGISTER]).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("not a registered system vendor"),
        "{body}"
    );
    // ... but may have an open scope, and asking Maskinporten for a vendor scope is invalid_scope.
    let demo_only = create_client(&sb, NON_VENDOR_ORG, &[SCOPE_DEMO], key_a()).await;
    let (e, d) = expect_oauth_error(
        post_grant(
            &sb,
            &sign(
                &grant_claims(&sb, &demo_only, SCOPE_REGISTER),
                Some(&demo_only.kid),
                key_a(),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(e, "invalid_scope", "{d}");
    token_for(&sb, &demo_only, &[SCOPE_DEMO]).await;
    // The same client cannot be given the vendor scopes later either.
    let resp = http()
        .put(format!(
            "{}/sandbox/clients/{}/scopes",
            sb.base_url(),
            demo_only.client_id
        ))
        .bearer_auth(sb.admin_secret())
        .json(&json!({"scopes": [SCOPE_DEMO, SCOPE_REQ_WRITE]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // A scope the sandbox does not know does not exist: refused at the client and at /token.
    for scope in ["altinn:extra", "ALTINN:authentication/systemregister.write"] {
        let resp = create(VENDOR_ORG, &[scope]).await;
        assert_eq!(resp.status(), 400, "{scope}");
        let v = create_client(&sb, VENDOR_ORG, &[SCOPE_DEMO], key_a()).await;
        let (e, _) = expect_oauth_error(
            post_grant(
                &sb,
                &sign(&grant_claims(&sb, &v, scope), Some(&v.kid), key_a()),
            )
            .await,
        )
        .await;
        assert_eq!(e, "invalid_scope", "{scope}");
    }
    // The admin scope is Altinn's own: not for a vendor.
    assert_eq!(
        create("310904473", &["altinn:authentication/systemregister.admin"])
            .await
            .status(),
        400
    );
    // Seeded vendors (and orgs the sandbox does not seed: the user's own) get them.
    create_client(&sb, "310904473", ALL_VENDOR_SCOPES, key_a()).await;
    create_client(&sb, UNKNOWN_VALID_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn system_user_tokens_need_the_client_id_in_its_exact_case() {
    let sb = start().await;
    let kid = format!("kid-{}", uuid::Uuid::new_v4());
    let resp = http()
        .post(format!("{}/sandbox/clients", sb.base_url()))
        .bearer_auth(sb.admin_secret())
        .json(
            &json!({"client_id": "Vendor-Client-A", "org": VENDOR_ORG, "scopes": ALL_VENDOR_SCOPES,
                      "jwks": {"keys": [key_a().jwk(&kid)]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let vendor = Vendor {
        client_id: "Vendor-Client-A".into(),
        kid,
        org: VENDOR_ORG.into(),
    };
    let token = token_for(&sb, &vendor, &[SCOPE_REGISTER, SCOPE_REQ_WRITE]).await;
    // The system lists the client id in another letter case: registration accepts it (its
    // uniqueness check is case-insensitive), but the MP-303 lookup is `=` in PostgreSQL.
    let b = system_body(VENDOR_ORG, "caseclient", &["vendor-client-a"]);
    assert_eq!(create_system(&sb, &token, &b).await.status(), 200);
    let req = create_request(
        &sb,
        &token,
        &standard_request(&format!("{VENDOR_ORG}_caseclient"), CUSTOMER_ORG),
    )
    .await;
    assert_eq!(req.status(), 201);
    let id = req.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(approve(&sb, &id).await.status(), 200);
    let resp = system_user_token_response(&sb, &vendor, CUSTOMER_ORG, None).await;
    let (e, _) = expect_oauth_error(resp).await;
    assert_eq!(e, "invalid_altinn_customer_configuration");

    // A second system cannot take the exact id: VLD-00004 is case-insensitive, as in TT02.
    let b = system_body(VENDOR_ORG, "exactclient", &["Vendor-Client-A"]);
    error(
        &validation_errors(create_system(&sb, &token, &b).await).await,
        "AUTH.VLD-00004",
    );
    // Correct the case on the system: now the token is issued.
    let b = system_body(VENDOR_ORG, "caseclient", &["Vendor-Client-A"]);
    let resp = http()
        .put(api(
            &sb,
            &format!("/systemregister/vendor/{VENDOR_ORG}_caseclient"),
        ))
        .bearer_auth(&token)
        .json(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let resp = system_user_token_response(&sb, &vendor, CUSTOMER_ORG, None).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_scope_smuggled_into_the_state_file_still_gets_invalid_scope() {
    use altinn_onboard::sandbox::{self, SandboxConfig};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = || SandboxConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let sb = sandbox::start(config()).await.unwrap();
    let v = create_client(&sb, NON_VENDOR_ORG, &[SCOPE_DEMO], key_a()).await;
    sb.shutdown().await;
    // An older sandbox (or a hand edit) gave the non-vendor's client scopes Digdir would not.
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["clients"][&v.client_id]["scopes"] = json!([SCOPE_DEMO, SCOPE_REGISTER, "altinn:extra"]);
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let sb = sandbox::start(config()).await.unwrap();
    for scope in [SCOPE_REGISTER, "altinn:extra"] {
        let (e, _) = expect_oauth_error(
            post_grant(
                &sb,
                &sign(&grant_claims(&sb, &v, scope), Some(&v.kid), key_a()),
            )
            .await,
        )
        .await;
        assert_eq!(e, "invalid_scope", "{scope}");
    }
    token_for(&sb, &v, &[SCOPE_DEMO]).await;
    sb.shutdown().await;
}
