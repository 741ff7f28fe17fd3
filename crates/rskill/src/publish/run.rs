//! Publishing for real: private repo, one atomic commit, read-back verification, the
//! immutable `v<version>` tag, and only then (when asked) the flip to public, itself
//! verified. Several skills go at once, bounded; one failure hides no other.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::digest::sha256_hex;
use crate::hub::write::UploadFile;
use crate::hub::{HubClient, HubError, RepoId, RepoInfo};

use super::plan::{Plan, PublishOptions};
use super::sign::{self, Generated};

/// How a skill's publish ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishStatus {
    /// A new commit was made, verified and tagged.
    Published,
    /// The version was already on the Hub with exactly this content: no commit.
    Unchanged,
    /// Refused or failed; see the message.
    Failed,
}

/// One row of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub skill: String,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub visibility: Option<&'static str>,
    pub result: PublishStatus,
    pub message: String,
    /// Bytes sent in commits.
    pub uploaded_bytes: u64,
    pub commits: u32,
    #[serde(skip)]
    pub error: Option<Arc<HubError>>,
}

impl Outcome {
    fn failed(plan: &Plan, message: impl Into<String>) -> Outcome {
        Outcome {
            skill: plan.label(),
            version: plan.manifest().map(|m| m.version.clone()),
            commit: None,
            visibility: None,
            result: PublishStatus::Failed,
            message: message.into(),
            uploaded_bytes: 0,
            commits: 0,
            error: None,
        }
    }
}

/// Publishes every plan, at most `opts.concurrency` at once; outcomes in input order.
pub async fn publish_all(
    client: &HubClient,
    plans: Vec<Plan>,
    opts: &PublishOptions,
) -> Vec<Outcome> {
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let count = plans.len();
    for (i, plan) in plans.into_iter().enumerate() {
        let client = client.clone();
        let opts = opts.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, publish(&client, &plan, &opts).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; count];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, outcome)) = joined {
            outcomes[i] = Some(outcome);
        }
    }
    let mut outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    update_indexes(client, &mut outcomes, opts).await;
    outcomes
}

/// Rewrites the catalog index (`ORG/rskill-index`) of each org a skill was published
/// to, once for all of its skills, and says so in their outcomes. A failure fails no
/// publish (the index only saves search requests): the outcome says how to rebuild it.
async fn update_indexes(client: &HubClient, outcomes: &mut [Outcome], opts: &PublishOptions) {
    let mut by_org: std::collections::BTreeMap<String, Vec<RepoId>> = Default::default();
    for o in outcomes.iter() {
        if o.result != PublishStatus::Failed
            && let Ok(repo) = o.skill.parse::<RepoId>()
        {
            by_org.entry(repo.org().to_string()).or_default().push(repo);
        }
    }
    for (org, repos) in by_org {
        let note = match crate::catalog_index::update(
            client,
            &org,
            &repos,
            opts.governance.as_ref(),
        )
        .await
        {
            Ok(w) => match w.commit {
                Some(_) => format!("; {} updated", w.repo),
                None => String::new(),
            },
            Err(e) => format!(
                "; the catalog index {org}/{} was not updated: {e}{}",
                rskill_signing::catalog_index::INDEX_REPO_NAME,
                e.hint()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default()
            ),
        };
        for o in outcomes.iter_mut().filter(|o| {
            o.result != PublishStatus::Failed
                && o.skill.split_once('/').is_some_and(|(x, _)| x == org)
        }) {
            o.message.push_str(&note);
        }
    }
}

