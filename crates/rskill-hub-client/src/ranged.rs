//! One big file over several connections, the way hf_transfer fetches it: where a
//! link caps each connection (a proxy, a CDN, a long fat pipe), one stream cannot fill
//! it, N ranged requests can. The file is cut into pieces; `connections` workers take
//! the next piece in order, write what arrives at its offset (positional writes), and
//! resume their own piece with a new `Range` when the connection drops. A hashing
//! thread follows the contiguous written prefix (reading back what was just written,
//! still in the page cache), so the digest is ready when the last byte lands: no second
//! pass, and memory stays bounded (a block per connection). Workers never run more
//! than a window of pieces ahead of that prefix.
//!
//! The pieces are written to `blobs/<etag>.parts` (never to the `.incomplete` other
//! clients resume by its length, which has holes here), and the hashed prefix is
//! recorded beside it (`.parts-prefix`): a run that ends in an error truncates the
//! file to that prefix and hands it back as `.incomplete`; after a crash,
//! [`recover_parts`] does the same on the next run.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Response, StatusCode};

use super::client::{Ctx, HubClient, LowSpeed};
use super::download::{Hashers, ProgressFn};
use super::error::HubError;
use super::redirect::Source;

/// Default connections per big file (hf_transfer's `max_files` is 8 too). They open only
/// when one connection proves slow (see [`DEFAULT_SPLIT_BELOW`]).
pub const DEFAULT_CONNECTIONS: usize = 8;
/// Most connections accepted from the environment or a flag.
pub const MAX_CONNECTIONS: usize = 64;
/// Files from this size on are split (when the server serves ranges).
pub const DEFAULT_SPLIT_THRESHOLD: u64 = 64 << 20;
/// Size of one piece (one ranged request).
pub const DEFAULT_PIECE_SIZE: u64 = 16 << 20;
/// A big file starts as one open-ended request; if its first piece came at least this
/// fast (bytes/s), one connection fills the link and that request simply goes on to the
/// end. Slower, it stops after the piece and the rest is split. On loopback or a fast LAN
/// eight connections only add writes at scattered offsets, a read-back for the hash and
/// buffers (measured: 1 GiB in 1.53 s and 115 MiB peak RSS split from the start, 1.07 s
/// and 51 MiB on one stream; `scripts/bench-install.sh`).
pub const DEFAULT_SPLIT_BELOW: u64 = 300 << 20;
/// Attempts per piece (its connection dropped or stalled) before the download fails.
const PIECE_ATTEMPTS: usize = 5;
/// Bytes gathered before one positional write.
const WRITE_BLOCK: usize = 1 << 20;
/// How far (in pieces per connection) workers may run ahead of the hashed prefix.
const WINDOW_PER_CONNECTION: u64 = 4;
/// The hashed prefix is recorded every this many bytes (and at the end).
const RECORD_EVERY: u64 = 64 << 20;
/// Permits of the write gate: more than the positional writes ever in flight.
const WRITE_PERMITS: u32 = 1 << 16;

/// How big downloads are split: `RSKILL_DOWNLOAD_CONNECTIONS` (1 = one stream),
/// `RSKILL_DOWNLOAD_SPLIT_MIB` (files from this size on are split),
/// `RSKILL_DOWNLOAD_PIECE_MIB` (size of one ranged request),
/// `RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS` (the other connections open only when the first
/// piece came slower than this many MiB/s; 0: always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parallel {
    pub connections: usize,
    pub split_threshold: u64,
    pub piece_size: u64,
    /// Bytes/s: a first piece at least this fast keeps the download on one connection;
    /// `None` opens every connection at once.
    pub split_below: Option<u64>,
}

impl Default for Parallel {
    fn default() -> Parallel {
        Parallel {
            connections: DEFAULT_CONNECTIONS,
            split_threshold: DEFAULT_SPLIT_THRESHOLD,
            piece_size: DEFAULT_PIECE_SIZE,
            split_below: Some(DEFAULT_SPLIT_BELOW),
        }
    }
}

impl Parallel {
    /// From the `RSKILL_DOWNLOAD_*` variables; a value that is not a positive number is
    /// ignored (the default holds).
    pub fn from_env() -> Parallel {
        Parallel::from_values(|name| std::env::var(name).ok())
    }

