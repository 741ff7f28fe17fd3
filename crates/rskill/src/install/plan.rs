//! Which files an install fetches: every file of the skill repo at its commit, the
//! weights its `weights_uri` names (ONNX with external data, a safetensors file, or a
//! sharded set with its index), small configs beside them, and the per-file
//! `processors` URIs. Online from repo info; offline from the cache's snapshots.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::hub::cache::{RepoCache, link_blob};
use crate::hub::download::FileSpec;
use crate::hub::ids::{BlobId, CommitId, RepoPath};
use crate::hub::{HubClient, HubError, RepoId, Sibling};
use crate::manifest::{Manifest, Runtime};
use crate::publish::bump::HfUri;

/// Small upstream JSON files (configs, indexes) fetched beside the weights.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// An upstream repo at the commit its URI resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub repo: String,
    pub revision: Option<String>,
    pub commit: CommitId,
}

/// A processor file a `processors` URI names, where it resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorFile {
    pub repo: RepoId,
    pub commit: CommitId,
    pub path: String,
}

/// Everything an install will fetch.
#[derive(Debug, Clone)]
pub struct InstallPlan {
    pub files: Vec<FileSpec>,
    pub weights: Option<Pinned>,
    /// The processor files, each in its upstream repo at the commit its URI resolved to.
    pub processors: Vec<ProcessorFile>,
    /// Every file of the weights repo at its pinned commit, fetched or not (its `*.py`
    /// files are remote code).
    pub weights_repo_files: Vec<String>,
}

impl InstallPlan {
    /// The Python files the weights repo ships.
    pub fn weights_python_files(&self) -> Vec<String> {
        self.weights_repo_files
            .iter()
            .filter(|f| f.to_ascii_lowercase().ends_with(".py"))
            .cloned()
            .collect()
    }
}

/// Weight files of an upstream repo, in the format the runtime prefers.
pub fn select_weight_files(siblings: &[Sibling], runtime: Runtime) -> Vec<&Sibling> {
    let is = |s: &Sibling, ext: &str| s.rfilename.as_str().to_ascii_lowercase().ends_with(ext);
    let onnx: Vec<&Sibling> = siblings
        .iter()
        .filter(|s| is(s, ".onnx") || is(s, ".onnx_data") || is(s, ".onnx.data"))
        .collect();
    let safetensors: Vec<&Sibling> = siblings
        .iter()
        .filter(|s| {
            is(s, ".safetensors") || s.rfilename.as_str().ends_with(".safetensors.index.json")
        })
        .collect();
    let pickles: Vec<&Sibling> = siblings
        .iter()
        .filter(|s| crate::license::is_pickle_file(s.rfilename.as_str()))
        .collect();
    let mut chosen = match (
        runtime == Runtime::Onnx,
        onnx.is_empty(),
        safetensors.is_empty(),
    ) {
        (true, false, _) => onnx,
        (_, _, false) => safetensors,
        (_, false, true) => onnx,
        _ => pickles,
    };
    for s in siblings {
        let small_json = is(s, ".json") && s.size.unwrap_or(u64::MAX) <= MAX_CONFIG_BYTES;
        if small_json
            && !s.rfilename.as_str().contains('/')
            && !chosen.iter().any(|c| c.rfilename == s.rfilename)
        {
            chosen.push(s);
        }
    }
    chosen.sort_by(|a, b| a.rfilename.cmp(&b.rfilename));
    chosen
}

/// Plans an install of `skill` at `commit` with its parsed `manifest`.
pub async fn plan(
    client: &HubClient,
    skill: &RepoId,
    commit: &CommitId,
    manifest: &Manifest,
) -> Result<InstallPlan, HubError> {
    let mut files: Vec<FileSpec> = skill_files(client, skill, commit).await?;
    let mut weights = None;
    let mut weights_repo_files = Vec::new();
    if let Some(uri) = &manifest.weights_uri {
        if uri.starts_with("local://") {
            // A manifest from a Hub must not name files of the installing machine.
            return Err(HubError::Other(format!(
                "{skill}: weights_uri {uri} names a file of this machine; local:// weights \
                 are accepted only for in-tree skills, never from a manifest fetched from a \
                 Hub (the publisher must point weights_uri at an hf:// repo)"
            )));
        } else if let Some(parsed) = HfUri::parse(uri) {
            let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
            let (commit, siblings) =
                resolve_upstream(client, &repo, parsed.revision.as_deref()).await?;
            weights_repo_files = siblings.iter().map(|s| s.rfilename.to_string()).collect();
            let chosen = select_weight_files(&siblings, manifest.runtime);
            if chosen.is_empty() {
                return Err(HubError::Other(format!(
                    "{repo}@{} holds no weights rskill can load (safetensors or ONNX)",
                    crate::hub::repo::short_sha(commit.as_str())
                )));
            }
            files.extend(
                chosen
                    .into_iter()
                    .map(|s| FileSpec::from_sibling(&repo, &commit, s)),
            );
            weights = Some(Pinned {
                repo: repo.to_string(),
                revision: parsed.revision,
                commit,
            });
        }
    }
    let mut processors = Vec::new();
    if let Some(p) = &manifest.processors {
        for uri in [&p.preprocessor_uri, &p.postprocessor_uri] {
            let Some(parsed) = HfUri::parse(uri) else {
                continue;
            };
            let Some(path) = parsed.path.clone() else {
                continue;
            };
            let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
            let (commit, siblings) =
                resolve_upstream(client, &repo, parsed.revision.as_deref()).await?;
            let sibling = siblings
                .iter()
                .find(|s| s.rfilename == path)
                .ok_or_else(|| HubError::EntryNotFound {
                    repo: repo.to_string(),
                    revision: commit.to_string(),
                    path: path.clone(),
                })?;
            let spec = FileSpec::from_sibling(&repo, &commit, sibling);
            if !files
                .iter()
                .any(|f| f.repo == spec.repo && f.path == spec.path && f.commit == spec.commit)
            {
                files.push(spec);
            }
            processors.push(ProcessorFile { repo, commit, path });
        }
    }
    Ok(InstallPlan {
        files,
        weights,
        processors,
        weights_repo_files,
    })
}

