//! `rskill export`: writes an air-gap bundle (`rskill-bundle`) of skills, groups and,
//! with `--with-weights`, the upstream weight repos their manifests pin, read from a Hub
//! through its HTTP API only, for `rskill-hub import` on the other side of the gap.
//!
//! For each skill it carries every ref (the `v<version>` tags, `main` with
//! `rskill.registry.json`: statuses, aliases, history, scan records; signatures are
//! plain files of the commits) and the whole history behind them (ids and parents as the
//! Hub's commits endpoint reports them; in list order when it gives no parents), each
//! commit with its file table. For a weights repo, `main` and the pinned commits with
//! their histories, and the refs that name exported commits. A repo whose `main` holds
//! a signed governance state (`rskill.registry.sig`) has it parsed against the registry
//! file (not verified: export holds no keys), and its version named in the metadata; a
//! state `rskill-hub import` would refuse as malformed is refused here already.
//!
//! Memory stays flat whatever the size: files kept in git (small) are hashed on the way
//! into a spool directory beside the output, since a tar header needs the digest that
//! names the member before its content; LFS files (their SHA-256 is in the file table)
//! go from the HTTP response straight into the tar. `--since OLD.tar` reads only the old
//! bundle's metadata and leaves out the commits and blobs it carried.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use rskill_bundle::{
    BundleCommit, BundleError, BundleFile, BundleGovernance, BundleMeta, BundleRefs, BundleWriter,
    FORMAT_VERSION, Kind, RepoBundle,
};
use rskill_hub_protocol::REGISTRY_FILE;
use rskill_hub_protocol::hf_uri::HfUri;
use rskill_manifest::group::{GROUP_FILE, GROUP_REPO_PREFIX};
use rskill_signing::governance::MAX_GOVERNANCE_SIGNATURE_BYTES;
use rskill_signing::{GOVERNANCE_SIGNATURE_FILE, SignedGovernance};

use crate::hub::client::Ctx;
use crate::hub::ids::{CommitId, GitBlobId, RepoPath, Sha256};
use crate::hub::listing::ListQuery;
use crate::hub::repo::{encode_path, encode_rev};
use crate::hub::{HubClient, HubError, RepoId};

/// A Hub history longer than this (per head) is refused rather than cut.
const MAX_HISTORY: usize = 1000;
/// Files kept in git larger than this are refused (the Hub sends files of 10 MiB and
/// more to LFS).
const MAX_GIT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{repo}: {message}")]
    Source { repo: String, message: String },
}

impl ExportError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExportError::Hub(e) => e.hint(),
            ExportError::Bundle(e) if e.is_corrupt() => {
                Some("the --since bundle is not a bundle rskill export wrote, or is damaged".into())
            }
            ExportError::Io { .. } | ExportError::Bundle(_) => Some(
                "check the output folder: it must be writable, with room for the bundle".into(),
            ),
            ExportError::Source { .. } => None,
        }
    }
}

fn io_err(context: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ExportError {
    let path = path.to_owned();
    move |source| ExportError::Io {
        context,
        path,
        source,
    }
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    pub skills: Vec<RepoId>,
    /// Every `rskill-*` repo (skills and groups) of these authors.
    pub authors: Vec<String>,
    /// Groups: the group repo and its members.
    pub groups: Vec<RepoId>,
    pub with_weights: bool,
    pub since: Option<PathBuf>,
    pub out: PathBuf,
}

/// What an export wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    pub bundle: String,
    pub out: PathBuf,
    pub source: String,
    pub since: Option<String>,
    pub repos: Vec<String>,
    /// The signed governance state carried per repo (its version), for repos with one.
    pub governance: BTreeMap<String, u64>,
    pub commits: usize,
    pub blobs: usize,
    /// Bytes of the bundle file.
    pub bytes: u64,
    /// Commits and blobs left out because the `--since` bundle carried them.
    pub left_out_commits: usize,
    pub left_out_blobs: usize,
    pub seconds: f64,
}

/// A repo to export: every ref, or `main` plus pinned commits (weights).
#[derive(Debug, Default)]
struct Target {
    all_refs: bool,
    pins: BTreeSet<CommitId>,
}

/// Where a blob's content comes from when the tar is written.
#[derive(Debug, Clone)]
enum Source {
    Spool(PathBuf),
    Remote {
        repo: RepoId,
        commit: CommitId,
        path: RepoPath,
    },
}

