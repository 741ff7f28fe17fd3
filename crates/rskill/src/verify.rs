//! `rskill verify PATH|ID`: checks a skill's OMS signature on its own (for CI), either
//! a local folder (every file hashed and compared with the signed list, the signed
//! subject with the manifest's `name`) or a skill on the Hub (the signed subject is the
//! repo id; the signature against the trust policy and any `--key`, every skill file
//! read and compared, and the signed weights lock against the upstream repo's listing
//! and the commit `weights_uri` resolves to; weights are not downloaded).

use std::path::Path;

use serde::Serialize;

use crate::hub::{HubClient, RepoId};
use crate::install::signature::{self, SignatureRecord};
use crate::publish::bump::HfUri;
use crate::trust::{Policy, TrustedKey};
use rskill_signing::{PublicKey, SIGNATURE_FILE, WEIGHTS_LOCK_FILE};

/// What `rskill verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The folder or `org/name@commit`.
    pub target: String,
    pub ok: bool,
    #[serde(flatten)]
    pub signature: SignatureRecord,
    /// Files compared with their signed digests.
    pub files: usize,
    /// Weight files compared with the signed lock (Hub targets).
    pub weight_files: usize,
    /// Processor files checked against their pins (Hub targets).
    pub processor_files: usize,
    /// Each problem, naming the file or key.
    pub problems: Vec<String>,
}

/// The policy for a verify: the machine's and project's, plus `extra` keys trusted for
/// `org`, and signatures required (a verify of an unsigned skill fails).
pub fn policy_with(mut policy: Policy, org: &str, extra: &[PublicKey]) -> Policy {
    let entry = policy.orgs.entry(org.to_string()).or_default();
    for k in extra {
        if !entry.keys.iter().any(|t| t.id == k.id()) {
            entry.keys.push(TrustedKey {
                id: k.id().to_string(),
                name: Some("--key".into()),
                pem: k.pem().to_string(),
                roles: [crate::trust::Role::Skills].into(),
            });
        }
    }
    policy.require_all = true;
    policy
}

/// Verifies a local skill folder.
pub fn verify_folder(dir: &Path, policy: &Policy, extra: &[PublicKey]) -> VerifyReport {
    let mut report = VerifyReport {
        target: dir.display().to_string(),
        ok: false,
        signature: SignatureRecord::default(),
        files: 0,
        weight_files: 0,
        processor_files: 0,
        problems: Vec::new(),
    };
    let name = std::fs::read_to_string(dir.join(crate::corpus::MANIFEST_FILE))
        .ok()
        .and_then(|t| crate::validate::parse_valid(&t).ok())
        .map(|m| m.name);
    let org = name
        .as_deref()
        .and_then(|n| n.parse::<RepoId>().ok())
        .map(|r| r.org().to_string());
    let policy = policy_with(policy.clone(), org.as_deref().unwrap_or(""), extra);
    let trust = policy.for_org(org.as_deref().unwrap_or(""));
    report.signature.signed = dir.join(SIGNATURE_FILE).is_file();
    if !report.signature.signed {
        report.problems.push(format!(
            "{SIGNATURE_FILE}: missing: the folder is not signed"
        ));
        return report;
    }
    match rskill_signing::verify_folder(dir, &trust.public_keys()) {
        Ok(signed) => {
            if let Some(name) = &name
                && let Err(subject) = signature::check_subject(&signed, name)
            {
                report.problems.push(format!(
                    "{SIGNATURE_FILE}: the signature is for the model {subject:?}, not for \
                     {name} (the manifest's name): another skill's signed files copied here"
                ));
                return report;
            }
            report.signature.verified = true;
            report.signature.key_name = trust.name_of(&signed.key_id);
            report.signature.weights_locked = signed.digest_of(WEIGHTS_LOCK_FILE).is_some();
            report.signature.key_id = Some(signed.key_id);
            report.files = signed.resources.len();
            report.ok = true;
        }
        Err(rskill_signing::SigningError::Files(problems)) => {
            report
                .problems
                .extend(problems.iter().map(|p| p.to_string()));
        }
        Err(e) => report.problems.push(format!("{SIGNATURE_FILE}: {e}")),
    }
    report
}

