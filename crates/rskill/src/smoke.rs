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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use safetensors::SafeTensors;
use safetensors::tensor::SafeTensorError;
use serde::Serialize;

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

// ---------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------

/// safetensors' own limit on the JSON header (the crate refuses larger ones).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// One tensor of a safetensors file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorMeta {
    pub name: String,
    /// The safetensors dtype name (`F32`, `BF16`, …).
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Length of the tensor's data in bytes.
    pub bytes: u64,
}

/// What a valid safetensors file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetensorsSummary {
    pub path: PathBuf,
    pub file_size: u64,
    /// Length of the JSON header in bytes (the 8-byte length prefix not included).
    pub header_size: u64,
    /// Length of the data section (`file_size - 8 - header_size`).
    pub data_size: u64,
    pub tensor_count: usize,
    /// Sum of the element counts of all tensors.
    pub total_params: u64,
    /// Number of tensors of each dtype.
    pub dtypes: BTreeMap<String, usize>,
    /// The tensors in data-offset order.
    pub tensors: Vec<TensorMeta>,
}

impl fmt::Display for SafetensorsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tensors, {} params ({}), header {}, data {}",
            self.tensor_count,
            human_count(self.total_params),
            dtype_list(&self.dtypes),
            human_bytes(self.header_size),
            human_bytes(self.data_size)
        )
    }
}

fn dtype_list(dtypes: &BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = dtypes.iter().map(|(d, n)| format!("{d}×{n}")).collect();
    if parts.is_empty() {
        "no dtypes".to_string()
    } else {
        parts.join(", ")
    }
}

