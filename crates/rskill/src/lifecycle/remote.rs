//! Reading and changing a skill's governance state on any Hub: the refs (version tags
//! and `main`) and `rskill.registry.json` at `main`'s commit, read through the per-commit
//! cache; a change is one commit of the whole file with `parentCommit` set to the `main`
//! that was read, so a concurrent change makes it fail (409/412) and it is re-read,
//! re-checked and retried a bounded number of times, or fails saying so.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use semver::Version;

use crate::hub::ids::{CommitId, RepoPath};
use crate::hub::write::UploadFile;
use crate::hub::{HubClient, HubError, RepoId};

use super::model::{self, Change, Event, GovError, Registry, Status};
use super::seen::Seen;
use super::signed::{
    self, Authenticity, GOVERNANCE_SIGNATURE_FILE, GovernanceProblem, GovernanceSigner,
};

/// The registry file's name on `main`.
pub use rskill_hub_protocol::REGISTRY_FILE;

/// How many times a change is tried when `main` keeps moving.
pub const MAX_ATTEMPTS: u32 = 40;

/// Why reading or changing the state failed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Refused(#[from] GovError),
    #[error("{repo}: {REGISTRY_FILE} at {commit}: {source}")]
    BadFile {
        repo: String,
        commit: String,
        source: GovError,
    },
    #[error("{repo}: {source} (compared with the copy this machine saw at {seen_at})")]
    Rewritten {
        repo: String,
        seen_at: String,
        source: GovError,
    },
    #[error("{repo}: {problem}")]
    Governance {
        repo: String,
        problem: GovernanceProblem,
    },
    #[error("{repo}: gave up after {attempts} attempts: main kept moving under concurrent changes")]
    Contention { repo: String, attempts: u32 },
    #[error("{0}")]
    Local(String),
}

impl LifecycleError {
    pub fn hint(&self) -> Option<String> {
        match self {
            LifecycleError::Hub(HubError::Forbidden { .. }) => Some(
                "status, alias and scan record changes need a token that may write the repo (on rskill-hub: one made with `token create … --manage`)".into(),
            ),
            LifecycleError::Hub(e) => e.hint(),
            LifecycleError::Refused(e) => e.hint(),
            LifecycleError::BadFile { source, .. } | LifecycleError::Rewritten { source, .. } => {
                source.hint()
            }
            LifecycleError::Governance { problem, .. } => Some(problem.hint()),
            LifecycleError::Contention { .. } => {
                Some("try again; `rskill history ID` shows what the others changed".into())
            }
            LifecycleError::Local(_) => None,
        }
    }
}

/// What a skill's governance looks like at one `main` commit.
#[derive(Debug, Clone)]
pub struct SkillState {
    pub repo: RepoId,
    pub main: CommitId,
    /// Published versions (`v<semver>` tags) and their commits.
    pub tags: BTreeMap<Version, CommitId>,
    pub registry: Registry,
    /// Whether `main` holds a registry file (without one: every version active).
    pub has_file: bool,
    /// Problems of the file against the tags (aliases to missing versions …).
    pub problems: Vec<String>,
    /// The governance signature as checked here; when verified, `tags` are its
    /// releases (a tag it does not release is left out, a moved one refused).
    pub authenticity: Authenticity,
    /// Warnings and notes for the user (unsigned governance, unreleased tags).
    pub notes: Vec<String>,
}

impl SkillState {
    pub fn tagged(&self) -> BTreeSet<Version> {
        self.tags.keys().cloned().collect()
    }

    /// `latest`, or another alias, as a version.
    pub fn resolve_alias(&self, name: &str) -> Option<Version> {
        self.registry.resolve_alias(name, &self.tagged())
    }

    /// The version tagged at `commit`, if any (the newest when several are).
    pub fn version_at(&self, commit: &str) -> Option<Version> {
        self.tags
            .iter()
            .rev()
            .find(|(_, c)| c.as_str() == commit)
            .map(|(v, _)| v.clone())
    }

