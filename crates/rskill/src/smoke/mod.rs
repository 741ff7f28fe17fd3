//! Smoke-loading of downloaded weights, so that `rskill install` registers a skill only
//! when its weights can actually be opened: a truncated download, a forged header or a
//! shard index that does not match its shards fails the install instead of failing on
//! the robot.
//!
//! - safetensors: the header is parsed from a memory map (only the header pages are
//!   touched, so a multi-gigabyte file costs almost nothing), and every tensor's byte
//!   range, dtype and shape are checked against each other and against the file size.
//! - sharded safetensors: `model.safetensors.index.json` is checked against its shards.
//! - ONNX: the model is loaded into an ONNX Runtime session through the `ort` crate
//!   (`load-dynamic`) and run once on zeros of the declared input shapes (named dynamic
//!   dimensions from the manifest, else 1); the outputs must have the declared shapes
//!   and finite values, and the latency of that pass is reported. The runtime is a
//!   shared library found at run time ([`onnx_runtime`]); without it only this step is
//!   skipped, and [`RuntimeMissing`] says how to get it.
//! - What a manifest declares of its weights (`policy_extras.smoke`, see
//!   [`Expectations`]) is checked too: tensor names, shapes and dtypes.

mod onnx;
mod runtime;
mod safetensors;
mod sharded;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use onnx::{OnnxDim, OnnxRun, OnnxSummary, OnnxValue, check_onnx};
use runtime::runtime_hint;
pub use runtime::{
    ONNXRUNTIME_MIN_MINOR, ONNXRUNTIME_VERSION, ORT_DYLIB_PATH_ENV, PYTHON_ENV, RuntimeInfo,
    RuntimeMissing, RuntimeSource, onnx_runtime,
};
pub use safetensors::{SafetensorsSummary, TensorMeta, check_safetensors};
pub use sharded::{ShardedSummary, check_sharded};

/// What went wrong while smoke-loading a weight file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid safetensors file: {problem}", path.display())]
    Safetensors { path: PathBuf, problem: String },
    #[error("{} does not match its shards: {problem}", index.display())]
    ShardIndex { index: PathBuf, problem: String },
    #[error("ONNX Runtime cannot load {}: {problem}", path.display())]
    Onnx { path: PathBuf, problem: String },
    #[error("{} loads but cannot run: {problem}", path.display())]
    OnnxRun { path: PathBuf, problem: String },
    #[error("{} does not hold what the manifest declares: {problem}", path.display())]
    Declared { path: PathBuf, problem: String },
    #[error(
        "cannot start ONNX Runtime from {}: {problem}\nhint: {}",
        dylib.display(),
        runtime_hint()
    )]
    Runtime { dylib: PathBuf, problem: String },
}

impl SmokeError {
    /// Whether the failure lies with the ONNX Runtime library rather than with the
    /// weights (the install flow may then skip the ONNX step instead of failing).
    pub fn is_runtime_problem(&self) -> bool {
        matches!(self, SmokeError::Runtime { .. })
    }
}

// ---------------------------------------------------------------------------------------
// what the manifest declares
// ---------------------------------------------------------------------------------------

/// What a manifest declares of its weights, under `policy_extras.smoke`:
///
/// ```yaml
/// policy_extras:
///   smoke:
///     dims: {batch: 1, features: 16}     # named dynamic ONNX dimensions for the test run
///     tensors:                           # tensors a safetensors checkpoint must hold
///       - {name: policy.weight, shape: [16, 7], dtype: F32}
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    #[serde(default)]
    pub dims: BTreeMap<String, u64>,
    #[serde(default)]
    pub tensors: Vec<ExpectedTensor>,
}

/// A tensor a checkpoint must hold; shape and dtype are checked when given.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTensor {
    pub name: String,
    #[serde(default)]
    pub shape: Option<Vec<usize>>,
    /// The safetensors dtype name (`F32`, `BF16`, …).
    #[serde(default)]
    pub dtype: Option<String>,
}

impl Expectations {
    /// The expectations of a manifest (`policy_extras.smoke`); none when absent.
    pub fn from_policy_extras(extras: Option<&serde_json::Value>) -> Result<Expectations, String> {
        match extras.and_then(|e| e.get("smoke")) {
            None | Some(serde_json::Value::Null) => Ok(Expectations::default()),
            Some(v) => serde_path_to_error::deserialize(v)
                .map_err(|e| format!("policy_extras.smoke.{}: {}", e.path(), e.inner())),
        }
    }

    /// Checks the tensors of a checkpoint (every shard's, for a sharded one) against
    /// the declared ones; `source` names the checkpoint in the error.
    pub fn check_tensors<'a>(
        &self,
        source: &Path,
        tensors: impl IntoIterator<Item = &'a TensorMeta>,
    ) -> Result<(), SmokeError> {
        if self.tensors.is_empty() {
            return Ok(());
        }
        let found: BTreeMap<&str, &TensorMeta> =
            tensors.into_iter().map(|t| (t.name.as_str(), t)).collect();
        let mut problems = Vec::new();
        for want in &self.tensors {
            let Some(got) = found.get(want.name.as_str()) else {
                problems.push(format!("no tensor `{}`", want.name));
                continue;
            };
            if let Some(shape) = want.shape.as_ref().filter(|s| **s != got.shape) {
                problems.push(format!(
                    "`{}` has shape {:?}, the manifest declares {shape:?}",
                    want.name, got.shape
                ));
            }
            if let Some(dtype) = want
                .dtype
                .as_ref()
                .filter(|d| !d.eq_ignore_ascii_case(&got.dtype))
            {
                problems.push(format!(
                    "`{}` is {}, the manifest declares {dtype}",
                    want.name, got.dtype
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SmokeError::Declared {
                path: source.to_path_buf(),
                problem: problems.join("; "),
            })
        }
    }
}

fn human_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}K", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.2}B", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_formats() {
        assert_eq!(human_count(1_234_567), "1.2M");
    }
}
