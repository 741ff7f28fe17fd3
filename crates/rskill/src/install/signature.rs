//! Verifying a skill before it is activated: its OMS signature against the trust
//! policy (and its subject against the repo), the skill repo's file list against the
//! signed one (files the signature does not cover are left out of the install), the
//! signed weights lock against the weights and processors the install resolves, and —
//! by handing the signed digests to the
//! downloader, which hashes while downloading — every downloaded byte against them,
//! with no second pass. A verified signature makes any difference fatal, whatever the
//! policy; the policy only decides what an unsigned or unverifiable skill gets.

use serde::{Deserialize, Serialize};

use crate::hub::download::FileSpec;
use crate::hub::ids::{CommitId, Sha256};
use crate::hub::{HubClient, HubError, RepoId, Sibling};
use crate::trust::Policy;
use rskill_signing::bundle::MAX_SIGNATURE_BYTES;
use rskill_signing::folder::{Resource, is_ignored};
use rskill_signing::weights_lock::{MAX_LOCK_BYTES, WEIGHTS_LOCK_FILE, WeightsLock};
use rskill_signing::{Bundle, FileProblem, SIGNATURE_FILE, SignedManifest, compare};

use super::plan::InstallPlan;

/// Why a signed skill was refused. Every message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{repo} is not signed, and the trust policy requires signed skills for {org}")]
    Unsigned { repo: String, org: String },
    #[error("{repo}: {reason}")]
    Unverifiable { repo: String, reason: String },
    #[error("{repo}: {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Files {
        repo: String,
        problems: Vec<FileProblem>,
    },
    #[error("{repo}: {WEIGHTS_LOCK_FILE}: {problem}")]
    Lock { repo: String, problem: String },
    #[error(
        "{repo}: {} not pinned by the signed {WEIGHTS_LOCK_FILE} (processor file(s) of the \
         manifest's `processors`), and the trust policy requires signed skills",
        files.join(", ")
    )]
    Unpinned { repo: String, files: Vec<String> },
    #[error(
        "{repo}: {SIGNATURE_FILE}: the signature is for the model {subject:?}, not for {repo} \
         (another repo's signed files copied here)"
    )]
    Subject { repo: String, subject: String },
    #[error(
        "{path}: does not match the signed {what} (signed sha256 {expected}, downloaded {actual}); discarded"
    )]
    Download {
        path: String,
        what: &'static str,
        expected: String,
        actual: String,
    },
}

impl SignatureError {
    pub fn hint(&self) -> String {
        match self {
            SignatureError::Unsigned { org, .. } => format!(
                "ask the publisher to sign it (rskill-publisher --sign-key), or relax the policy: \
                 `rskill trust add {org} --key PUB.pem --mode warn`"
            ),
            SignatureError::Unverifiable { .. } => {
                "trust the publisher's key (`rskill trust add ORG --key PUB.pem`) if it is genuine; \
                 otherwise the skill was tampered with"
                    .into()
            }
            SignatureError::Unpinned { .. } => {
                "ask the publisher to re-publish with this rskill-publisher --sign-key (it pins \
                 processors in the lock), or relax the policy: `rskill trust add ORG --key PUB.pem --mode warn`"
                    .into()
            }
            _ => "the skill or its weights changed after signing: do not use it; tell its publisher".into(),
        }
    }
}

/// The signature state of a skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SignatureRecord {
    /// It carries a signature file.
    pub signed: bool,
    /// The signature verified with a trusted key.
    pub verified: bool,
    /// The key id the signature names (or verified with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The trusted key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// The weights are pinned by a signed weights lock.
    pub weights_locked: bool,
    /// Files of the skill repo the signature does not cover, left out of the install.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Processor files installed without a signed pin (allowed only when signatures
    /// are not required).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpinned: Vec<String>,
}

/// What verification established, used to pin every download.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub record: SignatureRecord,
    pub manifest: Option<SignedManifest>,
    pub lock: Option<WeightsLock>,
    /// Files of the plan pinned to a signed digest (set by [`pin_plan`]'s caller).
    pub pinned: usize,
}

