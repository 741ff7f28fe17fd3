//! `rskill-hub import`: fills a data directory from an air-gap bundle (`rskill export`),
//! keeping the source Hub's commit ids, refs and files, so that pinned revisions,
//! lockfiles and signatures made against the source stay valid here.
//!
//! Three phases. **Verify**: the whole bundle is read once; each blob is checked against
//! its digest while it is staged in `tmp/`, every member against the trailing manifest
//! (see `rskill_bundle`). **Plan**: every commit's files must be in the bundle or named by
//! a commit the target holds of the same repo (a blob stored for another repo, maybe
//! another tenant's, is answered exactly like an absent one, and the report counts blobs
//! new to the imported repos, not to the store: an import tells nothing of other repos'
//! blobs), every parent in the bundle or the repo; a tag or branch the target holds
//! elsewhere (a branch may only move forward), or a commit id it holds with other content,
//! is a conflict; the signed governance states must agree with the tags and may not go
//! back (`import_governance`). Nothing has been written yet. **Apply**: a journal naming
//! everything the import will create (and each touched repo's `refs.json` as it was) is
//! written first, then the blobs, commit records, settings and refs; removing the journal
//! is the commit point. An error, or a crash (undone by [`recover`] the next time the
//! directory is opened), leaves the directory exactly as it was before the import; once
//! the journal is gone, exactly as after.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use rskill_bundle::{BundleCommit, Kind, RepoBundle};

use crate::catalog::repo_key;
use crate::errors::HubError;
use crate::import_governance::{self, Contents, GovernanceReport, RepoInput};
use crate::names::{self, RepoId, RepoKind};
use crate::records::{Commit, CommitRecord, FileEntry, Refs, RepoMeta, TagRef};
use crate::storage::{StagedBlob, Store, read_json, sync_dir, to_json};
use crate::timefmt;

/// The journal of the import in progress, at the root of the data directory.
pub const JOURNAL: &str = "import-journal.json";

/// How to import.
#[derive(Default)]
pub struct ImportOptions<'a> {
    /// Called after each step of the apply phase (journal, blobs, each repo), with what
    /// was done: for progress output, and for the crash test, which kills the process
    /// between two steps.
    pub on_step: Option<&'a dyn Fn(&str)>,
    /// Whether the importer may write repos of an owner (the admin API: the token's
    /// namespaces); `None` allows every owner (the command line, run by whoever owns the
    /// data directory).
    pub may_write: Option<&'a dyn Fn(&str) -> bool>,
    /// Keys trusted for governance (`--governance-key`): every signed governance state
    /// the bundle carries must verify with one of them. Empty: consistency and order are
    /// checked, signatures are not.
    pub governance_keys: &'a [rskill_signing::PublicKey],
}

/// What an import did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// The bundle id (SHA-256 of its metadata).
    pub bundle: String,
    pub source: String,
    pub bundle_bytes: u64,
    pub repos_created: Vec<String>,
    pub repos_updated: Vec<String>,
    pub repos_unchanged: Vec<String>,
    pub commits_added: usize,
    /// Blobs (and their bytes) the bundle carries that no commit of the imported repos
    /// named before: what the import adds to these repos, whether or not the store held
    /// the same content for another repo.
    pub blobs_added: usize,
    pub bytes_added: u64,
    /// What was checked of the signed governance states.
    pub governance: GovernanceReport,
    /// The repos created or updated.
    #[serde(skip)]
    pub touched: Vec<(RepoKind, RepoId)>,
}

