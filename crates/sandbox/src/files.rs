//! File-system helpers every part of the tool uses:
//! - bounded reads: every file the tool (and the sandbox) reads goes through [`read_capped`],
//!   so a wrong path such as `/dev/zero`, a FIFO or a runaway file is a clear error naming the
//!   file and the limit instead of unbounded memory use;
//! - private directories: every directory the tool creates is made by [`create_private_dir`],
//!   mode 0700 (they hold keys, tokens, the sandbox's signing key and logs).
//!
//! It lives in the sandbox because that is the crate every other part depends on; the main
//! crate re-exports it as `altinn_onboard::files`.

use std::io::{self, Read};
use std::path::Path;

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
    let file = std::fs::File::open(path)?;
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
}
