//! Profile persistence. (Being implemented; see the owner's commit.)

use super::Profile;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile I/O error at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

pub struct ProfileLock {}

pub struct ProfileStore {
    root: PathBuf,
}

impl ProfileStore {
    pub fn at(root: &Path) -> Self {
        ProfileStore { root: root.to_path_buf() }
    }
    pub fn load(&self, _name: &str) -> Result<Option<Profile>, ProfileError> {
        let _ = &self.root;
        Ok(None)
    }
}

pub fn write_atomic(_path: &Path, _bytes: &[u8], _mode: u32) -> std::io::Result<()> {
    Ok(())
}
