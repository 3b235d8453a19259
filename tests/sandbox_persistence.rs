//! State persistence: a second sandbox on the same state file (and a new port) sees the same
//! clients, systems, requests, system users, used jtis and signing key.

mod sandbox_common;

use altinn_onboard::sandbox::{self, SandboxConfig, SandboxError};
use sandbox_common::*;
use serde_json::Value;

#[tokio::test]
async fn state_survives_restart_on_a_new_port() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("sandbox.json");
    let config = SandboxConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    };

    let sb1 = sandbox::start(config.clone()).await.unwrap();
    assert!(path.exists(), "state file created at start");
    let s = setup(&sb1, "persist").await;
    let resp = create_request(
        &sb1,
        &s.token,
        &standard_request(&s.system_id, CUSTOMER_ORG),
    )
    .await;
    let req_id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(approve(&sb1, &req_id).await.status(), 200);
    // a used grant, to replay later
    let claims = grant_claims(&sb1, &s.vendor, SCOPE_REGISTER);
    let used = sign(&claims, Some(&s.vendor.kid), key_a());
    assert_eq!(post_grant(&sb1, &used).await.status(), 200);
    let su_token = system_user_token_response(&sb1, &s.vendor, CUSTOMER_ORG, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_base = sb1.base_url();
    let jwks1: Value = http()
        .get(format!("{old_base}/jwk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sb1.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the state file holds a private key");
    }

    let sb2 = sandbox::start(config.clone()).await.unwrap();
    assert_ne!(sb2.base_url(), old_base, "new port");
    // same signing key
    let jwks2: Value = http()
        .get(format!("{}/jwk", sb2.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks1, jwks2);
    // the old tokens (issued on the old port) still work on Altinn routes and whoami
    let (status, sys) = get_json(
        &api(&sb2, &format!("/systemregister/vendor/{}", s.system_id)),
        &s.token,
    )
    .await;
    assert_eq!(status, 200, "{sys}");
    assert_eq!(sys["clientId"][0], s.vendor.client_id);
    let (status, req) = get_json(
        &api(&sb2, &format!("/systemuser/request/vendor/{req_id}")),
        &s.token,
    )
    .await;
    assert_eq!((status, req["status"].as_str()), (200, Some("Accepted")));
    assert!(
        req["confirmUrl"]
            .as_str()
            .unwrap()
            .starts_with(&sb2.base_url()),
        "URLs follow the new port"
    );
    let (status, who) = get_json(&format!("{}/reference/whoami", sb2.base_url()), &su_token).await;
    assert_eq!(
        (status, who["customerOrg"].as_str()),
        (200, Some(CUSTOMER_ORG))
    );
    // the client and its key are known; the used jti is still used
    let (e, d) = expect_oauth_error(post_grant(&sb2, &used).await).await;
    // The replayed grant names the old port as aud, so it fails the aud check first; make a
    // fresh grant with the same jti for the new issuer to see the replay rule.
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "Invalid JWT claim aud")
    );
    let mut replay = grant_claims(&sb2, &s.vendor, SCOPE_REGISTER);
    replay["jti"] = claims["jti"].clone();
    let (e, d) =
        expect_oauth_error(post_grant(&sb2, &sign(&replay, Some(&s.vendor.kid), key_a())).await)
            .await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_request", "Grant is used before")
    );
    // and a fresh system-user token works on the new port
    assert_eq!(
        system_user_token_response(&sb2, &s.vendor, CUSTOMER_ORG, None)
            .await
            .status(),
        200
    );
    sb2.shutdown().await;
}

#[tokio::test]
async fn corrupt_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    std::fs::write(&path, b"{ this is not json").unwrap();
    let err = sandbox::start(SandboxConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("must fail");
    assert!(matches!(err, SandboxError::CorruptState { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("corrupt") && msg.contains("sandbox.json"),
        "{msg}"
    );
    // the file is left alone for the user to inspect
    assert_eq!(std::fs::read(&path).unwrap(), b"{ this is not json");
}

#[tokio::test]
async fn two_processes_on_one_state_file_see_each_others_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.json");
    let config = SandboxConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let sb1 = sandbox::start(config.clone()).await.unwrap();
    let sb2 = sandbox::start(config.clone()).await.unwrap();
    // a client created through one is usable through the other
    let v = create_client(&sb1, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(&sb2, &v, &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ]).await;
    let resp = create_system(
        &sb2,
        &token,
        &system_body(VENDOR_ORG, "twoproc", &[&v.client_id]),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // ... and the first one sees the system, and does not lose it when it writes again
    let resp = create_request(
        &sb1,
        &token,
        &standard_request(&format!("{VENDOR_ORG}_twoproc"), CUSTOMER_ORG),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = get_json(
        &api(
            &sb2,
            &format!("/systemregister/vendor/{VENDOR_ORG}_twoproc"),
        ),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let (status, got) = get_json(
        &api(&sb2, &format!("/systemuser/request/vendor/{id}")),
        &token,
    )
    .await;
    assert_eq!((status, got["status"].as_str()), (200, Some("New")));
    sb1.shutdown().await;
    sb2.shutdown().await;
}
