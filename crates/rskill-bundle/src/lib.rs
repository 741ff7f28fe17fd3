//! The air-gap bundle: how Hub repos (commits with their ids and parents, refs, and
//! content-addressed blobs) cross to a Hub without a network route, in one tar file.
//!
//! Shared by `rskill export` (writes) and `rskill-hub import` (reads and verifies), so
//! both sides agree on one format, defined once here. Layout, in this order:
//! `rskill-bundle.json` (the [`BundleMeta`] document; the bundle id is its SHA-256),
//! `blobs/<sha256>` (each content once), then `rskill-bundle-manifest.json` (every member
//! with size and SHA-256, and the SHA-256 of every byte before it). Writing the manifest
//! last lets the writer stream; the reader checks everything in one pass.
//!
//! Owns: the format types, the streaming writer, the one-pass reader/verifier.
//! Must never depend on the Hub client or server crates (only `rskill-hub-protocol`).

pub mod error;
pub mod format;
pub mod reader;
mod tracking;
pub mod writer;

pub use error::BundleError;
pub use format::{
    BundleCommit, BundleFile, BundleGovernance, BundleManifest, BundleMeta, BundleRefs,
    FORMAT_VERSION, Kind, MANIFEST_NAME, META_NAME, ManifestEntry, RepoBundle,
};
pub use reader::{Verified, read_bundle, read_meta};
pub use writer::BundleWriter;

#[cfg(test)]
mod tests;
