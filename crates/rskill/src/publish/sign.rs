//! Signing a publish: the weights lock (the upstream repo, its resolved commit and
//! each weight file's size and SHA-256, and each processor file the manifest names, read
//! from the Hub now) and the OMS signature
//! over every file of the skill plus that lock. Both go into the publish's one commit,
//! so the Hub never holds a skill whose signature and files disagree.

use bytes::Bytes;

use crate::digest::sha256_hex;
use crate::hub::ids::CommitId;
use crate::hub::{HubClient, HubError, RepoId, Sibling};
use crate::install::plan::select_weight_files;
use crate::manifest::Manifest;
use crate::publish::bump::HfUri;
use rskill_signing::folder::{Resource, is_ignored, sort_canonical};
use rskill_signing::weights_lock::{LockedFile, LockedProcessor, WEIGHTS_LOCK_FILE, WeightsLock};
use rskill_signing::{PrivateKey, SIGNATURE_FILE, bundle, statement};

use super::plan::Plan;

/// Environment variable naming a signing key file when `--sign-key` is not given.
pub const SIGN_KEY_ENV: &str = "RSKILL_SIGN_KEY";

/// A file the publisher generates into the commit (not read from the skill folder).
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: String,
    pub bytes: Bytes,
}

impl Generated {
    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }
}

/// The weights lock of `manifest`'s `hf://` weights, read from the Hub, with every
/// processor file its `processors` URIs name in other repos than `skill` (files of the
/// skill repo itself are covered by the signature); `None` when the skill has no
/// upstream weights.
pub async fn weights_lock(
    client: &HubClient,
    skill: &RepoId,
    manifest: &Manifest,
) -> Result<Option<WeightsLock>, HubError> {
    let Some(parsed) = manifest.weights_uri.as_deref().and_then(HfUri::parse) else {
        return Ok(None);
    };
    let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
    let info = client.repo_info(&repo, parsed.revision.as_deref()).await?;
    let mut files = Vec::new();
    for s in select_weight_files(&info.siblings, manifest.runtime) {
        let (size, sha256) = locked_digest(client, &repo, &info.sha, s).await?;
        files.push(LockedFile {
            path: s.rfilename.to_string(),
            size,
            sha256,
        });
    }
    Ok(Some(WeightsLock {
        version: 1,
        repo: repo.to_string(),
        commit: info.sha.to_string(),
        files,
        processors: processor_pins(client, skill, manifest).await?,
    }))
}

/// The pins of the processor files `manifest` names outside the skill repo.
async fn processor_pins(
    client: &HubClient,
    skill: &RepoId,
    manifest: &Manifest,
) -> Result<Vec<LockedProcessor>, HubError> {
    let mut out: Vec<LockedProcessor> = Vec::new();
    let Some(p) = &manifest.processors else {
        return Ok(out);
    };
    for uri in [&p.preprocessor_uri, &p.postprocessor_uri] {
        let Some(parsed) = HfUri::parse(uri) else {
            continue;
        };
        let Some(path) = parsed.path.as_deref() else {
            continue;
        };
        let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
        if repo == *skill {
            continue;
        }
        let info = client.repo_info(&repo, parsed.revision.as_deref()).await?;
        let sibling = info.file(path).ok_or_else(|| HubError::EntryNotFound {
            repo: repo.to_string(),
            revision: info.sha.to_string(),
            path: path.to_string(),
        })?;
        let (size, sha256) = locked_digest(client, &repo, &info.sha, sibling).await?;
        let pin = LockedProcessor {
            repo: repo.to_string(),
            commit: info.sha.to_string(),
            path: path.to_string(),
            size,
            sha256,
        };
        if !out.contains(&pin) {
            out.push(pin);
        }
    }
    Ok(out)
}

/// Size and SHA-256 of one upstream file: the Hub's LFS record, or for a small regular
/// file (a config: the Hub lists no SHA-256 for it) its bytes read and hashed.
async fn locked_digest(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
    s: &Sibling,
) -> Result<(u64, String), HubError> {
    match (&s.lfs, s.size) {
        (Some(lfs), _) => Ok((lfs.size, lfs.sha256.as_str().to_string())),
        (None, Some(size)) => {
            let bytes = client
                .read_file_at_most(repo, commit.as_str(), s.rfilename.as_str(), size)
                .await?;
            Ok((bytes.len() as u64, sha256_hex(&bytes)))
        }
        (None, None) => Err(HubError::Other(format!(
            "{repo}: {} has no size on the Hub; cannot lock it",
            s.rfilename
        ))),
    }
}

/// The generated files of a signed publish: the weights lock (when the skill has
/// upstream weights) and the signature over the skill's files and that lock.
pub async fn signed_files(
    client: &HubClient,
    plan: &Plan,
    repo: &RepoId,
    key: &PrivateKey,
) -> Result<Vec<Generated>, HubError> {
    let manifest = plan
        .manifest()
        .ok_or_else(|| HubError::Other("no valid manifest to sign".into()))?;
    let mut generated = Vec::new();
    if let Some(lock) = weights_lock(client, repo, manifest).await? {
        generated.push(Generated {
            path: WEIGHTS_LOCK_FILE.into(),
            bytes: Bytes::from(lock.to_json()),
        });
    }
    let mut resources: Vec<Resource> = plan
        .selection
        .files
        .iter()
        .filter(|f| !is_ignored(&f.path_in_repo) && f.path_in_repo != WEIGHTS_LOCK_FILE)
        .map(|f| Resource {
            name: f.path_in_repo.clone(),
            sha256: f.sha256.clone(),
        })
        .chain(generated.iter().map(|g| Resource {
            name: g.path.clone(),
            sha256: g.sha256(),
        }))
        .collect();
    sort_canonical(&mut resources);
    let st = statement::build(repo.as_str(), &resources);
    let signed = bundle::sign(&st, key).map_err(|e| HubError::Other(e.to_string()))?;
    generated.push(Generated {
        path: SIGNATURE_FILE.into(),
        bytes: Bytes::from(signed.to_json()),
    });
    Ok(generated)
}
