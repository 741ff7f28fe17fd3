//! The standard Hub cache layout, shared with every other Hub client on the machine:
//! `<HF_HUB_CACHE>/models--<org>--<name>/{blobs/<etag>, snapshots/<commit>/<path> ->
//! ../../blobs/<etag>, refs/<rev>}`. Writes are atomic (temp file + rename), so a
//! crash never leaves a half-written file visible under its final name.

use std::path::{Component, Path, PathBuf};

use super::error::HubError;
use super::ids::{BlobId, CommitId, RepoPath};
use rskill_hub_protocol::repo_id::RepoId;

pub use super::ids::is_safe_repo_path;

/// One repo's folder in the cache. Every method takes validated ids
/// ([`super::ids`]), so nothing it creates, links, locks or deletes lies outside it.
#[derive(Debug, Clone)]
pub struct RepoCache {
    pub root: PathBuf,
}

impl RepoCache {
    pub fn new(hub_cache: &Path, repo: &RepoId) -> RepoCache {
        RepoCache {
            root: hub_cache.join(format!("models--{}--{}", repo.org(), repo.name())),
        }
    }

    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    pub fn blob_path(&self, blob: &BlobId) -> PathBuf {
        self.blobs_dir().join(blob.as_str())
    }

    /// Where a blob is being downloaded.
    pub fn partial_path(&self, blob: &BlobId) -> PathBuf {
        self.blobs_dir().join(format!("{blob}.incomplete"))
    }

    /// The per-blob lock file, where huggingface_hub keeps its own:
    /// `<hub_cache>/.locks/models--org--name/<blob>.lock`.
    pub fn lock_path(&self, blob: &BlobId) -> PathBuf {
        let repo_dir = self.root.file_name().unwrap_or_default();
        let hub_cache = self.root.parent().unwrap_or(Path::new("."));
        hub_cache
            .join(".locks")
            .join(repo_dir)
            .join(format!("{blob}.lock"))
    }

    pub fn snapshot_dir(&self, commit: &CommitId) -> PathBuf {
        self.root.join("snapshots").join(commit.as_str())
    }

    pub fn snapshot_path(&self, commit: &CommitId, path: &RepoPath) -> PathBuf {
        self.snapshot_dir(commit).join(path.as_str())
    }

    /// The commit a ref (branch or tag) pointed to when last seen online; `None` when
    /// unknown or when the file does not hold a commit id.
    pub fn read_ref(&self, rev: &RepoPath) -> Option<CommitId> {
        let text = std::fs::read_to_string(self.root.join("refs").join(rev.as_str())).ok()?;
        text.trim().parse().ok()
    }

    /// Records that `rev` points to `commit`.
    pub fn write_ref(&self, rev: &RepoPath, commit: &CommitId) -> Result<(), HubError> {
        if rev.as_str() == commit.as_str() {
            return Ok(());
        }
        let path = self.root.join("refs").join(rev.as_str());
        // No fsync: a ref lost in a crash is rewritten when next seen online, and a
        // damaged one does not parse as a commit id (read_ref then says "unknown").
        crate::fsutil::write_replacing(&path, commit.as_str().as_bytes())
            .map_err(|e| HubError::io_at(&path, e))
    }

