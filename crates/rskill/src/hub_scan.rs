//! Security scans of Hub skills: `rskill scan ID[@rev]` fetches the skill's files and
//! the weights its manifest pins, one weights file at a time into a temporary cache
//! (files already in the shared cache are scanned where they are), scans each with
//! `rskill-scan` and deletes it; `rskill install --scan` scans what it downloaded.
//! Also how the install finds configs that ask for remote code.

use std::path::{Path, PathBuf};

use rskill_scan::{ScanReport, ScanType, Severity};

use crate::hub::cache::RepoCache;
use crate::hub::download::{Downloaded, FileSpec};
use crate::hub::{HubClient, HubEnv, HubError, RepoId};
use crate::install::InstallError;
use crate::install::id::InstallId;
use crate::install::plan::{self, InstallPlan};

/// How a file is named in findings: its path in the skill repo, or `org/name/path`
/// for an upstream file.
fn rel_name(skill: &RepoId, spec: &FileSpec) -> String {
    if spec.repo == *skill {
        spec.path.to_string()
    } else {
        format!("{}/{}", spec.repo, spec.path)
    }
}

/// Scans a Hub skill at a revision: its files, the pinned weights an install would
/// fetch, and the names of every file of the weights repo (for Python code).
pub async fn scan_hub(
    client: &HubClient,
    id: &InstallId,
    say: &(dyn Fn(&str) + Send + Sync),
) -> Result<ScanReport, InstallError> {
    let repo = &id.repo;
    let requested = id.revision.clone().unwrap_or_else(|| "main".into());
    let (commit, _) = plan::resolve_upstream(client, repo, Some(&requested)).await?;
    // A scan reads what is there, signed or not (`rskill verify` checks signatures).
    let unverified = crate::install::signature::Verified::default();
    let manifest = crate::install::run::read_manifest(client, repo, &commit, &unverified).await?;
    let plan = plan::plan(client, repo, &commit, &manifest).await?;
    let mut report = ScanReport::new(format!("{repo}@{commit}"));
    if let Some(w) = &plan.weights {
        report.field(
            ScanType::Manifest,
            "weights",
            format!("{}@{}", w.repo, w.commit),
        );
    }

    // Files not in the shared cache go to a temporary one, deleted as soon as scanned.
    let temp = tempfile::tempdir()
        .map_err(|e| HubError::io("creating a temporary directory for the scan", e))?;
    let temp_client = HubClient::new(HubEnv {
        hub_cache: temp.path().join("hub"),
        ..client.env().clone()
    })?;
    let fetch =
        async |spec: &FileSpec| -> Result<(std::path::PathBuf, Option<Downloaded>), InstallError> {
            if let Some(p) =
                RepoCache::new(&client.env().hub_cache, &spec.repo).lookup(&spec.commit, &spec.path)
            {
                return Ok((p, None));
            }
            let d = temp_client.download(spec, &|_| {}).await?;
            Ok((d.path.clone(), Some(d)))
        };

    // The skill repo first, whole (the manifest check reads the card beside it).
    let (skill, upstream): (Vec<&FileSpec>, Vec<&FileSpec>) =
        plan.files.iter().partition(|f| f.repo == *repo);
    let mut skill_paths = Vec::new();
    for spec in &skill {
        skill_paths.push((fetch(spec).await?.0, spec.path.to_string()));
    }
    scan_skill_files(repo, &skill_paths, temp.path(), &mut report)?;
    for spec in upstream {
        let rel = rel_name(repo, spec);
        say(&format!("scanning {rel}"));
        let (path, fetched) = fetch(spec).await?;
        rskill_scan::scan_file(&path, &rel, &mut report);
        if let Some(d) = fetched {
            // Not kept: the blob and its snapshot link go.
            let _ = std::fs::remove_file(&d.blob);
            let _ = std::fs::remove_file(&d.path);
        }
    }
    if let Some(w) = &plan.weights {
        for py in plan.weights_python_files() {
            rskill_scan::scan::remote_code_file(&format!("{}/{py}", w.repo), &mut report);
        }
    }
    report.finish();
    Ok(report)
}

/// Scans the skill repo's files (`(path, path in repo)`) as the folder they form: they
/// are copied out of the cache first, whose snapshot links the skill checks would
/// (rightly) refuse as files living outside the skill's folder. The folder is named
/// `<slug>` for a repo `org/rskill-<slug>`, as in the corpus, since `SKILL.md` must name
/// its folder.
fn scan_skill_files(
    repo: &RepoId,
    files: &[(PathBuf, String)],
    temp: &Path,
    report: &mut ScanReport,
) -> Result<(), InstallError> {
    let slug = repo
        .name()
        .strip_prefix("rskill-")
        .filter(|s| !s.is_empty())
        .unwrap_or(repo.name());
    let dir = temp.join("skill").join(slug);
    for (path, rel) in files {
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| HubError::io_at(parent, e))?;
        }
        std::fs::copy(path, &to).map_err(|e| HubError::io_at(&to, e))?;
    }
    for (_, rel) in files {
        rskill_scan::scan_file(&dir.join(rel), rel, report);
    }
    Ok(())
}

/// Scans what an install downloaded (`rskill install --scan`).
pub fn scan_downloaded(
    target: &str,
    skill: &RepoId,
    plan: &InstallPlan,
    downloaded: &[Downloaded],
) -> Result<ScanReport, InstallError> {
    let mut report = ScanReport::new(target);
    let temp = tempfile::tempdir()
        .map_err(|e| HubError::io("creating a temporary directory for the scan", e))?;
    let mut skill_files = Vec::new();
    for (spec, d) in plan.files.iter().zip(downloaded) {
        if spec.repo == *skill {
            skill_files.push((d.path.clone(), spec.path.to_string()));
        } else {
            rskill_scan::scan_file(&d.path, &rel_name(skill, spec), &mut report);
        }
    }
    scan_skill_files(skill, &skill_files, temp.path(), &mut report)?;
    report.finish();
    Ok(report)
}

/// The downloaded weights-repo `config.json` files that ask for remote code (`auto_map`).
pub fn auto_map_configs(plan: &InstallPlan, downloaded: &[Downloaded]) -> Vec<String> {
    let Some(weights) = &plan.weights else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (spec, d) in plan.files.iter().zip(downloaded) {
        if spec.repo.as_str() != weights.repo
            || Path::new(spec.path.as_str()).file_name() != Some("config.json".as_ref())
        {
            continue;
        }
        let rel = format!("{}/{}", spec.repo, spec.path);
        let mut r = ScanReport::new(&rel);
        rskill_scan::scan_file(&d.path, &rel, &mut r);
        if r.findings
            .iter()
            .any(|f| f.scan_type == ScanType::RemoteCode && f.severity >= Severity::Warning)
        {
            out.push(rel);
        }
    }
    out
}