    /// As [`Parallel::from_env`], reading variables through `get`.
    pub fn from_values(get: impl Fn(&str) -> Option<String>) -> Parallel {
        let number = |name: &str| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        let d = Parallel::default();
        Parallel {
            connections: number("RSKILL_DOWNLOAD_CONNECTIONS")
                .map(|n| n.min(MAX_CONNECTIONS as u64) as usize)
                .unwrap_or(d.connections),
            split_threshold: number("RSKILL_DOWNLOAD_SPLIT_MIB")
                .and_then(|n| n.checked_mul(1 << 20))
                .unwrap_or(d.split_threshold),
            piece_size: number("RSKILL_DOWNLOAD_PIECE_MIB")
                .and_then(|n| n.checked_mul(1 << 20))
                .unwrap_or(d.piece_size),
            split_below: match get("RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS")
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(0) => None,
                Some(n) => n.checked_mul(1 << 20).or(d.split_below),
                None => d.split_below,
            },
        }
    }

    /// The same with `connections` (clamped to 1..=[`MAX_CONNECTIONS`]).
    pub fn with_connections(mut self, connections: usize) -> Parallel {
        self.connections = connections.clamp(1, MAX_CONNECTIONS);
        self
    }

    /// True when a file of `size` bytes, `have` of them already on disk, is split.
    pub fn splits(&self, size: u64, have: u64) -> bool {
        self.connections > 1
            && self.piece_size > 0
            && size >= self.split_threshold
            && size - have > self.piece_size
    }

    /// The first piece's range from `have`: `(start, inclusive end)`.
    pub fn first_range(&self, size: u64, have: u64) -> (u64, u64) {
        (have, (have + self.piece_size).min(size) - 1)
    }
}

/// Where the pieces of `partial` (`blobs/<etag>.incomplete`) are written.
pub fn parts_path(partial: &Path) -> PathBuf {
    partial.with_extension("parts")
}

/// Where the hashed prefix of the `.parts` file is recorded.
pub fn prefix_path(partial: &Path) -> PathBuf {
    partial.with_extension("parts-prefix")
}

/// After a crash during a split download: the `.parts` file, cut to the prefix that
/// was hashed, becomes the `.incomplete` file again (unless one at least as long is
/// there), so the usual resume re-fetches only what lies beyond it. Call it holding
/// the blob lock.
pub fn recover_parts(partial: &Path) -> std::io::Result<()> {
    let parts = parts_path(partial);
    let record = prefix_path(partial);
    if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&parts) {
        let len = file.metadata()?.len();
        let prefix = std::fs::read_to_string(&record)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .min(len);
        let other = std::fs::metadata(partial).map(|m| m.len()).ok();
        if other.is_none_or(|o| o < prefix) {
            file.set_len(prefix)?;
            drop(file);
            std::fs::rename(&parts, partial)?;
        } else {
            drop(file);
            std::fs::remove_file(&parts)?;
        }
    }
    match std::fs::remove_file(&record) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A split download under way.
pub(crate) struct Split<'a> {
    pub client: &'a HubClient,
    pub source: Source,
    /// The answer to the first piece's request (a 206).
    pub first: Option<Response>,
    pub size: u64,
    /// Bytes already hashed (the start of the first piece).
    pub have: u64,
    pub ctx: &'a Ctx,
    pub progress: ProgressFn<'a>,
}

/// What a split download left: the hashers (over the hashed prefix), how far that
/// prefix goes, and the bytes received.
pub(crate) struct SplitEnd {
    pub hashers: Hashers,
    pub hashed: u64,
    pub transferred: u64,
    pub error: Option<HubError>,
}

