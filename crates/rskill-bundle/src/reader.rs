//! Reads a bundle in one pass and verifies all of it: member names and order, the
//! metadata (typed, checked), every blob against its name's SHA-256 and the size its
//! commits give it, every member against the trailing manifest, and every byte before the
//! manifest (tar headers and padding included) against the manifest's prefix digest.
//! Blobs are handed to a sink while they are read; the caller must treat what it stored
//! as provisional until the read returns `Ok`.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};

use rskill_hub_protocol::ids::Sha256;

use crate::BundleError;
use crate::format::{
    BLOB_PREFIX, BundleManifest, BundleMeta, FORMAT_VERSION, MANIFEST_NAME, MAX_MANIFEST_BYTES,
    MAX_META_BYTES, META_NAME, ManifestEntry,
};
use crate::tracking::{DigestReader, TrackingReader};

/// A bundle read through and found whole.
#[derive(Debug)]
pub struct Verified {
    pub meta: BundleMeta,
    /// The bundle id (SHA-256 of the metadata document).
    pub id: Sha256,
    /// The blobs it carried.
    pub blobs: Vec<Sha256>,
    /// Its total size in bytes.
    pub size: u64,
}

fn bad(name: &str, reason: impl Into<String>) -> BundleError {
    BundleError::BadMember {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

fn truncated_or(e: io::Error, context: &str) -> BundleError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        BundleError::Truncated {
            what: format!("{context}: {e}"),
        }
    } else {
        BundleError::Io {
            context: context.to_owned(),
            source: e,
        }
    }
}

/// Reads only the metadata document (the first member), as `--since` does.
pub fn read_meta(input: impl Read) -> Result<(BundleMeta, Sha256), BundleError> {
    let mut archive = tar::Archive::new(input);
    let mut entries = archive
        .entries()
        .map_err(|e| truncated_or(e, "reading the bundle"))?;
    let mut entry = match entries.next() {
        Some(e) => e.map_err(|e| not_a_bundle_or(e, "reading the first member"))?,
        None => {
            return Err(BundleError::Truncated {
                what: "the bundle is empty".into(),
            });
        }
    };
    let name = member_name(&entry)?;
    if name != META_NAME {
        return Err(BundleError::NotABundle {
            reason: format!("the first member is `{name}`, not {META_NAME}"),
        });
    }
    read_meta_entry(&mut entry)
}

fn not_a_bundle_or(e: io::Error, context: &str) -> BundleError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        truncated_or(e, context)
    } else {
        BundleError::NotABundle {
            reason: format!("{context}: {e}"),
        }
    }
}

fn member_name<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, BundleError> {
    let raw = entry.path_bytes();
    let name = std::str::from_utf8(&raw)
        .map_err(|_| bad(&String::from_utf8_lossy(&raw), "the name is not UTF-8"))?
        .to_owned();
    if entry.header().entry_type() != tar::EntryType::Regular {
        return Err(bad(&name, "not a regular file"));
    }
    Ok(name)
}

