//! Agent system users to the end (issue 12): an agent request accepted by the seeded
//! facilitator, clients added and removed by its client administrator through the
//! client-delegation API (`/authentication/api/v1/enduser/systemuser/...`) and the client page,
//! and the vendor's check with a system-user token. Requests are built by hand from Altinn's
//! documentation, not with the crate's clients.

mod sandbox_common;

use altinn_onboard::sandbox::{self, FACILITATOR_ORG, SandboxHandle, party_uuid};
use sandbox_common::*;
use serde_json::{Value, json};

const HAVBRIS: &str = "312345676"; // accountant client
const NORDLYS: &str = "313456781"; // accountant client
const GRANSKOG: &str = "316789013"; // accountant + auditor client
const TINDE: &str = "315678900"; // auditor client only
const SOLSIKKE: &str = "314567897"; // nobody's client

/// A vendor with an accepted agent system user for the facilitator (package regnskapsforer-lonn).
struct Agent {
    vendor: Vendor,
    id: String,
}

async fn accepted_agent(sb: &SandboxHandle, name: &str, packages: &[&str]) -> Agent {
    let vendor = create_client(sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(
        sb,
        &vendor,
        &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ],
    )
    .await;
    let urns: Vec<Value> = packages
        .iter()
        .map(|p| json!({"urn": format!("urn:altinn:accesspackage:{p}")}))
        .collect();
    let mut b = system_body(VENDOR_ORG, name, &[&vendor.client_id]);
    b["accessPackages"] = json!(urns);
    b["rights"] = json!([]);
    b["isVisible"] = json!(false);
    let resp = create_system(sb, &token, &b).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let body = json!({"systemId": format!("{VENDOR_ORG}_{name}"), "partyOrgNo": FACILITATOR_ORG,
                      "accessPackages": urns});
    let resp = http()
        .post(api(sb, "/systemuser/request/vendor/agent"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    // The facilitator's DAGL (the default approver) accepts.
    let resp = approve(sb, &id).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    Agent { vendor, id }
}

/// A person's Altinn token: the sandbox's simulated ID-porten log-in, exchanged at the real path.
async fn person_token(sb: &SandboxHandle, person: &str, scope: Option<&str>) -> String {
    let mut url = format!("{}/sandbox/idporten/token?as={person}", sb.base_url());
    if let Some(s) = scope {
        url += &format!("&scope={s}");
    }
    let resp = http().post(url).send().await.expect("send");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let idporten = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let resp = http()
        .get(api(sb, "/exchange/id-porten?test=true"))
        .bearer_auth(&idporten)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("text")
}

fn enduser(sb: &SandboxHandle, path: &str) -> String {
    api(sb, &format!("/enduser/systemuser{path}"))
}

async fn send(method: reqwest::Method, url: &str, token: &str) -> (u16, Value) {
    let resp = http()
        .request(method, url)
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn add(sb: &SandboxHandle, token: &str, agent: &str, org: &str) -> (u16, Value) {
    let url = enduser(
        sb,
        &format!("/clients?agent={agent}&client={}", party_uuid(org)),
    );
    send(reqwest::Method::POST, &url, token).await
}

async fn remove(sb: &SandboxHandle, token: &str, agent: &str, org: &str) -> (u16, Value) {
    let url = enduser(
        sb,
        &format!("/clients?agent={agent}&client={}", party_uuid(org)),
    );
    send(reqwest::Method::DELETE, &url, token).await
}

fn orgs_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| {
            c["clientOrganizationNumber"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// The vendor's check: a system-user token for the facilitator, then the reference API.
async fn vendor_check(sb: &SandboxHandle, a: &Agent, org: &str) -> (u16, Value) {
    let resp = system_user_token_response(sb, &a.vendor, FACILITATOR_ORG, None).await;
    assert_eq!(resp.status(), 200);
    let token = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    send(
        reqwest::Method::GET,
        &format!("{}/reference/clients/{org}", sb.base_url()),
        &token,
    )
    .await
}

async fn vendor_whoami_clients(sb: &SandboxHandle, a: &Agent) -> Vec<String> {
    let resp = system_user_token_response(sb, &a.vendor, FACILITATOR_ORG, None).await;
    let token = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (status, body) = get_json(&format!("{}/reference/whoami", sb.base_url()), &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["userType"], "agent");
    body["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| c["orgNo"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn facilitator_adds_two_clients_and_the_vendor_sees_exactly_those() {
    let sb = start().await;
    let a = accepted_agent(&sb, "regnskap", &["regnskapsforer-lonn"]).await;
    let tone = person_token(&sb, "tone", None).await;

    // The facilitator's agent system users (SystemUserInternalDTO list).
    let (status, agents) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/agents?party={FACILITATOR_ORG}")),
        &tone,
    )
    .await;
    assert_eq!(status, 200, "{agents}");
    let agent = &agents.as_array().expect("list")[0];
    assert_eq!(agent["id"], json!(a.id));
    assert_eq!(agent["userType"], "agent");
    assert_eq!(agent["reporteeOrgNo"], FACILITATOR_ORG);
    assert_eq!(agent["supplierOrgno"], VENDOR_ORG);
    assert_eq!(
        agent["accessPackages"],
        json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}])
    );

    // Available: the accountant clients only (not the auditor-only one, not Solsikke).
    let (status, page) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/clients/available?agent={}", a.id)),
        &tone,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(orgs_of(&page), [HAVBRIS, NORDLYS, GRANSKOG]);
    assert_eq!(page["links"], json!({}));
    assert_eq!(
        page["systemUserInformation"],
        json!({"systemUserId": a.id, "systemUserOwnerOrg": FACILITATOR_ORG})
    );
    assert_eq!(page["data"][0]["clientId"], json!(party_uuid(HAVBRIS)));
    assert_eq!(
        page["data"][0]["clientOrganizationName"],
        "Havbris Bakeri AS"
    );

    // Before any client: the vendor can act for nobody.
    assert!(vendor_whoami_clients(&sb, &a).await.is_empty());
    let (status, denied) = vendor_check(&sb, &a, HAVBRIS).await;
    assert_eq!(
        (status, denied["decision"].clone()),
        (403, json!("NotApplicable"))
    );

    for org in [HAVBRIS, GRANSKOG] {
        let (status, body) = add(&sb, &tone, &a.id, org).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"agent": a.id, "client": party_uuid(org)}));
    }
    // Adding again changes nothing.
    assert_eq!(add(&sb, &tone, &a.id, HAVBRIS).await.0, 200);

    let (status, page) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/clients?agent={}", a.id)),
        &tone,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(orgs_of(&page), [HAVBRIS, GRANSKOG]);

    // The vendor's view: exactly those two.
    assert_eq!(vendor_whoami_clients(&sb, &a).await, [HAVBRIS, GRANSKOG]);
    let (status, ok) = vendor_check(&sb, &a, GRANSKOG).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["decision"], "Permit");
    assert_eq!(ok["clientName"], "Granskog Snekkerverksted AS");
    assert_eq!(vendor_check(&sb, &a, NORDLYS).await.0, 403);
    assert_eq!(vendor_check(&sb, &a, FACILITATOR_ORG).await.0, 403);

    // Removing a client: gone from the list and from the vendor's check.
    let (status, body) = remove(&sb, &tone, &a.id, HAVBRIS).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"agent": a.id, "client": party_uuid(HAVBRIS)}));
    assert_eq!(vendor_whoami_clients(&sb, &a).await, [GRANSKOG]);
    assert_eq!(vendor_check(&sb, &a, HAVBRIS).await.0, 403);
    // ... and removing it again is Access Management's failed revoke.
    let (status, body) = remove(&sb, &tone, &a.id, HAVBRIS).await;
    assert_eq!((status, body["code"].clone()), (400, json!("AUTH-00031")));
    sb.shutdown().await;
}

