//! What `rskill install` is given: `org/name`, optionally `@rev` (a commit, a branch
//! or a `v<version>` tag). A bare name fails before any network call, with the
//! `org/name` candidates this machine already knows.

use std::path::Path;

use crate::hub::RepoId;

/// A parsed install target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallId {
    pub repo: RepoId,
    pub revision: Option<String>,
}

/// Why an id was refused, with candidates to suggest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IdError {
    pub message: String,
    pub candidates: Vec<String>,
}

impl IdError {
    pub fn hint(&self) -> String {
        let mut h = String::new();
        if !self.candidates.is_empty() {
            h.push_str(&format!("did you mean {}? ", self.candidates.join(" or ")));
        }
        h.push_str("a skill id is <org>/<name>; find one with `rskill search <words>`");
        h
    }
}

/// Parses `org/name[@rev]`. `known` lists repo ids this machine knows (registry,
/// cache, in-tree corpus) to suggest for a bare name.
pub fn parse(id: &str, known: &[String]) -> Result<InstallId, IdError> {
    let (name, revision) = match id.split_once('@') {
        Some((n, r)) if !r.is_empty() => (n, Some(r.to_string())),
        Some(_) => {
            return Err(IdError {
                message: format!("\"{id}\" ends with `@` but names no revision"),
                candidates: Vec::new(),
            });
        }
        None => (id, None),
    };
    if !name.contains('/') {
        let mut candidates: Vec<String> = known
            .iter()
            .filter(|k| {
                let repo_name = k.split_once('/').map_or("", |(_, n)| n);
                repo_name == name || repo_name == format!("rskill-{name}")
            })
            .cloned()
            .collect();
        candidates.sort();
        candidates.dedup();
        return Err(IdError {
            message: format!("\"{id}\" has no organisation: skills are installed as <org>/{name}"),
            candidates,
        });
    }
    if let Some(rev) = &revision
        && (rev.contains("..") || rev.starts_with('/') || rev.contains(['\\', '\0', ' ']))
    {
        return Err(IdError {
            message: format!("\"{rev}\" is not a valid revision"),
            candidates: Vec::new(),
        });
    }
    let repo: RepoId = name.parse().map_err(|message| IdError {
        message,
        candidates: Vec::new(),
    })?;
    Ok(InstallId { repo, revision })
}

/// Repo ids known locally: the registry's, the cache's, and the in-tree corpus's.
pub fn known_ids(hub_cache: &Path, registry_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = registry_ids.to_vec();
    out.extend(
        crate::hub::cache::cached_repos(hub_cache)
            .into_iter()
            .map(|r| r.to_string()),
    );
    if let Ok(manifests) = crate::corpus::discover(Path::new(crate::corpus::DEFAULT_CORPUS)) {
        for m in manifests {
            if let Ok(text) = std::fs::read_to_string(&m)
                && let Ok(manifest) = crate::validate::parse_valid(&text)
            {
                out.push(manifest.name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_revisions() {
        let id = parse("acme/rskill-x@v1.2.0", &[]).unwrap();
        assert_eq!(id.repo.as_str(), "acme/rskill-x");
        assert_eq!(id.revision.as_deref(), Some("v1.2.0"));
        assert_eq!(parse("acme/rskill-x", &[]).unwrap().revision, None);
        assert!(parse("acme/x@", &[]).is_err());
        assert!(parse("acme/x@../../etc", &[]).is_err());
        assert!(parse("a/b/c", &[]).is_err());
    }

    #[test]
    fn bare_names_suggest_candidates() {
        let known = vec![
            "acme/rskill-pick".to_string(),
            "other/pick".to_string(),
            "acme/place".to_string(),
        ];
        let e = parse("pick", &known).unwrap_err();
        assert_eq!(e.candidates, vec!["acme/rskill-pick", "other/pick"]);
        assert!(e.hint().contains("rskill search"));
    }
}
