//! rskill-scan: offline security scans of a skill and its weights, and the policy that
//! grades what they find. Pickles are walked opcode by opcode without being executed
//! ([`pickle`]), and judged against an allowlist ([`policy`]); safetensors headers
//! ([`safetensors`]) and ONNX models ([`onnx`], over the [`onnx_proto`] prost types)
//! are checked for what a loader would trust; NumPy arrays' headers tell object arrays
//! (a pickle inside) from plain ones ([`numpy`]); Python files and `auto_map` configs are
//! remote code; the manifest and card reuse `rskill-manifest`'s checks. [`scan`] picks
//! the scanner per file and [`report`] is the typed result, ready to be recorded as
//! `scan.<type>.<field>`.
//!
//! Owns: the formats' security checks. No network, no Hub client: callers bring files.
//! Depends only on `rskill-manifest`.

pub mod numpy;
pub mod onnx;
pub mod onnx_proto;
pub mod pickle;
pub mod policy;
pub mod report;
pub mod safetensors;
pub mod scan;

pub use report::{Finding, ScanReport, ScanType, Severity, Status};
pub use scan::{scan_file, scan_path};
