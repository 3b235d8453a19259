//! The change-request calls of `AltinnClient` against the in-process sandbox, and the sandbox's
//! own answers where they imitate a rule of ChangeRequestSystemUserController (CR) /
//! ChangeRequestSystemUserService (CRS) in Altinn/altinn-authentication@ad4f6f36:
//! a correlation id equal to the system user's id (refused by the client before sending; the
//! service's plain-text 400, CR:113-116), an unknown system user (AUTH-00015, 404, CR:108-111),
//! four empty sets (200 `NoChangeNeeded`, `confirmUrl: ""`, CR:125-146), the stored sets read
//! back, and the approval page of a change request checking every required package on load
//! (CRS:925-936).

mod sandbox_common;

use altinn_onboard::altinn::model::{AccessPackage, ChangeRequestBody, RequestStatus, Right};
use altinn_onboard::altinn::{AltinnClient, AltinnError};
use altinn_onboard::env::{EnvKind, Environment};
use altinn_onboard::secret::Secret;
use sandbox_common::*;
use serde_json::{Value, json};

/// Solsikke Barnehage SA: tor approves everything; siri (DAGL) lacks the packages (AUTH-00053).
const REFUSING_ORG: &str = "314567897";

fn client(sb: &altinn_onboard::sandbox::SandboxHandle) -> AltinnClient {
    let env = Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).expect("env");
    AltinnClient::new(&env, altinn_onboard::http::client().expect("http"))
}

