//! RSA keys for the Maskinporten client: generate, import (PEM, JWK, base64 JWK), store as
//! PKCS#8 PEM with mode 0600, refuse key files others can read, and export the public JWK/JWKS
//! exactly as Maskinporten's self-service portal and DCR API take it (no private members).
//!
//! Key material never appears in an error, in `Debug` output or in a log line: errors name the
//! file and the problem, never the bytes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use zeroize::{Zeroize, Zeroizing};

/// Smallest modulus accepted on import; Maskinporten rejects anything shorter.
pub const MIN_BITS: usize = 2048;
/// Largest modulus accepted on import: bigger keys only make every grant slower.
pub const MAX_BITS: usize = 8192;

/// Key sizes offered for new keys. Maskinporten's DCR API documents 2048-bit RS256 keys; the
/// larger sizes are for environments (such as the sandbox) that accept them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyBits {
    #[default]
    B2048,
    B3072,
    B4096,
}

impl KeyBits {
    pub const ALL: [KeyBits; 3] = [KeyBits::B2048, KeyBits::B3072, KeyBits::B4096];

    pub fn bits(self) -> usize {
        match self {
            KeyBits::B2048 => 2048,
            KeyBits::B3072 => 3072,
            KeyBits::B4096 => 4096,
        }
    }
}

impl fmt::Display for KeyBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bits())
    }
}

impl TryFrom<u32> for KeyBits {
    type Error = KeyError;
    fn try_from(v: u32) -> Result<Self, KeyError> {
        match v {
            2048 => Ok(KeyBits::B2048),
            3072 => Ok(KeyBits::B3072),
            4096 => Ok(KeyBits::B4096),
            other => Err(KeyError::UnsupportedSize(other.to_string())),
        }
    }
}

impl FromStr for KeyBits {
    type Err = KeyError;
    /// Accepts `2048`, `3072`, `4096`, optionally followed by `bits`/`bit`.
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let t = s.trim().to_ascii_lowercase();
        let digits = t
            .strip_suffix("bits")
            .or_else(|| t.strip_suffix("bit"))
            .unwrap_or(&t)
            .trim();
        digits
            .parse::<u32>()
            .map_err(|_| KeyError::UnsupportedSize(s.trim().chars().take(20).collect()))
            .and_then(KeyBits::try_from)
    }
}

/// Where a key came from, for error messages: a file, or text given directly.
fn origin(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("{}: ", p.display()),
        None => String::new(),
    }
}

const FORMATS_HINT: &str = "give an RSA private key as PEM (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY), \
     as a JWK with n, e and d (p and q optional), or as that JWK base64-encoded";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "key size `{0}` is not supported\n  fix: use 2048 (what Maskinporten accepts), 3072 or 4096 bits"
    )]
    UnsupportedSize(String),
    #[error(
        "could not generate the key: {0}\n  fix: try again; if it keeps failing, import a key made with openssl genrsa 2048"
    )]
    Generate(String),
    #[error(
        "{path} can be read by other users (mode {mode:03o}); a private key must be private\n  fix: chmod 600 {path}"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "cannot read the private key file {path}: {source}\n  fix: check the path and its permissions, or create a new key with `altinn-onboard keys generate`"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write the private key file {path}: {source}\n  fix: check that the directory is writable and the disk is not full, or choose another path"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A planted link or a shared directory (see `crate::files::UnsafePath`).
    #[error("{0}")]
    Unsafe(crate::files::UnsafePath),
    #[error(
        "{path} already exists; refusing to overwrite a private key (it may be the one registered with Maskinporten)\n  fix: choose another path, or move the old key away first"
    )]
    Exists { path: PathBuf },
    #[error("{}not a usable private key: {reason}\n  fix: {hint}", origin(.path), hint = FORMATS_HINT)]
    Invalid {
        path: Option<PathBuf>,
        reason: String,
    },
    #[error("{}this is a public key ({found}); importing needs the private key\n  fix: import the private key file; the public JWK is derived from it", origin(.path))]
    PublicOnly {
        path: Option<PathBuf>,
        found: String,
    },
    #[error("{}this is {found}, not an RSA key; Maskinporten keys used here are RSA (RS256)\n  fix: import an RSA key, or generate one with `altinn-onboard keys generate`", origin(.path))]
    NotRsa {
        path: Option<PathBuf>,
        found: String,
    },
    #[error("{}the private key is encrypted with a passphrase\n  fix: decrypt a copy first, e.g. `openssl pkey -in key.pem -out plain.pem` (then chmod 600 plain.pem)", origin(.path))]
    Encrypted { path: Option<PathBuf> },
    #[error("{}the key has {bits} bits; Maskinporten needs at least {MIN_BITS}\n  fix: generate a new 2048-bit key with `altinn-onboard keys generate`", origin(.path))]
    TooSmall { path: Option<PathBuf>, bits: usize },
    #[error("{}the key has {bits} bits; keys above {MAX_BITS} bits are not supported\n  fix: use a 2048-bit key", origin(.path))]
    TooLarge { path: Option<PathBuf>, bits: usize },
    #[error(
        "{0}\n  fix: choose a kid without spaces (e.g. with --kid), or leave it out to use the key's thumbprint"
    )]
    BadKid(#[from] crate::validate::ValidationError),
    #[error(
        "the public JWK is unusable: {0}\n  fix: export it again with `altinn-onboard keys show`"
    )]
    BadPublicJwk(String),
    #[error("could not prepare the key for signing: {0}")]
    Signing(String),
}

