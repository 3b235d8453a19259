//! Test helpers for the sandbox tests: they build grants and JSON by hand, following the real
//! services' documentation, and never use the crate's own clients.
#![allow(dead_code)]

use std::sync::OnceLock;

use altinn_onboard::sandbox::{self, SandboxConfig, SandboxHandle, SandboxOptions};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

pub const VENDOR_ORG: &str = "991825827";
pub const OTHER_VENDOR_ORG: &str = "310000000";
/// Seeded customer orgs (see GET /sandbox/orgs).
pub const CUSTOMER_ORG: &str = "312345676";
pub const CUSTOMER_ORG_2: &str = "313456781";
/// Valid check digit, but neither seeded nor a vendor: unknown to the sandbox's "Register".
pub const UNKNOWN_VALID_ORG: &str = "317890125";

pub const SCOPE_REGISTER: &str = "altinn:authentication/systemregister.write";
pub const SCOPE_REQ_WRITE: &str = "altinn:authentication/systemuser.request.write";
pub const SCOPE_REQ_READ: &str = "altinn:authentication/systemuser.request.read";
pub const SCOPE_DEMO: &str = "altinn:systembruker.demo";
pub const ALL_VENDOR_SCOPES: &[&str] =
    &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ, SCOPE_DEMO];

pub struct TestKey {
    pub pem: String,
    pub n: String,
    pub e: String,
}

impl TestKey {
    fn generate() -> TestKey {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("keygen");
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        TestKey {
            pem,
            n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }
    }

    pub fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": self.n, "e": self.e})
    }

    pub fn encoding(&self) -> EncodingKey {
        EncodingKey::from_rsa_pem(self.pem.as_bytes()).expect("encoding key")
    }
}

/// Two keys per test binary (RSA generation is slow-ish).
pub fn key_a() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(TestKey::generate)
}

pub fn key_b() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(TestKey::generate)
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn start() -> SandboxHandle {
    sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

pub async fn start_with_page_size(n: usize) -> SandboxHandle {
    sandbox::start_with(
        SandboxConfig::default(),
        SandboxOptions {
            page_size: n,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox starts")
}

/// A vendor with a Maskinporten client in the sandbox.
#[derive(Clone)]
pub struct Vendor {
    pub client_id: String,
    pub kid: String,
    pub org: String,
}

pub async fn create_client(
    sb: &SandboxHandle,
    org: &str,
    scopes: &[&str],
    key: &TestKey,
) -> Vendor {
    let kid = format!("kid-{}", uuid::Uuid::new_v4());
    let resp = http()
        .post(format!("{}/sandbox/clients", sb.base_url()))
        .json(&json!({"org": org, "scopes": scopes, "jwks": {"keys": [key.jwk(&kid)]}}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201, "create client: {:?}", resp.text().await);
    let body: Value = resp.json().await.expect("json");
    Vendor {
        client_id: body["client_id"].as_str().expect("client_id").to_string(),
        kid,
        org: org.to_string(),
    }
}

/// Claims of a correct grant (docs.digdir.no jwtgrant): aud = issuer, iss = client id, ≤120 s.
pub fn grant_claims(sb: &SandboxHandle, v: &Vendor, scope: &str) -> Value {
    let t = now();
    json!({
        "aud": sb.issuer(),
        "iss": v.client_id,
        "scope": scope,
        "iat": t,
        "exp": t + 110,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

pub fn sign(claims: &Value, kid: Option<&str>, key: &TestKey) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &key.encoding()).expect("sign")
}

pub async fn post_grant(sb: &SandboxHandle, assertion: &str) -> reqwest::Response {
    http()
        .post(sb.token_endpoint())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .expect("send")
}

/// Expect an OAuth error from /token and return (error, error_description).
pub async fn expect_oauth_error(resp: reqwest::Response) -> (String, String) {
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    (
        body["error"].as_str().unwrap_or_default().to_string(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

pub async fn token_for(sb: &SandboxHandle, v: &Vendor, scopes: &[&str]) -> String {
    let claims = grant_claims(sb, v, &scopes.join(" "));
    let resp = post_grant(sb, &sign(&claims, Some(&v.kid), key_a())).await;
    assert_eq!(resp.status(), 200, "token: {:?}", resp.text().await);
    let body: Value = resp.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Grant for a system-user token (authorization_details as a JSON array, `ID` upper case).
pub async fn system_user_token_response(
    sb: &SandboxHandle,
    v: &Vendor,
    customer: &str,
    external_ref: Option<&str>,
) -> reqwest::Response {
    let mut claims = grant_claims(sb, v, SCOPE_DEMO);
    let mut detail = json!({
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{customer}")},
    });
    if let Some(r) = external_ref {
        detail["externalRef"] = json!(r);
    }
    claims["authorization_details"] = json!([detail]);
    post_grant(sb, &sign(&claims, Some(&v.kid), key_a())).await
}

pub fn system_body(vendor_org: &str, name: &str, client_ids: &[&str]) -> Value {
    json!({
        "id": format!("{vendor_org}_{name}"),
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{vendor_org}")},
        "name": {"nb": "Testsystem", "nn": "Testsystem", "en": "Test system"},
        "description": {"nb": "Beskrivelse", "nn": "Skildring", "en": "Description"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": client_ids,
        "allowedRedirectUrls": ["https://vendor.example/receipt"],
        "isVisible": true,
    })
}

pub fn api(sb: &SandboxHandle, path: &str) -> String {
    format!("{}/authentication/api/v1{path}", sb.base_url())
}

pub async fn create_system(sb: &SandboxHandle, token: &str, body: &Value) -> reqwest::Response {
    http()
        .post(api(sb, "/systemregister/vendor"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("send")
}

pub async fn create_request(sb: &SandboxHandle, token: &str, body: &Value) -> reqwest::Response {
    http()
        .post(api(sb, "/systemuser/request/vendor"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("send")
}

pub fn standard_request(system_id: &str, customer: &str) -> Value {
    json!({
        "systemId": system_id,
        "partyOrgNo": customer,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
        "redirectUrl": "https://vendor.example/receipt?session=1",
    })
}

pub async fn get_json(url: &str, token: &str) -> (u16, Value) {
    let resp = http()
        .get(url)
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

/// A full vendor setup: client with all vendor scopes, an admin token, and a registered system.
pub struct Setup {
    pub vendor: Vendor,
    pub token: String,
    pub system_id: String,
}

pub async fn setup(sb: &SandboxHandle, name: &str) -> Setup {
    let vendor = create_client(sb, VENDOR_ORG, ALL_VENDOR_SCOPES, key_a()).await;
    let token = token_for(
        sb,
        &vendor,
        &[SCOPE_REGISTER, SCOPE_REQ_WRITE, SCOPE_REQ_READ],
    )
    .await;
    let body = system_body(VENDOR_ORG, name, &[&vendor.client_id]);
    let resp = create_system(sb, &token, &body).await;
    assert_eq!(resp.status(), 200, "create system: {:?}", resp.text().await);
    Setup {
        vendor,
        token,
        system_id: format!("{VENDOR_ORG}_{name}"),
    }
}

pub async fn approve(sb: &SandboxHandle, id: &str) -> reqwest::Response {
    http()
        .post(format!("{}/sandbox/requests/{id}/approve", sb.base_url()))
        .send()
        .await
        .expect("send")
}

pub async fn reject(sb: &SandboxHandle, id: &str) -> reqwest::Response {
    http()
        .post(format!("{}/sandbox/requests/{id}/reject", sb.base_url()))
        .send()
        .await
        .expect("send")
}
