//! What this machine last saw of each skill's governance state, one file per repo under
//! the rskill data directory (`governance/<org>--<name>.json`), and what it trusts when
//! it reads one (the trust policy). Robots remember: a state read later must extend the
//! one seen here — a rewritten, shorter or vanished history, a signed state older than
//! the highest version verified, or a signature that disappeared is refused, never
//! taken as a harmless race — and `rskill audit` answers from it when the Hub cannot be
//! reached, saying how old the answer is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::hub::RepoId;
use crate::hub::ids::CommitId;

use rskill_signing::governance::GovernanceState;

use super::model::{Registry, RegistryFile};
use super::remote::{LifecycleError, SkillState};
use super::signed::{Authenticity, GovernancePolicy, GovernanceProblem};

/// Where the records live (`None` keeps nothing: no check against earlier reads), and
/// the policy governance is read with.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    dir: Option<PathBuf>,
    policy: GovernancePolicy,
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
    /// The highest signed governance state verified here, and the key that verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    governance: Option<GovernanceState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    governance_key: Option<String>,
    /// The last read that was refused (rolled back, tampered …) since this state was
    /// seen, and when: offline answers repeat it until a read is accepted again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refused: Option<Refusal>,
}

/// A refused read, remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub at: String,
    pub reason: String,
}

/// A remembered state and how old it is.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub state: SkillState,
    pub fetched_at: String,
    pub age: Duration,
    /// The last read refused since, if any.
    pub refused: Option<Refusal>,
}

impl Seen {
    /// Records under `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Seen {
        Seen {
            dir: Some(dir.into()),
            policy: GovernancePolicy::default(),
        }
    }

    /// Records under the rskill data directory (`$RSKILL_DATA_DIR/governance`), with no
    /// trust policy (see [`Seen::for_this_machine`]).
    pub fn default_location() -> Seen {
        Seen {
            dir: crate::registry::data_dir()
                .ok()
                .map(|d| d.join("governance")),
            policy: GovernancePolicy::default(),
        }
    }

    /// This machine's records, read with its trust policy (`trust.json` and the
    /// project's `rskill-trust.json`); a policy file that cannot be read is an error,
    /// never an empty policy.
    pub fn for_this_machine() -> Result<Seen, crate::trust::TrustError> {
        Ok(Seen::default_location().with_policy(GovernancePolicy {
            trust: crate::trust::Policy::load()?,
            allow_expired: None,
        }))
    }

    /// The same records, read with `policy`.
    pub fn with_policy(mut self, policy: GovernancePolicy) -> Seen {
        self.policy = policy;
        self
    }

    /// The policy governance is read with.
    pub fn policy(&self) -> &GovernancePolicy {
        &self.policy
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

    /// Checks `state` against the one seen before — its history must extend the one
    /// seen (same events, maybe more; never fewer, never gone), and a signed state
    /// verified before must be followed by one at least as new — then remembers it.
    pub fn check_and_remember(&self, state: &SkillState) -> Result<(), LifecycleError> {
        let Some(path) = self.path(&state.repo) else {
            return Ok(());
        };
        let _lock = self.lock(&path)?;
        if let Some(old) = self.load(&state.repo) {
            let has_keys = self.policy.has_governance_keys(state.repo.org());
            check_against(&old, state, has_keys)?;
        }
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (governance, governance_key) = match &state.authenticity {
            Authenticity::Verified { state, key_id, .. } => {
                (Some(state.clone()), Some(key_id.clone()))
            }
            _ => (None, None),
        };
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
            governance,
            governance_key,
            refused: None,
        };
        let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
        crate::fsutil::write_atomic(&path, &bytes)
            .map_err(|e| LifecycleError::Local(format!("writing {}: {e}", path.display())))
    }

    /// Remembers that a read of `repo` was refused (the state seen before is kept), so
    /// an offline audit still reports it.
    pub fn note_refusal(&self, repo: &RepoId, reason: &str) {
        let Some(path) = self.path(repo) else {
            return;
        };
        let Ok(_lock) = self.lock(&path) else {
            return;
        };
        let Some(mut record) = self.load(repo) else {
            return;
        };
        record.refused = Some(Refusal {
            at: crate::registry::now_rfc3339(),
            reason: reason.to_string(),
        });
        let bytes = serde_json::to_vec_pretty(&record).expect("record serializes");
        // Best effort: the refusal itself is what the user sees now.
        let _ = crate::fsutil::write_atomic(&path, &bytes);
    }

    /// The history rules alone (extends the one seen, has not vanished), before the
    /// signature is checked: a robot that saw a history names its loss first.
    pub fn check_history(&self, state: &SkillState) -> Result<(), LifecycleError> {
        match self.load(&state.repo) {
            Some(old) => check_history(&old, state),
            None => Ok(()),
        }
    }

    /// Serialises check-and-write of one repo's record between processes (a robot's
    /// cron audit and an install at once), so a newer record is never overwritten by
    /// an older one.
    fn lock(&self, path: &Path) -> Result<std::fs::File, LifecycleError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| LifecycleError::Local(format!("creating {}: {e}", dir.display())))?;
        let lock = path.with_extension("lock");
        let file = crate::fsutil::open_lock_file(&lock)
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|e| LifecycleError::Local(format!("locking {}: {e}", lock.display())))?;
        Ok(file)
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
                authenticity: match (r.governance, r.governance_key) {
                    (Some(state), Some(key_id)) => Authenticity::Verified {
                        key_name: self.policy.trust.for_org(repo.org()).name_of(&key_id),
                        state,
                        key_id,
                    },
                    _ => Authenticity::Unsigned,
                },
                notes: Vec::new(),
            },
            fetched_at: r.fetched_at,
            age: Duration::from_secs(now.saturating_sub(r.fetched_unix)),
            refused: r.refused,
        })
    }
}