/// Checks a safetensors file without reading its data: the file is memory-mapped and
/// only the header is parsed. Every tensor's byte range must lie inside the data
/// section, ranges must be contiguous from 0, each range's length must equal
/// `elements × dtype size`, and the data section must end exactly at end of file.
pub fn check_safetensors(path: &Path) -> Result<SafetensorsSummary, SmokeError> {
    let io_err = |source| SmokeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let invalid = |problem: String| SmokeError::Safetensors {
        path: path.to_path_buf(),
        problem,
    };
    let file = File::open(path).map_err(io_err)?;
    let file_size = file.metadata().map_err(io_err)?.len();
    if file_size < 8 {
        return Err(invalid(format!(
            "the file is {file_size} bytes long, shorter than the 8-byte header length prefix"
        )));
    }
    // SAFETY: the map is only read, and only for the duration of this call. A file
    // changed underneath it by another process could show torn contents, which the
    // checks below then report as invalid; it cannot cause undefined behaviour here
    // beyond what reading a racing file through `read` would give.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err)?;
    let header_len = u64::from_le_bytes(map[..8].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES {
        return Err(invalid(format!(
            "the header length prefix says {header_len} bytes, above the {MAX_HEADER_BYTES}-byte limit (corrupt length prefix?)"
        )));
    }
    if 8 + header_len > file_size {
        return Err(invalid(format!(
            "the header length prefix says {header_len} bytes, but only {} bytes follow it",
            file_size - 8
        )));
    }
    let data_size = file_size - 8 - header_len;
    let metadata = match SafeTensors::read_metadata(&map) {
        Ok((_, metadata)) => metadata,
        Err(e) => {
            let header = &map[8..8 + header_len as usize];
            return Err(invalid(explain_safetensors_error(e, header, data_size)));
        }
    };

    let mut tensors: Vec<(usize, TensorMeta)> = metadata
        .tensors()
        .into_iter()
        .map(|(name, info)| {
            let (start, end) = info.data_offsets;
            (
                start,
                TensorMeta {
                    name,
                    dtype: info.dtype.to_string(),
                    shape: info.shape.clone(),
                    bytes: (end - start) as u64,
                },
            )
        })
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let tensors: Vec<TensorMeta> = tensors.into_iter().map(|(_, t)| t).collect();
    let covered: u64 = tensors.iter().map(|t| t.bytes).sum();
    if covered != data_size {
        // read_metadata already guarantees this; kept as a guard against a change there.
        return Err(invalid(format!(
            "the tensors cover {covered} bytes but the data section has {data_size}"
        )));
    }
    let mut dtypes = BTreeMap::new();
    let mut total_params = 0u64;
    for t in &tensors {
        *dtypes.entry(t.dtype.clone()).or_insert(0) += 1;
        total_params += t.shape.iter().map(|&d| d as u64).product::<u64>();
    }
    Ok(SafetensorsSummary {
        path: path.to_path_buf(),
        file_size,
        header_size: header_len,
        data_size,
        tensor_count: tensors.len(),
        total_params,
        dtypes,
        tensors,
    })
}

/// A tensor entry of a safetensors header, read without the crate's validation so
/// that a broken one can be described.
#[derive(serde::Deserialize)]
struct RawTensorInfo {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

/// The tensor entries of a header, by name; `None` if the header is not even that.
fn raw_tensor_infos(header: &[u8]) -> Option<BTreeMap<String, RawTensorInfo>> {
    let text = std::str::from_utf8(header).ok()?;
    let mut entries: BTreeMap<String, serde_json::Value> = serde_json::from_str(text).ok()?;
    entries.remove("__metadata__");
    entries
        .into_iter()
        .map(|(name, v)| Some((name, serde_json::from_value(v).ok()?)))
        .collect()
}

/// Turns the safetensors crate's terse error into one that says which tensor is wrong
/// and by how much, re-reading the header for the details where it can.
fn explain_safetensors_error(err: SafeTensorError, header: &[u8], data_size: u64) -> String {
    let Some(infos) = raw_tensor_infos(header) else {
        return err.to_string();
    };
    let describe = |name: &str, info: &RawTensorInfo| {
        format!(
            "tensor `{name}` ({} {:?}, data_offsets [{}, {}])",
            info.dtype, info.shape, info.data_offsets.0, info.data_offsets.1
        )
    };
    match &err {
        SafeTensorError::MetadataIncompleteBuffer => {
            let past_eof = infos
                .iter()
                .filter(|(_, info)| info.data_offsets.1 as u64 > data_size)
                .max_by_key(|(_, info)| info.data_offsets.1);
            match past_eof {
                Some((name, info)) => format!(
                    "{} extends past the end of the file: the data section has only {data_size} bytes (truncated download?)",
                    describe(name, info)
                ),
                None => {
                    let end = infos
                        .values()
                        .map(|i| i.data_offsets.1 as u64)
                        .max()
                        .unwrap_or(0);
                    format!(
                        "the tensors end at byte {end} of the data section, but it has {data_size} bytes: {} unexplained trailing bytes",
                        data_size - end
                    )
                }
            }
        }
        SafeTensorError::TensorInvalidInfo | SafeTensorError::MisalignedSlice => {
            let bad = infos.iter().find(|(_, info)| {
                let bits = info
                    .shape
                    .iter()
                    .try_fold(1usize, |a, &d| a.checked_mul(d))
                    .and_then(|n| n.checked_mul(info.dtype.bitsize()));
                bits.filter(|b| b % 8 == 0).map(|b| b / 8)
                    != info.data_offsets.1.checked_sub(info.data_offsets.0)
            });
            match bad {
                Some((name, info)) => format!(
                    "{}: its byte range does not match its dtype and shape",
                    describe(name, info)
                ),
                None => err.to_string(),
            }
        }
        SafeTensorError::InvalidOffset(name) => match infos.get(name) {
            Some(info) => format!(
                "{}: tensor data must be contiguous from offset 0, without gaps or overlaps",
                describe(name, info)
            ),
            None => err.to_string(),
        },
        _ => err.to_string(),
    }
}

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
            human_bytes(self.total_bytes)
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

/// A shard name must be a plain relative path that stays inside the index's directory.
fn check_shard_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.contains('\\') {
        return Err("contains a backslash");
    }
    let path = Path::new(name);
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("climbs out of the directory with `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ONNX Runtime
// ---------------------------------------------------------------------------------------

/// The ONNX Runtime release the `ort` crate is built against: ort 2.0.0-rc.15 with
/// feature `api-31` asks the library for C API version 31 (ONNX Runtime 1.31) and
/// refuses anything older.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";
/// The oldest ONNX Runtime minor version (1.x) that `ort` accepts.
pub const ONNXRUNTIME_MIN_MINOR: u32 = 31;
/// Points at the runtime library explicitly (the `ort` crate's own convention).
pub const ORT_DYLIB_PATH_ENV: &str = "ORT_DYLIB_PATH";
/// The Python interpreter whose `onnxruntime` wheel to use.
pub const PYTHON_ENV: &str = "RSKILL_PYTHON";

fn runtime_hint() -> String {
    format!(
        "pip install onnxruntime=={ONNXRUNTIME_VERSION} and set {ORT_DYLIB_PATH_ENV}=<path to libonnxruntime.so> \
         (it is in the wheel's onnxruntime/capi/ directory; any 1.{ONNXRUNTIME_MIN_MINOR}.x or newer works)"
    )
}

/// Where the runtime library was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeSource {
    /// The `ORT_DYLIB_PATH` environment variable.
    EnvVar,
    /// The `onnxruntime` wheel of this Python interpreter.
    PythonWheel { python: String },
    /// A directory the dynamic loader searches.
    SystemLibrary,
}

impl fmt::Display for RuntimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeSource::EnvVar => write!(f, "{ORT_DYLIB_PATH_ENV}"),
            RuntimeSource::PythonWheel { python } => write!(f, "the onnxruntime wheel of {python}"),
            RuntimeSource::SystemLibrary => f.write_str("the system library path"),
        }
    }
}

