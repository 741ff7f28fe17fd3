//! The import's governance checks: a bundle may not change which versions of a skill are
//! released without the signed governance state (`rskill.registry.sig`, see
//! `rskill_signing::governance`) agreeing. Commit ids cannot be recomputed from a Hub's
//! API, so without these checks a bundle with one `v*` tag added or moved, or with the
//! registry file and signature of an older export swapped in, would need no key at all.
//!
//! Per repo of the bundle, before anything is applied: the state at the bundle's `main`
//! must parse against the registry file beside it and name this repo; every `v*` tag of
//! the bundle must be a release of that state, at the state's commit; the metadata's
//! claim must match it; it may not be older than the state the target holds (a lower
//! version, or the same version with another registry file), and a repo whose state on
//! the target is signed must stay signed. With keys (`--governance-key`), every carried
//! state must verify with one of them, and a registry file without a signature is
//! refused. Repos signed on neither side import as before.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use serde::Serialize;

use rskill_bundle::RepoBundle;
use rskill_hub_protocol::REGISTRY_FILE;
use rskill_signing::governance::MAX_GOVERNANCE_SIGNATURE_BYTES;
use rskill_signing::{GOVERNANCE_SIGNATURE_FILE, PublicKey, SignedGovernance};

use crate::errors::HubError;
use crate::names::{RepoId, RepoKind};
use crate::records::{Commit, FileEntry};
use crate::storage::{StagedBlob, Store};

/// The largest registry file read for the check (the Hub keeps it in git).
const MAX_REGISTRY_BYTES: u64 = 64 * 1024 * 1024;

/// What the report says when no keys were given.
pub const UNVERIFIED: &str = "consistent, signature not verified (no --governance-key)";
/// What the report says when keys were given.
pub const VERIFIED: &str = "consistent, every signed state verified (--governance-key)";

/// The governance part of an import report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GovernanceReport {
    /// What was checked (see [`UNVERIFIED`], [`VERIFIED`]).
    pub summary: String,
    /// The repos with a signed state, and what was checked of it.
    pub repos: BTreeMap<String, RepoGovernance>,
}

/// One repo's signed state as the import found it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoGovernance {
    /// The version the bundle carries.
    pub version: u64,
    /// The version the target held before, if it held a signed state.
    pub target_version: Option<u64>,
    /// Whether the signature was checked with a `--governance-key`.
    pub verified: bool,
    /// The key that verified it (or, unverified, the one the signature names).
    pub key_id: Option<String>,
}

/// One repo of the bundle, as the plan sees it.
pub(crate) struct RepoInput<'a> {
    pub kind: RepoKind,
    pub bundle: &'a RepoBundle,
    /// `main` on the target before the import (`None`: a new repo, or no `main`).
    pub target_main: Option<&'a str>,
    /// Commits the import adds (the others are stored already).
    pub new_commits: &'a [(Commit, Vec<u8>)],
}

/// Where file contents are read from: blobs staged from the bundle, then the store.
pub(crate) struct Contents<'a> {
    pub store: &'a Store,
    pub staged: &'a HashMap<String, StagedBlob>,
}

/// The two governance files at one commit.
struct GovernanceFiles {
    registry: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
}

