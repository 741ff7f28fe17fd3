//! Where file contents live: one interface ([`BlobStore`]) over two backends, the data
//! directory's `blobs/` (the default, [`local`]) and any S3-compatible object store
//! ([`s3`], through the `object_store` crate). Both are content addressed (a blob's key
//! is its SHA-256), and on both a blob becomes visible only whole and verified: local
//! blobs are renamed into place after an fsync, S3 blobs are single PUTs or multipart
//! uploads completed only once their hash and size checked out. Metadata (repos, refs,
//! commits, tokens) stays in the data directory whatever the backend.
//!
//! The store's methods are synchronous (the catalog calls them on blocking threads, under
//! its writer lock); the S3 backend runs its requests on the server's runtime through a
//! captured handle. Streaming reads and uploads are async.

pub mod local;
pub mod s3;

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use super::errors::HubError;
use super::objects::GitBlobHasher;
use super::storage::StagedBlob;

/// Which backend holds the blobs.
#[derive(Debug, Clone, Default)]
pub enum BlobsConfig {
    /// `DATA_DIR/blobs/<ab>/<sha256>` (default).
    #[default]
    Local,
    /// An S3-compatible object store.
    S3(s3::S3Config),
}

impl BlobsConfig {
    /// Reads `--blobs`: `s3://bucket[/prefix]` is an object store (credentials and
    /// endpoint from the standard `AWS_*` variables), anything else is refused; no value
    /// means the data directory.
    pub fn parse(value: &str) -> Result<BlobsConfig, HubError> {
        s3::S3Config::from_url(value).map(BlobsConfig::S3)
    }
}

/// The blob store of a running server.
#[derive(Debug)]
pub enum BlobStore {
    Local(local::LocalBlobs),
    S3(s3::S3Blobs),
}

/// A blob being uploaded (streamed, hashed while written). Dropped or aborted, it leaves
/// no visible object.
pub enum Upload {
    Local(local::LocalUpload),
    S3(s3::S3Upload),
}

/// What a finished upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub sha256: String,
    pub size: u64,
    pub git_sha1: String,
}

/// Hashes an upload as it arrives and checks it against what was announced.
pub struct UploadCheck {
    sha256: sha2::Sha256,
    git: GitBlobHasher,
    written: u64,
    expected_size: u64,
    expected_sha256: String,
}

impl UploadCheck {
    pub fn new(expected_sha256: &str, expected_size: u64) -> Self {
        use sha2::Digest;
        UploadCheck {
            sha256: sha2::Sha256::new(),
            git: GitBlobHasher::new(expected_size),
            written: 0,
            expected_size,
            expected_sha256: expected_sha256.to_owned(),
        }
    }

    /// Hashes `bytes`; more than the announced size is refused at once.
    pub fn update(&mut self, bytes: &[u8]) -> Result<(), HubError> {
        use sha2::Digest;
        self.written += bytes.len() as u64;
        if self.written > self.expected_size {
            return Err(HubError::UploadMismatch {
                oid: self.expected_sha256.clone(),
                why: format!("more than the announced {} bytes", self.expected_size),
            });
        }
        self.sha256.update(bytes);
        self.git.update(bytes);
        Ok(())
    }

    /// The hashes, if size and SHA-256 are the announced ones.
    pub fn finish(self) -> Result<Uploaded, HubError> {
        use sha2::Digest;
        if self.written != self.expected_size {
            return Err(HubError::UploadMismatch {
                oid: self.expected_sha256,
                why: format!(
                    "got {} bytes, announced {}",
                    self.written, self.expected_size
                ),
            });
        }
        let sha256 = hex::encode(self.sha256.finalize());
        if sha256 != self.expected_sha256 {
            return Err(HubError::UploadMismatch {
                oid: self.expected_sha256,
                why: format!("the content's SHA-256 is {sha256}"),
            });
        }
        Ok(Uploaded {
            sha256,
            size: self.written,
            git_sha1: self.git.finish(),
        })
    }
}

impl BlobStore {
    /// The size of a stored blob, if it is stored.
    pub fn size(&self, sha256: &str) -> Result<Option<u64>, HubError> {
        match self {
            BlobStore::Local(l) => Ok(l.size(sha256)),
            BlobStore::S3(s) => s.size(sha256),
        }
    }

    /// Stores a staged blob unless already stored; `true` if this call created it.
    pub fn publish(&self, blob: StagedBlob) -> Result<bool, HubError> {
        match self {
            BlobStore::Local(l) => l.publish(blob),
            BlobStore::S3(s) => s.publish(blob),
        }
    }

