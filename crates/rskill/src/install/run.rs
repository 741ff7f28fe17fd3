//! The install flow, in the order that keeps a fleet safe: resolve the commit (aliases,
//! versions, statuses), verify the signature against the trust policy (and the signed
//! file list), validate the manifest (its bytes checked against the signed digest
//! first), show the license and apply the guard, download every file (verified,
//! resumable, in parallel), refuse remote code unless opted in, scan the downloaded
//! files when asked (`--scan`), smoke-load the weights, and only then write the
//! registry entry. Any failure before the last step registers nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::corpus::MANIFEST_FILE;
use crate::hub::download::{Downloaded, FileSpec};
use crate::hub::ids::{CommitId, RepoPath};
use crate::hub::{HubClient, HubError, RepoId};
use crate::lifecycle::{LifecycleError, Seen, Status, resolve};
use crate::manifest::Manifest;
use crate::registry::{self, InstalledFile, InstalledSkill, SmokeRecord, WeightsSource};
use crate::{smoke, validate};

use super::guard::{self, Consent, Decision};
use super::id::InstallId;
use super::lockfile::LockedSkill;
use super::plan::{self, InstallPlan};
use super::signature::{self, SignatureError, Verified};

/// Files downloaded at once.
pub const DOWNLOAD_CONCURRENCY: usize = 4;

/// How the install talks to the person running it.
pub trait InstallUi: Send + Sync {
    /// A line of information (license banner, smoke results).
    fn say(&self, line: &str);
    /// Asks a yes/no question; `false` when declined.
    fn confirm(&self, question: &str) -> bool;
    /// Announces the downloads (count, total bytes) and returns the per-byte callback.
    fn start_downloads(&self, files: usize, total_bytes: u64) -> Arc<dyn Fn(u64) + Send + Sync>;
    /// The downloads are over.
    fn finish_downloads(&self) {}
}

/// What to install and with which consent.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub consent: Consent,
    /// Skip the smoke-load (`--no-smoke`).
    pub no_smoke: bool,
    /// Re-hash cached blobs instead of trusting their content-addressed names (`--verify`).
    pub verify: bool,
    /// Where the registry lives (default: the XDG data directory).
    pub registry_path: Option<PathBuf>,
    /// Install exactly this locked state, verifying every digest.
    pub locked: Option<LockedSkill>,
    /// Install a version whose status is `deleted` (`--allow-deleted`).
    pub allow_deleted: bool,
    /// A last check of the skills about to be installed (their ids), once they are
    /// resolved and guarded and before the first download (harness folders free …).
    /// The trust policy (signatures); the default requires nothing.
    pub trust: crate::trust::Policy,
    /// Scan the downloaded files before activation, refusing dangerous ones (`--scan`).
    pub scan: bool,
    pub preflight: Preflight,
    /// Use an expired signed governance state, for this reason (`--allow-expired`).
    pub allow_expired: Option<String>,
}

/// See [`InstallOptions::preflight`]; `Err` refuses the install, naming why.
#[derive(Clone, Default)]
pub struct Preflight(pub Option<PreflightFn>);

/// The check behind [`Preflight`].
pub type PreflightFn = Arc<dyn Fn(&[String]) -> Result<(), String> + Send + Sync>;

impl std::fmt::Debug for Preflight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Preflight(set)"
        } else {
            "Preflight(none)"
        })
    }
}

impl Preflight {
    pub(crate) fn check(&self, skills: &[String]) -> Result<(), InstallError> {
        match &self.0 {
            Some(f) => f(skills).map_err(|reason| InstallError::Refused {
                reason,
                hint: "nothing was downloaded or registered; see `rskill harness list`".into(),
            }),
            None => Ok(()),
        }
    }
}

