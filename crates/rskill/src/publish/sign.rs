//! Signing a publish: the weights lock (the upstream repo, its resolved commit and
//! each weight file's size and SHA-256, read from the Hub now) and the OMS signature
//! over every file of the skill plus that lock. Both go into the publish's one commit,
//! so the Hub never holds a skill whose signature and files disagree.

use bytes::Bytes;

use crate::digest::sha256_hex;
use crate::hub::{HubClient, HubError, RepoId};
use crate::install::plan::select_weight_files;
use crate::manifest::Manifest;
use crate::publish::bump::HfUri;
use rskill_signing::folder::{Resource, is_ignored, sort_canonical};
use rskill_signing::weights_lock::{LockedFile, WEIGHTS_LOCK_FILE, WeightsLock};
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

/// The weights lock of `manifest`'s `hf://` weights, read from the Hub; `None` when
/// the skill has no upstream weights.
pub async fn weights_lock(
    client: &HubClient,
    manifest: &Manifest,
) -> Result<Option<WeightsLock>, HubError> {
    let Some(parsed) = manifest.weights_uri.as_deref().and_then(HfUri::parse) else {
        return Ok(None);
    };
    let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
    let info = client.repo_info(&repo, parsed.revision.as_deref()).await?;
    let mut files = Vec::new();
    for s in select_weight_files(&info.siblings, manifest.runtime) {
        let (size, sha256) = match (&s.lfs, s.size) {
            (Some(lfs), _) => (lfs.size, lfs.sha256.as_str().to_string()),
            // A small regular file (a config): the Hub lists no SHA-256 for it, so read it.
            (None, Some(size)) => {
                let bytes = client
                    .read_file_at_most(&repo, info.sha.as_str(), s.rfilename.as_str(), size)
                    .await?;
                (bytes.len() as u64, sha256_hex(&bytes))
            }
            (None, None) => {
                return Err(HubError::Other(format!(
                    "{repo}: {} has no size on the Hub; cannot lock it",
                    s.rfilename
                )));
            }
        };
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
    }))
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
    if let Some(lock) = weights_lock(client, manifest).await? {
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
