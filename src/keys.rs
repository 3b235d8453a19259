//! RSA keys for the Maskinporten client: generate, import (PEM, JWK, base64 JWK), store as
//! PKCS#8 PEM with mode 0600, refuse keys others can read, and export the public JWK/JWKS exactly
//! as Maskinporten's self-service portal takes it (no private members).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyBits {
    #[default]
    B2048,
    B3072,
    B4096,
}

impl KeyBits {
    pub fn bits(self) -> usize {
        match self {
            KeyBits::B2048 => 2048,
            KeyBits::B3072 => 3072,
            KeyBits::B4096 => 4096,
        }
    }
}

impl TryFrom<u32> for KeyBits {
    type Error = KeyError;
    fn try_from(v: u32) -> Result<Self, KeyError> {
        match v {
            2048 => Ok(KeyBits::B2048),
            3072 => Ok(KeyBits::B3072),
            4096 => Ok(KeyBits::B4096),
            other => Err(KeyError::UnsupportedSize(other as usize)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "key size {0} is not supported: use 2048 (what Maskinporten's portal expects), 3072 or 4096 bits"
    )]
    UnsupportedSize(usize),
    #[error("could not generate the key: {0}")]
    Generate(String),
    #[error(
        "{path} can be read by other users (mode {mode:o}); private keys must be private\n  fix: chmod 600 {path}"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} already exists; refusing to overwrite a private key (choose another path or move it away)"
    )]
    Exists { path: PathBuf },
    #[error(
        "not a usable private key: {0}\n  hint: give an RSA private key as PEM (BEGIN PRIVATE KEY / BEGIN RSA PRIVATE KEY), a JWK with n, e, d, p, q, or that JWK base64-encoded"
    )]
    Parse(String),
    #[error(
        "this is a public key only; importing needs the private key (the public part is derived from it)"
    )]
    PublicOnly,
    #[error("the key has {0} bits; Maskinporten needs at least 2048")]
    TooSmall(usize),
    #[error("the key file {path} has kid {found:?} but the profile expects {expected:?}")]
    KidMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("could not prepare the signing key: {0}")]
    Signing(String),
}

/// A public JWK as the portal and Maskinporten's DCR API take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub e: String,
    #[serde(rename = "use")]
    pub r#use: String,
    pub kid: String,
    pub alg: String,
    pub n: String,
}

impl PublicJwk {
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyError> {
        jsonwebtoken::DecodingKey::from_rsa_components(&self.n, &self.e)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// An RSA key pair with its key id. `Debug` shows only the kid and size.
pub struct KeyPair {
    key: RsaPrivateKey,
    kid: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KeyPair {{ kid: {:?}, bits: {}, private: <redacted> }}",
            self.kid,
            self.bits()
        )
    }
}

fn b64u(n: &BigUint) -> String {
    URL_SAFE_NO_PAD.encode(n.to_bytes_be())
}

/// RFC 7638 thumbprint of an RSA public key (SHA-256, base64url).
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

pub fn jwk_thumbprint(jwk: &PublicJwk) -> String {
    thumbprint(&jwk.n, &jwk.e)
}

impl KeyPair {
    fn from_key(key: RsaPrivateKey, kid: Option<String>) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        if bits < 2048 {
            return Err(KeyError::TooSmall(bits));
        }
        let kid = kid.unwrap_or_else(|| thumbprint(&b64u(key.n()), &b64u(key.e())));
        Ok(KeyPair { key, kid })
    }

    pub fn generate(bits: KeyBits, kid: Option<String>) -> Result<KeyPair, KeyError> {
        let mut rng = rand::rngs::OsRng;
        let key = RsaPrivateKey::new(&mut rng, bits.bits())
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_key(key, kid)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn bits(&self) -> usize {
        self.key.size() * 8
    }

    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "RSA".into(),
            e: b64u(self.key.e()),
            r#use: "sig".into(),
            kid: self.kid.clone(),
            alg: "RS256".into(),
            n: b64u(self.key.n()),
        }
    }

    pub fn public_jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.public_jwk()],
        }
    }

    pub fn private_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }

    pub fn encoding_key(&self) -> Result<jsonwebtoken::EncodingKey, KeyError> {
        let pem = self.private_pkcs8_pem()?;
        jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| KeyError::Signing(e.to_string()))
    }

    /// Write the private key as PKCS#8 PEM, mode 0600 from creation, atomically; never over
    /// an existing file.
    pub fn write_private_key(&self, path: &Path) -> Result<(), KeyError> {
        if path.exists() {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            });
        }
        let pem = self.private_pkcs8_pem()?;
        crate::profile::write_atomic(path, pem.as_bytes(), 0o600).map_err(|source| {
            KeyError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Load a key written by [`KeyPair::write_private_key`] (or any PEM/JWK key file).
    pub fn load(path: &Path, kid: &str) -> Result<KeyPair, KeyError> {
        check_private_key_permissions(path)?;
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let key = Self::import(&text, Some(kid.to_string()))?;
        Ok(key)
    }

    /// Import PEM (PKCS#8 or PKCS#1), a private JWK, or a base64-encoded private JWK. A kid in
    /// the JWK is used unless one is given.
    pub fn import(text: &str, kid: Option<String>) -> Result<KeyPair, KeyError> {
        let t = text.trim();
        if t.contains("-----BEGIN") {
            if t.contains("PUBLIC KEY") && !t.contains("PRIVATE KEY") {
                return Err(KeyError::PublicOnly);
            }
            if t.contains("ENCRYPTED PRIVATE KEY") {
                return Err(KeyError::Parse("the PEM is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)".into()));
            }
            let key = RsaPrivateKey::from_pkcs8_pem(t)
                .or_else(|_| RsaPrivateKey::from_pkcs1_pem(t))
                .map_err(|e| KeyError::Parse(format!("PEM: {e}")))?;
            return Self::from_key(key, kid);
        }
        let json: serde_json::Value = if t.starts_with('{') {
            serde_json::from_str(t).map_err(|e| KeyError::Parse(format!("JWK JSON: {e}")))?
        } else {
            let cleaned: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = STANDARD
                .decode(&cleaned)
                .or_else(|_| URL_SAFE_NO_PAD.decode(cleaned.trim_end_matches('=')))
                .map_err(|_| KeyError::Parse("neither PEM, JWK JSON nor base64".into()))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| KeyError::Parse(format!("base64 decoded, but not a JWK: {e}")))?
        };
        let jwk = json.get("keys").and_then(|k| k.get(0)).unwrap_or(&json);
        if jwk["kty"].as_str() != Some("RSA") {
            return Err(KeyError::Parse(format!(
                "kty is {}, only RSA keys are supported",
                jwk["kty"]
            )));
        }
        let part = |name: &str| -> Result<Option<BigUint>, KeyError> {
            match jwk[name].as_str() {
                None => Ok(None),
                Some(s) => URL_SAFE_NO_PAD
                    .decode(s.trim_end_matches('='))
                    .map(|b| Some(BigUint::from_bytes_be(&b)))
                    .map_err(|_| KeyError::Parse(format!("JWK member `{name}` is not base64url"))),
            }
        };
        let (Some(n), Some(e)) = (part("n")?, part("e")?) else {
            return Err(KeyError::Parse("the JWK lacks n or e".into()));
        };
        let Some(d) = part("d")? else {
            return Err(KeyError::PublicOnly);
        };
        let primes: Vec<BigUint> = [part("p")?, part("q")?].into_iter().flatten().collect();
        let key = RsaPrivateKey::from_components(n, e, d, primes)
            .map_err(|e| KeyError::Parse(format!("JWK: {e}")))?;
        key.validate()
            .map_err(|e| KeyError::Parse(format!("JWK does not form a valid key: {e}")))?;
        let kid = kid.or_else(|| jwk["kid"].as_str().map(str::to_string));
        let _ = key.d();
        Self::from_key(key, kid)
    }
}

