//! `rskill marketplace --out DIR`: a Claude Code plugin marketplace for the catalog's
//! groups, so a team adds the whole catalog to Claude Code in one step
//! (`/plugin marketplace add DIR`). Layout (the documented format):
//!
//! - `DIR/.claude-plugin/marketplace.json`: `name`, `owner` (`{name}`), `plugins[]`,
//!   each `{name, source, description, version}`;
//! - `DIR/plugins/<group>/.claude-plugin/plugin.json`: `{name, description, version}`;
//! - `DIR/plugins/<group>/skills/<member>/SKILL.md`: each member's agent description.
//!
//! Built from the in-repo corpus (the group files and the manifests they name, at the
//! versions the groups pin), so it needs no network. [`check`] validates a written
//! marketplace against the format (the tests and the command itself use it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rskill_manifest::agent_skill::{generate, skill_md_checks, skill_name_problem};
use rskill_manifest::group::{Group, harness_name};
use serde_json::{Value, json};

use crate::manifest::Manifest;

/// The marketplace file, relative to the output folder.
pub const MARKETPLACE_FILE: &str = ".claude-plugin/marketplace.json";
/// A plugin's manifest, relative to its folder.
pub const PLUGIN_FILE: &str = ".claude-plugin/plugin.json";

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    #[error("group {group}: member {member} {version}: {problem}")]
    Member {
        group: String,
        member: String,
        version: String,
        problem: String,
    },
    #[error("`{0}` is not a valid marketplace name: {1}")]
    Name(String, String),
    #[error("{}: {problem}", path.display())]
    Out { path: PathBuf, problem: String },
}

/// Every file of the marketplace (relative path, content), from the groups and the
/// corpus manifests by skill id.
pub fn build(
    name: &str,
    owner: &str,
    groups: &[Group],
    manifests: &BTreeMap<String, Manifest>,
) -> Result<Vec<(PathBuf, String)>, MarketplaceError> {
    if let Some(p) = skill_name_problem(name) {
        return Err(MarketplaceError::Name(name.into(), p));
    }
    let mut files = Vec::new();
    let mut plugins = Vec::new();
    for g in groups {
        let plugin = g.short_name().to_string();
        let dir = PathBuf::from("plugins").join(&plugin);
        for m in &g.members {
            let fail = |problem: &str| MarketplaceError::Member {
                group: g.name.clone(),
                member: m.id.clone(),
                version: m.version.clone(),
                problem: problem.into(),
            };
            let manifest = manifests
                .get(&m.id)
                .ok_or_else(|| fail("not in the corpus (no rskill.yaml names it)"))?;
            if manifest.version != m.version {
                return Err(fail(&format!(
                    "the corpus has version {}; the group pins {}",
                    manifest.version, m.version
                )));
            }
            let skill = harness_name(&m.id).ok_or_else(|| fail("no valid agent-skill name"))?;
            files.push((
                dir.join("skills").join(&skill).join("SKILL.md"),
                generate(manifest, &skill),
            ));
        }
        let plugin_json = json!({
            "name": plugin,
            "description": g.description,
            "version": g.version,
            "author": { "name": owner },
            "keywords": ["rskill", "robotics", "rskill-group"],
        });
        files.push((dir.join(PLUGIN_FILE), pretty(&plugin_json)));
        plugins.push(json!({
            "name": plugin,
            "source": format!("./plugins/{plugin}"),
            "description": g.description,
            "version": g.version,
        }));
    }
    let market = json!({
        "name": name,
        "owner": { "name": owner },
        "plugins": plugins,
    });
    files.push((PathBuf::from(MARKETPLACE_FILE), pretty(&market)));
    Ok(files)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON");
    s.push('\n');
    s
}