/// Publishes one skill.
pub async fn publish(client: &HubClient, plan: &Plan, opts: &PublishOptions) -> Outcome {
    if !plan.can_publish() {
        return Outcome::failed(plan, format!("refused: {}", plan.blockers.join("; ")));
    }
    let (Some(repo), Some(manifest)) = (plan.repo.as_ref(), plan.manifest()) else {
        return Outcome::failed(plan, "refused: no valid manifest");
    };
    let mut outcome = Outcome {
        skill: repo.to_string(),
        version: Some(manifest.version.clone()),
        commit: None,
        visibility: None,
        result: PublishStatus::Failed,
        message: String::new(),
        uploaded_bytes: 0,
        commits: 0,
        error: None,
    };
    match run(client, plan, repo, &manifest.version, opts, &mut outcome).await {
        Ok(()) => {}
        Err(e) => {
            outcome.result = PublishStatus::Failed;
            outcome.message = match e.hint() {
                Some(h) => format!("{e} (hint: {h})"),
                None => e.to_string(),
            };
            outcome.error = Some(Arc::new(e));
        }
    }
    outcome
}

async fn run(
    client: &HubClient,
    plan: &Plan,
    repo: &RepoId,
    version: &str,
    opts: &PublishOptions,
    out: &mut Outcome,
) -> Result<(), HubError> {
    let (main, created) = match client.repo_info(repo, None).await {
        Ok(info) => (info, false),
        Err(HubError::RepoNotFound { .. }) => {
            client.create_repo(repo, true).await?;
            (client.repo_info(repo, None).await?, true)
        }
        Err(e) => return Err(e),
    };
    // Never upload into a repo whose visibility differs from what was asked: a new
    // repo must be private (it goes public only after verification), an existing
    // public one is only updated by a public publish.
    if !main.private && (created || !opts.public) {
        return Err(HubError::Other(if created {
            format!(
                "{repo} was created by someone else meanwhile and is public; refusing to upload into it"
            )
        } else {
            format!(
                "{repo} is public on the Hub but a private publish was asked: pass --public to update a public skill"
            )
        }));
    }
    let mut private = main.private;
    let signed_governance = main
        .file(crate::lifecycle::signed::GOVERNANCE_SIGNATURE_FILE)
        .is_some();
    let generated = match &opts.sign_key {
        Some(key) => sign::signed_files(client, plan, repo, key).await?,
        None => Vec::new(),
    };

    let tag = format!("v{version}");
    let refs = client.refs(repo).await?;
    let commit = if let Some(tagged) = refs.tag(&tag) {
        let at_tag = if main.sha == tagged {
            main.clone()
        } else {
            client.repo_info(repo, Some(tagged)).await?
        };
        if !same_content(&at_tag, plan, &generated) {
            return Err(HubError::Other(format!(
                "version {version} is already published ({tag} at {}) with different content; \
                 versions are immutable: bump `version` in rskill.yaml",
                crate::hub::repo::short_sha(tagged)
            )));
        }
        out.result = PublishStatus::Unchanged;
        out.message = format!("{tag} already published with this content: no commit");
        tagged.to_string()
    } else if same_content(&main, plan, &generated) {
        record_draft(client, repo, version, opts).await?;
        client
            .create_tag(repo, &tag, main.sha.as_str(), &format!("rskill {version}"))
            .await?;
        out.result = PublishStatus::Unchanged;
        out.message = format!("content already on main: tagged it {tag}, no commit");
        main.sha.to_string()
    } else {
        // A draft is recorded before its content reaches main, so nothing ever shows
        // it as active; the upload then builds on the registry commit.
        let main = if opts.draft {
            record_draft(client, repo, version, opts).await?;
            client.repo_info(repo, None).await?
        } else {
            main
        };
        let commit = upload(client, plan, &generated, repo, version, &main, out).await?;
        verify(client, plan, &generated, repo, &commit).await?;
        client
            .create_tag(repo, &tag, &commit, &format!("rskill {version}"))
            .await?;
        out.result = PublishStatus::Published;
        out.message = format!(
            "published {tag}, {} file(s) verified{}",
            plan.selection.files.len(),
            if generated.is_empty() { "" } else { ", signed" }
        );
        commit
    };
    release(client, repo, version, signed_governance, opts, out).await?;
    out.commit = Some(commit);

    if opts.public && private {
        client.set_private(repo, false).await?;
        let info = client.repo_info(repo, None).await?;
        let anonymous = client.anonymous()?.repo_info(repo, None).await;
        if info.private || anonymous.is_err() {
            return Err(HubError::Other(format!(
                "{repo} still reads as private after the flip to public"
            )));
        }
        private = false;
        out.message.push_str("; made public");
    }
    out.visibility = Some(if private { "private" } else { "public" });
    Ok(())
}

