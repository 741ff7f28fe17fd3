//! Reserved tags: the deterministic projection of a manifest into its model card's
//! front-matter `tags` (what the Hub indexes and search can push down), plus the card
//! `license` metadata that must agree with the manifest's posture.
//!
//! Order: `rskill-org:<org>`, `rskill`, `rskill-kind:<kind>`, `rskill-role:<role>`,
//! `embodiment:<tag>` (sorted), `license:<posture>`, then the card's free-form tags in
//! their own order. The reserved prefixes belong to the tool: a free-form tag that
//! uses one is replaced.

use serde_json::Value;

use crate::card;
use crate::diagnostic::Violation;
use crate::manifest::Manifest;

/// The tag every rSkill repo carries (search across the Hub looks for it).
pub const RSKILL_TAG: &str = "rskill";
pub const ORG_PREFIX: &str = "rskill-org:";
pub const KIND_PREFIX: &str = "rskill-kind:";
pub const ROLE_PREFIX: &str = "rskill-role:";
pub const EMBODIMENT_PREFIX: &str = "embodiment:";
pub const LICENSE_PREFIX: &str = "license:";

/// Whether the tool owns this tag.
pub fn is_reserved(tag: &str) -> bool {
    tag == RSKILL_TAG
        || [
            ORG_PREFIX,
            KIND_PREFIX,
            ROLE_PREFIX,
            EMBODIMENT_PREFIX,
            LICENSE_PREFIX,
        ]
        .iter()
        .any(|p| tag.starts_with(p))
}

/// The reserved tags of a manifest, in their canonical order.
pub fn reserved_tags(m: &Manifest) -> Vec<String> {
    let mut tags = vec![
        format!("{ORG_PREFIX}{}", m.org()),
        RSKILL_TAG.to_string(),
        format!("{KIND_PREFIX}{}", m.kind),
        format!("{ROLE_PREFIX}{}", m.role),
    ];
    let mut embodiments: Vec<&str> = m.embodiment_tags.iter().map(|e| e.as_str()).collect();
    embodiments.sort_unstable();
    embodiments.dedup();
    tags.extend(
        embodiments
            .iter()
            .map(|e| format!("{EMBODIMENT_PREFIX}{e}")),
    );
    tags.push(format!("{LICENSE_PREFIX}{}", m.license));
    tags
}

/// The full tag list a card should have: reserved tags, then the free-form ones kept.
pub fn expected_tags(current: &[String], m: &Manifest) -> Vec<String> {
    let mut tags = reserved_tags(m);
    for t in current {
        if !is_reserved(t) && !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags
}

/// How a card's metadata differs from what its manifest projects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagDrift {
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
    pub misordered: bool,
    /// `(found, expected)` descriptions of the card license, when they disagree.
    pub license: Option<(String, String)>,
}

impl TagDrift {
    pub fn is_clean(&self) -> bool {
        *self == TagDrift::default()
    }

    /// The card was never tagged: no reserved tag at all, and license metadata that
    /// agrees or is absent. Such a card is not wrong, only not yet ready to publish
    /// (catalogs written without rskill look like this).
    pub fn is_untagged(&self, meta: &serde_json::Map<String, Value>) -> bool {
        card::tags(meta).iter().all(|t| !is_reserved(t))
            && (self.license.is_none() || !meta.contains_key("license"))
    }

    /// One finding per kind of drift.
    pub fn violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        if !self.missing.is_empty() {
            out.push(Violation::file(
                "tags",
                format!(
                    "README.md is missing reserved tags: {}",
                    self.missing.join(", ")
                ),
            ));
        }
        if !self.unexpected.is_empty() {
            out.push(Violation::file(
                "tags",
                format!(
                    "README.md has reserved tags the manifest does not project: {}",
                    self.unexpected.join(", ")
                ),
            ));
        }
        if self.misordered {
            out.push(Violation::file(
                "tags",
                "README.md reserved tags are not in canonical order",
            ));
        }
        if let Some((found, expected)) = &self.license {
            out.push(Violation::file(
                "tags",
                format!(
                    "README.md license metadata is {found}; the manifest posture needs {expected}"
                ),
            ));
        }
        for v in &mut out {
            v.message.push_str(" (run `rskill tags --write`)");
        }
        out
    }
}

