//! The bundle's documents: the metadata written first (what the bundle holds: repos,
//! refs, commits and their file tables) and the manifest written last (every member with
//! its size and SHA-256). Everything is typed: ids, digests and paths are validated while
//! parsing, so a hostile bundle is refused before anything reads its values.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use rskill_hub_protocol::ids::{CommitId, GitBlobId, RepoPath, Sha256};
use rskill_hub_protocol::repo_id::RepoId;

use crate::BundleError;

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The first member: the metadata document.
pub const META_NAME: &str = "rskill-bundle.json";
/// The last member: the manifest.
pub const MANIFEST_NAME: &str = "rskill-bundle-manifest.json";
/// Blobs live under this folder, named by their SHA-256.
pub const BLOB_PREFIX: &str = "blobs/";
/// The metadata document may not be larger (a bundle of 100,000 commits of 100 files
/// stays well below).
pub const MAX_META_BYTES: u64 = 256 * 1024 * 1024;
/// The manifest may not be larger.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;

/// The kind of a Hub repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Model,
    Dataset,
}

/// What a bundle holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleMeta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// The Hub the repos were exported from.
    pub source: String,
    /// When the bundle was written (RFC 3339).
    pub created: String,
    /// The id of the earlier bundle this one builds on (`--since`): commits and blobs it
    /// carried are left out.
    #[serde(default)]
    pub since: Option<Sha256>,
    pub repos: Vec<RepoBundle>,
}

/// One repo: its settings, refs and the commits the bundle carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoBundle {
    pub kind: Kind,
    pub id: RepoId,
    pub private: bool,
    /// The refs as the source had them; each names a commit of this bundle or of an
    /// earlier one.
    pub refs: BundleRefs,
    /// Oldest first: each commit's parents come before it or were carried earlier.
    pub commits: Vec<BundleCommit>,
    /// The signed governance state (`rskill.registry.sig` at `main`) the exporter found
    /// for this repo; absent for a repo without one. Not itself signed: the importer
    /// checks it against the signature file the bundle carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<BundleGovernance>,
}

/// What the metadata says about a repo's signed governance state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleGovernance {
    /// The state's version (grows by one with every signed change).
    pub version: u64,
    /// The SHA-256 of the registry file the state vouches for.
    pub registry_sha256: Sha256,
}

/// Branches and tags → commit ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRefs {
    pub branches: BTreeMap<String, CommitId>,
    pub tags: BTreeMap<String, CommitId>,
}

/// One commit as the source reported it, with the complete file table of the repo at
/// that commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleCommit {
    pub id: CommitId,
    pub parents: Vec<CommitId>,
    pub author: String,
    pub date: String,
    pub summary: String,
    pub description: String,
    pub files: BTreeMap<RepoPath, BundleFile>,
}

/// One file of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleFile {
    pub sha256: Sha256,
    pub size: u64,
    /// The git blob id of the content, when the source gave it (it does for files kept
    /// in git; for LFS files it gives the id of the pointer only). The importer computes
    /// it from the content, and checks it against this value when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha1: Option<GitBlobId>,
}

/// The trailing manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleManifest {
    pub format: u32,
    /// Every member before the manifest, in order.
    pub members: Vec<ManifestEntry>,
    /// The number of bytes before the manifest's own tar header, and their SHA-256 (tar
    /// headers and padding included): a flipped byte anywhere is caught.
    pub prefix_size: u64,
    pub prefix_sha256: Sha256,
}

/// One member of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub name: String,
    pub size: u64,
    pub sha256: Sha256,
}

/// `blobs/<sha256>`.
pub fn blob_member(sha256: &Sha256) -> String {
    format!("{BLOB_PREFIX}{sha256}")
}

fn meta_err(reason: impl Into<String>) -> BundleError {
    BundleError::Meta {
        reason: reason.into(),
    }
}

impl BundleMeta {
    /// Parses the metadata document: the format version first (a newer one is refused
    /// as such), then every field typed, then [`BundleMeta::check`].
    pub fn parse(bytes: &[u8]) -> Result<BundleMeta, BundleError> {
        #[derive(Deserialize)]
        struct Version {
            format: u64,
        }
        let version: Version =
            serde_json::from_slice(bytes).map_err(|e| meta_err(e.to_string()))?;
        if version.format > u64::from(FORMAT_VERSION) {
            return Err(BundleError::NewerFormat {
                found: version.format,
                supported: FORMAT_VERSION,
            });
        }
        let meta: BundleMeta =
            serde_json::from_slice(bytes).map_err(|e| meta_err(e.to_string()))?;
        meta.check()?;
        Ok(meta)
    }

    /// The consistency rules: a repo appears once, commit ids once per repo, every file
    /// of a blob has the same size, ref names are plain.
    pub fn check(&self) -> Result<(), BundleError> {
        if self.format == 0 {
            return Err(meta_err("format version 0"));
        }
        let mut repos = BTreeSet::new();
        let mut sizes: HashMap<&Sha256, u64> = HashMap::new();
        for repo in &self.repos {
            if !repos.insert((repo.kind, repo.id.as_str().to_lowercase())) {
                return Err(meta_err(format!("repo {} appears twice", repo.id)));
            }
            for name in repo.refs.branches.keys().chain(repo.refs.tags.keys()) {
                check_ref_name(name)
                    .map_err(|r| meta_err(format!("repo {}: ref `{name}`: {r}", repo.id)))?;
            }
            let mut ids = BTreeSet::new();
            for c in &repo.commits {
                if !ids.insert(&c.id) {
                    return Err(meta_err(format!(
                        "repo {}: commit {} appears twice",
                        repo.id, c.id
                    )));
                }
                for (path, f) in &c.files {
                    if *sizes.entry(&f.sha256).or_insert(f.size) != f.size {
                        return Err(meta_err(format!(
                            "repo {} commit {}: `{path}` gives blob {} another size",
                            repo.id, c.id, f.sha256
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every blob the commits reference, with its size.
    pub fn blobs(&self) -> BTreeMap<Sha256, u64> {
        let mut out = BTreeMap::new();
        for repo in &self.repos {
            for c in &repo.commits {
                for f in c.files.values() {
                    out.insert(f.sha256.clone(), f.size);
                }
            }
        }
        out
    }
}

/// Branch and tag names: what git allows, minus what no Hub uses.
pub fn check_ref_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 255 {
        return Err("empty or longer than 255 bytes");
    }
    if name.starts_with('/')
        || name.ends_with('/')
        || name.starts_with('.')
        || name.ends_with(".lock")
    {
        return Err("starts with `/` or `.`, or ends with `/` or `.lock`");
    }
    if name.contains("..") || name.contains("//") || name.contains("@{") {
        return Err("contains `..`, `//` or `@{`");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return Err("contains a space, a control character or one of ~^:?*[\\");
    }
    Ok(())
}
