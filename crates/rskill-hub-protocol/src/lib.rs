//! The Hub protocol values that the rskill client (`rskill-hub-client`) and the server
//! (`rskill-hub`) share, defined once so the two cannot disagree: the repo-id naming
//! rules ([`hub_names`]), the typed ids that reach file names ([`ids`]: commit ids,
//! SHA-256 and git blob ids, the safe [`ids::RepoPath`]), file digests ([`digest`]),
//! the one repo-id type ([`repo_id::RepoId`]), `hf://` URIs ([`hf_uri`]), credentials kept out of
//! shown URLs ([`redact`]), the one list of pickle-bearing file formats ([`pickle_formats`]) and the crash-safe writes both sides use for their state
//! on disk ([`fsutil`]).
//!
//! Owns: protocol vocabulary only. Must never depend on any other rskill crate (not
//! the client, not the server, not the manifest crate): everything else depends on it.

pub mod digest;
pub mod fsutil;
pub mod hf_uri;
pub mod hub_names;
pub mod ids;
pub mod pickle_formats;
pub mod redact;
pub mod repo_id;

/// The manifest file every skill repo holds at its root.
pub const MANIFEST_FILE: &str = "rskill.yaml";

/// The governance file of a skill repo, on `main`: version statuses, aliases and their
/// append-only history (format in `docs/governance.md`). A server that enforces a
/// manage right refuses commits touching it from tokens without that right.
pub const REGISTRY_FILE: &str = "rskill.registry.json";

/// The signed governance state beside it (`rskill.registry.sig`: released versions and
/// their commits, the registry file's digest, a version and an expiry).
pub const REGISTRY_SIGNATURE_FILE: &str = "rskill.registry.sig";

/// The files only the manage right may change: the governance file and its signature.
pub const GOVERNANCE_FILES: [&str; 2] = [REGISTRY_FILE, REGISTRY_SIGNATURE_FILE];
