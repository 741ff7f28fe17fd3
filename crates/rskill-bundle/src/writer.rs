//! Writes a bundle as a stream: the metadata first, then each blob straight from its
//! source into the tar (a fixed-size copy buffer, whatever the blob's size), then the
//! manifest. The size of a blob must be known before its content (tar headers carry it);
//! content that turns out shorter, longer or with another digest fails the write.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use sha2::{Digest, Sha256 as Hasher};

use rskill_hub_protocol::ids::Sha256;

use crate::BundleError;
use crate::format::{
    BundleManifest, BundleMeta, FORMAT_VERSION, MANIFEST_NAME, META_NAME, ManifestEntry,
    blob_member,
};
use crate::tracking::HashingWriter;

/// A bundle being written.
pub struct BundleWriter<W: Write> {
    tar: tar::Builder<HashingWriter<W>>,
    members: Vec<ManifestEntry>,
    blobs: HashSet<Sha256>,
    id: Sha256,
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Checks content against the size and digest announced before it.
struct Checked<'a, R> {
    inner: R,
    remaining: u64,
    expected_size: u64,
    hash: Hasher,
    expected: &'a Sha256,
    member: String,
}

impl<R: Read> Read for Checked<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // The tar entry is full: the source must be at its end, and the digest right.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? != 0 {
                return Err(io::Error::other(format!(
                    "{}: the source sent more bytes than the announced {}",
                    self.member, self.expected_size
                )));
            }
            let actual = hex::encode(self.hash.clone().finalize());
            if actual != self.expected.as_str() {
                return Err(io::Error::other(format!(
                    "{}: content has SHA-256 {actual}, the source announced {}",
                    self.member, self.expected
                )));
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: the source ended {} bytes before the announced size",
                    self.member, self.remaining
                ),
            ));
        }
        self.hash.update(&buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle on `out` with its metadata document.
    pub fn new(out: W, meta: &BundleMeta) -> Result<BundleWriter<W>, BundleError> {
        meta.check()?;
        let bytes = serde_json::to_vec(meta).map_err(|e| BundleError::Meta {
            reason: e.to_string(),
        })?;
        let id = Sha256::of(&bytes);
        let mut tar = tar::Builder::new(HashingWriter::new(out));
        tar.mode(tar::HeaderMode::Deterministic);
        let mut h = header(bytes.len() as u64);
        tar.append_data(&mut h, META_NAME, bytes.as_slice())
            .map_err(BundleError::io("writing the bundle metadata"))?;
        Ok(BundleWriter {
            tar,
            members: vec![ManifestEntry {
                name: META_NAME.into(),
                size: bytes.len() as u64,
                sha256: id.clone(),
            }],
            blobs: HashSet::new(),
            id,
        })
    }

    /// The bundle id: the SHA-256 of its metadata document.
    pub fn id(&self) -> &Sha256 {
        &self.id
    }

    /// Whether the blob is already in the bundle.
    pub fn has_blob(&self, sha256: &Sha256) -> bool {
        self.blobs.contains(sha256)
    }

    /// Streams one blob of `size` bytes from `content` into the bundle; it must have
    /// exactly that size and SHA-256. A blob already written is skipped (its content is
    /// not read).
    pub fn append_blob(
        &mut self,
        sha256: &Sha256,
        size: u64,
        content: impl Read,
    ) -> Result<(), BundleError> {
        if self.blobs.contains(sha256) {
            return Ok(());
        }
        let member = blob_member(sha256);
        let checked = Checked {
            inner: content,
            remaining: size,
            expected_size: size,
            hash: Hasher::new(),
            expected: sha256,
            member: member.clone(),
        };
        let mut h = header(size);
        self.tar
            .append_data(&mut h, &member, checked)
            .map_err(BundleError::io(format!("writing {member}")))?;
        self.blobs.insert(sha256.clone());
        self.members.push(ManifestEntry {
            name: member,
            size,
            sha256: sha256.clone(),
        });
        Ok(())
    }

    /// Writes the manifest and the end of the archive; returns the output and the
    /// total number of bytes written.
    pub fn finish(mut self) -> Result<(W, u64), BundleError> {
        let (prefix_size, prefix) = self.tar.get_ref().position();
        let manifest = BundleManifest {
            format: FORMAT_VERSION,
            members: std::mem::take(&mut self.members),
            prefix_size,
            prefix_sha256: prefix.parse().expect("a SHA-256 is 64 hex digits"),
        };
        let mut bytes = serde_json::to_vec(&manifest).map_err(|e| BundleError::Manifest {
            reason: e.to_string(),
        })?;
        // Padded with spaces to whole tar blocks: no tar padding follows it, so every
        // byte after the manifest is the end-of-archive marker, which the reader checks.
        bytes.resize(bytes.len().div_ceil(512) * 512, b' ');
        let mut h = header(bytes.len() as u64);
        self.tar
            .append_data(&mut h, MANIFEST_NAME, bytes.as_slice())
            .map_err(BundleError::io("writing the bundle manifest"))?;
        let mut out = self
            .tar
            .into_inner()
            .map_err(BundleError::io("ending the bundle"))?;
        out.flush().map_err(BundleError::io("writing the bundle"))?;
        let (total, _) = out.position();
        Ok((out.into_inner(), total))
    }
}
