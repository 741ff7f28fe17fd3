//! The `files` serialization of OMS: one SHA-256 per regular file of a folder, named
//! by its path relative to the folder with `/` separators, in `model_signing`'s
//! canonical order (by path components). The signature file itself and git's files
//! are not part of it; a symbolic link is refused (`allow_symlinks: false`).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::SigningError;

/// The skill repo's governance state (statuses, aliases, history), changed on `main`
/// after every release by design: never part of the signed content. Signatures list
/// it among their `ignore_paths`, which `model_signing`'s verifier honours too.
pub const GOVERNANCE_FILE: &str = "rskill.registry.json";

/// Paths (relative to the folder's root) that are never signed: `model_signing`'s own
/// (in the order it lists them in `predicate.serialization.ignore_paths`), then the
/// governance file and its signature.
pub const IGNORE_PATHS: [&str; 7] = [
    crate::bundle::SIGNATURE_FILE,
    ".git",
    ".gitattributes",
    ".github",
    ".gitignore",
    GOVERNANCE_FILE,
    crate::governance::GOVERNANCE_SIGNATURE_FILE,
];

/// One signed file: its relative path and SHA-256 (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub name: String,
    pub sha256: String,
}

/// Whether a relative path (`/`-separated) is outside the signed set.
pub fn is_ignored(name: &str) -> bool {
    let top = name.split('/').next().unwrap_or(name);
    IGNORE_PATHS.contains(&top)
}

/// Sorts resources as `model_signing` does (by path components, not by string).
pub fn sort_canonical(resources: &mut [Resource]) {
    resources.sort_by(|a, b| a.name.split('/').cmp(b.name.split('/')));
}

/// Every signed file of `dir` with its digest, in canonical order.
pub fn hash_folder(dir: &Path) -> Result<Vec<Resource>, SigningError> {
    let io = |path: &Path, e: std::io::Error| SigningError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !(e.depth() == 1 && is_ignored(&e.file_name().to_string_lossy())));
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            io(&path, e.into())
        })?;
        let path = entry.path();
        if entry.path_is_symlink() {
            return Err(SigningError::Symlink {
                path: path.display().to_string(),
            });
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push(Resource {
            name,
            sha256: sha256_file(path).map_err(|e| io(path, e))?,
        });
    }
    sort_canonical(&mut out);
    Ok(out)
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_is_by_components_and_git_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("a/b"), b"1").unwrap();
        std::fs::write(dir.path().join("a-c"), b"2").unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), b"3").unwrap();
        std::fs::write(dir.path().join(".gitattributes"), b"4").unwrap();
        std::fs::write(dir.path().join("model.sig"), b"5").unwrap();
        std::fs::write(dir.path().join("sub.sig"), b"6").unwrap();
        let names: Vec<String> = hash_folder(dir.path())
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a/b", "a-c", "sub.sig"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real"), b"1").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let err = hash_folder(dir.path()).unwrap_err();
        assert!(err.to_string().contains("link"), "{err}");
    }
}