/// A public JWK as the portal and Maskinporten's DCR API take it. The member order follows the
/// examples in Digdir's documentation; there are no private members to leak.
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
    /// A verification key built only from `n` and `e`.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyError> {
        if self.kty != "RSA" {
            return Err(KeyError::BadPublicJwk(format!(
                "kty is `{}`, expected RSA",
                self.kty
            )));
        }
        jsonwebtoken::DecodingKey::from_rsa_components(&self.n, &self.e)
            .map_err(|e| KeyError::BadPublicJwk(e.to_string()))
    }

    /// The RFC 7638 thumbprint of this key.
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(self)
    }
}

/// A JWK set: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// An RSA key pair with its key id. `Debug` shows only the kid and the size.
pub struct KeyPair {
    /// Zeroised on drop by the `rsa` crate.
    key: RsaPrivateKey,
    kid: String,
    /// The PKCS#8 PEM, encoded once when the pair is built so that exporting cannot fail later.
    pem: Zeroizing<String>,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

fn b64u(n: &BigUint) -> String {
    URL_SAFE_NO_PAD.encode(n.to_bytes_be())
}

/// RFC 7638 thumbprint of an RSA public key given as base64url `n` and `e` (SHA-256, base64url
/// without padding). The members are in lexicographic order with no whitespace, as the RFC
/// requires; `n` and `e` are base64url, which needs no JSON escaping.
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// RFC 7638 thumbprint of a public JWK.
pub fn jwk_thumbprint(jwk: &PublicJwk) -> String {
    thumbprint(&jwk.n, &jwk.e)
}

impl KeyPair {
    fn from_key(
        key: RsaPrivateKey,
        kid: Option<String>,
        path: Option<&Path>,
    ) -> Result<Self, KeyError> {
        let bits = key.n().bits();
        let path = || path.map(Path::to_path_buf);
        if bits < MIN_BITS {
            return Err(KeyError::TooSmall { path: path(), bits });
        }
        if bits > MAX_BITS {
            return Err(KeyError::TooLarge { path: path(), bits });
        }
        let kid = match kid {
            Some(k) => crate::validate::kid(&k)?,
            None => thumbprint(&b64u(key.n()), &b64u(key.e())),
        };
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Invalid {
                path: path(),
                reason: format!("it cannot be encoded as PKCS#8 ({e})"),
            })?;
        Ok(KeyPair { key, kid, pem })
    }

    /// Generate a new key. The kid defaults to the RFC 7638 thumbprint of the public key.
    /// Slow (hundreds of milliseconds for 2048 bits); run it off the async executor.
    pub fn generate(bits: KeyBits, kid: Option<String>) -> Result<KeyPair, KeyError> {
        let mut rng = rand::rngs::OsRng;
        let key = RsaPrivateKey::new(&mut rng, bits.bits())
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_key(key, kid, None)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.key.n().bits()
    }

    /// The same key under another kid (e.g. the one the self-service portal assigned).
    pub fn with_kid(self, kid: &str) -> Result<KeyPair, KeyError> {
        let kid = crate::validate::kid(kid)?;
        Ok(KeyPair { kid, ..self })
    }

