//! Smoke-loading one safetensors file: the header is parsed from a memory map and
//! every tensor's byte range, dtype and shape are checked against each other and
//! against the file size.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use ::safetensors::SafeTensors;
use ::safetensors::tensor::SafeTensorError;
use serde::Serialize;

use indicatif::HumanBytes;

use super::*;

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
            HumanBytes(self.header_size),
            HumanBytes(self.data_size)
        )
    }
}

pub(super) fn dtype_list(dtypes: &BTreeMap<String, usize>) -> String {
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
    dtype: ::safetensors::Dtype,
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
