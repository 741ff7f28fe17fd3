//! The scan report: typed and serializable, so a scan can be printed, written as JSON,
//! and later recorded on the Hub as `scan.<type>.<field>` without re-deriving anything.
//! One [`TypeResult`] per scan type (status + key fields), and every finding with its
//! severity and the file it is about.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of scan, as they appear in `scan.<type>.<field>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanType {
    Pickle,
    Safetensors,
    Onnx,
    RemoteCode,
    Manifest,
}

impl ScanType {
    pub const ALL: [ScanType; 5] = [
        ScanType::Pickle,
        ScanType::Safetensors,
        ScanType::Onnx,
        ScanType::RemoteCode,
        ScanType::Manifest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Pickle => "pickle",
            ScanType::Safetensors => "safetensors",
            ScanType::Onnx => "onnx",
            ScanType::RemoteCode => "remote_code",
            ScanType::Manifest => "manifest",
        }
    }
}

impl fmt::Display for ScanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered: the worst finding decides a type's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth recording, nothing wrong (an opset, a custom domain that is declared).
    Info,
    /// Needs a person's look or an opt-in (remote code, a manifest problem).
    Warning,
    /// Executes code or lets a loader read out of bounds: never load it.
    Dangerous,
    /// The file could not be scanned (truncated, unreadable): treated as a failure.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Dangerous => "dangerous",
            Severity::Error => "error",
        })
    }
}

/// The verdict of one scan type: `scan.<type>.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Clean,
    Warning,
    Dangerous,
    Error,
}

impl Status {
    /// The status a set of findings earns: the worst of them, clean when none is
    /// above information.
    pub fn of<'a>(severities: impl IntoIterator<Item = &'a Severity>) -> Status {
        severities
            .into_iter()
            .map(|s| match s {
                Severity::Info => Status::Clean,
                Severity::Warning => Status::Warning,
                Severity::Dangerous => Status::Dangerous,
                Severity::Error => Status::Error,
            })
            .max()
            .unwrap_or(Status::Clean)
    }

    /// Whether this status fails a scan (exit 1): dangerous, or not scanned.
    pub fn fails(self) -> bool {
        matches!(self, Status::Dangerous | Status::Error)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Clean => "clean",
            Status::Warning => "warning",
            Status::Dangerous => "dangerous",
            Status::Error => "error",
        })
    }
}

/// One thing a scanner found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub scan_type: ScanType,
    pub severity: Severity,
    /// The file, relative to what was scanned (`weights/model.pt`, `model.pt:archive/data.pkl`).
    pub file: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.scan_type, self.file, self.message
        )
    }
}

/// `scan.<type>.*`: the status and the key fields of one scan type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeResult {
    pub status: Option<Status>,
    /// Files this type looked at.
    pub files: usize,
    /// Key fields (`globals`, `opset`, `custom_domains`, `dtypes`, …), as strings so they
    /// map one to one on `scan.<type>.<field>` records.
    pub fields: BTreeMap<String, String>,
}

/// Which scanner produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannerInfo {
    pub name: String,
    pub version: String,
}

impl ScannerInfo {
    pub fn this() -> ScannerInfo {
        ScannerInfo {
            name: "rskill-scan".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// A whole scan: what was scanned, by what, when, and with which result per type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    pub scanner: ScannerInfo,
    /// RFC 3339, UTC, seconds.
    pub scanned_at: String,
    /// A folder, or `org/name@commit` for a Hub skill.
    pub target: String,
    /// Every scan type that found something to look at.
    pub types: BTreeMap<ScanType, TypeResult>,
    pub findings: Vec<Finding>,
    /// Bytes read by the scanners.
    pub bytes_scanned: u64,
}

impl ScanReport {
    pub fn new(target: impl Into<String>) -> ScanReport {
        ScanReport {
            scanner: ScannerInfo::this(),
            scanned_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            target: target.into(),
            types: BTreeMap::new(),
            findings: Vec::new(),
            bytes_scanned: 0,
        }
    }

    /// Adds a finding.
    pub fn push(
        &mut self,
        scan_type: ScanType,
        severity: Severity,
        file: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            scan_type,
            severity,
            file: file.into(),
            message: message.into(),
        });
        self.touch(scan_type);
    }

