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
    if let Some(lock) = &verified.lock {
        let uri = manifest_text
            .as_deref()
            .and_then(|t| crate::validate::parse_valid(t).ok())
            .and_then(|m| m.weights_uri)
            .and_then(|u| HfUri::parse(&u));
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
            let listed = at.file(&f.path);
            let ok = listed.is_some_and(|s| match &s.lfs {
                Some(l) => l.sha256.as_str() == f.sha256 && l.size == f.size,
                None => s.size == Some(f.size),
            });
            if !ok {
                report.problems.push(format!(
                    "{}/{}: not on the Hub as the signed weights lock pins it (sha256 {}, {} bytes)",
                    lock.repo, f.path, f.sha256, f.size
                ));
            }
            report.weight_files += 1;
        }
    }
    report.ok = report.problems.is_empty();
    Ok(report)
}