/// A located ONNX Runtime shared library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeInfo {
    pub dylib: PathBuf,
    pub source: RuntimeSource,
    /// The version, when the file name carries it (`libonnxruntime.so.1.31.1`).
    pub version: Option<String>,
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ONNX Runtime ")?;
        if let Some(v) = &self.version {
            write!(f, "{v} ")?;
        }
        write!(f, "at {} (from {})", self.dylib.display(), self.source)
    }
}

/// No usable ONNX Runtime library: where we looked, and how to get one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ONNX Runtime not found ({}); the ONNX smoke-load needs it\nhint: {hint}", tried.join("; "))]
pub struct RuntimeMissing {
    /// What was tried, and why each place did not do.
    pub tried: Vec<String>,
    pub hint: String,
}

/// Locates the ONNX Runtime shared library: `ORT_DYLIB_PATH`, else the `onnxruntime`
/// wheel of the active Python (`RSKILL_PYTHON`, else `$VIRTUAL_ENV/bin/python`, else
/// `python3`), else the directories the dynamic loader searches (`LD_LIBRARY_PATH` and
/// the standard library directories). Libraries older than 1.31 are passed over.
pub fn onnx_runtime() -> Result<RuntimeInfo, RuntimeMissing> {
    let mut tried = Vec::new();

    if let Some(value) = std::env::var_os(ORT_DYLIB_PATH_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        // An explicit setting that does not work is an error, not a reason to pick
        // some other library silently.
        return match usable_dylib(&path) {
            Ok(version) => Ok(RuntimeInfo {
                dylib: path,
                source: RuntimeSource::EnvVar,
                version,
            }),
            Err(why) => Err(RuntimeMissing {
                tried: vec![format!("{ORT_DYLIB_PATH_ENV}={}: {why}", path.display())],
                hint: runtime_hint(),
            }),
        };
    }
    tried.push(format!("{ORT_DYLIB_PATH_ENV} is not set"));

    let python = python_interpreter();
    match wheel_dir(&python) {
        Ok(dir) => {
            let capi = dir.join("capi");
            match pick_dylib(&capi, &mut tried) {
                Some((dylib, version)) => {
                    return Ok(RuntimeInfo {
                        dylib,
                        source: RuntimeSource::PythonWheel { python },
                        version,
                    });
                }
                None => tried.push(format!(
                    "the onnxruntime wheel of {python} has no usable library in {}",
                    capi.display()
                )),
            }
        }
        Err(why) => tried.push(format!("{python}: {why}")),
    }

    for dir in system_library_dirs() {
        if let Some((dylib, version)) = pick_dylib(&dir, &mut tried) {
            return Ok(RuntimeInfo {
                dylib,
                source: RuntimeSource::SystemLibrary,
                version,
            });
        }
    }
    tried.push(format!(
        "no {} on the system library path",
        dylib_base_name()
    ));
    Err(RuntimeMissing {
        tried,
        hint: runtime_hint(),
    })
}

