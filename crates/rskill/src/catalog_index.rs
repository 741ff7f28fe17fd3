//! The catalog index of an org: one file, `rskill-index.json` in the model repo
//! `ORG/rskill-index`, listing each published (public) skill of the org with the `main`
//! commit it describes and what search reads at that commit (the manifest's facets, the
//! registry file, the signature's key id), so a cold search reads one file per org
//! instead of one manifest per skill. The anchors are Conda's `repodata.json` (one file
//! per channel describing every package) and crates.io's index (a git repo rewritten by
//! every publish and yank).
//!
//! The publisher keeps it: every publish, status, alias, scan record and governance
//! refresh rewrites the entries of the skills it touched ([`update`]), and
//! `rskill-publisher index rebuild ORG` rewrites all of them ([`rebuild`]); each write
//! is one commit with `parentCommit`, re-read and retried on a conflict. With a
//! governance key the index is signed (`rskill-index.sig`, [`rskill_signing::SignedIndex`]).
//!
//! Search reads it ([`read`]): bounded, only entries of the org's own repos, and each
//! entry used only when its commit is the one the listing names. It never changes the
//! answer: a stale, missing or refused index only costs manifest requests.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::hub::cache::RepoCache;
use crate::hub::ids::{CommitId, RepoPath};
use crate::hub::listing::ListQuery;
use crate::hub::write::UploadFile;
use crate::hub::{HubClient, HubError, RepoId};
use crate::lifecycle::model::RegistryFile;
use crate::lifecycle::remote::REGISTRY_FILE;
use crate::lifecycle::signed::GovernanceSigner;
use crate::lifecycle::{Registry, Status};
use crate::search_facets::{self, Facets};
use rskill_signing::catalog_index::{INDEX_REPO_NAME, INDEX_SIGNATURE_FILE, IndexState};

/// The index file in `ORG/rskill-index`.
pub const INDEX_FILE: &str = "rskill-index.json";
/// The index format; a reader ignores an index of another format.
pub const FORMAT_VERSION: u32 = 1;
/// The largest index read (bytes): about 20,000 skills with short histories.
pub const MAX_INDEX_BYTES: u64 = 32 << 20;
/// How many times a write is tried when the index's `main` keeps moving.
pub const MAX_ATTEMPTS: u32 = 40;

/// The file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    pub format: u32,
    /// The facets' format ([`search_facets::FORMAT_VERSION`]).
    pub facets_format: u32,
    pub org: String,
    /// Repo id → entry.
    pub skills: BTreeMap<String, Entry>,
}

/// One skill as it is at one commit of its `main`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The `main` commit this entry describes; used only while the listing names it.
    pub sha: CommitId,
    /// What `rskill search` shows by default (the manifest's version, or the registry's
    /// resolution of it): version, status and aliases. For people and other tools;
    /// search itself recomputes the row from `facets` and `registry`.
    pub version: String,
    pub status: Option<Status>,
    pub aliases: BTreeMap<String, String>,
    /// What search filters on and prints of the manifest at `sha`.
    pub facets: Facets,
    /// The registry file at `sha` (statuses, aliases, history, scan records), if any.
    pub registry: Option<RegistryFile>,
    /// Whether `sha` holds an OMS signature (`model.sig`), and the key id it names.
    pub signed: bool,
    pub key_id: Option<String>,
}

impl IndexFile {
    fn empty(org: &str) -> IndexFile {
        IndexFile {
            format: FORMAT_VERSION,
            facets_format: search_facets::FORMAT_VERSION,
            org: org.to_string(),
            skills: BTreeMap::new(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec(self).expect("an index serializes");
        b.push(b'\n');
        b
    }
}

/// Why the index was not written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("{repo}: gave up after {attempts} attempts: main kept moving under concurrent writes")]
    Contention { repo: String, attempts: u32 },
    #[error("signing {repo}: {message}")]
    Sign { repo: String, message: String },
}

impl IndexError {
    pub fn hint(&self) -> Option<String> {
        match self {
            IndexError::Hub(HubError::Forbidden { .. }) => Some(
                "writing ORG/rskill-index needs a token that may create and write the org's repos"
                    .into(),
            ),
            IndexError::Hub(e) => e.hint(),
            IndexError::Contention { .. } | IndexError::Sign { .. } => None,
        }
        .or_else(|| Some("the index only saves requests: `rskill-publisher index rebuild ORG` rewrites it whole".into()))
    }
}

/// What a write did.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub repo: String,
    /// The commit made; `None` when the index already said so.
    pub commit: Option<String>,
    pub entries: usize,
    pub signed: bool,
}

