//! Blobs in an S3-compatible object store, through the `object_store` crate: key
//! `<prefix>/<ab>/<sha256>` in one bucket. Credentials, region and endpoint come from the
//! standard `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`), each overridable in [`S3Config`].
//!
//! A blob appears only whole and verified: inline commit blobs are hashed while staged
//! on local disk before they are PUT; streamed LFS uploads go to a multipart upload that
//! is completed only when the content's size and SHA-256 are the announced ones, and
//! aborted otherwise (also when the upload is dropped half way), so an interrupted
//! upload never becomes a visible object.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::{UploadCheck, Uploaded};
use crate::errors::HubError;
use crate::storage::StagedBlob;

/// Parts of a multipart upload (the S3 minimum is 5 MiB).
const PART: usize = 8 * 1024 * 1024;
/// Parts in flight at once per upload: with [`PART`], at most ~24 MiB buffered.
const PARTS_IN_FLIGHT: usize = 2;
/// Staged blobs up to this size are sent in one PUT.
const SINGLE_PUT_MAX: u64 = 16 * 1024 * 1024;

/// Where and how to reach the object store. `None` fields come from the environment.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix inside the bucket (no leading or trailing `/`), may be empty.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl S3Config {
    /// `s3://bucket[/prefix]`.
    pub fn from_url(url: &str) -> Result<S3Config, HubError> {
        let bad = |reason: &str| HubError::InvalidBlobsUrl {
            value: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("only s3://bucket/prefix object stores are supported"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(bad(
                "the bucket name must be 3 to 63 lowercase letters, digits, `-` or `.`",
            ));
        }
        let prefix = prefix.trim_matches('/');
        if ObjectPath::parse(prefix).is_err() {
            return Err(bad("the prefix is not a valid object path"));
        }
        Ok(S3Config {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            ..S3Config::default()
        })
    }
}

/// The S3 backend of a running server.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
    runtime: tokio::runtime::Handle,
}

fn s3_error(context: impl Into<String>, e: object_store::Error) -> HubError {
    HubError::ObjectStore {
        context: context.into(),
        message: e.to_string(),
    }
}