    /// The RFC 7638 thumbprint of the public key (independent of the kid).
    pub fn thumbprint(&self) -> String {
        thumbprint(&b64u(self.key.n()), &b64u(self.key.e()))
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

    /// `{"keys": [jwk]}`: what the self-service portal and the DCR API's `/jwks` accept.
    pub fn public_jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.public_jwk()],
        }
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), zeroised when dropped.
    pub fn private_pkcs8_pem(&self) -> Zeroizing<String> {
        self.pem.clone()
    }

    /// The RS256 signing key for `jsonwebtoken`.
    pub fn encoding_key(&self) -> Result<jsonwebtoken::EncodingKey, KeyError> {
        jsonwebtoken::EncodingKey::from_rsa_pem(self.pem.as_bytes())
            .map_err(|e| KeyError::Signing(e.to_string()))
    }

    /// Write the private key as PKCS#8 PEM to a new file: created with mode 0600 (parent
    /// directories 0700 when created), written to a temp file, fsynced and moved into place
    /// atomically. Never replaces an existing file (see [`KeyPair::overwrite_private_key`]).
    pub fn write_private_key(&self, path: &Path) -> Result<(), KeyError> {
        crate::files::refuse_symlink(path).map_err(|e| write_error(path, e))?;
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            });
        }
        crate::profile::store::write_atomic_new(path, self.pem.as_bytes(), 0o600).map_err(
            |source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    KeyError::Exists {
                        path: path.to_path_buf(),
                    }
                } else {
                    write_error(path, source)
                }
            },
        )
    }

    /// Like [`KeyPair::write_private_key`] but atomically replaces an existing file. Only for
    /// an explicit user decision ("replace the key"): the old key is gone afterwards.
    pub fn overwrite_private_key(&self, path: &Path) -> Result<(), KeyError> {
        crate::profile::write_atomic(path, self.pem.as_bytes(), 0o600)
            .map_err(|source| write_error(path, source))
    }

    /// Load a private key file (any format [`KeyPair::import`] takes) under the given kid,
    /// refusing files that group or others can read.
    pub fn load(path: &Path, kid: &str) -> Result<KeyPair, KeyError> {
        // Opened without following a link, and the permissions checked on the open file, so
        // what is checked is what is read.
        let file = crate::files::open_nofollow(path, std::fs::OpenOptions::new().read(true))
            .map_err(|e| read_error(path, e))?;
        let meta = file.metadata().map_err(|e| read_error(path, e))?;
        check_key_metadata(path, &meta)?;
        let bytes = Zeroizing::new(
            crate::files::read_file_capped(file, path, crate::files::MAX_SMALL_FILE)
                .map_err(|e| read_error(path, e))?,
        );
        let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::Invalid {
            path: Some(path.to_path_buf()),
            reason: "the file is not text (a binary DER file? convert it with `openssl pkey -inform DER -in key.der -out key.pem`)".into(),
        })?;
        import_text(text, Some(kid.to_string()), Some(path))
    }

    /// Import a private key from text: PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`),
    /// a private JWK (`n`, `e`, `d`, optionally `p`, `q`, `dp`, `dq`, `qi`; a JWK set is
    /// searched for its private RSA key), or base64 (standard or URL-safe, padding optional)
    /// of such a JWK, a PEM or DER (as configuration values like `EncodedJwk` hold them).
    /// The kid is `kid` if given, else the JWK's `kid`, else the RFC 7638 thumbprint.
    pub fn import(text: &str, kid: Option<String>) -> Result<KeyPair, KeyError> {
        import_text(text, kid, None)
    }
}

fn import_text(text: &str, kid: Option<String>, path: Option<&Path>) -> Result<KeyPair, KeyError> {
    let t = text.trim_start_matches('\u{feff}').trim();
    let pathbuf = || path.map(Path::to_path_buf);
    if t.is_empty() {
        return Err(KeyError::Invalid {
            path: pathbuf(),
            reason: "it is empty".into(),
        });
    }
    if t.contains("-----BEGIN ") {
        return import_pem(t, kid, path);
    }
    if t.starts_with('{') || t.starts_with('[') {
        return import_jwk_json(t.as_bytes(), kid, path);
    }
    // Base64 of a JWK, a PEM or a DER key.
    let decoded = decode_base64_lenient(t).ok_or_else(|| KeyError::Invalid {
        path: pathbuf(),
        reason: "it is neither PEM, JWK JSON nor base64".into(),
    })?;
    let inner = decoded.trim_ascii();
    if inner.starts_with(b"{") || inner.starts_with(b"[") {
        return import_jwk_json(inner, kid, path);
    }
    if inner.starts_with(b"-----BEGIN ") {
        let pem = std::str::from_utf8(inner).map_err(|_| KeyError::Invalid {
            path: pathbuf(),
            reason: "base64-decoded PEM is not text".into(),
        })?;
        return import_pem(pem, kid, path);
    }
    if decoded.first() == Some(&0x30) {
        // ASN.1 SEQUENCE: a DER key. Binary, so never trimmed: a key whose last byte happens to
        // be 0x20 or 0x0a would lose it (this was a 1-in-50 test flake).
        let der: &[u8] = &decoded;
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|e8| RsaPrivateKey::from_pkcs1_der(der).map_err(|_| e8))
            .map_err(|e| pkcs8_error(e, Some(der), path))?;
        return KeyPair::from_key(key, kid, path);
    }
    Err(KeyError::Invalid {
        path: pathbuf(),
        reason: "it is base64, but the decoded bytes are neither a JWK, a PEM nor a DER key".into(),
    })
}

/// Base64 in either alphabet, with or without padding, ignoring whitespace (line breaks in
/// pasted values). The decoded bytes are zeroised when dropped.
fn decode_base64_lenient(t: &str) -> Option<Zeroizing<Vec<u8>>> {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        t.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .trim_end_matches('=')
            .to_string(),
    );
    if cleaned.is_empty() {
        return None;
    }
    let url_safe = cleaned.contains(['-', '_']);
    let engine = if url_safe {
        &URL_SAFE_NO_PAD
    } else {
        &STANDARD_NO_PAD
    };
    engine.decode(cleaned.as_bytes()).ok().map(Zeroizing::new)
}

