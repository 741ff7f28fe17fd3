//! Model cards (`README.md`) and agent descriptions (`SKILL.md`): YAML front matter
//! between `---` lines, then Markdown. Reading the metadata the Hub indexes (tags,
//! license), rewriting only the front matter, and the documentation checks that gate
//! publishing.

use serde_json::Value;

use crate::diagnostic::Violation;
use crate::manifest::Manifest;
use crate::yaml;

/// A card split into its front matter and body. `body` is byte-for-byte the text
/// after the closing `---` line.
#[derive(Debug, Clone)]
pub struct Card<'a> {
    /// The front matter YAML (without the `---` lines), if the card has one.
    pub front_matter: Option<&'a str>,
    pub body: &'a str,
    /// Line number (1-based) of the first front matter line, to locate findings.
    pub front_matter_first_line: usize,
}

/// Splits a card. A card without an opening `---` line has no front matter; an
/// opening line without a closing one is an error.
pub fn split(text: &str) -> Result<Card<'_>, String> {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok(Card {
            front_matter: None,
            body: text,
            front_matter_first_line: 0,
        });
    };
    let opening = text.len() - rest.len();
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare == "..." {
            return Ok(Card {
                front_matter: Some(&rest[..offset]),
                body: &text[opening + offset + line.len()..],
                front_matter_first_line: 2,
            });
        }
        offset += line.len();
    }
    Err("front matter opened with `---` is never closed".into())
}

/// The parsed front matter as a mapping (empty when there is none).
pub fn metadata(card: &Card<'_>) -> Result<serde_json::Map<String, Value>, String> {
    let Some(fm) = card.front_matter else {
        return Ok(Default::default());
    };
    if fm.trim().is_empty() {
        return Ok(Default::default());
    }
    match yaml::load(fm, false) {
        Ok((Value::Object(map), _)) => Ok(map),
        Ok((Value::Null, _)) => Ok(Default::default()),
        Ok(_) => Err("front matter must be a YAML mapping".into()),
        Err(e) => Err(match e.pos {
            Some(p) => format!(
                "front matter line {}: {}",
                p.line + card.front_matter_first_line - 1,
                e.message
            ),
            None => e.message,
        }),
    }
}

/// The `tags` of a card's metadata, as the Hub indexes them (strings only).
pub fn tags(meta: &serde_json::Map<String, Value>) -> Vec<String> {
    match meta.get("tags") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The tags a Hub listing shows for a repo whose README is `text` (empty on any error).
pub fn tags_of_card_text(text: &str) -> Vec<String> {
    split(text)
        .ok()
        .and_then(|c| metadata(&c).ok())
        .map(|m| tags(&m))
        .unwrap_or_default()
}

/// Text that marks an unfinished template.
pub const PLACEHOLDER_SENTINELS: &[&str] = &[
    "TODO:",
    "FIXME:",
    "TBD:",
    "XXX:",
    "<fill-in>",
    "<fill in>",
    "TEMPLATE_ORG",
    "REPLACE_ME",
    "lorem ipsum",
    "Lorem ipsum",
];

/// Descriptions that are scaffold text rather than a description.
const SCAFFOLD_DESCRIPTIONS: &[&str] = &[
    "a short description",
    "describe your skill",
    "describe the skill",
    "description of the skill",
    "one-line description",
    "my new skill",
    "an rskill",
    "a new rskill",
];

/// Minimum size of a model card body.
pub const MIN_CARD_CHARS: usize = 200;
/// Minimum size of a manifest description.
pub const MIN_DESCRIPTION_CHARS: usize = 30;

/// The sections every card documents, each as (what it is, words that may name it).
pub const REQUIRED_SECTIONS: &[(&str, &[&str])] = &[
    ("upstream model", &["upstream"]),
    ("supported robots / embodiments", &["robot", "embodiment"]),
    ("sensors / observation contract", &["sensor", "observation"]),
    ("manifest summary", &["manifest"]),
    ("license", &["license", "licence"]),
];

/// Markdown ATX headings outside fenced code blocks, lower-cased.
fn headings(body: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence && t.starts_with('#') {
            let text = t.trim_start_matches('#');
            if text.starts_with(' ') || text.is_empty() {
                out.push(text.trim().to_lowercase());
            }
        }
    }
    out
}

/// Lines (1-based) of `text` holding a placeholder sentinel, with the sentinel.
pub fn placeholders(text: &str) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for s in PLACEHOLDER_SENTINELS {
            if line.contains(s) {
                out.push((i + 1, *s));
            }
        }
    }
    out
}