    /// The state from a registry file's bytes at `main` (hostile input, validated).
    pub fn from_parts(
        repo: RepoId,
        main: CommitId,
        tags: BTreeMap<Version, CommitId>,
        file: Option<&[u8]>,
    ) -> Result<SkillState, LifecycleError> {
        let registry = match file {
            Some(b) => Registry::parse(b).map_err(|source| LifecycleError::BadFile {
                repo: repo.to_string(),
                commit: main.to_string(),
                source,
            })?,
            None => Registry::default(),
        };
        let tagged: BTreeSet<Version> = tags.keys().cloned().collect();
        let problems = registry.check_against(&tagged);
        Ok(SkillState {
            repo,
            main,
            tags,
            registry,
            has_file: file.is_some(),
            problems,
            authenticity: Authenticity::Unsigned,
            notes: Vec::new(),
        })
    }
}

/// Reads the state: the refs (versions, `main`), the repo info at `main`'s commit
/// (does it hold a registry file, a governance signature?), both files through the
/// per-commit cache (no request when that commit was read before), the signature
/// checked against the trust policy and the state checked against the one this machine
/// saw. A state older than the one seen is read once more (a read that raced a newer
/// change gets the newer one; a Hub that keeps serving the old one is refused). Also
/// records `refs/main` in the Hub cache, so an offline install can follow `main`.
pub async fn read(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
) -> Result<SkillState, LifecycleError> {
    let result = match read_once(client, seen, repo).await {
        Err(e) if is_older_than_seen(&e) => read_once(client, seen, repo).await,
        other => other,
    };
    if let Err(e @ (LifecycleError::Governance { .. } | LifecycleError::Rewritten { .. })) = &result
    {
        seen.note_refusal(repo, &e.to_string());
    }
    result
}

/// Whether a read was refused for being older than the state this machine saw (what a
/// read racing a newer change of this machine meets, and a replaying Hub too).
fn is_older_than_seen(e: &LifecycleError) -> bool {
    matches!(
        e,
        LifecycleError::Rewritten {
            source: GovError::HistoryShortened { .. },
            ..
        } | LifecycleError::Governance {
            problem: GovernanceProblem::Rollback { .. } | GovernanceProblem::HistoryVanished { .. },
            ..
        }
    )
}

async fn read_once(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
) -> Result<SkillState, LifecycleError> {
    Ok(read_for_change(client, seen, repo).await?.state)
}

/// What a change needs beyond the state: the governance signature's bytes and the
/// Hub's own tags (a signer releases new tags and must see them).
struct ReadForChange {
    state: SkillState,
    registry: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    hub_tags: BTreeMap<Version, CommitId>,
}

/// [`read`] once, keeping what a change needs.
async fn read_for_change(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
) -> Result<ReadForChange, LifecycleError> {
    let refs = read_refs(client, repo).await?;
    let main = refs
        .branch("main")
        .ok_or_else(|| HubError::RevisionNotFound {
            repo: repo.to_string(),
            revision: "main".into(),
        })?;
    let main: CommitId = main.parse().map_err(|e| HubError::Protocol {
        url: client.url(&format!("/api/models/{repo}/refs")),
        message: format!("main points to `{main}`: {e}"),
    })?;
    let hub_tags = version_tags(&refs);
    let info = client.repo_info(repo, Some(main.as_str())).await?;
    let read = |name: &'static str| {
        let listed = info.file(name).is_some();
        let main = &main;
        async move {
            if !listed {
                return Ok::<_, HubError>(None);
            }
            let path: RepoPath = name.parse().expect("a valid repo path");
            Ok(Some(client.read_file_cached(repo, main, &path).await?))
        }
    };
    let file = read(REGISTRY_FILE).await?;
    let signature = read(GOVERNANCE_SIGNATURE_FILE).await?;
    let cache = crate::hub::cache::RepoCache::new(&client.env().hub_cache, repo);
    if let Ok(main_ref) = "main".parse::<RepoPath>() {
        // Best effort: a cache that cannot be written only costs offline use.
        let _ = cache.write_ref(&main_ref, &main);
    }
    let mut state = SkillState::from_parts(repo.clone(), main, hub_tags.clone(), file.as_deref())?;
    seen.check_history(&state)?;
    let (authenticity, notes) = signed::authenticate(
        repo,
        &mut state.tags,
        file.as_deref(),
        signature.as_deref(),
        seen.policy(),
        std::time::SystemTime::now(),
    )
    .map_err(|problem| LifecycleError::Governance {
        repo: repo.to_string(),
        problem,
    })?;
    state.authenticity = authenticity;
    state.notes = notes;
    state.problems = state.registry.check_against(&state.tagged());
    seen.check_and_remember(&state)?;
    Ok(ReadForChange {
        state,
        registry: file,
        signature,
        hub_tags,
    })
}