/// Why an install failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("{repo}@{commit}: invalid rskill.yaml:\n  {}", problems.join("\n  "))]
    InvalidManifest {
        repo: String,
        commit: String,
        problems: Vec<String>,
    },
    #[error("{repo}@{commit}: invalid group:\n  {}", problems.join("\n  "))]
    InvalidGroup {
        repo: String,
        commit: String,
        problems: Vec<String>,
    },
    #[error("group {group}: member {member}: {message}\nnothing of the group was installed")]
    Member {
        group: String,
        member: String,
        message: String,
        hint: Option<String>,
    },
    #[error("refused: {reason}")]
    Refused { reason: String, hint: String },
    #[error("installation declined")]
    Declined,
    #[error("smoke-load failed, nothing was registered: {0}")]
    Smoke(#[from] smoke::SmokeError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error("{0}")]
    Locked(String),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("refused, nothing was registered: {0}")]
    Signature(#[from] SignatureError),
}

impl InstallError {
    pub fn hint(&self) -> Option<String> {
        match self {
            InstallError::Hub(e) => e.hint(),
            InstallError::Refused { hint, .. } => Some(hint.clone()),
            InstallError::Member { hint, .. } => hint.clone(),
            InstallError::InvalidGroup { .. } => Some(
                "the group's publisher must fix it (`rskill validate` checks group files); try another version".into(),
            ),
            InstallError::InvalidManifest { .. } => {
                Some("the skill's publisher must fix its manifest; try an earlier revision".into())
            }
            InstallError::Lifecycle(e) => e.hint(),
            InstallError::Locked(_) => {
                Some("run `rskill lock` again after a deliberate update".into())
            }
            InstallError::Signature(e) => Some(e.hint()),
            _ => None,
        }
    }
}

/// What an install did.
#[derive(Debug, Clone)]
pub struct InstallReport {
    pub entry: InstalledSkill,
    pub manifest: Manifest,
    /// Bytes that crossed the network.
    pub transferred: u64,
    /// Files already in the cache.
    pub cached_files: usize,
}

/// Refuses a deleted version (unless allowed) and warns about a deprecated or draft one,
/// naming the recorded reason.
pub(crate) fn check_status(
    repo: &RepoId,
    resolved: &resolve::Resolved,
    opts: &InstallOptions,
    ui: &dyn InstallUi,
) -> Result<(), InstallError> {
    let (Some(version), Some(status), Some(state)) =
        (&resolved.version, resolved.status, &resolved.state)
    else {
        return Ok(());
    };
    let reason = resolve::last_reason(state, version).unwrap_or_default();
    match status {
        Status::Deleted if !opts.allow_deleted => Err(InstallError::Refused {
            reason: format!("{repo} {version} is deleted ({reason})"),
            hint: "install another version (`rskill info ID` lists them), or pass --allow-deleted to install it anyway".into(),
        }),
        Status::Deleted => {
            ui.say(&format!("warning: {repo} {version} is deleted ({reason}); installing it because of --allow-deleted"));
            Ok(())
        }
        Status::Deprecated => {
            ui.say(&format!("warning: {repo} {version} is deprecated ({reason})"));
            Ok(())
        }
        Status::Draft => {
            ui.say(&format!("note: {repo} {version} is a draft (not yet activated)"));
            Ok(())
        }
        Status::Active => Ok(()),
    }
}

/// One skill ready to download: its revision resolved, its manifest validated, the
/// license and pickle guards passed, its files planned. Nothing downloaded yet.
pub(crate) struct Prepared {
    pub repo: RepoId,
    pub requested: String,
    pub resolved: resolve::Resolved,
    pub alias: Option<String>,
    pub commit: CommitId,
    pub manifest: Manifest,
    pub plan: InstallPlan,
    /// What the signature check found (unsigned: nothing pinned).
    pub verified: Verified,
}

