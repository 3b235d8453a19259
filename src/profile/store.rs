//! Profile persistence: one JSON file per profile under the config directory, written
//! atomically (temp file + fsync + rename + fsync of the directory) while holding a lock file,
//! versioned, and never silently overwritten when it is damaged or from a newer version.

use super::{PROFILE_FORMAT_VERSION, Profile};
use crate::env::EnvSetting;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid profile (line {line}, column {column}: {reason}); it was left untouched\n  fix: move it away or repair it, then run again"
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error(
        "{path} was written by a newer altinn-onboard (format {found}, this one reads up to {supported}); it was left untouched\n  fix: upgrade altinn-onboard"
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("invalid profile name `{0}`: use 1-64 of letters, digits, _ and -")]
    BadName(String),
    #[error(
        "no config directory could be determined for this user\n  fix: set ALTINN_ONBOARD_HOME to a directory"
    )]
    NoConfigDir,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProfileError + '_ {
    move |source| ProfileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lock files this process holds, so `save` inside a `lock` scope does not deadlock on itself.
fn held() -> &'static Mutex<HashSet<PathBuf>> {
    static HELD: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashSet::new()))
}

/// An exclusive lock on one profile, released on drop.
pub struct ProfileLock {
    file: Option<Arc<File>>,
    path: PathBuf,
}

impl Drop for ProfileLock {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            let _ = f.unlock();
            held()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&self.path);
        }
    }
}

pub struct ProfileStore {
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl ProfileStore {
    /// Overrides the directories (tests, power users): config in `$X/config`, data in `$X/data`.
    pub const HOME_ENV: &'static str = "ALTINN_ONBOARD_HOME";

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

    pub fn profile_path(&self, name: &str) -> PathBuf {
        self.config_dir
            .join("profiles")
            .join(format!("{name}.json"))
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.config_dir
            .join("profiles")
            .join(format!("{name}.lock"))
    }

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
        self.config_dir
            .join("keys")
            .join(format!("{profile}-{safe}.pem"))
    }

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

    fn check_name(name: &str) -> Result<(), ProfileError> {
        crate::validate::profile_name(name)
            .map(|_| ())
            .map_err(|_| ProfileError::BadName(name.to_string()))
    }

    pub fn list(&self) -> Result<Vec<String>, ProfileError> {
        let dir = self.config_dir.join("profiles");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&dir)(e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .filter(|n| Self::check_name(n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Parse a profile file, migrating older formats.
    fn parse(path: &Path, bytes: &[u8]) -> Result<Profile, ProfileError> {
        let corrupt = |e: serde_json::Error| ProfileError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
        let version = value
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as u32;
        if version > PROFILE_FORMAT_VERSION {
            return Err(ProfileError::NewerFormat {
                path: path.to_path_buf(),
                found: version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        let value = migrate(value, version).map_err(|reason| ProfileError::Corrupt {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            reason,
        })?;
        serde_json::from_value(value).map_err(corrupt)
    }

    pub fn load(&self, name: &str) -> Result<Option<Profile>, ProfileError> {
        Self::check_name(name)?;
        let path = self.profile_path(name);
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    pub fn load_or_new(&self, name: &str, env: EnvSetting) -> Result<Profile, ProfileError> {
        Ok(self.load(name)?.unwrap_or_else(|| Profile::new(name, env)))
    }

    /// Save atomically under the profile's lock. Refuses to replace a file that is damaged or
    /// from a newer version (checked under the lock).
    pub fn save(&self, profile: &mut Profile) -> Result<(), ProfileError> {
        Self::check_name(&profile.name)?;
        let _guard = self.lock_inner(&profile.name, true)?;
        let path = self.profile_path(&profile.name);
        if let Ok(bytes) = std::fs::read(&path) {
            Self::parse(&path, &bytes)?;
        }
        profile.version = PROFILE_FORMAT_VERSION;
        profile.updated_at = chrono::Utc::now();
        let bytes =
            serde_json::to_vec_pretty(profile).map_err(|e| io(&path)(std::io::Error::other(e)))?;
        write_atomic(&path, &bytes, 0o600).map_err(io(&path))
    }

    pub fn remove(&self, name: &str) -> Result<bool, ProfileError> {
        Self::check_name(name)?;
        let _guard = self.lock_inner(name, true)?;
        let path = self.profile_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                let _ = std::fs::remove_file(self.token_cache_path(name));
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Hold the profile for a whole command or wizard session. Waits (saying so on stderr via
    /// the log) while another process holds it.
    pub fn lock(&self, name: &str) -> Result<ProfileLock, ProfileError> {
        Self::check_name(name)?;
        self.lock_inner(name, true)
    }

    /// Like [`ProfileStore::lock`] but gives up at once when another process holds it.
    pub fn try_lock(&self, name: &str) -> Result<Option<ProfileLock>, ProfileError> {
        Self::check_name(name)?;
        match self.lock_inner(name, false) {
            Ok(l) => Ok(Some(l)),
            Err(ProfileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::WouldBlock =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn lock_inner(&self, name: &str, wait: bool) -> Result<ProfileLock, ProfileError> {
        let path = self.lock_path(name);
        if held()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&path)
        {
            // Already held by this process (e.g. save inside a command's lock): re-entrant.
            return Ok(ProfileLock { file: None, path });
        }
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(io(dir))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) if wait => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let msg = format!(
                    "profile `{name}` is in use by another altinn-onboard (pid {}); waiting for it to finish...",
                    holder.trim()
                );
                tracing::warn!("{msg}");
                eprintln!("{msg}");
                file.lock().map_err(io(&path))?;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io(&path)(std::io::Error::from(
                    std::io::ErrorKind::WouldBlock,
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        // Record the holder for the next one who waits.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        held()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone());
        Ok(ProfileLock {
            file: Some(Arc::new(file)),
            path,
        })
    }
}

/// Bring an older profile document up to the current format. Version 0 (no `version` field)
/// is what a hand-written profile looks like: accepted as version 1 when it parses.
pub fn migrate(mut value: serde_json::Value, from: u32) -> Result<serde_json::Value, String> {
    if !value.is_object() {
        return Err("a profile must be a JSON object".into());
    }
    if from < 1 {
        value["version"] = PROFILE_FORMAT_VERSION.into();
    }
    Ok(value)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Write `bytes` to `path` atomically: a temp file in the same directory created with `mode`,
/// written and fsynced, renamed over the target, then the directory fsynced. A crash at any
/// point leaves either the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-").suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let _ = mode;
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
