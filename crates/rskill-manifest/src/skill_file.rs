//! Reading one file of a skill folder. The folder may come from a pull request, so
//! nothing in it is trusted: a file is read only when it is a regular file whose real
//! path (after every symbolic link) stays inside the folder, and never beyond a size
//! limit. A symlink to `/dev/zero`, a FIFO, a device or a link to `/etc/shadow`
//! becomes a finding instead of a hang, an endless read or a leak.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest text file of a skill folder read (cards, `SKILL.md`, result files), like
/// the manifest limit: these files are a few KiB.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// Why a file of a skill folder was not read.
#[derive(Debug, thiserror::Error)]
pub enum SkillFileError {
    #[error("does not exist")]
    Missing,
    #[error("is a {kind}, not a regular file; only regular files are read")]
    NotRegular { kind: &'static str },
    #[error(
        "resolves to {}, outside the skill folder; a skill's files must live in its folder",
        target.display()
    )]
    Outside { target: PathBuf },
    #[error("is larger than {} KiB", limit / 1024)]
    TooLarge { limit: u64 },
    #[error("cannot be read: {0}")]
    Io(std::io::Error),
}

impl SkillFileError {
    /// The finding's rule id.
    pub fn rule(&self) -> &'static str {
        match self {
            SkillFileError::Missing | SkillFileError::Io(_) | SkillFileError::TooLarge { .. } => {
                "file"
            }
            SkillFileError::NotRegular { .. } => "file/type",
            SkillFileError::Outside { .. } => "file/outside",
        }
    }
}

/// The real path of `path` when it lies inside `folder` (both resolved), else why not.
pub fn resolve_inside(folder: &Path, path: &Path) -> Result<PathBuf, SkillFileError> {
    let real = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is a file that points nowhere, not an absent file.
            return Err(if std::fs::symlink_metadata(path).is_ok() {
                SkillFileError::Io(e)
            } else {
                SkillFileError::Missing
            });
        }
        Err(e) => return Err(SkillFileError::Io(e)),
    };
    let root = std::fs::canonicalize(folder).map_err(SkillFileError::Io)?;
    if !real.starts_with(&root) {
        return Err(SkillFileError::Outside { target: real });
    }
    Ok(real)
}

/// Reads `path`, a file of the skill folder `folder`, when it is a regular file inside
/// it of at most `limit` bytes.
pub fn read(folder: &Path, path: &Path, limit: u64) -> Result<Vec<u8>, SkillFileError> {
    let real = resolve_inside(folder, path)?;
    let kind = std::fs::metadata(&real).map_err(SkillFileError::Io)?;
    check_regular(&kind)?;
    // Opened without blocking: should the file have become a FIFO since it was looked at,
    // the open does not wait for a writer, and the check below refuses it.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(&real).map_err(SkillFileError::Io)?;
    let meta = file.metadata().map_err(SkillFileError::Io)?;
    check_regular(&meta)?;
    if meta.len() > limit {
        return Err(SkillFileError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(SkillFileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(SkillFileError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads a UTF-8 text file of the skill folder (see [`read`]); `Ok(None)` when absent.
pub fn read_text(folder: &Path, path: &Path, limit: u64) -> Result<Option<String>, String> {
    match read(folder, path, limit) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "is not valid UTF-8".to_string()),
        Err(SkillFileError::Missing) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn check_regular(meta: &std::fs::Metadata) -> Result<(), SkillFileError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(SkillFileError::NotRegular {
        kind: kind_of(meta),
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "FIFO";
        }
        if ft.is_char_device() {
            return "character device";
        }
        if ft.is_block_device() {
            return "block device";
        }
        if ft.is_socket() {
            return "socket";
        }
    }
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_inside_are_read_and_the_rest_refused() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        std::fs::write(dir.join("a.md"), "hello").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("big.md"), vec![b'x'; 2048]).unwrap();
        assert_eq!(read(dir, &dir.join("a.md"), 10).unwrap(), b"hello");
        assert!(matches!(
            read(dir, &dir.join("nope.md"), 10),
            Err(SkillFileError::Missing)
        ));
        assert!(matches!(
            read(dir, &dir.join("sub"), 10),
            Err(SkillFileError::NotRegular { kind: "directory" })
        ));
        assert!(matches!(
            read(dir, &dir.join("big.md"), 1024),
            Err(SkillFileError::TooLarge { limit: 1024 })
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("a.md", dir.join("inside.md")).unwrap();
            assert_eq!(read(dir, &dir.join("inside.md"), 10).unwrap(), b"hello");
            std::os::unix::fs::symlink("/dev/zero", dir.join("zero.md")).unwrap();
            assert!(matches!(
                read(dir, &dir.join("zero.md"), 10),
                Err(SkillFileError::Outside { .. })
            ));
            std::os::unix::fs::symlink("missing", dir.join("dangling.md")).unwrap();
            assert!(matches!(
                read(dir, &dir.join("dangling.md"), 10),
                Err(SkillFileError::Io(_))
            ));
        }
    }
}
