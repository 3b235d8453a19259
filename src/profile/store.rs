//! Profile persistence: one JSON file per profile under the config directory, written
//! atomically (temp file + fsync + rename + fsync of the directory) while holding a lock file,
//! versioned, and never silently overwritten when it is damaged or from a newer version.
//!
//! # Locking
//! Each profile has a lock file `profiles/<name>.lock` beside `profiles/<name>.json`, locked
//! with the OS's advisory file lock (`File::lock`, i.e. `flock` on Unix) so the kernel releases
//! it when a process dies, however it dies. The holder writes its pid into the file so a second
//! copy can say whom it is waiting for. Lock files are never deleted: deleting one while
//! another process waits on it would let two processes hold "the" lock at once.
//!
//! The lock is owned by the *process*: [`ProfileStore::lock`] in a process that already holds
//! the profile returns another guard on the same OS lock (re-entrant, from any thread), and the
//! OS lock is released when the last guard is dropped. That is what lets a command hold the
//! profile for its whole run while the effect runner, on whatever thread, calls
//! [`ProfileStore::save`]: `save` takes the same (shared) lock for the duration of the write.
//! Writes of one profile within the process are additionally serialised by a mutex, so two
//! threads saving at once produce one whole file or the other, never a mix.
//!
//! # Format versions
//! Every file carries `"version"`. A file without one (hand-written, or from a pre-release
//! build) is format 0 and is migrated in memory by [`migrate`]; it is rewritten as the current
//! format only on the next save, and the original is first kept as `<name>.json.v0.bak`.
//! A file from a newer format is refused (load and save), and a damaged file is never replaced.

use super::{PROFILE_FORMAT_VERSION, Profile};
use crate::env::EnvSetting;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "cannot access {path}: {source}\n  fix: check that the directory exists and is writable by you, and that the disk is not full"
    )]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A planted link or a directory others may write (see `crate::files::UnsafePath`); its
    /// message carries the fix.
    #[error("{0}")]
    Unsafe(crate::files::UnsafePath),
    #[error(
        "{path} is not a valid profile{}: {reason}; it was left untouched\n  fix: move it away (e.g. `mv {path} {path}.broken`) or repair it, then run again",
        location(*.line, *.column)
    )]
    Corrupt {
        path: PathBuf,
        /// 1-based; 0 when the problem has no position (e.g. a missing member).
        line: usize,
        column: usize,
        reason: String,
    },
    #[error(
        "{path} was written by a newer altinn-onboard (profile format {found}; this version reads up to {supported}); it was left untouched\n  fix: upgrade altinn-onboard"
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "invalid profile name `{0}`: use 1-64 of letters, digits, _ and -\n  fix: choose a name like `default` or `demo-tt02`"
    )]
    BadName(String),
    #[error(
        "no config directory could be determined for this user (is $HOME set?)\n  fix: set {} to a directory",
        ProfileStore::HOME_ENV
    )]
    NoConfigDir,
}