/// Resolves, validates and guards one skill (`asked`: the revision, `None` for
/// `latest`); only read requests, never a download.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn prepare(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
    asked: Option<&str>,
    requested: Option<String>,
    locked: Option<&LockedSkill>,
    opts: &InstallOptions,
    ui: &dyn InstallUi,
) -> Result<Prepared, InstallError> {
    // Governance: aliases, `latest` and versions become a commit; the status of what
    // is installed is checked (a pinned commit too).
    let asked = match locked {
        Some(l) => Some(l.commit.to_string()),
        None => asked.map(str::to_owned),
    };
    let resolved = resolve::resolve(client, seen, repo, asked.as_deref())
        .await
        .map_err(|e| match e {
            LifecycleError::Hub(h) => InstallError::Hub(h),
            other => InstallError::Lifecycle(other),
        })?;
    for note in &resolved.notes {
        ui.say(note);
    }
    let requested = requested.unwrap_or_else(|| match &resolved.alias {
        Some(a) => a.clone(),
        None => "main".into(),
    });
    check_status(repo, &resolved, opts, ui)?;
    if let (Some(locked), Some(state)) = (locked, &resolved.state)
        && let Some(alias) = &locked.alias
    {
        let now = state.resolve_alias(alias);
        if now != resolved.version {
            ui.say(&format!(
                "note: {alias} now points to {}; installing the locked commit {}",
                now.map_or("nothing".into(), |v| v.to_string()),
                locked.commit
            ));
        }
    }
    let revision = resolved.revision.clone();
    let (commit, siblings) = plan::resolve_upstream(client, repo, Some(&revision)).await?;
    if let Some(line) =
        super::scan_policy::check(repo, &commit, resolved.state.as_ref(), &opts.trust)?
    {
        ui.say(&line);
    }
    let verified = signature::verify_repo(client, repo, &commit, &siblings, &opts.trust, &|l| {
        ui.say(l)
    })
    .await?;

    let manifest = read_manifest(client, repo, &commit, &verified).await?;
    check_manifest_version(repo, &commit, &resolved, &manifest)?;
    ui.say(&format!(
        "{repo} {} ({}, commit {})",
        manifest.version,
        manifest.kind,
        crate::hub::repo::short_sha(commit.as_str())
    ));
    ui.say(&guard::banner(manifest.license));
    match guard::license_decision(manifest.license, &opts.consent) {
        Decision::Proceed => {}
        Decision::Confirm(q) => {
            if !ui.confirm(&q) {
                return Err(InstallError::Declined);
            }
        }
        Decision::Refuse { reason, hint } => return Err(InstallError::Refused { reason, hint }),
    }

    let mut plan = plan::plan(client, repo, &commit, &manifest).await?;
    let pinning = signature::pin_plan(repo, &commit, &mut plan, &verified)?;
    if !pinning.left_out.is_empty() {
        ui.say(&format!(
            "not installed (not covered by the signature): {}",
            pinning.left_out.join(", ")
        ));
    }
    if !pinning.unpinned.is_empty() {
        if opts.trust.for_org(repo.org()).required {
            return Err(SignatureError::Unpinned {
                repo: repo.to_string(),
                files: pinning.unpinned,
            }
            .into());
        }
        ui.say(&format!(
            "warning: {repo}: {} not pinned by the signed {} (installed unverified)",
            pinning.unpinned.join(", "),
            rskill_signing::WEIGHTS_LOCK_FILE
        ));
    }
    let mut verified = verified;
    verified.record.left_out = pinning.left_out;
    verified.record.unpinned = pinning.unpinned;
    verified.pinned = pinning.pinned;
    if let Some(locked) = locked {
        apply_lock(&mut plan, locked)?;
    }
    let names: Vec<String> = plan.files.iter().map(|f| f.path.to_string()).collect();
    if let Decision::Refuse { reason, hint } = guard::pickle_decision(&names, &opts.consent) {
        return Err(InstallError::Refused { reason, hint });
    }
    if let Decision::Refuse { reason, hint } =
        guard::remote_code_decision(&plan.weights_python_files(), &[], &opts.consent)
    {
        return Err(InstallError::Refused { reason, hint });
    }
    if opts.verify {
        plan.files.iter_mut().for_each(|f| f.verify_cached = true);
    }
    let alias = match locked {
        Some(l) => l.alias.clone(),
        None => resolved.alias.clone(),
    };
    Ok(Prepared {
        repo: repo.clone(),
        requested,
        resolved,
        alias,
        commit,
        manifest,
        plan,
        verified,
    })
}

