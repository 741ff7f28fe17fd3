//! The data directory on disk, and the only code that writes it.
//!
//! Layout under `DIR`:
//! ```text
//! hub.lock                                  held by the running server (one server per DIR)
//! tokens.json, tokens.lock                  access tokens (see `tokens`)
//! blobs/<ab>/<sha256>                       file contents, stored once by SHA-256
//!                                           (or in an object store: see `blobstore`)
//! repos/<models|datasets>/<owner>/<name>/
//!     repo.json                             settings (private, gated, createdAt …)
//!     refs.json                             branches and tags → commit ids
//!     commits/<sha1>.json                   immutable commit records
//! collections/<owner>/<slug>.json           collections
//! tmp/                                      staging area, emptied at startup
//! import-journal.json                       an import in progress (see `import`), undone at open
//! ```
//! Every write is crash-safe: new content goes to a temporary file that is fsynced and
//! renamed over the old one, then the directory is fsynced. A commit writes its blobs,
//! then its record, then `refs.json`; the ref update is the commit point, so a crash at any
//! moment leaves the previous state readable (at worst with unreferenced blobs).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::blobstore::{BlobStore, BlobsConfig, local::LocalBlobs, s3::S3Blobs};
use super::errors::HubError;
use super::names::{RepoId, RepoKind};
use super::objects::GitBlobHasher;
use super::records::{Commit, Refs, RepoMeta};

/// A repo found on disk: its kind, id, settings and refs.
pub type ScannedRepo = (RepoKind, RepoId, RepoMeta, Refs);

/// How the store writes.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// fsync files and directories (default). Turning it off is only for seeding test
    /// or benchmark data fast; a crash may then lose or tear recent writes.
    pub durable: bool,
    /// TEST ONLY: within each commit, the N-th new blob written (1-based) fails with an
    /// injected error, to exercise the commit rollback.
    pub fail_blob_write_at: Option<u64>,
    /// Where blobs live (default: `blobs/` in the data directory).
    pub blobs: BlobsConfig,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durable: true,
            fail_blob_write_at: None,
            blobs: BlobsConfig::Local,
        }
    }
}

/// The data directory, opened and locked.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    opts: StoreOptions,
    _lock: File,
    unique: AtomicU64,
    blobs: BlobStore,
}

/// A blob written to the staging area and hashed, not yet part of the store.
#[derive(Debug)]
pub struct StagedBlob {
    path: tempfile::TempPath,
    pub sha256: String,
    pub size: u64,
    pub git_sha1: String,
}

/// Writes one blob into the staging area while hashing it.
pub struct BlobStager {
    file: File,
    path: tempfile::TempPath,
    sha256: Sha256,
    git: GitBlobHasher,
    written: u64,
    expected: u64,
    durable: bool,
}

impl StagedBlob {
    /// The staged file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn into_path(self) -> tempfile::TempPath {
        self.path
    }
}

impl BlobStager {
    /// Starts staging a blob of `expected` bytes in directory `tmp`.
    pub fn new_in(tmp: &Path, expected: u64, durable: bool) -> Result<BlobStager, HubError> {
        let staged = tempfile::Builder::new()
            .prefix("stage-")
            .tempfile_in(tmp)
            .map_err(HubError::io_with("creating a staging file"))?;
        let (file, path) = staged.into_parts();
        Ok(BlobStager {
            file,
            path,
            sha256: Sha256::new(),
            git: GitBlobHasher::new(expected),
            written: 0,
            expected,
            durable,
        })
    }

    /// Appends content; more than the announced size is an error.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), HubError> {
        self.written += bytes.len() as u64;
        if self.written > self.expected {
            return Err(HubError::io(
                "staging a blob",
                std::io::Error::other(format!("more than the announced {} bytes", self.expected)),
            ));
        }
        self.sha256.update(bytes);
        self.git.update(bytes);
        self.file
            .write_all(bytes)
            .map_err(HubError::io_with("writing a staged blob"))
    }

    /// Completes the blob (fsynced when durable).
    pub fn finish(self) -> Result<StagedBlob, HubError> {
        if self.written != self.expected {
            return Err(HubError::io(
                "staging a blob",
                std::io::Error::other(format!(
                    "got {} bytes, announced {}",
                    self.written, self.expected
                )),
            ));
        }
        if self.durable {
            self.file
                .sync_all()
                .map_err(HubError::io_with("syncing a staged blob"))?;
        }
        Ok(StagedBlob {
            path: self.path,
            sha256: hex::encode(self.sha256.finalize()),
            size: self.written,
            git_sha1: self.git.finish(),
        })
    }
}

