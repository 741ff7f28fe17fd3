//! Scan records kept in the registry file: what `rskill-publisher scan ID@VERSION
//! --record` stored for one exact commit (scanner, version, time, and per scan type the
//! `scan.<type>.status` and key fields). They are part of the governed state, so a
//! record is changed only by a history event and checked by replay like statuses and
//! aliases; the install policy (`rskill trust scan-policy`) and search read them.

use std::collections::BTreeMap;

use rskill_scan::{ScanReport, ScanType, Status as ScanStatus};
use serde::{Deserialize, Serialize};

use super::model::GovError;

/// `scan.<type>.*` of one recorded type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRecord {
    pub status: ScanStatus,
    /// Key fields (`globals`, `opset`, `dtypes`, …), as `scan.<type>.<field>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// One recorded scan of one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRecord {
    pub scanner: String,
    pub version: String,
    /// RFC 3339, when the scan ran.
    pub time: String,
    /// The skill version whose tag pointed to the commit when it was recorded (lets
    /// search, which reads no tags, find the record of the version it shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_version: Option<String>,
    pub types: BTreeMap<ScanType, TypeRecord>,
}

/// Largest key field value kept in a record (bytes); longer values are cut.
pub const MAX_FIELD_BYTES: usize = 512;

impl ScanRecord {
    /// The record of a finished report.
    pub fn from_report(report: &ScanReport, skill_version: Option<String>) -> ScanRecord {
        let types = report
            .types
            .iter()
            .map(|(t, r)| {
                let fields = r.fields.iter().map(|(k, v)| (k.clone(), cut(v))).collect();
                (
                    *t,
                    TypeRecord {
                        status: r.status.unwrap_or(ScanStatus::Clean),
                        fields,
                    },
                )
            })
            .collect();
        ScanRecord {
            scanner: report.scanner.name.clone(),
            version: report.scanner.version.clone(),
            time: report.scanned_at.clone(),
            skill_version,
            types,
        }
    }

    /// The worst status over every type (`error` when the record holds no type: a
    /// scan that looked at nothing proves nothing).
    pub fn status(&self) -> ScanStatus {
        self.types
            .values()
            .map(|t| t.status)
            .max()
            .unwrap_or(ScanStatus::Error)
    }

    /// The `scan.<type>.<field>` view (as `ScanReport::records`).
    pub fn records(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (t, r) in &self.types {
            out.insert(format!("scan.{t}.status"), r.status.to_string());
            for (k, v) in &r.fields {
                out.insert(format!("scan.{t}.{k}"), v.clone());
            }
        }
        out.insert("scan.scanner".into(), self.scanner.clone());
        out.insert("scan.scanner_version".into(), self.version.clone());
        out.insert("scan.time".into(), self.time.clone());
        out
    }

    /// The types whose status is not clean, as `type=status`.
    pub fn not_clean(&self) -> Vec<String> {
        self.types
            .iter()
            .filter(|(_, r)| r.status != ScanStatus::Clean)
            .map(|(t, r)| format!("{t}={}", r.status))
            .collect()
    }

    /// The record as carried in a history event (compact JSON).
    pub fn to_event_value(&self) -> String {
        serde_json::to_string(self).expect("a scan record serializes")
    }

    /// A record read from a history event or the file (hostile), checked.
    pub fn from_event_value(s: &str) -> Result<ScanRecord, GovError> {
        let r: ScanRecord = serde_json::from_str(s).map_err(|e| GovError::Invalid {
            field: "scan record".into(),
            message: e.to_string(),
        })?;
        r.check()?;
        Ok(r)
    }

    /// Checks the fields a person or a policy reads: non-empty scanner, version and time.
    pub fn check(&self) -> Result<(), GovError> {
        for (name, v) in [
            ("scanner", &self.scanner),
            ("version", &self.version),
            ("time", &self.time),
        ] {
            if v.trim().is_empty() {
                return Err(GovError::Invalid {
                    field: format!("scan record {name}"),
                    message: "empty".into(),
                });
            }
        }
        Ok(())
    }
}

/// Checks a commit id as a record key: 40 lowercase hex digits.
pub fn check_commit(commit: &str) -> Result<(), GovError> {
    if commit.len() == 40
        && commit
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(GovError::Invalid {
            field: format!("scans.{commit}"),
            message: "not a commit id (40 lowercase hex digits)".into(),
        })
    }
}

fn cut(v: &str) -> String {
    if v.len() <= MAX_FIELD_BYTES {
        return v.to_string();
    }
    let mut end = MAX_FIELD_BYTES;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &v[..end])
}