    /// The result of `scan_type`, created on first use.
    pub fn touch(&mut self, scan_type: ScanType) -> &mut TypeResult {
        self.types.entry(scan_type).or_default()
    }

    /// Sets a key field, merging list-like values (`a, b`) without duplicates.
    pub fn field(&mut self, scan_type: ScanType, key: &str, value: impl Into<String>) {
        let value = value.into();
        let fields = &mut self.touch(scan_type).fields;
        match fields.get_mut(key) {
            Some(existing) if !existing.split(", ").any(|v| v == value) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            Some(_) => {}
            None => {
                fields.insert(key.to_string(), value);
            }
        }
    }

    /// Computes each type's status from its findings. Call once all scanners ran.
    pub fn finish(&mut self) {
        for (t, result) in self.types.iter_mut() {
            result.status = Some(Status::of(
                self.findings
                    .iter()
                    .filter(|f| f.scan_type == *t)
                    .map(|f| &f.severity),
            ));
        }
        self.findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.file.cmp(&b.file)));
    }

    /// The worst status over every type (clean when nothing was scanned).
    pub fn status(&self) -> Status {
        self.types
            .values()
            .filter_map(|r| r.status)
            .max()
            .unwrap_or(Status::Clean)
    }

    /// Whether the scan fails (`rskill scan` exit 1): anything dangerous, or a file
    /// that could not be scanned.
    pub fn fails(&self) -> bool {
        self.status().fails()
    }

    /// The `scan.<type>.<field>` view of the report, ready to be recorded.
    pub fn records(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (t, r) in &self.types {
            if let Some(s) = r.status {
                out.insert(format!("scan.{t}.status"), s.to_string());
            }
            for (k, v) in &r.fields {
                out.insert(format!("scan.{t}.{k}"), v.clone());
            }
        }
        out.insert("scan.scanner".into(), self.scanner.name.clone());
        out.insert("scan.scanner_version".into(), self.scanner.version.clone());
        out.insert("scan.time".into(), self.scanned_at.clone());
        out
    }

    /// Merges another report's findings and fields (a file scanned on its own).
    pub fn merge(&mut self, other: ScanReport) {
        for (t, r) in other.types {
            let mine = self.touch(t);
            mine.files += r.files;
            for (k, v) in r.fields {
                self.field(t, &k, v);
            }
        }
        self.findings.extend(other.findings);
        self.bytes_scanned += other.bytes_scanned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_finding_decides_and_records_are_flat() {
        let mut r = ScanReport::new("x");
        r.push(ScanType::Pickle, Severity::Info, "a.pt", "fine");
        r.push(ScanType::Pickle, Severity::Dangerous, "a.pt", "os.system");
        r.push(ScanType::Onnx, Severity::Info, "m.onnx", "opset 17");
        r.field(ScanType::Pickle, "globals", "os.system");
        r.field(ScanType::Pickle, "globals", "os.system");
        r.field(ScanType::Pickle, "globals", "builtins.exec");
        r.finish();
        assert_eq!(r.types[&ScanType::Pickle].status, Some(Status::Dangerous));
        assert_eq!(r.types[&ScanType::Onnx].status, Some(Status::Clean));
        assert!(r.fails());
        let rec = r.records();
        assert_eq!(rec["scan.pickle.status"], "dangerous");
        assert_eq!(rec["scan.pickle.globals"], "os.system, builtins.exec");
        assert_eq!(rec["scan.onnx.status"], "clean");
        assert_eq!(r.findings[0].severity, Severity::Dangerous);
        let json = serde_json::to_string(&r).unwrap();
        let back: ScanReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
