//! The JSON shapes of the Hub API for repos and files: a repo in listings and in repo
//! info (`id`, `sha`, `tags`, `siblings`, `cardData` …), tree and paths-info entries, and
//! refs. Field names follow huggingface.co so that both official clients parse them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::catalog::{HeadSummary, RepoEntry};
use super::names::RepoKind;
use super::objects::{self, FileView};
use super::records::FileEntry;

/// How much of a repo to show.
#[derive(Debug, Clone, Default)]
pub struct RepoFields {
    /// Include `cardData`.
    pub card_data: bool,
    /// Include `siblings` (file names only unless `files` is given to [`repo_json`]).
    pub siblings: bool,
    /// When set (`expand`), only these properties, plus `_id` and `id`.
    pub only: Option<Vec<String>>,
}

/// A stable 24-hex object id, as the Hub's `_id`.
pub fn object_id(key: &str) -> String {
    objects::sha1_hex(key.as_bytes())[..24].to_owned()
}

/// A repo as JSON. `files` (the files of the shown revision) gives detailed siblings
/// (size, blob id, LFS info) and the storage used; without it siblings are names only.
pub fn repo_json(
    entry: &RepoEntry,
    head: &HeadSummary,
    files: Option<&BTreeMap<String, FileEntry>>,
    fields: &RepoFields,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "_id".into(),
        Value::String(object_id(&super::catalog::repo_key(entry.kind, &entry.id))),
    );
    m.insert("id".into(), Value::String(entry.full_id.clone()));
    let wanted = |key: &str| match &fields.only {
        Some(keys) => keys.iter().any(|k| k == key),
        None => true,
    };
    let mut put = |key: &str, value: Value| {
        if wanted(key) {
            m.insert(key.to_owned(), value);
        }
    };
    if entry.kind == RepoKind::Model && fields.only.is_none() {
        put("modelId", Value::String(entry.full_id.clone()));
    }
    put("author", Value::String(entry.id.owner().to_owned()));
    put("sha", Value::String(head.commit.clone()));
    put("lastModified", Value::String(head.last_modified.clone()));
    put("createdAt", Value::String(entry.meta.created_at.clone()));
    put("private", Value::Bool(entry.meta.private));
    put(
        "gated",
        match &entry.meta.gated {
            Some(mode) => Value::String(mode.clone()),
            None => Value::Bool(false),
        },
    );
    put("disabled", Value::Bool(false));
    put("downloads", json!(0));
    put("likes", json!(0));
    put("tags", json!(head.tags));
    if let Some(p) = &head.pipeline_tag {
        put("pipeline_tag", Value::String(p.clone()));
    }
    if let Some(l) = &head.library_name {
        put("library_name", Value::String(l.clone()));
    }
    if let Some(d) = &entry.meta.description {
        put("description", Value::String(d.clone()));
    }
    if (fields.card_data || fields.only.is_some())
        && let Some(card) = &head.card_data
    {
        put("cardData", Value::Object(card.clone()));
    }
    if fields.siblings || fields.only.is_some() {
        let siblings: Vec<Value> = match files {
            Some(files) => files
                .iter()
                .map(|(p, f)| sibling_json(p, &f.view(p)))
                .collect(),
            None => head
                .files
                .iter()
                .map(|p| json!({ "rfilename": p }))
                .collect(),
        };
        put("siblings", Value::Array(siblings));
    }
    if files.is_some() || fields.only.is_some() {
        put("usedStorage", json!(head.used_storage));
    }
    Value::Object(m)
}

fn lfs_json(view: &FileView) -> Option<Value> {
    view.lfs_pointer_size.map(|pointer_size| {
        json!({
            "oid": view.sha256,
            "sha256": view.sha256,
            "size": view.size,
            "pointerSize": pointer_size,
        })
    })
}

/// A sibling with its details.
pub fn sibling_json(path: &str, view: &FileView) -> Value {
    let mut m = Map::new();
    m.insert("rfilename".into(), Value::String(path.to_owned()));
    m.insert("size".into(), json!(view.size));
    m.insert("blobId".into(), Value::String(view.blob_id.clone()));
    if let Some(lfs) = lfs_json(view) {
        m.insert("lfs".into(), lfs);
    }
    Value::Object(m)
}

/// A file entry of a tree or paths-info listing.
pub fn tree_file_json(path: &str, file: &FileEntry) -> Value {
    let view = file.view(path);
    let mut m = Map::new();
    m.insert("type".into(), Value::String("file".into()));
    m.insert("oid".into(), Value::String(view.blob_id.clone()));
    m.insert("size".into(), json!(view.size));
    m.insert("path".into(), Value::String(path.to_owned()));
    if let Some(lfs) = lfs_json(&view) {
        m.insert("lfs".into(), lfs);
    }
    Value::Object(m)
}