/// The skill folder's files the commit takes (a generated file replaces a local one
/// of the same path).
fn local_files<'a>(
    plan: &'a Plan,
    generated: &'a [Generated],
) -> impl Iterator<Item = &'a super::files::LocalFile> {
    plan.selection
        .files
        .iter()
        .filter(|f| !generated.iter().any(|g| g.path == f.path_in_repo))
}

/// Commits the skill files and the generated ones (deleting remote files the skill no
/// longer has).
async fn upload(
    client: &HubClient,
    plan: &Plan,
    generated: &[Generated],
    repo: &RepoId,
    version: &str,
    main: &RepoInfo,
    out: &mut Outcome,
) -> Result<String, HubError> {
    let mut files = Vec::new();
    for f in local_files(plan, generated) {
        let bytes = std::fs::read(&f.abs_path).map_err(|e| HubError::io_at(&f.abs_path, e))?;
        if sha256_hex(&bytes) != f.sha256 {
            return Err(HubError::Other(format!(
                "{} changed while publishing; run again",
                f.abs_path.display()
            )));
        }
        out.uploaded_bytes += bytes.len() as u64;
        files.push(UploadFile {
            path_in_repo: f.path_in_repo.clone(),
            content: Bytes::from(bytes),
        });
    }
    for g in generated {
        out.uploaded_bytes += g.bytes.len() as u64;
        files.push(UploadFile {
            path_in_repo: g.path.clone(),
            content: g.bytes.clone(),
        });
    }
    let local: BTreeSet<&str> = local_files(plan, generated)
        .map(|f| f.path_in_repo.as_str())
        .chain(generated.iter().map(|g| g.path.as_str()))
        .collect();
    let deletes: Vec<String> = main
        .siblings
        .iter()
        .filter(|s| !local.contains(s.rfilename.as_str()) && !kept_on_hub(s.rfilename.as_str()))
        .map(|s| s.rfilename.to_string())
        .collect();
    let commit = client
        .commit(
            repo,
            files,
            deletes,
            &format!("Publish {repo} {version}"),
            Some(main.sha.as_str()),
        )
        .await?;
    out.commits += 1;
    Ok(commit)
}

/// Files of the Hub repo that a publish neither uploads nor deletes: `.gitattributes`,
/// the governance file (statuses, aliases, history) and its signature.
fn kept_on_hub(name: &str) -> bool {
    name == ".gitattributes"
        || name == crate::lifecycle::remote::REGISTRY_FILE
        || name == crate::lifecycle::signed::GOVERNANCE_SIGNATURE_FILE
}

/// After tagging: with a governance key, a new signed state releases the version
/// (only when it is not released yet); without one, a skill whose governance is
/// signed keeps the new tag unreleased, and the outcome says how to release it.
async fn release(
    client: &HubClient,
    repo: &RepoId,
    version: &str,
    signed_governance: bool,
    opts: &PublishOptions,
    out: &mut Outcome,
) -> Result<(), HubError> {
    let Some(signer) = &opts.governance else {
        if signed_governance {
            out.message.push_str(&format!(
                "; not released to fleets that verify governance until `rskill-publisher governance refresh {repo}` signs it"
            ));
        }
        return Ok(());
    };
    let seen = crate::lifecycle::Seen::default().with_policy(
        crate::lifecycle::signed::GovernancePolicy::default()
            .for_signer(repo.org(), &signer.key.public()),
    );
    let state = crate::lifecycle::remote::read(client, &seen, repo)
        .await
        .map_err(lifecycle_to_hub)?;
    let released = state
        .authenticity
        .verified()
        .is_some_and(|s| s.releases.contains_key(version));
    if released {
        return Ok(());
    }
    let applied = crate::lifecycle::remote::change_registry(
        client,
        &seen,
        repo,
        &crate::lifecycle::Op::Refresh,
        &format!("release {version}"),
        Some(signer),
    )
    .await
    .map_err(lifecycle_to_hub)?;
    out.commits += 1;
    let v = applied
        .state
        .authenticity
        .verified()
        .map_or(0, |s| s.version);
    out.message.push_str(&format!(
        "; released in signed governance state version {v}"
    ));
    Ok(())
}

