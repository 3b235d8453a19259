//! The sandbox's whole world, behind one lock, optionally persisted to a JSON file.
//!
//! Nothing here stores an absolute URL: a later process on the same state file listens on a new
//! port, so confirm URLs, `links.next`, `Location` and the issuer are built per request.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::SandboxError;
use super::models::{AccessPackage, Right};

pub const STATE_FORMAT_VERSION: u32 = 1;

/// A Maskinporten client as the self-service portal would hold it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    /// The vendor organisation that owns the client (becomes the token's `consumer`).
    pub org: String,
    pub scopes: Vec<String>,
    /// Public JWKs (RSA), each with a `kid`.
    pub keys: Vec<serde_json::Value>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct System {
    pub internal_id: Uuid,
    pub id: String,
    /// `0192:<orgno>` as sent in `vendor.ID`.
    pub vendor_id: String,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub client_id: Vec<String>,
    pub is_visible: bool,
    pub allowed_redirect_urls: Vec<String>,
    pub is_deleted: bool,
    pub created: DateTime<Utc>,
}

impl System {
    pub fn vendor_org(&self) -> &str {
        self.vendor_id
            .split_once(':')
            .map(|(_, org)| org)
            .unwrap_or("")
    }

    pub fn display_name(&self) -> String {
        ["nb", "en", "nn"]
            .iter()
            .find_map(|l| self.name.get(*l))
            .or_else(|| self.name.values().next())
            .cloned()
            .unwrap_or_else(|| self.id.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    Standard,
    Agent,
}

/// A standard or agent system-user request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub id: Uuid,
    pub kind: RequestKind,
    pub integration_title: Option<String>,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    /// `New`, `Accepted`, `Rejected`, `Denied`, `Timedout` (src/Core/Models/SystemUsers/RequestStatus.cs)
    pub status: String,
    pub redirect_url: Option<String>,
    pub created: DateTime<Utc>,
    pub deleted: bool,
    pub system_user_id: Option<Uuid>,
    /// sandbox-only: why the last approval attempt failed (the request stayed New).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<Refusal>,
}

/// sandbox-only: an approval the customer tried and Altinn refused, as the customer saw it.
/// Kept on the request (which stays New, RequestSystemUserService.cs:550) so the vendor can
/// learn why through `GET /sandbox/requests/{id}` — the real vendor API does not tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// e.g. "AUTH-00071"
    pub code: String,
    pub status: u16,
    /// The problem's title, verbatim from Problem.cs.
    pub title: String,
    /// What went wrong, in words.
    pub detail: String,
    /// The single right (resource id) or access package (urn) at fault, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What must change, and who must change it (vendor or customer).
    pub fix: String,
    /// The seeded person who tried (handle) and their name.
    pub person: String,
    pub person_name: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub id: Uuid,
    pub system_user_id: Uuid,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_access_packages: Vec<AccessPackage>,
    pub unwanted_access_packages: Vec<AccessPackage>,
    pub status: String,
    pub redirect_url: Option<String>,
    pub created: DateTime<Utc>,
    pub deleted: bool,
    /// sandbox-only: see [`Refusal`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<Refusal>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemUser {
    pub id: Uuid,
    /// Sequence number used as the `bysystem` pagination token (Opaque<long>).
    pub seq: i64,
    pub integration_title: String,
    pub system_id: String,
    pub reportee_org_no: String,
    pub supplier_org_no: String,
    pub external_ref: String,
    /// "standard" | "agent"
    pub user_type: String,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub created: DateTime<Utc>,
    pub is_deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// PKCS#8 PEM of the sandbox's token-signing key. Persisted so tokens stay valid across
    /// processes that share a state file. A sandbox key, never a real secret — but still never
    /// logged.
    pub signing_key_pem: String,
    #[serde(default)]
    pub clients: BTreeMap<String, Client>,
    #[serde(default)]
    pub systems: BTreeMap<String, System>,
    #[serde(default)]
    pub requests: BTreeMap<Uuid, Request>,
    #[serde(default)]
    pub change_requests: BTreeMap<Uuid, ChangeRequest>,
    #[serde(default)]
    pub system_users: BTreeMap<Uuid, SystemUser>,
    /// Used grant ids: "<client_id> <jti>" -> the grant's `exp`, pruned once long expired.
    #[serde(default)]
    pub used_jtis: BTreeMap<String, i64>,
    #[serde(default)]
    pub next_system_user_seq: i64,
    /// The clients a facilitator added to each agent system user (issue 12; Access
    /// Management's client delegations), by system user id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agent_clients: BTreeMap<Uuid, AgentClients>,
}