/// A published version's manifest must name that version: a tag moved onto another
/// version's commit (or a recalled commit tagged anew) is refused, signed or not.
fn check_manifest_version(
    repo: &RepoId,
    commit: &CommitId,
    resolved: &resolve::Resolved,
    manifest: &Manifest,
) -> Result<(), InstallError> {
    let Some(version) = &resolved.version else {
        return Ok(());
    };
    if manifest.version == version.to_string() {
        return Ok(());
    }
    Err(InstallError::Lifecycle(LifecycleError::Governance {
        repo: repo.to_string(),
        problem: crate::lifecycle::signed::GovernanceProblem::ManifestVersion {
            version: version.to_string(),
            commit: commit.to_string(),
            manifest: manifest.version.clone(),
        },
    }))
}

/// Smoke-loads a downloaded skill and builds its registry entry.
pub(crate) fn finish(
    p: &Prepared,
    downloaded: &[Downloaded],
    opts: &InstallOptions,
    ui: &dyn InstallUi,
) -> Result<InstalledSkill, InstallError> {
    let (repo, commit, plan, verified) = (&p.repo, &p.commit, &p.plan, &p.verified);
    if verified.record.verified {
        // Only what is true: the files pinned to a signed digest, and those that are not.
        let unpinned = &verified.record.unpinned;
        ui.say(&format!(
            "signature verified: key {}{}, {} file(s) match their signed digests{}",
            verified.record.key_id.as_deref().unwrap_or(""),
            verified
                .record
                .key_name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            verified.pinned,
            if unpinned.is_empty() {
                String::new()
            } else {
                format!("; not pinned by any signed digest: {}", unpinned.join(", "))
            }
        ));
    }
    // Pickles the names did not give away (NumPy object arrays, zip checkpoints and
    // pickle streams under other names), by content, before anything is activated.
    let pickled: Vec<String> = plan
        .files
        .iter()
        .zip(downloaded)
        .filter_map(|(spec, d)| {
            rskill_scan::scan::pickle_bearing(&d.path, spec.path.as_str())
                .map(|why| format!("{}/{}: {why}", spec.repo, spec.path))
        })
        .collect();
    if let Decision::Refuse { reason, hint } =
        guard::pickle_content_decision(&pickled, &opts.consent)
    {
        return Err(InstallError::Refused { reason, hint });
    }
    let auto_map = crate::hub_scan::auto_map_configs(plan, downloaded);
    if let Decision::Refuse { reason, hint } =
        guard::remote_code_decision(&[], &auto_map, &opts.consent)
    {
        return Err(InstallError::Refused { reason, hint });
    }
    if opts.scan {
        let target = format!("{repo}@{commit}");
        let report = crate::hub_scan::scan_downloaded(&target, repo, plan, downloaded)?;
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity >= rskill_scan::Severity::Warning)
        {
            ui.say(&format!("scan: {f}"));
        }
        if report.fails() {
            let worst: Vec<String> = report
                .findings
                .iter()
                .filter(|f| f.severity >= rskill_scan::Severity::Dangerous)
                .take(3)
                .map(|f| format!("{}: {}", f.file, f.message))
                .collect();
            return Err(InstallError::Refused {
                reason: format!(
                    "the local scan found the weights {} ({}); nothing was registered",
                    report.status(),
                    worst.join("; ")
                ),
                hint: format!(
                    "`rskill scan {target}` lists every finding; never load these weights"
                ),
            });
        }
        ui.say(&format!(
            "scan: {} ({} file(s) by {} {})",
            report.status(),
            report.types.values().map(|t| t.files).sum::<usize>(),
            report.scanner.name,
            report.scanner.version
        ));
    }
    let smoke = if opts.no_smoke {
        ui.say("smoke-load skipped (--no-smoke)");
        SmokeRecord::default()
    } else {
        smoke_load(&p.plan, downloaded, &p.manifest, ui)?
    };
    Ok(InstalledSkill {
        repo: p.repo.to_string(),
        revision_requested: p.requested.clone(),
        commit: p.commit.to_string(),
        version: p.manifest.version.clone(),
        alias: p.alias.clone(),
        status: p.resolved.status.map(|s| s.to_string()),
        kind: p.manifest.kind.to_string(),
        license: p.manifest.license.to_string(),
        weights: p.plan.weights.as_ref().map(|w| WeightsSource {
            repo: w.repo.clone(),
            commit: w.commit.to_string(),
        }),
        files: p
            .plan
            .files
            .iter()
            .zip(downloaded)
            .map(|(spec, d)| InstalledFile {
                repo: spec.repo.to_string(),
                path: spec.path.to_string(),
                sha256: d.sha256.clone(),
                size: d.size,
                blob_path: d.blob.clone(),
            })
            .collect(),
        installed_at: registry::now_rfc3339(),
        smoke,
        signature: p.verified.record.clone(),
        explicit: true,
    })
}

