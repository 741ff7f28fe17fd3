//! Keeping a Hub collection of published skills: found by title in its namespace or
//! created, then given the skills it lacks. Running it twice changes nothing.

use crate::hub::write::Collection;
use crate::hub::{Ctx, HubClient, HubError, RepoId};

/// What `ensure_collection` did.
#[derive(Debug, Clone)]
pub struct CollectionOutcome {
    pub slug: String,
    pub created: bool,
    pub added: Vec<RepoId>,
    pub already_present: usize,
}

/// Collections of a namespace (`GET /api/collections?owner=…`).
pub async fn collections_of(client: &HubClient, owner: &str) -> Result<Vec<Collection>, HubError> {
    let ctx = Ctx::new(format!("list collections of {owner}"));
    let url = client.url("/api/collections");
    client
        .send_json(
            |c| c.get(&url).query(&[("owner", owner), ("limit", "100")]),
            &ctx,
        )
        .await
}

/// Creates or updates the collection `title` in `namespace` so it holds `repos`.
pub async fn ensure_collection(
    client: &HubClient,
    namespace: &str,
    title: &str,
    description: &str,
    repos: &[RepoId],
) -> Result<CollectionOutcome, HubError> {
    let existing = collections_of(client, namespace)
        .await?
        .into_iter()
        .find(|c| c.title == title);
    let (slug, created) = match existing {
        Some(c) => (c.slug, false),
        None => (
            client
                .create_collection(namespace, title, description, false)
                .await?
                .slug,
            true,
        ),
    };
    let current = client.collection(&slug).await?;
    let mut added = Vec::new();
    let mut already_present = 0;
    for repo in repos {
        if current.items.iter().any(|i| i.id == repo.as_str()) {
            already_present += 1;
            continue;
        }
        client.add_collection_item(&slug, repo).await?;
        added.push(repo.clone());
    }
    Ok(CollectionOutcome {
        slug,
        created,
        added,
        already_present,
    })
}
