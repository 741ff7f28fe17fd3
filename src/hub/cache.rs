//! The standard Hub cache layout, shared with every other Hub client on the machine:
//! `<HF_HUB_CACHE>/models--<org>--<name>/{blobs/<etag>, snapshots/<commit>/<path> ->
//! ../../blobs/<etag>, refs/<rev>}`. Writes are atomic (temp file + rename), so a
//! crash never leaves a half-written file visible under its final name.

use std::path::{Component, Path, PathBuf};

use super::error::HubError;
use super::repo::RepoId;

/// One repo's folder in the cache.
#[derive(Debug, Clone)]
pub struct RepoCache {
    pub root: PathBuf,
}

/// Whether a repo-relative path is safe to place under a snapshot: relative, no
/// `..`, no empty or `.` parts, no backslashes or NULs.
pub fn is_safe_repo_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && !path.starts_with('/')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// A commit SHA or an etag: hex only, so it can name a file.
fn is_hex_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl RepoCache {
    pub fn new(hub_cache: &Path, repo: &RepoId) -> RepoCache {
        RepoCache {
            root: hub_cache.join(format!("models--{}--{}", repo.org(), repo.name())),
        }
    }

    pub fn blob_path(&self, etag: &str) -> PathBuf {
        self.root.join("blobs").join(etag)
    }

    pub fn snapshot_dir(&self, commit: &str) -> PathBuf {
        self.root.join("snapshots").join(commit)
    }

    pub fn snapshot_path(&self, commit: &str, path: &str) -> PathBuf {
        self.snapshot_dir(commit).join(path)
    }

    /// The commit a ref (branch or tag) pointed to when last seen online.
    pub fn read_ref(&self, rev: &str) -> Option<String> {
        if !is_safe_repo_path(rev) {
            return None;
        }
        let text = std::fs::read_to_string(self.root.join("refs").join(rev)).ok()?;
        let sha = text.trim();
        is_hex_name(sha).then(|| sha.to_string())
    }

    /// Records that `rev` points to `commit`.
    pub fn write_ref(&self, rev: &str, commit: &str) -> Result<(), HubError> {
        if !is_safe_repo_path(rev) || !is_hex_name(commit) || rev == commit {
            return Ok(());
        }
        let path = self.root.join("refs").join(rev);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| HubError::io_at(parent, e))?;
        }
        crate::fsutil::write_atomic(&path, commit.as_bytes()).map_err(|e| HubError::io_at(&path, e))
    }

    /// The cached file, if present (following the snapshot link to a blob that exists).
    pub fn lookup(&self, commit: &str, path: &str) -> Option<PathBuf> {
        if !is_hex_name(commit) || !is_safe_repo_path(path) {
            return None;
        }
        let p = self.snapshot_path(commit, path);
        p.exists().then_some(p)
    }

    /// Stores a small file (whole in memory) as blob `etag` and links it into the
    /// snapshot of `commit`.
    pub fn store_bytes(
        &self,
        commit: &str,
        path: &str,
        etag: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, HubError> {
        self.check_names(commit, path, etag)?;
        let blob = self.blob_path(etag);
        if !blob.exists() {
            let dir = self.root.join("blobs");
            std::fs::create_dir_all(&dir).map_err(|e| HubError::io_at(&dir, e))?;
            crate::fsutil::write_atomic(&blob, bytes).map_err(|e| HubError::io_at(&blob, e))?;
        }
        self.link(commit, path, etag)
    }

    /// Links an existing blob into the snapshot of `commit` (relative symlink, as the
    /// other Hub clients make it; a copy where symlinks are unavailable).
    pub fn link(&self, commit: &str, path: &str, etag: &str) -> Result<PathBuf, HubError> {
        self.check_names(commit, path, etag)?;
        let target = self.snapshot_path(commit, path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| HubError::io_at(parent, e))?;
        }
        let depth = path.split('/').count() + 1;
        let relative: PathBuf = std::iter::repeat_n("..", depth)
            .collect::<PathBuf>()
            .join("blobs")
            .join(etag);
        if std::fs::symlink_metadata(&target).is_ok() {
            if target.exists() {
                return Ok(target);
            }
            // A dangling link (its blob was purged): replace it.
            std::fs::remove_file(&target).map_err(|e| HubError::io_at(&target, e))?;
        }
        let tmp = target.with_extension(format!("tmp-link-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        #[cfg(unix)]
        let made = std::os::unix::fs::symlink(&relative, &tmp);
        #[cfg(not(unix))]
        let made = std::fs::copy(self.blob_path(etag), &tmp).map(|_| ());
        made.map_err(|e| HubError::io_at(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| HubError::io_at(&target, e))?;
        Ok(target)
    }

    fn check_names(&self, commit: &str, path: &str, etag: &str) -> Result<(), HubError> {
        if !is_safe_repo_path(path) {
            return Err(HubError::UnsafePath {
                repo: self.root.display().to_string(),
                path: path.to_string(),
            });
        }
        if !is_hex_name(commit) || !is_hex_name(etag) {
            return Err(HubError::Other(format!(
                "refusing to cache {path}: commit {commit:?} or etag {etag:?} is not a hex id"
            )));
        }
        Ok(())
    }
}

/// Repos present in the cache (`models--org--name` folders), for offline work.
pub fn cached_repos(hub_cache: &Path) -> Vec<RepoId> {
    let Ok(entries) = std::fs::read_dir(hub_cache) else {
        return Vec::new();
    };
    let mut out: Vec<RepoId> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix("models--")?;
            let (org, repo) = rest.split_once("--")?;
            format!("{org}/{repo}").parse().ok()
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        for ok in ["rskill.yaml", "eval/a.json", "a/b/c.onnx"] {
            assert!(is_safe_repo_path(ok), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\b",
            "a//b",
            "./a",
            "a/./b",
            "a\0",
        ] {
            assert!(!is_safe_repo_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn store_link_lookup_and_refs() {
        let d = tempfile::tempdir().unwrap();
        let repo: RepoId = "o/r".parse().unwrap();
        let c = RepoCache::new(d.path(), &repo);
        let commit = "a".repeat(40);
        let p = c
            .store_bytes(&commit, "eval/x.json", "beef", b"{}")
            .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(c.lookup(&commit, "eval/x.json"), Some(p));
        c.write_ref("main", &commit).unwrap();
        assert_eq!(c.read_ref("main"), Some(commit.clone()));
        assert!(c.store_bytes(&commit, "../x", "beef", b"").is_err());
        assert_eq!(cached_repos(d.path()), vec![repo]);
    }
}