impl Store {
    /// Opens (creating if needed) and locks the data directory, and empties its staging
    /// area. Fails if another server holds the directory.
    pub fn open(root: &Path, opts: StoreOptions) -> Result<Store, HubError> {
        for dir in ["blobs", "repos", "collections", "tmp"] {
            let d = root.join(dir);
            fs::create_dir_all(&d)
                .map_err(HubError::io_with(format!("creating {}", d.display())))?;
        }
        let lock_path = root.join("hub.lock");
        let lock = crate::fsutil::open_lock_file(&lock_path).map_err(HubError::io_with(
            format!("opening {}", lock_path.display()),
        ))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(HubError::DataDirLocked {
                    path: root.to_owned(),
                });
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(HubError::io(format!("locking {}", lock_path.display()), e));
            }
        }
        let blobs = match &opts.blobs {
            BlobsConfig::Local => BlobStore::Local(LocalBlobs::new(root, opts.durable)),
            BlobsConfig::S3(config) => BlobStore::S3(S3Blobs::new(config)?),
        };
        let store = Store {
            root: root.to_owned(),
            opts,
            _lock: lock,
            unique: AtomicU64::new(0),
            blobs,
        };
        store.clear_tmp()?;
        // An import cut short (kill -9, power loss) is undone before anything reads.
        crate::import::recover(&store)?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn durable(&self) -> bool {
        self.opts.durable
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn clear_tmp(&self) -> Result<(), HubError> {
        let tmp = self.tmp_dir();
        let entries =
            fs::read_dir(&tmp).map_err(HubError::io_with(format!("listing {}", tmp.display())))?;
        for entry in entries.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
        Ok(())
    }

    /// The blob backend.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Where the blob with this SHA-256 lives in the data directory (local backend).
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join(&sha256[..2]).join(sha256)
    }

    /// The size of a stored blob, if it is stored.
    pub fn blob_size(&self, sha256: &str) -> Result<Option<u64>, HubError> {
        self.blobs.size(sha256)
    }

    /// Starts staging a blob of `expected` bytes.
    pub fn stager(&self, expected: u64) -> Result<BlobStager, HubError> {
        BlobStager::new_in(&self.tmp_dir(), expected, self.opts.durable)
    }

    /// Stages `bytes` as a blob.
    pub fn stage_bytes(&self, bytes: &[u8]) -> Result<StagedBlob, HubError> {
        let mut s = self.stager(bytes.len() as u64)?;
        s.write(bytes)?;
        s.finish()
    }

    /// Stages everything `reader` yields (`len` bytes).
    pub fn stage_reader(&self, mut reader: impl Read, len: u64) -> Result<StagedBlob, HubError> {
        let mut s = self.stager(len)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(HubError::io_with("reading content to stage"))?;
            if n == 0 {
                break;
            }
            s.write(&buf[..n])?;
        }
        s.finish()
    }

    /// Moves staged blobs into the blob store; blobs already stored are dropped (stored
    /// once). Returns the blobs this call created, for [`Store::unpublish`]; they are
    /// durable when it returns. On error, whatever this call created is removed again.
    pub fn publish_blobs(&self, blobs: Vec<StagedBlob>) -> Result<Vec<String>, HubError> {
        let mut created: Vec<String> = Vec::new();
        let mut writes = 0u64;
        for blob in blobs {
            let stored = match self.blobs.size(&blob.sha256) {
                Ok(s) => s,
                Err(e) => {
                    self.unpublish(&created);
                    return Err(e);
                }
            };
            if stored == Some(blob.size) {
                continue;
            }
            writes += 1;
            if self.opts.fail_blob_write_at == Some(writes) {
                self.unpublish(&created);
                return Err(HubError::Injected {
                    what: format!("blob write #{writes} of this commit"),
                });
            }
            let sha = blob.sha256.clone();
            match self.blobs.publish(blob) {
                Ok(true) => created.push(sha),
                Ok(false) => {}
                Err(e) => {
                    self.unpublish(&created);
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.blobs.sync(&created) {
            self.unpublish(&created);
            return Err(e);
        }
        Ok(created)
    }

    /// Removes blobs a failed commit created.
    pub fn unpublish(&self, created: &[String]) {
        self.blobs.remove(created);
    }

    /// The directory of a repo.
    pub fn repo_dir(&self, kind: RepoKind, id: &RepoId) -> PathBuf {
        self.root
            .join("repos")
            .join(kind.plural())
            .join(id.owner())
            .join(id.name())
    }

    /// Replaces the file at `path` with `bytes`, crash-safely (fsynced when durable).
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HubError> {
        let context = || format!("writing {}", path.display());
        if self.opts.durable {
            crate::fsutil::write_atomic(path, bytes).map_err(HubError::io_with(context()))
        } else {
            let dir = path.parent().unwrap_or(Path::new("."));
            let mut tmp =
                tempfile::NamedTempFile::new_in(dir).map_err(HubError::io_with(context()))?;
            tmp.write_all(bytes).map_err(HubError::io_with(context()))?;
            tmp.persist(path)
                .map_err(|e| HubError::io(context(), e.error))?;
            Ok(())
        }
    }

    /// Creates a repo directory with its settings, refs and first commit, all at once: it
    /// is built in the staging area and renamed into place.
    pub fn create_repo_dir(
        &self,
        kind: RepoKind,
        id: &RepoId,
        meta: &RepoMeta,
        refs: &Refs,
        first: (&Commit, &[u8]),
    ) -> Result<(), HubError> {
        let dest = self.repo_dir(kind, id);
        let staging = self.tmp_dir().join(format!(
            "repo-{}-{}",
            std::process::id(),
            self.unique.fetch_add(1, Ordering::Relaxed)
        ));
        let build = || -> Result<(), HubError> {
            let commits = staging.join("commits");
            fs::create_dir_all(&commits)
                .map_err(HubError::io_with(format!("creating {}", commits.display())))?;
            self.write_file(&staging.join("repo.json"), &to_json(meta)?)?;
            self.write_file(&staging.join("refs.json"), &to_json(refs)?)?;
            self.write_file(&commits.join(format!("{}.json", first.0.id)), first.1)?;
            if self.opts.durable {
                sync_dir(&commits)?;
                sync_dir(&staging)?;
            }
            let parent = dest.parent().expect("repo dirs have a parent");
            fs::create_dir_all(parent)
                .map_err(HubError::io_with(format!("creating {}", parent.display())))?;
            fs::rename(&staging, &dest)
                .map_err(HubError::io_with(format!("creating {}", dest.display())))?;
            if self.opts.durable {
                sync_dir(parent)?;
            }
            Ok(())
        };
        let result = build();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    /// Removes a repo directory (renamed away first, so it vanishes at once). Blobs stay.
    pub fn delete_repo_dir(&self, kind: RepoKind, id: &RepoId) -> Result<(), HubError> {
        let dir = self.repo_dir(kind, id);
        let grave = self.tmp_dir().join(format!(
            "deleted-{}-{}",
            std::process::id(),
            self.unique.fetch_add(1, Ordering::Relaxed)
        ));
        fs::rename(&dir, &grave)
            .map_err(HubError::io_with(format!("deleting {}", dir.display())))?;
        if self.opts.durable
            && let Some(parent) = dir.parent()
        {
            sync_dir(parent)?;
        }
        let _ = fs::remove_dir_all(&grave);
        Ok(())
    }

    pub fn write_meta(&self, kind: RepoKind, id: &RepoId, meta: &RepoMeta) -> Result<(), HubError> {
        self.write_file(&self.repo_dir(kind, id).join("repo.json"), &to_json(meta)?)
    }

    pub fn write_refs(&self, kind: RepoKind, id: &RepoId, refs: &Refs) -> Result<(), HubError> {
        self.write_file(&self.repo_dir(kind, id).join("refs.json"), &to_json(refs)?)
    }

    pub fn commit_path(&self, kind: RepoKind, id: &RepoId, commit: &str) -> PathBuf {
        self.repo_dir(kind, id)
            .join("commits")
            .join(format!("{commit}.json"))
    }

    /// The ids of every commit record a repo holds (unordered). A missing `commits/`
    /// directory reads as none.
    pub fn commit_ids(&self, kind: RepoKind, id: &RepoId) -> Result<Vec<String>, HubError> {
        let dir = self.repo_dir(kind, id).join("commits");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(HubError::io(format!("listing {}", dir.display()), e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(HubError::io_with(format!("listing {}", dir.display())))?;
            let name = entry.file_name();
            if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json"))
                && super::names::is_commit_id(stem)
            {
                ids.push(stem.to_owned());
            }
        }
        Ok(ids)
    }

    /// Stores a sealed commit record.
    pub fn write_commit(
        &self,
        kind: RepoKind,
        id: &RepoId,
        commit: &Commit,
        bytes: &[u8],
    ) -> Result<PathBuf, HubError> {
        let path = self.commit_path(kind, id, &commit.id);
        self.write_file(&path, bytes)?;
        Ok(path)
    }

    /// Reads a commit of this repo, if it has one with that id.
    pub fn read_commit(
        &self,
        kind: RepoKind,
        id: &RepoId,
        commit: &str,
    ) -> Result<Option<Commit>, HubError> {
        let path = self.commit_path(kind, id, commit);
        match fs::read(&path) {
            Ok(bytes) => Commit::open(commit, &bytes, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HubError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Every repo on disk with its settings and refs. Unreadable repos are reported in the
    /// second list and skipped.
    pub fn scan_repos(&self) -> (Vec<ScannedRepo>, Vec<String>) {
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for kind in RepoKind::ALL {
            let base = self.root.join("repos").join(kind.plural());
            for owner_dir in sorted_dirs(&base) {
                for repo_dir in sorted_dirs(&owner_dir) {
                    match self.load_repo(kind, &owner_dir, &repo_dir) {
                        Ok(r) => found.push(r),
                        Err(e) => problems.push(format!("skipping {}: {e}", repo_dir.display())),
                    }
                }
            }
        }
        (found, problems)
    }

    fn load_repo(
        &self,
        kind: RepoKind,
        owner_dir: &Path,
        repo_dir: &Path,
    ) -> Result<ScannedRepo, HubError> {
        let owner = owner_dir.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let name = repo_dir.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let id = RepoId::new(owner, name)?;
        let meta: RepoMeta = read_json(&repo_dir.join("repo.json"))?;
        let refs: Refs = read_json(&repo_dir.join("refs.json"))?;
        Ok((kind, id, meta, refs))
    }
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// Serializes a record as pretty JSON.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, HubError> {
    serde_json::to_vec_pretty(value).map_err(|e| HubError::Corrupt {
        path: "record".into(),
        message: e.to_string(),
    })
}

/// Reads a JSON record.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, HubError> {
    let bytes = fs::read(path).map_err(HubError::io_with(format!("reading {}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| HubError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// fsyncs a directory, so that renames into it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), HubError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(HubError::io_with(format!("syncing {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_stored_once_and_injection_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let a = store.stage_bytes(b"aaa").unwrap();
        let a_sha = a.sha256.clone();
        assert_eq!(store.publish_blobs(vec![a]).unwrap().len(), 1);
        let again = store.stage_bytes(b"aaa").unwrap();
        assert!(store.publish_blobs(vec![again]).unwrap().is_empty());
        assert_eq!(store.blob_size(&a_sha).unwrap(), Some(3));
        drop(store);

        let failing = Store::open(
            dir.path(),
            StoreOptions {
                durable: true,
                fail_blob_write_at: Some(2),
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let b = failing.stage_bytes(b"bbb").unwrap();
        let c = failing.stage_bytes(b"ccc").unwrap();
        let (b_sha, c_sha) = (b.sha256.clone(), c.sha256.clone());
        assert!(matches!(
            failing.publish_blobs(vec![b, c]),
            Err(HubError::Injected { .. })
        ));
        assert_eq!(failing.blob_size(&b_sha).unwrap(), None, "rolled back");
        assert_eq!(failing.blob_size(&c_sha).unwrap(), None);
        assert_eq!(
            failing.blob_size(&a_sha).unwrap(),
            Some(3),
            "older blobs stay"
        );
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn one_server_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path(), StoreOptions::default()).unwrap();
        assert!(matches!(
            Store::open(dir.path(), StoreOptions::default()),
            Err(HubError::DataDirLocked { .. })
        ));
    }

    #[test]
    fn stager_checks_announced_size() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let mut s = store.stager(2).unwrap();
        s.write(b"a").unwrap();
        assert!(s.finish().is_err());
        let mut s = store.stager(1).unwrap();
        assert!(s.write(b"ab").is_err());
    }
}
