//! Maskinporten side of the sandbox over real HTTP: grant verification rules, OAuth errors,
//! metadata + JWKS, system-user tokens before/after approval, and the reference API.

mod sandbox_common;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sandbox_common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn valid_grant_gives_a_verifiable_access_token() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let claims = grant_claims(&sb, &v, &format!("{SCOPE_REGISTER} {SCOPE_REQ_READ}"));
    let resp = post_grant(&sb, &sign(&claims, Some(&v.kid), key_a())).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], format!("{SCOPE_REGISTER} {SCOPE_REQ_READ}"));
    let token = body["access_token"].as_str().unwrap();

    // Verify with the published metadata + JWKS, as a resource server would.
    let meta: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            sb.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], sb.issuer());
    assert_eq!(meta["token_endpoint"], sb.token_endpoint());
    let jwks: Value = http()
        .get(meta["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("kid in JWKS");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.set_issuer(&[sb.issuer()]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap();
    let c = data.claims;
    assert_eq!(c["client_id"], v.client_id);
    assert_eq!(
        c["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")})
    );
    assert_eq!(c["token_type"], "Bearer");
    assert_eq!(c["client_amr"], "private_key_jwt");
    assert!(c.get("authorization_details").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn grant_verification_failures() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, &[SCOPE_REGISTER], key_a()).await;

    // bad signature: right kid, wrong key
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_b())).await).await;
    assert_eq!(e, "invalid_grant");
    assert!(d.contains("signature"), "{d}");

    // unknown kid
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some("nope"), key_a())).await).await;
    assert_eq!(e, "invalid_grant");
    assert_eq!(
        d,
        "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client."
    );

    // missing kid
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let (e, _) = expect_oauth_error(post_grant(&sb, &sign(&c, None, key_a())).await).await;
    assert_eq!(e, "invalid_grant");

    // unknown client
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c["iss"] = json!("no-such-client");
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert_eq!(e, "invalid_grant");
    assert!(d.contains("Client not found"), "{d}");

    // wrong aud: the token endpoint instead of the issuer; and a missing trailing slash
    for aud in [
        sb.token_endpoint(),
        sb.base_url(),
        "https://test.maskinporten.no/".to_string(),
    ] {
        let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
        c["aud"] = json!(aud);
        let (e, d) =
            expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
        assert_eq!(
            (e.as_str(), d.as_str()),
            ("invalid_grant", "Invalid JWT claim aud")
        );
    }

    // expired (beyond the 10 s skew)
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c["iat"] = json!(now() - 100);
    c["exp"] = json!(now() - 30);
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "JWT is expired")
    );

    // iat in the future (beyond 10 s)
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c["iat"] = json!(now() + 60);
    c["exp"] = json!(now() + 100);
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert_eq!(e, "invalid_grant");
    assert!(d.contains("iat"), "{d}");

    // small clock skew is tolerated
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c["iat"] = json!(now() + 5);
    c["exp"] = json!(now() + 60);
    assert_eq!(
        post_grant(&sb, &sign(&c, Some(&v.kid), key_a()))
            .await
            .status(),
        200
    );

    // lifetime > 120 s
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c["exp"] = json!(c["iat"].as_i64().unwrap() + 121);
    let (e, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert_eq!(e, "invalid_grant");
    assert!(d.contains("120"), "{d}");

    // replayed jti
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let assertion = sign(&c, Some(&v.kid), key_a());
    assert_eq!(post_grant(&sb, &assertion).await.status(), 200);
    let (e, d) = expect_oauth_error(post_grant(&sb, &assertion).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_request", "Grant is used before")
    );

    // unauthorised scope (exists, but not granted to this client) and unknown scope
    for scope in [
        SCOPE_REQ_WRITE.to_string(),
        format!("{SCOPE_REGISTER} made:up"),
    ] {
        let c = grant_claims(&sb, &v, &scope);
        let (e, d) =
            expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
        assert_eq!(
            (e.as_str(), d.as_str()),
            (
                "invalid_scope",
                "Token request contains invalid scopes for client"
            )
        );
    }

    // no scope at all
    let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
    c.as_object_mut().unwrap().remove("scope");
    let (e, _) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert_eq!(e, "invalid_scope");

    // HS256 is not allowed
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
    h.kid = Some(v.kid.clone());
    let hs =
        jsonwebtoken::encode(&h, &c, &jsonwebtoken::EncodingKey::from_secret(b"secret")).unwrap();
    let (e, _) = expect_oauth_error(post_grant(&sb, &hs).await).await;
    assert_eq!(e, "invalid_grant");

    // malformed requests
    let (e, _) = expect_oauth_error(post_grant(&sb, "not.a.jwt").await).await;
    assert_eq!(e, "invalid_request");
    let resp = http()
        .post(sb.token_endpoint())
        .form(&[("grant_type", "client_credentials"), ("assertion", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(expect_oauth_error(resp).await.0, "unsupported_grant_type");
    let resp = http()
        .post(sb.token_endpoint())
        .json(
            &json!({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(expect_oauth_error(resp).await.0, "invalid_request");
    sb.shutdown().await;
}

#[tokio::test]
async fn key_rotation_via_sandbox_admin() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, &[SCOPE_REGISTER], key_a()).await;
    let jwks_path = format!("/sandbox/clients/{}/jwks", v.client_id);
    let both = json!({"keys": [key_b().jwk("kid-b-rot")]});
    // Without a proof, or with one signed by a key the client does not have: refused
    // (issue 16: only the client's owner changes it).
    let resp = http()
        .post(format!("{}{jwks_path}", sb.base_url()))
        .json(&both)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = admin_call(
        &sb,
        reqwest::Method::POST,
        &jwks_path,
        &both,
        key_b(),
        "kid-b-rot",
        VENDOR_ORG,
        Some(&v.client_id),
    )
    .await;
    assert_eq!(
        resp.status(),
        403,
        "signed by the key being added, not one the client has"
    );
    // add key B, signed with key A (rotation step 1)
    let resp = admin_call(
        &sb,
        reqwest::Method::POST,
        &jwks_path,
        &both,
        key_a(),
        &v.kid,
        VENDOR_ORG,
        Some(&v.client_id),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    assert_eq!(
        post_grant(&sb, &sign(&c, Some("kid-b-rot"), key_b()))
            .await
            .status(),
        200
    );
    // replace with only key B (signed with B, which the client now has): key A no longer works
    let resp = admin_call(
        &sb,
        reqwest::Method::PUT,
        &jwks_path,
        &both,
        key_b(),
        "kid-b-rot",
        VENDOR_ORG,
        Some(&v.client_id),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let c = grant_claims(&sb, &v, SCOPE_REGISTER);
    let (_, d) = expect_oauth_error(post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await).await;
    assert!(d.contains("Unknown key identifier"), "{d}");
    // private keys and bad input are refused
    let mut private = key_a().jwk("p");
    private["d"] = json!("AQAB");
    for body in [
        json!({"keys": [private]}),
        json!({"keys": []}),
        json!({"nope": 1}),
    ] {
        let resp = admin_call(
            &sb,
            reqwest::Method::POST,
            &jwks_path,
            &body,
            key_b(),
            "kid-b-rot",
            VENDOR_ORG,
            Some(&v.client_id),
        )
        .await;
        assert_eq!(resp.status(), 400);
    }
    // unknown client
    let resp = http()
        .get(format!("{}/sandbox/clients/nope", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    sb.shutdown().await;
}

#[tokio::test]
async fn create_client_rules() {
    let sb = start().await;
    let url = format!("{}/sandbox/clients", sb.base_url());
    // a given client id is kept; a duplicate is 409
    let body = json!({"client_id": "my-client", "org": VENDOR_ORG, "scopes": [SCOPE_REGISTER], "jwks": {"keys": [key_a().jwk("k-my")]}});
    let post = |body: Value, kid: &'static str| {
        let sb = &sb;
        async move {
            admin_call(
                sb,
                reqwest::Method::POST,
                "/sandbox/clients",
                &body,
                key_a(),
                kid,
                VENDOR_ORG,
                None,
            )
            .await
        }
    };
    let resp = post(body.clone(), "k-my").await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["client_id"], "my-client");
    assert_eq!(created["org"], VENDOR_ORG);
    assert_eq!(post(body.clone(), "k-my").await.status(), 409);
    // generated UUID client id
    let resp = post(
        json!({"org": VENDOR_ORG, "scopes": [], "jwks": {"keys": [key_a().jwk("k-gen")]}}),
        "k-gen",
    )
    .await;
    let created: Value = resp.json().await.unwrap();
    assert!(uuid::Uuid::parse_str(created["client_id"].as_str().unwrap()).is_ok());
    // invalid org number (check digit), missing org, not JSON
    for b in [
        json!({"org": "991825828", "scopes": [], "jwks": {"keys": [key_a().jwk("k1")]}}),
        json!({"scopes": [], "jwks": {"keys": [key_a().jwk("k2")]}}),
    ] {
        assert_eq!(
            http().post(&url).json(&b).send().await.unwrap().status(),
            400
        );
    }
    let resp = http()
        .post(&url)
        .body("org=1")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // seeded orgs
    let orgs: Value = http()
        .get(format!("{}/sandbox/orgs", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = orgs.as_array().unwrap();
    assert!(list.len() >= 5);
    assert!(
        list.iter()
            .all(|o| o["orgNo"].as_str().unwrap().len() == 9 && o["name"].is_string())
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn system_user_token_before_and_after_approval_and_whoami() {
    let sb = start().await;
    let s = setup(&sb, "tokensys").await;

    // No request yet: MP-303
    let (e, d) =
        expect_oauth_error(system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG, None).await)
            .await;
    assert_eq!(e, "invalid_altinn_customer_configuration");
    assert!(d.contains("MP-303"));

    let resp = create_request(&sb, &s.token, &standard_request(&s.system_id, CUSTOMER_ORG)).await;
    assert_eq!(resp.status(), 201);
    let req: Value = resp.json().await.unwrap();
    let id = req["id"].as_str().unwrap().to_string();

    // Still New: MP-303
    let (e, _) =
        expect_oauth_error(system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG, None).await)
            .await;
    assert_eq!(e, "invalid_altinn_customer_configuration");

    assert_eq!(approve(&sb, &id).await.status(), 200);

    // Wrong org / wrong externalRef: still MP-303
    let (e, _) =
        expect_oauth_error(system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG_2, None).await)
            .await;
    assert_eq!(e, "invalid_altinn_customer_configuration");
    let (e, _) = expect_oauth_error(
        system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG, Some("other-ref")).await,
    )
    .await;
    assert_eq!(e, "invalid_altinn_customer_configuration");

    // Another client of the same vendor whose id is NOT on the system: MP-303
    let other = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let (e, _) =
        expect_oauth_error(system_user_token_response(&sb, &other, CUSTOMER_ORG, None).await).await;
    assert_eq!(e, "invalid_altinn_customer_configuration");

    // Right: a token with authorization_details; externalRef defaults to the org
    for ext in [None, Some(CUSTOMER_ORG)] {
        let resp = system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG, ext).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_string();
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        let ad = &claims["authorization_details"];
        assert!(ad.is_array());
        assert_eq!(ad[0]["type"], "urn:altinn:systemuser");
        assert_eq!(ad[0]["system_id"], s.system_id);
        assert_eq!(
            ad[0]["systemuser_org"],
            json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER_ORG}")})
        );
        assert!(ad[0]["systemuser_id"].is_array());
        assert_eq!(claims["consumer"]["ID"], format!("0192:{VENDOR_ORG}"));

        // whoami
        let (status, who) = get_json(&format!("{}/reference/whoami", sb.base_url()), &token).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(who["systemUserId"], ad[0]["systemuser_id"][0]);
        assert_eq!(who["systemId"], s.system_id);
        assert_eq!(who["customerOrg"], CUSTOMER_ORG);
        assert_eq!(who["customerName"], "Havbris Bakeri AS");
        assert_eq!(who["vendorOrg"], VENDOR_ORG);
        assert_eq!(who["clientId"], s.vendor.client_id);
    }

    // whoami failures: no token (401), garbage (401), a plain (non-system-user) token (403)
    let resp = http()
        .get(format!("{}/reference/whoami", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    let (status, _) = get_json(
        &format!("{}/reference/whoami", sb.base_url()),
        "abc.def.ghi",
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = get_json(&format!("{}/reference/whoami", sb.base_url()), &s.token).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "not_a_system_user_token");

    // malformed authorization_details: an object instead of an array
    let mut claims = grant_claims(&sb, &s.vendor, SCOPE_DEMO);
    claims["authorization_details"] = json!({"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER_ORG}")}});
    let (e, _) =
        expect_oauth_error(post_grant(&sb, &sign(&claims, Some(&s.vendor.kid), key_a())).await)
            .await;
    assert_eq!(e, "invalid_authorization_details");
    sb.shutdown().await;
}

#[tokio::test]
async fn system_user_token_with_external_ref() {
    let sb = start().await;
    let s = setup(&sb, "extrefsys").await;
    let mut body = standard_request(&s.system_id, CUSTOMER_ORG_2);
    body["externalRef"] = json!("customer-42");
    let resp = create_request(&sb, &s.token, &body).await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(approve(&sb, &id).await.status(), 200);
    // Without the externalRef: MP-303 (Cause 2 of the MP-303 page)
    let (e, _) =
        expect_oauth_error(system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG_2, None).await)
            .await;
    assert_eq!(e, "invalid_altinn_customer_configuration");
    let resp =
        system_user_token_response(&sb, &s.vendor, CUSTOMER_ORG_2, Some("customer-42")).await;
    assert_eq!(resp.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn token_exchange() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let mp = token_for(&sb, &v, &[SCOPE_REGISTER]).await;
    let url = format!(
        "{}/authentication/api/v1/exchange/maskinporten",
        sb.base_url()
    );
    let resp = http().get(&url).bearer_auth(&mp).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let altinn = resp.text().await.unwrap();
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&altinn).unwrap();
    assert_eq!(
        claims["iss"],
        format!("{}/authentication/api/v1/openid/", sb.base_url())
    );
    assert_eq!(claims["urn:altinn:orgNumber"], VENDOR_ORG);
    assert_eq!(claims["urn:altinn:authenticatemethod"], "maskinporten");
    assert_eq!(claims["scope"], SCOPE_REGISTER);
    assert!(claims.get("client_amr").is_none());
    // The exchanged token works on the Altinn API (list systems → 200 []).
    let (status, list) = get_json(
        &format!(
            "{}/authentication/api/v1/systemregister/vendor",
            sb.base_url()
        ),
        &altinn,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([]));
    // JSON-only Accept gives a quoted string
    let resp = http()
        .get(&url)
        .bearer_auth(&mp)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(text.starts_with('"') && text.ends_with('"'));
    // failures: no token, garbage, an Altinn token, an unknown provider
    assert_eq!(http().get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("x.y.z")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth(&altinn)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let resp = http()
        .get(format!(
            "{}/authentication/api/v1/exchange/facebook",
            sb.base_url()
        ))
        .bearer_auth(&mp)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .starts_with("Invalid token provider: facebook.")
    );
    sb.shutdown().await;
}

/// Issue 16 item 2: timestamps at the ends of i64 once wrapped `exp - iat` (iat = i64::MIN was
/// accepted; an exp near i64::MAX wrapped the replay store's expiry, so the grant could be
/// replayed). Every out-of-range pair is an `invalid_grant`, and nothing panics.
#[tokio::test]
async fn grant_timestamps_out_of_range_are_rejected() {
    let sb = start().await;
    let v = create_client(&sb, VENDOR_ORG, &[SCOPE_REGISTER], key_a()).await;
    let n = now();
    for (iat, exp, want) in [
        (i64::MIN, n + 60, "120 seconds"),
        (n, i64::MAX, "120 seconds"),
        (i64::MIN, i64::MAX, "120 seconds"),
        (i64::MIN + 1, i64::MIN + 60, "expired"),
        (i64::MAX - 60, i64::MAX, "iat"),
        (n - 121, n + 1, "120 seconds"),
        (n + 5, n, "before iat"),
    ] {
        let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
        c["iat"] = json!(iat);
        c["exp"] = json!(exp);
        let grant = sign(&c, Some(&v.kid), key_a());
        for attempt in 0..2 {
            let (e, d) = expect_oauth_error(post_grant(&sb, &grant).await).await;
            assert_eq!(e, "invalid_grant", "iat {iat} exp {exp} attempt {attempt}");
            assert!(
                d.contains(want),
                "iat {iat} exp {exp} attempt {attempt}: {d}"
            );
        }
    }
    // The edges that Maskinporten accepts still pass: exactly 120 s, and exp == iat.
    for (iat, exp) in [(n - 60, n + 60), (n, n)] {
        let mut c = grant_claims(&sb, &v, SCOPE_REGISTER);
        c["iat"] = json!(iat);
        c["exp"] = json!(exp);
        let resp = post_grant(&sb, &sign(&c, Some(&v.kid), key_a())).await;
        assert_eq!(resp.status().as_u16(), 200, "iat {iat} exp {exp}");
    }
}