/// What an agent system user may act for, besides nothing: the clients the facilitator
/// delegated (in the order added) and whether the facilitator assigned its own organisation
/// (the access-management UI's "self" delegation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentClients {
    /// Client organisation numbers.
    #[serde(default)]
    pub clients: Vec<String>,
    /// The facilitator's own organisation is assigned.
    #[serde(default)]
    pub own_org: bool,
}

impl State {
    pub fn new_with_fresh_key() -> Result<State, SandboxError> {
        let mut rng = rand::thread_rng();
        let key = RsaPrivateKey::new(&mut rng, 2048)
            .map_err(|e| SandboxError::Key(format!("could not generate the signing key: {e}")))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SandboxError::Key(format!("could not encode the signing key: {e}")))?;
        Ok(State {
            version: STATE_FORMAT_VERSION,
            signing_key_pem: pem.to_string(),
            clients: BTreeMap::new(),
            systems: BTreeMap::new(),
            requests: BTreeMap::new(),
            change_requests: BTreeMap::new(),
            system_users: BTreeMap::new(),
            used_jtis: BTreeMap::new(),
            next_system_user_seq: 1,
            agent_clients: BTreeMap::new(),
        })
    }

    /// Vendor org numbers that own a client: they count as "known in Register" for requests.
    pub fn is_known_org(&self, org: &str) -> bool {
        super::orgs::seeded_org_name(org).is_some() || self.clients.values().any(|c| c.org == org)
    }

    pub fn prune_jtis(&mut self, now: i64) {
        // saturating: a stored expiry near i64::MAX must stay, not wrap and be dropped.
        self.used_jtis
            .retain(|_, exp| exp.saturating_add(600) > now);
    }
}

/// The signing key in the forms the server needs.
pub struct SigningKey {
    pub kid: String,
    pub encoding: jsonwebtoken::EncodingKey,
    pub decoding: jsonwebtoken::DecodingKey,
    pub public_jwk: serde_json::Value,
}

impl SigningKey {
    pub fn from_pem(pem: &str) -> Result<SigningKey, SandboxError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| SandboxError::Key(format!("the stored signing key is unreadable: {e}")))?;
        let public = RsaPublicKey::from(&key);
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        // A stable kid derived from the public key, so it is the same in every process.
        let digest = Sha256::digest(public.n().to_bytes_be());
        let kid = format!("sandbox-{}", URL_SAFE_NO_PAD.encode(&digest[..12]));
        let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| SandboxError::Key(format!("the stored signing key is unusable: {e}")))?;
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| SandboxError::Key(format!("the stored signing key is unusable: {e}")))?;
        let public_jwk = serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e,
        });
        Ok(SigningKey {
            kid,
            encoding,
            decoding,
            public_jwk,
        })
    }
}

/// Identity of the state file's current content, cheap to compare (a fallback to the lock
/// file's generation counter, for a file rewritten by something that does not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    modified: std::time::SystemTime,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok()?,
            len: meta.len(),
            // Every save renames a new file into place, so the inode changes even when a
            // rewrite lands within the file system's timestamp granularity with the same size.
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })
    }
}

/// What this process last saw of the state file: the lock file's generation and the file's stamp.
/// Either differing from what is on disk means another process committed a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seen {
    pub generation: u64,
    pub stamp: Option<FileStamp>,
}

/// The lock file beside the state file: `<state file>.lock`.
pub fn lock_path(state_file: &Path) -> PathBuf {
    let mut name = state_file
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    state_file.with_file_name(name)
}

