//! Seeding a Hub-compatible server with the upstream repos a corpus points to
//! (`weights_uri`, per-file `processors` URIs), holding small generated but genuine
//! weights: safetensors files (one repo sharded, with its index) and ONNX graphs that
//! ONNX Runtime loads (one with external data). Pinned revisions become tags. This is
//! what lets an offline machine try `rskill install` end to end.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::fixtures::{self, Dtype, OnnxSpec};
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubError, RepoId};
use rskill_hub_protocol::hf_uri::HfUri;
use rskill_manifest::manifest::{Manifest, Runtime};

/// An upstream repo to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub repo: RepoId,
    /// Revisions the corpus pins (created as tags).
    pub tags: BTreeSet<String>,
    /// ONNX weights instead of safetensors.
    pub onnx: bool,
    /// Files the corpus names inside the repo (processors).
    pub extra_files: BTreeSet<String>,
}

/// What seeding did for one repo.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub repo: RepoId,
    pub files: Vec<String>,
    pub tags: Vec<String>,
    pub skipped: bool,
}

/// The upstream repos of a set of manifests, merged by repo.
pub fn upstreams(manifests: &[Manifest]) -> Result<Vec<Upstream>, String> {
    let mut map: BTreeMap<RepoId, Upstream> = BTreeMap::new();
    let mut add = |uri: &str, onnx: bool, is_weights: bool| -> Result<(), String> {
        let Some(parsed) = HfUri::parse(uri) else {
            return Ok(());
        };
        let repo: RepoId = parsed.repo.parse()?;
        let entry = map.entry(repo.clone()).or_insert_with(|| Upstream {
            repo,
            tags: BTreeSet::new(),
            onnx: false,
            extra_files: BTreeSet::new(),
        });
        if let Some(rev) = parsed.revision {
            let is_sha = rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit());
            if !is_sha {
                entry.tags.insert(rev);
            }
        }
        if is_weights {
            entry.onnx |= onnx;
        }
        if let Some(path) = parsed.path {
            entry.extra_files.insert(path);
        }
        Ok(())
    };
    for m in manifests {
        if let Some(w) = &m.weights_uri {
            add(w, m.runtime == Runtime::Onnx, true)?;
        }
        if let Some(p) = &m.processors {
            add(&p.preprocessor_uri, false, false)?;
            add(&p.postprocessor_uri, false, false)?;
        }
    }
    Ok(map.into_values().collect())
}

/// A stable seed for a repo's generated numbers.
fn seed_of(repo: &RepoId) -> u64 {
    repo.as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

/// The files of an upstream repo.
pub fn files_for(up: &Upstream) -> Vec<(String, Vec<u8>)> {
    let seed = seed_of(&up.repo);
    let name = up.repo.name().to_ascii_lowercase();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let observation_dim = 16;
    let action_dim = 7;
    if up.onnx {
        let spec = OnnxSpec {
            observation_dim,
            action_dim,
            seed,
            ..OnnxSpec::default()
        };
        if name.contains("owlv2") {
            let (model, data) = fixtures::onnx_model_with_external_data(&spec, "model.onnx_data");
            files.push(("model.onnx".into(), model));
            files.push(("model.onnx_data".into(), data));
        } else {
            files.push(("model.onnx".into(), fixtures::onnx_model_bytes(&spec)));
        }
    } else {
        let tensors: Vec<(&str, Dtype, Vec<usize>)> = vec![
            (
                "policy.encoder.weight",
                Dtype::F32,
                vec![64, observation_dim],
            ),
            ("policy.encoder.bias", Dtype::F32, vec![64]),
            ("policy.head.weight", Dtype::F32, vec![action_dim, 64]),
            ("policy.head.bias", Dtype::F32, vec![action_dim]),
        ];
        if name.contains("pi05") || name.contains("gr00t") {
            files.extend(fixtures::sharded_safetensors(2, &tensors, seed));
        } else {
            files.push((
                "model.safetensors".into(),
                fixtures::safetensors_bytes(&tensors, seed),
            ));
        }
    }
    let config = serde_json::json!({
        "generated_by": "rskill-hub seed",
        "observation_dim": observation_dim,
        "action_dim": action_dim,
        "format": if up.onnx { "onnx" } else { "safetensors" },
    });
    files.push(("config.json".into(), pretty(&config)));
    for path in &up.extra_files {
        let step = if path.contains("post") {
            "unnormalize_action"
        } else {
            "normalize_observation"
        };
        let body = serde_json::json!({"steps": [{"name": step, "mean": 0.0, "std": 1.0}]});
        files.push((path.clone(), pretty(&body)));
    }
    files.push((
        "README.md".into(),
        format!(
            "---\nlicense: apache-2.0\ntags:\n- robotics\n---\n# {}\n\nSmall generated weights for offline trials of rskill (`rskill-hub seed`); not a trained model.\n",
            up.repo
        )
        .into_bytes(),
    ));
    files
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("JSON");
    s.push('\n');
    s.into_bytes()
}

/// Why the upstream repos of a corpus could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Corpus(#[from] rskill_manifest::corpus::DiscoverError),
    #[error("{path}: cannot read: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid manifest ({problems} problem(s)); run `rskill validate` on it")]
    Invalid {
        path: std::path::PathBuf,
        problems: usize,
    },
    #[error("{0}")]
    Upstream(String),
}