/// The rules a new read must keep against the record of an earlier one.
/// `has_keys`: this machine trusts a governance key of the org (without one, a
/// signature that is not verified here is not evidence of anything).
fn check_against(old: &Record, now: &SkillState, has_keys: bool) -> Result<(), LifecycleError> {
    let repo = now.repo.to_string();
    let refused = |problem: GovernanceProblem| LifecycleError::Governance {
        repo: repo.clone(),
        problem,
    };
    check_history(old, now)?;
    if let Some(seen) = &old.governance {
        match &now.authenticity {
            Authenticity::Verified { state, .. } if state.version < seen.version => {
                return Err(refused(GovernanceProblem::Rollback {
                    seen: seen.version,
                    now: state.version,
                }));
            }
            Authenticity::Verified { state, .. }
                if state.version == seen.version
                    && state.registry_sha256 != seen.registry_sha256 =>
            {
                return Err(refused(GovernanceProblem::Equivocation {
                    version: state.version,
                }));
            }
            Authenticity::Verified { .. } => {}
            Authenticity::Unverified { .. } if !has_keys => {}
            other => {
                return Err(refused(GovernanceProblem::SignatureVanished {
                    seen: seen.version,
                    now: other.label(),
                }));
            }
        }
    }
    Ok(())
}

/// A history must extend the one seen (same events, maybe more), and may not vanish.
fn check_history(old: &Record, now: &SkillState) -> Result<(), LifecycleError> {
    let seen_events = old.registry.history.len();
    if old.has_file && !now.has_file && seen_events > 0 {
        return Err(LifecycleError::Governance {
            repo: now.repo.to_string(),
            problem: GovernanceProblem::HistoryVanished { seen: seen_events },
        });
    }
    super::model::check_extends(&old.registry.history, &now.registry.history).map_err(|source| {
        LifecycleError::Rewritten {
            repo: now.repo.to_string(),
            seen_at: old.fetched_at.clone(),
            source,
        }
    })
}
