//! Skill groups (`rskill-group.yaml`): a versioned, immutable set of skills at exact
//! versions, tested together and installed as one unit. This module owns the file
//! format: loading (YAML → JSON Schema `schemas/rskill-group.schema.json` → typed
//! [`Group`] → cross-field rules), finding group folders in a corpus (`groups/<name>/`),
//! and the harness name a member's `SKILL.md` folder gets, which must be unique in a
//! group. Format documented in `docs/groups.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::agent_skill::{MAX_SKILL_NAME_CHARS, skill_name_problem};
use crate::diagnostic::Violation;
use crate::{schema, yaml};

/// The group definition's file name, in a group folder and at the root of a group repo.
pub const GROUP_FILE: &str = "rskill-group.yaml";
/// Where a corpus keeps its groups (`groups/<name>/rskill-group.yaml`).
pub const DEFAULT_GROUPS_DIR: &str = "groups";
/// Every group repo's name starts with this, so group and skill repos never mix.
pub const GROUP_REPO_PREFIX: &str = "rskill-group-";
/// Largest group file accepted (a group file is a few hundred bytes).
pub const MAX_GROUP_BYTES: u64 = 256 * 1024;

/// A group definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default = "format_one")]
    pub format: u32,
    /// The group repo id (`org/rskill-group-<name>`).
    pub name: String,
    pub version: String,
    pub description: String,
    pub members: Vec<Member>,
}

fn format_one() -> u32 {
    1
}

/// One member: a skill at an exact version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl Group {
    /// The part of the repo name after `rskill-group-` (the marketplace plugin name).
    pub fn short_name(&self) -> &str {
        let repo = self.name.split('/').nth(1).unwrap_or(&self.name);
        repo.strip_prefix(GROUP_REPO_PREFIX).unwrap_or(repo)
    }

    /// The group file's bytes as rskill writes them (deterministic).
    pub fn to_yaml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let mut out = format!(
            "format: 1\nname: {}\nversion: {}\ndescription: {}\nmembers:\n",
            q(&self.name),
            q(&self.version),
            q(&self.description)
        );
        for m in &self.members {
            out.push_str(&format!(
                "  - id: {}\n    version: {}\n",
                q(&m.id),
                q(&m.version)
            ));
            if let Some(a) = &m.alias {
                out.push_str(&format!("    alias: {}\n", q(a)));
            }
            if let Some(c) = &m.commit {
                out.push_str(&format!("    commit: {}\n", q(c)));
            }
        }
        out
    }
}

/// The outcome of checking a group file.
#[derive(Debug, Clone)]
pub struct GroupCheck {
    pub group: Option<Group>,
    pub violations: Vec<Violation>,
}

impl GroupCheck {
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty() && self.group.is_some()
    }

    fn fail(v: Violation) -> GroupCheck {
        GroupCheck {
            group: None,
            violations: vec![v],
        }
    }
}

/// The folder name a skill's `SKILL.md` gets in a harness (`.claude/skills/<name>/`):
/// the repo name lowercased, every other character than a letter or digit a hyphen,
/// hyphens collapsed, at most 64 characters (the Agent Skills name rules). `None` when
/// nothing is left.
pub fn harness_name(repo_id: &str) -> Option<String> {
    let name = repo_id.rsplit('/').next().unwrap_or(repo_id);
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out
        .trim_matches('-')
        .chars()
        .take(MAX_SKILL_NAME_CHARS)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    (skill_name_problem(&out).is_none()).then_some(out)
}

/// Checks group text (UTF-8 YAML).
pub fn check_text(text: &str) -> GroupCheck {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return GroupCheck::fail(Violation::file("file", "the file is empty"));
    }
    let value = match yaml::load(text, true) {
        Ok((value, positions)) => {
            let mut check = check_value(value);
            for v in &mut check.violations {
                v.locate(&positions);
            }
            return check;
        }
        Err(e) => e,
    };
    let mut v = Violation::file("yaml", value.message);
    if let Some(p) = value.pos {
        v.line = Some(p.line);
        v.column = Some(p.column);
    }
    GroupCheck::fail(v)
}

