//! The search index: one file that remembers, for a Hub cache, each repo's commit as
//! the last online search listed it, that commit's facets and its registry file
//! (statuses, aliases), so a warm search reads one file instead of several per skill.
//!
//! The per-commit facet records ([`crate::search_facets`]) stay the source: the index
//! only gathers them. An entry is used only when the listing names the very commit it
//! was made for (a commit's facets never change), so an index from an older catalog
//! costs nothing but misses. It lives outside the Hub cache (whose root other Hub
//! clients scan and would report a stray file in), among the libraries' cached assets:
//! `$HF_HOME/assets/rskill/search-index-v<N>/<key>.json`, the key naming the Hub cache
//! it describes. It is written without fsync, by a temporary file and a rename; an
//! index that does not parse, of another format, or made for another cache is ignored
//! and rewritten by the next search.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hub::HubEnv;
use crate::hub::ids::CommitId;
use crate::lifecycle::Registry;
use crate::lifecycle::model::RegistryFile;
use crate::search_facets::{self, Facets};

/// The index format. Bump it whenever the file changes shape; the facets inside carry
/// their own format version too.
pub const FORMAT_VERSION: u32 = 1;

/// One repo as last listed: its commit then, the facets of that commit's manifest and
/// its registry file (statuses and aliases), if it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub sha: CommitId,
    pub facets: Facets,
    pub registry: Option<RegistryFile>,
    /// The key id the commit's signature names (as `search --json` shows it: read, not
    /// verified; install verifies).
    #[serde(default)]
    pub key_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: u32,
    facets_format: u32,
    /// The Hub cache this index describes (a hash collision or a copied file must not
    /// pass for another cache's index).
    hub_cache: PathBuf,
    repos: BTreeMap<String, Entry>,
}

/// The index of one Hub cache, as read, plus what this search learned.
#[derive(Debug)]
pub struct SearchIndex {
    path: PathBuf,
    hub_cache: PathBuf,
    repos: BTreeMap<String, Entry>,
    changed: bool,
}

/// The Hub cache's path as the index names it (absolute when it can be made so).
fn cache_identity(hub_cache: &Path) -> PathBuf {
    std::fs::canonicalize(hub_cache)
        .or_else(|_| std::path::absolute(hub_cache))
        .unwrap_or_else(|_| hub_cache.to_path_buf())
}

/// Where the index of `env`'s Hub cache lives.
pub fn index_path(env: &HubEnv) -> PathBuf {
    let identity = cache_identity(&env.hub_cache);
    let key = crate::digest::sha256_hex(identity.as_os_str().as_encoded_bytes());
    env.hf_home
        .join("assets")
        .join("rskill")
        .join(format!("search-index-v{FORMAT_VERSION}"))
        .join(format!("{}.json", &key[..32]))
}

