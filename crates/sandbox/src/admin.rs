//! Who may use the sandbox's administration routes (issue 16, item 1). A workshop sandbox is
//! reachable by everyone in the room, so "being able to send HTTP" proves nothing; two things
//! do:
//!
//! - **Possession of a client key** (for `/sandbox/clients...`). The caller sends
//!   `Authorization: Bearer <proof>`, a JWT signed like a Maskinporten grant (RS256/384/512,
//!   `kid` in the header) with these claims:
//!   `{"purpose": "sandbox-client-admin", "aud": <issuer>, "org": <vendor org>,
//!     "client_id"?: <id>, "htm": <method>, "htu": <path>, "body_sha256": <hex of the body>,
//!     "iat", "exp"}` (lifetime at most 120 s, 10 s clock skew).
//!   Creating a client needs a proof signed by one of the keys being registered (proof of
//!   possession, naming the org it registers for); changing a client (keys, scopes) needs one
//!   signed by a key the client already has, naming the client and its org. The proof is bound
//!   to the method, path and exact body, so a captured proof can only repeat the very same
//!   request (which the routes answer idempotently); it cannot be used for another change.
//! - **The host secret**, a random value made at start, printed by `sandbox serve`, available
//!   in-process as [`crate::SandboxHandle::admin_secret`] (and written 0600 to the server file
//!   by altinn-onboard). `Authorization: Bearer <secret>` may do everything above (the host
//!   recovering a participant's client whose key was lost) and is the only way to change the
//!   fault plan (`PUT`/`DELETE /sandbox/faults`; `GET` shows it to anyone).
//!
//! `GET /sandbox/clients/{id}` and `/sandbox/orgs` show only public data and stay open.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::problem::sandbox_error;
use super::{Base, Shared};

/// The `purpose` claim of an admin proof: a Maskinporten grant cannot be mistaken for one.
pub const PROOF_PURPOSE: &str = "sandbox-client-admin";
const MAX_SKEW_SECS: i64 = 10;
const MAX_PROOF_LIFETIME_SECS: i64 = 120;

/// A new random host secret (256 bits, hex).
pub(crate) fn new_host_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
}

/// True when the request carries the host secret (compared in constant time).
pub(crate) fn has_host_secret(app: &Shared, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| bool::from(t.as_bytes().ct_eq(app.admin_secret.as_bytes())))
}

fn refused(status: StatusCode, description: String) -> Response {
    let mut resp = sandbox_error(status, "admin_proof_required", description);
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sandbox-admin\""),
        );
    }
    resp
}

/// `PUT`/`DELETE /sandbox/faults`: the host secret or 401.
pub(crate) fn require_host_secret(app: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    if has_host_secret(app, headers) {
        return Ok(());
    }
    Err(refused(
        StatusCode::UNAUTHORIZED,
        "Changing the fault plan needs the sandbox's host secret: send Authorization: Bearer <secret> \
         (`sandbox serve` prints it at start; altinn-onboard keeps it 0600 in its data directory's \
         sandbox-server.json)"
            .into(),
    ))
}

/// Whose keys may sign the proof, and what it must name.
pub(crate) enum Owner<'a> {
    /// A client being created for `org` with these (already validated) public keys.
    New { org: &'a str, keys: &'a [Value] },
    /// An existing client.
    Existing {
        client_id: &'a str,
        org: &'a str,
        keys: &'a [Value],
    },
}

/// Allow the request if it carries the host secret or a valid proof for `owner`.
pub(crate) fn authorize(
    app: &Shared,
    base: &Base,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    owner: Owner<'_>,
) -> Result<(), Response> {
    if has_host_secret(app, headers) {
        return Ok(());
    }
    let what = match owner {
        Owner::New { .. } => {
            "Creating a client needs a proof signed by one of the keys being registered"
        }
        Owner::Existing { .. } => {
            "Changing a client needs a proof signed by a key the client already has"
        }
    };
    let Some(proof) = bearer(headers) else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            format!(
                "{what}: send Authorization: Bearer <JWT with purpose \"{PROOF_PURPOSE}\", aud, org, client_id (for changes), htm, htu, body_sha256, iat, exp>, or the host secret. See crates/sandbox/src/admin.rs"
            ),
        ));
    };
    verify_proof(app, base, method, path, body, proof, &owner)
        .map_err(|reason| refused(StatusCode::FORBIDDEN, format!("{what}: {reason}")))
}

fn verify_proof(
    app: &Shared,
    base: &Base,
    method: &Method,
    path: &str,
    body: &[u8],
    proof: &str,
    owner: &Owner<'_>,
) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(proof)
        .map_err(|_| "the proof is not a JWT (or the host secret is wrong)".to_string())?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err("the proof must be signed with RS256, RS384 or RS512".into());
    }
    let kid = header.kid.ok_or("the proof's header has no kid")?;
    let keys = match owner {
        Owner::New { keys, .. } | Owner::Existing { keys, .. } => keys,
    };
    let jwk = keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
        .ok_or_else(|| match owner {
            Owner::New { .. } => format!("kid {kid} is not one of the keys being registered"),
            Owner::Existing { client_id, .. } => format!(
                "kid {kid} is not a key of client {client_id}; sign with a key it has (or ask the sandbox's host)"
            ),
        })?;
    let key = super::maskinporten::jwk_decoding_key(jwk).ok_or("the key is unusable")?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| "the proof's signature does not verify with that key".to_string())?
        .claims;
    let s = |name: &str| claims.get(name).and_then(Value::as_str);
    if s("purpose") != Some(PROOF_PURPOSE) {
        return Err(format!(
            "the proof's \"purpose\" must be \"{PROOF_PURPOSE}\""
        ));
    }
    let aud_ok = s("aud").is_some_and(|a| {
        super::maskinporten::accepted_audiences(app, base)
            .iter()
            .any(|x| x == a)
    });
    if !aud_ok {
        return Err("the proof's \"aud\" must be this sandbox's issuer".into());
    }
    let (org, client_id) = match owner {
        Owner::New { org, .. } => (*org, None),
        Owner::Existing { client_id, org, .. } => (*org, Some(*client_id)),
    };
    if s("org") != Some(org) {
        return Err(format!(
            "the proof must name the organisation (\"org\": \"{org}\")"
        ));
    }
    if let Some(id) = client_id
        && s("client_id") != Some(id)
    {
        return Err(format!(
            "the proof must name the client (\"client_id\": \"{id}\")"
        ));
    }
    if !s("htm").is_some_and(|m| m.eq_ignore_ascii_case(method.as_str())) || s("htu") != Some(path)
    {
        return Err(format!(
            "the proof must name this request (\"htm\": \"{method}\", \"htu\": \"{path}\")"
        ));
    }
    let digest: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !s("body_sha256").is_some_and(|d| d.eq_ignore_ascii_case(&digest)) {
        return Err("the proof's \"body_sha256\" is not the SHA-256 of this body".into());
    }
    let now = app.now().timestamp();
    let (Some(iat), Some(exp)) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return Err("the proof needs \"iat\" and \"exp\"".into());
    };
    if iat > now.saturating_add(MAX_SKEW_SECS) {
        return Err("the proof's iat is in the future".into());
    }
    if exp < now.saturating_sub(MAX_SKEW_SECS) {
        return Err("the proof has expired".into());
    }
    if !exp
        .checked_sub(iat)
        .is_some_and(|l| (0..=MAX_PROOF_LIFETIME_SECS).contains(&l))
    {
        return Err(format!(
            "the proof's lifetime (exp - iat) must be 0..={MAX_PROOF_LIFETIME_SECS} seconds"
        ));
    }
    Ok(())
}
