//! Downloading one file into the shared cache, safely:
//! - streamed to `blobs/<etag>.incomplete` (memory stays flat whatever the size);
//! - resumed with an HTTP `Range` request when an earlier run was interrupted;
//! - hashed while streaming and checked against the Hub's LFS SHA-256 (or git blob
//!   SHA-1 for regular files) before it becomes visible as `blobs/<etag>`;
//! - guarded by a per-blob lock, so two processes never write the same blob;
//! - skipped entirely when the blob is already cached: a blob verified when it was
//!   downloaded is trusted by its content-addressed name (and its size), as every Hub
//!   client and package manager trusts its cache; `verify_cached` re-hashes it.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use sha1::Sha1;
use sha2::Digest;

use super::cache::RepoCache;
use super::client::{Ctx, HubClient, LowSpeed};
use super::error::HubError;
use super::ids::{BlobId, CommitId, GitBlobId, RepoPath, Sha256};
use super::repo::{RepoId, Sibling, encode_path, encode_rev};

/// What to fetch and how to recognise it.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub repo: RepoId,
    pub commit: CommitId,
    pub path: RepoPath,
    pub size: Option<u64>,
    /// Stored with LFS: its blob is named by its SHA-256, else by its git blob id.
    pub lfs: bool,
    /// SHA-256 the content must have (LFS oid, or a lockfile's digest).
    pub sha256: Option<Sha256>,
    /// Git blob SHA-1 the content must have (regular files).
    pub git_sha1: Option<GitBlobId>,
    /// Re-hash a cached blob instead of trusting its name (`rskill install --verify`).
    pub verify_cached: bool,
}

impl FileSpec {
    /// A file as listed by repo info at `commit`.
    pub fn from_sibling(repo: &RepoId, commit: &CommitId, s: &Sibling) -> FileSpec {
        FileSpec {
            repo: repo.clone(),
            commit: commit.clone(),
            path: s.rfilename.clone(),
            size: s.lfs.as_ref().map(|l| l.size).or(s.size),
            lfs: s.lfs.is_some(),
            sha256: s.lfs.as_ref().map(|l| l.sha256.clone()),
            git_sha1: if s.lfs.is_none() {
                s.blob_id.clone()
            } else {
                None
            },
            verify_cached: false,
        }
    }

