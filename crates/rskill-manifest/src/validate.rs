//! Validating one manifest: bytes → YAML → schema → typed model → rules.
//!
//! A valid manifest loads the YAML once without a position index;
//! only a manifest with findings is loaded again to put line:column on each one.

use std::path::Path;

use serde_json::Value;

use crate::diagnostic::Violation;
use crate::manifest::Manifest;
use crate::skill_file::SkillFileError;
use crate::{rules, schema, yaml};

/// Largest manifest accepted: a manifest is a few KiB; anything near this is not one.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// The outcome of validating one manifest.
#[derive(Debug, Clone)]
pub struct ManifestCheck {
    /// The typed manifest, when the document has the right shape (even if rules fail).
    pub manifest: Option<Manifest>,
    /// The `name` field as written, when there is one (for reports on invalid files).
    pub name: Option<String>,
    pub violations: Vec<Violation>,
}

impl ManifestCheck {
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }

    fn fail(v: Violation) -> ManifestCheck {
        ManifestCheck {
            manifest: None,
            name: None,
            violations: vec![v],
        }
    }
}

/// Reads and validates a manifest file.
pub fn check_file(path: &Path) -> ManifestCheck {
    match read_manifest_bytes(path) {
        Ok(bytes) => check_bytes(&bytes),
        Err(v) => ManifestCheck::fail(*v),
    }
}

/// Reads the manifest: a regular file inside its skill folder, at most
/// [`MAX_MANIFEST_BYTES`] long (see [`crate::skill_file`]).
fn read_manifest_bytes(path: &Path) -> Result<Vec<u8>, Box<Violation>> {
    let folder = crate::corpus::skill_dir(path);
    crate::skill_file::read(&folder, path, MAX_MANIFEST_BYTES).map_err(|e| {
        let message = match &e {
            SkillFileError::TooLarge { .. } => format!(
                "file is larger than {} KiB; a manifest is a few KiB of YAML",
                MAX_MANIFEST_BYTES / 1024
            ),
            SkillFileError::Missing | SkillFileError::Io(_) => {
                format!("cannot read {}: {e}", path.display())
            }
            other => format!("{} {other}", path.display()),
        };
        Box::new(Violation::file(e.rule(), message))
    })
}

/// Validates manifest bytes (UTF-8 YAML).
pub fn check_bytes(bytes: &[u8]) -> ManifestCheck {
    match std::str::from_utf8(bytes) {
        Ok(text) => check_text(text),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            let mut v = Violation::file(
                "file",
                format!(
                    "not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            );
            v.line = Some(line);
            ManifestCheck::fail(v)
        }
    }
}

/// Validates manifest text.
pub fn check_text(text: &str) -> ManifestCheck {
    // Editors on some systems start files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return ManifestCheck::fail(Violation::file("file", "the file is empty"));
    }
    let value = match yaml::load(text, false) {
        Ok((value, _)) => value,
        Err(e) => {
            // Loading again with positions lets a duplicate key name its first line.
            let e = yaml::load(text, true).err().unwrap_or(e);
            let mut v = Violation::file("yaml", e.message);
            if let Some(p) = e.pos {
                v.line = Some(p.line);
                v.column = Some(p.column);
            }
            return ManifestCheck::fail(v);
        }
    };
    let mut check = check_value(value);
    if !check.violations.is_empty()
        && let Ok((_, positions)) = yaml::load(text, true)
    {
        for v in &mut check.violations {
            v.locate(&positions);
        }
    }
    check
}

/// Validates an already-parsed document (schema, then the rules).
pub fn check_value(value: Value) -> ManifestCheck {
    let name = value.get("name").and_then(Value::as_str).map(str::to_owned);
    if !value.is_object() {
        return ManifestCheck {
            manifest: None,
            name,
            violations: vec![Violation::file(
                "schema/type",
                "the manifest must be a YAML mapping of fields (name, version, kind, …)",
            )],
        };
    }
    let violations = schema::check(&value);
    if !violations.is_empty() {
        return ManifestCheck {
            manifest: None,
            name,
            violations,
        };
    }
    let mut value = value;
    normalize_integral_floats(&mut value);
    match Manifest::from_value(&value) {
        Ok(manifest) => ManifestCheck {
            violations: rules::check(&manifest),
            manifest: Some(manifest),
            name,
        },
        // Only numbers beyond the typed model's range get here (e.g. 1e20 as a count).
        Err((pointer, e)) => ManifestCheck {
            manifest: None,
            name,
            violations: vec![Violation::at(pointer, "schema/type", e)],
        },
    }
}

/// JSON Schema counts `1.0` as an integer; so does the typed model after this pass,
/// which rewrites whole-number floats (within ±2^53) as integers, in place.
fn normalize_integral_floats(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_integral_floats),
        Value::Object(map) => map.values_mut().for_each(normalize_integral_floats),
        _ => {}
    }
}

/// Parses a manifest for callers that need a valid one (publish, install, search):
/// the typed model, or every finding.
pub fn parse_valid(text: &str) -> Result<Manifest, Vec<Violation>> {
    let check = check_text(text);
    match check.manifest {
        Some(m) if check.violations.is_empty() => Ok(m),
        _ => Err(check.violations),
    }
}