/// One `-----BEGIN X-----` ... `-----END X-----` block.
struct PemBlock<'a> {
    label: &'a str,
    text: &'a str,
}

fn pem_blocks(t: &str) -> Vec<PemBlock<'_>> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let stop = start + end + end_marker.len();
        out.push(PemBlock {
            label,
            text: &rest[start..stop],
        });
        rest = &rest[stop..];
    }
    out
}

fn import_pem(t: &str, kid: Option<String>, path: Option<&Path>) -> Result<KeyPair, KeyError> {
    let pathbuf = || path.map(Path::to_path_buf);
    let blocks = pem_blocks(t);
    // A bundle may hold certificates and the key: use the private key block.
    let Some(block) = blocks
        .iter()
        .find(|b| b.label.ends_with("PRIVATE KEY"))
        .or_else(|| blocks.first())
    else {
        return Err(KeyError::Invalid {
            path: pathbuf(),
            reason: "the PEM has a BEGIN line without a matching END line".into(),
        });
    };
    match block.label {
        "PRIVATE KEY" => {
            let key = RsaPrivateKey::from_pkcs8_pem(block.text).map_err(|e| {
                let doc = rsa::pkcs8::SecretDocument::from_pem(block.text).ok();
                pkcs8_error(e, doc.as_ref().map(|(_, d)| d.as_bytes()), path)
            })?;
            KeyPair::from_key(key, kid, path)
        }
        "RSA PRIVATE KEY" => {
            if block.text.contains("ENCRYPTED") {
                return Err(KeyError::Encrypted { path: pathbuf() });
            }
            let key = RsaPrivateKey::from_pkcs1_pem(block.text).map_err(|e| KeyError::Invalid {
                path: pathbuf(),
                reason: format!("the PKCS#1 PEM could not be read ({e})"),
            })?;
            KeyPair::from_key(key, kid, path)
        }
        "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted { path: pathbuf() }),
        "EC PRIVATE KEY" => Err(KeyError::NotRsa {
            path: pathbuf(),
            found: "an EC key".into(),
        }),
        "DSA PRIVATE KEY" => Err(KeyError::NotRsa {
            path: pathbuf(),
            found: "a DSA key".into(),
        }),
        "OPENSSH PRIVATE KEY" => Err(KeyError::Invalid {
            path: pathbuf(),
            reason: "it is in OpenSSH's own format; convert a copy to PKCS#8 with `ssh-keygen -p -m PKCS8 -f <copy>`".into(),
        }),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::PublicOnly {
            path: pathbuf(),
            found: format!("PEM {}", block.label),
        }),
        "CERTIFICATE" | "TRUSTED CERTIFICATE" => Err(KeyError::PublicOnly {
            path: pathbuf(),
            found: "a certificate".into(),
        }),
        other => Err(KeyError::Invalid {
            path: pathbuf(),
            reason: format!("PEM blocks labelled `{other}` are not supported"),
        }),
    }
}

/// Turn a PKCS#8 decoding error into a message that says what the key is.
fn pkcs8_error(e: rsa::pkcs8::Error, der: Option<&[u8]>, path: Option<&Path>) -> KeyError {
    use rsa::pkcs8::spki;
    let pathbuf = path.map(Path::to_path_buf);
    match e {
        // The error names the OID that was expected; look up the one the key has.
        rsa::pkcs8::Error::PublicKey(spki::Error::OidUnknown { .. }) => {
            let oid = der
                .and_then(|d| rsa::pkcs8::PrivateKeyInfo::try_from(d).ok())
                .map(|info| info.algorithm.oid.to_string())
                .unwrap_or_else(|| "unknown".into());
            let found = match oid.as_str() {
                "1.2.840.10045.2.1" => "an EC key".to_string(),
                "1.3.101.112" => "an Ed25519 key".to_string(),
                "1.3.101.113" => "an Ed448 key".to_string(),
                "1.3.101.110" | "1.3.101.111" => "an X25519/X448 key".to_string(),
                "1.2.840.10040.4.1" => "a DSA key".to_string(),
                "1.2.840.113549.1.1.10" => "an RSA-PSS-only key".to_string(),
                other => format!("a key of algorithm {other}"),
            };
            KeyError::NotRsa {
                path: pathbuf,
                found,
            }
        }
        other => KeyError::Invalid {
            path: pathbuf,
            reason: format!("the PKCS#8 key could not be read ({other})"),
        },
    }
}

/// Wipe the string members of a parsed JWK (d, p, q, ...) once they have been decoded.
fn zeroize_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(m) => m.values_mut().for_each(zeroize_json),
        _ => {}
    }
}

