//! Changing a Hub: creating repos, committing files, visibility, tags, collections.
//! Commits, repo creation, settings, tags and refs go through the hf-hub crate;
//! collections (which it lacks) are written on the same HTTP client.

use bytes::Bytes;
use hf_hub::repository::CommitOperation;
use serde::{Deserialize, Serialize};

use super::client::{Ctx, HubClient};
use super::error::HubError;
use super::repo::RepoId;

/// Whether a repo was created or already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    Existing,
}

/// A file to put in a commit.
#[derive(Debug, Clone)]
pub struct UploadFile {
    pub path_in_repo: String,
    pub content: Bytes,
}

/// Branches and tags of a repo.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    pub branches: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

impl Refs {
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
    }
    pub fn branch(&self, name: &str) -> Option<&str> {
        self.branches
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
    }
}

/// A Hub collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collection {
    pub slug: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub items: Vec<CollectionItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionItem {
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "type")]
    pub item_type: String,
}

impl HubClient {
    /// Creates `repo` (private or public), or reports that it exists.
    pub async fn create_repo(&self, repo: &RepoId, private: bool) -> Result<Created, HubError> {
        let ctx = Ctx::new(format!("create {repo}")).repo(repo);
        self.ensure_online(&ctx.action)?;
        let url = self.url("/api/repos/create");
        let body = serde_json::json!({
            "name": repo.name(), "organization": repo.org(), "type": "model", "private": private,
        });
        match self.send(|c| c.post(&url).json(&body), &ctx).await {
            Ok(_) => Ok(Created::New),
            Err(HubError::Conflict { .. }) => Ok(Created::Existing),
            Err(e) => Err(e),
        }
    }

    /// Makes `repo` private or public.
    pub async fn set_private(&self, repo: &RepoId, private: bool) -> Result<(), HubError> {
        let ctx = Ctx::new(format!(
            "make {repo} {}",
            if private { "private" } else { "public" }
        ))
        .repo(repo);
        self.ensure_online(&ctx.action)?;
        self.model(repo)
            .update_settings()
            .private(private)
            .send()
            .await
            .map_err(|e| self.map_hf_error(e, &ctx))
    }

    /// Commits `files` (and the deletion of `deletes`) to the main branch in one
    /// atomic commit; returns its SHA. With `parent_commit`, the Hub refuses the commit
    /// if the branch moved meanwhile.
    pub async fn commit(
        &self,
        repo: &RepoId,
        files: Vec<UploadFile>,
        deletes: Vec<String>,
        message: &str,
        parent_commit: Option<&str>,
    ) -> Result<String, HubError> {
        let ctx = Ctx::new(format!("commit to {repo}")).repo(repo);
        self.ensure_online(&ctx.action)?;
        let operations = files
            .into_iter()
            .map(|f| CommitOperation::Add {
                path_in_repo: f.path_in_repo,
                source: hf_hub::repository::AddSource::Bytes(f.content),
            })
            .chain(
                deletes
                    .into_iter()
                    .map(|path_in_repo| CommitOperation::Delete { path_in_repo }),
            )
            .collect();
        let info = self
            .model(repo)
            .create_commit()
            .operations(operations)
            .commit_message(message)
            .maybe_parent_commit(parent_commit.map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.map_hf_error(e, &ctx))?;
        info.commit_oid.ok_or_else(|| HubError::Protocol {
            url: self.url(&format!("/api/models/{repo}/commit/main")),
            message: "the commit answer holds no commitOid".into(),
        })
    }

    /// Tags `revision` of `repo`.
    pub async fn create_tag(
        &self,
        repo: &RepoId,
        tag: &str,
        revision: &str,
        message: &str,
    ) -> Result<(), HubError> {
        let ctx = Ctx::new(format!("tag {repo} {tag}")).repo(repo);
        self.ensure_online(&ctx.action)?;
        self.model(repo)
            .create_tag()
            .tag(tag)
            .revision(revision)
            .message(message)
            .send()
            .await
            .map_err(|e| self.map_hf_error(e, &ctx))
    }

    /// Branches and tags with their commits.
    pub async fn refs(&self, repo: &RepoId) -> Result<Refs, HubError> {
        let ctx = Ctx::new(format!("list refs of {repo}")).repo(repo);
        self.ensure_online(&ctx.action)?;
        let refs = self
            .model(repo)
            .list_refs()
            .send()
            .await
            .map_err(|e| self.map_hf_error(e, &ctx))?;
        let pairs = |v: Vec<hf_hub::repository::GitRefInfo>| {
            v.into_iter().map(|r| (r.name, r.target_commit)).collect()
        };
        Ok(Refs {
            branches: pairs(refs.branches),
            tags: pairs(refs.tags),
        })
    }

    /// Creates a collection in `namespace`.
    pub async fn create_collection(
        &self,
        namespace: &str,
        title: &str,
        description: &str,
        private: bool,
    ) -> Result<Collection, HubError> {
        let ctx = Ctx::new(format!("create collection {title:?} in {namespace}")).not_idempotent();
        let url = self.url("/api/collections");
        let body = serde_json::json!({
            "title": title, "namespace": namespace, "description": description, "private": private,
        });
        self.send_json(|c| c.post(&url).json(&body), &ctx).await
    }

    /// A collection by slug.
    pub async fn collection(&self, slug: &str) -> Result<Collection, HubError> {
        let ctx = Ctx::new(format!("read collection {slug}"));
        let url = self.url(&format!("/api/collections/{slug}"));
        self.send_json(|c| c.get(&url), &ctx).await
    }

    /// Adds a model repo to a collection (a repo already in it is not an error).
    pub async fn add_collection_item(&self, slug: &str, repo: &RepoId) -> Result<(), HubError> {
        let ctx = Ctx::new(format!("add {repo} to collection {slug}"));
        let url = self.url(&format!("/api/collections/{slug}/items"));
        let body = serde_json::json!({"item": {"id": repo.as_str(), "type": "model"}});
        match self.send(|c| c.post(&url).json(&body), &ctx).await {
            Ok(_) | Err(HubError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Who a token belongs to.
#[derive(Debug, Clone)]
pub struct WhoAmI {
    pub name: String,
    pub orgs: Vec<String>,
    /// `Some(false)` when the Hub says the token is read-only.
    pub can_write: Option<bool>,
}

impl HubClient {
    /// `GET /api/whoami-v2`: the token's user, organisations and role.
    pub async fn whoami(&self) -> Result<WhoAmI, HubError> {
        let ctx = Ctx::new("check the token");
        let url = self.url("/api/whoami-v2");
        let v: serde_json::Value = self.send_json(|c| c.get(&url), &ctx).await?;
        let role = v
            .pointer("/auth/accessToken/role")
            .and_then(|r| r.as_str())
            .map(str::to_owned);
        Ok(WhoAmI {
            name: v
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string(),
            orgs: v
                .get("orgs")
                .and_then(|o| o.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            can_write: role.map(|r| r != "read"),
        })
    }
}