fn lifecycle_to_hub(e: crate::lifecycle::LifecycleError) -> HubError {
    match e {
        crate::lifecycle::LifecycleError::Hub(h) => h,
        other => HubError::Other(match other.hint() {
            Some(h) => format!("{other} (hint: {h})"),
            None => other.to_string(),
        }),
    }
}

/// With `--draft`, records the new version as a draft before its tag exists, so it is
/// never resolvable as active.
async fn record_draft(
    client: &HubClient,
    repo: &RepoId,
    version: &str,
    opts: &PublishOptions,
) -> Result<(), HubError> {
    if !opts.draft {
        return Ok(());
    }
    let version = crate::lifecycle::model::parse_version(version)
        .map_err(|e| HubError::Other(e.to_string()))?;
    let op = crate::lifecycle::Op::Draft { version };
    // No local record here: publishing is a library call (tests, benches) as much as a
    // command, and the change itself checks that it extends the history it read.
    let mut policy = crate::lifecycle::signed::GovernancePolicy::default();
    if let Some(signer) = &opts.governance {
        policy = policy.for_signer(repo.org(), &signer.key.public());
    }
    let seen = crate::lifecycle::Seen::default().with_policy(policy);
    crate::lifecycle::remote::change_registry(
        client,
        &seen,
        repo,
        &op,
        "published as a draft",
        opts.governance.as_ref(),
    )
    .await
    .map(|_| ())
    .map_err(lifecycle_to_hub)
}

/// Reads every published file back at `commit` and compares its SHA-256.
async fn verify(
    client: &HubClient,
    plan: &Plan,
    generated: &[Generated],
    repo: &RepoId,
    commit: &str,
) -> Result<(), HubError> {
    let expected = local_files(plan, generated)
        .map(|f| (f.path_in_repo.clone(), f.size, f.sha256.clone()))
        .chain(
            generated
                .iter()
                .map(|g| (g.path.clone(), g.bytes.len() as u64, g.sha256())),
        );
    for (path, size, sha256) in expected {
        let remote = client.read_file_at_most(repo, commit, &path, size).await?;
        let actual = sha256_hex(&remote);
        if actual != sha256 {
            return Err(HubError::Integrity {
                path: format!("{repo}/{path}"),
                expected: sha256,
                actual,
            });
        }
    }
    Ok(())
}

/// Whether a revision holds exactly the skill's files and the generated ones (by git
/// blob id or LFS SHA-256).
pub fn same_content(info: &RepoInfo, plan: &Plan, generated: &[Generated]) -> bool {
    let remote: Vec<_> = info
        .siblings
        .iter()
        .filter(|s| !kept_on_hub(s.rfilename.as_str()))
        .collect();
    let local: Vec<_> = local_files(plan, generated).collect();
    remote.len() == local.len() + generated.len()
        && generated.iter().all(|g| {
            info.file(&g.path).is_some_and(|s| {
                s.lfs.is_none()
                    && s.blob_id.as_ref().is_some_and(|b| {
                        b.as_str() == crate::hub::ids::GitBlobId::of(&g.bytes).as_str()
                    })
            })
        })
        && local.iter().all(|f| {
            info.file(&f.path_in_repo)
                .is_some_and(|s| match (&s.lfs, &s.blob_id) {
                    (Some(lfs), _) => lfs.sha256 == f.sha256,
                    (None, Some(blob)) => *blob == f.git_sha1,
                    (None, None) => false,
                })
        })
}
