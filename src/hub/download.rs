//! Downloading one file into the shared cache, safely:
//! - streamed to `blobs/<etag>.incomplete` (memory stays flat whatever the size);
//! - resumed with an HTTP `Range` request when an earlier run was interrupted;
//! - hashed while streaming and checked against the Hub's LFS SHA-256 (or git blob
//!   SHA-1 for regular files) before it becomes visible as `blobs/<etag>`;
//! - guarded by a per-blob lock, so two processes never write the same blob;
//! - skipped entirely when the blob is already cached.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use futures::StreamExt;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::cache::{RepoCache, is_safe_repo_path};
use super::client::{Ctx, HubClient};
use super::error::HubError;
use super::repo::{RepoId, Sibling, encode_path, encode_rev};

/// What to fetch and how to recognise it.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub repo: RepoId,
    pub commit: String,
    pub path: String,
    pub size: Option<u64>,
    /// Stored with LFS: its blob is named by its SHA-256, else by its git blob id.
    pub lfs: bool,
    /// SHA-256 the content must have (LFS oid, or a lockfile's digest).
    pub sha256: Option<String>,
    /// Git blob SHA-1 the content must have (regular files).
    pub git_sha1: Option<String>,
}

impl FileSpec {
    /// A file as listed by repo info at `commit`.
    pub fn from_sibling(repo: &RepoId, commit: &str, s: &Sibling) -> FileSpec {
        FileSpec {
            repo: repo.clone(),
            commit: commit.to_string(),
            path: s.rfilename.clone(),
            size: s.lfs.as_ref().map(|l| l.size).or(s.size),
            lfs: s.lfs.is_some(),
            sha256: s.lfs.as_ref().map(|l| l.sha256.clone()),
            git_sha1: if s.lfs.is_none() {
                s.blob_id.clone()
            } else {
                None
            },
        }
    }

    /// The blob name in the cache (the file's ETag on the Hub): the LFS SHA-256, else
    /// the git blob id.
    pub fn etag(&self) -> Option<&str> {
        if self.lfs {
            self.sha256.as_deref()
        } else {
            self.git_sha1.as_deref()
        }
    }
}

/// The result of one download.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The snapshot path (a link to the blob).
    pub path: PathBuf,
    pub blob: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// Bytes that crossed the network for this file (0 when cached).
    pub transferred: u64,
    /// Bytes already on disk from an interrupted run.
    pub resumed_from: u64,
}

/// Called with the number of new bytes as they arrive.
pub type ProgressFn<'a> = &'a (dyn Fn(u64) + Send + Sync);