/// Writes the files under `out`. An existing `out` must be empty or a marketplace this
/// command wrote (its `plugins/` and `.claude-plugin/` are replaced).
pub fn write(out: &Path, files: &[(PathBuf, String)]) -> Result<(), MarketplaceError> {
    let io = |path: &Path, e: std::io::Error| MarketplaceError::Out {
        path: path.to_path_buf(),
        problem: e.to_string(),
    };
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| io(out, e))?
            .next()
            .is_none();
        if !empty && !out.join(MARKETPLACE_FILE).is_file() {
            return Err(MarketplaceError::Out {
                path: out.to_path_buf(),
                problem:
                    "exists, is not empty and holds no marketplace; name an empty or new folder"
                        .into(),
            });
        }
        for sub in ["plugins", ".claude-plugin"] {
            let p = out.join(sub);
            if p.is_dir() {
                std::fs::remove_dir_all(&p).map_err(|e| io(&p, e))?;
            }
        }
    }
    for (rel, text) in files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

/// Checks a written marketplace against the format; every problem, named by file and
/// field.
pub fn check(out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let read = |rel: &Path, problems: &mut Vec<String>| -> Option<Value> {
        let path = out.join(rel);
        match std::fs::read(&path).map(|b| serde_json::from_slice::<Value>(&b)) {
            Ok(Ok(v)) if v.is_object() => Some(v),
            Ok(Ok(_)) => {
                problems.push(format!("{}: not a JSON object", rel.display()));
                None
            }
            Ok(Err(e)) => {
                problems.push(format!("{}: invalid JSON: {e}", rel.display()));
                None
            }
            Err(e) => {
                problems.push(format!("{}: {e}", rel.display()));
                None
            }
        }
    };
    let need_str = |v: &Value, file: &str, field: &str, problems: &mut Vec<String>| {
        if v.get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!(
                "{file}: `{field}` is required (a non-empty string)"
            ));
        }
    };
    let Some(market) = read(Path::new(MARKETPLACE_FILE), &mut problems) else {
        return problems;
    };
    need_str(&market, MARKETPLACE_FILE, "name", &mut problems);
    if market
        .pointer("/owner/name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        problems.push(format!("{MARKETPLACE_FILE}: `owner.name` is required"));
    }
    let Some(plugins) = market.get("plugins").and_then(Value::as_array) else {
        problems.push(format!(
            "{MARKETPLACE_FILE}: `plugins` is required (an array)"
        ));
        return problems;
    };
    for (i, p) in plugins.iter().enumerate() {
        let at = format!("{MARKETPLACE_FILE} plugins[{i}]");
        for f in ["name", "source", "description", "version"] {
            need_str(p, &at, f, &mut problems);
        }
        let (Some(name), Some(source)) = (
            p.get("name").and_then(Value::as_str),
            p.get("source").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let Some(e) = skill_name_problem(name) {
            problems.push(format!("{at}: name `{name}` {e}"));
        }
        let Some(rel) = source.strip_prefix("./").filter(|r| !r.contains("..")) else {
            problems.push(format!(
                "{at}: source `{source}` must be a relative path starting with ./"
            ));
            continue;
        };
        let plugin_dir = PathBuf::from(rel);
        let pj = plugin_dir.join(PLUGIN_FILE);
        if let Some(v) = read(&pj, &mut problems) {
            for f in ["name", "description", "version"] {
                need_str(&v, &pj.display().to_string(), f, &mut problems);
            }
            if v.get("name").and_then(Value::as_str) != Some(name) {
                problems.push(format!(
                    "{}: name differs from the marketplace's `{name}`",
                    pj.display()
                ));
            }
        }
        let skills = out.join(&plugin_dir).join("skills");
        let entries: Vec<_> = std::fs::read_dir(&skills)
            .map(|rd| rd.filter_map(Result::ok).collect())
            .unwrap_or_default();
        if entries.is_empty() {
            problems.push(format!("{}: no skills", skills.display()));
        }
        for e in entries {
            let folder = e.file_name().to_string_lossy().into_owned();
            let md = e.path().join("SKILL.md");
            match std::fs::read_to_string(&md) {
                Ok(text) => {
                    for v in skill_md_checks(&text, Some(&folder)) {
                        problems.push(format!("{}: {} [{}]", md.display(), v.message, v.rule));
                    }
                }
                Err(err) => problems.push(format!("{}: {err}", md.display())),
            }
        }
    }
    problems
}