/// The entry of `repo` at `sha` (hostile input: read through the per-commit cache,
/// validated as search validates it); `None` when it has no valid manifest or registry
/// file there (search then fetches the manifest itself and says why).
async fn entry_at(
    client: &HubClient,
    repo: &RepoId,
    sha: &CommitId,
    has_file: impl Fn(&str) -> bool,
) -> Result<Option<Entry>, HubError> {
    if !has_file(RepoPath::manifest().as_str()) {
        return Ok(None);
    }
    let manifest = client
        .read_file_cached(repo, sha, &RepoPath::manifest())
        .await?;
    let Ok(m) = crate::validate::parse_valid(&String::from_utf8_lossy(&manifest)) else {
        return Ok(None);
    };
    let facets = Facets::of(&m);
    let registry = if has_file(REGISTRY_FILE) {
        let path: RepoPath = REGISTRY_FILE.parse().expect("a safe path");
        let bytes = client.read_file_cached(repo, sha, &path).await?;
        match Registry::parse(&bytes) {
            Ok(r) => Some(r),
            Err(_) => return Ok(None),
        }
    } else {
        None
    };
    let signed = has_file(rskill_signing::SIGNATURE_FILE);
    let key_id = if signed {
        let path: RepoPath = rskill_signing::SIGNATURE_FILE.parse().expect("a safe path");
        client
            .read_file_cached(repo, sha, &path)
            .await
            .ok()
            .and_then(|b| rskill_signing::Bundle::parse(&b).ok())
            .and_then(|b| b.key_hint().map(str::to_string))
    } else {
        None
    };
    let view = crate::lifecycle::resolve::search_view(
        registry.as_ref(),
        &facets.version,
        &Default::default(),
    );
    Ok(Some(Entry {
        sha: sha.clone(),
        version: view
            .as_ref()
            .map_or_else(|| facets.version.clone(), |v| v.version.clone()),
        status: view.as_ref().map(|v| v.status),
        aliases: view.map(|v| v.aliases).unwrap_or_default(),
        facets,
        registry: registry.as_ref().map(Registry::to_file),
        signed,
        key_id,
    }))
}