impl HubClient {
    /// Fetches `spec` into the cache (or finds it there) and returns where it is.
    pub async fn download(
        &self,
        spec: &FileSpec,
        progress: ProgressFn<'_>,
    ) -> Result<Downloaded, HubError> {
        if !is_safe_repo_path(&spec.path) {
            return Err(HubError::UnsafePath {
                repo: spec.repo.to_string(),
                path: spec.path.clone(),
            });
        }
        let Some(etag) = spec.etag().map(str::to_owned) else {
            return Err(HubError::Other(format!(
                "{} of {} has no checksum on the Hub; refusing an unverifiable download",
                spec.path, spec.repo
            )));
        };
        let cache = RepoCache::new(&self.env().hub_cache, &spec.repo);
        let blob = cache.blob_path(&etag);
        let blobs_dir = cache.root.join("blobs");
        std::fs::create_dir_all(&blobs_dir).map_err(|e| HubError::io_at(&blobs_dir, e))?;

        // One writer per blob across processes (where huggingface_hub keeps its locks).
        let locks_dir = self
            .env()
            .hub_cache
            .join(".locks")
            .join(cache.root.file_name().unwrap_or_default());
        std::fs::create_dir_all(&locks_dir).map_err(|e| HubError::io_at(&locks_dir, e))?;
        let lock_path = locks_dir.join(format!("{etag}.lock"));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| HubError::io_at(&lock_path, e))?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|_| lock))
            .await
            .map_err(|e| HubError::Other(e.to_string()))?
            .map_err(|e| HubError::io_at(&lock_path, e))?;

        let result = self
            .download_locked(spec, &cache, &etag, &blob, progress)
            .await;
        drop(lock);
        result
    }

    async fn download_locked(
        &self,
        spec: &FileSpec,
        cache: &RepoCache,
        etag: &str,
        blob: &std::path::Path,
        progress: ProgressFn<'_>,
    ) -> Result<Downloaded, HubError> {
        if blob.exists() {
            // Already cached: trust its name only after checking its digest once more
            // when a SHA-256 is expected (cheap relative to a download).
            let size = std::fs::metadata(blob)
                .map_err(|e| HubError::io_at(blob, e))?
                .len();
            let sha256 = crate::digest::sha256_file(blob).map_err(|e| HubError::io_at(blob, e))?;
            if spec.sha256.as_deref().is_none_or(|want| want == sha256) {
                let path = cache.link(&spec.commit, &spec.path, etag)?;
                progress(size);
                return Ok(Downloaded {
                    path,
                    blob: blob.to_path_buf(),
                    size,
                    sha256,
                    transferred: 0,
                    resumed_from: 0,
                });
            }
            std::fs::remove_file(blob).map_err(|e| HubError::io_at(blob, e))?;
        }
        self.ensure_online(&format!("download {} of {}", spec.path, spec.repo))?;

        let partial = blob.with_extension("incomplete");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&partial)
            .map_err(|e| HubError::io_at(&partial, e))?;
        let mut have = file
            .metadata()
            .map_err(|e| HubError::io_at(&partial, e))?
            .len();
        if spec.size.is_some_and(|s| have > s) {
            file.set_len(0).map_err(|e| HubError::io_at(&partial, e))?;
            have = 0;
        }
        let mut hashers = Hashers::new(spec.git_sha1.is_some(), spec.size);
        if have > 0 {
            // Re-hash what an earlier run left, so the final digest covers all of it.
            hash_prefix(&mut file, have, &mut hashers).map_err(|e| HubError::io_at(&partial, e))?;
            progress(have);
        }

        let url = self.url(&format!(
            "/{}/resolve/{}/{}",
            spec.repo,
            encode_rev(&spec.commit),
            encode_path(&spec.path)
        ));
        let ctx = Ctx::new(format!("download {} of {}", spec.path, spec.repo))
            .repo(&spec.repo)
            .revision(&spec.commit)
            .path(&spec.path);
        let complete = spec.size.is_some_and(|s| have == s && s > 0);
        let mut transferred = 0;
        let resumed_from = have;
        if !complete {
            let response = self
                .send(
                    |c| {
                        let req = c.get(&url);
                        if have > 0 {
                            req.header("Range", format!("bytes={have}-"))
                        } else {
                            req
                        }
                    },
                    &ctx,
                )
                .await?;
            if have > 0 && response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                // The server ignored the range: start over.
                file.set_len(0).map_err(|e| HubError::io_at(&partial, e))?;
                have = 0;
                hashers = Hashers::new(spec.git_sha1.is_some(), spec.size);
            }
            file.seek(SeekFrom::Start(have))
                .map_err(|e| HubError::io_at(&partial, e))?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, &mut file);
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| HubError::Unreachable {
                    endpoint: self.endpoint().to_string(),
                    reason: format!(
                        "download of {} interrupted: {e} (run again to resume)",
                        spec.path
                    ),
                })?;
                writer
                    .write_all(&chunk)
                    .map_err(|e| HubError::io_at(&partial, e))?;
                hashers.update(&chunk);
                transferred += chunk.len() as u64;
                progress(chunk.len() as u64);
            }
            writer.flush().map_err(|e| HubError::io_at(&partial, e))?;
        }
        file.sync_all().map_err(|e| HubError::io_at(&partial, e))?;
        let size = file
            .metadata()
            .map_err(|e| HubError::io_at(&partial, e))?
            .len();
        drop(file);

        let (sha256, git_sha1) = hashers.finish();
        let mismatch = |expected: &str, actual: &str| HubError::Integrity {
            path: format!("{}/{}", spec.repo, spec.path),
            expected: expected.to_string(),
            actual: actual.to_string(),
        };
        let failure = if let Some(want) = spec.size.filter(|s| *s != size) {
            Some(HubError::Other(format!(
                "{} of {}: got {size} bytes, expected {want}; the partial file was discarded",
                spec.path, spec.repo
            )))
        } else if let Some(want) = spec.sha256.as_deref().filter(|w| *w != sha256) {
            Some(mismatch(want, &sha256))
        } else if let (Some(want), Some(got)) = (spec.git_sha1.as_deref(), git_sha1.as_deref()) {
            (want != got).then(|| mismatch(want, got))
        } else {
            None
        };
        if let Some(e) = failure {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, blob).map_err(|e| HubError::io_at(blob, e))?;
        let path = cache.link(&spec.commit, &spec.path, etag)?;
        Ok(Downloaded {
            path,
            blob: blob.to_path_buf(),
            size,
            sha256,
            transferred,
            resumed_from,
        })
    }
}

/// SHA-256 always; git blob SHA-1 for regular files (whose size is known up front).
struct Hashers {
    sha256: Sha256,
    sha1: Option<Sha1>,
}

impl Hashers {
    fn new(git: bool, size: Option<u64>) -> Hashers {
        let sha1 = match (git, size) {
            (true, Some(size)) => {
                let mut h = Sha1::new();
                h.update(format!("blob {size}\0").as_bytes());
                Some(h)
            }
            _ => None,
        };
        Hashers {
            sha256: Sha256::new(),
            sha1,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        if let Some(h) = &mut self.sha1 {
            h.update(bytes);
        }
    }

    fn finish(self) -> (String, Option<String>) {
        (
            hex::encode(self.sha256.finalize()),
            self.sha1.map(|h| hex::encode(h.finalize())),
        )
    }
}

fn hash_prefix(file: &mut std::fs::File, len: u64, hashers: &mut Hashers) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(len));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hashers.update(&buf[..n]);
    }
}
