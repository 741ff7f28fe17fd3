//! File replacement: [`write_atomic`] is crash-safe (a temporary file in the same
//! directory, fsync, rename, fsync of the directory: a crash leaves either the old or the
//! new content); [`write_replacing`] is the same without the fsyncs, for files whose loss
//! or damage in a crash is detected and repaired on read (cache entries checked against
//! their content-addressed names, records rebuilt when they do not parse). And the lock
//! files beside shared state ([`open_lock_file`]: std file locks, released on close).

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Opens (creating it if needed, never truncating) the lock file at `path`, ready for
/// `File::try_lock` / `File::try_lock_shared`.
pub fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Replaces `path` with `bytes` by a temporary file and a rename, without fsync: readers
/// see the old or the whole new content while the system runs; after a power loss the
/// file may be missing or damaged, which its reader must detect.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = in_new_dirs(dir, || tempfile::NamedTempFile::new_in(dir))?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Runs `make` (which creates something in `dir`), creating `dir` and its parents first
/// only when `make` finds it missing: a cache that writes thousands of small files into
/// folders that mostly exist then spends no `mkdir` on them.
pub fn in_new_dirs<T>(dir: &Path, make: impl Fn() -> std::io::Result<T>) -> std::io::Result<T> {
    match make() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            make()
        }
        other => other,
    }
}