/// Checks the signature of `repo` at `commit` (whose files are `siblings`) against the
/// policy. Reads the signature and the lock without caching them; `warn` goes to `warn`.
pub async fn verify_repo(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    siblings: &[Sibling],
    policy: &Policy,
    warn: &dyn Fn(&str),
) -> Result<Verified, crate::install::InstallError> {
    let org = repo.org().to_string();
    let trust = policy.for_org(&org);
    let has = |name: &str| siblings.iter().any(|s| s.rfilename.as_str() == name);
    if !has(SIGNATURE_FILE) {
        if trust.required {
            return Err(SignatureError::Unsigned {
                repo: repo.to_string(),
                org,
            }
            .into());
        }
        if trust.has_policy {
            warn(&format!(
                "warning: {repo} is not signed (policy for {org}: warn)"
            ));
        }
        return Ok(Verified::default());
    }
    let bytes = read_small(client, repo, commit, SIGNATURE_FILE, MAX_SIGNATURE_BYTES).await?;
    let bundle = Bundle::parse(&bytes);
    let claimed = bundle
        .as_ref()
        .ok()
        .and_then(|b| b.key_hint())
        .map(str::to_string);
    let signed = match bundle.and_then(|b| b.verify(&trust.public_keys())) {
        Ok(m) => m,
        Err(e) => {
            let reason = format!("{SIGNATURE_FILE}: {e}");
            if trust.required {
                return Err(SignatureError::Unverifiable {
                    repo: repo.to_string(),
                    reason,
                }
                .into());
            }
            warn(&format!(
                "warning: {repo}: signature not verified: {reason}"
            ));
            return Ok(Verified {
                record: SignatureRecord {
                    signed: true,
                    key_id: claimed,
                    ..SignatureRecord::default()
                },
                ..Verified::default()
            });
        }
    };
    // The statement names the model it signs: another repo's signature (with its files)
    // copied here verifies with the same key, but names that other repo.
    check_subject(&signed, repo.as_str()).map_err(|subject| SignatureError::Subject {
        repo: repo.to_string(),
        subject,
    })?;
    // The repo's files against the signed list (names and, where the Hub lists one, the
    // LFS SHA-256), before anything is downloaded.
    let listed: Vec<Resource> = siblings
        .iter()
        .filter(|s| !is_ignored(s.rfilename.as_str()))
        .map(|s| Resource {
            name: s.rfilename.to_string(),
            sha256: match (&s.lfs, signed.digest_of(s.rfilename.as_str())) {
                (Some(lfs), _) => lfs.sha256.as_str().to_string(),
                // Regular files: the Hub gives no SHA-256; checked while downloading.
                (None, Some(d)) => d.to_string(),
                (None, None) => String::new(),
            },
        })
        .collect();
    let problems = compare(&signed.resources, &listed);
    if !problems.is_empty() {
        return Err(SignatureError::Files {
            repo: repo.to_string(),
            problems,
        }
        .into());
    }
    let lock = match signed.digest_of(WEIGHTS_LOCK_FILE) {
        None => None,
        Some(digest) => {
            let bytes = read_small(client, repo, commit, WEIGHTS_LOCK_FILE, MAX_LOCK_BYTES).await?;
            let actual = crate::digest::sha256_hex(&bytes);
            if actual != digest {
                return Err(SignatureError::Files {
                    repo: repo.to_string(),
                    problems: vec![FileProblem::Changed {
                        name: WEIGHTS_LOCK_FILE.into(),
                        signed: digest.to_string(),
                        actual,
                    }],
                }
                .into());
            }
            Some(
                WeightsLock::parse(&bytes).map_err(|e| SignatureError::Lock {
                    repo: repo.to_string(),
                    problem: e.0,
                })?,
            )
        }
    };
    Ok(Verified {
        record: SignatureRecord {
            signed: true,
            verified: true,
            key_name: trust.name_of(&signed.key_id),
            key_id: Some(signed.key_id.clone()),
            weights_locked: lock.is_some(),
            ..SignatureRecord::default()
        },
        manifest: Some(signed),
        lock,
        pinned: 0,
    })
}

/// `Err(subject)` when the signed statement's subject is not `name` (the repo id, or a
/// folder's manifest `name`).
pub fn check_subject(signed: &SignedManifest, name: &str) -> Result<(), String> {
    if signed.name == name {
        Ok(())
    } else {
        Err(signed.name.clone())
    }
}

/// What pinning a plan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pinning {
    /// Files whose download is checked against a signed digest.
    pub pinned: usize,
    /// Files of the skill repo the signature does not cover (its `ignore_paths`:
    /// `.github/`, `.gitignore`, the governance file …), left out of the install.
    pub left_out: Vec<String>,
    /// Processor files no signed digest pins (`org/repo@commit/path`).
    pub unpinned: Vec<String>,
}

