//! Safetensors checks beyond what a loader trusts: the header length prefix is sane and
//! inside the file, the header is a JSON object, every dtype is known (the
//! `safetensors` crate's `Dtype`), every tensor's offsets are ordered and inside the
//! data section, no two tensors overlap, and shape × dtype size equals the byte length.
//! Only the header is read; the data section is checked by the file's size alone.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::Dtype;
use serde::Deserialize;

use crate::report::{ScanReport, ScanType, Severity};

const T: ScanType = ScanType::Safetensors;
/// The format's own header limit (`safetensors::tensor::MAX_HEADER_SIZE`).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

#[derive(Deserialize)]
struct RawTensor {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// Scans the safetensors file at `path` (shown as `rel`) into `report`.
pub fn scan_safetensors(path: &Path, rel: &str, report: &mut ScanReport) {
    report.touch(T).files += 1;
    let mut problems = Vec::new();
    match check(path, report, &mut problems) {
        Ok(()) => {
            for p in problems {
                report.push(T, Severity::Dangerous, rel, p);
            }
        }
        Err(e) => report.push(T, Severity::Error, rel, e),
    }
}

/// Header problems go to `problems`; an `Err` is a file that could not be read.
fn check(path: &Path, report: &mut ScanReport, problems: &mut Vec<String>) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let file_len = file
        .metadata()
        .map_err(|e| format!("cannot stat: {e}"))?
        .len();
    let mut prefix = [0u8; 8];
    if file_len < 8 {
        problems.push(format!(
            "{file_len} bytes: shorter than the 8-byte header length prefix"
        ));
        return Ok(());
    }
    file.read_exact(&mut prefix)
        .map_err(|e| format!("cannot read: {e}"))?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER_BYTES {
        problems.push(format!(
            "header length prefix {header_len} is above the format's {MAX_HEADER_BYTES}-byte limit"
        ));
        return Ok(());
    }
    if 8 + header_len > file_len {
        problems.push(format!(
            "header length prefix {header_len} runs past the end of the {file_len}-byte file"
        ));
        return Ok(());
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| format!("cannot read the header: {e}"))?;
    report.bytes_scanned += 8 + header_len;
    let data_len = file_len - 8 - header_len;
    let value: serde_json::Value = match serde_json::from_slice(&header) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("the header is not JSON: {e}"));
            return Ok(());
        }
    };
    let serde_json::Value::Object(entries) = value else {
        problems.push("the header is not a JSON object".into());
        return Ok(());
    };
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    let mut dtypes: BTreeMap<String, usize> = BTreeMap::new();
    for (name, v) in entries {
        if name == "__metadata__" {
            let ok = v
                .as_object()
                .is_some_and(|m| m.values().all(|x| x.is_string()));
            if !ok {
                problems.push("__metadata__ is not a map of strings".into());
            }
            continue;
        }
        let t: RawTensor = match serde_json::from_value(v) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("tensor `{name}`: {e}"));
                continue;
            }
        };
        let dtype: Dtype = match serde_json::from_value(serde_json::Value::String(t.dtype.clone()))
        {
            Ok(d) => d,
            Err(_) => {
                problems.push(format!("tensor `{name}`: unknown dtype `{}`", t.dtype));
                continue;
            }
        };
        *dtypes.entry(t.dtype.clone()).or_default() += 1;
        let (begin, end) = t.data_offsets;
        if begin > end {
            problems.push(format!(
                "tensor `{name}`: data offsets [{begin}, {end}] are reversed"
            ));
            continue;
        }
        if end > data_len {
            problems.push(format!(
                "tensor `{name}`: data offsets [{begin}, {end}] run past the {data_len}-byte data section"
            ));
        }
        let bits = t
            .shape
            .iter()
            .try_fold(dtype.bitsize() as u64, |acc, &d| acc.checked_mul(d));
        match bits {
            Some(bits) if bits % 8 == 0 && bits / 8 == end - begin => {}
            Some(bits) => problems.push(format!(
                "tensor `{name}`: shape {:?} of {} needs {} bytes, its offsets span {}",
                t.shape,
                t.dtype,
                bits.div_ceil(8),
                end - begin
            )),
            None => problems.push(format!(
                "tensor `{name}`: shape {:?} overflows a byte count",
                t.shape
            )),
        }
        spans.push((begin, end, name));
    }
    spans.sort();
    for w in spans.windows(2) {
        let ((_, a_end, a), (b_begin, _, b)) = (&w[0], &w[1]);
        if b_begin < a_end {
            problems.push(format!("tensors `{a}` and `{b}` overlap"));
        }
    }
    for d in dtypes.keys() {
        report.field(T, "dtypes", d.clone());
    }
    Ok(())
}