    /// The blob name in the cache (the file's ETag on the Hub): the LFS SHA-256, else
    /// the git blob id.
    pub fn etag(&self) -> Option<BlobId> {
        if self.lfs {
            self.sha256.clone().map(BlobId::Lfs)
        } else {
            self.git_sha1.clone().map(BlobId::Git)
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
        let Some(etag) = spec.etag() else {
            return Err(HubError::Other(format!(
                "{} of {} has no checksum on the Hub; refusing an unverifiable download",
                spec.path, spec.repo
            )));
        };
        if spec.size.is_none() {
            return Err(HubError::Other(format!(
                "{} of {} has no size on the Hub; refusing an unbounded download",
                spec.path, spec.repo
            )));
        }
        let cache = RepoCache::new(&self.env().hub_cache, &spec.repo);
        let blob = cache.blob_path(&etag);
        let blobs_dir = cache.blobs_dir();
        std::fs::create_dir_all(&blobs_dir).map_err(|e| HubError::io_at(&blobs_dir, e))?;

        // One writer per blob across processes (where huggingface_hub keeps its locks).
        let lock_path = cache.lock_path(&etag);
        if let Some(locks_dir) = lock_path.parent() {
            std::fs::create_dir_all(locks_dir).map_err(|e| HubError::io_at(locks_dir, e))?;
        }
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
            .download_locked(spec, &cache, &etag, &blob, &lock, progress)
            .await;
        drop(lock);
        result
    }

    async fn download_locked(
        &self,
        spec: &FileSpec,
        cache: &RepoCache,
        etag: &BlobId,
        blob: &std::path::Path,
        lock: &std::fs::File,
        progress: ProgressFn<'_>,
    ) -> Result<Downloaded, HubError> {
        if let Some(size) = std::fs::metadata(blob).ok().map(|m| m.len()) {
            // Already cached. An LFS blob is named by its SHA-256 and was verified when
            // it was written: its name and size are trusted, nothing is read. A regular
            // file (small, named by its git blob id) is hashed for its SHA-256.
            let trusted = spec.lfs
                && !spec.verify_cached
                && spec.size == Some(size)
                && spec
                    .sha256
                    .as_ref()
                    .is_some_and(|s| s.as_str() == etag.as_str());
            let sha256 = if trusted {
                etag.as_str().to_string()
            } else {
                crate::digest::sha256_file(blob).map_err(|e| HubError::io_at(blob, e))?
            };
            let sound = spec.size.is_none_or(|s| s == size)
                && spec.sha256.as_ref().is_none_or(|want| *want == *sha256)
                && (!spec.lfs || etag.as_str() == sha256);
            if sound {
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
            // A regular file's blob is named by its git blob id: when the content still
            // matches that name, the cache is sound and the expected digest (from a
            // lockfile) is what is wrong. Keep the blob: other installs may use it.
            let intact = !spec.lfs
                && std::fs::read(blob)
                    .is_ok_and(|bytes| GitBlobId::of(&bytes).as_str() == etag.as_str());
            if intact {
                return Err(HubError::Other(format!(
                    "{}/{}: checksum mismatch (expected sha256 {}, got {sha256}); the cached \
                     copy matches the Hub's blob {etag}, so the expected digest is wrong \
                     (an edited or stale lockfile?); the cached file was kept",
                    spec.repo,
                    spec.path,
                    spec.sha256.as_ref().map(Sha256::as_str).unwrap_or_default()
                )));
            }
            std::fs::remove_file(blob).map_err(|e| HubError::io_at(blob, e))?;
        }
        self.ensure_online(&format!("download {} of {}", spec.path, spec.repo))?;

        let partial = cache.partial_path(etag);
        // What a split download left when its process died (see `ranged`).
        crate::ranged::recover_parts(&partial).map_err(|e| HubError::io_at(&partial, e))?;
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
            encode_rev(spec.commit.as_str()),
            encode_path(spec.path.as_str())
        ));
        let ctx = Ctx::new(format!("download {} of {}", spec.path, spec.repo))
            .repo(&spec.repo)
            .revision(spec.commit.as_str())
            .path(spec.path.as_str());
        let complete = spec.size.is_some_and(|s| have == s && s > 0);
        let mut transferred = 0;
        let resumed_from = have;
        let mut partial = partial;
        let total = spec.size.unwrap_or(0);
        let mut split = !complete && self.parallel().splits(total, have);
        let mut source = None;
        // Whether the probing request below brought the whole file.
        let mut streamed = false;
        if split && let Some(min_rate) = self.parallel().split_below {
            // One open-ended request first: where its first piece comes fast enough, one
            // connection fills the link and it simply goes on to the end (no pieces, no
            // read-back); a slow start stops after that piece and the rest is split.
            let expect = (total, etag.as_str());
            let (response, from) = self
                .open_download(&url, Some((have, None)), expect, &ctx)
                .await?;
            let ranged = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
            let probe = ranged.then_some(Probe {
                bytes: self.parallel().piece_size,
                min_rate,
            });
            let (f, h, got, slow) = self
                .stream_whole(
                    spec,
                    &url,
                    response,
                    file,
                    (hashers, have),
                    lock,
                    progress,
                    &partial,
                    probe,
                )
                .await?;
            (file, hashers, transferred) = (f, h, got);
            have += got;
            streamed = !slow;
            // Slow, with too little left to split: the rest as one stream, below.
            split = slow && self.parallel().splits(total, have);
            source = split.then_some(from);
        }
        if split {
            // Several connections, when the server serves ranges: the first piece's
            // answer says whether it does (a 206), else its 200 is the one stream. After
            // a slow open-ended start, the Hub's answer (or its redirect) is known.
            let first = match source.take() {
                Some(from) => Ok((None, from)),
                None => {
                    let (start, end) = self.parallel().first_range(total, have);
                    self.open_download(&url, Some((start, Some(end))), (total, etag.as_str()), &ctx)
                        .await
                        .map(|(r, from)| (Some(r), from))
                }
            };
            let (response, source) = first?;
            if response
                .as_ref()
                .is_none_or(|r| r.status() == reqwest::StatusCode::PARTIAL_CONTENT)
            {
                let parts = crate::ranged::parts_path(&partial);
                let record = crate::ranged::prefix_path(&partial);
                crate::fsutil::write_replacing(&record, have.to_string().as_bytes())
                    .map_err(|e| HubError::io_at(&record, e))?;
                std::fs::rename(&partial, &parts).map_err(|e| HubError::io_at(&parts, e))?;
                let hold = lock.try_clone().map_err(|e| HubError::io_at(&parts, e))?;
                let probed = transferred;
                let ended = crate::ranged::Split {
                    client: self,
                    source,
                    first: response,
                    size: total,
                    have,
                    ctx: &ctx,
                    progress,
                }
                .run(file, record.clone(), hashers, hold)
                .await;
                if let Some(e) = ended.error {
                    // Keep the hashed prefix for the next run, as a plain partial file.
                    let _ = crate::fsutil::write_replacing(
                        &record,
                        ended.hashed.to_string().as_bytes(),
                    );
                    let _ = crate::ranged::recover_parts(&partial);
                    return Err(e);
                }
                let _ = std::fs::remove_file(&record);
                (hashers, transferred, partial) =
                    (ended.hashers, probed + ended.transferred, parts);
                file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&partial)
                    .map_err(|e| HubError::io_at(&partial, e))?;
            } else if let Some(response) = response {
                (file, hashers, transferred, _) = self
                    .stream_whole(
                        spec,
                        &url,
                        response,
                        file,
                        (hashers, have),
                        lock,
                        progress,
                        &partial,
                        None,
                    )
                    .await?;
            }
        } else if !complete && !streamed {
            let range = (have > 0).then_some((have, None));
            let expect = (total, etag.as_str());
            let (response, _) = self.open_download(&url, range, expect, &ctx).await?;
            let got;
            (file, hashers, got, _) = self
                .stream_whole(
                    spec,
                    &url,
                    response,
                    file,
                    (hashers, have),
                    lock,
                    progress,
                    &partial,
                    None,
                )
                .await?;
            transferred += got;
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
        } else if let Some(want) = spec.sha256.as_ref().filter(|w| **w != *sha256) {
            Some(mismatch(want.as_str(), &sha256))
        } else if let (Some(want), Some(got)) = (spec.git_sha1.as_ref(), git_sha1.as_deref()) {
            (*want != *got).then(|| mismatch(want.as_str(), got))
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
    /// The one-stream download: `response` (a 206 from `have`, or a 200 of the whole
    /// file, which starts the file over) is appended to `file` while hashed.
    #[allow(clippy::too_many_arguments)]
    async fn stream_whole(
        &self,
        spec: &FileSpec,
        url: &str,
        response: reqwest::Response,
        mut file: std::fs::File,
        (mut hashers, mut have): (Hashers, u64),
        lock: &std::fs::File,
        progress: ProgressFn<'_>,
        partial: &std::path::Path,
        probe: Option<Probe>,
    ) -> Result<(std::fs::File, Hashers, u64, bool), HubError> {
        if have > 0 && response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
            // The server ignored the range: start over.
            file.set_len(0).map_err(|e| HubError::io_at(partial, e))?;
            have = 0;
            hashers = Hashers::new(spec.git_sha1.is_some(), spec.size);
        }
        file.seek(SeekFrom::Start(have))
            .map_err(|e| HubError::io_at(partial, e))?;
        let hold = lock.try_clone().map_err(|e| HubError::io_at(partial, e))?;
        let expected = spec.size.unwrap_or(0).saturating_sub(have);
        let speed = LowSpeed::new(self.env().download_timeout);
        let streamed = stream_to_file(
            response,
            file,
            hashers,
            hold,
            expected,
            (speed, probe),
            progress,
        )
        .await;
        let (file, hashers, received, interrupted) =
            streamed.map_err(|e| HubError::io_at(partial, e))?;
        match interrupted {
            None => Ok((file, hashers, received, false)),
            Some(Interrupted::Slow) => Ok((file, hashers, received, true)),
            Some(Interrupted::TooLong) => {
                drop(file);
                let _ = std::fs::remove_file(partial);
                Err(HubError::Protocol {
                    url: super::client::redact_url(url),
                    message: format!(
                        "{} of {} is declared as {} bytes but the server sent more; \
                         refused and discarded",
                        spec.path,
                        spec.repo,
                        spec.size.unwrap_or(0)
                    ),
                })
            }
            Some(Interrupted::Transport(e)) => Err(HubError::Unreachable {
                endpoint: self.shown_endpoint(),
                reason: format!(
                    "download of {} interrupted: {e} (run again to resume)",
                    spec.path
                ),
            }),
            Some(Interrupted::Stalled(reason)) => {
                Err(self.stalled(&super::client::redact_url(url), &reason))
            }
        }
    }
}