    /// The cached file, if present: a snapshot entry that links to an existing blob of
    /// this cache (an entry pointing anywhere else is ignored).
    pub fn lookup(&self, commit: &CommitId, path: &RepoPath) -> Option<PathBuf> {
        let p = self.snapshot_path(commit, path);
        let meta = std::fs::symlink_metadata(&p).ok()?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).ok()?;
            link_blob(&target, path.depth())?;
        }
        p.exists().then_some(p)
    }

    /// A small cached file (a manifest, a card), read whole and checked against the blob
    /// name its snapshot link gives; `None` when absent, and when damaged (the damaged
    /// blob is then removed, so it is fetched again).
    pub fn read_small(&self, commit: &CommitId, path: &RepoPath) -> Option<Vec<u8>> {
        let link = self.snapshot_path(commit, path);
        let blob = link_blob(&std::fs::read_link(&link).ok()?, path.depth())?;
        let bytes = std::fs::read(self.blob_path(&blob)).ok()?;
        if blob.names(&bytes) {
            return Some(bytes);
        }
        let _ = std::fs::remove_file(self.blob_path(&blob));
        None
    }

    /// Stores a small file (whole in memory) as blob `blob` and links it into the
    /// snapshot of `commit`. Without fsync: [`RepoCache::read_small`] checks the bytes
    /// against their name, so a blob damaged by a crash is fetched again, not trusted.
    pub fn store_bytes(
        &self,
        commit: &CommitId,
        path: &RepoPath,
        blob: &BlobId,
        bytes: &[u8],
    ) -> Result<PathBuf, HubError> {
        let blob_path = self.blob_path(blob);
        if !blob_path.exists() {
            crate::fsutil::write_replacing(&blob_path, bytes)
                .map_err(|e| HubError::io_at(&blob_path, e))?;
        }
        self.link(commit, path, blob)
    }

    /// Links an existing blob into the snapshot of `commit` (relative symlink, as the
    /// other Hub clients make it; a copy where symlinks are unavailable).
    pub fn link(
        &self,
        commit: &CommitId,
        path: &RepoPath,
        blob: &BlobId,
    ) -> Result<PathBuf, HubError> {
        let target = self.snapshot_path(commit, path);
        let relative: PathBuf = std::iter::repeat_n("..", path.depth() + 1)
            .collect::<PathBuf>()
            .join("blobs")
            .join(blob.as_str());
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            let ours = std::fs::read_link(&target).is_ok_and(|t| t == relative);
            if ours && target.exists() {
                return Ok(target);
            }
            if meta.is_dir() {
                return Err(HubError::Other(format!(
                    "{}: a folder is in the way of {path} in the cache; remove it",
                    target.display()
                )));
            }
            // A dangling link (its blob was purged) or not the expected link: replace it.
            std::fs::remove_file(&target).map_err(|e| HubError::io_at(&target, e))?;
        }
        // Unique per call, not only per process: tasks of one process may link the
        // same path at once (concurrent reads of one commit).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = target.with_file_name(format!(
            "{}.tmp-link-{}-{}",
            path.file_name(),
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        #[cfg(unix)]
        let make = || std::os::unix::fs::symlink(&relative, &tmp);
        #[cfg(not(unix))]
        let make = || std::fs::copy(self.blob_path(blob), &tmp).map(|_| ());
        let parent = target.parent().unwrap_or(&self.root);
        crate::fsutil::in_new_dirs(parent, make)
            .or_else(|e| {
                // A leftover of a process of this id that died between link and rename.
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(e);
                }
                std::fs::remove_file(&tmp)?;
                make()
            })
            .map_err(|e| HubError::io_at(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| HubError::io_at(&target, e))?;
        Ok(target)
    }
}

/// The blob a snapshot link names, when the link has exactly the form this cache makes
/// (`../` × (depth + 1), `blobs/<blob id>`), so it stays inside the repo's folder.
pub fn link_blob(target: &Path, depth: usize) -> Option<BlobId> {
    let parts: Vec<Component> = target.components().collect();
    if parts.len() != depth + 3 {
        return None;
    }
    let ups = parts[..depth + 1]
        .iter()
        .all(|c| matches!(c, Component::ParentDir));
    let blobs = parts[depth + 1] == Component::Normal("blobs".as_ref());
    let Component::Normal(name) = parts[depth + 2] else {
        return None;
    };
    if !ups || !blobs {
        return None;
    }
    name.to_str()?.parse().ok()
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
    fn store_link_lookup_and_refs() {
        let d = tempfile::tempdir().unwrap();
        let repo: RepoId = "o/r".parse().unwrap();
        let c = RepoCache::new(d.path(), &repo);
        let commit: CommitId = "a".repeat(40).parse().unwrap();
        let path: RepoPath = "eval/x.json".parse().unwrap();
        let blob = BlobId::Git(crate::ids::GitBlobId::of(b"{}"));
        let p = c.store_bytes(&commit, &path, &blob, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(c.lookup(&commit, &path), Some(p.clone()));
        assert_eq!(c.read_small(&commit, &path).as_deref(), Some(&b"{}"[..]));
        // A blob damaged (by a crash: small blobs are written without fsync) is not
        // trusted: it is removed, to be fetched again.
        std::fs::write(c.blob_path(&blob), b"\0\0").unwrap();
        assert_eq!(c.read_small(&commit, &path), None);
        assert!(!c.blob_path(&blob).exists());
        c.store_bytes(&commit, &path, &blob, b"{}").unwrap();
        let main: RepoPath = "main".parse().unwrap();
        c.write_ref(&main, &commit).unwrap();
        assert_eq!(c.read_ref(&main), Some(commit.clone()));
        // A link pointing outside the cache is not followed.
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &p).unwrap();
        assert_eq!(c.lookup(&commit, &path), None);
        c.link(&commit, &path, &blob).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert_eq!(cached_repos(d.path()), vec![repo]);
    }
}
