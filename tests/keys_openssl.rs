//! Interoperability of `keys` with an independent implementation, the `openssl` command:
//! keys made by openssl import (PKCS#8, PKCS#1, encrypted refused), the PEM we write is read by
//! openssl, the JWK's modulus is the key's, and openssl verifies our RS256 signatures.
//! Skipped (with a note) where `openssl` is not installed.

use altinn_onboard::keys::{KeyBits, KeyError, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::path::Path;
use std::process::Command;

fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("running openssl: {e}"),
    }
}

fn have_openssl() -> bool {
    let ok = openssl(&["version"]).is_some_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not installed; skipping the interoperability test");
    }
    ok
}

fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = openssl(args).expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn private_file(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// `Modulus=ABCD...` from openssl, as the big-endian bytes.
fn openssl_modulus(key: &Path) -> Vec<u8> {
    let out = String::from_utf8(run_ok(&[
        "rsa",
        "-noout",
        "-modulus",
        "-in",
        key.to_str().unwrap(),
    ]))
    .unwrap();
    let hex = out.trim().strip_prefix("Modulus=").expect("modulus line");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn keys_interoperate_with_openssl() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let s = |name: &str| p(name).to_str().unwrap().to_string();

    // openssl's PKCS#8 and PKCS#1 files import as the same key, with openssl's modulus.
    run_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &s("ossl8.pem"),
    ]);
    run_ok(&[
        "rsa",
        "-in",
        &s("ossl8.pem"),
        "-traditional",
        "-out",
        &s("ossl1.pem"),
    ]);
    let pkcs8 = std::fs::read_to_string(p("ossl8.pem")).unwrap();
    let pkcs1 = std::fs::read_to_string(p("ossl1.pem")).unwrap();
    assert!(pkcs8.contains("BEGIN PRIVATE KEY") && pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    let a = KeyPair::import(&pkcs8, None).unwrap();
    let b = KeyPair::import(&pkcs1, None).unwrap();
    assert_eq!(a.public_jwk(), b.public_jwk());
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&a.public_jwk().n).unwrap(),
        openssl_modulus(&p("ossl8.pem"))
    );

    // A passphrase-protected key is refused with the way out.
    run_ok(&[
        "pkcs8",
        "-topk8",
        "-in",
        &s("ossl8.pem"),
        "-passout",
        "pass:secret",
        "-out",
        &s("enc.pem"),
    ]);
    let enc = std::fs::read_to_string(p("enc.pem")).unwrap();
    assert!(matches!(
        KeyPair::import(&enc, None),
        Err(KeyError::Encrypted { .. })
    ));

    // Our key file is a standard PKCS#8 PEM that openssl accepts and checks.
    let ours = KeyPair::generate(KeyBits::B2048, None).unwrap();
    ours.write_private_key(&p("ours.pem")).unwrap();
    run_ok(&["pkey", "-in", &s("ours.pem"), "-check", "-noout"]);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&ours.public_jwk().n).unwrap(),
        openssl_modulus(&p("ours.pem"))
    );

    // openssl verifies an RS256 JWT signed with our encoding key, using only the public key.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(ours.kid().to_string());
    let claims = serde_json::json!({"iss": "client", "aud": "https://test.maskinporten.no/"});
    let jwt = jsonwebtoken::encode(&header, &claims, &ours.encoding_key().unwrap()).unwrap();
    let (signing_input, sig) = jwt.rsplit_once('.').unwrap();
    std::fs::write(p("input"), signing_input).unwrap();
    std::fs::write(p("sig"), URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
    run_ok(&[
        "pkey",
        "-in",
        &s("ours.pem"),
        "-pubout",
        "-out",
        &s("pub.pem"),
    ]);
    let verified = run_ok(&[
        "dgst",
        "-sha256",
        "-verify",
        &s("pub.pem"),
        "-signature",
        &s("sig"),
        &s("input"),
    ]);
    assert!(String::from_utf8_lossy(&verified).contains("Verified OK"));

    // And a file openssl wrote, once made private, loads.
    private_file(&p("ossl8.pem"));
    let loaded = KeyPair::load(&p("ossl8.pem"), "portal-kid").unwrap();
    assert_eq!(loaded.kid(), "portal-kid");
    assert_eq!(loaded.public_jwk().n, a.public_jwk().n);
}