fn python_interpreter() -> String {
    if let Some(p) = std::env::var(PYTHON_ENV).ok().filter(|p| !p.is_empty()) {
        return p;
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let bin = if cfg!(windows) {
            "Scripts/python.exe"
        } else {
            "bin/python"
        };
        let p = Path::new(&venv).join(bin);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    "python3".to_string()
}

/// Asks `python` where its `onnxruntime` package lives.
fn wheel_dir(python: &str) -> Result<PathBuf, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run it ({e})"))?;
    if !out.status.success() {
        return Err("it cannot import onnxruntime".to_string());
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if dir.is_empty() {
        return Err("it printed no onnxruntime directory".to_string());
    }
    Ok(PathBuf::from(dir))
}

fn dylib_base_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// `libonnxruntime.so`, `libonnxruntime.so.1.31.1`, `libonnxruntime.1.31.1.dylib`, …
/// but not `libonnxruntime_providers_shared.so`. Returns the version in the name.
fn runtime_file_version(file_name: &str) -> Option<Option<String>> {
    let prefix = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let rest = file_name.strip_prefix(&prefix)?;
    let suffix = std::env::consts::DLL_SUFFIX;
    if !(rest.starts_with('.') && file_name.contains(suffix)) {
        return None;
    }
    let version = rest.replacen(suffix, "", 1);
    let version = version.trim_matches('.');
    let is_version = !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    Some(is_version.then(|| version.to_string()))
}

/// Too old for `ort`?
fn version_too_old(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    major < 1 || (major == 1 && minor < ONNXRUNTIME_MIN_MINOR)
}

/// Checks an explicitly named library file; returns its version if the name has one.
fn usable_dylib(path: &Path) -> Result<Option<String>, String> {
    if !path.is_file() {
        return Err("no such file".to_string());
    }
    let version = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(runtime_file_version)
        .flatten();
    if let Some(v) = &version
        && version_too_old(v)
    {
        return Err(format!(
            "version {v} is older than 1.{ONNXRUNTIME_MIN_MINOR}, which ort needs"
        ));
    }
    Ok(version)
}

/// The newest usable runtime library in `dir`, if any.
fn pick_dylib(dir: &Path, tried: &mut Vec<String>) -> Option<(PathBuf, Option<String>)> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut candidates: Vec<(Vec<u32>, PathBuf, Option<String>)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(runtime_file_version) else {
            continue;
        };
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        if let Some(v) = &version
            && version_too_old(v)
        {
            tried.push(format!(
                "{}: version {v} is older than 1.{ONNXRUNTIME_MIN_MINOR}",
                path.display()
            ));
            continue;
        }
        let key = version
            .as_deref()
            .map(|v| v.split('.').map(|p| p.parse().unwrap_or(0)).collect())
            .unwrap_or_default();
        candidates.push((key, path, version));
    }
    // Prefer the highest version; an unversioned name (usually a symlink) last.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    candidates.into_iter().next().map(|(_, p, v)| (p, v))
}

