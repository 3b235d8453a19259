//! Grant signing and the token request (issue 6, first benchmark).
//!
//! `cargo bench --bench token [-- --iters N]`
//!
//! - RS256 with a 2048-bit key, broken down: the bare RSA PKCS#1 v1.5/SHA-256 signature with a
//!   parsed key, `EncodingKey::from_rsa_pem` (what `KeyPair::encoding_key` does on every call),
//!   `jsonwebtoken::encode` with a prepared key (what the sandbox does per token), the grant's
//!   verification (what the sandbox does per request), and `sign_grant` end to end.
//! - `MaskinportenClient::token(.., fresh = true)` against the in-process sandbox on loopback
//!   (bypasses the cache: a new grant is signed and posted every call; keep-alive connection).
//! - The share of a token call spent in the client's signature, and in both signatures (the
//!   sandbox signs the access token with RS256 too).

mod common;

use altinn_onboard::altinn::client::VENDOR_SCOPES;
use altinn_onboard::env::{EnvKind, Environment};
use altinn_onboard::keys::{KeyBits, KeyPair};
use altinn_onboard::maskinporten::{
    ClientCredentials, MaskinportenClient, TokenCache, TokenRequest, grant_claims, sign_grant,
};
use altinn_onboard::portal::SandboxPortal;
use altinn_onboard::sandbox::{self, SandboxConfig};
use common::{Samples, VENDOR, bench_sync, fmt};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let iters = common::arg_usize("--iters", 500);
    let warmup = (iters / 10).max(5);
    println!("== token: RS256 signing and token requests ({iters} iterations, {warmup} warm-up)");

    let t = Instant::now();
    let key = KeyPair::generate(KeyBits::B2048, None).expect("key");
    println!("(RSA-2048 key generation, once: {})", fmt(t.elapsed()));
    let key = Arc::new(key);

    let req = TokenRequest {
        scopes: VENDOR_SCOPES.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let audience = "http://127.0.0.1:1/";
    let claims = grant_claims(
        audience,
        "bench-client",
        &req,
        chrono::Utc::now().timestamp(),
    );
    let payload = serde_json::to_vec(&claims).expect("claims");

    // The bare RSA operation with an already parsed key (blinded, as jsonwebtoken's backend).
    let rsa_key = rsa::RsaPrivateKey::from_pkcs8_pem(&key.private_pkcs8_pem()).expect("parse");
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key);
    let raw = bench_sync(warmup, iters, || {
        signer
            .sign_with_rng(&mut rand::rngs::OsRng, &payload)
            .to_vec()
    });
    raw.report("rsa pkcs1v15-sha256 sign (parsed key)");

    let pem = key.private_pkcs8_pem();
    let from_pem = bench_sync(warmup, iters, || {
        jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("pem")
    });
    from_pem.report("EncodingKey::from_rsa_pem");

    let enc = key.encoding_key().expect("encoding key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid().to_string());
    let encode = bench_sync(warmup, iters, || {
        jsonwebtoken::encode(&header, &claims, &enc).expect("encode")
    });
    encode.report("jsonwebtoken::encode RS256 (prepared key)");

    let sign = bench_sync(warmup, iters, || {
        let c = grant_claims(
            audience,
            "bench-client",
            &req,
            chrono::Utc::now().timestamp(),
        );
        sign_grant(&key, &c).expect("sign")
    });
    sign.report("sign_grant (grant_claims + RS256)");

    let jwt = sign_grant(&key, &claims).expect("sign");
    let dec = key.public_jwk().decoding_key().expect("decoding key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let verify = bench_sync(warmup, iters, || {
        jsonwebtoken::decode::<serde_json::Value>(jwt.expose(), &dec, &validation).expect("ok")
    });
    verify.report("jsonwebtoken::decode RS256 verify");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (token, isign, iratio) = rt.block_on(async {
        let t = Instant::now();
        let sb = sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox");
        println!(
            "(in-process sandbox start incl. its own RSA-2048 key generation: {})",
            fmt(t.elapsed())
        );
        let env =
            Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).expect("env");
        let http = altinn_onboard::http::client().expect("http client");
        let client_id = SandboxPortal::new(&env, http.clone())
            .register_client(None, VENDOR, &req.scopes, &key)
            .await
            .expect("register client");
        let mp = MaskinportenClient::new(&env, http, Arc::new(TokenCache::in_memory()));
        let creds = ClientCredentials {
            client_id,
            key: key.clone(),
        };
        let s = token_samples(&mp, &creds, &req, warmup, iters).await;
        // The HTTP round trip alone: the metadata document, same client and connection pool.
        let meta = format!("{}.well-known/oauth-authorization-server", sb.issuer());
        let http = altinn_onboard::http::client().expect("http client");
        let mut rt_only = Samples::default();
        for i in 0..warmup + iters {
            let t = Instant::now();
            let r = http.get(&meta).send().await.expect("get");
            r.bytes().await.expect("body");
            if i >= warmup {
                rt_only.push(t.elapsed());
            }
        }
        rt_only.report("GET metadata (loopback HTTP round trip)");
        sb.shutdown().await;
        s
    });
    token.report("token fresh (in-process sandbox)");
    isign.report("  sign_grant interleaved with those calls");

    // The same against a `sandbox serve` process: client and server no longer share a runtime.
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(common::bin())
        .args(["sandbox", "serve", "--port", "0", "--bind", "127.0.0.1"])
        .env("ALTINN_ONBOARD_HOME", home.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sandbox serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("url");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("url")
        .to_string();
    let (served, ssign, sratio) = rt.block_on(async {
        let env = Environment::from_parts(EnvKind::Sandbox, &format!("{url}/"), &url).expect("env");
        let http = altinn_onboard::http::client().expect("http client");
        let client_id = SandboxPortal::new(&env, http.clone())
            .register_client(None, VENDOR, &req.scopes, &key)
            .await
            .expect("register client");
        let mp = MaskinportenClient::new(&env, http, Arc::new(TokenCache::in_memory()));
        let creds = ClientCredentials {
            client_id,
            key: key.clone(),
        };
        token_samples(&mp, &creds, &req, warmup, iters).await
    });
    let _ = child.kill();
    let _ = child.wait();
    served.report("token fresh (sandbox serve)");
    ssign.report("  sign_grant interleaved with those calls");

    let ratio = |a: &Samples, b: &Samples| a.median().as_secs_f64() / b.median().as_secs_f64();
    println!();
    println!("token call / one RS256 signature (sign_grant, interleaved)   target: <= 3x");
    for (name, tok, sig, pairs) in [
        ("in-process sandbox", &token, &isign, &iratio),
        ("sandbox serve", &served, &ssign, &sratio),
    ] {
        println!(
            "  {name:<20} median/median {:.2}x   median of pair ratios {:.2}x   min/min {:.2}x   client signature {:.0}% of the call",
            ratio(tok, sig),
            median_f(pairs),
            tok.min().as_secs_f64() / sig.min().as_secs_f64(),
            100.0 * ratio(sig, tok)
        );
    }
    let both = isign.median() + encode.median() + verify.median();
    println!(
        "in-process: client sign + sandbox sign + sandbox verify = {} of {} ({:.0}%); rest (HTTP on loopback, JSON, form, lock, scheduling) {}",
        fmt(both),
        fmt(token.median()),
        100.0 * both.as_secs_f64() / token.median().as_secs_f64(),
        fmt(token.median().saturating_sub(both))
    );
    println!(
        "token call / one bare RSA signature (separate run), medians: {:.2}x",
        ratio(&token, &raw)
    );
}
/// Token calls interleaved with bare `sign_grant` calls, so both see the same machine (this host
/// is shared and its speed drifts): returns (token calls, signatures, per-pair ratios).
async fn token_samples(
    mp: &MaskinportenClient,
    creds: &ClientCredentials,
    req: &TokenRequest,
    warmup: usize,
    iters: usize,
) -> (Samples, Samples, Vec<f64>) {
    let (mut tokens, mut signs, mut ratios) = (Samples::default(), Samples::default(), Vec::new());
    for i in 0..warmup + iters {
        let t = Instant::now();
        let c = grant_claims(
            mp.audience(),
            &creds.client_id,
            req,
            chrono::Utc::now().timestamp(),
        );
        std::hint::black_box(sign_grant(&creds.key, &c).expect("sign"));
        let sign = t.elapsed();
        let t = Instant::now();
        let tok = mp.token(creds, req, true).await.expect("token");
        let call = t.elapsed();
        assert!(!tok.cached);
        if i >= warmup {
            tokens.push(call);
            signs.push(sign);
            ratios.push(call.as_secs_f64() / sign.as_secs_f64());
        }
    }
    (tokens, signs, ratios)
}

fn median_f(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
