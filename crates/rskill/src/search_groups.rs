//! `rskill search --groups`: the groups published on the Hub (repos tagged
//! `rskill-group`), each read from its validated `rskill-group.yaml` at `main` (cached
//! per commit), filtered on words in the id, description and member ids. A repo whose
//! group file is missing or invalid is skipped and counted, never trusted.

use rskill_manifest::group::{GROUP_FILE, Group};
use serde::Serialize;

use crate::hub::ids::RepoPath;
use crate::hub::listing::ListQuery;
use crate::hub::{HubClient, HubError, RepoId};
use crate::publish::group::GROUP_TAG;

/// One group found.
#[derive(Debug, Clone, Serialize)]
pub struct GroupHit {
    pub repo_id: String,
    pub sha: String,
    pub version: String,
    pub description: String,
    /// `id@version` of each member.
    pub members: Vec<String>,
}

/// Groups matching every word of `text` (all groups without one); the second value
/// counts the tagged repos skipped (no valid group file).
pub async fn search_groups(
    client: &HubClient,
    text: Option<&str>,
) -> Result<(Vec<GroupHit>, usize), HubError> {
    let (items, _) = client
        .list_models(&ListQuery {
            filters: vec![GROUP_TAG.to_string()],
            full: true,
            limit: Some(crate::search::PAGE_SIZE),
            ..ListQuery::default()
        })
        .await?;
    let path: RepoPath = GROUP_FILE.parse().expect("a valid repo path");
    let words: Vec<String> = text
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut hits = Vec::new();
    let mut skipped = 0;
    for l in items {
        let (Ok(repo), Some(sha)) = (l.id.parse::<RepoId>(), l.sha.clone()) else {
            skipped += 1;
            continue;
        };
        let group: Group = match client.read_file_cached(&repo, &sha, &path).await {
            Ok(b) => match rskill_manifest::group::parse_valid(&b) {
                Ok(g) if g.name.eq_ignore_ascii_case(repo.as_str()) => g,
                _ => {
                    skipped += 1;
                    continue;
                }
            },
            Err(HubError::EntryNotFound { .. }) => {
                skipped += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let haystack = format!(
            "{} {} {}",
            group.name,
            group.description,
            group
                .members
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        )
        .to_lowercase();
        if !words.iter().all(|w| haystack.contains(w)) {
            continue;
        }
        hits.push(GroupHit {
            repo_id: repo.to_string(),
            sha: sha.to_string(),
            version: group.version.clone(),
            description: group.description.clone(),
            members: group
                .members
                .iter()
                .map(|m| format!("{}@{}", m.id, m.version))
                .collect(),
        });
    }
    hits.sort_by(|a, b| a.repo_id.cmp(&b.repo_id));
    Ok((hits, skipped))
}
