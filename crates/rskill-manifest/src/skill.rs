//! Checking a whole skill directory: the manifest (schema + rules), and, unless only
//! the manifest is asked for, the model card's documentation, its reserved tags and
//! license metadata, `SKILL.md`, and the `eval/*.json` results behind `benchmarks`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::corpus::{CARD_FILE, SKILL_MD_FILE, skill_dir};
use crate::diagnostic::Violation;
use crate::manifest::Manifest;
use crate::skill_file::SkillFileError;
use crate::{card, tags, validate};

/// A finding, with the file it is about.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: PathBuf,
    #[serde(flatten)]
    pub violation: Violation,
}

impl Finding {
    pub fn render(&self) -> String {
        self.violation.render(&self.file.display().to_string())
    }
}

/// Everything known about one skill after checking it.
#[derive(Debug, Clone)]
pub struct SkillReport {
    /// The manifest file.
    pub path: PathBuf,
    pub name: Option<String>,
    pub manifest: Option<Manifest>,
    /// Errors: the skill is invalid while there is any.
    pub findings: Vec<Finding>,
    /// Worth a look, but not wrong (a result file disagreeing with `benchmarks`).
    pub warnings: Vec<Finding>,
}

impl SkillReport {
    pub fn is_valid(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What to check beyond the manifest.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Only the manifest: no card, tags, SKILL.md or eval checks.
    pub manifest_only: bool,
}

/// Checks the skill whose manifest is at `manifest_path`.
pub fn check(manifest_path: &Path, opts: CheckOptions) -> SkillReport {
    let result = validate::check_file(manifest_path);
    let mut findings: Vec<Finding> = result
        .violations
        .into_iter()
        .map(|violation| Finding {
            file: manifest_path.to_path_buf(),
            violation,
        })
        .collect();
    let manifest = result.manifest;
    let mut warnings = Vec::new();
    if !opts.manifest_only
        && let Some(m) = &manifest
    {
        let dir = skill_dir(manifest_path);
        findings.extend(directory_checks(&dir, manifest_path, m, &mut warnings));
        if let Some(v) = local_weights_check(m) {
            findings.push(Finding {
                file: manifest_path.to_path_buf(),
                violation: v,
            });
        }
        eval_checks(&dir, m, &mut findings, &mut warnings);
        locate_manifest_findings(manifest_path, &mut findings);
    }
    SkillReport {
        path: manifest_path.to_path_buf(),
        name: result.name,
        manifest,
        findings,
        warnings,
    }
}

fn directory_checks(
    dir: &Path,
    manifest_path: &Path,
    m: &Manifest,
    warnings: &mut Vec<Finding>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let card_path = dir.join(CARD_FILE);
    let card_text = read_text(dir, &card_path, &mut out);
    let read_delegate = |target: &str| read_delegated_card(dir, target);
    for v in card::documentation_checks(card_text.as_deref(), m, &read_delegate) {
        // Findings about manifest fields belong to the manifest file.
        let file: &Path = if v.pointer.is_empty() {
            &card_path
        } else {
            manifest_path
        };
        out.push(Finding {
            file: file.to_path_buf(),
            violation: v,
        });
    }
    if let Some(text) = &card_text
        && let Ok(meta) = card::split(text).and_then(|c| card::metadata(&c))
    {
        let drift = tags::drift(&meta, m);
        let untagged = drift.is_untagged(&meta);
        for v in drift.violations() {
            let finding = Finding {
                file: card_path.clone(),
                violation: v,
            };
            if untagged {
                warnings.push(finding);
            } else {
                out.push(finding);
            }
        }
    }
    let skill_md = dir.join(SKILL_MD_FILE);
    if let Some(text) = read_text(dir, &skill_md, &mut out) {
        let folder = crate::agent_skill::folder_name(dir);
        for v in crate::agent_skill::skill_md_checks(&text, folder.as_deref()) {
            out.push(Finding {
                file: skill_md.clone(),
                violation: v,
            });
        }
    }
    out
}

/// Where `local://` weights live: `RSKILL_LOCAL_ROOT`, else the current directory.
pub fn local_root() -> PathBuf {
    std::env::var_os("RSKILL_LOCAL_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `local://` weights (allowed only for in-tree skills) stay inside [`local_root`]:
/// a relative path without `..`, whose real path, when it exists, is inside the root.
fn local_weights_check(m: &Manifest) -> Option<Violation> {
    let rest = m.weights_uri.as_deref()?.strip_prefix("local://")?;
    let outside = |why: String| {
        Some(Violation::at(
            "/weights_uri",
            "weights/local-root",
            format!(
                "{why}; local:// weights must stay inside RSKILL_LOCAL_ROOT (else the current directory)"
            ),
        ))
    };
    if let Err(why) = rskill_hub_protocol::ids::check_repo_path(rest) {
        return outside(format!("local://{rest} leaves its root: the path {why}"));
    }
    let root = local_root();
    if let (Ok(real), Ok(real_root)) = (
        std::fs::canonicalize(root.join(rest)),
        std::fs::canonicalize(&root),
    ) && !real.starts_with(&real_root)
    {
        return outside(format!("local://{rest} resolves to {}", real.display()));
    }
    None
}

/// The README a stub card delegates to: `target` relative to the skill folder, a
/// regular file inside the corpus (the skill folder's parent), as text.
fn read_delegated_card(dir: &Path, target: &str) -> Result<String, String> {
    let real_dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot be read: {e}"))?;
    let corpus = real_dir.parent().unwrap_or(&real_dir);
    let path = real_dir.join(target);
    match crate::skill_file::read_text(corpus, &path, crate::skill_file::MAX_TEXT_BYTES) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err("does not exist".into()),
        Err(e) => Err(e),
    }
}

/// Puts line:column on findings about manifest fields that the card checks raised.
fn locate_manifest_findings(manifest_path: &Path, findings: &mut [Finding]) {
    let needs = |f: &Finding| {
        f.file == manifest_path && f.violation.line.is_none() && !f.violation.pointer.is_empty()
    };
    if !findings.iter().any(needs) {
        return;
    }
    let folder = skill_dir(manifest_path);
    let Ok(Some(text)) =
        crate::skill_file::read_text(&folder, manifest_path, validate::MAX_MANIFEST_BYTES)
    else {
        return;
    };
    let Ok((_, positions)) = crate::yaml::load(&text, true) else {
        return;
    };
    for f in findings.iter_mut() {
        if needs(f) {
            f.violation.locate(&positions);
        }
    }
}

/// A text file of the skill folder, read under [`crate::skill_file`]'s rules; what
/// cannot be read becomes a finding. `None` when absent or unreadable.
fn read_text(dir: &Path, path: &Path, out: &mut Vec<Finding>) -> Option<String> {
    match crate::skill_file::read(dir, path, crate::skill_file::MAX_TEXT_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => Some(t),
            Err(_) => {
                out.push(Finding {
                    file: path.to_path_buf(),
                    violation: Violation::file("file", "not valid UTF-8"),
                });
                None
            }
        },
        Err(SkillFileError::Missing) => None,
        Err(e) => {
            out.push(Finding {
                file: path.to_path_buf(),
                violation: Violation::file(e.rule(), e.to_string()),
            });
            None
        }
    }
}

/// Benchmark result files (`eval/*.json`): each is a regular JSON file of the result
/// format (schema `schemas/rskill-eval.schema.json`), an error otherwise. Their stems
/// need not match `benchmarks` keys (suite and scene files exist), nor every key a
/// file; where a stem matches a key, a different `results.avg_success_rate` is a
/// warning.
fn eval_checks(dir: &Path, m: &Manifest, errors: &mut Vec<Finding>, warnings: &mut Vec<Finding>) {
    let eval_dir = dir.join("eval");
    match crate::skill_file::resolve_inside(dir, &eval_dir) {
        Ok(_) => {}
        Err(SkillFileError::Missing) => return,
        Err(e) => {
            errors.push(Finding {
                file: eval_dir,
                violation: Violation::file(e.rule(), e.to_string()),
            });
            return;
        }
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&eval_dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) => {
            errors.push(Finding {
                file: eval_dir,
                violation: Violation::file("file", format!("cannot list: {e}")),
            });
            return;
        }
    };
    files.sort();
    for path in files {
        let finding = |violation: Violation| Finding {
            file: path.clone(),
            violation,
        };
        let bytes = match crate::skill_file::read(dir, &path, crate::skill_file::MAX_TEXT_BYTES) {
            Ok(b) => b,
            Err(e) => {
                errors.push(finding(Violation::file(e.rule(), e.to_string())));
                continue;
            }
        };
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                let mut v = Violation::file("json", format!("is not valid JSON: {e}"));
                v.line = Some(e.line());
                v.column = Some(e.column());
                errors.push(finding(v));
                continue;
            }
        };
        let violations = crate::schema::check_eval_result(&value);
        if !violations.is_empty() {
            errors.extend(violations.into_iter().map(finding));
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reported = value
            .pointer("/results/avg_success_rate")
            .and_then(Value::as_f64);
        if let (Some(&want), Some(got)) = (m.benchmarks.get(&stem), reported)
            && (want - got).abs() > 1e-9
        {
            warnings.push(finding(Violation::at(
                "/results/avg_success_rate",
                "eval/agreement",
                format!("is {got}, but the manifest's benchmarks.{stem} is {want}"),
            )));
        }
    }
}