/// Size of the blocks handed from the network to the writing and hashing threads.
const BLOCK: usize = 512 << 10;
/// Blocks queued for each of them (memory: a few MiB whatever the file size).
const QUEUE_BLOCKS: usize = 4;
/// Bytes written between two background flushes to disk.
const WRITEBACK_EVERY: usize = 64 << 20;

/// Streams a response body to the end of `file` while hashing it. The network's chunks
/// are gathered into 1 MiB blocks (copied, not queued: a chunk may pin a larger
/// buffer) and handed through short queues to two blocking threads, one writing and
/// one hashing, so receiving, writing and hashing overlap. Every [`WRITEBACK_EVERY`]
/// bytes a third thread flushes what is written (`sync_data`), so the disk works during
/// the download and the `sync_all` before the rename has little left to do.
///
/// `lock` (a duplicate of the blob lock) is released only once the writer is done, so an
/// aborted download keeps the blob locked until its last queued bytes are on disk.
/// Returns the file, the hashers, the bytes received, and what interrupted the body,
/// if anything: everything received before it is written. The body stops as soon as
/// it exceeds `expected` bytes, makes too little progress (`speed`), or starts slower
/// than the probe asks (`Interrupted::Slow`, so the caller can split the rest).
async fn stream_to_file(
    response: reqwest::Response,
    file: std::fs::File,
    hashers: Hashers,
    lock: std::fs::File,
    expected: u64,
    (mut speed, probe): (LowSpeed, Option<Probe>),
    progress: ProgressFn<'_>,
) -> std::io::Result<(std::fs::File, Hashers, u64, Option<Interrupted>)> {
    use std::sync::Arc;
    let (to_writer, writer_rx) = tokio::sync::mpsc::channel::<Arc<Vec<u8>>>(QUEUE_BLOCKS);
    let (to_hasher, hasher_rx) = tokio::sync::mpsc::channel::<Arc<Vec<u8>>>(QUEUE_BLOCKS);
    // Blocks both threads are done with come back for reuse (fresh 1 MiB buffers cost
    // page faults).
    let (recycle, reuse) = std::sync::mpsc::channel::<Vec<u8>>();
    let writer = {
        let recycle = recycle.clone();
        tokio::task::spawn_blocking(move || {
            let written = write_blocks(file, writer_rx, recycle);
            drop(lock);
            written
        })
    };
    let hasher = tokio::task::spawn_blocking(move || hash_blocks(hashers, hasher_rx, recycle));

    let too_long = response_too_long(&response, expected);
    let mut stream = response.bytes_stream();
    let mut received = 0u64;
    let mut interrupted = None;
    let mut block: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut alive = true;
    let started = std::time::Instant::now();
    let mut probe = probe;
    if too_long {
        interrupted = Some(Interrupted::TooLong);
    }
    'receive: while interrupted.is_none() {
        let chunk = match speed.next(&mut stream).await {
            Ok(Some(Ok(c))) => c,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                interrupted = Some(Interrupted::Transport(e));
                break;
            }
            Err(reason) => {
                interrupted = Some(Interrupted::Stalled(reason));
                break;
            }
        };
        if received + chunk.len() as u64 > expected {
            interrupted = Some(Interrupted::TooLong);
            break;
        }
        let mut rest: &[u8] = &chunk;
        while !rest.is_empty() {
            let take = rest.len().min(BLOCK - block.len());
            block.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if block.len() == BLOCK {
                let mut next = reuse
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
                next.clear();
                let full = Arc::new(std::mem::replace(&mut block, next));
                if to_writer.send(full.clone()).await.is_err()
                    || to_hasher.send(full).await.is_err()
                {
                    alive = false; // the writer failed; its error is returned below
                    break 'receive;
                }
            }
        }
        received += chunk.len() as u64;
        progress(chunk.len() as u64);
        if let Some(p) = probe
            && received >= p.bytes
        {
            probe = None;
            let rate = received as f64 / started.elapsed().as_secs_f64().max(1e-6);
            if rate < p.min_rate as f64 {
                interrupted = Some(Interrupted::Slow);
            }
        }
    }
    if alive && !block.is_empty() {
        let last = Arc::new(block);
        if to_writer.send(last.clone()).await.is_ok() {
            let _ = to_hasher.send(last).await;
        }
    }
    drop((to_writer, to_hasher));
    let joined = |e: tokio::task::JoinError| std::io::Error::other(e.to_string());
    let file = writer.await.map_err(joined)??;
    let hashers = hasher.await.map_err(joined)?;
    Ok((file, hashers, received, interrupted))
}

