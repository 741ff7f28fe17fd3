//! The default blob backend: `DATA_DIR/blobs/<ab>/<sha256>`. A blob is written to the
//! staging area (`DATA_DIR/tmp`), fsynced, renamed into place and its directory fsynced,
//! so it is visible only whole; a dropped upload leaves a staging file that the next
//! start removes (or that is removed at once when the upload is dropped).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::Uploaded;
use crate::errors::HubError;
use crate::storage::{BlobStager, StagedBlob, sync_dir};

/// Bytes read from disk per chunk of a response body.
const CHUNK: usize = 256 * 1024;

/// Blobs in the data directory.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    blobs: PathBuf,
    tmp: PathBuf,
    durable: bool,
}

impl LocalBlobs {
    pub fn new(data_dir: &Path, durable: bool) -> Self {
        LocalBlobs {
            blobs: data_dir.join("blobs"),
            tmp: data_dir.join("tmp"),
            durable,
        }
    }

    /// Where the blob with this SHA-256 lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.blobs.join(&sha256[..2]).join(sha256)
    }

    pub fn size(&self, sha256: &str) -> Option<u64> {
        fs::metadata(self.path(sha256)).ok().map(|m| m.len())
    }

    pub fn publish(&self, blob: StagedBlob) -> Result<bool, HubError> {
        let dest = self.path(&blob.sha256);
        if dest.exists() {
            return Ok(false);
        }
        let parent = dest.parent().expect("blob paths have a parent");
        fs::create_dir_all(parent)
            .and_then(|()| blob.into_path().persist(&dest).map_err(|e| e.error))
            .map_err(HubError::io_with(format!(
                "storing blob {}",
                dest.display()
            )))?;
        Ok(true)
    }

    pub fn sync(&self, created: &[String]) -> Result<(), HubError> {
        if !self.durable || created.is_empty() {
            return Ok(());
        }
        let mut dirs: Vec<PathBuf> = created
            .iter()
            .filter_map(|sha| self.path(sha).parent().map(Path::to_owned))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs.push(self.blobs.clone());
        for d in &dirs {
            sync_dir(d)?;
        }
        Ok(())
    }

    pub fn remove(&self, created: &[String]) {
        for sha in created {
            let _ = fs::remove_file(self.path(sha));
        }
    }

    pub fn read_small(&self, sha256: &str, max: u64) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        File::open(self.path(sha256))
            .ok()?
            .take(max + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= max).then_some(bytes)
    }

    pub async fn read_range(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, HubError> {
        let path = self.path(sha256);
        let mut f = tokio::fs::File::open(&path)
            .await
            .map_err(HubError::io_with(format!(
                "opening blob {}",
                path.display()
            )))?;
        if start > 0 {
            f.seek(io::SeekFrom::Start(start))
                .await
                .map_err(HubError::io_with(format!(
                    "seeking blob {}",
                    path.display()
                )))?;
        }
        Ok(ReaderStream::with_capacity(f.take(len), CHUNK).boxed())
    }

    /// Starts an upload into the staging area.
    pub fn upload(&self, sha256: &str, size: u64) -> Result<LocalUpload, HubError> {
        Ok(LocalUpload {
            stager: BlobStager::new_in(&self.tmp, size, self.durable)?,
            expected_sha256: sha256.to_owned(),
            expected_size: size,
            written: 0,
            blobs: self.clone(),
        })
    }

    pub fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        for dir in fs::read_dir(&self.blobs).into_iter().flatten().flatten() {
            for f in fs::read_dir(dir.path()).into_iter().flatten().flatten() {
                if let Some(name) = f.file_name().to_str() {
                    out.push(name.to_owned());
                }
            }
        }
        out.sort();
        out
    }
}

/// An upload staged in `DATA_DIR/tmp` (hashed by the stager as it is written); its
/// staging file goes away if it is dropped.
pub struct LocalUpload {
    stager: BlobStager,
    expected_sha256: String,
    expected_size: u64,
    written: u64,
    blobs: LocalBlobs,
}

impl LocalUpload {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), HubError> {
        self.written += bytes.len() as u64;
        if self.written > self.expected_size {
            return Err(HubError::UploadMismatch {
                oid: self.expected_sha256.clone(),
                why: format!("more than the announced {} bytes", self.expected_size),
            });
        }
        tokio::task::block_in_place(|| self.stager.write(bytes))
    }

    pub fn finish(self) -> Result<Uploaded, HubError> {
        if self.written != self.expected_size {
            return Err(HubError::UploadMismatch {
                oid: self.expected_sha256,
                why: format!(
                    "got {} bytes, announced {}",
                    self.written, self.expected_size
                ),
            });
        }
        let blobs = self.blobs;
        let expected = self.expected_sha256;
        let stager = self.stager;
        tokio::task::block_in_place(move || {
            let staged = stager.finish()?;
            if staged.sha256 != expected {
                return Err(HubError::UploadMismatch {
                    oid: expected,
                    why: format!("the content's SHA-256 is {}", staged.sha256),
                });
            }
            let uploaded = Uploaded {
                sha256: staged.sha256.clone(),
                size: staged.size,
                git_sha1: staged.git_sha1.clone(),
            };
            if blobs.publish(staged)? {
                blobs.sync(std::slice::from_ref(&uploaded.sha256))?;
            }
            Ok(uploaded)
        })
    }
}