impl S3Blobs {
    /// Builds the client (no request is made). Must be called within the server's runtime.
    pub fn new(config: &S3Config) -> Result<S3Blobs, HubError> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&config.bucket);
        if let Some(e) = &config.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some(r) = &config.region {
            b = b.with_region(r);
        }
        if let Some(k) = &config.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &config.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        if b.get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_some_and(|e| e.starts_with("http://"))
        {
            b = b.with_allow_http(true);
        }
        let store = b.build().map_err(|e| {
            s3_error(
                format!(
                    "configuring the object store for bucket `{}`",
                    config.bucket
                ),
                e,
            )
        })?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| HubError::io("starting the object store client", io::Error::other(e)))?;
        Ok(S3Blobs {
            store: Arc::new(store),
            prefix: config.prefix.clone(),
            runtime,
        })
    }

    fn key(&self, sha256: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(format!("{}/{sha256}", &sha256[..2]))
        } else {
            ObjectPath::from(format!("{}/{}/{sha256}", self.prefix, &sha256[..2]))
        }
    }

    /// Runs a request from a blocking thread.
    fn wait<T>(&self, f: impl Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    pub fn size(&self, sha256: &str) -> Result<Option<u64>, HubError> {
        match self.wait(self.store.head(&self.key(sha256))) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error(format!("looking up blob {sha256}"), e)),
        }
    }

    pub fn publish(&self, blob: StagedBlob) -> Result<bool, HubError> {
        if self.size(&blob.sha256)? == Some(blob.size) {
            return Ok(false);
        }
        let key = self.key(&blob.sha256);
        let context = || format!("storing blob {}", blob.sha256);
        let mut file = std::fs::File::open(blob.path()).map_err(HubError::io_with(context()))?;
        if blob.size <= SINGLE_PUT_MAX {
            let mut bytes = Vec::with_capacity(blob.size as usize);
            file.read_to_end(&mut bytes)
                .map_err(HubError::io_with(context()))?;
            self.wait(self.store.put(&key, PutPayload::from(bytes)))
                .map_err(|e| s3_error(context(), e))?;
            return Ok(true);
        }
        self.wait(async {
            let upload = self
                .store
                .put_multipart(&key)
                .await
                .map_err(|e| s3_error(context(), e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = match tokio::task::block_in_place(|| file.read(&mut buf)) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(HubError::io(context(), e));
                    }
                };
                if n == 0 {
                    break;
                }
                if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    let _ = writer.abort().await;
                    return Err(s3_error(context(), e));
                }
                writer.write(&buf[..n]);
            }
            writer.finish().await.map_err(|e| s3_error(context(), e))?;
            Ok(true)
        })
    }

    pub fn remove(&self, created: &[String]) {
        for sha in created {
            let _ = self.wait(self.store.delete(&self.key(sha)));
        }
    }

    pub fn read_small(&self, sha256: &str, max: u64) -> Option<Vec<u8>> {
        self.wait(async {
            let got = self.store.get(&self.key(sha256)).await.ok()?;
            if got.meta.size > max {
                return None;
            }
            got.bytes().await.ok().map(|b| b.to_vec())
        })
    }

    pub async fn read_range(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, HubError> {
        if len == 0 {
            return Ok(futures_util::stream::empty().boxed());
        }
        let range: Range<u64> = start..start + len;
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&self.key(sha256), options)
            .await
            .map_err(|e| s3_error(format!("reading blob {sha256}"), e))?;
        Ok(got.into_stream().map_err(io::Error::other).boxed())
    }

    pub async fn presigned_get(
        &self,
        sha256: &str,
        expires_in: Duration,
    ) -> Result<String, HubError> {
        let url = self
            .store
            .signed_url(axum::http::Method::GET, &self.key(sha256), expires_in)
            .await
            .map_err(|e| s3_error(format!("signing a URL for blob {sha256}"), e))?;
        Ok(url.to_string())
    }

    pub async fn upload(&self, sha256: &str, size: u64) -> Result<S3Upload, HubError> {
        let upload = self
            .store
            .put_multipart(&self.key(sha256))
            .await
            .map_err(|e| s3_error(format!("starting the upload of {sha256}"), e))?;
        Ok(S3Upload {
            writer: Some(WriteMultipart::new_with_chunk_size(upload, PART)),
            check: Some(UploadCheck::new(sha256, size)),
            runtime: self.runtime.clone(),
        })
    }

    pub fn list(&self) -> Result<Vec<String>, HubError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .wait(self.store.list(prefix.as_ref()).try_collect::<Vec<_>>())
            .map_err(|e| s3_error("listing blobs", e))?;
        let mut out: Vec<String> = metas
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .collect();
        out.sort();
        Ok(out)
    }
}

/// A multipart upload that is completed only if the content checks out.
pub struct S3Upload {
    writer: Option<WriteMultipart>,
    check: Option<UploadCheck>,
    runtime: tokio::runtime::Handle,
}

impl S3Upload {
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), HubError> {
        let (Some(writer), Some(check)) = (self.writer.as_mut(), self.check.as_mut()) else {
            return Err(HubError::io(
                "uploading a blob",
                io::Error::other("the upload is over"),
            ));
        };
        check.update(&bytes)?;
        writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| s3_error("uploading a blob part", e))?;
        writer.put(bytes);
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Uploaded, HubError> {
        let check = self.check.take().expect("a live upload has its check");
        let writer = self.writer.take().expect("a live upload has its writer");
        match check.finish() {
            Ok(uploaded) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| s3_error(format!("completing blob {}", uploaded.sha256), e))?;
                Ok(uploaded)
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    pub async fn abort(mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.abort().await;
        }
    }
}

impl Drop for S3Upload {
    /// An upload dropped half way (the client went away) is aborted in the background.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            self.runtime.spawn(async move {
                let _ = writer.abort().await;
            });
        }
    }
}