/// The `v<semver>` tags of the refs (other tags are left alone).
fn version_tags(refs: &crate::hub::write::Refs) -> BTreeMap<Version, CommitId> {
    let mut tags = BTreeMap::new();
    for (name, commit) in &refs.tags {
        let Some(Ok(v)) = name.strip_prefix('v').map(Version::parse) else {
            continue;
        };
        if let Ok(c) = commit.parse::<CommitId>() {
            tags.insert(v, c);
        }
    }
    tags
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
    target_commit: String,
}

/// `GET …/refs` on the bounded client (the answer of a hostile server is capped and
/// parsed into typed values, like every other JSON answer).
async fn read_refs(client: &HubClient, repo: &RepoId) -> Result<crate::hub::write::Refs, HubError> {
    let url = client.url(&format!("/api/models/{repo}/refs"));
    let ctx = crate::hub::client::Ctx::new(format!("list refs of {repo}")).repo(repo);
    let answer: RefsAnswer = client.send_json(|c| c.get(&url), &ctx).await?;
    let pairs = |v: Vec<GitRef>| v.into_iter().map(|r| (r.name, r.target_commit)).collect();
    Ok(crate::hub::write::Refs {
        branches: pairs(answer.branches),
        tags: pairs(answer.tags),
    })
}

/// A governance change.
#[derive(Debug, Clone)]
pub enum Op {
    Status {
        version: Version,
        to: Status,
    },
    AliasSet {
        alias: String,
        version: Version,
    },
    AliasDelete {
        alias: String,
    },
    /// A version being published as a draft (before its tag exists).
    Draft {
        version: Version,
    },
    /// A scan of a published version's commit, recorded for that commit (the tag must
    /// still point to `commit` when the change is made).
    Scan {
        version: Version,
        commit: String,
        record: Box<model::ScanRecord>,
    },
    /// No event: a new signed state (new releases, a new expiry) over the same file.
    Refresh,
}

/// What a change did. No events: the registry already said so, nothing was committed
/// (`commit` is then `main` as read).
#[derive(Debug, Clone)]
pub struct Applied {
    pub events: Vec<Event>,
    /// The commit made, or `main` as it was when nothing needed changing.
    pub commit: String,
    /// Whether a commit was made (a registry change, or a new signed state).
    pub committed: bool,
    pub attempts: u32,
    pub state: SkillState,
    /// Said to the user (tags a signer left unreleased, and why).
    pub notes: Vec<String>,
}

fn apply(
    reg: &mut Registry,
    op: &Op,
    tags: &BTreeMap<Version, CommitId>,
    c: &Change<'_>,
) -> Result<Vec<Event>, GovError> {
    let tagged: &BTreeSet<Version> = &tags.keys().cloned().collect();
    match op {
        Op::Scan {
            version,
            commit,
            record,
        } => match tags.get(version) {
            _ if record.skill_version.as_deref() != Some(version.to_string().as_str()) => {
                Err(GovError::Invalid {
                    field: "scan record skill_version".into(),
                    message: format!(
                        "names {} where {version} was scanned",
                        record.skill_version.as_deref().unwrap_or("-")
                    ),
                })
            }
            Some(at) if at.as_str() == commit => reg.record_scan(commit, record, c),
            Some(at) => Err(GovError::Invalid {
                field: format!("tag v{version}"),
                message: format!("now points to {at}, not to the scanned commit {commit}"),
            }),
            None => Err(GovError::UnknownVersion(version.to_string())),
        },
        Op::Status { version, to } => reg.set_status(version, *to, tagged, c),
        Op::AliasSet { alias, version } => reg.set_alias(alias, version, tagged, c),
        Op::AliasDelete { alias } => reg.delete_alias(alias, c),
        Op::Draft { version } => reg.add_draft(version, c),
        Op::Refresh => Ok(Vec::new()),
    }
}