/// Where this install keeps what it saw of governance (beside the registry), read with
/// the install's trust policy.
pub(crate) fn seen_for(opts: &InstallOptions) -> Seen {
    let seen = match &opts.registry_path {
        Some(p) => Seen::beside(p),
        None => Seen::default_location(),
    };
    seen.with_policy(crate::lifecycle::signed::GovernancePolicy {
        trust: opts.trust.clone(),
        allow_expired: opts.allow_expired.clone(),
    })
}

/// Changes the registry this install writes to (one atomic update).
pub(crate) fn update_registry<T>(
    opts: &InstallOptions,
    f: impl FnOnce(&mut registry::Registry) -> T,
) -> Result<T, InstallError> {
    Ok(match &opts.registry_path {
        Some(p) => registry::update_at(p, f)?,
        None => registry::update(f)?,
    })
}

/// Installs `id`.
pub async fn install(
    client: &HubClient,
    id: &InstallId,
    opts: &InstallOptions,
    ui: &dyn InstallUi,
) -> Result<InstallReport, InstallError> {
    let seen = seen_for(opts);
    let p = prepare(
        client,
        &seen,
        &id.repo,
        id.revision.as_deref(),
        id.revision.clone(),
        opts.locked.as_ref(),
        opts,
        ui,
    )
    .await?;
    opts.preflight
        .check(std::slice::from_ref(&p.repo.to_string()))?;
    let downloaded = download_all(client, &p.plan.files, ui)
        .await
        .map_err(|e| match e {
            InstallError::Hub(h) => signature::explain_download(h, &p.repo, &p.verified),
            other => other,
        })?;
    let transferred = downloaded.iter().map(|d| d.transferred).sum();
    let cached_files = downloaded
        .iter()
        .filter(|d| d.transferred == 0 && d.resumed_from == 0)
        .count();
    let entry = finish(&p, &downloaded, opts, ui)?;
    let stored = entry.clone();
    update_registry(opts, |r| {
        r.skills.insert(stored.repo.clone(), stored);
    })?;
    Ok(InstallReport {
        entry,
        manifest: p.manifest,
        transferred,
        cached_files,
    })
}

