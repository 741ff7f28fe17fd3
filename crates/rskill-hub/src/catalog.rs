//! The repos the server hosts, in memory, and every change to them.
//!
//! Each repo is an immutable [`RepoEntry`] snapshot (settings, refs, and a summary of the
//! head of `main`: tags and card data from its README, files, last modification), swapped
//! whole on each change, so listings read a consistent index without touching the disk.
//! Every change goes through one writer lock: commits (and ref and settings changes) are
//! serialized, and each is written to the [`Store`] before the index shows it.
//!
//! Blobs are stored once for the whole server, but they belong to the repos whose commits
//! reference them: an `lfsFile` commit line may attach only a blob that some commit of a
//! repo the committer can read references. The blob → repos index behind that rule is
//! derived from the commit records (built on first use, kept up to date by each commit and
//! deletion under the writer lock), so it adds nothing to the data directory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde_json::{Map, Value};

use super::errors::HubError;
use super::immutable::{self, Actor};
use super::names::{self, RepoId, RepoKind};
use super::records::{Commit, CommitRecord, FileEntry, Refs, RepoMeta, TagRef};
use super::storage::{StagedBlob, Store};
use super::timefmt;

/// README files larger than this are not parsed for tags and card data.
const MAX_CARD_BYTES: u64 = 1024 * 1024;
/// Cached commit records beyond this many are dropped.
const COMMIT_CACHE_LIMIT: usize = 20_000;

/// What the head of `main` looks like, for listings.
#[derive(Debug, Clone)]
pub struct HeadSummary {
    pub commit: String,
    pub last_modified: String,
    /// The card's front matter `tags` (as the Hub indexes them), deduplicated.
    pub tags: Vec<String>,
    pub card_data: Option<Map<String, Value>>,
    pub pipeline_tag: Option<String>,
    pub library_name: Option<String>,
    pub files: Vec<String>,
    pub used_storage: u64,
}

/// One repo as the index sees it.
#[derive(Debug, Clone)]
pub struct RepoEntry {
    pub kind: RepoKind,
    pub id: RepoId,
    /// `owner/name`.
    pub full_id: String,
    /// Lower-cased `full_id`, for case-insensitive search.
    pub id_lower: String,
    pub meta: RepoMeta,
    pub refs: Refs,
    pub head: HeadSummary,
}

impl RepoEntry {
    /// Whether this repo is visible to a caller for whom `member_of(owner)` tells
    /// membership: public repos to all, private ones to members.
    pub fn visible_to(&self, member_of: impl Fn(&str) -> bool) -> bool {
        !self.meta.private || member_of(self.id.owner())
    }
}

/// How a revision resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub commit: Arc<Commit>,
}

/// Where a new file's content comes from.
#[derive(Debug)]
pub enum Content {
    /// Uploaded with the commit.
    Staged(StagedBlob),
    /// Already in the store (an `lfsFile` operation).
    Stored(FileEntry),
}

/// One operation of a commit.
#[derive(Debug)]
pub enum CommitOp {
    Put { path: String, content: Content },
    Delete { path: String },
    DeleteFolder { path: String },
}

/// A commit to apply.
#[derive(Debug)]
pub struct CommitRequest {
    pub branch: String,
    /// The commit the client based its change on (full id or a prefix of 7+ digits).
    pub parent: Option<String>,
    pub author: String,
    pub summary: String,
    pub description: String,
    pub ops: Vec<CommitOp>,
}

/// A change of repo settings; `None` leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct SettingsChange {
    pub private: Option<bool>,
    /// `Some(None)` ungates, `Some(Some("auto" | "manual"))` gates.
    pub gated: Option<Option<String>>,
    pub description: Option<String>,
    pub discussions_disabled: Option<bool>,
}

type Index = [BTreeMap<String, Arc<RepoEntry>>; 2];

fn slot(kind: RepoKind) -> usize {
    match kind {
        RepoKind::Model => 0,
        RepoKind::Dataset => 1,
    }
}

