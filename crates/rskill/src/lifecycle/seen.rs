//! What this machine last saw of each skill's governance state, one file per repo under
//! the rskill data directory (`governance/<org>--<name>.json`). It serves two purposes:
//! a history read later must extend the one seen here (a rewritten history is reported,
//! never trusted), and `rskill audit` answers from it when the Hub cannot be reached,
//! saying how old the answer is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::hub::RepoId;
use crate::hub::ids::CommitId;

use super::model::{GovError, Registry, RegistryFile};
use super::remote::{LifecycleError, SkillState};

/// Where the records live; `None` keeps nothing (no check against earlier reads).
#[derive(Debug, Clone, Default)]
pub struct Seen {
    dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    repo: String,
    fetched_at: String,
    fetched_unix: u64,
    main: String,
    tags: BTreeMap<String, String>,
    has_file: bool,
    registry: RegistryFile,
}

/// A remembered state and how old it is.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub state: SkillState,
    pub fetched_at: String,
    pub age: Duration,
}

impl Seen {
    /// Records under `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Seen {
        Seen {
            dir: Some(dir.into()),
        }
    }

    /// Records under the rskill data directory (`$RSKILL_DATA_DIR/governance`).
    pub fn default_location() -> Seen {
        Seen {
            dir: crate::registry::data_dir()
                .ok()
                .map(|d| d.join("governance")),
        }
    }

    /// Records next to a registry file (tests and `--registry` paths).
    pub fn beside(registry_path: &Path) -> Seen {
        Seen::at(
            registry_path
                .parent()
                .unwrap_or(Path::new("."))
                .join("governance"),
        )
    }

    fn path(&self, repo: &RepoId) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{}.json", repo.as_str().replace('/', "--"))))
    }

    fn load(&self, repo: &RepoId) -> Option<Record> {
        let bytes = std::fs::read(self.path(repo)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Checks that `state`'s history is consistent with the one seen before (equal
    /// over their common length), then remembers `state` unless it is older (a
    /// shorter history: a read that raced a newer change).
    pub fn check_and_remember(&self, state: &SkillState) -> Result<(), LifecycleError> {
        let Some(path) = self.path(&state.repo) else {
            return Ok(());
        };
        if let Some(old) = self.load(&state.repo) {
            let now = &state.registry.history;
            for (a, b) in old.registry.history.iter().zip(now) {
                if a != b {
                    return Err(LifecycleError::Rewritten {
                        repo: state.repo.to_string(),
                        seen_at: old.fetched_at,
                        source: GovError::HistoryRewritten { seq: a.seq },
                    });
                }
            }
            if now.len() < old.registry.history.len() {
                return Ok(());
            }
        }
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let record = Record {
            repo: state.repo.to_string(),
            fetched_at: crate::registry::now_rfc3339(),
            fetched_unix: unix,
            main: state.main.to_string(),
            tags: state
                .tags
                .iter()
                .map(|(v, c)| (v.to_string(), c.to_string()))
                .collect(),
            has_file: state.has_file,
            registry: state.registry.to_file(),
        };
        let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| LifecycleError::Local(format!("creating {}: {e}", dir.display())))?;
        }
        crate::fsutil::write_atomic(&path, &bytes)
            .map_err(|e| LifecycleError::Local(format!("writing {}: {e}", path.display())))
    }

    /// The state last seen for `repo`, validated again (the file is local but may
    /// have been edited), with its age.
    pub fn remembered(&self, repo: &RepoId) -> Option<Remembered> {
        let r = self.load(repo)?;
        let registry = Registry::from_file(&r.registry).ok()?;
        let mut tags = BTreeMap::new();
        for (v, c) in &r.tags {
            tags.insert(Version::parse(v).ok()?, c.parse::<CommitId>().ok()?);
        }
        let problems = registry.check_against(&tags.keys().cloned().collect());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Some(Remembered {
            state: SkillState {
                repo: repo.clone(),
                main: r.main.parse().ok()?,
                tags,
                registry,
                has_file: r.has_file,
                problems,
            },
            fetched_at: r.fetched_at,
            age: Duration::from_secs(now.saturating_sub(r.fetched_unix)),
        })
    }
}