/// Checks bytes (from a file or a Hub: hostile, bounded by the caller).
pub fn check_bytes(bytes: &[u8]) -> GroupCheck {
    match std::str::from_utf8(bytes) {
        Ok(t) => check_text(t),
        Err(e) => GroupCheck::fail(Violation::file(
            "file",
            format!(
                "not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )),
    }
}

/// Reads and checks a group file.
pub fn check_file(path: &Path) -> GroupCheck {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return GroupCheck::fail(Violation::file(
                "file",
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    if !meta.is_file() {
        return GroupCheck::fail(Violation::file(
            "file",
            format!("{} is not a regular file", path.display()),
        ));
    }
    if meta.len() > MAX_GROUP_BYTES {
        return GroupCheck::fail(Violation::file(
            "file",
            format!(
                "file is larger than {} KiB; a group file is a short list",
                MAX_GROUP_BYTES / 1024
            ),
        ));
    }
    match std::fs::read(path) {
        Ok(b) => check_bytes(&b),
        Err(e) => GroupCheck::fail(Violation::file(
            "file",
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Schema, typed model, then the rules.
pub fn check_value(value: Value) -> GroupCheck {
    if !value.is_object() {
        return GroupCheck::fail(Violation::file(
            "schema/type",
            "a group file must be a YAML mapping (name, version, description, members)",
        ));
    }
    let violations = schema::check_group(&value);
    if !violations.is_empty() {
        return GroupCheck {
            group: None,
            violations,
        };
    }
    let group: Group = match serde_json::from_value(value) {
        Ok(g) => g,
        Err(e) => return GroupCheck::fail(Violation::file("schema/type", e.to_string())),
    };
    let violations = rules(&group);
    GroupCheck {
        group: Some(group),
        violations,
    }
}

/// The rules the schema cannot say.
fn rules(g: &Group) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, m) in g.members.iter().enumerate() {
        let at = |field: &str| format!("/members/{i}/{field}");
        let (owner, repo) = m.id.split_once('/').unwrap_or((&m.id, ""));
        if let Err(e) = rskill_hub_protocol::hub_names::check_repo_id(owner, repo) {
            out.push(Violation::at(
                at("id"),
                "group/member-id",
                format!("`{}` is not a Hub repo id: {e}", m.id),
            ));
        }
        if m.id.eq_ignore_ascii_case(&g.name) {
            out.push(Violation::at(
                at("id"),
                "group/cycle",
                format!("the group `{}` names itself as a member", g.name),
            ));
        } else if repo.starts_with(GROUP_REPO_PREFIX) {
            out.push(Violation::at(
                at("id"),
                "group/nesting",
                format!(
                    "`{}` is a group; groups hold skills, not other groups (list its members instead)",
                    m.id
                ),
            ));
        }
        if let Some(first) = ids.insert(m.id.to_ascii_lowercase(), i) {
            out.push(Violation::at(
                at("id"),
                "group/duplicate-member",
                format!("`{}` is already members[{first}]", m.id),
            ));
            continue;
        }
        match harness_name(&m.id) {
            None => out.push(Violation::at(
                at("id"),
                "group/harness-name",
                format!("`{}` gives no valid agent-skill name", m.id),
            )),
            Some(n) => {
                if let Some(first) = names.insert(n.clone(), i) {
                    out.push(Violation::at(
                        at("id"),
                        "group/harness-name",
                        format!(
                            "`{}` and members[{first}] (`{}`) would both install as the harness skill `{n}`",
                            m.id, g.members[first].id
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Parses a group for callers that need a valid one; every finding otherwise.
pub fn parse_valid(bytes: &[u8]) -> Result<Group, Vec<Violation>> {
    let check = check_bytes(bytes);
    match check.group {
        Some(g) if check.violations.is_empty() => Ok(g),
        _ => Err(check.violations),
    }
}

/// The group files under `path`: the file itself, a group folder, or a folder of group
/// folders (`groups/`). Sorted; empty when there are none.
pub fn discover(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return if path.file_name().is_some_and(|n| n == GROUP_FILE) {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    if path.join(GROUP_FILE).is_file() {
        return vec![path.join(GROUP_FILE)];
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path().join(GROUP_FILE))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "name: acme/rskill-group-cell\nversion: 1.0.0\ndescription: A pick-and-place cell tested together on one Franka arm.\nmembers:\n  - id: acme/rskill-detector\n    version: 1.0.0\n  - id: acme/rskill-grasp\n    version: 2.1.0\n    alias: production\n";

    fn rules_of(text: &str) -> Vec<String> {
        check_text(text)
            .violations
            .iter()
            .map(|v| format!("{} {} {}", v.rule, v.field, v.line.unwrap_or(0)))
            .collect()
    }

    #[test]
    fn a_valid_group_parses_and_round_trips() {
        let g = parse_valid(OK.as_bytes()).unwrap();
        assert_eq!(g.members.len(), 2);
        assert_eq!(g.short_name(), "cell");
        assert_eq!(parse_valid(g.to_yaml().as_bytes()).unwrap(), g);
    }

    #[test]
    fn bad_groups_name_the_field_and_the_rule() {
        let missing = OK.replace("    version: 2.1.0\n", "");
        assert!(
            rules_of(&missing)[0].starts_with("schema/required members[1]"),
            "{:?}",
            rules_of(&missing)
        );
        let dup = OK.replace("acme/rskill-grasp", "acme/rskill-detector");
        assert_eq!(rules_of(&dup), ["group/duplicate-member members[1].id 7"]);
        let nested = OK.replace("acme/rskill-grasp", "acme/rskill-group-other");
        assert_eq!(rules_of(&nested), ["group/nesting members[1].id 7"]);
        let cycle = OK.replace("acme/rskill-grasp", "acme/rskill-group-cell");
        assert_eq!(rules_of(&cycle), ["group/cycle members[1].id 7"]);
        let clash = OK.replace("acme/rskill-grasp", "other/rskill-detector");
        assert_eq!(rules_of(&clash), ["group/harness-name members[1].id 7"]);
        let not_group = OK.replace("acme/rskill-group-cell", "acme/cell");
        assert!(rules_of(&not_group)[0].starts_with("schema/pattern name"));
        let extra = OK.replace("    alias: production\n", "    alais: production\n");
        assert!(rules_of(&extra)[0].starts_with("schema/additionalProperties members[1]"));
    }

    #[test]
    fn harness_names_follow_the_agent_skills_rules() {
        assert_eq!(
            harness_name("acme/rskill-Pick_Cube.v2").as_deref(),
            Some("rskill-pick-cube-v2")
        );
        assert_eq!(harness_name("acme/--x--").as_deref(), Some("x"));
        assert_eq!(harness_name("acme/___"), None);
        assert_eq!(
            harness_name(&format!("a/{}", "b".repeat(90)))
                .unwrap()
                .len(),
            64
        );
    }
}
