//! The records the store keeps on disk, as JSON: a repo's settings (`repo.json`), its
//! branches and tags (`refs.json`), and immutable commit records whose id is the SHA-1 of
//! their canonical bytes, or, for commits imported from another Hub (`rskill-hub
//! import`), the id that Hub gave them, stored in the record (`importedId`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::errors::HubError;
use super::objects;

/// A repo's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RepoMeta {
    /// `owner/name`.
    pub id: String,
    /// `model` or `dataset`.
    #[serde(rename = "type")]
    pub kind: String,
    pub private: bool,
    /// `None` for an ungated repo, else `auto` or `manual` (recorded and reported only).
    #[serde(default)]
    pub gated: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub discussions_disabled: bool,
}

/// A tag: the commit it names, and an optional message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TagRef {
    pub commit: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// A repo's branches (name → commit id) and tags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Refs {
    pub branches: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, TagRef>,
}

/// One file of a commit: the content blob (by SHA-256), its size, and the git blob id of
/// the content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    pub sha256: String,
    pub size: u64,
    pub git_sha1: String,
}

impl FileEntry {
    /// How clients see this file at `path`.
    pub fn view(&self, path: &str) -> objects::FileView {
        objects::FileView::new(path, self.size, &self.sha256, &self.git_sha1)
    }
}

/// What a commit says: the repo it belongs to, its parents, who and when, the message, and
/// the complete file list of the repo at that commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommitRecord {
    /// `models/owner/name` or `datasets/owner/name`.
    pub repo: String,
    pub parents: Vec<String>,
    pub author: String,
    pub date: String,
    pub summary: String,
    pub description: String,
    pub files: BTreeMap<String, FileEntry>,
}

/// A record imported from another Hub, with the id it had there.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportedRecord {
    imported_id: String,
    #[serde(flatten)]
    record: CommitRecord,
}

/// A commit record with its id.
#[derive(Debug, Clone)]
pub struct Commit {
    pub id: String,
    pub record: CommitRecord,
}

impl Commit {
    /// Serializes `record` canonically; the id is the SHA-1 of those bytes.
    pub fn seal(record: CommitRecord) -> Result<(Commit, Vec<u8>), HubError> {
        let bytes = serde_json::to_vec(&record).map_err(|e| HubError::Corrupt {
            path: "commit record".into(),
            message: e.to_string(),
        })?;
        let id = objects::sha1_hex(&bytes);
        Ok((Commit { id, record }, bytes))
    }

    /// Serializes a record imported from another Hub under the id that Hub gave it (a
    /// Hub's API does not expose the raw commit objects, so the id cannot be recomputed).
    pub fn imported(id: &str, record: CommitRecord) -> Result<(Commit, Vec<u8>), HubError> {
        let bytes = serde_json::to_vec(&ImportedRecord {
            imported_id: id.to_owned(),
            record: record.clone(),
        })
        .map_err(|e| HubError::Corrupt {
            path: "commit record".into(),
            message: e.to_string(),
        })?;
        Ok((
            Commit {
                id: id.to_owned(),
                record,
            },
            bytes,
        ))
    }

    /// Parses stored bytes, checking that they hash to `id` or, for an imported record,
    /// that it was imported under `id`.
    pub fn open(id: &str, bytes: &[u8], path: &std::path::Path) -> Result<Commit, HubError> {
        if objects::sha1_hex(bytes) != id {
            return match serde_json::from_slice::<ImportedRecord>(bytes) {
                Ok(imported) if imported.imported_id == id => Ok(Commit {
                    id: id.to_owned(),
                    record: imported.record,
                }),
                _ => Err(HubError::Corrupt {
                    path: path.to_owned(),
                    message: "content does not hash to the commit id".into(),
                }),
            };
        }
        let record = serde_json::from_slice(bytes).map_err(|e| HubError::Corrupt {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Commit {
            id: id.to_owned(),
            record,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip() {
        let record = CommitRecord {
            repo: "models/o/n".into(),
            parents: vec![],
            author: "u".into(),
            date: "2024-01-01T00:00:00.000Z".into(),
            summary: "s".into(),
            description: String::new(),
            files: BTreeMap::new(),
        };
        let (commit, bytes) = Commit::seal(record.clone()).unwrap();
        assert_eq!(commit.id.len(), 40);
        let back = Commit::open(&commit.id, &bytes, "x".as_ref()).unwrap();
        assert_eq!(back.record, record);
        let mut tampered = bytes.clone();
        tampered[5] ^= 1;
        assert!(Commit::open(&commit.id, &tampered, "x".as_ref()).is_err());

        let source_id = "ab".repeat(20);
        let (imported, bytes) = Commit::imported(&source_id, record.clone()).unwrap();
        assert_eq!(imported.id, source_id);
        let back = Commit::open(&source_id, &bytes, "x".as_ref()).unwrap();
        assert_eq!(back.record, record);
        assert!(
            Commit::open(&"cd".repeat(20), &bytes, "x".as_ref()).is_err(),
            "an imported record opens only under its own id"
        );
    }
}