/// Pins every file of the plan to its signed digest: skill files (at the verified
/// `commit`) to the signature's, weight files to the weights lock's (which must name
/// the commit the weights resolved to, and every weight file the install fetches),
/// processor files to the lock's processor pins. Skill files the signature does not
/// cover leave the plan (the signature file itself stays: offline reinstalls verify
/// it); processors without a pin are reported for the caller's policy to decide.
pub fn pin_plan(
    skill: &RepoId,
    commit: &CommitId,
    plan: &mut InstallPlan,
    verified: &Verified,
) -> Result<Pinning, SignatureError> {
    let mut pinning = Pinning::default();
    let Some(signed) = &verified.manifest else {
        return Ok(pinning);
    };
    let lock_err = |problem: String| SignatureError::Lock {
        repo: skill.to_string(),
        problem,
    };
    if let (Some(w), None) = (&plan.weights, &verified.lock) {
        return Err(lock_err(format!(
            "missing: the signature pins no weights, but the skill installs {}; \
             re-publish with rskill-publisher --sign-key",
            w.repo
        )));
    }
    if let (Some(w), Some(lock)) = (&plan.weights, &verified.lock)
        && (lock.repo != w.repo || lock.commit != w.commit.as_str())
    {
        return Err(lock_err(format!(
            "pins {}@{} but weights_uri resolves to {}@{}: the weights moved since signing",
            lock.repo,
            short(&lock.commit),
            w.repo,
            short(w.commit.as_str())
        )));
    }
    let processors = plan.processors.clone();
    let mut keep = Vec::with_capacity(plan.files.len());
    for spec in &mut plan.files {
        let path = spec.path.to_string();
        if spec.repo == *skill && spec.commit == *commit {
            if let Some(d) = signed.digest_of(&path) {
                pin(spec, d, None);
                pinning.pinned += 1;
                keep.push(true);
            } else {
                // Not in the signed list, yet not refused by the file-list check: one
                // of the signature's ignore paths. Only the signature itself installs.
                let is_signature = path == SIGNATURE_FILE;
                if !is_signature {
                    pinning.left_out.push(path);
                }
                keep.push(is_signature);
            }
            continue;
        }
        keep.push(true);
        let is_processor = processors
            .iter()
            .any(|p| p.repo == spec.repo && p.commit == spec.commit && p.path == path);
        let Some(lock) = &verified.lock else {
            if is_processor {
                pinning.unpinned.push(format!(
                    "{}@{}/{path}",
                    spec.repo,
                    short(spec.commit.as_str())
                ));
            }
            continue;
        };
        let locked = if is_processor {
            match lock.processor(spec.repo.as_str(), spec.commit.as_str(), &path) {
                Some(p) => p,
                None => {
                    pinning.unpinned.push(format!(
                        "{}@{}/{path}",
                        spec.repo,
                        short(spec.commit.as_str())
                    ));
                    continue;
                }
            }
        } else {
            match lock.file(&path) {
                Some(f) if spec.repo.as_str() == lock.repo => (f.size, f.sha256.as_str()),
                _ => {
                    return Err(lock_err(format!(
                        "{}/{} is installed but not in the signed weights lock",
                        spec.repo, spec.path
                    )));
                }
            }
        };
        let (size, sha256) = locked;
        if let Some(hub) = &spec.sha256
            && hub.as_str() != sha256
        {
            return Err(lock_err(format!(
                "{}/{}: the Hub lists sha256 {} but the signed lock pins {}",
                spec.repo, spec.path, hub, sha256
            )));
        }
        if spec.size.is_some_and(|s| s != size) {
            return Err(lock_err(format!(
                "{}/{}: the Hub lists {} bytes but the signed lock pins {}",
                spec.repo,
                spec.path,
                spec.size.unwrap_or(0),
                size
            )));
        }
        let sha256 = sha256.to_string();
        pin(spec, &sha256, Some(size));
        pinning.pinned += 1;
    }
    let mut keep = keep.into_iter();
    plan.files.retain(|_| keep.next().unwrap_or(true));
    Ok(pinning)
}

fn pin(spec: &mut FileSpec, sha256: &str, size: Option<u64>) {
    if let Ok(s) = sha256.parse::<Sha256>() {
        spec.sha256 = Some(s);
    }
    if size.is_some() {
        spec.size = size;
    }
}

/// Turns the downloader's checksum error on a pinned file into one that says which
/// signed digest it failed.
pub fn explain_download(
    e: HubError,
    skill: &RepoId,
    verified: &Verified,
) -> crate::install::InstallError {
    if verified.manifest.is_some()
        && let HubError::Integrity {
            path,
            expected,
            actual,
        } = &e
    {
        let what = if path.starts_with(&format!("{skill}/")) {
            "signature"
        } else {
            "weights lock"
        };
        return SignatureError::Download {
            path: path.clone(),
            what,
            expected: expected.clone(),
            actual: actual.clone(),
        }
        .into();
    }
    e.into()
}

/// A small file of the skill repo, read whole without caching it (it is checked before
/// anything trusts it); offline, from the cache's snapshot (blobs checked against their
/// content-addressed names), since an earlier install downloaded it.
pub async fn read_small(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    path: &str,
    limit: u64,
) -> Result<Vec<u8>, HubError> {
    if client.env().offline {
        let cache = crate::hub::cache::RepoCache::new(&client.env().hub_cache, repo);
        let rel: crate::hub::ids::RepoPath = path
            .parse()
            .map_err(|e| HubError::Other(format!("{path}: {e}")))?;
        return cache
            .read_small(commit, &rel)
            .filter(|b| b.len() as u64 <= limit)
            .ok_or_else(|| HubError::Offline {
                what: format!("read {path} of {repo}: it is not in the cache"),
            });
    }
    client
        .read_file_at_most(repo, commit.as_str(), path, limit)
        .await
}

fn short(c: &str) -> &str {
    &c[..c.len().min(12)]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_governance_file_is_outside_the_signed_set() {
        assert_eq!(
            rskill_signing::folder::GOVERNANCE_FILE,
            crate::lifecycle::remote::REGISTRY_FILE
        );
        assert!(rskill_signing::folder::is_ignored(
            crate::lifecycle::remote::REGISTRY_FILE
        ));
    }
}