/// An approved standard system user of the setup's system for `org`: its id.
async fn system_user(
    sb: &altinn_onboard::sandbox::SandboxHandle,
    s: &Setup,
    org: &str,
    body: Value,
) -> String {
    let resp = create_request(sb, &s.token, &body).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = http()
        .post(format!("{}/sandbox/requests/{id}/approve", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "approve for {org}");
    // The system user's id is the request's (SystemUserService.cs:509).
    assert_eq!(
        resp.json::<Value>().await.unwrap()["systemUserId"],
        id.as_str()
    );
    id
}

#[tokio::test]
async fn correlation_id_equal_to_the_system_user_id_is_refused() {
    let sb = start().await;
    let s = setup(&sb, "corr").await;
    let su = system_user(
        &sb,
        &s,
        CUSTOMER_ORG,
        standard_request(&s.system_id, CUSTOMER_ORG),
    )
    .await;
    let c = client(&sb);
    let token = Secret::new(s.token.clone());
    let body = ChangeRequestBody {
        required_access_packages: vec![AccessPackage {
            urn: "urn:altinn:accesspackage:skatt-naering".into(),
        }],
        ..ChangeRequestBody::default()
    };
    // The client refuses before sending (upper case too: the ids are the same GUID)...
    for corr in [su.clone(), su.to_uppercase()] {
        let err = c
            .create_change_request(&token, &su, &corr, &body)
            .await
            .expect_err("refused");
        assert!(matches!(err, AltinnError::Invalid(_)), "{err}");
        assert!(err.to_string().contains("use a fresh UUID"), "{err}");
    }
    // ...so nothing was created.
    let all = c.list_change_requests(&token, &s.system_id).await.unwrap();
    assert!(all.is_empty(), "{all:?}");
    // The sandbox answers what Altinn answers when a client sends it anyway: a plain-text 400.
    let resp = http()
        .post(api(
            &sb,
            &format!("/systemuser/changerequest/vendor?correlation-id={su}&system-user-id={su}"),
        ))
        .bearer_auth(&s.token)
        .json(
            &json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        "The correlation-id should not be the same as the system-user-id. Generate a unique id."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn unknown_system_user_is_auth_00015_and_empty_sets_are_no_change_needed() {
    let sb = start().await;
    let s = setup(&sb, "unknown").await;
    let c = client(&sb);
    let token = Secret::new(s.token.clone());
    let body = ChangeRequestBody {
        required_rights: vec![Right::resource("ske-krav-og-betalinger")],
        ..ChangeRequestBody::default()
    };
    let err = c
        .create_change_request(
            &token,
            &uuid::Uuid::new_v4().to_string(),
            &uuid::Uuid::new_v4().to_string(),
            &body,
        )
        .await
        .expect_err("unknown system user");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.has_code("AUTH-00015"), "{err}");

    // byquery finds the system user (and nothing for a customer without one).
    let su = system_user(
        &sb,
        &s,
        CUSTOMER_ORG,
        standard_request(&s.system_id, CUSTOMER_ORG),
    )
    .await;
    let found = c
        .system_user_by_query(&token, &s.system_id, CUSTOMER_ORG, None)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.id, su);
    assert!(
        c.system_user_by_query(&token, &s.system_id, CUSTOMER_ORG_2, None)
            .await
            .unwrap()
            .is_none()
    );

    // Four empty sets: 200 NoChangeNeeded, confirmUrl "" (nothing to open), nothing stored.
    let corr = uuid::Uuid::new_v4().to_string();
    let (info, created) = c
        .create_change_request(&token, &su, &corr, &ChangeRequestBody::default())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(info.status, RequestStatus::NoChangeNeeded);
    assert!(info.status.is_accepted());
    assert_eq!(info.confirm_url.as_deref(), Some(""));
    assert_eq!(info.confirm_url(), None);
    assert_eq!(info.system_user_id.as_deref(), Some(su.as_str()));
    let err = c
        .get_change_request(&token, &corr)
        .await
        .expect_err("not stored");
    assert_eq!(err.status(), Some(404), "{err}");

    // A real change: 201, the sets read back as sent, a repeat with the same id is 200.
    let corr = uuid::Uuid::new_v4().to_string();
    let pkg = ChangeRequestBody {
        required_access_packages: vec![AccessPackage {
            urn: "urn:altinn:accesspackage:skatt-naering".into(),
        }],
        ..ChangeRequestBody::default()
    };
    let (info, created) = c
        .create_change_request(&token, &su, &corr, &pkg)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(info.status, RequestStatus::New);
    assert!(
        info.confirm_url()
            .is_some_and(|u| u.contains("changerequest?id="))
    );
    let (again, created) = c
        .create_change_request(&token, &su, &corr, &pkg)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, corr);
    let got = c.get_change_request(&token, &corr).await.unwrap();
    assert_eq!(got.required_access_packages, pkg.required_access_packages);
    assert!(got.required_rights.is_empty() && got.created.is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_change_page_checks_every_required_package_when_it_loads() {
    let sb = start().await;
    let s = setup(&sb, "page").await;
    let mut body = standard_request(&s.system_id, REFUSING_ORG);
    body["rights"] = json!([]);
    body["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}]);
    let su = system_user(&sb, &s, REFUSING_ORG, body).await;
    // Asks for a right and the package the system user has already.
    let corr = uuid::Uuid::new_v4().to_string();
    let resp = http()
        .post(api(
            &sb,
            &format!("/systemuser/changerequest/vendor?correlation-id={corr}&system-user-id={su}"),
        ))
        .bearer_auth(&s.token)
        .json(&json!({
            "requiredRights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    // siri (DAGL, an access manager without the package's role): CRS:925-936 runs the
    // package delegation check on the request's whole list when the page loads, so she is
    // refused there (AUTH-00053) although the system user has the package already.
    let page = format!(
        "{}/accessmanagement/ui/systemuser/changerequest?id={corr}&person=siri",
        sb.base_url()
    );
    let resp = http().get(&page).send().await.unwrap();
    let status = resp.status().as_u16();
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(r#"data-status="AUTH-00053""#),
        "{status}: {html}"
    );
    assert!(!html.contains(r#"id="approve""#));
    // tor can delegate it: the page offers Approve, and approving adds the right.
    let html = http()
        .get(format!(
            "{}/accessmanagement/ui/systemuser/changerequest?id={corr}&person=tor",
            sb.base_url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"id="approve""#), "{html}");
    let resp = http()
        .post(format!("{}/sandbox/requests/{corr}/approve", sb.base_url()))
        .query(&[("as", "tor")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let got = client(&sb)
        .get_change_request(&Secret::new(s.token.clone()), &corr)
        .await
        .unwrap();
    assert_eq!(got.status, RequestStatus::Accepted);
    sb.shutdown().await;
}

/// Three change requests on one system user, with a page size of 2: their ids, sorted.
async fn three_change_requests(
    sb: &altinn_onboard::sandbox::SandboxHandle,
    s: &Setup,
) -> Vec<String> {
    let su = system_user(
        sb,
        s,
        CUSTOMER_ORG,
        standard_request(&s.system_id, CUSTOMER_ORG),
    )
    .await;
    let c = client(sb);
    let token = Secret::new(s.token.clone());
    let pkg = ChangeRequestBody {
        required_access_packages: vec![AccessPackage {
            urn: "urn:altinn:accesspackage:skatt-naering".into(),
        }],
        ..ChangeRequestBody::default()
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        let corr = uuid::Uuid::new_v4().to_string();
        let (info, created) = c
            .create_change_request(&token, &su, &corr, &pkg)
            .await
            .unwrap();
        assert!(created);
        ids.push(info.id);
    }
    ids.sort_by_key(|id| uuid::Uuid::parse_str(id).unwrap());
    ids
}

/// The real list ignores its continuation token (ChangeRequestSystemUserService.cs:485-488:
/// no continue-from reaches ChangeRequestRepository.cs:189; Page.Create names the item after
/// the page): page 2 is page 1, with the same `links.next`, so the third cannot be listed.
#[tokio::test]
async fn sandbox_change_request_list_answers_page_one_for_page_two() {
    let sb = start_with_page_size(2).await;
    let s = setup(&sb, "cr-pages").await;
    let ids = three_change_requests(&sb, &s).await;
    let first = api(
        &sb,
        &format!("/systemuser/changerequest/vendor/bysystem/{}", s.system_id),
    );
    let (status, page1) = get_json(&first, &s.token).await;
    assert_eq!(status, 200, "{page1}");
    let listed: Vec<&str> = page1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[0].as_str(), ids[1].as_str()]);
    let next = page1["links"]["next"].as_str().expect("a next link");
    // The token names the item after the page (Opaque<Guid>: base64url of the JSON string).
    let token = next.split("token=").nth(1).unwrap();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .unwrap();
    assert_eq!(serde_json::from_slice::<String>(&decoded).unwrap(), ids[2]);
    let (status, page2) = get_json(next, &s.token).await;
    assert_eq!(status, 200, "{page2}");
    assert_eq!(page2, page1, "page 2 repeats page 1, links.next included");
    // The token is still model-bound: a malformed one is a 400.
    let (status, _) = get_json(&format!("{first}?token=not-a-token"), &s.token).await;
    assert_eq!(status, 400);
    sb.shutdown().await;
}

/// A `tracing` writer that keeps what was logged, to see the client's warning.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The client ends the change-request list at the repeated token with the first page and a
/// warning, where the other lists call a repeated token a loop.
#[tokio::test]
async fn client_change_request_list_stops_at_the_repeated_token_with_a_warning() {
    let sb = start_with_page_size(2).await;
    let s = setup(&sb, "cr-client").await;
    let ids = three_change_requests(&sb, &s).await;
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    // The current-thread runtime polls this test's futures on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);
    let c = client(&sb);
    let token = Secret::new(s.token.clone());
    let all = c.list_change_requests(&token, &s.system_id).await.unwrap();
    let got: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        got,
        [ids[0].as_str(), ids[1].as_str()],
        "the first page once"
    );
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("WARN")
            && logged.contains("change-request list cannot page past its first page"),
        "{logged}"
    );
    // Each change request is still there by id.
    let third = c.get_change_request(&token, &ids[2]).await.unwrap();
    assert_eq!(third.id, ids[2]);
    sb.shutdown().await;
}
