//! Smoke-loading a sharded safetensors set: `model.safetensors.index.json` against
//! its shards.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use indicatif::HumanBytes;

use super::safetensors::dtype_list;
use super::*;

/// What a valid sharded safetensors set holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardedSummary {
    pub index: PathBuf,
    /// Each shard, in file-name order.
    pub shards: Vec<SafetensorsSummary>,
    pub tensor_count: usize,
    pub total_params: u64,
    /// Sum of the tensors' data bytes over all shards.
    pub total_bytes: u64,
    /// `metadata.total_size` from the index, when it has one (then equal to `total_bytes`).
    pub total_size: Option<u64>,
}

impl fmt::Display for ShardedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut dtypes = BTreeMap::new();
        for s in &self.shards {
            for (d, n) in &s.dtypes {
                *dtypes.entry(d.clone()).or_insert(0) += n;
            }
        }
        write!(
            f,
            "{} shards, {} tensors, {} params ({}), data {}",
            self.shards.len(),
            self.tensor_count,
            human_count(self.total_params),
            dtype_list(&dtypes),
            HumanBytes(self.total_bytes)
        )
    }
}

#[derive(serde::Deserialize)]
struct ShardIndexFile {
    #[serde(default)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    weight_map: BTreeMap<String, String>,
}

/// Checks a sharded safetensors set against its `model.safetensors.index.json`: every
/// shard the `weight_map` names lies inside `dir` and passes [`check_safetensors`],
/// every tensor sits in the shard the map names and nowhere else, no shard holds a
/// tensor the map does not assign to it, and the tensors' bytes add up to
/// `metadata.total_size` when the index gives one.
pub fn check_sharded(index_path: &Path, dir: &Path) -> Result<ShardedSummary, SmokeError> {
    let bad = |problem: String| SmokeError::ShardIndex {
        index: index_path.to_path_buf(),
        problem,
    };
    let text = std::fs::read(index_path).map_err(|source| SmokeError::Io {
        path: index_path.to_path_buf(),
        source,
    })?;
    let index: ShardIndexFile = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "not a safetensors index (JSON with `weight_map`): {e}"
        ))
    })?;
    if index.weight_map.is_empty() {
        return Err(bad("`weight_map` is empty".to_string()));
    }
    let total_size = match index.metadata.as_ref().and_then(|m| m.get("total_size")) {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| bad(format!("`metadata.total_size` is not a byte count: {v}")))?,
        ),
    };

    let shard_names: BTreeSet<&str> = index.weight_map.values().map(String::as_str).collect();
    let mut shards = Vec::with_capacity(shard_names.len());
    for name in &shard_names {
        check_shard_name(name).map_err(|why| bad(format!("shard name {name:?} {why}")))?;
        let path = dir.join(name);
        if !path.is_file() {
            return Err(bad(format!(
                "shard {name:?} is missing (expected at {})",
                path.display()
            )));
        }
        shards.push((*name, check_safetensors(&path)?));
    }

    // Where each tensor actually is.
    let mut found: BTreeMap<&str, &str> = BTreeMap::new();
    for (shard, summary) in &shards {
        for t in &summary.tensors {
            if let Some(other) = found.insert(t.name.as_str(), shard) {
                return Err(bad(format!(
                    "tensor `{}` is stored in both {other:?} and {shard:?}",
                    t.name
                )));
            }
            match index.weight_map.get(&t.name) {
                Some(assigned) if assigned == shard => {}
                Some(assigned) => {
                    return Err(bad(format!(
                        "tensor `{}` is in shard {shard:?}, but the weight_map assigns it to {assigned:?}",
                        t.name
                    )));
                }
                None => {
                    return Err(bad(format!(
                        "shard {shard:?} holds tensor `{}`, which the weight_map does not list",
                        t.name
                    )));
                }
            }
        }
    }
    for (tensor, shard) in &index.weight_map {
        if !found.contains_key(tensor.as_str()) {
            return Err(bad(format!(
                "tensor `{tensor}` is assigned to shard {shard:?}, which does not contain it"
            )));
        }
    }

    let shards: Vec<SafetensorsSummary> = shards.into_iter().map(|(_, s)| s).collect();
    let total_bytes: u64 = shards.iter().map(|s| s.data_size).sum();
    if let Some(expected) = total_size
        && expected != total_bytes
    {
        return Err(bad(format!(
            "`metadata.total_size` is {expected}, but the shards' tensors hold {total_bytes} bytes"
        )));
    }
    Ok(ShardedSummary {
        index: index_path.to_path_buf(),
        tensor_count: shards.iter().map(|s| s.tensor_count).sum(),
        total_params: shards.iter().map(|s| s.total_params).sum(),
        total_bytes,
        total_size,
        shards,
    })
}

/// A shard name must be a plain relative path that stays inside the index's directory
/// (the one path-safety check of `rskill-hub-protocol`).
fn check_shard_name(name: &str) -> Result<(), &'static str> {
    rskill_hub_protocol::ids::check_repo_path(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_stay_inside() {
        assert!(check_shard_name("model-00001-of-00002.safetensors").is_ok());
        assert!(check_shard_name("sub/model.safetensors").is_ok());
        assert!(check_shard_name("../model.safetensors").is_err());
        assert!(check_shard_name("a/../../b").is_err());
        assert!(check_shard_name("/etc/passwd").is_err());
        assert!(check_shard_name("a\\..\\b").is_err());
        assert!(check_shard_name("").is_err());
    }
}