#[derive(serde::Deserialize)]
struct RefsAnswer {
    branches: Vec<GitRef>,
    tags: Vec<GitRef>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GitRef {
    name: String,
    target_commit: CommitId,
}

#[derive(serde::Deserialize)]
struct LogEntry {
    id: CommitId,
    #[serde(default)]
    title: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    authors: Vec<LogAuthor>,
    #[serde(default)]
    date: String,
    #[serde(default)]
    parents: Option<Vec<CommitId>>,
}

#[derive(serde::Deserialize)]
struct LogAuthor {
    #[serde(default)]
    user: String,
}

/// Each entry of a commit log (newest first) with its parents: as the Hub reports them,
/// or, from a Hub that gives none, the next entry of the list (first-parent order).
fn link(entries: Vec<LogEntry>) -> Vec<(LogEntry, Vec<CommitId>)> {
    let next: Vec<Option<CommitId>> = entries
        .iter()
        .skip(1)
        .map(|e| Some(e.id.clone()))
        .chain(std::iter::once(None))
        .collect();
    entries
        .into_iter()
        .zip(next)
        .map(|(entry, next)| {
            let parents = entry
                .parents
                .clone()
                .unwrap_or_else(|| next.into_iter().collect());
            (entry, parents)
        })
        .collect()
}

/// Exports to `req.out` (written under a temporary name, renamed when complete).
pub async fn export(
    client: &HubClient,
    req: &ExportRequest,
    say: &(dyn Fn(&str) + Send + Sync),
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let since = match &req.since {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(io_err("opening", p))?;
            Some(rskill_bundle::read_meta(BufReader::new(f))?)
        }
        None => None,
    };
    let mut old_commits: HashSet<(String, String)> = HashSet::new();
    let mut old_blobs: HashSet<Sha256> = HashSet::new();
    if let Some((meta, _)) = &since {
        for r in &meta.repos {
            for c in &r.commits {
                old_commits.insert((r.id.to_string(), c.id.to_string()));
            }
        }
        old_blobs.extend(meta.blobs().into_keys());
    }