fn location(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (line {line}, column {column})")
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProfileError + '_ {
    move |source| match crate::files::unsafe_path(&source) {
        Some(u) => ProfileError::Unsafe(u.clone()),
        None => ProfileError::Io {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Process-wide state per lock file: a gate serialising acquisition, the live OS lock (if this
/// process holds it) and a mutex serialising writes of the profile.
#[derive(Default)]
struct PathState {
    gate: Mutex<()>,
    held: Mutex<Weak<Held>>,
    writer: Mutex<()>,
}

fn path_state(lock_path: &Path) -> Arc<PathState> {
    static STATES: OnceLock<Mutex<HashMap<PathBuf, Arc<PathState>>>> = OnceLock::new();
    let mut map = STATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(lock_path.to_path_buf()).or_default().clone()
}

/// The OS lock on one lock file; unlocked (by closing the file) when the last guard drops.
struct Held {
    file: File,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it explicit.
        let _ = self.file.unlock();
    }
}

/// An exclusive (between processes) lock on one profile, released on drop. Guards within one
/// process share the lock; see the module documentation.
pub struct ProfileLock {
    _held: Arc<Held>,
    name: String,
    path: PathBuf,
}

impl ProfileLock {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for ProfileLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileLock")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

/// Where profiles, keys, caches and logs live.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl ProfileStore {
    /// Overrides the directories (tests, power users): config in `$X/config`, data in `$X/data`.
    pub const HOME_ENV: &'static str = "ALTINN_ONBOARD_HOME";

    /// `$ALTINN_ONBOARD_HOME/{config,data}` if set, else the platform's directories
    /// (`~/.config/altinn-onboard` and `~/.local/share/altinn-onboard` on Linux).
    pub fn from_env() -> Result<Self, ProfileError> {
        if let Some(home) = std::env::var_os(Self::HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::at(Path::new(&home)));
        }
        let dirs = directories::ProjectDirs::from("no", "altinn-onboard", "altinn-onboard")
            .ok_or(ProfileError::NoConfigDir)?;
        Ok(ProfileStore {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }

    /// `root/config` and `root/data`.
    pub fn at(root: &Path) -> Self {
        ProfileStore {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
        }
    }

    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn profiles_dir(&self) -> PathBuf {
        self.config_dir.join("profiles")
    }

    /// `config/profiles/<name>.json`. The name is not validated here; `load`/`save` do.
    pub fn profile_path(&self, name: &str) -> PathBuf {
        self.profiles_dir().join(format!("{name}.json"))
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.profiles_dir().join(format!("{name}.lock"))
    }

    /// `config/keys/<profile>-<kid>.pem`, with the kid reduced to `[A-Za-z0-9_-]` (max 48).
    pub fn default_key_path(&self, profile: &str, kid: &str) -> PathBuf {
        let safe: String = kid
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(48)
            .collect();
        let safe = if safe.is_empty() { "key".into() } else { safe };
        self.config_dir
            .join("keys")
            .join(format!("{profile}-{safe}.pem"))
    }

    /// `data/cache/<profile>.tokens.json` (0600; written by the token cache).
    pub fn token_cache_path(&self, profile: &str) -> PathBuf {
        self.data_dir
            .join("cache")
            .join(format!("{profile}.tokens.json"))
    }

    pub fn sandbox_state_path(&self) -> PathBuf {
        self.data_dir.join("sandbox-state.json")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// Refuse to work in a config or data directory (or their profiles, keys, cache and logs
    /// directories) that group or others may write, as OpenSSH refuses a shared `~/.ssh`:
    /// another local user could plant a link or a profile there. The error names the directory
    /// and the `chmod 700` that fixes it. Missing directories are fine (they are made 0700).
    pub fn check_dirs(&self) -> Result<(), ProfileError> {
        let dirs = [
            self.config_dir.clone(),
            self.profiles_dir(),
            self.config_dir.join("keys"),
            self.data_dir.clone(),
            self.data_dir.join("cache"),
            self.log_dir(),
        ];
        for dir in &dirs {
            crate::files::check_private_dir(dir).map_err(io(dir))?;
        }
        Ok(())
    }

    fn check_name(name: &str) -> Result<(), ProfileError> {
        match crate::validate::profile_name(name) {
            // The validator trims; a file name must be exactly the name.
            Ok(n) if n == name => Ok(()),
            _ => Err(ProfileError::BadName(name.chars().take(80).collect())),
        }
    }

    /// Names of the saved profiles, sorted.
    pub fn list(&self) -> Result<Vec<String>, ProfileError> {
        let dir = self.profiles_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&dir)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(&dir))?;
            if let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|n| Self::check_name(n).is_ok())
            {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Parse a profile file, migrating older formats. The file name is authoritative for the
    /// profile's name (a copied `a.json` saved as `b.json` is profile `b`).
    fn parse(path: &Path, name: &str, bytes: &[u8]) -> Result<Profile, ProfileError> {
        let corrupt = |line, column, reason: String| ProfileError::Corrupt {
            path: path.to_path_buf(),
            line,
            column,
            reason,
        };
        let from_serde = |e: serde_json::Error| {
            let position = format!(" at line {} column {}", e.line(), e.column());
            let msg = e.to_string();
            let msg = msg.strip_suffix(&position).unwrap_or(&msg);
            let reason = match e.classify() {
                serde_json::error::Category::Data => msg.to_string(),
                _ => format!("it is not valid JSON ({msg})"),
            };
            corrupt(e.line(), e.column(), reason)
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(from_serde)?;
        let version = stored_version(&value).map_err(|reason| corrupt(0, 0, reason))?;
        if version > PROFILE_FORMAT_VERSION {
            return Err(ProfileError::NewerFormat {
                path: path.to_path_buf(),
                found: version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        // Formats 1 and 2 are format 3 without `environments` and `customers` (see `migrate`),
        // so they are read as is, and their customers adopted below.
        let mut profile: Profile = if (1..=PROFILE_FORMAT_VERSION).contains(&version) {
            // Straight from the bytes, so type errors come with a line and column.
            serde_json::from_slice(bytes).map_err(from_serde)?
        } else {
            let mut value = value;
            if let Some(obj) = value.as_object_mut() {
                obj.entry("name").or_insert_with(|| name.into());
            }
            let migrated = migrate(value, version).map_err(|reason| {
                corrupt(
                    0,
                    0,
                    format!("it cannot be migrated from format {version}: {reason}"),
                )
            })?;
            serde_json::from_value(migrated).map_err(from_serde)?
        };
        profile.name = name.to_string();
        if version < 3 {
            // Format 3 added `customers`: the single customer and its requests become entries.
            profile.adopt_legacy_customers();
        }
        Ok(profile)
    }

    /// The saved profile, or `None` if there is none by that name. Reads need no lock: files
    /// are only ever replaced whole.
    pub fn load(&self, name: &str) -> Result<Option<Profile>, ProfileError> {
        Self::check_name(name)?;
        let path = self.profile_path(name);
        match crate::files::read_capped_nofollow(&path, crate::files::MAX_SMALL_FILE) {
            Ok(bytes) => Self::parse(&path, name, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The saved profile, or a new (unsaved) one for `env`.
    pub fn load_or_new(&self, name: &str, env: EnvSetting) -> Result<Profile, ProfileError> {
        Ok(self.load(name)?.unwrap_or_else(|| Profile::new(name, env)))
    }

    /// Save atomically, mode 0600, under the profile's lock (shared with a lock this process
    /// already holds, so saving inside a [`ProfileStore::lock`] scope works). Sets `version` and
    /// `updated_at`. Refuses to replace a file that is damaged or from a newer version,
    /// checked under the lock. An older-format file is kept as `<name>.json.v<N>.bak` first.
    pub fn save(&self, profile: &mut Profile) -> Result<(), ProfileError> {
        Self::check_name(&profile.name)?;
        let name = profile.name.clone();
        let guard = self.lock(&name)?;
        let state = path_state(guard.path());
        let _writing = state.writer.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.profile_path(&name);
        match crate::files::read_capped_nofollow(&path, crate::files::MAX_SMALL_FILE) {
            Ok(bytes) => {
                let old_version = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| stored_version(&v).ok());
                Self::parse(&path, &name, &bytes)?;
                if let Some(v) = old_version.filter(|v| *v < PROFILE_FORMAT_VERSION) {
                    let backup = path.with_file_name(format!("{name}.json.v{v}.bak"));
                    if !backup.exists() {
                        write_atomic(&backup, &bytes, 0o600).map_err(io(&backup))?;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let mut updated = profile.clone();
        updated.sync_customers();
        updated.version = PROFILE_FORMAT_VERSION;
        updated.updated_at = chrono::Utc::now();
        let mut bytes =
            serde_json::to_vec_pretty(&updated).map_err(|e| io(&path)(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        remove_orphaned_temp_files(&path);
        write_atomic(&path, &bytes, 0o600).map_err(io(&path))?;
        // Only once it is on disk does the caller's copy say so.
        *profile = updated;
        Ok(())
    }

    /// Delete a profile (and its token cache). Its key file is left alone: it may be
    /// registered with Maskinporten and used elsewhere. Returns whether the profile existed.
    pub fn remove(&self, name: &str) -> Result<bool, ProfileError> {
        Self::check_name(name)?;
        let guard = self.lock(name)?;
        let state = path_state(guard.path());
        let _writing = state.writer.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.profile_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                let cache = self.token_cache_path(name);
                match std::fs::remove_file(&cache) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&cache)(e)),
                }
                sync_dir(path.parent().unwrap_or(Path::new(".")));
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Hold the profile, e.g. for a whole command or wizard session. Blocks while another
    /// process holds it, after logging (`tracing::warn!`, which the CLI prints on stderr) who
    /// it is waiting for. Re-entrant within the process.
    pub fn lock(&self, name: &str) -> Result<ProfileLock, ProfileError> {
        Self::check_name(name)?;
        match self.lock_inner(name, true)? {
            Some(lock) => Ok(lock),
            // lock_inner(wait = true) only returns None when told not to wait.
            None => Err(io(&self.lock_path(name))(std::io::Error::from(
                std::io::ErrorKind::WouldBlock,
            ))),
        }
    }

    /// Like [`ProfileStore::lock`] but returns `None` at once when another process holds the
    /// profile (or another thread of this one is in the middle of acquiring it).
    pub fn try_lock(&self, name: &str) -> Result<Option<ProfileLock>, ProfileError> {
        Self::check_name(name)?;
        self.lock_inner(name, false)
    }

    fn lock_inner(&self, name: &str, wait: bool) -> Result<Option<ProfileLock>, ProfileError> {
        self.check_dirs()?;
        let dir = self.profiles_dir();
        create_private_dir(&dir).map_err(io(&dir))?;
        // One key per lock file however the store's root was spelled.
        let dir = dir.canonicalize().map_err(io(&dir))?;
        let path = dir.join(format!("{name}.lock"));
        let state = path_state(&path);
        let _gate = if wait {
            state.gate.lock().unwrap_or_else(|p| p.into_inner())
        } else {
            match state.gate.try_lock() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            }
        };
        let mut held = state.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = held.upgrade() {
            return Ok(Some(ProfileLock {
                _held: h,
                name: name.to_string(),
                path,
            }));
        }
        // Never through a link: a planted `<name>.lock` link would get its target truncated
        // and overwritten with our pid below.
        let mut file = crate::files::open_nofollow(
            &path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) if wait => {
                let mut holder = String::new();
                // A pid: a few bytes. Bounded, as every read of a file is.
                let _ = (&file).take(64).read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() || holder.len() > 12 {
                    "unknown".to_string()
                } else {
                    holder.to_string()
                };
                tracing::warn!(
                    "profile `{name}` is in use by another altinn-onboard (pid {holder}); waiting for it to finish..."
                );
                file.lock().map_err(io(&path))?;
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        // Record the holder for whoever waits next. Best effort: the lock itself is what counts.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        let h = Arc::new(Held { file });
        *held = Arc::downgrade(&h);
        Ok(Some(ProfileLock {
            _held: h,
            name: name.to_string(),
            path,
        }))
    }
}

/// The `version` member: absent means format 0.
fn stored_version(value: &serde_json::Value) -> Result<u32, String> {
    let Some(obj) = value.as_object() else {
        return Err("a profile must be a JSON object".into());
    };
    match obj.get("version") {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("`version` must be a whole number, found {v}")),
    }
}

/// Bring a profile document of format `from` up to [`PROFILE_FORMAT_VERSION`].
///
/// Format 0 is a profile without a `version` member: hand-written, or from a pre-release
/// build. It is accepted: the version is set and missing timestamps are filled with "now";
/// everything else in format 1 is optional. Later formats add one step each here
/// (`2 => ...`), so that any older file is walked forward one version at a time.
pub fn migrate(mut value: serde_json::Value, from: u32) -> Result<serde_json::Value, String> {
    let Some(obj) = value.as_object_mut() else {
        return Err("a profile must be a JSON object".into());
    };
    if from > PROFILE_FORMAT_VERSION {
        return Err(format!(
            "format {from} is newer than this version understands ({PROFILE_FORMAT_VERSION})"
        ));
    }
    let mut version = from;
    while version < PROFILE_FORMAT_VERSION {
        match version {
            0 => {
                let now = serde_json::Value::String(chrono::Utc::now().to_rfc3339());
                obj.entry("created_at").or_insert_with(|| now.clone());
                obj.entry("updated_at").or_insert(now);
            }
            // Format 2 only added `environments` (empty here): a format-1 file's fields are
            // the current environment's progress, as before.
            1 => {}
            // Format 3 added `customers`; the typed step after parsing
            // (`Profile::adopt_legacy_customers`) fills it from `customer_org` and `requests`.
            2 => {}
            other => return Err(format!("no migration from format {other}")),
        }
        version += 1;
    }
    obj.insert("version".into(), PROFILE_FORMAT_VERSION.into());
    Ok(value)
}

use crate::files::{create_private_dir, remove_orphaned_temp_files, sync_dir};
pub use crate::files::{write_atomic, write_atomic_new};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvKind;

    #[test]
    fn migrate_policy() {
        // Format 0: accepted, timestamps filled, version set.
        let v = migrate(serde_json::json!({"name": "x"}), 0).unwrap();
        assert_eq!(v["version"], PROFILE_FORMAT_VERSION);
        assert!(v["created_at"].is_string());
        // Current format: unchanged.
        let p = serde_json::to_value(Profile::new("x", EnvSetting::new(EnvKind::Tt02))).unwrap();
        assert_eq!(migrate(p.clone(), PROFILE_FORMAT_VERSION).unwrap(), p);
        assert!(migrate(serde_json::json!([]), 0).is_err());
        assert!(migrate(serde_json::json!({}), PROFILE_FORMAT_VERSION + 1).is_err());
    }

    #[test]
    fn stored_versions() {
        assert_eq!(stored_version(&serde_json::json!({})), Ok(0));
        assert_eq!(stored_version(&serde_json::json!({"version": 1})), Ok(1));
        assert!(stored_version(&serde_json::json!({"version": "1"})).is_err());
        assert!(stored_version(&serde_json::json!({"version": -1})).is_err());
        assert!(stored_version(&serde_json::json!({"version": 4294967297u64})).is_err());
    }

    #[test]
    fn corrupt_display_omits_unknown_position() {
        let e = ProfileError::Corrupt {
            path: "/p.json".into(),
            line: 0,
            column: 0,
            reason: "r".into(),
        };
        assert!(!e.to_string().contains("line 0"), "{e}");
        let e = ProfileError::Corrupt {
            path: "/p.json".into(),
            line: 3,
            column: 7,
            reason: "r".into(),
        };
        assert!(e.to_string().contains("line 3, column 7"), "{e}");
    }
}
