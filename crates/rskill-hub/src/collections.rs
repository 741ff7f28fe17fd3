//! Collections: named, curated lists of repos owned by a user or organization
//! (`POST /api/collections`, `GET /api/collections?owner=…`, `GET /api/collections/{slug}`,
//! `POST …/{slug}/items`), kept one JSON file each under `DIR/collections/<owner>/`.
//! This module is the store; the HTTP handlers are in `api_collections`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use super::errors::HubError;
use super::storage::{read_json, to_json};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemRecord {
    pub(crate) object_id: String,
    pub(crate) item_id: String,
    pub(crate) item_type: String,
    #[serde(default)]
    pub(crate) note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CollectionRecord {
    pub(crate) slug: String,
    pub(crate) title: String,
    pub(crate) owner: String,
    pub(crate) owner_type: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    pub(crate) private: bool,
    pub(crate) items: Vec<ItemRecord>,
    pub(crate) created_at: String,
    pub(crate) last_updated: String,
}

/// All collections, in memory and on disk.
pub struct Collections {
    pub(crate) dir: PathBuf,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) map: RwLock<BTreeMap<String, CollectionRecord>>,
    pub(crate) writer: Mutex<()>,
}

pub(crate) fn random_hex(bytes: usize) -> Result<String, HubError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| HubError::io("drawing a random id", std::io::Error::other(e.to_string())))?;
    Ok(hex::encode(buf))
}

/// `My Skills!` → `my-skills`.
pub(crate) fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(60).collect();
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "collection".into()
    } else {
        out
    }
}

impl Collections {
    /// Loads the collections stored under the catalog's data directory.
    pub fn open(catalog: Arc<Catalog>) -> Result<(Collections, Vec<String>), HubError> {
        let dir = catalog.store().root().join("collections");
        let mut map = BTreeMap::new();
        let mut problems = Vec::new();
        let owners = std::fs::read_dir(&dir)
            .map_err(HubError::io_with(format!("listing {}", dir.display())))?;
        for owner in owners.flatten() {
            let Ok(files) = std::fs::read_dir(owner.path()) else {
                continue;
            };
            for f in files.flatten() {
                let p = f.path();
                if p.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                match read_json::<CollectionRecord>(&p) {
                    Ok(c) => {
                        map.insert(c.slug.clone(), c);
                    }
                    Err(e) => problems.push(format!("skipping collection {}: {e}", p.display())),
                }
            }
        }
        Ok((
            Collections {
                dir,
                catalog,
                map: RwLock::new(map),
                writer: Mutex::new(()),
            },
            problems,
        ))
    }

    pub(crate) fn save(&self, c: &CollectionRecord) -> Result<(), HubError> {
        let (owner, tail) = c
            .slug
            .split_once('/')
            .unwrap_or((c.owner.as_str(), c.slug.as_str()));
        let dir = self.dir.join(owner);
        std::fs::create_dir_all(&dir)
            .map_err(HubError::io_with(format!("creating {}", dir.display())))?;
        self.catalog
            .store()
            .write_file(&dir.join(format!("{tail}.json")), &to_json(c)?)
    }

    pub(crate) fn get(&self, slug: &str) -> Option<CollectionRecord> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(slug)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs() {
        assert_eq!(slugify("My Skills!"), "my-skills");
        assert_eq!(slugify("  --  "), "collection");
        assert_eq!(slugify("a/b c"), "a-b-c");
    }
}