/// The entry of `repo` as its `main` is now; `None` for a private repo (the index is
/// public) or one without a valid manifest.
async fn current_entry(client: &HubClient, repo: &RepoId) -> Result<Option<Entry>, HubError> {
    let info = match client.repo_info(repo, None).await {
        Ok(info) => info,
        Err(HubError::RepoNotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if info.private {
        return Ok(None);
    }
    entry_at(client, repo, &info.sha, |f| info.file(f).is_some()).await
}

/// Rewrites the entries of `repos` (all of one org) in the org's index: each as its
/// `main` is now, or removed when it is private, gone or has no valid manifest.
pub async fn update(
    client: &HubClient,
    org: &str,
    repos: &[RepoId],
    signer: Option<&GovernanceSigner>,
) -> Result<Written, IndexError> {
    let mut entries = Vec::new();
    for repo in repos.iter().filter(|r| r.org() == org && !is_index_repo(r)) {
        entries.push((repo.to_string(), current_entry(client, repo).await?));
    }
    write(client, org, signer, |index| {
        for (repo, entry) in &entries {
            match entry {
                Some(e) => index.skills.insert(repo.clone(), e.clone()),
                None => index.skills.remove(repo),
            };
        }
    })
    .await
}

/// Rewrites the org's whole index from a listing of its repos.
pub async fn rebuild(
    client: &HubClient,
    org: &str,
    signer: Option<&GovernanceSigner>,
) -> Result<Written, IndexError> {
    use futures::StreamExt;
    let (listed, _) = client
        .list_models(&ListQuery {
            author: Some(org.to_string()),
            expand: vec!["sha", "siblings", "private"],
            limit: Some(crate::search::PAGE_SIZE),
            ..ListQuery::default()
        })
        .await?;
    let wanted: Vec<(RepoId, CommitId, Vec<String>)> = listed
        .into_iter()
        .filter(|l| !l.private)
        .filter_map(|l| {
            let repo: RepoId = l.id.parse().ok()?;
            let files = l.siblings?.into_iter().map(|s| s.rfilename).collect();
            (repo.org() == org && !is_index_repo(&repo)).then_some((repo, l.sha?, files))
        })
        .collect();
    let found: Vec<Result<Option<(String, Entry)>, HubError>> = futures::stream::iter(wanted)
        .map(|(repo, sha, files)| async move {
            let entry = entry_at(client, &repo, &sha, |f| files.iter().any(|x| x == f)).await?;
            Ok(entry.map(|e| (repo.to_string(), e)))
        })
        .buffer_unordered(crate::search::FETCH_CONCURRENCY)
        .collect()
        .await;
    let mut skills = BTreeMap::new();
    for f in found {
        if let Some((repo, entry)) = f? {
            skills.insert(repo, entry);
        }
    }
    write(client, org, signer, move |index| {
        index.skills = skills.clone();
    })
    .await
}

/// Whether `repo` is an org's index repo (never a skill of the index).
pub fn is_index_repo(repo: &RepoId) -> bool {
    repo.name() == INDEX_REPO_NAME
}

/// Reads the index at `main`, applies `edit`, and commits it (signed with `signer`)
/// with `parentCommit`; on a conflict, again from the new `main`.
async fn write(
    client: &HubClient,
    org: &str,
    signer: Option<&GovernanceSigner>,
    edit: impl Fn(&mut IndexFile),
) -> Result<Written, IndexError> {
    let repo: RepoId = rskill_signing::catalog_index::index_repo(org)
        .parse()
        .map_err(|e| HubError::Other(format!("org {org:?}: {e}")))?;
    for attempt in 1..=MAX_ATTEMPTS {
        let info = match client.repo_info(&repo, None).await {
            Ok(info) => info,
            Err(HubError::RepoNotFound { .. }) => {
                // An org with no public skill gets no index repo.
                let mut next = IndexFile::empty(org);
                edit(&mut next);
                if next.skills.is_empty() {
                    return Ok(Written {
                        repo: repo.to_string(),
                        commit: None,
                        entries: 0,
                        signed: false,
                    });
                }
                match client.create_repo(&repo, false).await {
                    Ok(_) | Err(HubError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                client.repo_info(&repo, None).await?
            }
            Err(e) => return Err(e.into()),
        };
        let current = if info.file(INDEX_FILE).is_some() {
            read_index_file(client, &repo, &info.sha).await.ok()
        } else {
            None
        };
        let before = current
            .as_deref()
            .and_then(|b| serde_json::from_slice::<IndexFile>(b).ok())
            .filter(|f| f.format == FORMAT_VERSION && f.org == org);
        let mut next = before.clone().unwrap_or_else(|| IndexFile::empty(org));
        next.facets_format = search_facets::FORMAT_VERSION;
        edit(&mut next);
        let bytes = next.to_bytes();
        let has_sig = info.file(INDEX_SIGNATURE_FILE).is_some();
        // Signed exactly as asked: not at all, or by this signer's key over these bytes
        // (a signature by another key is replaced).
        let signature_current = match signer {
            None => !has_sig,
            Some(s) => {
                has_sig
                    && read_cached_at_most(
                        client,
                        &repo,
                        &info.sha,
                        INDEX_SIGNATURE_FILE,
                        rskill_signing::catalog_index::MAX_INDEX_SIGNATURE_BYTES,
                    )
                    .await
                    .is_ok_and(|sig| {
                        rskill_signing::SignedIndex::verify(&sig, &[s.key.public()], org, &bytes)
                            .is_ok()
                    })
            }
        };
        // Unchanged and signed as asked: nothing to commit.
        if current.as_deref() == Some(&bytes[..]) && signature_current {
            return Ok(Written {
                repo: repo.to_string(),
                commit: None,
                entries: next.skills.len(),
                signed: has_sig,
            });
        }
        let mut files = vec![UploadFile {
            path_in_repo: INDEX_FILE.into(),
            content: Bytes::from(bytes.clone()),
        }];
        let mut deletes = Vec::new();
        match signer {
            Some(s) => {
                let sig = IndexState::of(org, &bytes, next.skills.len() as u64)
                    .sign(&s.key)
                    .map_err(|e| IndexError::Sign {
                        repo: repo.to_string(),
                        message: e.to_string(),
                    })?;
                files.push(UploadFile {
                    path_in_repo: INDEX_SIGNATURE_FILE.into(),
                    content: Bytes::from(sig),
                });
            }
            // A signature of an earlier index would no longer match: removed.
            None if has_sig => deletes.push(INDEX_SIGNATURE_FILE.to_string()),
            None => {}
        }
        let message = format!(
            "Update {INDEX_FILE}: {} skill(s){}",
            next.skills.len(),
            if signer.is_some() { ", signed" } else { "" }
        );
        match client
            .commit(&repo, files, deletes, &message, Some(info.sha.as_str()))
            .await
        {
            Ok(commit) => {
                return Ok(Written {
                    repo: repo.to_string(),
                    commit: Some(commit),
                    entries: next.skills.len(),
                    signed: signer.is_some(),
                });
            }
            Err(HubError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(5 + 10 * attempt.min(8) as u64)).await;
            }
            Err(HubError::Conflict { .. }) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Err(IndexError::Contention {
        repo: repo.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}

/// The index file at `commit`, through the per-commit cache, refused past
/// [`MAX_INDEX_BYTES`] (the read stops there).
async fn read_index_file(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
) -> Result<Vec<u8>, HubError> {
    read_cached_at_most(client, repo, commit, INDEX_FILE, MAX_INDEX_BYTES).await
}

async fn read_cached_at_most(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, HubError> {
    let path: RepoPath = name.parse().expect("a safe path");
    let cache = RepoCache::new(&client.env().hub_cache, repo);
    if let Some(bytes) = cache.read_small(commit, &path) {
        return Ok(bytes);
    }
    let bytes = client
        .read_file_at_most(repo, commit.as_str(), name, limit)
        .await?;
    let blob = crate::hub::ids::BlobId::Git(crate::hub::ids::GitBlobId::of(&bytes));
    let (commit, path2) = (commit.clone(), path.clone());
    tokio::task::spawn_blocking(move || {
        // Best effort: an index that cannot be cached is read again next time.
        let _ = cache.store_bytes(&commit, &path2, &blob, &bytes);
        bytes
    })
    .await
    .map_err(|e| HubError::Other(format!("storing {path} in the cache failed: {e}")))
}

/// An org's index as search may use it: only entries of the org's own repos.
#[derive(Debug, Clone, Default)]
pub struct OrgIndex {
    pub skills: BTreeMap<String, Entry>,
    /// The key that verified its signature, when it was verified.
    pub verified_by: Option<String>,
}

/// Why an org's index was not used (said on stderr when it matters).
#[derive(Debug, Clone, PartialEq)]
pub enum NotUsed {
    /// The org has no index (no repo, no file): nothing to say.
    Absent,
    /// It exists but was refused: the reason, naming the file and the rule.
    Refused(String),
}

/// Reads `org`'s index at `commit` (the listing's `sha` of `ORG/rskill-index`, else
/// asked of the Hub). With governance keys trusted for the org (`keys` not empty), its
/// signature must verify with one of them.
pub async fn read(
    client: &HubClient,
    org: &str,
    commit: Option<CommitId>,
    keys: &[rskill_signing::PublicKey],
) -> Result<OrgIndex, NotUsed> {
    let repo: RepoId = rskill_signing::catalog_index::index_repo(org)
        .parse()
        .map_err(|_| NotUsed::Absent)?;
    let refused = |m: String| NotUsed::Refused(format!("{repo}: {m}"));
    let commit = match commit {
        Some(c) => c,
        None => match client.repo_info(&repo, None).await {
            Ok(info) if info.file(INDEX_FILE).is_some() => info.sha,
            Ok(_) | Err(HubError::RepoNotFound { .. }) => return Err(NotUsed::Absent),
            Err(e) => return Err(refused(e.to_string())),
        },
    };
    let bytes = match read_index_file(client, &repo, &commit).await {
        Ok(b) => b,
        Err(HubError::EntryNotFound { .. } | HubError::RepoNotFound { .. }) => {
            return Err(NotUsed::Absent);
        }
        Err(e) => return Err(refused(format!("{INDEX_FILE}: {e}"))),
    };
    let mut verified_by = None;
    if !keys.is_empty() {
        let sig = read_cached_at_most(
            client,
            &repo,
            &commit,
            INDEX_SIGNATURE_FILE,
            rskill_signing::catalog_index::MAX_INDEX_SIGNATURE_BYTES,
        )
        .await
        .map_err(|e| {
            refused(format!(
                "{INDEX_SIGNATURE_FILE}: {e} (a key is trusted for {org}'s governance, so its index must be signed)"
            ))
        })?;
        let signed = rskill_signing::SignedIndex::verify(&sig, keys, org, &bytes)
            .map_err(|e| refused(e.to_string()))?;
        verified_by = Some(signed.key_id);
    }
    let file: IndexFile = serde_json::from_slice(&bytes)
        .map_err(|e| refused(format!("{INDEX_FILE} is not an index: {e}")))?;
    if file.format != FORMAT_VERSION || file.facets_format != search_facets::FORMAT_VERSION {
        return Err(refused(format!(
            "{INDEX_FILE} is of format {}/{} (this rskill reads {FORMAT_VERSION}/{})",
            file.format,
            file.facets_format,
            search_facets::FORMAT_VERSION
        )));
    }
    if file.org != org {
        return Err(refused(format!(
            "{INDEX_FILE} is the index of {:?}, not of {org}",
            file.org
        )));
    }
    // Only the org's own skills: an index speaks for its org and no other.
    let skills = file
        .skills
        .into_iter()
        .filter(|(id, _)| id.parse::<RepoId>().is_ok_and(|r| r.org() == org))
        .collect();
    Ok(OrgIndex {
        skills,
        verified_by,
    })
}