/// Checks every repo (see the module doc). `keys` empty: consistency and order only.
pub(crate) fn check(
    repos: &[RepoInput<'_>],
    contents: &Contents<'_>,
    keys: &[PublicKey],
) -> Result<GovernanceReport, HubError> {
    let mut report = GovernanceReport {
        summary: if keys.is_empty() {
            UNVERIFIED
        } else {
            VERIFIED
        }
        .to_owned(),
        repos: BTreeMap::new(),
    };
    for r in repos {
        if let Some(g) = check_repo(r, contents, keys)? {
            report.repos.insert(r.bundle.id.to_string(), g);
        }
    }
    Ok(report)
}

fn check_repo(
    r: &RepoInput<'_>,
    contents: &Contents<'_>,
    keys: &[PublicKey],
) -> Result<Option<RepoGovernance>, HubError> {
    let id = &r.bundle.id;
    let repo = id.to_string();
    let refuse = |what: String| HubError::ImportGovernance {
        repo: repo.clone(),
        what,
    };
    // The state the target holds: read as stored (it was checked when it came).
    let mut target_registry = false;
    let target = match r.target_main {
        Some(main) => {
            let files = files_at(r, contents, main)?;
            target_registry = files.registry.is_some();
            match &files.signature {
                Some(sig) => Some(
                    SignedGovernance::parse_unverified(sig, id.as_str(), files.registry.as_deref())
                        .map_err(|e| {
                            refuse(format!(
                                "the target's {GOVERNANCE_SIGNATURE_FILE} at main ({main}) does not check ({e}), so no import can be ordered after it; repair the target first"
                            ))
                        })?
                        .state,
                ),
                None => None,
            }
        }
        None => None,
    };
    let Some(main) = r.bundle.refs.branches.get("main") else {
        if let Some(g) = &r.bundle.governance {
            return Err(refuse(format!(
                "the metadata names governance version {}, but the bundle carries no `main` branch",
                g.version
            )));
        }
        if let Some(t) = &target {
            return Err(refuse(format!(
                "the bundle carries no `main` branch, so no signed state, and the target's state is signed (version {}): rule: a signed repo stays signed",
                t.version
            )));
        }
        if !keys.is_empty() && target_registry {
            return Err(refuse(format!(
                "the bundle carries no `main` branch, and the target's {REGISTRY_FILE} has no {GOVERNANCE_SIGNATURE_FILE}: rule: with --governance-key every governance file must be signed"
            )));
        }
        return Ok(None);
    };
    let main = main.as_str();
    let files = files_at(r, contents, main)?;
    let Some(sig) = &files.signature else {
        if let Some(t) = &target {
            return Err(refuse(format!(
                "the bundle's main ({main}) has no {GOVERNANCE_SIGNATURE_FILE}, and the target's state is signed (version {}): rule: a signed repo stays signed",
                t.version
            )));
        }
        if let Some(g) = &r.bundle.governance {
            return Err(refuse(format!(
                "the metadata names governance version {}, but main ({main}) has no {GOVERNANCE_SIGNATURE_FILE}",
                g.version
            )));
        }
        if !keys.is_empty() && files.registry.is_some() {
            return Err(refuse(format!(
                "main ({main}) has {REGISTRY_FILE} without {GOVERNANCE_SIGNATURE_FILE}: rule: with --governance-key every governance file must be signed"
            )));
        }
        // Unsigned on both sides: as before.
        return Ok(None);
    };
    let parsed = if keys.is_empty() {
        SignedGovernance::parse_unverified(sig, id.as_str(), files.registry.as_deref())
    } else {
        SignedGovernance::verify(sig, keys, id.as_str(), files.registry.as_deref())
    };
    let signed =
        parsed.map_err(|e| refuse(format!("{GOVERNANCE_SIGNATURE_FILE} at main ({main}): {e}")))?;
    let state = &signed.state;
    if let Some(g) = &r.bundle.governance
        && (g.version != state.version || g.registry_sha256.as_str() != state.registry_sha256)
    {
        return Err(refuse(format!(
            "the metadata names governance version {} (registry {}), the bundle's {GOVERNANCE_SIGNATURE_FILE} is version {} (registry {})",
            g.version, g.registry_sha256, state.version, state.registry_sha256
        )));
    }
    if let Some(t) = &target {
        if state.version < t.version {
            return Err(refuse(format!(
                "{GOVERNANCE_SIGNATURE_FILE}: the bundle carries governance version {}, the target holds version {}: rule: a signed state never goes back (an older export?)",
                state.version, t.version
            )));
        }
        if state.version == t.version && state.registry_sha256 != t.registry_sha256 {
            return Err(refuse(format!(
                "{GOVERNANCE_SIGNATURE_FILE}: governance version {} names registry {} in the bundle and {} in the target: rule: one version, one registry file",
                state.version, state.registry_sha256, t.registry_sha256
            )));
        }
    }
    for (tag, commit) in &r.bundle.refs.tags {
        let Some(version) = tag.strip_prefix('v') else {
            continue;
        };
        match state.releases.get(version) {
            Some(c) if c == commit.as_str() => {}
            Some(c) => {
                return Err(refuse(format!(
                    "tag `{tag}` names {commit}, the signed state (version {}) releases {version} at {c}: rule: a release tag is where the signed state says",
                    state.version
                )));
            }
            None => {
                return Err(refuse(format!(
                    "tag `{tag}` ({commit}) is not a release of the signed state (version {}): rule: every `v*` tag is a signed release",
                    state.version
                )));
            }
        }
    }
    Ok(Some(RepoGovernance {
        version: state.version,
        target_version: target.map(|t| t.version),
        verified: signed.verified,
        key_id: signed.key_id,
    }))
}

/// The registry file and its signature at `commit` of the repo (a commit the import
/// adds, else one the target stores), read from the staged blobs or the store.
fn files_at(
    r: &RepoInput<'_>,
    contents: &Contents<'_>,
    commit: &str,
) -> Result<GovernanceFiles, HubError> {
    let id: &RepoId = &r.bundle.id;
    let stored;
    let files = match r.new_commits.iter().find(|(c, _)| c.id == commit) {
        Some((c, _)) => &c.record.files,
        None => {
            stored = contents
                .store
                .read_commit(r.kind, id, commit)?
                .ok_or_else(|| HubError::ImportIncomplete {
                    repo: id.to_string(),
                    what: format!(
                        "main names commit {commit}, which neither the bundle nor the target holds"
                    ),
                })?;
            &stored.record.files
        }
    };
    let read = |path: &str, max: u64| -> Result<Option<Vec<u8>>, HubError> {
        files
            .get(path)
            .map(|f| read_blob(contents, id, commit, path, f, max))
            .transpose()
    };
    Ok(GovernanceFiles {
        registry: read(REGISTRY_FILE, MAX_REGISTRY_BYTES)?,
        signature: read(GOVERNANCE_SIGNATURE_FILE, MAX_GOVERNANCE_SIGNATURE_BYTES)?,
    })
}

fn read_blob(
    contents: &Contents<'_>,
    id: &RepoId,
    commit: &str,
    path: &str,
    f: &FileEntry,
    max: u64,
) -> Result<Vec<u8>, HubError> {
    let refuse = |what: String| HubError::ImportGovernance {
        repo: id.to_string(),
        what,
    };
    if f.size > max {
        return Err(refuse(format!(
            "`{path}` at {commit} has {} bytes, more than the {max} a governance file may have",
            f.size
        )));
    }
    let bytes = match contents.staged.get(&f.sha256) {
        Some(b) => {
            let mut bytes = Vec::new();
            std::fs::File::open(b.path())
                .and_then(|file| file.take(max + 1).read_to_end(&mut bytes))
                .map_err(HubError::io_with(format!(
                    "reading the staged `{path}` of {id}"
                )))?;
            bytes
        }
        None => contents
            .store
            .blobs()
            .read_small(&f.sha256, max)
            .ok_or_else(|| HubError::ImportIncomplete {
                repo: id.to_string(),
                what: format!(
                    "`{path}` at {commit} (blob {}) is neither in the bundle nor readable in the target",
                    f.sha256
                ),
            })?,
    };
    if bytes.len() as u64 != f.size {
        return Err(refuse(format!(
            "`{path}` at {commit} has {} bytes, its commit says {}",
            bytes.len(),
            f.size
        )));
    }
    Ok(bytes)
}