/// Documentation checks of a model card against its manifest (the publish gate).
/// `card_text` is `None` when the skill has no README.md.
pub fn documentation_checks(card_text: Option<&str>, manifest: &Manifest) -> Vec<Violation> {
    let mut out = Vec::new();
    let description = manifest.description.trim();
    if description.chars().count() < MIN_DESCRIPTION_CHARS {
        out.push(Violation::at(
            "/description",
            "card/description",
            format!(
                "is {} characters; describe the skill in at least {MIN_DESCRIPTION_CHARS}",
                description.chars().count()
            ),
        ));
    } else {
        let lower = description.to_lowercase();
        if let Some(s) = SCAFFOLD_DESCRIPTIONS.iter().find(|s| lower.starts_with(*s)) {
            out.push(Violation::at(
                "/description",
                "card/description",
                format!("is scaffold text (\"{s}…\"); say what the skill does, on which robot"),
            ));
        }
    }
    if manifest.paper_url.is_none() && manifest.source_repo.is_none() {
        out.push(Violation::at(
            "/paper_url",
            "card/provenance",
            "set `paper_url` or `source_repo` so users can trace where the skill comes from",
        ));
        out.last_mut().unwrap().field = "paper_url, source_repo".into();
    }
    for (_, s) in placeholders(&manifest.description) {
        out.push(Violation::at(
            "/description",
            "card/placeholder",
            format!("contains the placeholder `{s}`"),
        ));
    }
    let Some(text) = card_text else {
        out.push(Violation::file(
            "card/missing",
            "README.md (the model card) is missing",
        ));
        return out;
    };
    let card = match split(text) {
        Ok(c) => c,
        Err(e) => {
            out.push(Violation::file(
                "card/front-matter",
                format!("README.md: {e}"),
            ));
            return out;
        }
    };
    if let Err(e) = metadata(&card) {
        out.push(Violation::file(
            "card/front-matter",
            format!("README.md: {e}"),
        ));
    }
    let body_chars = card.body.trim().chars().count();
    if body_chars < MIN_CARD_CHARS {
        out.push(Violation::file(
            "card/length",
            format!(
                "README.md has {body_chars} characters of text; at least {MIN_CARD_CHARS} required"
            ),
        ));
    }
    let found = headings(card.body);
    for (what, words) in REQUIRED_SECTIONS {
        if !found.iter().any(|h| words.iter().any(|w| h.contains(w))) {
            out.push(Violation::file(
                "card/section",
                format!(
                    "README.md has no section on the {what} (a heading containing \"{}\")",
                    words.join("\" or \"")
                ),
            ));
        }
    }
    for (line, s) in placeholders(text) {
        let mut v = Violation::file(
            "card/placeholder",
            format!("README.md line {line} contains the placeholder `{s}`"),
        );
        v.line = Some(line);
        out.push(v);
    }
    out
}

/// Checks of an agent description (`SKILL.md`): front matter `name` and `description`.
pub fn skill_md_checks(text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let meta = match split(text).and_then(|c| metadata(&c).map(|m| (m, c.body))) {
        Ok(m) => m,
        Err(e) => {
            out.push(Violation::file("skill-md", format!("SKILL.md: {e}")));
            return out;
        }
    };
    for key in ["name", "description"] {
        let ok = meta
            .0
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !ok {
            out.push(Violation::file(
                "skill-md",
                format!("SKILL.md front matter needs a non-empty `{key}`"),
            ));
        }
    }
    if meta.1.trim().is_empty() {
        out.push(Violation::file(
            "skill-md",
            "SKILL.md has no body: say when an agent should use the skill",
        ));
    }
    for (line, s) in placeholders(text) {
        out.push(Violation::file(
            "skill-md",
            format!("SKILL.md line {line} contains the placeholder `{s}`"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_the_body_byte_for_byte() {
        let text = "---\nlicense: mit\ntags:\n- a\n---\n# Title\r\n\nbody\n";
        let c = split(text).unwrap();
        assert_eq!(c.front_matter, Some("license: mit\ntags:\n- a\n"));
        assert_eq!(c.body, "# Title\r\n\nbody\n");
        assert_eq!(tags(&metadata(&c).unwrap()), vec!["a"]);
    }

    #[test]
    fn cards_without_front_matter_and_unclosed_ones() {
        assert!(split("# Hi\n").unwrap().front_matter.is_none());
        assert!(split("---\nlicense: mit\n").is_err());
    }

    #[test]
    fn headings_ignore_code_fences() {
        let h = headings("# A\n```\n# not\n```\n## B c\n#nope\n");
        assert_eq!(h, vec!["a", "b c"]);
    }
}