/// Timing the start of a body: after `bytes`, a rate under `min_rate` bytes/s stops it
/// (what it got is written and hashed) so the rest can come over several connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub bytes: u64,
    pub min_rate: u64,
}

/// Why a body stopped before its end.
#[derive(Debug)]
enum Interrupted {
    /// Slower than the probe's rate: the caller splits the rest.
    Slow,
    Transport(reqwest::Error),
    /// Below the low-speed limit.
    Stalled(String),
    /// More bytes than the file's declared size.
    TooLong,
}

fn response_too_long(response: &reqwest::Response, expected: u64) -> bool {
    response.content_length().is_some_and(|n| n > expected)
}

/// Gives a block back for reuse when the other thread is done with it too.
fn release(block: std::sync::Arc<Vec<u8>>, recycle: &std::sync::mpsc::Sender<Vec<u8>>) {
    if let Ok(v) = std::sync::Arc::try_unwrap(block) {
        let _ = recycle.send(v);
    }
}

/// The writing thread: appends blocks to `file`, kicking a background flush now and then.
fn write_blocks(
    mut file: std::fs::File,
    mut rx: tokio::sync::mpsc::Receiver<std::sync::Arc<Vec<u8>>>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
) -> std::io::Result<std::fs::File> {
    let (kick, kicked) = std::sync::mpsc::sync_channel::<()>(1);
    let flusher = file.try_clone().ok().map(|dup| {
        std::thread::spawn(move || {
            while kicked.recv().is_ok() {
                let _ = dup.sync_data();
            }
        })
    });
    let mut since_kick = 0;
    let mut result = Ok(());
    while let Some(block) = rx.blocking_recv() {
        if let Err(e) = file.write_all(&block) {
            result = Err(e);
            break;
        }
        since_kick += block.len();
        if since_kick >= WRITEBACK_EVERY {
            // Never waits: while a flush is still running, the next one is skipped.
            let _ = kick.try_send(());
            since_kick = 0;
        }
        release(block, &recycle);
    }
    drop(kick);
    if let Some(f) = flusher {
        let _ = f.join();
    }
    result.map(|()| file)
}

/// The hashing thread.
fn hash_blocks(
    mut hashers: Hashers,
    mut rx: tokio::sync::mpsc::Receiver<std::sync::Arc<Vec<u8>>>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
) -> Hashers {
    while let Some(block) = rx.blocking_recv() {
        hashers.update(&block);
        release(block, &recycle);
    }
    hashers
}

/// SHA-256 always; git blob SHA-1 for regular files (whose size is known up front).
pub(crate) struct Hashers {
    sha256: sha2::Sha256,
    sha1: Option<Sha1>,
}

impl Hashers {
    pub(crate) fn new(git: bool, size: Option<u64>) -> Hashers {
        let sha1 = match (git, size) {
            (true, Some(size)) => {
                let mut h = Sha1::new();
                h.update(format!("blob {size}\0").as_bytes());
                Some(h)
            }
            _ => None,
        };
        Hashers {
            sha256: sha2::Sha256::new(),
            sha1,
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
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
