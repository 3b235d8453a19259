//! File-system helpers every part of the tool uses:
//! - bounded reads: every file the tool (and the sandbox) reads goes through [`read_capped`],
//!   so a wrong path such as `/dev/zero`, a FIFO or a runaway file is a clear error naming the
//!   file and the limit instead of unbounded memory use;
//! - private directories: every directory the tool creates is made by [`create_private_dir`],
//!   mode 0700 (they hold keys, tokens, the sandbox's signing key and logs).
//!
//! - no planted links, no shared directories: the tool's own files (profile lock, temp, key,
//!   token cache, log, sandbox state and its lock) are opened with `O_NOFOLLOW`
//!   ([`open_nofollow`], [`read_capped_nofollow`]) and replaced only by a rename that refuses
//!   a link in the way ([`write_atomic`]), so a symlink planted in their place cannot make the
//!   tool truncate, overwrite or read another file; new files are 0600 in 0700 directories;
//!   and [`check_private_dir`] refuses a config or data directory that group or others may
//!   write, with the `chmod` that fixes it, as OpenSSH does.
//!
//! It lives in the sandbox because that is the crate every other part depends on; the main
//! crate re-exports it as `altinn_onboard::files`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Profiles, keys, system definitions, fault plans, token caches, lock and server files: real
/// ones are a few KiB.
pub const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// The sandbox's state file grows with its clients, systems and requests (a busy workshop
/// stays well under a few MiB).
pub const MAX_STATE_FILE: u64 = 64 * 1024 * 1024;

/// The whole file, or an error of kind [`io::ErrorKind::FileTooLarge`] naming the file and
/// the limit when it holds more than `limit` bytes. Reads at most `limit + 1` bytes, so
/// endless devices (`/dev/zero`) and pipes are stopped too, not just large regular files.
pub fn read_capped(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_file_capped(File::open(path)?, path, limit)
}

/// [`read_capped`] for the tool's own files: refuses a symlink in place of `path` (see
/// [`open_nofollow`]).
pub fn read_capped_nofollow(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_file_capped(
        open_nofollow(path, OpenOptions::new().read(true))?,
        path,
        limit,
    )
}

/// [`read_capped`] of a file already open (`path` names it in errors).
pub fn read_file_capped(file: File, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    // A regular file says its size up front: refuse before reading anything.
    let mut capacity = 0;
    if let Ok(meta) = file.metadata()
        && meta.is_file()
    {
        if meta.len() > limit {
            return Err(too_large(&path.display().to_string(), limit));
        }
        // Sized up front, so a key's bytes are not left behind in buffers outgrown on the way.
        capacity = meta.len() as usize + 1;
    }
    read_bounded(file, limit, &path.display().to_string(), capacity)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_to_string_capped(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text", path.display()),
        )
    })
}

/// At most `limit` bytes from any reader (stdin, for instance); `name` is used in the error.
pub fn read_capped_from(reader: impl Read, limit: u64, name: &str) -> io::Result<Vec<u8>> {
    read_bounded(reader, limit, name, 0)
}

fn read_bounded(reader: impl Read, limit: u64, name: &str, capacity: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(capacity);
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(too_large(name, limit));
    }
    Ok(buf)
}

/// `mkdir -p` with mode 0700 for every directory it creates (existing ones are left as
/// they are: the user may have chosen their modes).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Why the tool refused a path. Carried inside an [`io::Error`] (kind `PermissionDenied`),
/// so every caller that reports I/O errors reports these too; [`unsafe_path`] gets it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsafePath {
    /// A symbolic link where the tool keeps one of its own files.
    Symlink(PathBuf),
    /// A directory of the tool's that group or others may write (mode as found).
    SharedDir {
        /// The directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl std::fmt::Display for UnsafePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnsafePath::Symlink(path) => write!(
                f,
                "{p} is a symbolic link; refusing to follow it (a link planted in place of this file could make the tool overwrite or read another file)\n  fix: remove the link (`rm {p}`) and run again; to keep the file elsewhere, move the real file to this path instead of linking to it",
                p = path.display()
            ),
            UnsafePath::SharedDir { dir, mode } => write!(
                f,
                "{d} is writable by group or others (mode {mode:03o}), so another user could plant or replace files in it (keys, tokens, profiles); refusing to use it\n  fix: chmod 700 {d}",
                d = dir.display()
            ),
        }
    }
}

impl std::error::Error for UnsafePath {}

impl From<UnsafePath> for io::Error {
    fn from(u: UnsafePath) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, u)
    }
}

/// The [`UnsafePath`] inside an error from this module, if that is why it failed.
pub fn unsafe_path(e: &io::Error) -> Option<&UnsafePath> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<UnsafePath>())
}