fn import_jwk_json(
    bytes: &[u8],
    kid: Option<String>,
    path: Option<&Path>,
) -> Result<KeyPair, KeyError> {
    let mut json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's syntax errors name a position, never the content.
        KeyError::Invalid {
            path: path.map(Path::to_path_buf),
            reason: format!("the JWK is not valid JSON ({e})"),
        }
    })?;
    let result = jwk_to_key(&json, kid, path);
    zeroize_json(&mut json);
    result
}

fn jwk_to_key(
    json: &serde_json::Value,
    kid: Option<String>,
    path: Option<&Path>,
) -> Result<KeyPair, KeyError> {
    let pathbuf = || path.map(Path::to_path_buf);
    let invalid = |reason: String| KeyError::Invalid {
        path: pathbuf(),
        reason,
    };
    // A JWK set, or a bare array of JWKs: take the private RSA key in it.
    let candidates: Vec<&serde_json::Value> = match json {
        serde_json::Value::Object(m) if m.contains_key("keys") => match m.get("keys") {
            Some(serde_json::Value::Array(a)) => a.iter().collect(),
            _ => return Err(invalid("`keys` must be an array of JWKs".into())),
        },
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(_) => vec![json],
        _ => return Err(invalid("a JWK must be a JSON object".into())),
    };
    let jwk = match candidates
        .iter()
        .find(|k| k.get("kty").and_then(|v| v.as_str()) == Some("RSA") && k.get("d").is_some())
    {
        Some(k) => *k,
        None => match candidates.first() {
            Some(k) => *k,
            None => return Err(invalid("the JWK set is empty".into())),
        },
    };
    match jwk.get("kty").and_then(|v| v.as_str()) {
        Some("RSA") => {}
        Some(other) => {
            return Err(KeyError::NotRsa {
                path: pathbuf(),
                found: format!(
                    "a JWK with kty `{}`",
                    other.chars().take(16).collect::<String>()
                ),
            });
        }
        None => {
            return Err(invalid(
                "the JWK has no `kty` member (expected \"RSA\")".into(),
            ));
        }
    }
    let part = |name: &str| -> Result<Option<BigUint>, KeyError> {
        match jwk.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => {
                let bytes = decode_base64_lenient(s)
                    .ok_or_else(|| invalid(format!("JWK member `{name}` is not base64url")))?;
                Ok(Some(BigUint::from_bytes_be(&bytes)))
            }
            Some(_) => Err(invalid(format!("JWK member `{name}` must be a string"))),
        }
    };
    let (Some(n), Some(e)) = (part("n")?, part("e")?) else {
        return Err(invalid("the JWK lacks `n` or `e`".into()));
    };
    let Some(d) = part("d")? else {
        return Err(KeyError::PublicOnly {
            path: pathbuf(),
            found: "a JWK without `d`".into(),
        });
    };
    let primes: Vec<BigUint> = match (part("p")?, part("q")?) {
        (Some(p), Some(q)) => vec![p, q],
        // Without both primes the rsa crate recovers them from n, e and d.
        _ => Vec::new(),
    };
    let bits = n.bits();
    if bits < MIN_BITS {
        return Err(KeyError::TooSmall {
            path: pathbuf(),
            bits,
        });
    }
    if bits > MAX_BITS {
        return Err(KeyError::TooLarge {
            path: pathbuf(),
            bits,
        });
    }
    // from_components validates (p*q = n, d consistent with e) and precomputes CRT values.
    let key = RsaPrivateKey::from_components(n, e, d, primes).map_err(|e| {
        invalid(format!(
            "the JWK's numbers do not form a valid RSA key ({e})"
        ))
    })?;
    let kid = kid.or_else(|| jwk.get("kid").and_then(|v| v.as_str()).map(str::to_string));
    KeyPair::from_key(key, kid, path)
}

/// Refuse a private key file that group or others can read or write, as OpenSSH does.
pub fn check_private_key_permissions(path: &Path) -> Result<(), KeyError> {
    crate::files::refuse_symlink(path).map_err(|e| read_error(path, e))?;
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, e))?;
    check_key_metadata(path, &meta)
}