/// The files of the skill repo at `commit`.
async fn skill_files(
    client: &HubClient,
    skill: &RepoId,
    commit: &CommitId,
) -> Result<Vec<FileSpec>, HubError> {
    let (_, siblings) = resolve_upstream(client, skill, Some(commit.as_str())).await?;
    Ok(siblings
        .iter()
        .filter(|s| s.rfilename != ".gitattributes")
        .map(|s| FileSpec::from_sibling(skill, commit, s))
        .collect())
}

/// The commit a revision points to and the files there: from the Hub, or offline
/// from the cache (refs and snapshot listing, digests from the blob names).
pub async fn resolve_upstream(
    client: &HubClient,
    repo: &RepoId,
    revision: Option<&str>,
) -> Result<(CommitId, Vec<Sibling>), HubError> {
    let rev = revision.unwrap_or("main");
    let rev_path = rev.parse::<RepoPath>().ok();
    if !client.env().offline {
        let info = client.repo_info(repo, revision).await?;
        let cache = RepoCache::new(&client.env().hub_cache, repo);
        if let Some(r) = &rev_path {
            let _ = cache.write_ref(r, &info.sha);
        }
        return Ok((info.sha, info.siblings));
    }
    let cache = RepoCache::new(&client.env().hub_cache, repo);
    let commit = match rev.parse::<CommitId>() {
        Ok(c) => c,
        Err(_) => rev_path
            .and_then(|r| cache.read_ref(&r))
            .ok_or_else(|| HubError::Offline {
                what: format!("resolve {repo}@{rev}: it is not in the cache (missing refs/{rev})"),
            })?,
    };
    let dir = cache.snapshot_dir(&commit);
    if !dir.is_dir() {
        return Err(HubError::Offline {
            what: format!(
                "install {repo}@{}: no snapshot in the cache",
                crate::hub::repo::short_sha(commit.as_str())
            ),
        });
    }
    let mut siblings = Vec::new();
    collect_snapshot(&dir, "", &mut siblings);
    siblings.sort_by(|a, b| a.rfilename.cmp(&b.rfilename));
    Ok((commit, siblings))
}

/// Lists a snapshot; each link's blob name is the file's digest (64 hex: SHA-256 of
/// an LFS file; 40 hex: git blob id). Entries whose name is not a safe repo path, or
/// whose link is not one this cache makes (into its own `blobs/`), are skipped.
fn collect_snapshot(dir: &Path, prefix: &str, out: &mut Vec<Sibling>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = e.path();
        // Not followed when a link: a snapshot folder is always a real folder.
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_snapshot(&path, &rel, out);
            continue;
        }
        let Ok(rfilename) = rel.parse::<RepoPath>() else {
            continue;
        };
        let Ok(target) = std::fs::read_link(&path) else {
            continue;
        };
        let Some(blob) = link_blob(&target, rfilename.depth()) else {
            continue;
        };
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        let (lfs, blob_id) = match blob {
            BlobId::Lfs(sha256) => (
                Some(crate::hub::repo::LfsInfo {
                    sha256,
                    size: size.unwrap_or(0),
                }),
                None,
            ),
            BlobId::Git(g) => (None, Some(g)),
        };
        out.push(Sibling {
            rfilename,
            size,
            blob_id,
            lfs,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, size: u64) -> Sibling {
        Sibling {
            rfilename: name.parse().unwrap(),
            size: Some(size),
            blob_id: None,
            lfs: None,
        }
    }

    fn names(v: Vec<&Sibling>) -> Vec<&str> {
        v.into_iter().map(|s| s.rfilename.as_str()).collect()
    }

    #[test]
    fn weight_selection_follows_the_runtime() {
        let files = vec![
            s("model.onnx", 10),
            s("model.onnx_data", 10),
            s("model.safetensors", 10),
            s("config.json", 10),
            s("big.json", 10 << 20),
            s("README.md", 1),
            s("pytorch_model.bin", 10),
        ];
        assert_eq!(
            names(select_weight_files(&files, Runtime::Onnx)),
            vec!["config.json", "model.onnx", "model.onnx_data"]
        );
        assert_eq!(
            names(select_weight_files(&files, Runtime::Pytorch)),
            vec!["config.json", "model.safetensors"]
        );
        let sharded = vec![
            s("model-00001-of-00002.safetensors", 1),
            s("model-00002-of-00002.safetensors", 1),
            s("model.safetensors.index.json", 1),
        ];
        assert_eq!(select_weight_files(&sharded, Runtime::Pytorch).len(), 3);
        let pickled = vec![s("pytorch_model.bin", 1)];
        assert_eq!(
            names(select_weight_files(&pickled, Runtime::Pytorch)),
            vec!["pytorch_model.bin"]
        );
    }
}