/// Compares a card's tags and license with the manifest's projection.
pub fn drift(meta: &serde_json::Map<String, Value>, m: &Manifest) -> TagDrift {
    let current = card::tags(meta);
    let want = reserved_tags(m);
    let have: Vec<&String> = current.iter().filter(|t| is_reserved(t)).collect();
    let missing: Vec<String> = want.iter().filter(|t| !have.contains(t)).cloned().collect();
    let unexpected: Vec<String> = have
        .iter()
        .filter(|t| !want.contains(t))
        .map(|t| t.to_string())
        .collect();
    let misordered = missing.is_empty()
        && unexpected.is_empty()
        && current.iter().take(want.len()).ne(want.iter());
    let license = meta.get("license").and_then(Value::as_str);
    let license_name = meta.get("license_name").and_then(Value::as_str);
    let license = (!m.license.card_agrees(license, license_name)).then(|| {
        let (id, name) = m.license.card_license();
        let show = |l: Option<&str>, n: Option<&str>| match (l, n) {
            (Some(l), Some(n)) => format!("`license: {l}` + `license_name: {n}`"),
            (Some(l), None) => format!("`license: {l}`"),
            (None, _) => "absent".to_string(),
        };
        (show(license, license_name), show(Some(id), name))
    });
    TagDrift {
        missing,
        unexpected,
        misordered,
        license,
    }
}

/// Rewrites a card's front matter so that its tags and license agree with the
/// manifest. Other front-matter lines and the whole body are kept byte-for-byte.
pub fn rewrite_card(text: &str, m: &Manifest) -> Result<String, String> {
    let c = card::split(text)?;
    let meta = card::metadata(&c)?;
    let tags = expected_tags(&card::tags(&meta), m);
    let (license_id, license_name) = m.license.card_license();
    let mut license_block = format!("license: {license_id}\n");
    if let Some(name) = license_name {
        license_block.push_str(&format!("license_name: {name}\n"));
    }
    let mut tags_block = String::from("tags:\n");
    for t in &tags {
        tags_block.push_str(&format!("- {}\n", yaml_scalar(t)));
    }

    let fm = c.front_matter.unwrap_or("");
    let mut blocks = top_level_blocks(fm);
    let mut out = String::new();
    let mut wrote_license = false;
    let mut wrote_tags = false;
    // Keys the tool writes go where the card had them; missing ones go first.
    if !blocks.iter().any(|(k, _)| k.as_deref() == Some("license")) {
        out.push_str(&license_block);
        wrote_license = true;
    }
    if !blocks.iter().any(|(k, _)| k.as_deref() == Some("tags")) {
        out.push_str(&tags_block);
        wrote_tags = true;
    }
    for (key, block) in blocks.drain(..) {
        match key.as_deref() {
            Some("license") if !wrote_license => {
                out.push_str(&license_block);
                wrote_license = true;
            }
            Some("license") | Some("license_name") => {}
            Some("tags") if !wrote_tags => {
                out.push_str(&tags_block);
                wrote_tags = true;
            }
            Some("tags") => {}
            _ => out.push_str(block),
        }
    }
    let mut result = String::from("---\n");
    result.push_str(&out);
    if !result.ends_with('\n') {
        result.push('\n');
    }
    result.push_str("---\n");
    result.push_str(c.body);
    Ok(result)
}