fn system_library_dirs() -> Vec<PathBuf> {
    let var = if cfg!(target_os = "macos") {
        "DYLD_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os(var)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    let arch_dir = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    for d in [
        "/usr/local/lib",
        arch_dir.as_str(),
        "/usr/lib64",
        "/usr/lib",
        "/lib",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// One input or output of an ONNX graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnnxValue {
    pub name: String,
    /// Element type for tensors (`f32`, `i64`, …); the whole type otherwise.
    pub element_type: String,
    /// Dimensions for tensors (empty for a scalar or a non-tensor).
    pub shape: Vec<OnnxDim>,
}

/// A dimension of an ONNX tensor shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OnnxDim {
    Fixed(u64),
    /// A named dynamic dimension (`batch`).
    Symbolic(String),
    /// A dynamic dimension without a name.
    Unknown,
}

impl fmt::Display for OnnxDim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnnxDim::Fixed(n) => write!(f, "{n}"),
            OnnxDim::Symbolic(s) => f.write_str(s),
            OnnxDim::Unknown => f.write_str("?"),
        }
    }
}

impl fmt::Display for OnnxValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.shape.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}: {}[{}]",
            self.name,
            self.element_type,
            dims.join(", ")
        )
    }
}

/// What a loaded ONNX model exposes, and how its test pass went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnnxSummary {
    pub path: PathBuf,
    /// The runtime library that loaded it.
    pub runtime: PathBuf,
    pub inputs: Vec<OnnxValue>,
    pub outputs: Vec<OnnxValue>,
    /// The one test pass on zeros.
    pub run: OnnxRun,
}

/// One pass of a model on zeros of its declared input shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnnxRun {
    /// The concrete input shapes used.
    pub input_shapes: Vec<(String, Vec<i64>)>,
    /// The shapes the outputs came out with.
    pub output_shapes: Vec<(String, Vec<i64>)>,
    /// Wall time of the pass, in milliseconds.
    pub latency_ms: f64,
}

impl fmt::Display for OnnxSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[OnnxValue]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "inputs: {}; outputs: {}; one pass on zeros in {:.2} ms, outputs finite",
            list(&self.inputs),
            list(&self.outputs),
            self.run.latency_ms
        )
    }
}

/// The process's one ONNX Runtime environment (ort allows only one per process), with
/// the library it was loaded from.
static ORT_ENV: Mutex<Option<(PathBuf, ort::environment::Environment)>> = Mutex::new(None);

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Loads the runtime library and creates the environment, once per process. A later
/// call naming another library gets the one already loaded (a process can hold only
/// one ONNX Runtime); the summary says which.
fn ort_environment(
    runtime: &RuntimeInfo,
) -> Result<(PathBuf, ort::environment::Environment), SmokeError> {
    let mut guard = ORT_ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(loaded) = guard.as_ref() {
        return Ok(loaded.clone());
    }
    let fail = |problem: String| SmokeError::Runtime {
        dylib: runtime.dylib.clone(),
        problem,
    };
    let built = catch_unwind(AssertUnwindSafe(|| {
        ort::init_from(&runtime.dylib)
            .map_err(|e| e.to_string())?
            .with_name("rskill")
            .with_telemetry(false)
            .build()
            .map_err(|e| e.to_string())
    }))
    .map_err(|p| fail(format!("ort panicked: {}", panic_text(p))))?
    .map_err(fail)?;
    *guard = Some((runtime.dylib.clone(), built));
    Ok(guard.as_ref().expect("just set").clone())
}

/// Largest input the test pass builds (all inputs together), in elements.
const MAX_RUN_ELEMENTS: u64 = 16 << 20;