/// The upstream repos of every manifest of the corpus at `corpus` (each manifest must
/// be valid).
pub fn corpus_upstreams(corpus: &std::path::Path) -> Result<Vec<Upstream>, SeedError> {
    let mut manifests = Vec::new();
    for path in rskill_manifest::corpus::discover(corpus)? {
        let text = std::fs::read_to_string(&path).map_err(|source| SeedError::Read {
            path: path.clone(),
            source,
        })?;
        let m = rskill_manifest::validate::parse_valid(&text).map_err(|v| SeedError::Invalid {
            path: path.clone(),
            problems: v.len(),
        })?;
        manifests.push(m);
    }
    upstreams(&manifests).map_err(SeedError::Upstream)
}

/// Creates (public) each upstream repo with its files and tags. A repo that already
/// has every tag is left alone, so seeding twice changes nothing.
pub async fn seed(client: &HubClient, ups: &[Upstream]) -> Result<Vec<Seeded>, HubError> {
    let mut out = Vec::new();
    for up in ups {
        let existing = match client.repo_info(&up.repo, None).await {
            Ok(info) => Some(info),
            Err(HubError::RepoNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let files = files_for(up);
        if existing.is_some() {
            let refs = client.refs(&up.repo).await?;
            let has_files = existing
                .as_ref()
                .is_some_and(|i| files.iter().all(|(p, _)| i.file(p).is_some()));
            if has_files && up.tags.iter().all(|t| refs.tag(t).is_some()) {
                out.push(Seeded {
                    repo: up.repo.clone(),
                    files: Vec::new(),
                    tags: Vec::new(),
                    skipped: true,
                });
                continue;
            }
        } else {
            client.create_repo(&up.repo, false).await?;
        }
        let names: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
        let uploads = files
            .into_iter()
            .map(|(path_in_repo, bytes)| UploadFile {
                path_in_repo,
                content: Bytes::from(bytes),
            })
            .collect();
        let commit = client
            .commit(
                &up.repo,
                uploads,
                Vec::new(),
                "Seed generated weights",
                None,
            )
            .await?;
        let refs = client.refs(&up.repo).await?;
        let mut tags = Vec::new();
        for t in &up.tags {
            if refs.tag(t).is_none() {
                client.create_tag(&up.repo, t, &commit, "seeded").await?;
                tags.push(t.clone());
            }
        }
        out.push(Seeded {
            repo: up.repo.clone(),
            files: names,
            tags,
            skipped: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_upstreams_are_merged_with_tags_and_processor_files() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rskills");
        let ups = corpus_upstreams(&corpus).unwrap();
        let pi05 = ups
            .iter()
            .find(|u| u.repo.as_str() == "lerobot/pi05_libero")
            .unwrap();
        assert!(pi05.tags.contains("v1.0"));
        assert!(pi05.extra_files.contains("policy_preprocessor.json"));
        assert!(ups.iter().any(|u| u.onnx));
        let files = files_for(pi05);
        assert!(
            files
                .iter()
                .any(|(p, _)| p == "model.safetensors.index.json")
        );
    }
}
