//! rskill: the tool set over a Hugging Face Hub-backed catalog of robot skills —
//! search ([`search`]), install and its lockfile ([`install`]), the local registry
//! ([`registry`]), drift between installed and published skills ([`drift`]),
//! publishing ([`publish`]), load checks of downloaded weights ([`smoke`]), security
//! scans of Hub skills ([`hub_scan`], over `rskill-scan`) and what the
//! command-line fronts share ([`cli`]). The `rskill` and `rskill-publisher` binaries in
//! `src/bin` are thin clap fronts over it.
//!
//! Owns: the user-facing workflows. Builds on `rskill-manifest` (manifests),
//! `rskill-hub-client` (talking to a Hub) and `rskill-hub-protocol` (shared types).
//! Must never depend on the server (`rskill-hub`) outside its tests, nor on
//! `rskill-test-support`.

pub mod catalog_index;
pub mod cli;
pub mod drift;
pub mod export;
pub mod harness;
pub mod hub_scan;
pub mod install;
pub mod lifecycle;
pub mod marketplace;
pub mod publish;
pub mod registry;
pub mod search;
pub mod search_facets;
pub mod search_groups;
pub mod search_index;
pub mod smoke;
pub mod trust;
pub mod verify;
pub mod wait_notice;

// Paths the modules use from the other crates, under their historical names.
use rskill_hub_client as hub;
use rskill_hub_protocol::{digest, fsutil};
use rskill_manifest::{card, corpus, diagnostic, license, manifest, skill, tags, validate, yaml};
