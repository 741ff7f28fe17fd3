//! Agent descriptions (`SKILL.md`, the Agent Skills format that coding-agent harnesses
//! read): the checks a skill's `SKILL.md` must pass, and the deterministic generation
//! of one from the manifest, so that an author never writes it by hand.

use serde_json::Value;

use crate::card::{metadata, named, split};
use crate::diagnostic::Violation;
use crate::manifest::Manifest;

/// Longest agent-description `name`.
pub const MAX_SKILL_NAME_CHARS: usize = 64;
/// Longest agent-description `description`.
pub const MAX_SKILL_DESCRIPTION_CHARS: usize = 1024;
/// Longest agent-description `compatibility`.
pub const MAX_SKILL_COMPATIBILITY_CHARS: usize = 500;

/// Why `name` is not a valid agent-skill name (1–64 lowercase letters, digits and
/// hyphens; no leading, trailing or doubled hyphen), if it is not.
pub fn skill_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 || len > MAX_SKILL_NAME_CHARS {
        return Some(format!(
            "is {len} characters long; 1 to {MAX_SKILL_NAME_CHARS} required"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "contains {c:?}; only lowercase letters, digits and hyphens are allowed"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("starts or ends with a hyphen".into());
    }
    if name.contains("--") {
        return Some("contains a doubled hyphen".into());
    }
    None
}

/// Checks of an agent description (`SKILL.md`, the Agent Skills format). `folder`
/// is the name of the folder holding it, which `name` must equal, when known.
pub fn skill_md_checks(text: &str, folder: Option<&str>) -> Vec<Violation> {
    let mut out = Vec::new();
    let meta = match split(text).and_then(|c| metadata(&c)) {
        Ok(m) => m,
        Err(e) => {
            out.push(named("skill_md", "skill-md", format!("SKILL.md: {e}")));
            return out;
        }
    };
    let field = |key: &str| format!("skill_md.{key}");
    match meta.get("name") {
        Some(Value::String(name)) => {
            if let Some(problem) = skill_name_problem(name) {
                out.push(named(
                    &field("name"),
                    "skill-md/name",
                    format!("\"{name}\" {problem}"),
                ));
            } else if let Some(folder) = folder.filter(|f| f != name) {
                out.push(named(
                    &field("name"),
                    "skill-md/name",
                    format!("\"{name}\" must equal the name of the skill's folder, \"{folder}\""),
                ));
            }
        }
        Some(other) => out.push(named(
            &field("name"),
            "skill-md/name",
            format!("must be a string, found {other}"),
        )),
        None => out.push(named(
            &field("name"),
            "skill-md/name",
            "SKILL.md front matter needs a `name`",
        )),
    }
    let text_field =
        |key: &str, max: usize, required: bool, out: &mut Vec<Violation>| match meta.get(key) {
            Some(Value::String(s)) => {
                let n = s.trim().chars().count();
                if (required && n == 0) || s.chars().count() > max {
                    out.push(named(
                        &field(key),
                        &format!("skill-md/{key}"),
                        format!(
                            "is {} characters long; {} to {max} allowed",
                            s.chars().count(),
                            usize::from(required)
                        ),
                    ));
                }
            }
            Some(Value::Null) | None if !required => {}
            Some(other) => out.push(named(
                &field(key),
                &format!("skill-md/{key}"),
                format!("must be a string, found {other}"),
            )),
            None => out.push(named(
                &field(key),
                &format!("skill-md/{key}"),
                format!("SKILL.md front matter needs a `{key}`"),
            )),
        };
    text_field("description", MAX_SKILL_DESCRIPTION_CHARS, true, &mut out);
    text_field(
        "compatibility",
        MAX_SKILL_COMPATIBILITY_CHARS,
        false,
        &mut out,
    );
    text_field("license", usize::MAX, false, &mut out);
    if let Some(tools) = meta.get("allowed-tools") {
        let ok = match tools {
            Value::String(_) | Value::Null => true,
            Value::Array(items) => items.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            out.push(named(
                &field("allowed-tools"),
                "skill-md/allowed-tools",
                "must be a string of tool names (or a list of them)",
            ));
        }
    }
    // `metadata` asks for string values, but catalogs put richer YAML there: any
    // mapping is accepted.
    if let Some(m) = meta.get("metadata")
        && !(m.is_object() || m.is_null())
    {
        out.push(named(
            &field("metadata"),
            "skill-md/metadata",
            "must be a mapping",
        ));
    }
    out
}

/// The name of a skill's folder (`rskills/<name>/`), which its `SKILL.md` must use.
pub fn folder_name(dir: &std::path::Path) -> Option<String> {
    let real = std::fs::canonicalize(dir).ok()?;
    real.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// A `SKILL.md` for the skill whose manifest is `m`, held in the folder `folder`
/// (its `name`). The same manifest always gives the same bytes.
pub fn generate(m: &Manifest, folder: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let description: String = collapse(&m.description)
        .chars()
        .take(MAX_SKILL_DESCRIPTION_CHARS)
        .collect();
    let join = |items: Vec<String>| items.join(", ");
    let embodiments = join(m.embodiment_tags.iter().map(|t| t.to_string()).collect());
    let actions = join(m.actions.iter().map(|a| a.to_string()).collect());
    let mut out = String::new();
    out.push_str("---\n");
    out.push_str(&format!("name: {}\n", quote(folder)));
    out.push_str(&format!("description: {}\n", quote(&description)));
    out.push_str(&format!("license: {}\n", quote(m.license.as_str())));
    out.push_str("metadata:\n");
    for (key, value) in [
        ("rskill-id", m.name.clone()),
        ("version", m.version.clone()),
        ("kind", m.kind.to_string()),
        ("role", m.role.to_string()),
        ("runtime", m.runtime.to_string()),
        ("embodiments", embodiments.clone()),
        ("actions", actions.clone()),
    ] {
        out.push_str(&format!("  {key}: {}\n", quote(&value)));
    }
    out.push_str("---\n\n");
    out.push_str(&format!("# {folder}\n\n"));
    out.push_str(&format!(
        "rSkill `{}` {} (kind `{}`, role `{}`, license `{}`, embodiments `{}`).\n\n",
        m.name, m.version, m.kind, m.role, m.license, embodiments
    ));
    out.push_str("## What it does\n\n");
    out.push_str(&description);
    out.push_str(&format!("\n\nActions: {actions}."));
    if !m.objects.is_empty() {
        out.push_str(&format!(" Objects: {}.", m.objects.join(", ")));
    }
    if !m.scenes.is_empty() {
        out.push_str(&format!(" Scenes: {}.", m.scenes.join(", ")));
    }
    out.push_str("\n\n## What it needs\n\n");
    out.push_str(&format!("- Runtime: `{}`", m.runtime));
    if let Some(w) = &m.weights_uri {
        out.push_str(&format!(", weights `{w}`"));
    }
    out.push_str(".\n");
    for s in &m.sensors_required {
        let mut line = format!("- Sensor: `{}`", s.modality);
        if let Some(k) = &s.vla_feature_key {
            line.push_str(&format!(" as `{k}`"));
        }
        if let (Some(w), Some(h)) = (s.min_width, s.min_height) {
            line.push_str(&format!(", at least {w}x{h}"));
        }
        out.push_str(&line);
        out.push_str(".\n");
    }
    for a in &m.actuators_required {
        let mut line = format!(
            "- Actuator: `{}` ({})",
            a.kind, a.control_mode_semantics.mode
        );
        if let Some(n) = a.n_dof {
            line.push_str(&format!(", {n} DoF"));
        }
        out.push_str(&line);
        out.push_str(".\n");
    }
    out.push_str(&format!(
        "- Latency: {} ms per chunk of {} step(s).\n",
        m.latency_budget.per_chunk_ms, m.chunk_size
    ));
    if !m.benchmarks.is_empty() {
        out.push_str("\n## Benchmarks\n\n");
        for (k, v) in &m.benchmarks {
            out.push_str(&format!("- `{k}`: {v}\n"));
        }
    }
    out.push_str(&format!(
        "\n## Install\n\n`rskill install {}@v{}`\n",
        m.name, m.version
    ));
    out
}

/// Whitespace runs (a folded YAML description's line breaks) as single spaces.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
