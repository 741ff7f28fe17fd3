//! The CI drift check: does each in-repo skill's Hub twin carry the same manifest?
//! Manifests are compared parsed (defaults applied), so formatting and comments do
//! not count, and every differing field is named. A Hub that cannot be asked is
//! reported as skipped, never as in sync.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::corpus::MANIFEST_FILE;
use crate::hub::{HubClient, HubError, RepoId};
use crate::manifest::Manifest;
use crate::validate;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    pub field: String,
    /// In-repo value (`None` when the field is absent there).
    pub local: Option<Value>,
    /// Hub value (`None` when the field is absent there).
    pub hub: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    InSync,
    Drifted,
    NotPublished,
    /// The twin exists but could not be read (rights, server error, invalid manifest).
    Unreachable,
    /// Offline mode or no connection to the Hub: nothing was compared.
    Skipped,
    /// The in-repo manifest is invalid.
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub path: PathBuf,
    pub repo: Option<String>,
    pub status: DriftStatus,
    pub diff: Vec<FieldDiff>,
    pub message: String,
}

impl DriftReport {
    /// Whether this report should fail CI.
    pub fn is_failure(&self) -> bool {
        matches!(
            self.status,
            DriftStatus::Drifted | DriftStatus::Unreachable | DriftStatus::Invalid
        )
    }
}

/// Skills compared at once by [`check_all`].
const CONCURRENCY: usize = 8;

/// Compares the skill whose manifest is at `manifest_path` with its Hub twin (default branch).
pub async fn check(client: &HubClient, manifest_path: &Path) -> DriftReport {
    check_with(client, manifest_path, &OnceLock::new()).await
}

/// Compares every skill, a few at a time; reports come in input order. Once the Hub
/// proves unreachable, the skills not yet asked about are reported skipped without
/// another attempt, so a Hub that is down costs one connection timeout, not one per skill.
pub async fn check_all(client: &HubClient, manifests: &[PathBuf]) -> Vec<DriftReport> {
    let hub_down = OnceLock::new();
    futures::stream::iter(manifests)
        .map(|m| check_with(client, m, &hub_down))
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// `hub_down` holds why the Hub could not be asked, once a check found out.
async fn check_with(
    client: &HubClient,
    manifest_path: &Path,
    hub_down: &OnceLock<String>,
) -> DriftReport {
    let mut report = DriftReport {
        path: manifest_path.to_path_buf(),
        repo: None,
        status: DriftStatus::Invalid,
        diff: Vec::new(),
        message: String::new(),
    };
    let local = match std::fs::read_to_string(manifest_path)
        .map_err(|e| vec![crate::diagnostic::Violation::file("file", e.to_string())])
        .and_then(|t| validate::parse_valid(&t))
    {
        Ok(m) => m,
        Err(v) => {
            report.message = format!(
                "in-repo manifest is invalid ({} problem(s)): run `rskill validate`",
                v.len()
            );
            return report;
        }
    };
    report.repo = Some(local.name.clone());
    let repo: RepoId = match local.name.parse() {
        Ok(r) => r,
        Err(e) => {
            report.message = e;
            return report;
        }
    };
    if let Some(reason) = hub_down.get() {
        report.status = DriftStatus::Skipped;
        report.message = format!("skipped: {reason}");
        return report;
    }
    match client.read_file(&repo, "main", MANIFEST_FILE).await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            match validate::parse_valid(&text) {
                Ok(hub) => {
                    report.diff = diff_manifests(&local, &hub);
                    if report.diff.is_empty() {
                        report.status = DriftStatus::InSync;
                        report.message = "in sync".into();
                    } else {
                        report.status = DriftStatus::Drifted;
                        report.message = format!("{} field(s) differ", report.diff.len());
                    }
                }
                Err(v) => {
                    report.status = DriftStatus::Drifted;
                    report.message = format!(
                        "the Hub copy of rskill.yaml is invalid ({} problem(s)); republish",
                        v.len()
                    );
                }
            }
        }
        Err(HubError::RepoNotFound { .. } | HubError::EntryNotFound { .. }) => {
            report.status = DriftStatus::NotPublished;
            report.message = format!("{repo} has no rskill.yaml on the Hub");
        }
        Err(e) if e.is_unreachable() => {
            let reason = hub_down.get_or_init(|| e.to_string());
            report.status = DriftStatus::Skipped;
            report.message = format!("skipped: {reason}");
        }
        Err(e) => {
            report.status = DriftStatus::Unreachable;
            report.message = e.to_string();
        }
    }
    report
}

/// Field-level differences between two manifests (defaults applied).
pub fn diff_manifests(local: &Manifest, hub: &Manifest) -> Vec<FieldDiff> {
    let a = serde_json::to_value(local).unwrap_or(Value::Null);
    let b = serde_json::to_value(hub).unwrap_or(Value::Null);
    let mut out = Vec::new();
    diff_values("", &a, &b, &mut out);
    out
}

fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<FieldDiff>) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => diff_values(&child(k), va, vb, out),
                    (va, vb) => {
                        // A null and an absent field mean the same.
                        let absent = |v: Option<&Value>| v.is_none_or(Value::is_null);
                        if !(absent(va) && absent(vb)) {
                            out.push(FieldDiff {
                                field: child(k),
                                local: va.cloned(),
                                hub: vb.cloned(),
                            })
                        }
                    }
                }
            }
        }
        _ if a == b => {}
        _ => out.push(FieldDiff {
            field: path.to_string(),
            local: Some(a.clone()),
            hub: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name: a/b\nversion: 1.0.0\nkind: wam\nembodiment_tags: [any]\nchunk_size: 1\nlatency_budget: {per_chunk_ms: 5}\ndescription: A world-action model for table-top scenes.\nactions: [pick]\n";

    #[test]
    fn equal_manifests_have_no_diff_whatever_the_formatting() {
        let a = validate::parse_valid(BASE).unwrap();
        let b = validate::parse_valid(&format!("# comment\n{BASE}license: unknown\n")).unwrap();
        assert!(diff_manifests(&a, &b).is_empty());
    }

    #[test]
    fn diffs_name_each_field() {
        let a = validate::parse_valid(BASE).unwrap();
        let b = validate::parse_valid(
            &BASE
                .replace("version: 1.0.0", "version: 1.1.0")
                .replace("per_chunk_ms: 5", "per_chunk_ms: 7"),
        )
        .unwrap();
        let d = diff_manifests(&a, &b);
        let fields: Vec<&str> = d.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["latency_budget.per_chunk_ms", "version"]);
        assert_eq!(d[1].local, Some(Value::String("1.0.0".into())));
    }
}