/// Verifies a skill on the Hub at `revision` (default `main`).
pub async fn verify_hub(
    client: &HubClient,
    repo: &RepoId,
    revision: Option<&str>,
    policy: &Policy,
    extra: &[PublicKey],
) -> Result<VerifyReport, crate::hub::HubError> {
    let policy = policy_with(policy.clone(), repo.org(), extra);
    let info = client.repo_info(repo, revision).await?;
    let mut report = VerifyReport {
        target: format!("{repo}@{}", info.sha),
        ok: false,
        signature: SignatureRecord {
            signed: info.file(SIGNATURE_FILE).is_some(),
            ..SignatureRecord::default()
        },
        files: 0,
        weight_files: 0,
        processor_files: 0,
        problems: Vec::new(),
    };
    let verified =
        match signature::verify_repo(client, repo, &info.sha, &info.siblings, &policy, &|_| {})
            .await
        {
            Ok(v) => v,
            Err(e) => {
                report.problems.push(e.to_string());
                return Ok(report);
            }
        };
    report.signature = verified.record.clone();
    let Some(signed) = &verified.manifest else {
        return Ok(report);
    };
    // Every regular file read and hashed (LFS files were checked against the listing).
    let mut manifest_text = None;
    for s in info.siblings.iter().filter(|s| s.lfs.is_none()) {
        let Some(digest) = signed.digest_of(s.rfilename.as_str()) else {
            continue;
        };
        let bytes = client
            .read_file_at_most(
                repo,
                info.sha.as_str(),
                s.rfilename.as_str(),
                s.size.unwrap_or(0),
            )
            .await?;
        let actual = crate::digest::sha256_hex(&bytes);
        if actual != digest {
            report.problems.push(format!(
                "{}: content changed after signing (signed sha256 {digest}, actual {actual})",
                s.rfilename
            ));
        }
        if s.rfilename.as_str() == crate::corpus::MANIFEST_FILE {
            manifest_text = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    report.files = signed.resources.len();
    // The weights: the lock's commit is the one weights_uri resolves to, and the Hub
    // lists each locked file with the locked size and SHA-256.
    let manifest = manifest_text
        .as_deref()
        .and_then(|t| crate::validate::parse_valid(t).ok());
    if let Some(lock) = &verified.lock {
        let uri = manifest
            .as_ref()
            .and_then(|m| m.weights_uri.as_deref())
            .and_then(HfUri::parse);
        if let Some(uri) = uri {
            let upstream: RepoId = uri.repo.parse().map_err(crate::hub::HubError::Other)?;
            let up = client.repo_info(&upstream, uri.revision.as_deref()).await?;
            if lock.repo != upstream.as_str() || lock.commit != up.sha.as_str() {
                report.problems.push(format!(
                    "{WEIGHTS_LOCK_FILE}: pins {}@{} but weights_uri resolves to {upstream}@{}",
                    lock.repo, lock.commit, up.sha
                ));
            }
        }
        let locked: RepoId = lock.repo.parse().map_err(crate::hub::HubError::Other)?;
        let at = client.repo_info(&locked, Some(&lock.commit)).await?;
        for f in &lock.files {
            if !on_hub_as_pinned(client, &locked, &at, &f.path, f.size, &f.sha256).await? {
                report.problems.push(format!(
                    "{}/{}: not on the Hub as the signed weights lock pins it (sha256 {}, {} bytes)",
                    lock.repo, f.path, f.sha256, f.size
                ));
            }
            report.weight_files += 1;
        }
    }
    // The processors: each file a `processors` URI names is pinned (by the signature
    // for the skill repo's own files at this commit, else by the lock), and the Hub
    // lists it as pinned.
    if let Some(p) = manifest.as_ref().and_then(|m| m.processors.as_ref()) {
        for uri in [&p.preprocessor_uri, &p.postprocessor_uri] {
            let Some(parsed) = HfUri::parse(uri) else {
                continue;
            };
            let Some(path) = parsed.path.as_deref() else {
                continue;
            };
            let up: RepoId = parsed.repo.parse().map_err(crate::hub::HubError::Other)?;
            let at = client.repo_info(&up, parsed.revision.as_deref()).await?;
            report.processor_files += 1;
            if up == *repo && at.sha == info.sha && signed.digest_of(path).is_some() {
                continue; // a skill file, compared above
            }
            let pin = verified
                .lock
                .as_ref()
                .and_then(|l| l.processor(up.as_str(), at.sha.as_str(), path));
            let Some((size, sha256)) = pin else {
                report.problems.push(format!(
                    "{up}@{}/{path}: a processor ({uri}) that the signed {WEIGHTS_LOCK_FILE} \
                     does not pin",
                    crate::hub::repo::short_sha(at.sha.as_str())
                ));
                continue;
            };
            let sha256 = sha256.to_string();
            if !on_hub_as_pinned(client, &up, &at, path, size, &sha256).await? {
                report.problems.push(format!(
                    "{up}/{path}: not on the Hub as the signed weights lock pins it (sha256 {sha256}, {size} bytes)"
                ));
            }
        }
    }
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// Whether the Hub holds `path` of `repo` at `info`'s commit with the pinned size and
/// SHA-256: an LFS file by its listed digest, a regular file (no digest listed) read
/// whole (at most `size` bytes) and hashed.
async fn on_hub_as_pinned(
    client: &HubClient,
    repo: &RepoId,
    info: &crate::hub::RepoInfo,
    path: &str,
    size: u64,
    sha256: &str,
) -> Result<bool, crate::hub::HubError> {
    let Some(listed) = info.file(path) else {
        return Ok(false);
    };
    Ok(match &listed.lfs {
        Some(l) => l.sha256.as_str() == sha256 && l.size == size,
        None if listed.size != Some(size) => false,
        None => {
            let bytes = client
                .read_file_at_most(repo, info.sha.as_str(), path, size)
                .await?;
            crate::digest::sha256_hex(&bytes) == sha256
        }
    })
}