impl ImportReport {
    /// Whether the import changed nothing (the bundle was already imported).
    pub fn is_noop(&self) -> bool {
        self.repos_created.is_empty() && self.repos_updated.is_empty()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Journal {
    bundle: String,
    /// Blobs the import creates (none of them was stored before).
    blobs: Vec<String>,
    /// Folders the import creates outside the new repos' own (kind and owner folders,
    /// blob shards), relative to the data directory, parents first.
    dirs: Vec<String>,
    repos: Vec<JournalRepo>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JournalRepo {
    /// `models` or `datasets`.
    kind: String,
    id: String,
    /// The repo did not exist: undoing removes its directory.
    created: bool,
    /// `refs.json` as it was, byte for byte (existing repos).
    old_refs: Option<String>,
    /// Commit records the import adds.
    commits: Vec<String>,
}

struct RepoPlan {
    kind: RepoKind,
    id: RepoId,
    /// Settings of a repo the import creates.
    new_meta: Option<RepoMeta>,
    refs: Refs,
    refs_changed: bool,
    commits: Vec<(Commit, Vec<u8>)>,
    old_refs: Option<String>,
    /// Blobs the bundle carries for this repo that none of its commits in the target
    /// named (sha256 → size).
    new_blobs: HashMap<String, u64>,
    /// `main` on the target before the import.
    target_main: Option<String>,
}

impl RepoPlan {
    fn changes(&self) -> bool {
        self.new_meta.is_some() || self.refs_changed || !self.commits.is_empty()
    }
}

fn kind_of(k: Kind) -> RepoKind {
    match k {
        Kind::Model => RepoKind::Model,
        Kind::Dataset => RepoKind::Dataset,
    }
}

/// A bundle read through and verified, its new blobs staged in `tmp/` (removed again
/// when this is dropped without [`commit_staged`]).
pub struct Staged {
    verified: rskill_bundle::Verified,
    blobs: HashMap<String, StagedBlob>,
    /// The git blob id of every blob the bundle carries (staged or already stored),
    /// computed from the bundle's bytes as they were read.
    git_ids: HashMap<String, String>,
}

/// Verifies the bundle read from `input`, then imports it into `store` all at once (or
/// not at all). Re-importing a bundle changes nothing.
pub fn import_bundle(
    store: &Store,
    input: impl Read,
    opts: &ImportOptions<'_>,
) -> Result<ImportReport, HubError> {
    let staged = stage(store, input)?;
    commit_staged(store, staged, opts)
}

/// Reads and verifies the whole bundle, staging the blobs the store lacks. Writes
/// nothing outside `tmp/`.
pub fn stage(store: &Store, input: impl Read) -> Result<Staged, HubError> {
    let mut staged: HashMap<String, StagedBlob> = HashMap::new();
    let mut git_ids: HashMap<String, String> = HashMap::new();
    let verified = rskill_bundle::read_bundle(input, |sha, size, content| {
        if store.blob_size(sha.as_str())? == Some(size) {
            // Stored already: only its git id is needed; the reader still checks the
            // bundle's copy against its digest.
            let mut git = crate::objects::GitBlobHasher::new(size);
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = content.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                git.update(&buf[..n]);
            }
            git_ids.insert(sha.to_string(), git.finish());
            return Ok(());
        }
        let mut stager = store.stager(size)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = content.read(&mut buf)?;
            if n == 0 {
                break;
            }
            stager.write(&buf[..n])?;
        }
        let blob = stager.finish()?;
        git_ids.insert(sha.to_string(), blob.git_sha1.clone());
        staged.insert(sha.to_string(), blob);
        Ok(())
    })?;
    Ok(Staged {
        verified,
        blobs: staged,
        git_ids,
    })
}

/// Checks a staged bundle against the store and imports it (see the module doc). The
/// caller must keep other writers out (the data directory's lock, or the catalog's
/// writer lock).
pub fn commit_staged(
    store: &Store,
    staged: Staged,
    opts: &ImportOptions<'_>,
) -> Result<ImportReport, HubError> {
    let Staged {
        verified,
        blobs: mut staged,
        git_ids,
    } = staged;
    // Blobs another writer stored since staging are not this import's to create (nor
    // to remove when undoing).
    let mut stored_since = Vec::new();
    for (sha, b) in &staged {
        if store.blob_size(sha)? == Some(b.size) {
            stored_since.push(sha.clone());
        }
    }
    for sha in stored_since {
        staged.remove(&sha);
    }
    if let Some(allowed) = opts.may_write {
        for r in &verified.meta.repos {
            if !allowed(r.id.owner()) {
                return Err(HubError::ImportForbidden {
                    repo: r.id.to_string(),
                });
            }
        }
    }
    let plans = plan(store, &verified.meta.repos, &staged, &git_ids)?;
    let inputs: Vec<RepoInput<'_>> = verified
        .meta
        .repos
        .iter()
        .zip(&plans)
        .map(|(rb, p)| RepoInput {
            kind: p.kind,
            bundle: rb,
            target_main: p.target_main.as_deref(),
            new_commits: &p.commits,
        })
        .collect();
    let governance = import_governance::check(
        &inputs,
        &Contents {
            store,
            staged: &staged,
        },
        opts.governance_keys,
    )?;
    drop(inputs);
    let mut report = ImportReport {
        bundle: verified.id.to_string(),
        source: verified.meta.source.clone(),
        bundle_bytes: verified.size,
        repos_created: Vec::new(),
        repos_updated: Vec::new(),
        repos_unchanged: Vec::new(),
        commits_added: 0,
        blobs_added: 0,
        bytes_added: 0,
        governance,
        touched: Vec::new(),
    };
    for p in &plans {
        let list = if p.new_meta.is_some() {
            &mut report.repos_created
        } else if p.changes() {
            &mut report.repos_updated
        } else {
            &mut report.repos_unchanged
        };
        list.push(p.id.to_string());
        if p.changes() {
            report.touched.push((p.kind, p.id.clone()));
        }
        report.commits_added += p.commits.len();
    }
    if report.is_noop() {
        return Ok(report); // staged blobs are dropped with `staged`
    }
    let new_blobs: HashMap<&str, u64> = plans
        .iter()
        .flat_map(|p| p.new_blobs.iter().map(|(sha, size)| (sha.as_str(), *size)))
        .collect();
    report.blobs_added = new_blobs.len();
    report.bytes_added = new_blobs.values().sum();
    let plans: Vec<RepoPlan> = plans.into_iter().filter(RepoPlan::changes).collect();
    let mut blob_ids: Vec<String> = staged.keys().cloned().collect();
    blob_ids.sort();
    // Folders that do not exist yet, parents first: undoing removes them again.
    let mut dirs: Vec<String> = Vec::new();
    let mut note = |abs: &Path| {
        let mut missing: Vec<String> = Vec::new();
        for a in abs.ancestors() {
            if a == store.root() || a.exists() {
                break;
            }
            if let Ok(rel) = a.strip_prefix(store.root()) {
                missing.push(rel.to_string_lossy().into_owned());
            }
        }
        for d in missing.into_iter().rev() {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    };
    for sha in &blob_ids {
        if let Some(parent) = store.blob_path(sha).parent() {
            note(parent);
        }
    }
    for p in plans.iter().filter(|p| p.new_meta.is_some()) {
        if let Some(parent) = store.repo_dir(p.kind, &p.id).parent() {
            note(parent);
        }
    }
    let journal = Journal {
        bundle: report.bundle.clone(),
        blobs: blob_ids,
        dirs,
        repos: plans
            .iter()
            .map(|p| JournalRepo {
                kind: p.kind.plural().to_owned(),
                id: p.id.to_string(),
                created: p.new_meta.is_some(),
                old_refs: p.old_refs.clone(),
                commits: p.commits.iter().map(|(c, _)| c.id.clone()).collect(),
            })
            .collect(),
    };
    let journal_path = store.root().join(JOURNAL);
    store.write_file(&journal_path, &to_json(&journal)?)?;
    step(opts, "journal written");
    if let Err(e) = apply(store, &plans, staged.into_values().collect(), opts) {
        undo(store, &journal)?;
        return Err(e);
    }
    finish(store)?;
    step(opts, "import committed");
    Ok(report)
}

fn step(opts: &ImportOptions<'_>, what: &str) {
    if let Some(f) = opts.on_step {
        f(what);
    }
}

/// Removes the journal: the commit point.
fn finish(store: &Store) -> Result<(), HubError> {
    let path = store.root().join(JOURNAL);
    fs::remove_file(&path).map_err(HubError::io_with(format!("removing {}", path.display())))?;
    if store.durable() {
        sync_dir(store.root())?;
    }
    Ok(())
}

/// The blobs the target's commit records of `id` name: `(sha256, size)` → git blob id.
fn named_blobs(
    store: &Store,
    kind: RepoKind,
    id: &RepoId,
) -> Result<HashMap<(String, u64), String>, HubError> {
    let mut named = HashMap::new();
    if !store.repo_dir(kind, id).exists() {
        return Ok(named);
    }
    for commit in store.commit_ids(kind, id)? {
        if let Some(c) = store.read_commit(kind, id, &commit)? {
            for f in c.record.files.into_values() {
                named.insert((f.sha256, f.size), f.git_sha1);
            }
        }
    }
    Ok(named)
}

/// Checks every repo of the bundle against the store and decides what to write.
fn plan(
    store: &Store,
    repos: &[RepoBundle],
    staged: &HashMap<String, StagedBlob>,
    git_ids: &HashMap<String, String>,
) -> Result<Vec<RepoPlan>, HubError> {
    let (existing, problems) = store.scan_repos();
    if let Some(p) = problems.first() {
        return Err(HubError::Corrupt {
            path: store.root().join("repos"),
            message: format!("the target has an unreadable repo, import nothing into it: {p}"),
        });
    }
    let mut by_lower: HashMap<(RepoKind, String), (RepoId, Refs)> = HashMap::new();
    let mut owners: HashMap<String, String> = HashMap::new();
    for (kind, id, _, refs) in existing {
        owners.insert(id.owner().to_lowercase(), id.owner().to_owned());
        by_lower.insert((kind, id.as_str().to_lowercase()), (id, refs));
    }
    let mut plans = Vec::new();
    for rb in repos {
        let kind = kind_of(rb.kind);
        let target = by_lower.get(&(kind, rb.id.as_str().to_lowercase()));
        if let Some((tid, _)) = target
            && tid.as_str() != rb.id.as_str()
        {
            return Err(HubError::ImportConflict {
                repo: rb.id.to_string(),
                what: format!("the target holds {tid}, the same id spelled differently"),
            });
        }
        if target.is_none()
            && let Some(spelled) = owners.get(&rb.id.owner().to_lowercase())
            && spelled != rb.id.owner()
        {
            return Err(HubError::ImportConflict {
                repo: rb.id.to_string(),
                what: format!("the target spells the namespace `{spelled}`"),
            });
        }
        plans.push(plan_repo(
            store,
            kind,
            rb,
            target.map(|(_, r)| r),
            staged,
            git_ids,
        )?);
    }
    Ok(plans)
}

fn plan_repo(
    store: &Store,
    kind: RepoKind,
    rb: &RepoBundle,
    target: Option<&Refs>,
    staged: &HashMap<String, StagedBlob>,
    bundle_git_ids: &HashMap<String, String>,
) -> Result<RepoPlan, HubError> {
    let id = rb.id.clone();
    let full = id.to_string();
    let conflict = |what: String| HubError::ImportConflict {
        repo: full.clone(),
        what,
    };
    let incomplete = |what: String| HubError::ImportIncomplete {
        repo: full.clone(),
        what,
    };
    let is_new = target.is_none();
    let in_bundle: HashMap<&str, &BundleCommit> =
        rb.commits.iter().map(|c| (c.id.as_str(), c)).collect();
    let stored = |c: &str| -> Result<Option<Commit>, HubError> {
        if is_new {
            Ok(None)
        } else {
            store.read_commit(kind, &id, c)
        }
    };
    let mut commits = Vec::new();
    let mut git_ids: HashMap<(&str, u64), String> = HashMap::new();
    let named = named_blobs(store, kind, &id)?;
    let mut new_blobs = HashMap::new();
    for c in &rb.commits {
        let mut files = BTreeMap::new();
        for (path, f) in &c.files {
            names::check_file_path(path.as_str())?;
            let sha = f.sha256.as_str();
            let key = (sha.to_owned(), f.size);
            let git_sha1 = match git_ids.get(&(sha, f.size)) {
                Some(g) => g.clone(),
                None => {
                    let g = match bundle_git_ids.get(sha) {
                        Some(g)
                            if staged.get(sha).is_some_and(|b| b.size == f.size)
                                || store.blob_size(sha)? == Some(f.size) =>
                        {
                            if !named.contains_key(&key) {
                                new_blobs.insert(sha.to_owned(), f.size);
                            }
                            Some(g.clone())
                        }
                        Some(_) => None,
                        // Not in this bundle (an earlier one brought it): only a blob this
                        // repo's own commits in the target name, and stored, is relied on.
                        // A blob stored for another repo gets the absent blob's answer.
                        None => match named.get(&key) {
                            Some(g) if store.blob_size(sha)? == Some(f.size) => Some(g.clone()),
                            _ => None,
                        },
                    };
                    let g = g.ok_or_else(|| {
                        incomplete(format!(
                            "commit {} needs `{path}` (blob {sha}), which neither the bundle nor the target holds for this repo; import the bundle this one builds on first",
                            c.id
                        ))
                    })?;
                    git_ids.insert((sha, f.size), g.clone());
                    g
                }
            };
            if let Some(given) = &f.git_sha1
                && given.as_str() != git_sha1
            {
                return Err(rskill_bundle::BundleError::Meta {
                    reason: format!(
                        "repo {full} commit {}: `{path}` has git blob id {given}, its content has {git_sha1}",
                        c.id
                    ),
                }
                .into());
            }
            files.insert(
                path.to_string(),
                FileEntry {
                    sha256: f.sha256.to_string(),
                    size: f.size,
                    git_sha1,
                },
            );
        }
        for parent in &c.parents {
            if !in_bundle.contains_key(parent.as_str()) && stored(parent.as_str())?.is_none() {
                return Err(incomplete(format!(
                    "commit {} has parent {parent}, which neither the bundle nor the target holds",
                    c.id
                )));
            }
        }
        let record = CommitRecord {
            repo: repo_key(kind, &id),
            parents: c.parents.iter().map(ToString::to_string).collect(),
            author: c.author.clone(),
            date: c.date.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            files,
        };
        if let Some(existing) = stored(c.id.as_str())? {
            if existing.record != record {
                return Err(conflict(format!(
                    "commit {} exists in the target with other content",
                    c.id
                )));
            }
            continue;
        }
        commits.push(Commit::imported(c.id.as_str(), record)?);
    }

    let known = |c: &str| -> Result<bool, HubError> {
        Ok(in_bundle.contains_key(c) || stored(c)?.is_some())
    };
    let mut refs = target.cloned().unwrap_or_default();
    let mut refs_changed = false;
    for (name, commit) in &rb.refs.tags {
        names::check_ref_name(name)?;
        if !known(commit.as_str())? {
            return Err(incomplete(format!(
                "tag `{name}` names commit {commit}, which neither the bundle nor the target holds"
            )));
        }
        if refs.branches.contains_key(name) {
            return Err(conflict(format!("tag `{name}` is a branch in the target")));
        }
        match refs.tags.get(name) {
            Some(t) if t.commit == commit.as_str() => {}
            Some(t) => {
                return Err(conflict(format!(
                    "tag `{name}` points to {} in the target, to {commit} in the bundle",
                    t.commit
                )));
            }
            None => {
                refs.tags.insert(
                    name.clone(),
                    TagRef {
                        commit: commit.to_string(),
                        message: None,
                    },
                );
                refs_changed = true;
            }
        }
    }
    for (name, commit) in &rb.refs.branches {
        names::check_ref_name(name)?;
        if !known(commit.as_str())? {
            return Err(incomplete(format!(
                "branch `{name}` names commit {commit}, which neither the bundle nor the target holds"
            )));
        }
        if refs.tags.contains_key(name) {
            return Err(conflict(format!("branch `{name}` is a tag in the target")));
        }
        match refs.branches.get(name) {
            Some(c) if c == commit.as_str() => {}
            Some(c) => {
                if !descends(commit.as_str(), c, &in_bundle, &stored)? {
                    return Err(conflict(format!(
                        "branch `{name}` is at {c} in the target, and the bundle's {commit} does not descend from it"
                    )));
                }
                refs.branches.insert(name.clone(), commit.to_string());
                refs_changed = true;
            }
            None => {
                refs.branches.insert(name.clone(), commit.to_string());
                refs_changed = true;
            }
        }
    }
    if is_new && !refs.branches.contains_key("main") {
        return Err(incomplete(
            "the bundle gives the new repo no `main` branch".into(),
        ));
    }
    let old_refs = match target {
        Some(_) => {
            let path = store.repo_dir(kind, &id).join("refs.json");
            let bytes = fs::read(&path)
                .map_err(HubError::io_with(format!("reading {}", path.display())))?;
            Some(String::from_utf8(bytes).map_err(|_| HubError::Corrupt {
                path,
                message: "not UTF-8".into(),
            })?)
        }
        None => None,
    };
    let new_meta = is_new.then(|| RepoMeta {
        id: full.clone(),
        kind: kind.singular().to_owned(),
        private: rb.private,
        gated: None,
        created_at: timefmt::now(),
        description: None,
        discussions_disabled: false,
    });
    Ok(RepoPlan {
        kind,
        id,
        new_meta,
        refs,
        refs_changed,
        commits,
        old_refs,
        new_blobs,
        target_main: target.and_then(|t| t.branches.get("main").cloned()),
    })
}

/// Whether `from` is `ancestor` or has it among its ancestors (bundle and store).
fn descends(
    from: &str,
    ancestor: &str,
    in_bundle: &HashMap<&str, &BundleCommit>,
    stored: &dyn Fn(&str) -> Result<Option<Commit>, HubError>,
) -> Result<bool, HubError> {
    let mut queue = VecDeque::from([from.to_owned()]);
    let mut seen = HashSet::new();
    while let Some(c) = queue.pop_front() {
        if c == ancestor {
            return Ok(true);
        }
        if !seen.insert(c.clone()) {
            continue;
        }
        let parents: Vec<String> = match in_bundle.get(c.as_str()) {
            Some(b) => b.parents.iter().map(ToString::to_string).collect(),
            None => stored(&c)?.map(|s| s.record.parents).unwrap_or_default(),
        };
        queue.extend(parents);
    }
    Ok(false)
}

/// Writes blobs, then each repo's commit records, settings and refs (refs last).
fn apply(
    store: &Store,
    plans: &[RepoPlan],
    blobs: Vec<StagedBlob>,
    opts: &ImportOptions<'_>,
) -> Result<(), HubError> {
    store.publish_blobs(blobs)?;
    step(opts, "blobs stored");
    for p in plans {
        let dir = store.repo_dir(p.kind, &p.id);
        let commits = dir.join("commits");
        fs::create_dir_all(&commits)
            .map_err(HubError::io_with(format!("creating {}", commits.display())))?;
        for (commit, bytes) in &p.commits {
            store.write_commit(p.kind, &p.id, commit, bytes)?;
        }
        if let Some(meta) = &p.new_meta {
            store.write_meta(p.kind, &p.id, meta)?;
        }
        if p.refs_changed {
            store.write_refs(p.kind, &p.id, &p.refs)?;
        }
        if store.durable() {
            sync_dir(&commits)?;
            sync_dir(&dir)?;
            for d in dir.ancestors().skip(1).take(2) {
                sync_dir(d)?;
            }
        }
        step(opts, &format!("{} {} imported", p.kind.singular(), p.id));
    }
    Ok(())
}

/// Undoes what the journal names: the repos' new commit records, created repos and
/// owners, old `refs.json`, created blobs. Then removes the journal. Safe to run again
/// after a crash in the middle of it.
fn undo(store: &Store, journal: &Journal) -> Result<(), HubError> {
    let gone = |r: std::io::Result<()>, what: &Path| match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(HubError::io(
            format!("undoing the import: removing {}", what.display()),
            e,
        )),
        _ => Ok(()),
    };
    for repo in journal.repos.iter().rev() {
        let kind = RepoKind::from_plural(&repo.kind).ok_or_else(|| HubError::Corrupt {
            path: store.root().join(JOURNAL),
            message: format!("unknown repo kind `{}`", repo.kind),
        })?;
        let id = RepoId::parse(&repo.id)?;
        let dir = store.repo_dir(kind, &id);
        if repo.created {
            gone(fs::remove_dir_all(&dir), &dir)?;
            if store.durable()
                && let Some(owner) = dir.parent()
                && owner.exists()
            {
                sync_dir(owner)?;
            }
            continue;
        }
        for c in &repo.commits {
            let path = store.commit_path(kind, &id, c);
            gone(fs::remove_file(&path), &path)?;
        }
        if let Some(old) = &repo.old_refs {
            store.write_file(&dir.join("refs.json"), old.as_bytes())?;
        }
        if store.durable() {
            sync_dir(&dir.join("commits"))?;
        }
    }
    for sha in &journal.blobs {
        if !crate::objects::is_sha256(sha) {
            continue;
        }
        if !matches!(store.blobs(), crate::blobstore::BlobStore::Local(_)) {
            // An object store: removing a missing object is not an error there.
            store.unpublish(std::slice::from_ref(sha));
            continue;
        }
        let path = store.blob_path(sha);
        gone(fs::remove_file(&path), &path)?;
        if store.durable()
            && let Some(parent) = path.parent()
            && parent.exists()
        {
            sync_dir(parent)?;
        }
    }
    for rel in journal.dirs.iter().rev() {
        if rel.split('/').any(|s| s == ".." || s.is_empty()) {
            continue;
        }
        let path = store.root().join(rel);
        gone(fs::remove_dir(&path), &path)?;
        if store.durable()
            && let Some(parent) = path.parent()
        {
            sync_dir(parent)?;
        }
    }
    finish(store)
}

/// Undoes an import that was cut short, if the data directory has its journal. Called
/// whenever a store is opened, before anything reads it.
pub fn recover(store: &Store) -> Result<bool, HubError> {
    let path = store.root().join(JOURNAL);
    if !path.exists() {
        return Ok(false);
    }
    let journal: Journal = read_json(&path)?;
    undo(store, &journal)?;
    Ok(true)
}