/// [`change_registry`], then, when it committed, the skill's entry in its org's
/// catalog index (`ORG/rskill-index`, [`crate::catalog_index`]) rewritten, signed with
/// the same `signer`. An index that could not be written fails nothing (search only
/// loses the saved requests): it is said in the notes with how to rebuild it.
pub async fn change(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
    op: &Op,
    why: &str,
    signer: Option<&GovernanceSigner>,
) -> Result<Applied, LifecycleError> {
    let mut applied = change_registry(client, seen, repo, op, why, signer).await?;
    if applied.committed
        && let Err(e) =
            crate::catalog_index::update(client, repo.org(), std::slice::from_ref(repo), signer)
                .await
    {
        applied.notes.push(format!(
            "the catalog index was not updated: {e}{}",
            e.hint()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default()
        ));
    }
    Ok(applied)
}

/// Makes one change: reads, checks the move, commits with `parentCommit`; on a
/// conflict re-reads (the move is checked again against the new state) and retries,
/// at most [`MAX_ATTEMPTS`] times. With a `signer`, the commit also carries the new
/// signed governance state; without one, a skill whose governance is signed is not
/// changed (the file would no longer match its signature). The catalog index is left
/// as it is (publishing rewrites it once, at the end).
pub async fn change_registry(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
    op: &Op,
    why: &str,
    signer: Option<&GovernanceSigner>,
) -> Result<Applied, LifecycleError> {
    let who = client.whoami().await?.name;
    if who.is_empty() {
        return Err(LifecycleError::Local(
            "the Hub's whoami-v2 names no user for this token".into(),
        ));
    }
    let ctx = ChangeCtx {
        client,
        seen,
        repo,
        op,
        why,
        signer,
        who: &who,
    };
    for attempt in 1..=MAX_ATTEMPTS {
        if let Some(applied) = ctx.attempt(attempt).await? {
            return Ok(applied);
        }
        tokio::time::sleep(jitter(attempt)).await;
    }
    Err(LifecycleError::Contention {
        repo: repo.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}

/// What one change works with.
struct ChangeCtx<'a> {
    client: &'a HubClient,
    seen: &'a Seen,
    repo: &'a RepoId,
    op: &'a Op,
    why: &'a str,
    signer: Option<&'a GovernanceSigner>,
    who: &'a str,
}

impl ChangeCtx<'_> {
    /// One attempt: `None` when it should be tried again (`main` moved, or this
    /// machine recorded a newer state since the read began).
    async fn attempt(&self, attempt: u32) -> Result<Option<Applied>, LifecycleError> {
        let (client, repo, op) = (self.client, self.repo, self.op);
        let last = attempt >= MAX_ATTEMPTS;
        let read = match read_for_change(client, self.seen, repo).await {
            Err(e) if is_older_than_seen(&e) && !last => return Ok(None),
            other => other?,
        };
        let state = &read.state;
        if !state.problems.is_empty() {
            return Err(LifecycleError::BadFile {
                repo: repo.to_string(),
                commit: state.main.to_string(),
                source: GovError::Invalid {
                    field: "aliases".into(),
                    message: state.problems.join("; "),
                },
            });
        }
        let mut next = state.registry.clone();
        let when = crate::registry::now_rfc3339();
        let c = Change {
            who: self.who,
            when: &when,
            why: self.why,
        };
        let events = apply(&mut next, op, &state.tags, &c)?;
        // The registry already says what was asked: no commit, no event — unless the
        // point is a new signed state (a refresh, or a scan record to be signed by the
        // key that records it).
        let signs_anyway =
            matches!(op, Op::Refresh) || (self.signer.is_some() && matches!(op, Op::Scan { .. }));
        if events.is_empty() && !signs_anyway {
            return Ok(Some(Applied {
                events,
                commit: state.main.to_string(),
                committed: false,
                attempts: attempt,
                state: read.state,
                notes: Vec::new(),
            }));
        }
        if self.signer.is_none() && read.signature.is_some() {
            return Err(LifecycleError::Governance {
                repo: repo.to_string(),
                problem: GovernanceProblem::SignerRequired,
            });
        }
        next.published = state.tagged();
        model::check_extends(&state.registry.history, &next.history)?;
        let registry_bytes = next.to_bytes();
        let mut notes = Vec::new();
        let signed = match self.signer {
            Some(signer) => Some((
                signer,
                self.next_signed(signer, &read, &next, &registry_bytes, &mut notes)
                    .await?,
            )),
            None => None,
        };
        let message = commit_message(&events, signed.as_ref().map(|(_, s)| s), &c);
        let mut files = vec![UploadFile {
            path_in_repo: REGISTRY_FILE.into(),
            content: Bytes::from(registry_bytes),
        }];
        if let Some((signer, s)) = &signed {
            let bytes = s
                .sign(&signer.key)
                .map_err(|e| LifecycleError::Local(format!("signing the governance state: {e}")))?;
            files.push(UploadFile {
                path_in_repo: GOVERNANCE_SIGNATURE_FILE.into(),
                content: Bytes::from(bytes),
            });
        }
        let parent = state.main.to_string();
        let commit = match client
            .commit(repo, files, Vec::new(), &message, Some(&parent))
            .await
        {
            Ok(commit) => commit,
            Err(HubError::Conflict { .. }) if !last => return Ok(None),
            Err(HubError::Conflict { .. }) => {
                return Err(LifecycleError::Contention {
                    repo: repo.to_string(),
                    attempts: attempt,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let main: CommitId = commit.parse().map_err(|e| HubError::Protocol {
            url: client.url(&format!("/api/models/{repo}/commit/main")),
            message: format!("commitOid `{commit}`: {e}"),
        })?;
        let mut after = SkillState {
            main,
            registry: next,
            has_file: true,
            ..read.state
        };
        if let Some((signer, s)) = signed {
            after.tags = signed::releases_of(&s);
            let key_id = signer.key.public().id().to_string();
            after.authenticity = Authenticity::Verified {
                key_name: self
                    .seen
                    .policy()
                    .trust
                    .for_org(repo.org())
                    .name_of(&key_id),
                key_id,
                state: s,
            };
        }
        self.seen.check_and_remember(&after)?;
        Ok(Some(Applied {
            events,
            commit,
            committed: true,
            attempts: attempt,
            state: after,
            notes,
        }))
    }

    /// The signed state this change commits (see [`signed::next_state`]).
    async fn next_signed(
        &self,
        signer: &GovernanceSigner,
        read: &ReadForChange,
        next: &Registry,
        registry_bytes: &[u8],
        notes: &mut Vec<String>,
    ) -> Result<rskill_signing::GovernanceState, LifecycleError> {
        let scanned = match self.op {
            Op::Scan { commit, .. } => Some(commit.as_str()),
            _ => None,
        };
        let previous = signed::Previous {
            registry: read.registry.as_deref(),
            signature: read.signature.as_deref(),
            hub_tags: &read.hub_tags,
        };
        signed::next_state(
            self.client,
            self.repo,
            previous,
            registry_bytes,
            next.history.len(),
            scanned,
            signer,
            self.seen.policy(),
            notes,
        )
        .await
    }
}

/// The commit message of a change: a title naming each event (what `rskill history`
/// corroborates) or, for a change that only signs, the new state; then who, when and why.
fn commit_message(
    events: &[Event],
    signed: Option<&rskill_signing::GovernanceState>,
    c: &Change<'_>,
) -> String {
    let mut title: Vec<String> = events.iter().map(Event::summary).collect();
    let mut lines: Vec<String> = events
        .iter()
        .map(|e| format!("{} by {} at {}: {}", e.summary(), e.who, e.when, e.why))
        .collect();
    if let Some(s) = signed {
        let line = format!(
            "rskill governance: signed state version {} (expires {})",
            s.version, s.expires
        );
        if title.is_empty() {
            title.push(line);
            lines.push(format!("by {} at {}: {}", c.who, c.when, c.why));
        } else {
            lines.push(line);
        }
    }
    format!("{}\n\n{}", title.join("; "), lines.join("\n"))
}

/// A growing, jittered pause between attempts (5–40 ms × attempt, attempt capped at 8).
fn jitter(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let spread = 5 + (nanos % 36) as u64;
    Duration::from_millis(spread * attempt.min(8) as u64)
}

/// A commit of `main`'s log: its first line.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LogEntry {
    pub id: String,
    #[serde(default)]
    pub title: String,
}

/// `main`'s commit log (newest first, at most 1000), to corroborate the history.
pub async fn commit_log(client: &HubClient, repo: &RepoId) -> Result<Vec<LogEntry>, HubError> {
    let url = client.url(&format!("/api/models/{repo}/commits/main"));
    let ctx = crate::hub::client::Ctx::new(format!("read the commit log of {repo}")).repo(repo);
    client
        .send_json(|c| c.get(&url).query(&[("limit", "1000")]), &ctx)
        .await
}

/// Events of the history that no commit title of the log names (by `#seq`), and
/// registry commits whose title names no event. Empty when they corroborate.
pub fn corroborate(history: &[Event], log: &[LogEntry]) -> Vec<String> {
    let mut out = Vec::new();
    // The first line: some servers keep the whole message in the title.
    let titles: Vec<&str> = log
        .iter()
        .map(|e| e.title.lines().next().unwrap_or_default())
        .collect();
    for ev in history {
        let s = ev.summary();
        if !titles.iter().any(|t| t.split("; ").any(|part| part == s)) {
            out.push(format!("event #{} ({s}) has no commit naming it", ev.seq));
        }
    }
    for t in &titles {
        for part in t.split("; ").filter(|p| p.starts_with("rskill registry #")) {
            if !history.iter().any(|e| e.summary() == part) {
                out.push(format!("commit `{part}` names no event of the history"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::model::{Change, Registry};

    #[test]
    fn corroboration_names_events_without_commits_and_commits_without_events() {
        let tags: BTreeSet<Version> = ["1.0.0", "1.1.0"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        let c = Change {
            who: "a",
            when: "t",
            why: "w",
        };
        let mut r = Registry::default();
        r.set_alias("production", &"1.0.0".parse().unwrap(), &tags, &c)
            .unwrap();
        r.set_alias("production", &"1.1.0".parse().unwrap(), &tags, &c)
            .unwrap();
        let entry = |title: String| LogEntry {
            id: "x".into(),
            title,
        };
        let full: Vec<LogEntry> = r
            .history
            .iter()
            .map(|e| entry(format!("{}\n\nby a", e.summary())))
            .chain([entry("Publish acme/x 1.1.0".into())])
            .collect();
        assert!(corroborate(&r.history, &full).is_empty());
        // A history event no commit names (the file was edited in an ordinary commit).
        let missing = &full[1..];
        let p = corroborate(&r.history, missing);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("event #1"), "{p:?}");
        // A registry commit whose event the history lost.
        let p = corroborate(&r.history[..1], &full);
        assert!(p.iter().any(|m| m.contains("names no event")), "{p:?}");
    }

    #[test]
    fn a_scan_is_recorded_only_for_the_commit_its_version_tag_points_to() {
        let at = |c: char| c.to_string().repeat(40);
        let v: Version = "1.0.0".parse().unwrap();
        let tags: BTreeMap<Version, CommitId> = [(v.clone(), at('a').parse().unwrap())].into();
        let c = Change {
            who: "a",
            when: "t",
            why: "",
        };
        let record = |skill_version: &str| model::ScanRecord {
            scanner: "rskill-scan".into(),
            version: "0.1.0".into(),
            time: "t".into(),
            skill_version: Some(skill_version.into()),
            types: [(
                rskill_scan::ScanType::Safetensors,
                crate::lifecycle::scan_record::TypeRecord {
                    status: rskill_scan::Status::Clean,
                    fields: Default::default(),
                },
            )]
            .into(),
        };
        let op = |commit: String, sv: &str, version: &Version| Op::Scan {
            version: version.clone(),
            commit,
            record: Box::new(record(sv)),
        };
        let mut r = Registry::default();
        // The tag moved to another commit since the scan.
        let e = apply(&mut r, &op(at('b'), "1.0.0", &v), &tags, &c).unwrap_err();
        assert!(e.to_string().contains("not to the scanned commit"), "{e}");
        // A record naming another version.
        let e = apply(&mut r, &op(at('a'), "2.0.0", &v), &tags, &c).unwrap_err();
        assert!(e.to_string().contains("skill_version"), "{e}");
        // A version with no tag.
        let e = apply(
            &mut r,
            &op(at('a'), "9.0.0", &"9.0.0".parse().unwrap()),
            &tags,
            &c,
        );
        assert!(matches!(e, Err(GovError::UnknownVersion(_))), "{e:?}");
        assert!(r.scans.is_empty());
        apply(&mut r, &op(at('a'), "1.0.0", &v), &tags, &c).unwrap();
        assert!(r.scan_of(&at('a')).is_some());
    }
}