fn read_meta_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
) -> Result<(BundleMeta, Sha256), BundleError> {
    let size = entry.size();
    if size > MAX_META_BYTES {
        return Err(BundleError::Oversize {
            member: META_NAME.into(),
            size,
            max: MAX_META_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| truncated_or(e, "reading the bundle metadata"))?;
    if bytes.len() as u64 != size {
        return Err(BundleError::Truncated {
            what: format!("{META_NAME} has {} of {size} bytes", bytes.len()),
        });
    }
    let id = Sha256::of(&bytes);
    Ok((BundleMeta::parse(&bytes)?, id))
}

/// Reads and verifies a whole bundle; each blob's content is passed to `sink` (with its
/// SHA-256 and size) as it is read. The sink may read all of it or not; the reader
/// checks the digest either way. Any error means the bundle (or the sink) failed and
/// nothing the sink stored may be used.
pub fn read_bundle<R: Read>(
    input: R,
    mut sink: impl FnMut(
        &Sha256,
        u64,
        &mut dyn Read,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> Result<Verified, BundleError> {
    let (tracking, track) = TrackingReader::new(input);
    let mut archive = tar::Archive::new(tracking);
    let mut entries = archive
        .entries()
        .map_err(|e| truncated_or(e, "reading the bundle"))?;
    let mut members: Vec<ManifestEntry> = Vec::new();
    let mut meta: Option<(BundleMeta, BTreeMap<Sha256, u64>)> = None;
    let mut id = None;
    let mut seen: HashSet<Sha256> = HashSet::new();
    let mut blobs = Vec::new();
    let mut manifest_end = None;
    let mut manifest: Option<(BundleManifest, u64)> = None;
    for entry in entries.by_ref() {
        let mut entry = entry.map_err(|e| not_a_bundle_or(e, "reading a tar header"))?;
        let name = member_name(&entry)?;
        if manifest.is_some() {
            return Err(bad(
                &name,
                format!("comes after {MANIFEST_NAME}, which must be last"),
            ));
        }
        if meta.is_none() {
            if name != META_NAME {
                return Err(BundleError::NotABundle {
                    reason: format!("the first member is `{name}`, not {META_NAME}"),
                });
            }
            let (m, bundle_id) = read_meta_entry(&mut entry)?;
            members.push(ManifestEntry {
                name,
                size: entry.size(),
                sha256: bundle_id.clone(),
            });
            let wanted = m.blobs();
            meta = Some((m, wanted));
            id = Some(bundle_id);
            continue;
        }
        if name == MANIFEST_NAME {
            let pos = entry.raw_header_position();
            let size = entry.size();
            if size > MAX_MANIFEST_BYTES {
                return Err(BundleError::Oversize {
                    member: name,
                    size,
                    max: MAX_MANIFEST_BYTES,
                });
            }
            let prefix = track
                .borrow()
                .hash_upto(pos)
                .ok_or_else(|| bad(&name, "its position could not be accounted for"))?;
            let mut bytes = Vec::with_capacity(size as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| truncated_or(e, "reading the bundle manifest"))?;
            if bytes.len() as u64 != size {
                return Err(BundleError::Truncated {
                    what: format!("{MANIFEST_NAME} has {} of {size} bytes", bytes.len()),
                });
            }
            let m = parse_manifest(&bytes)?;
            if m.prefix_size != pos || m.prefix_sha256.as_str() != prefix {
                return Err(BundleError::Manifest {
                    reason: format!(
                        "the {pos} bytes before it have SHA-256 {prefix}, the manifest says {} bytes with {}",
                        m.prefix_size, m.prefix_sha256
                    ),
                });
            }
            manifest_end = Some(entry.raw_file_position() + size);
            manifest = Some((m, pos));
            continue;
        }
        let Some(hex) = name.strip_prefix(BLOB_PREFIX) else {
            return Err(bad(
                &name,
                format!("only {META_NAME}, {BLOB_PREFIX}<sha256> and {MANIFEST_NAME} may appear"),
            ));
        };
        let sha: Sha256 = hex.parse().map_err(|_| {
            bad(
                &name,
                "a blob must be named by its SHA-256 (64 lowercase hex digits)",
            )
        })?;
        let (_, wanted) = meta.as_ref().expect("set above");
        let Some(&want_size) = wanted.get(&sha) else {
            return Err(bad(&name, "no commit of the bundle references it"));
        };
        if !seen.insert(sha.clone()) {
            return Err(bad(&name, "appears twice"));
        }
        let size = entry.size();
        if size != want_size {
            return Err(BundleError::Size {
                member: name,
                expected: want_size,
                actual: size,
            });
        }
        let mut reader = DigestReader::new(&mut entry);
        sink(&sha, size, &mut reader).map_err(|source| BundleError::Sink {
            blob: sha.to_string(),
            source,
        })?;
        io::copy(&mut reader, &mut io::sink())
            .map_err(|e| truncated_or(e, &format!("reading {name}")))?;
        let (got, digest) = reader.finish();
        if got != size {
            return Err(BundleError::Truncated {
                what: format!("{name} has {got} of {size} bytes"),
            });
        }
        if digest != sha.as_str() {
            return Err(BundleError::Digest {
                member: name,
                expected: sha.to_string(),
                actual: digest,
            });
        }
        members.push(ManifestEntry {
            name,
            size,
            sha256: sha.clone(),
        });
        blobs.push(sha);
    }
    let Some((meta, _)) = meta else {
        return Err(BundleError::Truncated {
            what: "the bundle is empty".into(),
        });
    };
    let (Some((manifest, _)), Some(end)) = (manifest, manifest_end) else {
        return Err(BundleError::Truncated {
            what: format!("it ends before its manifest ({MANIFEST_NAME}, the last member)"),
        });
    };
    if manifest.members != members {
        let first = manifest
            .members
            .iter()
            .zip(&members)
            .find(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    "it lists {} ({} bytes, {}), the bundle has {} ({} bytes, {})",
                    a.name, a.size, a.sha256, b.name, b.size, b.sha256
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "it lists {} members, the bundle has {}",
                    manifest.members.len(),
                    members.len()
                )
            });
        return Err(BundleError::Manifest { reason: first });
    }
    // What follows the manifest: exactly the end-of-archive marker, two zero blocks.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .map_err(|e| truncated_or(e, "reading the end of the bundle"))?;
    let t = track.borrow();
    let total = t.position();
    let trailer = t.bytes_from(end).unwrap_or(&[]);
    if total < end + 1024 {
        return Err(BundleError::Truncated {
            what: format!(
                "the end-of-archive marker after the manifest has {} of 1024 bytes",
                total.saturating_sub(end)
            ),
        });
    }
    if total != end + 1024 || trailer.iter().any(|&b| b != 0) {
        return Err(BundleError::Manifest {
            reason: format!(
                "after the manifest come {} bytes that are not the two zero blocks ending a tar archive",
                total.saturating_sub(end)
            ),
        });
    }
    Ok(Verified {
        meta,
        id: id.expect("set with meta"),
        blobs,
        size: total,
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<BundleManifest, BundleError> {
    let json_end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let m: BundleManifest =
        serde_json::from_slice(&bytes[..json_end]).map_err(|e| BundleError::Manifest {
            reason: format!("{MANIFEST_NAME} does not parse: {e}"),
        })?;
    if m.format != FORMAT_VERSION {
        return Err(BundleError::Manifest {
            reason: format!(
                "format {} in the manifest, the metadata says {FORMAT_VERSION}",
                m.format
            ),
        });
    }
    Ok(m)
}