/// Refuse a private key file readable by group or others (as OpenSSH does).
pub fn check_private_key_permissions(path: &Path) -> Result<(), KeyError> {
    let meta = std::fs::metadata(path).map_err(|source| KeyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::TooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let _ = meta;
    Ok(())
}

/// The git work tree a path would be inside, if any (to warn before a key lands in a repo).
pub fn enclosing_git_work_tree(path: &Path) -> Option<PathBuf> {
    let start = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    start
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Write bytes to a new file created with `mode` (for exports the user asks for).
pub fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let _ = mode;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn shared() -> &'static KeyPair {
        static KEY: OnceLock<KeyPair> = OnceLock::new();
        KEY.get_or_init(|| KeyPair::generate(KeyBits::B2048, None).expect("keygen"))
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn public_jwk_has_exactly_the_public_members() {
        let v = serde_json::to_value(shared().public_jwk()).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(v["alg"], "RS256");
        assert_eq!(shared().kid(), jwk_thumbprint(&shared().public_jwk()));
        assert!(!format!("{:?}", shared()).contains(&shared().public_jwk().n[..20]));
    }

    #[test]
    fn write_load_roundtrip_with_0600_and_refusal_of_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/k.pem");
        shared().write_private_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            let loaded = KeyPair::load(&path, shared().kid()).unwrap();
            assert_eq!(loaded.public_jwk(), shared().public_jwk());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = KeyPair::load(&path, "k").unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{e}");
        }
        assert!(matches!(
            shared().write_private_key(&path),
            Err(KeyError::Exists { .. })
        ));
    }

    #[test]
    fn imports_every_format_to_the_same_key() {
        let k = shared();
        let pkcs8 = k.private_pkcs8_pem().unwrap();
        let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&k.key, LineEnding::LF).unwrap();
        let p = k.key.primes();
        let jwk = serde_json::json!({
            "kty": "RSA", "kid": "from-jwk", "n": b64u(k.key.n()), "e": b64u(k.key.e()), "d": b64u(k.key.d()),
            "p": b64u(&p[0]), "q": b64u(&p[1]),
        })
        .to_string();
        let b64 = STANDARD.encode(&jwk);
        for (name, text) in [
            ("pkcs8", pkcs8.to_string()),
            ("pkcs1", pkcs1.to_string()),
            ("jwk", jwk.clone()),
            ("b64", b64),
        ] {
            let imported = KeyPair::import(&text, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(imported.public_jwk().n, k.public_jwk().n, "{name}");
        }
        assert_eq!(KeyPair::import(&jwk, None).unwrap().kid(), "from-jwk");
        let public_only = serde_json::to_string(&k.public_jwk()).unwrap();
        assert!(matches!(
            KeyPair::import(&public_only, None),
            Err(KeyError::PublicOnly)
        ));
        assert!(matches!(
            KeyPair::import("garbage!", None),
            Err(KeyError::Parse(_))
        ));
    }

    #[test]
    fn a_signed_jwt_verifies_with_only_the_public_jwk() {
        let k = shared();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(k.kid().into());
        let claims = serde_json::json!({"iss": "c", "aud": "a", "exp": 4_000_000_000u64});
        let token = jsonwebtoken::encode(&header, &claims, &k.encoding_key().unwrap()).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["a"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &k.public_jwk().decoding_key().unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["iss"], "c");
    }
}