/// Open one of the tool's own files without following a symlink in its last component
/// (`O_NOFOLLOW`), creating it (if `options` says so) with mode 0600. A link there is refused
/// with [`UnsafePath::Symlink`]: nothing is read, written or truncated through it. Links in the
/// directories above are followed (the directories are checked by [`check_private_dir`]).
pub fn open_nofollow(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
    }
    match options.open(path) {
        Ok(f) => Ok(f),
        // Linux and macOS answer ELOOP, FreeBSD EMLINK; ask the file system which it was.
        Err(_) if is_symlink(path) => Err(UnsafePath::Symlink(path.to_path_buf()).into()),
        Err(e) => Err(e),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Refuse a symlink at `path` (nothing there is fine). For callers about to replace the file by
/// a rename, which would not follow the link but would silently turn it into a file.
pub fn refuse_symlink(path: &Path) -> io::Result<()> {
    if is_symlink(path) {
        return Err(UnsafePath::Symlink(path.to_path_buf()).into());
    }
    Ok(())
}

/// Refuse a directory of the tool's (config, data, and their profiles, keys, cache and logs)
/// that group or others may write: another local user could plant links or files in it. Like
/// OpenSSH's StrictModes. A directory that does not exist yet is fine (it will be made 0700).
pub fn check_private_dir(dir: &Path) -> io::Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() && mode & 0o022 != 0 {
            return Err(UnsafePath::SharedDir {
                dir: dir.to_path_buf(),
                mode: mode & 0o777,
            }
            .into());
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// fsync a directory so a rename or unlink in it survives a crash. Best effort: some file
/// systems refuse to sync directories, and the data itself is already synced.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn temp_prefix(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{file_name}.")
}

const TEMP_SUFFIX: &str = ".tmp";

/// Temp files of `path` left by a writer that was killed mid-write. Only call this while
/// holding whatever excludes other writers of `path`, or a live writer's temp file could be
/// deleted. (Unlinking a planted link removes the link, never its target.)
pub fn remove_orphaned_temp_files(path: &Path) {
    let (Some(dir), prefix) = (path.parent(), temp_prefix(path)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMP_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn write_temp(path: &Path, bytes: &[u8], mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let prefix = temp_prefix(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Applied when the file is created (open(2) with this mode), not afterwards.
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    // tempfile creates with O_CREAT|O_EXCL under a random name: it never opens an existing
    // file or follows a link, so the temp file needs no O_NOFOLLOW of its own.
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Write `bytes` to `path` atomically: a temp file in the same directory created with `mode`,
/// written and fsynced, renamed over the target, then the directory fsynced. A crash at any
/// point leaves either the old or the new file (plus, at worst, an orphaned
/// `.<name>.XXXXXX.tmp`). Creates missing parent directories with mode 0700. A symlink at
/// `path` is refused ([`UnsafePath::Symlink`]) rather than replaced.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    refuse_symlink(path)?;
    let tmp = write_temp(path, bytes, mode)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Like [`write_atomic`] but fails with `AlreadyExists` instead of replacing an existing file
/// (the check and the rename are one atomic step; a link counts as existing).
pub fn write_atomic_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_temp(path, bytes, mode)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

fn too_large(name: &str, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "{name} is larger than {} (the limit for this file); is it the right file?",
            human(limit)
        ),
    )
}

fn human(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_devices_and_oversized_files_are_refused_with_the_name_and_limit() {
        let e = read_capped(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            e.to_string().contains("/dev/zero") && e.to_string().contains("4 KiB"),
            "{e}"
        );

        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b'x'; 4097]).unwrap();
        let e = read_capped(&big, 4096).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("big.json"), "{e}");

        // Exactly at the limit is fine.
        std::fs::write(&big, vec![b'x'; 4096]).unwrap();
        assert_eq!(read_capped(&big, 4096).unwrap().len(), 4096);
        assert_eq!(read_to_string_capped(&big, 4096).unwrap().len(), 4096);

        let e = read_capped_from(&[0u8; 11][..], 10, "stdin").unwrap_err();
        assert!(e.to_string().contains("stdin") && e.to_string().contains("10 bytes"));
        assert_eq!(human(MAX_SMALL_FILE), "1 MiB");
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_are_refused_and_their_targets_left_alone() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("x.lock");
        symlink(&target, &link).unwrap();

        let e = open_nofollow(
            &link,
            OpenOptions::new().write(true).create(true).truncate(true),
        )
        .unwrap_err();
        assert_eq!(unsafe_path(&e), Some(&UnsafePath::Symlink(link.clone())));
        let text = e.to_string();
        assert!(
            text.contains("symbolic link") && text.contains("rm "),
            "{text}"
        );
        let e = read_capped_nofollow(&link, 100).unwrap_err();
        assert!(unsafe_path(&e).is_some(), "{e}");
        let e = write_atomic(&link, b"pid", 0o600).unwrap_err();
        assert!(unsafe_path(&e).is_some(), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());

        // A plain file: created 0600, read back.
        let plain = dir.path().join("plain");
        let mut f = open_nofollow(&plain, OpenOptions::new().write(true).create(true)).unwrap();
        f.write_all(b"ok").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_capped_nofollow(&plain, 10).unwrap(), b"ok");
    }

    #[cfg(unix)]
    #[test]
    fn shared_directories_are_refused_with_the_chmod_that_fixes_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("config");
        check_private_dir(&d).unwrap(); // not there yet: fine
        create_private_dir(&d).unwrap();
        check_private_dir(&d).unwrap();
        for mode in [0o775, 0o757, 0o777] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = check_private_dir(&d).unwrap_err();
            assert!(
                matches!(unsafe_path(&e), Some(UnsafePath::SharedDir { mode: m, .. }) if *m == mode),
                "{e}"
            );
            assert!(
                e.to_string()
                    .contains(&format!("chmod 700 {}", d.display())),
                "{e}"
            );
        }
        // Readable by others is not a risk to what is in it (keys are checked one by one).
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_private_dir(&d).unwrap();
    }
}
