//! A small on-disk cache of metadata answers: one file per URL (path and query) under
//! `<data dir>/cache/metadata/<environment>/`, written atomically (0600, the directory 0700),
//! fresh for a short time (an hour by default) and kept afterwards as the offline fallback.
//!
//! The metadata is public, so nothing secret is stored; the cache is only a cache: a file that
//! cannot be read or written is logged and skipped, never an error of its own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default lifetime of a cached answer.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// The largest cached answer read back (TT02's full resource list is a few MiB).
const MAX_ENTRY: u64 = 64 * 1024 * 1024;

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The URL's path and query (no host: the sandbox's port changes between runs).
    pub key: String,
    pub fetched_at: DateTime<Utc>,
    /// 200, 204 or 404.
    pub status: u16,
    /// The JSON body; `null` for 204 and 404.
    pub body: Value,
}

/// A cache directory for one environment.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    ttl: Duration,
}

impl Cache {
    /// `root` is `<data dir>/cache/metadata`; `env_label` names the environment (`tt02`,
    /// `sandbox`, `custom-host_port`).
    pub fn new(root: &Path, env_label: &str, ttl: Duration) -> Self {
        let label: String = env_label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Cache {
            dir: root.join(label),
            ttl,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// The cached answer for `key`, fresh or not.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let bytes = match crate::files::read_capped_nofollow(&path, MAX_ENTRY) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "metadata cache entry skipped");
                return None;
            }
        };
        match serde_json::from_slice::<Entry>(&bytes) {
            // A hash collision or a hand-edited file: not this key's answer.
            Ok(entry) if entry.key == key => Some(entry),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "damaged metadata cache entry skipped");
                None
            }
        }
    }

    /// Whether `entry` is younger than the lifetime, at `now`.
    pub fn is_fresh(&self, entry: &Entry, now: DateTime<Utc>) -> bool {
        let age = now.signed_duration_since(entry.fetched_at);
        age >= chrono::Duration::zero() && age.to_std().is_ok_and(|a| a < self.ttl)
    }

    /// Store an answer (atomically; failures are logged, not returned).
    pub fn put(&self, key: &str, status: u16, body: &Value) {
        let entry = Entry {
            key: key.to_string(),
            fetched_at: Utc::now(),
            status,
            body: body.clone(),
        };
        let path = self.path(key);
        let result = crate::files::create_private_dir(&self.dir).and_then(|()| {
            let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
            crate::files::write_atomic(&path, &bytes, 0o600)
        });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "could not write the metadata cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_round_trip_and_age() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Cache::new(tmp.path(), "custom-127.0.0.1:80", Duration::from_secs(60));
        assert!(c.dir().ends_with("custom-127.0.0.1_80"));
        assert!(c.get("/a?x=1").is_none());
        c.put("/a?x=1", 200, &json!([1, 2]));
        let e = c.get("/a?x=1").unwrap();
        assert_eq!((e.status, e.body.clone()), (200, json!([1, 2])));
        assert!(c.get("/a?x=2").is_none(), "keys are exact");
        assert!(c.is_fresh(&e, Utc::now()));
        assert!(!c.is_fresh(&e, Utc::now() + chrono::Duration::seconds(61)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = std::fs::read_dir(c.dir()).unwrap().next().unwrap().unwrap();
            assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Cache::new(tmp.path(), "tt02", DEFAULT_TTL);
        c.put("/k", 200, &json!({}));
        let f = std::fs::read_dir(c.dir()).unwrap().next().unwrap().unwrap();
        std::fs::write(f.path(), b"{not json").unwrap();
        assert!(c.get("/k").is_none());
    }
}