impl Split<'_> {
    /// Downloads every piece from `have` into `file` (the `.parts` file; `record` is
    /// where the hashed prefix goes), feeding `hashers` in order. `lock` (the blob lock)
    /// is held by every write and by the hasher until they end, even when this future
    /// is dropped.
    pub(crate) async fn run(
        mut self,
        file: std::fs::File,
        record: PathBuf,
        hashers: Hashers,
        lock: std::fs::File,
    ) -> SplitEnd {
        let parallel = self.client.parallel().clone();
        let piece = parallel.piece_size;
        let (have, size) = (self.have, self.size);
        let pieces = (size - have).div_ceil(piece);
        let file = Arc::new(file);
        let lock = Arc::new(lock);
        let gate = Arc::new(tokio::sync::Semaphore::new(WRITE_PERMITS as usize));
        let (done_tx, done_rx) = std::sync::mpsc::channel::<u64>();
        let (frontier_tx, frontier_rx) = tokio::sync::watch::channel(have);
        let hasher = {
            let (file, lock, record) = (file.clone(), lock.clone(), record.clone());
            tokio::task::spawn_blocking(move || {
                let out = follow_prefix(
                    &file,
                    hashers,
                    have,
                    size,
                    piece,
                    done_rx,
                    &frontier_tx,
                    &record,
                );
                drop(lock);
                out
            })
        };
        let next = AtomicU64::new(0);
        let transferred = AtomicU64::new(0);
        let first = std::sync::Mutex::new(self.first.take());
        let window = WINDOW_PER_CONNECTION * parallel.connections as u64 * piece;
        let (this, next, transferred_ref, first) = (&self, &next, &transferred, &first);
        let (file_ref, lock_ref, gate_ref, done_ref) = (&file, &lock, &gate, &done_tx);
        let frontier_ref = &frontier_rx;
        let worker = move || async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= pieces {
                    return Ok(());
                }
                let start = have + k * piece;
                let end = (start + piece).min(size);
                // Not too far ahead of the hashed prefix (the page cache keeps what
                // the hasher reads back).
                let mut frontier = frontier_ref.clone();
                if frontier.wait_for(|f| f + window >= end).await.is_err() {
                    return Err(HubError::Other("the hashing thread stopped".into()));
                }
                // The first piece's answer is already there.
                let response = if k == 0 {
                    first.lock().unwrap_or_else(|e| e.into_inner()).take()
                } else {
                    None
                };
                this.fetch_piece(
                    response,
                    (start, end),
                    file_ref,
                    lock_ref,
                    gate_ref,
                    transferred_ref,
                )
                .await?;
                if done_ref.send(k).is_err() {
                    return Err(HubError::Other("the hashing thread stopped".into()));
                }
            }
        };
        let workers = (0..parallel.connections.min(pieces as usize).max(1)).map(|_| worker());
        let result = futures::future::try_join_all(workers).await;
        drop(done_tx);
        // Every positional write is over before the file is judged or cut.
        let _ = gate.acquire_many(WRITE_PERMITS).await;
        let joined = hasher.await;
        let transferred = transferred.load(Ordering::Relaxed);
        match joined {
            Ok(Ok((hashers, hashed))) => SplitEnd {
                hashers,
                hashed,
                transferred,
                error: result.err(),
            },
            Ok(Err(e)) => SplitEnd {
                hashers: Hashers::new(false, None),
                hashed: 0,
                transferred,
                error: Some(HubError::io_at(&record, e)),
            },
            Err(e) => SplitEnd {
                hashers: Hashers::new(false, None),
                hashed: 0,
                transferred,
                error: Some(HubError::Other(format!("the hashing thread failed: {e}"))),
            },
        }
    }

    /// Fetches `[start, end)` into `file`, resuming after a dropped connection from
    /// where that piece stopped, up to [`PIECE_ATTEMPTS`] times.
    async fn fetch_piece(
        &self,
        mut response: Option<Response>,
        (start, end): (u64, u64),
        file: &Arc<std::fs::File>,
        lock: &Arc<std::fs::File>,
        gate: &Arc<tokio::sync::Semaphore>,
        transferred: &AtomicU64,
    ) -> Result<(), HubError> {
        let mut at = start;
        let mut attempt = 0;
        let url = super::client::redact_url(self.source.url.as_str());
        loop {
            attempt += 1;
            let r = match response.take() {
                Some(r) => r,
                None => self
                    .client
                    .get_range(&self.source, Some((at, Some(end - 1))), self.ctx)
                    .await
                    .map_err(|e| match e {
                        HubError::Unreachable { endpoint, reason } => HubError::Unreachable {
                            endpoint,
                            reason: format!("{reason} (run again to resume)"),
                        },
                        other => other,
                    })?,
            };
            check_piece_answer(&r, at, end, self.size).map_err(|message| HubError::Protocol {
                url: url.clone(),
                message,
            })?;
            let mut speed = LowSpeed::new(self.client.env().download_timeout);
            let mut stream = r.bytes_stream();
            let mut block: Vec<u8> = Vec::with_capacity(WRITE_BLOCK);
            let mut block_at = at;
            let mut broke = None;
            loop {
                let chunk = match speed.next(&mut stream).await {
                    Ok(Some(Ok(c))) => c,
                    Ok(None) => break,
                    Ok(Some(Err(e))) => {
                        broke = Some(e.to_string());
                        break;
                    }
                    Err(reason) => {
                        broke = Some(reason);
                        break;
                    }
                };
                if at + chunk.len() as u64 > end {
                    return Err(HubError::Protocol {
                        url,
                        message: format!(
                            "bytes {start}-{} of {} were asked for, the server sent more; \
                             refused",
                            end - 1,
                            self.ctx.path.as_deref().unwrap_or("the file")
                        ),
                    });
                }
                block.extend_from_slice(&chunk);
                at += chunk.len() as u64;
                transferred.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                (self.progress)(chunk.len() as u64);
                if block.len() >= WRITE_BLOCK {
                    let full = std::mem::replace(&mut block, Vec::with_capacity(WRITE_BLOCK));
                    write_at(file, lock, gate, full, block_at).await?;
                    block_at = at;
                }
            }
            write_at(file, lock, gate, block, block_at).await?;
            if at == end {
                return Ok(());
            }
            let reason = broke.unwrap_or_else(|| "the body ended early".into());
            if attempt >= PIECE_ATTEMPTS {
                return Err(HubError::Unreachable {
                    endpoint: self.client.shown_endpoint(),
                    reason: format!(
                        "bytes {start}-{} of {} from {url}: {reason}, {PIECE_ATTEMPTS} times \
                         (run again to resume)",
                        end - 1,
                        self.ctx.path.as_deref().unwrap_or("the file")
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(100 << attempt.min(4))).await;
        }
    }
}

/// A ranged answer must be a 206 for exactly `[at, end)` of a file of `size` bytes.
pub fn check_piece_answer(r: &Response, at: u64, end: u64, size: u64) -> Result<(), String> {
    if r.status() != StatusCode::PARTIAL_CONTENT {
        return Err(format!(
            "bytes {at}-{} were asked for, the server answered {}",
            end - 1,
            r.status()
        ));
    }
    let want = format!("bytes {at}-{}/{size}", end - 1);
    let got = r
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if got.trim() != want {
        let shown: String = got.chars().take(80).collect();
        return Err(format!(
            "Content-Range `{shown}` does not match the range asked for (`{want}`)"
        ));
    }
    Ok(())
}

/// Writes `bytes` at `offset` on a blocking thread, which holds the file, the blob lock
/// and a permit of `gate` until it is done (even if the caller is dropped).
async fn write_at(
    file: &Arc<std::fs::File>,
    lock: &Arc<std::fs::File>,
    gate: &Arc<tokio::sync::Semaphore>,
    bytes: Vec<u8>,
    offset: u64,
) -> Result<(), HubError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let permit = gate
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| HubError::Other(e.to_string()))?;
    let (file, lock) = (file.clone(), lock.clone());
    tokio::task::spawn_blocking(move || {
        let written = file.write_all_at(&bytes, offset);
        drop((permit, lock));
        written
    })
    .await
    .map_err(|e| HubError::Other(e.to_string()))?
    .map_err(|e| HubError::io("writing a downloaded piece", e))
}