pub(crate) async fn read_manifest(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    verified: &Verified,
) -> Result<Manifest, InstallError> {
    let signed = verified
        .manifest
        .as_ref()
        .and_then(|m| m.digest_of(MANIFEST_FILE));
    let bytes = match signed {
        // Checked against the signature before anything reads it or caches it.
        Some(digest) => {
            let bytes = signature::read_small(
                client,
                repo,
                commit,
                MANIFEST_FILE,
                crate::hub::client::MAX_SMALL_FILE_BYTES,
            )
            .await?;
            let actual = crate::digest::sha256_hex(&bytes);
            if actual != digest {
                return Err(SignatureError::Files {
                    repo: repo.to_string(),
                    problems: vec![rskill_signing::FileProblem::Changed {
                        name: MANIFEST_FILE.into(),
                        signed: digest.to_string(),
                        actual,
                    }],
                }
                .into());
            }
            bytes
        }
        None => {
            client
                .read_file_cached(repo, commit, &RepoPath::manifest())
                .await?
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let manifest = validate::parse_valid(&text).map_err(|v| InstallError::InvalidManifest {
        repo: repo.to_string(),
        commit: crate::hub::repo::short_sha(commit.as_str()).to_string(),
        problems: v.iter().map(|v| v.render(MANIFEST_FILE)).collect(),
    })?;
    if manifest.name != repo.as_str() {
        return Err(InstallError::InvalidManifest {
            repo: repo.to_string(),
            commit: crate::hub::repo::short_sha(commit.as_str()).to_string(),
            problems: vec![format!("name \"{}\" is not this repo", manifest.name)],
        });
    }
    Ok(manifest)
}

/// Makes the plan match the lockfile exactly (same files, same commits), and makes
/// every download check the locked SHA-256.
fn apply_lock(plan: &mut InstallPlan, locked: &LockedSkill) -> Result<(), InstallError> {
    if let (Some(w), Some(lw)) = (&plan.weights, &locked.weights)
        && w.commit != lw.commit
    {
        return Err(InstallError::Locked(format!(
            "{} resolves to {} but the lockfile pins {}",
            w.repo,
            crate::hub::repo::short_sha(w.commit.as_str()),
            crate::hub::repo::short_sha(lw.commit.as_str())
        )));
    }
    for spec in &mut plan.files {
        let Some(lf) = locked
            .files
            .iter()
            .find(|f| f.repo == spec.repo && f.path == spec.path)
        else {
            return Err(InstallError::Locked(format!(
                "{}:{} is not in the lockfile",
                spec.repo, spec.path
            )));
        };
        if spec.sha256.as_ref().is_some_and(|s| *s != lf.sha256) {
            return Err(InstallError::Locked(format!(
                "{}:{} has sha256 {} on the Hub but {} in the lockfile",
                spec.repo,
                spec.path,
                spec.sha256.as_ref().map(|s| s.as_str()).unwrap_or(""),
                lf.sha256
            )));
        }
        spec.sha256 = Some(lf.sha256.clone());
    }
    if plan.files.len() != locked.files.len() {
        return Err(InstallError::Locked(format!(
            "the lockfile lists {} files, the Hub {}",
            locked.files.len(),
            plan.files.len()
        )));
    }
    Ok(())
}

pub(crate) async fn download_all(
    client: &HubClient,
    files: &[FileSpec],
    ui: &dyn InstallUi,
) -> Result<Vec<Downloaded>, InstallError> {
    let total = files.iter().filter_map(|f| f.size).sum();
    let progress = ui.start_downloads(files.len(), total);
    let limit = Arc::new(tokio::sync::Semaphore::new(DOWNLOAD_CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, spec) in files.iter().cloned().enumerate() {
        let client = client.clone();
        let limit = limit.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let tick = move |n: u64| progress(n);
            (i, client.download(&spec, &tick).await)
        });
    }
    let mut results: Vec<Option<Downloaded>> = vec![None; files.len()];
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, Ok(d))) => results[i] = Some(d),
            Ok((_, Err(e))) => {
                if first_error.is_none() {
                    first_error = Some(e);
                    set.abort_all();
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => first_error = first_error.or(Some(HubError::Other(e.to_string()))),
        }
    }
    ui.finish_downloads();
    if let Some(e) = first_error {
        return Err(e.into());
    }
    Ok(results.into_iter().flatten().collect())
}

