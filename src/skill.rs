//! Checking a whole skill directory: the manifest (schema + rules), and, unless only
//! the manifest is asked for, the model card's documentation, its reserved tags and
//! license metadata, `SKILL.md`, and the `eval/*.json` results behind `benchmarks`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::corpus::{CARD_FILE, SKILL_MD_FILE, skill_dir};
use crate::diagnostic::Violation;
use crate::manifest::Manifest;
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
    pub findings: Vec<Finding>,
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
    if !opts.manifest_only
        && let Some(m) = &manifest
    {
        let dir = skill_dir(manifest_path);
        findings.extend(directory_checks(&dir, manifest_path, m));
        locate_manifest_findings(manifest_path, &mut findings);
    }
    SkillReport {
        path: manifest_path.to_path_buf(),
        name: result.name,
        manifest,
        findings,
    }
}

fn directory_checks(dir: &Path, manifest_path: &Path, m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let card_path = dir.join(CARD_FILE);
    let card_text = read_text(&card_path, &mut out);
    for v in card::documentation_checks(card_text.as_deref(), m) {
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
        for v in tags::drift(&meta, m).violations() {
            out.push(Finding {
                file: card_path.clone(),
                violation: v,
            });
        }
    }
    let skill_md = dir.join(SKILL_MD_FILE);
    if skill_md.exists()
        && let Some(text) = read_text(&skill_md, &mut out)
    {
        for v in card::skill_md_checks(&text) {
            out.push(Finding {
                file: skill_md.clone(),
                violation: v,
            });
        }
    }
    eval_checks(dir, m, &mut out);
    out
}

/// Puts line:column on findings about manifest fields that the card checks raised.
fn locate_manifest_findings(manifest_path: &Path, findings: &mut [Finding]) {
    let needs = |f: &Finding| {
        f.file == manifest_path && f.violation.line.is_none() && !f.violation.pointer.is_empty()
    };
    if !findings.iter().any(needs) {
        return;
    }
    let Ok(text) = std::fs::read_to_string(manifest_path) else {
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

fn read_text(path: &Path, out: &mut Vec<Finding>) -> Option<String> {
    match std::fs::read(path) {
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            out.push(Finding {
                file: path.to_path_buf(),
                violation: Violation::file("file", format!("cannot read: {e}")),
            });
            None
        }
    }
}

/// `eval/*.json` files are JSON objects; a file naming a `benchmark` reports the same
/// `value` as the manifest; every manifest benchmark has its result file.
fn eval_checks(dir: &Path, m: &Manifest, out: &mut Vec<Finding>) {
    let eval_dir = dir.join("eval");
    let mut covered: Vec<String> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&eval_dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for path in files {
        let mut fail = |msg: String| {
            out.push(Finding {
                file: path.clone(),
                violation: Violation::file("eval", msg),
            })
        };
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()));
        let obj = match parsed {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                fail("must be a JSON object".into());
                continue;
            }
            Err(e) => {
                fail(format!("is not valid JSON: {e}"));
                continue;
            }
        };
        let Some(bench) = obj.get("benchmark").and_then(Value::as_str) else {
            continue;
        };
        covered.push(bench.to_string());
        match (
            m.benchmarks.get(bench),
            obj.get("value").and_then(Value::as_f64),
        ) {
            (None, _) => fail(format!(
                "reports benchmark `{bench}`, which the manifest's `benchmarks` does not list"
            )),
            (Some(_), None) => fail(format!(
                "reports benchmark `{bench}` without a numeric `value`"
            )),
            (Some(want), Some(got)) if (want - got).abs() > 1e-9 => fail(format!(
                "reports {got} for `{bench}` but the manifest says {want}"
            )),
            _ => {}
        }
    }
    for bench in m.benchmarks.keys() {
        if !covered.contains(bench) {
            let mut v = Violation::at(
                format!("/benchmarks/{bench}"),
                "eval",
                format!("has no result file eval/{bench}.json (with \"benchmark\": \"{bench}\")"),
            );
            v.rule = "eval".into();
            out.push(Finding {
                file: dir.join(crate::corpus::MANIFEST_FILE),
                violation: v,
            });
        }
    }
}