/// Splits front matter into top-level blocks: `(Some(key), text)` for a key with its
/// continuation lines, `(None, text)` for leading comments or blank lines.
fn top_level_blocks(fm: &str) -> Vec<(Option<String>, &str)> {
    let mut blocks: Vec<(Option<String>, usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in fm.split_inclusive('\n') {
        let key = top_level_key(line);
        match (key, blocks.last_mut()) {
            (Some(k), _) => blocks.push((Some(k), offset, offset + line.len())),
            (None, Some(last)) => last.2 = offset + line.len(),
            (None, None) => blocks.push((None, offset, offset + line.len())),
        }
        offset += line.len();
    }
    blocks.into_iter().map(|(k, s, e)| (k, &fm[s..e])).collect()
}

fn top_level_key(line: &str) -> Option<String> {
    let first = line.chars().next()?;
    if first.is_whitespace() || matches!(first, '-' | '#') {
        return None;
    }
    let (key, _) = line.split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    (!key.is_empty()).then(|| key.to_string())
}

/// A tag as a YAML scalar: plain when safe, double-quoted otherwise.
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/+".contains(c))
        && !s.contains(": ")
        && crate::yaml::load(s, false).is_ok_and(|(v, _)| v.as_str() == Some(s));
    if plain {
        s.to_string()
    } else {
        Value::String(s.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        crate::validate::parse_valid(
            r#"
name: acme/rskill-x
version: 1.0.0
license: nvidia_non_commercial
kind: wam
embodiment_tags: [ur5e, franka_panda]
chunk_size: 1
latency_budget: {per_chunk_ms: 10}
description: A world-action model predicting future frames and actions.
actions: [pick]
"#,
        )
        .unwrap()
    }

    #[test]
    fn projection_is_canonical() {
        assert_eq!(
            reserved_tags(&manifest()),
            vec![
                "rskill-org:acme",
                "rskill",
                "rskill-kind:wam",
                "rskill-role:s1",
                "embodiment:franka_panda",
                "embodiment:ur5e",
                "license:nvidia_non_commercial"
            ]
        );
    }

    #[test]
    fn rewrite_keeps_body_and_other_keys_and_is_idempotent() {
        let m = manifest();
        let text = "---\n# card metadata\nlicense: mit\npipeline_tag: robotics\ntags:\n  - robotics\n  - rskill-kind:vla\nlibrary_name: lerobot\n---\n# Body\n\n  stays *exactly*\r\n";
        let out = rewrite_card(text, &m).unwrap();
        assert!(
            out.ends_with("---\n# Body\n\n  stays *exactly*\r\n"),
            "{out}"
        );
        assert!(out.contains("# card metadata\nlicense: other\nlicense_name: nvidia-non-commercial\npipeline_tag: robotics\ntags:\n- rskill-org:acme\n"), "{out}");
        assert!(
            out.contains("- license:nvidia_non_commercial\n- robotics\nlibrary_name: lerobot\n"),
            "{out}"
        );
        let meta = card::metadata(&card::split(&out).unwrap()).unwrap();
        assert!(drift(&meta, &m).is_clean());
        assert_eq!(rewrite_card(&out, &m).unwrap(), out);
    }

    #[test]
    fn rewrite_adds_front_matter_to_a_bare_card() {
        let m = manifest();
        let out = rewrite_card("# Just a body\n", &m).unwrap();
        assert!(out.starts_with("---\nlicense: other\n"));
        assert!(out.ends_with("---\n# Just a body\n"));
    }

    #[test]
    fn drift_names_what_is_wrong() {
        let m = manifest();
        let meta = card::metadata(
            &card::split("---\nlicense: mit\ntags: [rskill, rskill-kind:vla]\n---\n").unwrap(),
        )
        .unwrap();
        let d = drift(&meta, &m);
        assert!(d.missing.contains(&"rskill-kind:wam".to_string()));
        assert_eq!(d.unexpected, vec!["rskill-kind:vla"]);
        assert!(d.license.is_some());
        assert_eq!(d.violations().len(), 3);
    }

    #[test]
    fn odd_tags_are_quoted() {
        assert_eq!(yaml_scalar("robotics"), "robotics");
        assert_eq!(yaml_scalar("a b"), "\"a b\"");
        assert_eq!(yaml_scalar("true"), "\"true\"");
        assert_eq!(yaml_scalar("1.5"), "\"1.5\"");
    }
}