    /// Makes the blobs published since the last call durable (local: fsyncs their
    /// directories; S3: a completed PUT already is).
    pub fn sync(&self, created: &[String]) -> Result<(), HubError> {
        match self {
            BlobStore::Local(l) => l.sync(created),
            BlobStore::S3(_) => Ok(()),
        }
    }

    /// Removes blobs (a failed commit's new ones).
    pub fn remove(&self, created: &[String]) {
        match self {
            BlobStore::Local(l) => l.remove(created),
            BlobStore::S3(s) => s.remove(created),
        }
    }

    /// Reads a whole small blob (at most `max` bytes; larger ones give `None`).
    pub fn read_small(&self, sha256: &str, max: u64) -> Option<Vec<u8>> {
        match self {
            BlobStore::Local(l) => l.read_small(sha256, max),
            BlobStore::S3(s) => s.read_small(sha256, max),
        }
    }

    /// Streams `len` bytes of a blob from `start`.
    pub async fn read_range(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, HubError> {
        match self {
            BlobStore::Local(l) => l.read_range(sha256, start, len).await,
            BlobStore::S3(s) => s.read_range(sha256, start, len).await,
        }
    }

    /// A short-lived URL the blob can be fetched from without the Hub, if the backend
    /// has such URLs (S3 presigned GETs; the local backend has none).
    pub async fn presigned_get(
        &self,
        sha256: &str,
        expires_in: Duration,
    ) -> Result<Option<String>, HubError> {
        match self {
            BlobStore::Local(_) => Ok(None),
            BlobStore::S3(s) => s.presigned_get(sha256, expires_in).await.map(Some),
        }
    }

    /// Starts streaming a blob announced as `sha256` of `size` bytes into the store.
    pub async fn upload(&self, sha256: &str, size: u64) -> Result<Upload, HubError> {
        match self {
            BlobStore::Local(l) => l.upload(sha256, size).map(Upload::Local),
            BlobStore::S3(s) => s.upload(sha256, size).await.map(Upload::S3),
        }
    }

    /// The keys of every stored blob (tests and maintenance).
    pub fn list(&self) -> Result<Vec<String>, HubError> {
        match self {
            BlobStore::Local(l) => Ok(l.list()),
            BlobStore::S3(s) => s.list(),
        }
    }
}

impl Upload {
    /// Appends content (hashed on the way).
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), HubError> {
        match self {
            Upload::Local(u) => u.write(&bytes),
            Upload::S3(u) => u.write(bytes).await,
        }
    }

    /// Completes the upload if the content is the announced one; otherwise nothing
    /// becomes visible.
    pub async fn finish(self) -> Result<Uploaded, HubError> {
        match self {
            Upload::Local(u) => u.finish(),
            Upload::S3(u) => u.finish().await,
        }
    }

    /// Gives the upload up: nothing becomes visible.
    pub async fn abort(self) {
        match self {
            Upload::Local(u) => drop(u),
            Upload::S3(u) => u.abort().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_check_accepts_only_the_announced_content() {
        let content = b"weights";
        let sha = crate::objects::sha256_hex(content);
        let mut ok = UploadCheck::new(&sha, 7);
        ok.update(b"weig").unwrap();
        ok.update(b"hts").unwrap();
        let done = ok.finish().unwrap();
        assert_eq!(done.git_sha1, crate::objects::git_blob_id(content));

        let mut long = UploadCheck::new(&sha, 7);
        assert!(
            long.update(b"weights!").is_err(),
            "refused as soon as it overflows"
        );
        let mut short = UploadCheck::new(&sha, 7);
        short.update(b"weight").unwrap();
        assert!(matches!(
            short.finish(),
            Err(HubError::UploadMismatch { .. })
        ));
        let mut other = UploadCheck::new(&sha, 7);
        other.update(b"Weights").unwrap();
        assert!(matches!(
            other.finish(),
            Err(HubError::UploadMismatch { .. })
        ));
    }

    #[test]
    fn blobs_urls() {
        let BlobsConfig::S3(c) = BlobsConfig::parse("s3://rskill-blobs/site/a/").unwrap() else {
            panic!("an S3 config")
        };
        assert_eq!(
            (c.bucket.as_str(), c.prefix.as_str()),
            ("rskill-blobs", "site/a")
        );
        let BlobsConfig::S3(c) = BlobsConfig::parse("s3://rskill").unwrap() else {
            panic!("an S3 config")
        };
        assert_eq!(c.prefix, "");
        for bad in ["gs://b/p", "s3://", "s3://ab", "s3://Upper/p", "/srv/blobs"] {
            assert!(
                matches!(
                    BlobsConfig::parse(bad),
                    Err(HubError::InvalidBlobsUrl { .. })
                ),
                "{bad}"
            );
        }
    }
}