    let targets = collect_targets(client, req, say).await?;
    let out_dir = req
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let spool = tempfile::Builder::new()
        .prefix(".rskill-export-")
        .tempdir_in(&out_dir)
        .map_err(io_err("creating a spool folder in", &out_dir))?;
    let mut sources: HashMap<Sha256, (Source, u64)> = HashMap::new();
    let mut git_spooled: HashMap<GitBlobId, (Sha256, u64)> = HashMap::new();
    let mut repos = Vec::new();
    let mut left_out_commits = 0;
    for (repo, target) in &targets {
        say(&format!("reading {repo}"));
        let (bundle, skipped) = read_repo(
            client,
            repo,
            target,
            &old_commits,
            spool.path(),
            &mut sources,
            &mut git_spooled,
        )
        .await?;
        left_out_commits += skipped;
        repos.push(bundle);
    }
    let meta = BundleMeta {
        format: FORMAT_VERSION,
        source: client.shown_endpoint(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        since: since.as_ref().map(|(_, id)| id.clone()),
        repos,
    };
    let wanted = meta.blobs();
    let left_out_blobs = wanted.keys().filter(|s| old_blobs.contains(*s)).count();
    let blobs: Vec<(Sha256, u64, Source)> = wanted
        .into_iter()
        .filter(|(s, _)| !old_blobs.contains(s))
        .map(|(s, size)| {
            let (src, _) = sources.get(&s).cloned().expect("every file has a source");
            (s, size, src)
        })
        .collect();
    let commits = meta.repos.iter().map(|r| r.commits.len()).sum();
    let repo_names = meta.repos.iter().map(|r| r.id.to_string()).collect();
    let governance = meta
        .repos
        .iter()
        .filter_map(|r| Some((r.id.to_string(), r.governance.as_ref()?.version)))
        .collect();
    say(&format!(
        "writing {} ({} commits, {} blobs)",
        req.out.display(),
        commits,
        blobs.len()
    ));
    let count = blobs.len();
    let handle = tokio::runtime::Handle::current();
    let writer_client = client.clone();
    let out = req.out.clone();
    let (id, bytes) = tokio::task::spawn_blocking(move || {
        write_bundle(&handle, &writer_client, &meta, blobs, &out)
    })
    .await
    .map_err(|e| HubError::Other(format!("the bundle writer failed: {e}")))??;
    drop(spool);
    Ok(ExportReport {
        bundle: id.to_string(),
        out: req.out.clone(),
        source: client.shown_endpoint(),
        since: since.map(|(_, id)| id.to_string()),
        repos: repo_names,
        governance,
        commits,
        blobs: count,
        bytes,
        left_out_commits,
        left_out_blobs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The repos to export, each once: skills, authors' `rskill-*` repos, groups and their
/// members, and with weights the upstream repos their manifests pin.
async fn collect_targets(
    client: &HubClient,
    req: &ExportRequest,
    say: &(dyn Fn(&str) + Send + Sync),
) -> Result<BTreeMap<RepoId, Target>, ExportError> {
    let mut targets: BTreeMap<RepoId, Target> = BTreeMap::new();
    let whole =
        |t: &mut BTreeMap<RepoId, Target>, r: RepoId| t.entry(r).or_default().all_refs = true;
    for s in &req.skills {
        whole(&mut targets, s.clone());
    }
    for author in &req.authors {
        let query = ListQuery {
            author: Some(author.clone()),
            ..Default::default()
        };
        let (items, _) = client.list_models(&query).await?;
        for item in items {
            let id: RepoId = item.id.parse().map_err(|e| ExportError::Source {
                repo: item.id.clone(),
                message: format!("the listing gives an invalid id: {e}"),
            })?;
            if id.name().starts_with("rskill-") {
                whole(&mut targets, id);
            }
        }
    }
    for g in &req.groups {
        whole(&mut targets, g.clone());
        let info = client.repo_info(g, None).await?;
        let path: RepoPath = GROUP_FILE.parse().expect("a valid repo path");
        let bytes = client.read_file_cached(g, &info.sha, &path).await?;
        let group =
            rskill_manifest::group::parse_valid(&bytes).map_err(|v| ExportError::Source {
                repo: g.to_string(),
                message: format!(
                    "{GROUP_FILE} is invalid: {}",
                    v.iter()
                        .map(|v| v.render(GROUP_FILE))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            })?;
        for m in group.members {
            let id: RepoId = m.id.parse().map_err(|e| ExportError::Source {
                repo: g.to_string(),
                message: format!("member `{}`: {e}", m.id),
            })?;
            whole(&mut targets, id);
        }
    }
    if req.with_weights {
        let skills: Vec<RepoId> = targets
            .keys()
            .filter(|r| !r.name().starts_with(GROUP_REPO_PREFIX))
            .cloned()
            .collect();
        for skill in skills {
            say(&format!("reading the weights {skill} pins"));
            for (repo, commit) in pinned_upstreams(client, &skill).await? {
                if !targets.get(&repo).is_some_and(|t| t.all_refs) {
                    targets.entry(repo).or_default().pins.insert(commit);
                }
            }
        }
    }
    Ok(targets)
}

/// The upstream repos and commits the manifests of a skill's versions (its `v*` tags
/// and `main`) pin through `hf://` URIs: weights and processors.
async fn pinned_upstreams(
    client: &HubClient,
    skill: &RepoId,
) -> Result<BTreeSet<(RepoId, CommitId)>, ExportError> {
    let refs = read_refs(client, skill).await?;
    let commits: BTreeSet<CommitId> = refs
        .branches
        .iter()
        .filter(|r| r.name == "main")
        .chain(refs.tags.iter().filter(|r| r.name.starts_with('v')))
        .map(|r| r.target_commit.clone())
        .collect();
    let mut out = BTreeSet::new();
    for commit in commits {
        let info = client.repo_info(skill, Some(commit.as_str())).await?;
        if info.file("rskill.yaml").is_none() {
            continue;
        }
        let bytes = client
            .read_file_cached(skill, &commit, &RepoPath::manifest())
            .await?;
        let Ok(manifest) = rskill_manifest::validate::parse_valid(&String::from_utf8_lossy(&bytes))
        else {
            continue; // not a skill at this commit: nothing it pins
        };
        let mut uris = Vec::new();
        uris.extend(manifest.weights_uri.clone());
        if let Some(p) = &manifest.processors {
            uris.push(p.preprocessor_uri.clone());
            uris.push(p.postprocessor_uri.clone());
        }
        for uri in uris {
            let Some(parsed) = HfUri::parse(&uri) else {
                continue;
            };
            let repo: RepoId = parsed.repo.parse().map_err(|e| ExportError::Source {
                repo: skill.to_string(),
                message: format!("`{uri}`: {e}"),
            })?;
            let pinned = client.repo_info(&repo, parsed.revision.as_deref()).await?;
            out.insert((repo, pinned.sha));
        }
    }
    Ok(out)
}

async fn read_refs(client: &HubClient, repo: &RepoId) -> Result<RefsAnswer, HubError> {
    let url = client.url(&format!("/api/models/{repo}/refs"));
    let ctx = Ctx::new(format!("list refs of {repo}")).repo(repo);
    client.send_json(|c| c.get(&url), &ctx).await
}

/// One repo: refs, the histories behind them, and each new commit's file table.
/// Returns the repo and how many commits the `--since` bundle already carried.
async fn read_repo(
    client: &HubClient,
    repo: &RepoId,
    target: &Target,
    old_commits: &HashSet<(String, String)>,
    spool: &Path,
    sources: &mut HashMap<Sha256, (Source, u64)>,
    git_spooled: &mut HashMap<GitBlobId, (Sha256, u64)>,
) -> Result<(RepoBundle, usize), ExportError> {
    let info = client.repo_info(repo, None).await?;
    let refs = read_refs(client, repo).await?;
    let mut heads: BTreeSet<CommitId> = target.pins.clone();
    for r in refs.branches.iter().chain(&refs.tags) {
        if target.all_refs || r.name == "main" {
            heads.insert(r.target_commit.clone());
        }
    }
    // id → entry, parents resolved.
    let mut log: BTreeMap<CommitId, (LogEntry, Vec<CommitId>)> = BTreeMap::new();
    for head in &heads {
        if log.contains_key(head) {
            continue;
        }
        let url = client.url(&format!(
            "/api/models/{repo}/commits/{}",
            encode_rev(head.as_str())
        ));
        let ctx = Ctx::new(format!("read the history of {repo}")).repo(repo);
        let limit = MAX_HISTORY.to_string();
        let entries: Vec<LogEntry> = client
            .send_json(|c| c.get(&url).query(&[("limit", limit.as_str())]), &ctx)
            .await?;
        if entries.first().map(|e| &e.id) != Some(head) {
            return Err(ExportError::Source {
                repo: repo.to_string(),
                message: format!("the history of {head} does not start with it"),
            });
        }
        let n = entries.len();
        for (entry, parents) in link(entries) {
            log.entry(entry.id.clone()).or_insert((entry, parents));
        }
        let dangling = log
            .values()
            .flat_map(|(_, p)| p)
            .any(|p| !log.contains_key(p));
        if dangling && n >= MAX_HISTORY {
            return Err(ExportError::Source {
                repo: repo.to_string(),
                message: format!(
                    "the history of {head} is longer than {MAX_HISTORY} commits, which export does not carry"
                ),
            });
        }
    }
    // Oldest first: a commit after all its parents.
    let mut order: Vec<CommitId> = Vec::new();
    let mut placed: HashSet<CommitId> = HashSet::new();
    while order.len() < log.len() {
        let before = order.len();
        for (id, (_, parents)) in &log {
            if !placed.contains(id)
                && parents
                    .iter()
                    .all(|p| placed.contains(p) || !log.contains_key(p))
            {
                placed.insert(id.clone());
                order.push(id.clone());
            }
        }
        if order.len() == before {
            return Err(ExportError::Source {
                repo: repo.to_string(),
                message: "the commit history has a cycle".into(),
            });
        }
    }
    let mut commits = Vec::new();
    let mut skipped = 0;
    for id in order {
        if old_commits.contains(&(repo.to_string(), id.to_string())) {
            skipped += 1;
            continue;
        }
        let (entry, parents) = log.remove(&id).expect("ordered from the log");
        let files = file_table(client, repo, &id, spool, sources, git_spooled).await?;
        commits.push(BundleCommit {
            id,
            parents,
            author: entry
                .authors
                .into_iter()
                .next()
                .map(|a| a.user)
                .unwrap_or_default(),
            date: entry.date,
            summary: entry.title,
            description: entry.message,
            files,
        });
    }
    let exported: HashSet<String> = log
        .keys()
        .map(ToString::to_string)
        .chain(commits.iter().map(|c| c.id.to_string()))
        .collect();
    let keep = |r: &GitRef| {
        target.all_refs || r.name == "main" || exported.contains(r.target_commit.as_str())
    };
    let pick = |v: &[GitRef]| -> BTreeMap<String, CommitId> {
        v.iter()
            .filter(|r| keep(r))
            .map(|r| (r.name.clone(), r.target_commit.clone()))
            .collect()
    };
    let branches = pick(&refs.branches);
    let governance = match branches.get("main") {
        Some(main) => governance_at(client, repo, main).await?,
        None => None,
    };
    Ok((
        RepoBundle {
            kind: Kind::Model,
            id: repo.clone(),
            private: info.private,
            refs: BundleRefs {
                branches,
                tags: pick(&refs.tags),
            },
            commits,
            governance,
        },
        skipped,
    ))
}

/// The signed governance state at `main` (`rskill.registry.sig` beside the registry
/// file), if there is one: its version and registry digest, for the metadata. The
/// files themselves travel as files of `main`'s commit (in this bundle, or in the one it
/// builds on when `main` has not moved since).
async fn governance_at(
    client: &HubClient,
    repo: &RepoId,
    main: &CommitId,
) -> Result<Option<BundleGovernance>, ExportError> {
    let info = client.repo_info(repo, Some(main.as_str())).await?;
    if info.file(GOVERNANCE_SIGNATURE_FILE).is_none() {
        return Ok(None);
    }
    let sig = client
        .read_file_at_most(
            repo,
            main.as_str(),
            GOVERNANCE_SIGNATURE_FILE,
            MAX_GOVERNANCE_SIGNATURE_BYTES,
        )
        .await?;
    let registry = match info.file(REGISTRY_FILE) {
        Some(_) => Some(
            client
                .read_file_at_most(repo, main.as_str(), REGISTRY_FILE, MAX_GIT_FILE_BYTES)
                .await?,
        ),
        None => None,
    };
    let bad = |message: String| ExportError::Source {
        repo: repo.to_string(),
        message,
    };
    let signed = SignedGovernance::parse_unverified(&sig, repo.as_str(), registry.as_deref())
        .map_err(|e| bad(format!("{GOVERNANCE_SIGNATURE_FILE} at main ({main}): {e}")))?;
    let registry_sha256 = signed
        .state
        .registry_sha256
        .parse()
        .map_err(|e| bad(format!("{GOVERNANCE_SIGNATURE_FILE}: registry_sha256: {e}")))?;
    Ok(Some(BundleGovernance {
        version: signed.state.version,
        registry_sha256,
    }))
}

/// The files of `repo` at `commit`: LFS files by the SHA-256 the Hub reports; files kept
/// in git downloaded (once per git blob id) into the spool and hashed.
async fn file_table(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    spool: &Path,
    sources: &mut HashMap<Sha256, (Source, u64)>,
    git_spooled: &mut HashMap<GitBlobId, (Sha256, u64)>,
) -> Result<BTreeMap<RepoPath, BundleFile>, ExportError> {
    let info = client.repo_info(repo, Some(commit.as_str())).await?;
    if info.sha != *commit {
        return Err(ExportError::Source {
            repo: repo.to_string(),
            message: format!("asked for commit {commit}, the Hub answered {}", info.sha),
        });
    }
    let mut files = BTreeMap::new();
    for s in &info.siblings {
        let file = if let Some(lfs) = &s.lfs {
            sources.entry(lfs.sha256.clone()).or_insert((
                Source::Remote {
                    repo: repo.clone(),
                    commit: commit.clone(),
                    path: s.rfilename.clone(),
                },
                lfs.size,
            ));
            BundleFile {
                sha256: lfs.sha256.clone(),
                size: lfs.size,
                git_sha1: None,
            }
        } else {
            let blob_id = s.blob_id.clone().ok_or_else(|| ExportError::Source {
                repo: repo.to_string(),
                message: format!(
                    "{} at {commit} has neither a blob id nor LFS data",
                    s.rfilename
                ),
            })?;
            let (sha256, size) = match git_spooled.get(&blob_id) {
                Some(v) => v.clone(),
                None => {
                    let limit = s.size.unwrap_or(MAX_GIT_FILE_BYTES).min(MAX_GIT_FILE_BYTES);
                    let bytes = client
                        .read_file_at_most(repo, commit.as_str(), s.rfilename.as_str(), limit)
                        .await?;
                    if GitBlobId::of(&bytes) != blob_id {
                        return Err(HubError::Integrity {
                            path: format!("{repo}@{commit}/{}", s.rfilename),
                            expected: blob_id.to_string(),
                            actual: GitBlobId::of(&bytes).to_string(),
                        }
                        .into());
                    }
                    let sha = Sha256::of(&bytes);
                    let path = spool.join(sha.as_str());
                    if !path.exists() {
                        let mut f =
                            std::fs::File::create(&path).map_err(io_err("writing", &path))?;
                        f.write_all(&bytes).map_err(io_err("writing", &path))?;
                    }
                    sources.insert(sha.clone(), (Source::Spool(path), bytes.len() as u64));
                    let v = (sha, bytes.len() as u64);
                    git_spooled.insert(blob_id.clone(), v.clone());
                    v
                }
            };
            BundleFile {
                sha256,
                size,
                git_sha1: Some(blob_id),
            }
        };
        files.insert(s.rfilename.clone(), file);
    }
    Ok(files)
}

/// An HTTP body read as a blocking `Read`, one chunk at a time.
struct BodyReader<'a> {
    response: reqwest::Response,
    handle: &'a tokio::runtime::Handle,
    chunk: bytes::Bytes,
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.response.chunk()) {
                Ok(Some(c)) => self.chunk = c,
                Ok(None) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// Writes the bundle (on a blocking thread) to a temporary file beside `out`, then
/// renames it. Returns the bundle id and the file size.
fn write_bundle(
    handle: &tokio::runtime::Handle,
    client: &HubClient,
    meta: &BundleMeta,
    blobs: Vec<(Sha256, u64, Source)>,
    out: &Path,
) -> Result<(Sha256, u64), ExportError> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".rskill-bundle-")
        .tempfile_in(dir)
        .map_err(io_err("creating a temporary file in", dir))?;
    let file = tmp.reopen().map_err(io_err("opening", tmp.path()))?;
    let mut w = BundleWriter::new(BufWriter::with_capacity(1 << 20, file), meta)?;
    let id = w.id().clone();
    for (sha, size, source) in blobs {
        match source {
            Source::Spool(path) => {
                let f = std::fs::File::open(&path).map_err(io_err("opening", &path))?;
                w.append_blob(&sha, size, f)?;
            }
            Source::Remote { repo, commit, path } => {
                let url = client.url(&format!(
                    "/{repo}/resolve/{}/{}",
                    encode_rev(commit.as_str()),
                    encode_path(path.as_str())
                ));
                let ctx = Ctx::new(format!("download {path} of {repo}"))
                    .repo(&repo)
                    .revision(commit.as_str())
                    .path(path.as_str());
                let response = handle.block_on(client.send(|c| c.get(&url), &ctx))?;
                w.append_blob(
                    &sha,
                    size,
                    BodyReader {
                        response,
                        handle,
                        chunk: bytes::Bytes::new(),
                    },
                )?;
            }
        }
    }
    let (buffered, total) = w.finish()?;
    let file = buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(io_err("writing", tmp.path()))?;
    file.sync_all().map_err(io_err("syncing", tmp.path()))?;
    tmp.persist(out)
        .map_err(|e| e.error)
        .map_err(io_err("writing", out))?;
    Ok((id, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(json: &str) -> Vec<LogEntry> {
        serde_json::from_str(json).unwrap()
    }

    fn id(c: char) -> String {
        c.to_string().repeat(40)
    }

    #[test]
    fn parents_as_reported_else_the_list_order() {
        let (a, b, c) = (id('a'), id('b'), id('c'));
        let given = entries(&format!(
            r#"[{{"id":"{c}","parents":["{a}"]}},{{"id":"{b}","parents":["{a}"]}},{{"id":"{a}","parents":[]}}]"#
        ));
        let linked: Vec<Vec<String>> = link(given)
            .into_iter()
            .map(|(_, p)| p.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(linked, vec![vec![a.clone()], vec![a.clone()], vec![]]);
        // huggingface.co at times gives no parents: newest first, each on the next.
        let bare = entries(&format!(
            r#"[{{"id":"{c}"}},{{"id":"{b}"}},{{"id":"{a}"}}]"#
        ));
        let linked: Vec<Vec<String>> = link(bare)
            .into_iter()
            .map(|(_, p)| p.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(linked, vec![vec![b], vec![a], vec![]]);
    }
}
