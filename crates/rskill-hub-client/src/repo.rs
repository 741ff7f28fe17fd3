//! What the Hub says about one repo at one revision (commit SHA, files
//! with their sizes and checksums, visibility, tags, card data).

use serde::{Deserialize, Serialize};

use super::client::{Ctx, HubClient, MAX_SMALL_FILE_BYTES};
use super::error::HubError;
use super::ids::{BlobId, CommitId, GitBlobId, RepoPath, Sha256};

pub use rskill_hub_protocol::repo_id::RepoId;

/// LFS metadata of a file: its SHA-256 is its identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LfsInfo {
    pub sha256: Sha256,
    pub size: u64,
}

/// One file of a repo at a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sibling {
    pub rfilename: RepoPath,
    #[serde(default)]
    pub size: Option<u64>,
    /// Git blob SHA-1 (the ETag of a non-LFS file).
    #[serde(default)]
    pub blob_id: Option<GitBlobId>,
    #[serde(default)]
    pub lfs: Option<LfsInfo>,
}

/// A repo at one revision.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoInfo {
    pub id: String,
    pub sha: CommitId,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub siblings: Vec<Sibling>,
    #[serde(default)]
    pub card_data: Option<serde_json::Value>,
    #[serde(default)]
    pub last_modified: Option<String>,
}

impl RepoInfo {
    pub fn file(&self, path: &str) -> Option<&Sibling> {
        self.siblings.iter().find(|s| s.rfilename.as_str() == path)
    }
}

/// The first 10 characters of a commit SHA, for messages and tables.
pub fn short_sha(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// Percent-encodes a revision for a URL path segment (branches may hold `/`).
pub fn encode_rev(rev: &str) -> String {
    rev.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Percent-encodes a file path, keeping `/` separators.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_rev)
        .collect::<Vec<_>>()
        .join("/")
}

impl HubClient {
    /// Repo info with file metadata (sizes, blob ids, LFS SHA-256) at `revision`
    /// (default branch when `None`).
    pub async fn repo_info(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
    ) -> Result<RepoInfo, HubError> {
        let mut path = format!("/api/models/{repo}");
        if let Some(rev) = revision {
            path.push_str(&format!("/revision/{}", encode_rev(rev)));
        }
        let url = self.url(&path);
        let mut ctx = Ctx::new(format!("read {repo}")).repo(repo);
        if let Some(rev) = revision {
            ctx = ctx.revision(rev);
        }
        self.send_json(|c| c.get(&url).query(&[("blobs", "true")]), &ctx)
            .await
    }

    /// A small file of a repo (a manifest, a card), read whole into memory: at most
    /// [`MAX_SMALL_FILE_BYTES`].
    pub async fn read_file(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
    ) -> Result<Vec<u8>, HubError> {
        self.read_file_at_most(repo, revision, path, MAX_SMALL_FILE_BYTES)
            .await
    }

    /// A file of a repo read whole into memory, refused past `limit` bytes (publish
    /// reads back what it uploaded, whose size it knows).
    pub async fn read_file_at_most(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
        limit: u64,
    ) -> Result<Vec<u8>, HubError> {
        let url = self.url(&format!(
            "/{repo}/resolve/{}/{}",
            encode_rev(revision),
            encode_path(path)
        ));
        let ctx = Ctx::new(format!("read {path} of {repo}"))
            .repo(repo)
            .revision(revision)
            .path(path);
        let response = self.send(|c| c.get(&url), &ctx).await?;
        let what = if limit == MAX_SMALL_FILE_BYTES {
            "manifests and cards".to_string()
        } else {
            format!("{path}, whose size is known")
        };
        self.read_body(response, limit, &what).await
    }
}

impl HubClient {
    /// A small file at a commit, through the shared cache: read from
    /// `snapshots/<commit>/<path>` when present (no HTTP), else downloaded once and
    /// stored as a blob named by its ETag.
    pub async fn read_file_cached(
        &self,
        repo: &RepoId,
        commit: &CommitId,
        path: &RepoPath,
    ) -> Result<Vec<u8>, HubError> {
        let cache = super::cache::RepoCache::new(&self.env().hub_cache, repo);
        if let Some(bytes) = cache.read_small(commit, path) {
            return Ok(bytes);
        }
        let url = self.url(&format!(
            "/{repo}/resolve/{}/{}",
            encode_rev(commit.as_str()),
            encode_path(path.as_str())
        ));
        let ctx = Ctx::new(format!("read {path} of {repo}"))
            .repo(repo)
            .revision(commit.as_str())
            .path(path.as_str());
        let response = self.send(|c| c.get(&url), &ctx).await?;
        let etag = etag_of(response.headers());
        let bytes = self
            .read_body(response, MAX_SMALL_FILE_BYTES, "manifests and cards")
            .await?;
        // The blob is named by what the bytes are, whatever the server's ETag says:
        // its SHA-256 when the ETag is one and matches, else the git blob id.
        let blob = match etag {
            Some(BlobId::Lfs(sha)) if Sha256::of(&bytes) == sha => BlobId::Lfs(sha),
            _ => BlobId::Git(GitBlobId::of(&bytes)),
        };
        // The store fsyncs: off the async threads, so concurrent reads overlap.
        let (owned_commit, owned_path) = (commit.clone(), path.clone());
        tokio::task::spawn_blocking(move || {
            cache.store_bytes(&owned_commit, &owned_path, &blob, &bytes)?;
            Ok(bytes)
        })
        .await
        .map_err(|e| HubError::Other(format!("storing {path} in the cache failed: {e}")))?
    }
}

/// The file's identity from a resolve answer: `X-Linked-Etag`, else `ETag`, unquoted,
/// when it is a blob id at all.
pub fn etag_of(headers: &reqwest::header::HeaderMap) -> Option<BlobId> {
    headers
        .get("x-linked-etag")
        .or_else(|| headers.get("etag"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse()
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        let r: RepoId = "rskill-project/rskill-x".parse().unwrap();
        assert_eq!((r.org(), r.name()), ("rskill-project", "rskill-x"));
        for bad in [
            "x", "a/b/c", "/b", "a/", "-a/b", "a/..", "a b/c", "a/b\0", "org/a--b", "api/x",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_rev("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(encode_path("eval/a b.json"), "eval/a%20b.json");
    }
}