impl SearchIndex {
    /// The index of `env`'s Hub cache; empty when there is none or it cannot be used.
    pub fn load(env: &HubEnv) -> SearchIndex {
        let path = index_path(env);
        let hub_cache = cache_identity(&env.hub_cache);
        let repos = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<File>(&bytes).ok())
            .filter(|f| {
                f.format == FORMAT_VERSION
                    && f.facets_format == search_facets::FORMAT_VERSION
                    && f.hub_cache == hub_cache
            })
            .map(|f| f.repos)
            .unwrap_or_default();
        SearchIndex {
            path,
            hub_cache,
            repos,
            changed: false,
        }
    }

    fn entry(&self, repo: &str, sha: &CommitId) -> Option<&Entry> {
        self.repos.get(repo).filter(|e| &e.sha == sha)
    }

    /// The facets and the registry of `repo` at `sha`, when the index was made for that
    /// commit. A registry that no longer validates (a hand edit) is a miss, not trusted.
    pub fn lookup(&self, repo: &str, sha: &CommitId) -> Option<(Facets, Option<Registry>)> {
        let entry = self.entry(repo, sha)?;
        let registry = match &entry.registry {
            None => None,
            Some(file) => Some(Registry::from_file(file).ok()?),
        };
        Some((entry.facets.clone(), registry))
    }

    /// Records that `repo` is at `sha`, with these facets and this registry.
    pub fn record(
        &mut self,
        repo: &str,
        sha: &CommitId,
        facets: &Facets,
        registry: Option<&Registry>,
    ) {
        let known = self.entry(repo, sha);
        let entry = Entry {
            sha: sha.clone(),
            facets: facets.clone(),
            registry: registry.map(Registry::to_file),
            key_id: known.and_then(|e| e.key_id.clone()),
        };
        if known == Some(&entry) {
            return;
        }
        self.repos.insert(repo.to_string(), entry);
        self.changed = true;
    }

    /// Whether the index holds an entry made for `repo` at `sha` (not checked further).
    pub fn has(&self, repo: &str, sha: &CommitId) -> bool {
        self.entry(repo, sha).is_some()
    }

    /// The key id recorded for `repo`'s signature at `sha`.
    pub fn key_id(&self, repo: &str, sha: &CommitId) -> Option<&str> {
        self.entry(repo, sha)?.key_id.as_deref()
    }

    /// Records the key id `repo`'s signature at `sha` names (once its entry exists).
    pub fn set_key_id(&mut self, repo: &str, sha: &CommitId, key_id: &str) {
        if let Some(entry) = self.repos.get_mut(repo).filter(|e| &e.sha == sha)
            && entry.key_id.as_deref() != Some(key_id)
        {
            entry.key_id = Some(key_id.to_string());
            self.changed = true;
        }
    }

    /// Number of repos indexed.
    pub fn len(&self) -> usize {
        self.repos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// Writes the index back when this search changed it. Best effort: an index that
    /// cannot be written costs the next search two small reads per skill, never a
    /// failed search.
    pub fn save(self) {
        if !self.changed {
            return;
        }
        let file = File {
            format: FORMAT_VERSION,
            facets_format: search_facets::FORMAT_VERSION,
            hub_cache: self.hub_cache,
            repos: self.repos,
        };
        if let Ok(bytes) = serde_json::to_vec(&file) {
            let _ = crate::fsutil::write_replacing(&self.path, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Kind, Role, Runtime};
    use crate::search_facets::Facets;

    fn env(home: &Path) -> HubEnv {
        let mut env = HubEnv::from_env(None);
        env.hf_home = home.join("home");
        env.hub_cache = home.join("hub");
        env
    }

    fn sha(c: char) -> CommitId {
        c.to_string().repeat(40).parse().unwrap()
    }

    fn facets(name: &str) -> Facets {
        Facets {
            name: name.into(),
            version: "1.0.0".into(),
            kind: Kind::Vla,
            role: Role::S1,
            license: "apache-2.0".parse().unwrap(),
            model_family: None,
            embodiment_tags: vec![],
            runtime: Runtime::Pytorch,
            description: "d".into(),
            actions: vec![],
            objects: vec![],
            scenes: vec![],
            benchmarks: BTreeMap::new(),
            reserved_tags: vec![],
        }
    }

    #[test]
    fn entries_serve_only_the_commit_they_were_made_for() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut index = SearchIndex::load(&env);
        assert!(index.is_empty());
        index.record("org/a", &sha('a'), &facets("org/a"), None);
        index.save();

        let index = SearchIndex::load(&env);
        assert_eq!(index.len(), 1);
        assert_eq!(
            index.lookup("org/a", &sha('a')),
            Some((facets("org/a"), None))
        );
        assert_eq!(index.lookup("org/a", &sha('b')), None, "another commit");
        assert_eq!(index.lookup("org/b", &sha('a')), None, "another repo");
    }

    #[test]
    fn registries_round_trip_and_a_tampered_one_is_a_miss() {
        use crate::lifecycle::Status;
        use crate::lifecycle::model::{Change, parse_version};
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let v1 = parse_version("1.0.0").unwrap();
        let tagged = std::collections::BTreeSet::from([v1.clone()]);
        let change = Change {
            who: "ops",
            when: "2026-12-01T00:00:00Z",
            why: "recalled",
        };
        let mut registry = Registry::default();
        registry
            .set_status(&v1, Status::Deprecated, &tagged, &change)
            .unwrap();
        let mut index = SearchIndex::load(&env);
        index.record("org/a", &sha('a'), &facets("org/a"), Some(&registry));
        index.save();
        assert_eq!(
            SearchIndex::load(&env).lookup("org/a", &sha('a')),
            Some((facets("org/a"), Some(registry)))
        );

        // A registry edited in the index (history no longer replays to the state) is
        // not trusted: the search goes back to the repo's files.
        let path = index_path(&env);
        let text = std::fs::read_to_string(&path).unwrap();
        let tampered = text.replacen("\"deprecated\"", "\"active\"", 1);
        assert_ne!(tampered, text);
        std::fs::write(&path, tampered).unwrap();
        assert_eq!(SearchIndex::load(&env).lookup("org/a", &sha('a')), None);
    }

    #[test]
    fn an_index_is_bound_to_its_hub_cache() {
        let dir = tempfile::tempdir().unwrap();
        let env_a = env(dir.path());
        let mut index = SearchIndex::load(&env_a);
        index.record("org/a", &sha('a'), &facets("org/a"), None);
        index.save();

        let mut env_b = env_a.clone();
        env_b.hub_cache = dir.path().join("another-hub");
        assert_ne!(index_path(&env_a), index_path(&env_b));
        assert!(SearchIndex::load(&env_b).is_empty());

        // Even copied to the other cache's name, it is not taken for that cache's index.
        std::fs::create_dir_all(index_path(&env_b).parent().unwrap()).unwrap();
        std::fs::copy(index_path(&env_a), index_path(&env_b)).unwrap();
        assert!(SearchIndex::load(&env_b).is_empty());
    }

    #[test]
    fn a_damaged_or_foreign_index_is_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let path = index_path(&env);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for junk in [
            &b"{\"format\": 1, \"facets_for"[..],
            b"not json",
            br#"{"format": 99, "facets_format": 1, "hub_cache": "/", "repos": {}}"#,
        ] {
            std::fs::write(&path, junk).unwrap();
            let mut index = SearchIndex::load(&env);
            assert!(index.is_empty());
            index.record("org/a", &sha('a'), &facets("org/a"), None);
            index.save();
            assert_eq!(SearchIndex::load(&env).len(), 1);
        }
    }

    #[test]
    fn an_unchanged_index_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut index = SearchIndex::load(&env);
        index.record("org/a", &sha('a'), &facets("org/a"), None);
        index.save();
        let path = index_path(&env);
        std::fs::write(&path, b"sentinel, not an index").unwrap();
        // Loading ignores the junk; recording the same facets again changes nothing
        // relative to what was loaded (empty), so this one is written...
        let mut index = SearchIndex::load(&env);
        index.record("org/a", &sha('a'), &facets("org/a"), None);
        index.save();
        let written = std::fs::read(&path).unwrap();
        // ...and a search that learns nothing new leaves the file as it is.
        let mut index = SearchIndex::load(&env);
        index.record("org/a", &sha('a'), &facets("org/a"), None);
        std::fs::write(&path, b"sentinel").unwrap();
        index.save();
        assert_eq!(std::fs::read(&path).unwrap(), b"sentinel");
        assert_ne!(written, b"sentinel");
    }
}