/// `models/owner/name`.
pub fn repo_key(kind: RepoKind, id: &RepoId) -> String {
    format!("{}/{}", kind.plural(), id)
}

/// The in-memory index over the store, and its single writer.
pub struct Catalog {
    store: Store,
    index: RwLock<Index>,
    commits: Mutex<HashMap<String, Arc<Commit>>>,
    writer: Mutex<()>,
    /// SHA-256 → the repos with a commit referencing it; `None` until first needed.
    blob_repos: Mutex<Option<BlobIndex>>,
}

/// A blob's entry in the blob → repos index: the repos referencing it and how it is
/// stored (so attaching it needs no read of its content).
#[derive(Debug, Default)]
struct BlobRefs {
    repos: HashSet<(RepoKind, String)>,
    file: Option<FileEntry>,
}

type BlobIndex = HashMap<String, BlobRefs>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Catalog {
    /// Loads every repo of the store and summarizes the head of its `main`. Repos that
    /// cannot be read are skipped and reported in the returned list.
    pub fn open(store: Store) -> Result<(Catalog, Vec<String>), HubError> {
        let catalog = Catalog {
            store,
            index: RwLock::new([BTreeMap::new(), BTreeMap::new()]),
            commits: Mutex::new(HashMap::new()),
            writer: Mutex::new(()),
            blob_repos: Mutex::new(None),
        };
        let (repos, mut problems) = catalog.store.scan_repos();
        let mut index: Index = [BTreeMap::new(), BTreeMap::new()];
        for (kind, id, meta, refs) in repos {
            match catalog.build_entry(kind, id.clone(), meta, refs) {
                Ok(entry) => {
                    index[slot(kind)].insert(entry.id_lower.clone(), Arc::new(entry));
                }
                Err(e) => problems.push(format!("skipping {} {id}: {e}", kind.singular())),
            }
        }
        *catalog.index.write().unwrap_or_else(|e| e.into_inner()) = index;
        Ok((catalog, problems))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The repo with exactly this id, if it exists.
    pub fn get(&self, kind: RepoKind, id: &str) -> Option<Arc<RepoEntry>> {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        index[slot(kind)]
            .get(&id.to_lowercase())
            .filter(|e| e.full_id == id)
            .cloned()
    }

    /// How an existing namespace is spelled, if some repo (of either kind) lives in a
    /// namespace equal to `owner` regardless of case.
    pub fn namespace_spelling(&self, owner: &str) -> Option<String> {
        let prefix = format!("{}/", owner.to_lowercase());
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        index.iter().find_map(|m| {
            m.range(prefix.clone()..)
                .next()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, e)| e.id.owner().to_owned())
        })
    }

    /// Runs `f` over every repo of a kind, sorted by lower-cased id, under a read lock.
    pub fn with_repos<R>(
        &self,
        kind: RepoKind,
        f: impl FnOnce(&BTreeMap<String, Arc<RepoEntry>>) -> R,
    ) -> R {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        f(&index[slot(kind)])
    }

    /// Number of repos of a kind.
    pub fn len(&self, kind: RepoKind) -> usize {
        self.with_repos(kind, |m| m.len())
    }

    /// Whether the blob `sha256` is referenced by some commit (any revision) of a repo
    /// for which `readable` holds. Unknown blobs and blobs of unreadable repos alike give
    /// `false`, so callers can answer both the same way.
    pub fn blob_readable(
        &self,
        sha256: &str,
        readable: impl Fn(&RepoEntry) -> bool,
    ) -> Result<bool, HubError> {
        Ok(self.readable_blob(sha256, readable)?.is_some())
    }

    /// The blob `sha256` as stored, if some commit (any revision) of a repo for which
    /// `readable` holds references it; `None` for unknown blobs and blobs of unreadable
    /// repos alike.
    pub fn readable_blob(
        &self,
        sha256: &str,
        readable: impl Fn(&RepoEntry) -> bool,
    ) -> Result<Option<FileEntry>, HubError> {
        let (repos, file): (Vec<(RepoKind, String)>, Option<FileEntry>) = {
            let _w = lock(&self.writer);
            let mut index = lock(&self.blob_repos);
            if index.is_none() {
                *index = Some(self.build_blob_index()?);
            }
            match index.as_ref().and_then(|i| i.get(sha256)) {
                Some(refs) => (refs.repos.iter().cloned().collect(), refs.file.clone()),
                None => (Vec::new(), None),
            }
        };
        let seen = repos
            .iter()
            .filter_map(|(kind, id)| self.get(*kind, id))
            .any(|entry| readable(&entry));
        Ok(file.filter(|_| seen))
    }

    /// Reads every commit record of every repo. Called with the writer lock held.
    fn build_blob_index(&self) -> Result<BlobIndex, HubError> {
        let repos: Vec<(RepoKind, RepoId)> = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            index
                .iter()
                .flat_map(|m| m.values().map(|e| (e.kind, e.id.clone())))
                .collect()
        };
        let mut out = BlobIndex::new();
        for (kind, id) in repos {
            let full = id.to_string();
            for commit_id in self.store.commit_ids(kind, &id)? {
                let Some(commit) = self.store.read_commit(kind, &id, &commit_id)? else {
                    continue;
                };
                for file in commit.record.files.values() {
                    let refs = out.entry(file.sha256.clone()).or_default();
                    refs.repos.insert((kind, full.clone()));
                    refs.file.get_or_insert_with(|| file.clone());
                }
            }
        }
        Ok(out)
    }

    /// Records the blobs a new commit references (writer lock held).
    fn index_commit(&self, kind: RepoKind, full: &str, commit: &Commit) {
        if let Some(index) = lock(&self.blob_repos).as_mut() {
            for file in commit.record.files.values() {
                let refs = index.entry(file.sha256.clone()).or_default();
                if !refs.repos.contains(&(kind, full.to_owned())) {
                    refs.repos.insert((kind, full.to_owned()));
                }
                refs.file.get_or_insert_with(|| file.clone());
            }
        }
    }

    /// Loads a commit of a repo (cached).
    pub fn commit(
        &self,
        kind: RepoKind,
        id: &RepoId,
        commit_id: &str,
    ) -> Result<Option<Arc<Commit>>, HubError> {
        let key = repo_key(kind, id);
        if let Some(c) = lock(&self.commits).get(commit_id)
            && c.record.repo == key
        {
            return Ok(Some(c.clone()));
        }
        let Some(commit) = self.store.read_commit(kind, id, commit_id)? else {
            return Ok(None);
        };
        if commit.record.repo != key {
            return Err(HubError::Corrupt {
                path: self.store.repo_dir(kind, id),
                message: format!("commit {commit_id} belongs to {}", commit.record.repo),
            });
        }
        let commit = Arc::new(commit);
        self.cache(commit.clone());
        Ok(Some(commit))
    }

    fn cache(&self, commit: Arc<Commit>) {
        let mut cache = lock(&self.commits);
        if cache.len() >= COMMIT_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(commit.id.clone(), commit);
    }

    /// Resolves a branch, a tag (also as `refs/heads/…`, `refs/tags/…`) or a full commit
    /// id of this repo to a commit.
    pub fn resolve(&self, entry: &RepoEntry, rev: &str) -> Result<Resolved, HubError> {
        let not_found = || HubError::RevisionNotFound {
            repo: entry.full_id.clone(),
            rev: rev.to_owned(),
        };
        let commit_id = if let Some(b) = rev.strip_prefix("refs/heads/") {
            entry.refs.branches.get(b).cloned()
        } else if let Some(t) = rev.strip_prefix("refs/tags/") {
            entry.refs.tags.get(t).map(|t| t.commit.clone())
        } else if let Some(c) = entry.refs.branches.get(rev) {
            Some(c.clone())
        } else if let Some(t) = entry.refs.tags.get(rev) {
            Some(t.commit.clone())
        } else if names::is_commit_id(rev) {
            Some(rev.to_owned())
        } else {
            None
        };
        let commit_id = commit_id.ok_or_else(not_found)?;
        let commit = self
            .commit(entry.kind, &entry.id, &commit_id)?
            .ok_or_else(not_found)?;
        Ok(Resolved { commit })
    }

    /// The first-parent history from `commit`, newest first.
    pub fn history(
        &self,
        entry: &RepoEntry,
        from: Arc<Commit>,
        max: usize,
    ) -> Result<Vec<Arc<Commit>>, HubError> {
        let mut out = vec![from];
        while out.len() < max {
            let Some(parent) = out.last().and_then(|c| c.record.parents.first().cloned()) else {
                break;
            };
            match self.commit(entry.kind, &entry.id, &parent)? {
                Some(c) => out.push(c),
                None => break,
            }
        }
        Ok(out)
    }

    fn build_entry(
        &self,
        kind: RepoKind,
        id: RepoId,
        meta: RepoMeta,
        refs: Refs,
    ) -> Result<RepoEntry, HubError> {
        let main = refs.branches.get("main").ok_or_else(|| HubError::Corrupt {
            path: self.store.repo_dir(kind, &id),
            message: "no `main` branch".into(),
        })?;
        let commit = self
            .commit(kind, &id, main)?
            .ok_or_else(|| HubError::Corrupt {
                path: self.store.repo_dir(kind, &id),
                message: format!("`main` names missing commit {main}"),
            })?;
        let head = self.summarize(&commit);
        let full_id = id.to_string();
        Ok(RepoEntry {
            kind,
            id_lower: full_id.to_lowercase(),
            full_id,
            id,
            meta,
            refs,
            head,
        })
    }

    /// Summarizes a commit as listings show it (reads its README for tags and card data).
    pub fn summarize(&self, commit: &Commit) -> HeadSummary {
        let files = &commit.record.files;
        let mut summary = HeadSummary {
            commit: commit.id.clone(),
            last_modified: commit.record.date.clone(),
            tags: Vec::new(),
            card_data: None,
            pipeline_tag: None,
            library_name: None,
            files: files.keys().cloned().collect(),
            used_storage: files.values().map(|f| f.size).sum(),
        };
        if let Some(readme) = files.get("README.md")
            && readme.size <= MAX_CARD_BYTES
            && let Some(bytes) = self
                .store
                .blobs()
                .read_small(&readme.sha256, MAX_CARD_BYTES)
        {
            let text = String::from_utf8_lossy(&bytes);
            let mut tags = Vec::new();
            for t in crate::card::tags_of_card_text(&text) {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            summary.tags = tags;
            let meta = crate::card::split(&text)
                .ok()
                .and_then(|c| crate::card::metadata(&c).ok())
                .unwrap_or_default();
            summary.pipeline_tag = meta
                .get("pipeline_tag")
                .and_then(Value::as_str)
                .map(str::to_owned);
            summary.library_name = meta
                .get("library_name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if !meta.is_empty() {
                summary.card_data = Some(meta);
            }
        }
        summary
    }

    fn install(&self, entry: RepoEntry) -> Arc<RepoEntry> {
        let entry = Arc::new(entry);
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        index[slot(entry.kind)].insert(entry.id_lower.clone(), entry.clone());
        entry
    }

    fn existing(&self, kind: RepoKind, id: &RepoId) -> Result<Arc<RepoEntry>, HubError> {
        self.get(kind, &id.to_string())
            .ok_or_else(|| HubError::RepoNotFound {
                repo: id.to_string(),
            })
    }

    /// Creates a repo with an empty first commit on `main`.
    pub fn create_repo(
        &self,
        kind: RepoKind,
        id: &RepoId,
        private: bool,
        author: &str,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let full = id.to_string();
        let taken = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            index[slot(kind)].contains_key(&full.to_lowercase())
        };
        if taken {
            return Err(HubError::RepoExists { repo: full });
        }
        let now = timefmt::now();
        let meta = RepoMeta {
            id: full.clone(),
            kind: kind.singular().to_owned(),
            private,
            gated: None,
            created_at: now.clone(),
            description: None,
            discussions_disabled: false,
        };
        let (commit, bytes) = Commit::seal(CommitRecord {
            repo: repo_key(kind, id),
            parents: Vec::new(),
            author: author.to_owned(),
            date: now,
            summary: "initial commit".into(),
            description: String::new(),
            files: BTreeMap::new(),
        })?;
        let mut refs = Refs::default();
        refs.branches.insert("main".into(), commit.id.clone());
        self.store
            .create_repo_dir(kind, id, &meta, &refs, (&commit, &bytes))?;
        let commit = Arc::new(commit);
        self.cache(commit.clone());
        let head = self.summarize(&commit);
        Ok(self.install(RepoEntry {
            kind,
            id: id.clone(),
            id_lower: full.to_lowercase(),
            full_id: full,
            meta,
            refs,
            head,
        }))
    }

    /// Deletes a repo (its blobs stay: they may be shared). A repo holding governance or
    /// releases needs an actor with the manage right (`immutable`).
    pub fn delete_repo(&self, kind: RepoKind, id: &RepoId, actor: &Actor) -> Result<(), HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        let main = match entry.refs.branches.get("main") {
            Some(c) => self.commit(kind, id, c)?,
            None => None,
        };
        immutable::check_repo_delete(actor, &entry, main.as_ref().map(|c| &c.record.files))?;
        self.store.delete_repo_dir(kind, id)?;
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        index[slot(kind)].remove(&entry.id_lower);
        if let Some(blobs) = lock(&self.blob_repos).as_mut() {
            let key = (kind, entry.full_id.clone());
            blobs.retain(|_, refs| {
                refs.repos.remove(&key);
                !refs.repos.is_empty()
            });
        }
        Ok(())
    }

    /// Imports an air-gap bundle into the running catalog: verified and staged first
    /// (other writes go on), then checked and applied under the writer lock; the repos
    /// it created or updated are reloaded into the index at once.
    pub fn import(
        &self,
        input: impl std::io::Read,
        opts: &crate::import::ImportOptions<'_>,
    ) -> Result<crate::import::ImportReport, HubError> {
        let staged = crate::import::stage(&self.store, input)?;
        let _w = lock(&self.writer);
        let report = crate::import::commit_staged(&self.store, staged, opts)?;
        for (kind, id) in &report.touched {
            let dir = self.store.repo_dir(*kind, id);
            let meta: RepoMeta = crate::storage::read_json(&dir.join("repo.json"))?;
            let refs: Refs = crate::storage::read_json(&dir.join("refs.json"))?;
            let entry = self.build_entry(*kind, id.clone(), meta, refs)?;
            self.install(entry);
        }
        // The blob → repos index is rebuilt from the records on next use.
        *lock(&self.blob_repos) = None;
        Ok(report)
    }

    /// Changes settings.
    pub fn update_settings(
        &self,
        kind: RepoKind,
        id: &RepoId,
        change: SettingsChange,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        let mut meta = entry.meta.clone();
        if let Some(p) = change.private {
            meta.private = p;
        }
        if let Some(g) = change.gated {
            meta.gated = g;
        }
        if let Some(d) = change.description {
            meta.description = Some(d);
        }
        if let Some(d) = change.discussions_disabled {
            meta.discussions_disabled = d;
        }
        self.store.write_meta(kind, id, &meta)?;
        let mut next = (*entry).clone();
        next.meta = meta;
        Ok(self.install(next))
    }

    fn update_refs(&self, entry: &RepoEntry, refs: Refs) -> Result<Arc<RepoEntry>, HubError> {
        self.store.write_refs(entry.kind, &entry.id, &refs)?;
        let mut next = entry.clone();
        next.refs = refs;
        Ok(self.install(next))
    }

    fn check_new_ref(entry: &RepoEntry, kind: &'static str, name: &str) -> Result<(), HubError> {
        names::check_ref_name(name)?;
        if entry.refs.branches.contains_key(name) || entry.refs.tags.contains_key(name) {
            return Err(HubError::RefExists {
                repo: entry.full_id.clone(),
                kind,
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Tags the commit `rev` resolves to. An existing tag is never overwritten; asking to
    /// move a release tag is refused to an actor without the manage right as such.
    pub fn create_tag(
        &self,
        kind: RepoKind,
        id: &RepoId,
        rev: &str,
        tag: &str,
        message: Option<String>,
        actor: &Actor,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        let target = self.resolve(&entry, rev)?;
        immutable::check_tag_create(actor, &entry, tag, &target.commit.id)?;
        Self::check_new_ref(&entry, "tag", tag)?;
        let mut refs = entry.refs.clone();
        refs.tags.insert(
            tag.to_owned(),
            TagRef {
                commit: target.commit.id.clone(),
                message,
            },
        );
        self.update_refs(&entry, refs)
    }

    /// Deletes a tag; a release tag needs an actor with the manage right.
    pub fn delete_tag(
        &self,
        kind: RepoKind,
        id: &RepoId,
        tag: &str,
        actor: &Actor,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        immutable::check_tag_delete(actor, &entry, tag)?;
        let mut refs = entry.refs.clone();
        if refs.tags.remove(tag).is_none() {
            return Err(HubError::RevisionNotFound {
                repo: entry.full_id.clone(),
                rev: tag.to_owned(),
            });
        }
        self.update_refs(&entry, refs)
    }

    /// Creates a branch at `starting_point` (default: the head of `main`).
    pub fn create_branch(
        &self,
        kind: RepoKind,
        id: &RepoId,
        branch: &str,
        starting_point: Option<&str>,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        Self::check_new_ref(&entry, "branch", branch)?;
        let target = self.resolve(&entry, starting_point.unwrap_or("main"))?;
        let mut refs = entry.refs.clone();
        refs.branches
            .insert(branch.to_owned(), target.commit.id.clone());
        self.update_refs(&entry, refs)
    }

    pub fn delete_branch(
        &self,
        kind: RepoKind,
        id: &RepoId,
        branch: &str,
    ) -> Result<Arc<RepoEntry>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        if branch == "main" {
            return Err(HubError::DefaultBranch);
        }
        let mut refs = entry.refs.clone();
        if refs.branches.remove(branch).is_none() {
            return Err(HubError::RevisionNotFound {
                repo: entry.full_id.clone(),
                rev: branch.to_owned(),
            });
        }
        self.update_refs(&entry, refs)
    }

    /// Applies a commit atomically: its blobs, its record and the branch move all land, or
    /// (on any error) none of it does.
    pub fn apply_commit(
        &self,
        kind: RepoKind,
        id: &RepoId,
        req: CommitRequest,
    ) -> Result<Arc<Commit>, HubError> {
        let _w = lock(&self.writer);
        let entry = self.existing(kind, id)?;
        let head_id = match entry.refs.branches.get(&req.branch) {
            Some(h) => h.clone(),
            None if entry.refs.tags.contains_key(&req.branch)
                || names::is_commit_id(&req.branch) =>
            {
                return Err(HubError::NotABranch {
                    repo: entry.full_id.clone(),
                    rev: req.branch,
                });
            }
            None => {
                return Err(HubError::RevisionNotFound {
                    repo: entry.full_id.clone(),
                    rev: req.branch,
                });
            }
        };
        if let Some(parent) = &req.parent
            && !(parent.len() >= 7 && head_id.starts_with(parent.as_str()))
        {
            return Err(HubError::ParentCommitMismatch {
                branch: req.branch.clone(),
                expected: parent.clone(),
                actual: head_id,
            });
        }
        let head = self
            .commit(kind, id, &head_id)?
            .ok_or_else(|| HubError::Corrupt {
                path: self.store.repo_dir(kind, id),
                message: format!("branch `{}` names missing commit {head_id}", req.branch),
            })?;
        let mut files = head.record.files.clone();
        let mut blobs = Vec::new();
        let missing = |path: &str| HubError::EntryNotFound {
            repo: entry.full_id.clone(),
            path: path.to_owned(),
            commit: head_id.clone(),
        };
        for op in req.ops {
            match op {
                CommitOp::Put { path, content } => {
                    let file = match content {
                        Content::Staged(blob) => {
                            let f = FileEntry {
                                sha256: blob.sha256.clone(),
                                size: blob.size,
                                git_sha1: blob.git_sha1.clone(),
                            };
                            blobs.push(blob);
                            f
                        }
                        Content::Stored(f) => {
                            if self.store.blob_size(&f.sha256)? != Some(f.size) {
                                return Err(HubError::MissingLfsObject { oid: f.sha256 });
                            }
                            f
                        }
                    };
                    files.insert(path, file);
                }
                CommitOp::Delete { path } => {
                    if files.remove(&path).is_none() {
                        return Err(missing(&path));
                    }
                }
                CommitOp::DeleteFolder { path } => {
                    let prefix = format!("{}/", path.trim_end_matches('/'));
                    let before = files.len();
                    files.retain(|p, _| !p.starts_with(&prefix));
                    if files.len() == before {
                        return Err(missing(&path));
                    }
                }
            }
        }
        check_tree(&files)?;
        let (commit, bytes) = Commit::seal(CommitRecord {
            repo: repo_key(kind, id),
            parents: vec![head_id],
            author: req.author,
            date: timefmt::now(),
            summary: req.summary,
            description: req.description,
            files,
        })?;
        let created = self.store.publish_blobs(blobs)?;
        let mut refs = entry.refs.clone();
        refs.branches.insert(req.branch.clone(), commit.id.clone());
        let written =
            self.store
                .write_commit(kind, id, &commit, &bytes)
                .and_then(|path| match self.store.write_refs(kind, id, &refs) {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let _ = std::fs::remove_file(path);
                        Err(e)
                    }
                });
        if let Err(e) = written {
            self.store.unpublish(&created);
            return Err(e);
        }
        self.index_commit(kind, &entry.full_id, &commit);
        let commit = Arc::new(commit);
        self.cache(commit.clone());
        let mut next = (*entry).clone();
        next.refs = refs;
        if req.branch == "main" {
            next.head = self.summarize(&commit);
        }
        self.install(next);
        Ok(commit)
    }
}

/// Checks that no path is both a file and a folder.
fn check_tree(files: &BTreeMap<String, FileEntry>) -> Result<(), HubError> {
    for path in files.keys() {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            let ancestor = &path[..end];
            if files.contains_key(ancestor) {
                return Err(HubError::PathConflict {
                    path: path.clone(),
                    other: ancestor.to_owned(),
                });
            }
            end += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StoreOptions;

    fn put(store: &Store, path: &str, content: &[u8]) -> CommitOp {
        CommitOp::Put {
            path: path.into(),
            content: Content::Staged(store.stage_bytes(content).unwrap()),
        }
    }

    fn request(ops: Vec<CommitOp>, parent: Option<String>) -> CommitRequest {
        CommitRequest {
            branch: "main".into(),
            parent,
            author: "alice".into(),
            summary: "s".into(),
            description: String::new(),
            ops,
        }
    }

    #[test]
    fn commits_move_main_and_update_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        let (cat, problems) =
            Catalog::open(Store::open(dir.path(), StoreOptions::default()).unwrap()).unwrap();
        assert!(problems.is_empty());
        let id = RepoId::parse("org/r").unwrap();
        let entry = cat
            .create_repo(RepoKind::Model, &id, false, "alice")
            .unwrap();
        let first = entry.head.commit.clone();
        let card = b"---\ntags: [a, b, a]\nlicense: mit\n---\n# r\n";
        let ops = vec![
            put(cat.store(), "README.md", card),
            put(cat.store(), "x/y.txt", b"y"),
        ];
        let c = cat
            .apply_commit(RepoKind::Model, &id, request(ops, Some(first[..7].into())))
            .unwrap();
        let entry = cat.get(RepoKind::Model, "org/r").unwrap();
        assert_eq!(entry.head.commit, c.id);
        assert_eq!(entry.head.tags, vec!["a", "b"]);
        assert_eq!(entry.head.card_data.as_ref().unwrap()["license"], "mit");
        assert_eq!(entry.head.files, vec!["README.md", "x/y.txt"]);

        let stale = cat.apply_commit(RepoKind::Model, &id, request(vec![], Some(first)));
        assert!(matches!(stale, Err(HubError::ParentCommitMismatch { .. })));
        let conflict = cat.apply_commit(
            RepoKind::Model,
            &id,
            request(vec![put(cat.store(), "x", b"f")], None),
        );
        assert!(matches!(conflict, Err(HubError::PathConflict { .. })));
        let gone = cat.apply_commit(
            RepoKind::Model,
            &id,
            request(
                vec![CommitOp::Delete {
                    path: "nope".into(),
                }],
                None,
            ),
        );
        assert!(matches!(gone, Err(HubError::EntryNotFound { .. })));
        assert_eq!(cat.get(RepoKind::Model, "org/r").unwrap().head.commit, c.id);

        drop(cat);
        let (again, _) =
            Catalog::open(Store::open(dir.path(), StoreOptions::default()).unwrap()).unwrap();
        let entry = again.get(RepoKind::Model, "org/r").unwrap();
        assert_eq!(entry.head.commit, c.id, "state survives a reopen");
        assert_eq!(entry.head.tags, vec!["a", "b"]);
        assert!(
            again.get(RepoKind::Model, "ORG/r").is_none(),
            "ids are exact"
        );
    }

    #[test]
    fn refs_and_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let (cat, _) =
            Catalog::open(Store::open(dir.path(), StoreOptions::default()).unwrap()).unwrap();
        let id = RepoId::parse("org/r").unwrap();
        cat.create_repo(RepoKind::Dataset, &id, true, "alice")
            .unwrap();
        assert!(matches!(
            cat.create_repo(
                RepoKind::Dataset,
                &RepoId::parse("ORG/R").unwrap(),
                false,
                "a"
            ),
            Err(HubError::RepoExists { .. })
        ));
        let e = cat
            .create_tag(
                RepoKind::Dataset,
                &id,
                "main",
                "v1",
                Some("m".into()),
                &Actor::manager("alice"),
            )
            .unwrap();
        assert!(
            cat.create_tag(
                RepoKind::Dataset,
                &id,
                "main",
                "v1",
                None,
                &Actor::manager("alice")
            )
            .is_err()
        );
        let e2 = cat
            .create_branch(RepoKind::Dataset, &id, "dev", Some("v1"))
            .unwrap();
        for rev in [
            "main",
            "v1",
            "dev",
            "refs/heads/dev",
            "refs/tags/v1",
            e.head.commit.as_str(),
        ] {
            assert_eq!(
                cat.resolve(&e2, rev).unwrap().commit.id,
                e.head.commit,
                "{rev}"
            );
        }
        assert!(matches!(
            cat.resolve(&e2, "nope"),
            Err(HubError::RevisionNotFound { .. })
        ));
        assert!(matches!(
            cat.resolve(&e2, &"0".repeat(40)),
            Err(HubError::RevisionNotFound { .. })
        ));
        assert!(matches!(
            cat.delete_branch(RepoKind::Dataset, &id, "main"),
            Err(HubError::DefaultBranch)
        ));
        cat.delete_branch(RepoKind::Dataset, &id, "dev").unwrap();
        let e3 = cat
            .delete_tag(RepoKind::Dataset, &id, "v1", &Actor::manager("alice"))
            .unwrap();
        assert!(e3.refs.tags.is_empty() && e3.refs.branches.len() == 1);
    }
}