/// Smoke-loads the weights: safetensors headers (single or sharded), ONNX through
/// ONNX Runtime when it is available (skipped, with how to get it, when not).
fn smoke_load(
    plan: &InstallPlan,
    downloaded: &[Downloaded],
    manifest: &Manifest,
    ui: &dyn InstallUi,
) -> Result<SmokeRecord, InstallError> {
    let expect = smoke::Expectations::from_policy_extras(manifest.policy_extras.as_ref()).map_err(
        |problem| InstallError::InvalidManifest {
            repo: manifest.name.clone(),
            commit: String::new(),
            problems: vec![problem],
        },
    )?;
    let mut record = SmokeRecord::default();
    let weights_repo = plan.weights.as_ref().map(|w| w.repo.as_str());
    let weight_files: Vec<(&FileSpec, &Downloaded)> = plan
        .files
        .iter()
        .zip(downloaded)
        .filter(|(s, _)| Some(s.repo.as_str()) == weights_repo)
        .collect();
    let paths: Vec<PathBuf> = weight_files.iter().map(|(_, d)| d.path.clone()).collect();

    let index = paths
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".safetensors.index.json"));
    if let Some(index) = index {
        let dir = index.parent().unwrap_or(Path::new("."));
        let summary = smoke::check_sharded(index, dir)?;
        expect.check_tensors(index, summary.shards.iter().flat_map(|s| &s.tensors))?;
        ui.say(&format!("smoke-load: {summary}"));
        record.safetensors = Some(summary.to_string());
    } else {
        let mut lines = Vec::new();
        let mut summaries = Vec::new();
        for p in paths.iter().filter(|p| has_ext(p, "safetensors")) {
            let summary = smoke::check_safetensors(p)?;
            ui.say(&format!("smoke-load: {}: {summary}", file_name(p)));
            lines.push(format!("{}: {summary}", file_name(p)));
            summaries.push(summary);
        }
        if let Some(first) = summaries.first() {
            // The declared tensors may be spread over several files.
            expect.check_tensors(&first.path, summaries.iter().flat_map(|s| &s.tensors))?;
        } else if !expect.tensors.is_empty() {
            return Err(smoke::SmokeError::Declared {
                path: PathBuf::from(
                    plan.weights
                        .as_ref()
                        .map_or(manifest.name.as_str(), |w| w.repo.as_str()),
                ),
                problem: "the manifest declares tensors but no safetensors weights were installed"
                    .into(),
            }
            .into());
        }
        if !lines.is_empty() {
            record.safetensors = Some(lines.join("; "));
        }
    }
    let pickles: Vec<String> = paths
        .iter()
        .map(|p| file_name(p))
        .filter(|n| crate::license::is_pickle_file(n))
        .collect();
    if !pickles.is_empty() {
        ui.say(&format!(
            "pickled weights not loaded ({}): rskill never unpickles; only their checksums were verified",
            pickles.join(", ")
        ));
    }
    let onnx: Vec<&PathBuf> = paths.iter().filter(|p| has_ext(p, "onnx")).collect();
    if !onnx.is_empty() {
        match smoke::onnx_runtime() {
            Ok(runtime) => {
                let mut lines = Vec::new();
                for p in onnx {
                    let summary = smoke::check_onnx(p, &runtime, &expect.dims)?;
                    ui.say(&format!(
                        "smoke-load: {} with {runtime}: {summary}",
                        file_name(p)
                    ));
                    lines.push(format!("{}: {summary}", file_name(p)));
                }
                record.onnx = Some(lines.join("; "));
            }
            Err(missing) => {
                ui.say(&format!("ONNX smoke-load skipped: {missing}"));
                record.onnx = Some(format!("skipped: {}", missing.hint));
            }
        }
    }
    Ok(record)
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