/// Loads an ONNX model into an ONNX Runtime session, reports its inputs and outputs,
/// and runs it once on zeros (named dynamic dimensions from `dims`, else 1): every
/// declared output must come out with its declared shape and finite values. The model
/// is loaded from its path, so external data files beside it (`model.onnx_data`) are
/// found the way ONNX Runtime finds them.
pub fn check_onnx(
    path: &Path,
    runtime: &RuntimeInfo,
    dims: &BTreeMap<String, u64>,
) -> Result<OnnxSummary, SmokeError> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(SmokeError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let (loaded_from, env) = ort_environment(runtime)?;
    let fail = |problem: String| SmokeError::Onnx {
        path: path.to_path_buf(),
        problem,
    };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<_, String> {
        let session = ort::session::Session::builder(&env)
            .map_err(|e| e.to_string())?
            .with_intra_threads(1)
            .map_err(|e| e.to_string())?
            .commit_from_file(path)
            .map_err(|e| e.to_string())?;
        let describe = |outlets: &[ort::value::Outlet]| -> Vec<OnnxValue> {
            outlets.iter().map(onnx_value).collect()
        };
        Ok((
            describe(session.inputs()),
            describe(session.outputs()),
            session,
        ))
    }))
    .map_err(|p| fail(format!("ort panicked: {}", panic_text(p))))?;
    let (inputs, outputs, mut session) = result.map_err(fail)?;
    let cannot_run = |problem: String| SmokeError::OnnxRun {
        path: path.to_path_buf(),
        problem,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        run_once(&mut session, &inputs, &outputs, dims)
    }))
    .map_err(|p| cannot_run(format!("ort panicked: {}", panic_text(p))))?
    .map_err(cannot_run)?;
    Ok(OnnxSummary {
        path: path.to_path_buf(),
        runtime: loaded_from,
        inputs,
        outputs,
        run,
    })
}

/// The concrete shape of a declared input: fixed dimensions as declared, named ones
/// from `dims`, the rest 1.
fn concrete_shape(value: &OnnxValue, dims: &BTreeMap<String, u64>) -> Vec<i64> {
    value
        .shape
        .iter()
        .map(|d| match d {
            OnnxDim::Fixed(n) => *n as i64,
            OnnxDim::Symbolic(name) => dims.get(name).copied().unwrap_or(1) as i64,
            OnnxDim::Unknown => 1,
        })
        .collect()
}

/// A tensor of zeros of `element_type` and `shape`.
fn zeros(element_type: &str, shape: &[i64]) -> Result<ort::value::DynValue, String> {
    use ort::value::Tensor;
    let n: usize = shape.iter().map(|d| *d as usize).product();
    let shape = shape.to_vec();
    let made = match element_type {
        "f32" => Tensor::from_array((shape, vec![0f32; n])).map(|t| t.into_dyn()),
        "f64" => Tensor::from_array((shape, vec![0f64; n])).map(|t| t.into_dyn()),
        "i64" => Tensor::from_array((shape, vec![0i64; n])).map(|t| t.into_dyn()),
        "i32" => Tensor::from_array((shape, vec![0i32; n])).map(|t| t.into_dyn()),
        "i16" => Tensor::from_array((shape, vec![0i16; n])).map(|t| t.into_dyn()),
        "i8" => Tensor::from_array((shape, vec![0i8; n])).map(|t| t.into_dyn()),
        "u8" => Tensor::from_array((shape, vec![0u8; n])).map(|t| t.into_dyn()),
        "bool" => Tensor::from_array((shape, vec![false; n])).map(|t| t.into_dyn()),
        other => {
            return Err(format!(
                "the test pass cannot build an input of type {other} (f32, f64, i8–i64, u8 and bool are supported)"
            ));
        }
    };
    made.map_err(|e| e.to_string())
}