/// The hashing thread: as pieces complete, extends the contiguous prefix, reads it back
/// and hashes it, publishes how far it is, and records it now and then. Returns the
/// hashers and the hashed length once every worker is gone.
#[allow(clippy::too_many_arguments)]
fn follow_prefix(
    file: &std::fs::File,
    mut hashers: Hashers,
    have: u64,
    size: u64,
    piece: u64,
    done: std::sync::mpsc::Receiver<u64>,
    frontier: &tokio::sync::watch::Sender<u64>,
    record: &Path,
) -> std::io::Result<(Hashers, u64)> {
    let mut finished = std::collections::BTreeSet::new();
    let mut contiguous = 0u64; // pieces
    let mut hashed = have;
    let mut recorded = have;
    let mut buf = vec![0u8; 1 << 20];
    while let Ok(k) = done.recv() {
        finished.insert(k);
        while finished.remove(&contiguous) {
            contiguous += 1;
        }
        let upto = (have + contiguous * piece).min(size);
        while hashed < upto {
            let n = ((upto - hashed) as usize).min(buf.len());
            file.read_exact_at(&mut buf[..n], hashed)?;
            hashers.update(&buf[..n]);
            hashed += n as u64;
        }
        let _ = frontier.send(hashed);
        if hashed - recorded >= RECORD_EVERY || hashed == size {
            crate::fsutil::write_replacing(record, hashed.to_string().as_bytes())?;
            recorded = hashed;
        }
    }
    Ok((hashers, hashed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Parallel::from_values(vars(&[])), Parallel::default());
        let p = Parallel::from_values(vars(&[
            ("RSKILL_DOWNLOAD_CONNECTIONS", "3"),
            ("RSKILL_DOWNLOAD_SPLIT_MIB", "10"),
            ("RSKILL_DOWNLOAD_PIECE_MIB", "2"),
        ]));
        assert_eq!(
            p,
            Parallel {
                connections: 3,
                split_threshold: 10 << 20,
                piece_size: 2 << 20,
                split_below: Some(DEFAULT_SPLIT_BELOW),
            }
        );
        let bad = Parallel::from_values(vars(&[
            ("RSKILL_DOWNLOAD_CONNECTIONS", "0"),
            ("RSKILL_DOWNLOAD_SPLIT_MIB", "x"),
            ("RSKILL_DOWNLOAD_PIECE_MIB", "-1"),
        ]));
        assert_eq!(bad, Parallel::default());
        let many = Parallel::from_values(vars(&[("RSKILL_DOWNLOAD_CONNECTIONS", "1000")]));
        assert_eq!(many.connections, MAX_CONNECTIONS);
        let always = Parallel::from_values(vars(&[("RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS", "0")]));
        assert_eq!(always.split_below, None);
        let slow = Parallel::from_values(vars(&[("RSKILL_DOWNLOAD_SPLIT_BELOW_MIBS", "20")]));
        assert_eq!(slow.split_below, Some(20 << 20));
    }

    #[test]
    fn when_files_are_split() {
        let p = Parallel {
            connections: 4,
            split_threshold: 100,
            piece_size: 10,
            split_below: None,
        };
        assert!(p.splits(100, 0));
        assert!(!p.splits(99, 0));
        assert!(!p.splits(100, 90), "one piece left: one stream");
        assert!(!p.clone().with_connections(1).splits(1000, 0));
        assert_eq!(p.first_range(100, 95), (95, 99));
        assert_eq!(p.first_range(100, 0), (0, 9));
    }

    #[test]
    fn a_crashed_split_download_resumes_from_its_hashed_prefix() {
        let d = tempfile::tempdir().unwrap();
        let partial = d.path().join("abc.incomplete");
        // Pieces beyond the prefix were written, with a hole in between.
        let parts = parts_path(&partial);
        let f = std::fs::File::create(&parts).unwrap();
        f.write_all_at(b"0123456789", 0).unwrap();
        f.write_all_at(b"zz", 40).unwrap();
        std::fs::write(prefix_path(&partial), "10").unwrap();
        recover_parts(&partial).unwrap();
        assert_eq!(std::fs::read(&partial).unwrap(), b"0123456789");
        assert!(!parts.exists() && !prefix_path(&partial).exists());
        // A longer `.incomplete` (another client's) wins over a shorter prefix.
        let f = std::fs::File::create(&parts).unwrap();
        f.write_all_at(b"0123", 0).unwrap();
        std::fs::write(prefix_path(&partial), "4").unwrap();
        recover_parts(&partial).unwrap();
        assert_eq!(std::fs::read(&partial).unwrap(), b"0123456789");
        assert!(!parts.exists());
        // No record: nothing of the parts is trusted.
        std::fs::remove_file(&partial).unwrap();
        std::fs::write(&parts, b"garbage").unwrap();
        recover_parts(&partial).unwrap();
        assert_eq!(std::fs::read(&partial).unwrap(), b"");
    }
}
