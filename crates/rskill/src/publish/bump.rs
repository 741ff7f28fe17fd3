//! `--bump-revision`: pin the upstream `weights_uri` and `processors` URIs of a
//! manifest to the commit SHA their revision points to now, editing only those values
//! in the YAML text so comments and formatting survive.

use std::path::Path;

use crate::hub::{HubClient, HubError, RepoId};
use crate::yaml;
pub use rskill_hub_protocol::hf_uri::HfUri;

/// The fields that name upstream repos.
const PINNABLE: &[&str] = &[
    "/weights_uri",
    "/processors/preprocessor_uri",
    "/processors/postprocessor_uri",
];

/// One URI rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// Resolves and pins every upstream URI of the manifest at `path`; rewrites the file
/// (atomically) when anything changed. Returns what changed.
pub async fn bump_revisions(client: &HubClient, path: &Path) -> Result<Vec<Bump>, HubError> {
    let text = std::fs::read_to_string(path).map_err(|e| HubError::io_at(path, e))?;
    let (value, positions) = yaml::load(&text, true)
        .map_err(|e| HubError::Other(format!("{}: {}", path.display(), e.message)))?;
    let mut edits = Vec::new();
    for pointer in PINNABLE {
        let Some(uri) = value.pointer(pointer).and_then(|v| v.as_str()) else {
            continue;
        };
        let Some(mut parsed) = HfUri::parse(uri) else {
            continue;
        };
        let repo: RepoId = parsed.repo.parse().map_err(HubError::Other)?;
        let info = client.repo_info(&repo, parsed.revision.as_deref()).await?;
        if parsed.revision.as_deref() == Some(info.sha.as_str()) {
            continue;
        }
        parsed.revision = Some(info.sha.to_string());
        let Some(pos) = positions.value(pointer) else {
            continue;
        };
        edits.push((pos, uri.to_string(), parsed.render(), pointer.to_string()));
    }
    if edits.is_empty() {
        return Ok(Vec::new());
    }
    let new_text = apply_edits(&text, &edits)?;
    crate::fsutil::write_atomic(path, new_text.as_bytes()).map_err(|e| HubError::io_at(path, e))?;
    Ok(edits
        .into_iter()
        .map(|(_, from, to, field)| Bump {
            field: crate::diagnostic::field_path(&field),
            from,
            to,
        })
        .collect())
}

/// Replaces each scalar (found at its line:column, plain or quoted) by a new value.
fn apply_edits(
    text: &str,
    edits: &[(yaml::Pos, String, String, String)],
) -> Result<String, HubError> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for (pos, old, new, field) in edits {
        let line = lines.get_mut(pos.line - 1).ok_or_else(|| {
            HubError::Other(format!("cannot locate {field} in the manifest text"))
        })?;
        let start: usize = line
            .char_indices()
            .nth(pos.column - 1)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        let rest = &line[start..];
        let (quote, body) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &rest[1..]),
            _ => (None, rest),
        };
        if !body.starts_with(old.as_str()) {
            return Err(HubError::Other(format!(
                "{field}: the value is not written on one line as expected; pin it by hand"
            )));
        }
        let offset = start + usize::from(quote.is_some());
        line.replace_range(offset..offset + old.len(), new);
    }
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_and_quotes() {
        let text = "name: a/b  # the id\nweights_uri: \"hf://o/w@v1\"  # pinned\nprocessors:\n  preprocessor_uri: hf://o/w/pre.json # pre\n";
        let (_, pos) = yaml::load(text, true).unwrap();
        let edits = vec![
            (
                pos.value("/weights_uri").unwrap(),
                "hf://o/w@v1".to_string(),
                "hf://o/w@abc123".to_string(),
                "/weights_uri".to_string(),
            ),
            (
                pos.value("/processors/preprocessor_uri").unwrap(),
                "hf://o/w/pre.json".to_string(),
                "hf://o/w@abc123/pre.json".to_string(),
                "/processors/preprocessor_uri".to_string(),
            ),
        ];
        let out = apply_edits(text, &edits).unwrap();
        assert_eq!(
            out,
            "name: a/b  # the id\nweights_uri: \"hf://o/w@abc123\"  # pinned\nprocessors:\n  preprocessor_uri: hf://o/w@abc123/pre.json # pre\n"
        );
    }
}