/// Runs the session once on zeros and checks what comes out.
fn run_once(
    session: &mut ort::session::Session,
    inputs: &[OnnxValue],
    outputs: &[OnnxValue],
    dims: &BTreeMap<String, u64>,
) -> Result<OnnxRun, String> {
    let mut input_shapes = Vec::new();
    let mut values = Vec::new();
    let mut elements: u64 = 0;
    for input in inputs {
        let shape = concrete_shape(input, dims);
        elements = elements.saturating_add(shape.iter().map(|d| *d as u64).product::<u64>());
        if elements > MAX_RUN_ELEMENTS {
            return Err(format!(
                "the inputs would hold over {MAX_RUN_ELEMENTS} elements; set smaller named dimensions in policy_extras.smoke.dims"
            ));
        }
        values.push((
            std::borrow::Cow::<str>::Owned(input.name.clone()),
            ort::session::SessionInputValue::from(zeros(&input.element_type, &shape)?),
        ));
        input_shapes.push((input.name.clone(), shape));
    }
    let started = std::time::Instant::now();
    let produced = session.run(values).map_err(|e| e.to_string())?;
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut output_shapes = Vec::new();
    for declared in outputs {
        let value = produced
            .get(&declared.name)
            .ok_or_else(|| format!("output `{}` was not produced", declared.name))?;
        let (shape, finite) =
            inspect(value).ok_or_else(|| format!("output `{}` is not a tensor", declared.name))?;
        let fits = shape.len() == declared.shape.len()
            && declared.shape.iter().zip(&shape).all(|(d, got)| match d {
                OnnxDim::Fixed(n) => *n as i64 == *got,
                _ => true,
            });
        if !fits {
            return Err(format!(
                "output `{}` came out with shape {shape:?}, declared {declared}",
                declared.name
            ));
        }
        if !finite {
            return Err(format!(
                "output `{}` holds NaN or infinite values on zero inputs",
                declared.name
            ));
        }
        output_shapes.push((declared.name.clone(), shape));
    }
    Ok(OnnxRun {
        input_shapes,
        output_shapes,
        latency_ms,
    })
}

/// The shape of an output tensor, and whether its values are all finite (always for
/// integer and boolean tensors).
fn inspect(value: &ort::value::DynValue) -> Option<(Vec<i64>, bool)> {
    if let Ok((shape, data)) = value.try_extract_tensor::<f32>() {
        return Some((shape.to_vec(), data.iter().all(|v| v.is_finite())));
    }
    if let Ok((shape, data)) = value.try_extract_tensor::<f64>() {
        return Some((shape.to_vec(), data.iter().all(|v| v.is_finite())));
    }
    match value.dtype() {
        ort::value::ValueType::Tensor { shape, .. } => Some((shape.to_vec(), true)),
        _ => None,
    }
}

fn onnx_value(outlet: &ort::value::Outlet) -> OnnxValue {
    use ort::value::ValueType;
    match outlet.dtype() {
        ValueType::Tensor {
            ty,
            shape,
            dimension_symbols,
        } => OnnxValue {
            name: outlet.name().to_string(),
            element_type: ty.to_string(),
            shape: shape
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    if d >= 0 {
                        OnnxDim::Fixed(d as u64)
                    } else {
                        match dimension_symbols.get(i).filter(|s| !s.is_empty()) {
                            Some(s) => OnnxDim::Symbolic(s.clone()),
                            None => OnnxDim::Unknown,
                        }
                    }
                })
                .collect(),
        },
        other => OnnxValue {
            name: outlet.name().to_string(),
            element_type: other.to_string(),
            shape: Vec::new(),
        },
    }
}

// ---------------------------------------------------------------------------------------
// formatting
// ---------------------------------------------------------------------------------------

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
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
    fn runtime_file_names() {
        let so = |v: &str| format!("libonnxruntime.so{v}");
        if cfg!(target_os = "linux") {
            assert_eq!(runtime_file_version(&so("")), Some(None));
            assert_eq!(
                runtime_file_version(&so(".1.31.1")),
                Some(Some("1.31.1".to_string()))
            );
            assert_eq!(
                runtime_file_version("libonnxruntime_providers_shared.so"),
                None
            );
            assert_eq!(runtime_file_version("libonnxruntime.so.bak.x"), Some(None));
        }
        assert!(version_too_old("1.20.0"));
        assert!(!version_too_old("1.31.0"));
        assert!(!version_too_old("2.0"));
    }

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

    #[test]
    fn human_formats() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_count(1_234_567), "1.2M");
    }
}