fn read_error(path: &Path, source: std::io::Error) -> KeyError {
    match crate::files::unsafe_path(&source) {
        Some(u) => KeyError::Unsafe(u.clone()),
        None => KeyError::Read {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn write_error(path: &Path, source: std::io::Error) -> KeyError {
    match crate::files::unsafe_path(&source) {
        Some(u) => KeyError::Unsafe(u.clone()),
        None => KeyError::Write {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn check_key_metadata(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    if !meta.is_file() {
        return Err(KeyError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is not a regular file"),
        });
    }
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
    Ok(())
}

/// Resolve `.` and `..` without touching the file system.
fn normalise_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The git work tree `path` would be inside, if any, so a caller can warn: "this key would be
/// inside the git work tree X; add it to .gitignore or choose another path". The path need not
/// exist; symlinks in its existing part are resolved.
pub fn enclosing_git_work_tree(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let absolute = normalise_lexically(&absolute);
    // Resolve symlinks in the deepest existing ancestor, keep the non-existing tail.
    let start = absolute
        .ancestors()
        .skip(1)
        .find_map(|a| {
            let canon = a.canonicalize().ok()?;
            let tail = absolute.strip_prefix(a).ok()?;
            Some(canon.join(tail))
        })
        .unwrap_or(absolute);
    start
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Write bytes to a new file created with `mode` (for exports the user asks for); fails if the
/// file exists.
pub fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    crate::profile::store::write_atomic_new(path, bytes, mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PrivateKeyParts;
    use std::sync::OnceLock;

    /// RFC 7517 appendix A.2: the private half of the key whose thumbprint RFC 7638 §3.1 gives.
    const RFC7517_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    const RFC7517_D: &str = "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q";
    const RFC7517_P: &str = "83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujnMt5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy8B9RzzOGVQzXvNEvn7O0nVbfs";
    const RFC7517_Q: &str = "3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdpYzBcOfW5r370AFXjiWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkDEgfAITAG9LUnADun4vIcb6yelxk";
    const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    /// RFC 8037 appendix A: an Ed25519 PKCS#8 key (not RSA).
    const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEh4ImJiiZgSNg9J9I+Z5toHKh6LDO2MCbSYNZTkMXDU\n-----END PRIVATE KEY-----\n";

    /// One generated key for the whole test binary: RSA key generation is slow.
    fn shared() -> &'static KeyPair {
        static KEY: OnceLock<KeyPair> = OnceLock::new();
        KEY.get_or_init(|| KeyPair::generate(KeyBits::B2048, None).expect("keygen"))
    }

    fn rfc_jwk(with_primes: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "kty": "RSA", "n": RFC7517_N, "e": "AQAB", "d": RFC7517_D,
            "alg": "RS256", "kid": "2011-04-29",
        });
        if with_primes {
            v["p"] = RFC7517_P.into();
            v["q"] = RFC7517_Q.into();
        }
        v
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        assert_eq!(thumbprint(RFC7517_N, "AQAB"), RFC7638_THUMBPRINT);
        // The same key imported from its private JWK gets the thumbprint as default kid.
        let mut jwk = rfc_jwk(true);
        jwk.as_object_mut().unwrap().remove("kid");
        let k = KeyPair::import(&jwk.to_string(), None).unwrap();
        assert_eq!(k.kid(), RFC7638_THUMBPRINT);
        assert_eq!(k.thumbprint(), RFC7638_THUMBPRINT);
        assert_eq!(jwk_thumbprint(&k.public_jwk()), RFC7638_THUMBPRINT);
    }

    #[test]
    fn generated_key_defaults() {
        let k = shared();
        assert_eq!(k.bits(), 2048);
        assert_eq!(k.kid(), jwk_thumbprint(&k.public_jwk()));
        assert!(
            k.private_pkcs8_pem()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
    }

    #[test]
    fn key_bits_parse() {
        const CASES: &[(&str, Option<usize>)] = &[
            ("2048", Some(2048)),
            (" 3072 ", Some(3072)),
            ("4096bits", Some(4096)),
            ("1024", None),
            ("2047", None),
            ("big", None),
            ("", None),
        ];
        for (input, want) in CASES {
            let got = input.parse::<KeyBits>().ok().map(KeyBits::bits);
            assert_eq!(got, *want, "{input:?}");
        }
        assert_eq!(KeyBits::default(), KeyBits::B2048);
        assert!(
            KeyBits::try_from(1024)
                .unwrap_err()
                .to_string()
                .contains("2048")
        );
    }

    #[test]
    fn public_jwk_has_exactly_the_public_members() {
        let k = shared();
        let v = serde_json::to_value(k.public_jwk()).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(v["alg"], "RS256");
        assert_eq!(v["use"], "sig");
        assert_eq!(v["kty"], "RSA");
        assert_eq!(v["e"], "AQAB");
        for s in [v["n"].as_str().unwrap(), v["e"].as_str().unwrap()] {
            assert!(!s.contains(['=', '+', '/']), "base64url without padding");
        }
        let jwks = serde_json::to_value(k.public_jwks()).unwrap();
        assert_eq!(jwks, serde_json::json!({ "keys": [v] }));
        let back: Jwks = serde_json::from_value(jwks).unwrap();
        assert_eq!(back.keys[0], k.public_jwk());
    }

    #[test]
    fn debug_and_errors_do_not_leak_key_material() {
        let k = shared();
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.kid()) && dbg.contains("2048"), "{dbg}");
        let n = &k.public_jwk().n;
        assert!(!dbg.contains(&n[..20]));
        assert!(!dbg.contains("PRIVATE"));
        // A JWK with a broken d: the error must not echo it.
        let mut jwk = rfc_jwk(false);
        jwk["d"] = "AAAA-broken-secret-value".into();
        let e = KeyPair::import(&jwk.to_string(), None)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("broken-secret"), "{e}");
    }

    #[test]
    fn write_load_roundtrip_with_0600_and_refusal_of_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/keys/k.pem");
        shared().write_private_key(&path).unwrap();
        let loaded = KeyPair::load(&path, shared().kid()).unwrap();
        assert_eq!(loaded.public_jwk(), shared().public_jwk());
        assert_eq!(*loaded.private_pkcs8_pem(), *shared().private_pkcs8_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            assert_eq!(mode(&dir.path().join("new")), 0o700);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = KeyPair::load(&path, "k").unwrap_err();
            assert!(matches!(e, KeyError::TooOpen { .. }));
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("chmod 600 {}", path.display())),
                "{msg}"
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            assert!(check_private_key_permissions(&path).is_err());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
            assert!(check_private_key_permissions(&path).is_ok());
        }
        // Never over an existing key, and no temp files left behind.
        assert!(matches!(
            shared().write_private_key(&path),
            Err(KeyError::Exists { .. })
        ));
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["k.pem"]);
    }

    #[test]
    fn overwrite_replaces_and_keeps_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "old").unwrap();
        shared().overwrite_private_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(
            KeyPair::load(&path, "x").unwrap().public_jwk().n,
            shared().public_jwk().n
        );
    }

    #[test]
    fn load_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = KeyPair::load(&missing, "k").unwrap_err();
        assert!(matches!(e, KeyError::Read { .. }));
        assert!(e.to_string().contains("missing.pem"));
        let garbage = dir.path().join("garbage.pem");
        super::write_new_file(&garbage, b"not a key at all!", 0o600).unwrap();
        let e = KeyPair::load(&garbage, "k").unwrap_err().to_string();
        assert!(e.contains("garbage.pem") && e.contains("fix:"), "{e}");
    }

    #[test]
    fn imports_every_format_to_the_same_key() {
        let k = shared();
        let pkcs8 = k.private_pkcs8_pem();
        let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&k.key, LineEnding::LF).unwrap();
        let pkcs8_der = k.key.to_pkcs8_der().unwrap();
        let p = k.key.primes();
        let jwk = serde_json::json!({
            "kty": "RSA", "kid": "from-jwk", "n": b64u(k.key.n()), "e": b64u(k.key.e()),
            "d": b64u(k.key.d()), "p": b64u(&p[0]), "q": b64u(&p[1]),
        })
        .to_string();
        let jwk_no_primes = serde_json::json!({
            "kty": "RSA", "n": b64u(k.key.n()), "e": b64u(k.key.e()), "d": b64u(k.key.d()),
        })
        .to_string();
        let jwks = format!(
            r#"{{"keys":[{},{}]}}"#,
            serde_json::to_string(&k.public_jwk()).unwrap(),
            jwk
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(&jwk);
        let b64url = URL_SAFE_NO_PAD.encode(&jwk);
        let b64_wrapped: String = b64
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let b64_pem = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_bytes());
        let b64_der = base64::engine::general_purpose::STANDARD.encode(pkcs8_der.as_bytes());
        let bundle = format!(
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n{}",
            *pkcs1
        );
        let cases: &[(&str, &str)] = &[
            ("pkcs8 pem", &pkcs8),
            ("pkcs1 pem", &pkcs1),
            (
                "pkcs8 pem with BOM and CRLF",
                &format!("\u{feff}{}", pkcs8.replace('\n', "\r\n")),
            ),
            ("jwk", &jwk),
            ("jwk without primes", &jwk_no_primes),
            ("jwks", &jwks),
            ("base64 jwk", &b64),
            ("base64url jwk", &b64url),
            ("wrapped base64 jwk", &b64_wrapped),
            ("base64 pem", &b64_pem),
            ("base64 der", &b64_der),
            ("cert + key bundle", &bundle),
        ];
        for (name, text) in cases {
            let imported = KeyPair::import(text, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut want = k.public_jwk();
            want.kid = imported.kid().to_string();
            assert_eq!(imported.public_jwk(), want, "{name}");
        }
        // The kid: explicit beats the JWK's, the JWK's beats the thumbprint.
        assert_eq!(KeyPair::import(&jwk, None).unwrap().kid(), "from-jwk");
        assert_eq!(KeyPair::import(&b64, None).unwrap().kid(), "from-jwk");
        assert_eq!(
            KeyPair::import(&jwk, Some("mine".into())).unwrap().kid(),
            "mine"
        );
        assert_eq!(KeyPair::import(&pkcs1, None).unwrap().kid(), k.thumbprint());
    }

    #[test]
    fn import_rejections_say_why() {
        let k = shared();
        let public_jwk = serde_json::to_string(&k.public_jwk()).unwrap();
        let public_pem =
            rsa::pkcs8::EncodePublicKey::to_public_key_pem(&k.key.to_public_key(), LineEnding::LF)
                .unwrap();
        let small = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let small_pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
        let ec_jwk = r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}"#;
        let mut wrong_d = rfc_jwk(false);
        wrong_d["d"] = RFC7517_P.into();
        type Check = fn(&KeyError) -> bool;
        let cases: &[(&str, String, Check, &str)] = &[
            ("public jwk", public_jwk.clone(), |e| matches!(e, KeyError::PublicOnly { .. }), "public key"),
            ("public jwks", format!(r#"{{"keys":[{public_jwk}]}}"#), |e| matches!(e, KeyError::PublicOnly { .. }), "private key"),
            ("public pem", public_pem, |e| matches!(e, KeyError::PublicOnly { .. }), "public key"),
            ("certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----".into(), |e| matches!(e, KeyError::PublicOnly { .. }), "certificate"),
            ("1024-bit pem", small_pem.to_string(), |e| matches!(e, KeyError::TooSmall { bits: 1024, .. }), "at least 2048"),
            ("ec jwk", ec_jwk.into(), |e| matches!(e, KeyError::NotRsa { .. }), "not an RSA key"),
            ("ed25519 pem", ED25519_PEM.into(), |e| matches!(e, KeyError::NotRsa { .. }), "Ed25519"),
            ("ec pem", "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----".into(), |e| matches!(e, KeyError::NotRsa { .. }), "EC key"),
            ("encrypted pkcs8", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----".into(), |e| matches!(e, KeyError::Encrypted { .. }), "openssl pkey"),
            ("encrypted pkcs1", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----".into(), |e| matches!(e, KeyError::Encrypted { .. }), "passphrase"),
            ("openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----".into(), |e| matches!(e, KeyError::Invalid { .. }), "ssh-keygen"),
            ("truncated pem", "-----BEGIN PRIVATE KEY-----\nMIIE".into(), |e| matches!(e, KeyError::Invalid { .. }), "END"),
            ("inconsistent jwk", wrong_d.to_string(), |e| matches!(e, KeyError::Invalid { .. }), "valid RSA key"),
            ("jwk without kty", r#"{"n":"AQAB","e":"AQAB","d":"AQAB"}"#.into(), |e| matches!(e, KeyError::Invalid { .. }), "kty"),
            ("bad json", "{not json".into(), |e| matches!(e, KeyError::Invalid { .. }), "JSON"),
            ("garbage", "garbage!".into(), |e| matches!(e, KeyError::Invalid { .. }), "neither PEM"),
            ("base64 of nonsense", "aGVsbG8gd29ybGQ=".into(), |e| matches!(e, KeyError::Invalid { .. }), "decoded"),
            ("empty", "  ".into(), |e| matches!(e, KeyError::Invalid { .. }), "empty"),
        ];
        for (name, text, check, needle) in cases {
            let e = KeyPair::import(text, None).expect_err(name);
            assert!(check(&e), "{name}: wrong variant {e:?}");
            let msg = e.to_string();
            assert!(msg.contains(needle), "{name}: {msg}");
            assert!(msg.contains("fix:"), "{name}: no fix in {msg}");
        }
        // A bad kid is refused like any other input.
        let e = KeyPair::import(&rfc_jwk(true).to_string(), Some("has space".into()));
        assert!(matches!(e, Err(KeyError::BadKid(_))));
    }

    #[test]
    fn a_signed_jwt_verifies_with_only_the_public_jwk() {
        let k = shared();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(k.kid().into());
        let claims = serde_json::json!({"iss": "c", "aud": "a", "exp": 4_000_000_000u64});
        let token = jsonwebtoken::encode(&header, &claims, &k.encoding_key().unwrap()).unwrap();
        // Only what the portal gets: the serialized public JWK.
        let exported = serde_json::to_string(&k.public_jwks()).unwrap();
        let jwks: Jwks = serde_json::from_str(&exported).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["a"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jwks.keys[0].decoding_key().unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["iss"], "c");
        assert_eq!(data.header.kid.as_deref(), Some(k.kid()));
        // And it does not verify with another key.
        let other = KeyPair::import(&rfc_jwk(true).to_string(), None).unwrap();
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &other.public_jwk().decoding_key().unwrap(),
                &v
            )
            .is_err()
        );
    }

    #[test]
    fn git_work_tree_detection() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        let repo = repo.canonicalize().unwrap();
        assert_eq!(
            enclosing_git_work_tree(&repo.join("sub/not-yet/key.pem")),
            Some(repo.clone())
        );
        assert_eq!(
            enclosing_git_work_tree(&repo.join("key.pem")),
            Some(repo.clone())
        );
        // `..` leaves the work tree.
        let outside = repo.join("sub/../../elsewhere/key.pem");
        assert_ne!(enclosing_git_work_tree(&outside), Some(repo.clone()));
        // A worktree or submodule has a `.git` file instead of a directory.
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join(".git"), "gitdir: elsewhere").unwrap();
        assert_eq!(
            enclosing_git_work_tree(&wt.join("k.pem")),
            Some(wt.canonicalize().unwrap())
        );
    }
}