/// Open (creating, mode 0600) the lock file and take the OS advisory lock on it (`flock` on
/// Unix; released by the kernel when the file is closed, also if the process dies). Blocks while
/// another process holds it; callers in async code run this on a blocking thread.
pub fn open_locked(state_file: &Path) -> std::io::Result<std::fs::File> {
    let file = open_lock_file(state_file)?;
    file.lock()?;
    Ok(file)
}

/// Like [`open_locked`] but `None` instead of waiting when another process holds the lock.
pub fn try_open_locked(state_file: &Path) -> std::io::Result<Option<std::fs::File>> {
    let file = open_lock_file(state_file)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

fn open_lock_file(state_file: &Path) -> std::io::Result<std::fs::File> {
    let path = lock_path(state_file);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        super::files::create_private_dir(dir)?;
    }
    // No link followed: a planted `<state>.lock` link must not get its target truncated.
    super::files::open_nofollow(
        &path,
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
    )
}

/// The generation counter kept in the lock file (0 when empty or unreadable). Read with the
/// lock held.
pub fn read_generation(lock: &std::fs::File) -> u64 {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let mut f = lock;
    if f.rewind().is_err() || f.take(32).read_to_string(&mut text).is_err() {
        return 0;
    }
    text.trim().parse().unwrap_or(0)
}

/// Record a new generation in the lock file, after the state file was replaced. Written with
/// the lock held, so readers (who also hold it) never see a half-written number.
pub fn write_generation(state_file: &Path, generation: u64) -> std::io::Result<()> {
    let mut f = super::files::open_nofollow(
        &lock_path(state_file),
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )?;
    f.write_all(format!("{generation}\n").as_bytes())
}

/// What is on disk now, for comparison with [`Seen`]. With the lock held.
pub fn seen_now(state_file: &Path, lock: &std::fs::File) -> Seen {
    Seen {
        generation: read_generation(lock),
        stamp: FileStamp::of(state_file),
    }
}

/// Read and check the state file; `Ok(None)` when it does not exist.
pub fn load(path: &Path) -> Result<Option<State>, SandboxError> {
    let bytes = match super::files::read_capped_nofollow(path, super::files::MAX_STATE_FILE) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SandboxError::Io {
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    let state: State = serde_json::from_slice(&bytes).map_err(|e| SandboxError::CorruptState {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if state.version > STATE_FORMAT_VERSION {
        return Err(SandboxError::CorruptState {
            path: path.to_path_buf(),
            reason: format!(
                "format version {} is newer than this program understands ({STATE_FORMAT_VERSION})",
                state.version
            ),
        });
    }
    Ok(Some(state))
}

/// Load the state file, or create a fresh state (and file) when it does not exist. With a
/// file, this happens under the lock, so two processes starting at once on a missing file agree
/// on one signing key; returns what was seen on disk.
pub fn load_or_create(path: Option<&Path>) -> Result<(State, Seen), SandboxError> {
    let Some(path) = path else {
        return Ok((State::new_with_fresh_key()?, Seen::default()));
    };
    let lock = open_locked(path).map_err(|source| SandboxError::Io {
        path: lock_path(path),
        source,
    })?;
    let state = match load(path)? {
        Some(state) => state,
        None => {
            let state = State::new_with_fresh_key()?;
            save_atomically(path, &serialize(&state)?)?;
            let generation = read_generation(&lock) + 1;
            write_generation(path, generation).map_err(|source| SandboxError::Io {
                path: lock_path(path),
                source,
            })?;
            state
        }
    };
    let seen = seen_now(path, &lock);
    drop(lock);
    Ok((state, seen))
}

pub fn serialize(state: &State) -> Result<Vec<u8>, SandboxError> {
    serde_json::to_vec_pretty(state).map_err(|e| SandboxError::Key(format!("serialize: {e}")))
}

/// Temp file (0600: the state holds the sandbox's private signing key) in the same directory,
/// fsync, rename over the target (never through a link), fsync the directory.
pub fn save_atomically(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    super::files::write_atomic(path, bytes, 0o600).map_err(|source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    })
}