/// A folder entry; its `oid` is derived from the files under it.
pub fn tree_dir_json(path: &str, files: &BTreeMap<String, FileEntry>) -> Value {
    let prefix = format!("{path}/");
    let mut listing = String::new();
    for (p, f) in files
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
    {
        listing.push_str(p);
        listing.push(' ');
        listing.push_str(&f.view(p).blob_id);
        listing.push('\n');
    }
    json!({
        "type": "directory",
        "oid": objects::git_blob_id(listing.as_bytes()),
        "size": 0,
        "path": path,
    })
}

/// Every entry of a tree listing under `dir` ("" = root): the direct children, or
/// everything below when `recursive`. Sorted by path. `None` if `dir` is not a folder.
pub fn tree_entries(
    files: &BTreeMap<String, FileEntry>,
    dir: &str,
    recursive: bool,
) -> Option<Vec<Value>> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut dirs: BTreeMap<String, ()> = BTreeMap::new();
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut any = false;
    for (path, file) in files
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
    {
        any = true;
        let rest = &path[prefix.len()..];
        let parts: Vec<&str> = rest.split('/').collect();
        if recursive {
            for i in 1..parts.len() {
                dirs.insert(format!("{prefix}{}", parts[..i].join("/")), ());
            }
            out.push((path.clone(), tree_file_json(path, file)));
        } else if parts.len() == 1 {
            out.push((path.clone(), tree_file_json(path, file)));
        } else {
            dirs.insert(format!("{prefix}{}", parts[0]), ());
        }
    }
    if !any && !dir.is_empty() {
        return None;
    }
    for d in dirs.keys() {
        out.push((d.clone(), tree_dir_json(d, files)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out.into_iter().map(|(_, v)| v).collect())
}

/// The entry for one path (file or folder), if it exists.
pub fn path_info(files: &BTreeMap<String, FileEntry>, path: &str) -> Option<Value> {
    if let Some(f) = files.get(path) {
        return Some(tree_file_json(path, f));
    }
    let prefix = format!("{path}/");
    let is_dir = files
        .range(prefix.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&prefix));
    is_dir.then(|| tree_dir_json(path, files))
}

/// The refs of a repo: branches and tags with the commits they name.
pub fn refs_json(entry: &RepoEntry) -> Value {
    let branches: Vec<Value> = entry
        .refs
        .branches
        .iter()
        .map(|(name, commit)| json!({ "name": name, "ref": format!("refs/heads/{name}"), "targetCommit": commit }))
        .collect();
    let tags: Vec<Value> = entry
        .refs
        .tags
        .iter()
        .map(|(name, t)| json!({ "name": name, "ref": format!("refs/tags/{name}"), "targetCommit": t.commit }))
        .collect();
    json!({ "branches": branches, "tags": tags, "converts": [], "pullRequests": [] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> BTreeMap<String, FileEntry> {
        paths
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    FileEntry {
                        sha256: objects::sha256_hex(p.as_bytes()),
                        size: p.len() as u64,
                        git_sha1: objects::git_blob_id(p.as_bytes()),
                    },
                )
            })
            .collect()
    }

    fn paths(entries: &[Value]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e["type"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn trees() {
        let f = files(&["README.md", "a/b/c.txt", "a/d.safetensors", "e.json"]);
        assert_eq!(
            paths(&tree_entries(&f, "", false).unwrap()),
            vec!["file:README.md", "directory:a", "file:e.json"]
        );
        assert_eq!(
            paths(&tree_entries(&f, "", true).unwrap()),
            vec![
                "file:README.md",
                "directory:a",
                "directory:a/b",
                "file:a/b/c.txt",
                "file:a/d.safetensors",
                "file:e.json"
            ]
        );
        assert_eq!(
            paths(&tree_entries(&f, "a", false).unwrap()),
            vec!["directory:a/b", "file:a/d.safetensors"]
        );
        assert!(tree_entries(&f, "nope", false).is_none());
        assert!(tree_entries(&f, "README.md", false).is_none());
        let lfs = path_info(&f, "a/d.safetensors").unwrap();
        assert_eq!(
            lfs["lfs"]["sha256"],
            objects::sha256_hex(b"a/d.safetensors")
        );
        assert_eq!(path_info(&f, "a").unwrap()["type"], "directory");
        assert!(path_info(&f, "a/b/c").is_none());
    }
}