#[tokio::test]
async fn refusals_carry_the_real_codes() {
    let sb = start().await;
    let a = accepted_agent(&sb, "regnskap", &["regnskapsforer-lonn"]).await;
    let tone = person_token(&sb, "tone", None).await;

    // Not among the facilitator's clients: AUTH-00079 (also an auditor-only client, the
    // facilitator itself and an unknown party).
    for org in [SOLSIKKE, TINDE, FACILITATOR_ORG, UNKNOWN_VALID_ORG] {
        let (status, body) = add(&sb, &tone, &a.id, org).await;
        assert_eq!(status, 400, "{org}: {body}");
        assert_eq!(body["code"], "AUTH-00079", "{org}");
        assert_eq!(body["title"], "Client not found.");
    }
    // A client that gave only some of the agent's packages: AUTH-00080.
    let both = accepted_agent(&sb, "begge", &["regnskapsforer-lonn", "ansvarlig-revisor"]).await;
    assert_eq!(add(&sb, &tone, &both.id, GRANSKOG).await.0, 200);
    let (status, body) = add(&sb, &tone, &both.id, HAVBRIS).await;
    assert_eq!((status, body["code"].clone()), (400, json!("AUTH-00080")));

    // Validation: missing agent, unknown agent, a standard system user, missing client.
    let (status, body) = send(reqwest::Method::POST, &enduser(&sb, "/clients"), &tone).await;
    assert_eq!(status, 400);
    let codes: Vec<&str> = body["validationErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["AUTH.VLD-00014", "AUTH.VLD-00016"]);
    let (status, body) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/clients?agent={}", uuid::Uuid::new_v4())),
        &tone,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["validationErrors"][0]["title"],
        "System user not found"
    );
    assert_eq!(body["validationErrors"][0]["paths"], json!(["?agent"]));
    let (status, _) = send(
        reqwest::Method::GET,
        &enduser(&sb, "/clients?agent=not-a-guid"),
        &tone,
    )
    .await;
    assert_eq!(status, 400);
    let s = setup(&sb, "standard").await;
    let resp = create_request(
        &sb,
        &s.token,
        &standard_request(&s.system_id, FACILITATOR_ORG),
    )
    .await;
    let standard_id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(approve(&sb, &standard_id).await.status(), 200);
    let (status, body) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/clients/available?agent={standard_id}")),
        &tone,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["code"], "AUTH.VLD-00015");

    // Unknown party for the agents list: 404 ProblemDetails.
    let (status, body) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/agents?party={UNKNOWN_VALID_ORG}")),
        &tone,
    )
    .await;
    assert_eq!(
        (status, body["title"].clone()),
        (404, json!("Party not found"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn only_the_facilitators_client_administrators_may_call() {
    let sb = start().await;
    let a = accepted_agent(&sb, "regnskap", &["regnskapsforer-lonn"]).await;
    let available = enduser(&sb, &format!("/clients/available?agent={}", a.id));

    // No token / a vendor's Maskinporten token: 401 / 403 (the scope policy), empty bodies.
    assert_eq!(send(reqwest::Method::GET, &available, "").await.0, 401);
    let vendor = token_for(&sb, &a.vendor, &[SCOPE_REQ_READ]).await;
    assert_eq!(send(reqwest::Method::GET, &available, &vendor).await.0, 403);
    // An un-exchanged ID-porten token is not an Altinn token.
    let resp = http()
        .post(format!("{}/sandbox/idporten/token?as=tone", sb.base_url()))
        .send()
        .await
        .expect("send");
    let raw = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(send(reqwest::Method::GET, &available, &raw).await.0, 403);

    // The read scope does not allow writes.
    let read_only = person_token(&sb, "tone", Some("altinn:clientdelegations.read")).await;
    assert_eq!(
        send(reqwest::Method::GET, &available, &read_only).await.0,
        200
    );
    assert_eq!(add(&sb, &read_only, &a.id, HAVBRIS).await.0, 403);

    // An employee without client administration, and another org's manager: Forbid().
    for person in ["geir", "kari"] {
        let t = person_token(&sb, person, None).await;
        let (status, body) = send(reqwest::Method::GET, &available, &t).await;
        assert_eq!((status, body), (403, json!("")), "{person}");
        assert_eq!(add(&sb, &t, &a.id, HAVBRIS).await.0, 403, "{person}");
        let (status, _) = send(
            reqwest::Method::GET,
            &enduser(&sb, &format!("/agents?party={FACILITATOR_ORG}")),
            &t,
        )
        .await;
        assert_eq!(status, 403, "{person}");
    }
    // The client administrator who is not an access manager may.
    let mona = person_token(&sb, "mona", None).await;
    assert_eq!(add(&sb, &mona, &a.id, NORDLYS).await.0, 200);

    // Unknown people cannot log in; unknown scopes are refused by "ID-porten".
    let resp = http()
        .post(format!(
            "{}/sandbox/idporten/token?as=nobody",
            sb.base_url()
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    let resp = http()
        .post(format!(
            "{}/sandbox/idporten/token?as=tone&scope=altinn:authentication/systemregister.write",
            sb.base_url()
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_client_page_is_as_strict_as_the_api() {
    let sb = start().await;
    let a = accepted_agent(&sb, "regnskap", &["regnskapsforer-lonn"]).await;
    let page = format!(
        "{}/accessmanagement/ui/systemuser/agentclients",
        sb.base_url()
    );
    let form = |person: &str, action: &str, client: &str| {
        vec![
            ("id", a.id.clone()),
            ("person", person.to_string()),
            ("action", action.to_string()),
            ("client", client.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let page = page.clone();
        async move {
            let resp = http().post(&page).form(&f).send().await.expect("send");
            (
                resp.status().as_u16(),
                resp.text().await.unwrap_or_default(),
            )
        }
    };
    let resp = http()
        .get(format!("{page}?id={}", a.id))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap_or_default();
    assert!(html.contains(r#"id="add-312345676""#), "{html}");
    assert!(
        !html.contains(r#"id="add-315678900""#),
        "auditor-only client offered"
    );

    let (status, html) = post(form("tone", "add", NORDLYS)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"id="remove-313456781""#));
    let (status, html) = post(form("tone", "add", SOLSIKKE)).await;
    assert_eq!(status, 400);
    assert!(html.contains("AUTH-00079"));
    // Its own organisation: client packages cannot be assigned to the facilitator itself.
    let (status, html) = post(form("tone", "add-own", "")).await;
    assert_eq!(status, 400);
    assert!(html.contains("AUTH-00064"), "{html}");
    let (status, html) = post(form("geir", "add", HAVBRIS)).await;
    assert_eq!(status, 403);
    assert!(html.contains("not a client administrator"));

    // A system whose packages a standard user can also have may add its own organisation.
    let own = accepted_agent(&sb, "egen", &["skatt-naering"]).await;
    let (status, html) = post(vec![
        ("id", own.id.clone()),
        ("person", "tone".into()),
        ("action", "add-own".into()),
        ("client", String::new()),
    ])
    .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(vendor_whoami_clients(&sb, &own).await, [FACILITATOR_ORG]);
    assert_eq!(vendor_check(&sb, &own, FACILITATOR_ORG).await.0, 200);
    // Through the page, the API's list of delegated clients is unchanged (own org is no client).
    let tone = person_token(&sb, "tone", None).await;
    let (_, page_json) = send(
        reqwest::Method::GET,
        &enduser(&sb, &format!("/clients?agent={}", own.id)),
        &tone,
    )
    .await;
    assert!(orgs_of(&page_json).is_empty());
    assert_eq!(vendor_whoami_clients(&sb, &a).await, [NORDLYS]);
    let _ = sandbox::seeded_orgs();
    sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The CLI on the embedded sandbox: `agent clients|check|add-client|remove-client`
// ---------------------------------------------------------------------------------------------

struct Home(tempfile::TempDir);

impl Home {
    fn run(&self, args: &[&str]) -> (i32, Value, String) {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("altinn-onboard"))
            .env("ALTINN_ONBOARD_HOME", self.0.path())
            .env_remove("ALTINN_ONBOARD_PROFILE")
            .env_remove("ALTINN_ONBOARD_ENV")
            .env_remove("ALTINN_ONBOARD_MASKINPORTEN_URL")
            .env_remove("ALTINN_ONBOARD_ALTINN_URL")
            .arg("--json")
            .args(args)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str(&stdout).unwrap_or(Value::String(stdout)),
            stderr,
        )
    }

    fn ok(&self, args: &[&str]) -> Value {
        let (code, v, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {v} {err}");
        v
    }
}

#[test]
fn cli_adds_checks_and_removes_clients() {
    let h = Home(tempfile::tempdir().expect("tmp"));
    h.ok(&["keys", "generate"]);
    h.ok(&["client", "set", "--vendor-org", "310904473", "--scope", "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read altinn:systembruker.demo"]);
    h.ok(&[
        "system",
        "register",
        "--name",
        "regn",
        "--invisible",
        "--access-package",
        "urn:altinn:accesspackage:regnskapsforer-lonn",
    ]);
    // Before an agent request: a clear usage error.
    let (code, err, _) = h.run(&["agent", "clients"]);
    assert_eq!(code, 1, "{err}");
    h.ok(&[
        "request",
        "create",
        "--agent",
        "--customer-org",
        FACILITATOR_ORG,
    ]);
    h.ok(&["sandbox", "approve"]);

    let v = h.ok(&["agent", "clients"]);
    assert_eq!(v["clients"], json!([]));
    for org in [HAVBRIS, GRANSKOG] {
        let v = h.ok(&["agent", "add-client", "--client", org]);
        assert_eq!(v["action"], "added");
        assert_eq!(v["person"], "tone");
    }
    // Not a client of the facilitator: Altinn's code, exit 2.
    let (code, err, _) = h.run(&["agent", "add-client", "--client", SOLSIKKE]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err["error"]["code"], "AUTH-00079");
    // Someone who is not a client administrator: 403, exit 2.
    let (code, err, _) = h.run(&["agent", "add-client", "--client", NORDLYS, "--as", "geir"]);
    assert_eq!(
        (code, err["error"]["status"].clone()),
        (2, json!(403)),
        "{err}"
    );

    let mut v = h.ok(&["agent", "clients"]);
    v["agent"] = json!("[agent id]");
    insta::assert_json_snapshot!("agent_clients_json", v);
    assert_eq!(
        v["clients"].as_array().map(|c| c.len()),
        Some(2),
        "exactly the two added"
    );

    let v = h.ok(&["agent", "check", "--client", GRANSKOG]);
    assert_eq!(
        (v["permitted"].clone(), v["decision"].clone()),
        (json!(true), json!("Permit"))
    );
    let (code, v, _) = h.run(&["agent", "check", "--client", NORDLYS]);
    assert_eq!(code, 2);
    assert_eq!(v["decision"], "NotApplicable");

    let v = h.ok(&["agent", "remove-client", "--client", HAVBRIS]);
    assert_eq!(v["clients"], json!([GRANSKOG]));
    let (code, _, _) = h.run(&["agent", "check", "--client", HAVBRIS]);
    assert_eq!(code, 2);
    let (code, err, _) = h.run(&["agent", "check", "--client", "12345"]);
    assert_eq!(code, 1, "{err}");
}
