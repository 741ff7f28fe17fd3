//! Round trip and every fault the reader must catch, on small in-memory bundles.

use std::collections::BTreeMap;

use rskill_hub_protocol::ids::{GitBlobId, Sha256};

use super::*;

fn file(bytes: &[u8]) -> BundleFile {
    BundleFile {
        sha256: Sha256::of(bytes),
        size: bytes.len() as u64,
        git_sha1: Some(GitBlobId::of(bytes)),
    }
}

const A: &[u8] = b"first file";
const B: &[u8] = b"second file, a little longer";

fn meta() -> BundleMeta {
    let mut files = BTreeMap::new();
    files.insert("README.md".parse().unwrap(), file(A));
    files.insert("w/model.safetensors".parse().unwrap(), file(B));
    let commit = BundleCommit {
        id: "a".repeat(40).parse().unwrap(),
        parents: vec![],
        author: "alice".into(),
        date: "2026-01-01T00:00:00.000Z".into(),
        summary: "s".into(),
        description: String::new(),
        files,
    };
    let mut refs = BundleRefs::default();
    refs.branches.insert("main".into(), commit.id.clone());
    refs.tags.insert("v1.0.0".into(), commit.id.clone());
    BundleMeta {
        format: FORMAT_VERSION,
        source: "http://127.0.0.1:1".into(),
        created: "2026-01-01T00:00:00Z".into(),
        since: None,
        repos: vec![RepoBundle {
            kind: Kind::Model,
            id: "org/rskill-x".parse().unwrap(),
            private: false,
            refs,
            commits: vec![commit],
            governance: Some(crate::BundleGovernance {
                version: 3,
                registry_sha256: Sha256::of(b"{}"),
            }),
        }],
    }
}

fn bundle() -> Vec<u8> {
    let mut w = BundleWriter::new(Vec::new(), &meta()).unwrap();
    w.append_blob(&Sha256::of(A), A.len() as u64, A).unwrap();
    w.append_blob(&Sha256::of(B), B.len() as u64, B).unwrap();
    w.append_blob(&Sha256::of(B), B.len() as u64, B).unwrap();
    w.finish().unwrap().0
}

fn read(bytes: &[u8]) -> Result<Verified, BundleError> {
    read_bundle(bytes, |_, _, r| {
        let mut v = Vec::new();
        r.read_to_end(&mut v)?;
        Ok(())
    })
}

#[test]
fn round_trip() {
    let bytes = bundle();
    let v = read(&bytes).unwrap();
    assert_eq!(v.meta, meta());
    assert_eq!(v.blobs.len(), 2, "each blob once");
    assert_eq!(v.size, bytes.len() as u64);
    let (m, id) = read_meta(bytes.as_slice()).unwrap();
    assert_eq!((m, &id), (meta(), &v.id));
}

#[test]
fn every_flipped_byte_is_caught() {
    let bytes = bundle();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        assert!(
            read(&b).is_err(),
            "flipping byte {i} of {} went unnoticed",
            bytes.len()
        );
    }
}

#[test]
fn every_truncation_is_caught() {
    let bytes = bundle();
    for len in 0..bytes.len() {
        assert!(
            read(&bytes[..len]).is_err(),
            "truncated to {len} bytes went unnoticed"
        );
    }
}

#[test]
fn a_newer_format_is_refused_as_such() {
    let mut m = meta();
    m.format = FORMAT_VERSION + 1;
    let mut w = BundleWriter::new(Vec::new(), &m).unwrap();
    w.append_blob(&Sha256::of(A), A.len() as u64, A).unwrap();
    let bytes = w.finish().unwrap().0;
    let e = read(&bytes).unwrap_err();
    assert!(
        matches!(e, BundleError::NewerFormat { found: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("format version 2"), "{e}");
}

#[test]
fn content_other_than_announced_fails_the_write() {
    let mut w = BundleWriter::new(Vec::new(), &meta()).unwrap();
    assert!(
        w.append_blob(&Sha256::of(A), A.len() as u64 + 1, A)
            .is_err(),
        "short"
    );
    let mut w = BundleWriter::new(Vec::new(), &meta()).unwrap();
    assert!(
        w.append_blob(&Sha256::of(A), A.len() as u64 - 1, A)
            .is_err(),
        "long"
    );
    let mut w = BundleWriter::new(Vec::new(), &meta()).unwrap();
    assert!(
        w.append_blob(&Sha256::of(B), A.len() as u64, A).is_err(),
        "digest"
    );
}

/// A raw tar with the given members, for hostile cases the writer would never produce.
fn raw_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        // Written raw, so that names the tar crate would refuse to build still appear.
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        t.append(&h, *bytes).unwrap();
    }
    t.into_inner().unwrap()
}

#[test]
fn hostile_members_are_refused() {
    let meta_bytes = serde_json::to_vec(&meta()).unwrap();
    let traversal = raw_tar(&[(META_NAME, &meta_bytes), ("../../etc/passwd", b"x")]);
    let e = read(&traversal).unwrap_err();
    assert!(e.to_string().contains("../../etc/passwd"), "{e}");
    let blob_traversal = raw_tar(&[(META_NAME, &meta_bytes), ("blobs/../x", b"x")]);
    assert!(matches!(
        read(&blob_traversal),
        Err(BundleError::BadMember { .. })
    ));
    let first = raw_tar(&[("blobs/x", b"x")]);
    assert!(matches!(read(&first), Err(BundleError::NotABundle { .. })));

    let bad_id = String::from_utf8(meta_bytes.clone())
        .unwrap()
        .replace("org/rskill-x", "../rskill-x");
    let e = read(&raw_tar(&[(META_NAME, bad_id.as_bytes())])).unwrap_err();
    assert!(matches!(e, BundleError::Meta { .. }), "{e}");
    assert!(e.to_string().contains("../rskill-x"), "{e}");
    let bad_path = String::from_utf8(meta_bytes)
        .unwrap()
        .replace("w/model.safetensors", "../model.safetensors");
    assert!(matches!(
        read(&raw_tar(&[(META_NAME, bad_path.as_bytes())])),
        Err(BundleError::Meta { .. })
    ));
}

#[test]
fn oversize_metadata_is_refused_before_it_is_read() {
    // A header announcing a huge metadata document, with no content behind it.
    let mut h = tar::Header::new_gnu();
    h.set_size(format::MAX_META_BYTES + 1);
    h.set_mode(0o644);
    h.set_path(META_NAME).unwrap();
    h.set_cksum();
    let bytes = h.as_bytes().to_vec();
    let e = read(&bytes).unwrap_err();
    assert!(matches!(e, BundleError::Oversize { .. }), "{e}");
    let e = read_meta(bytes.as_slice()).unwrap_err();
    assert!(matches!(e, BundleError::Oversize { .. }), "{e}");
}
