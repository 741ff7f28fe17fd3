//! `rskill.lock`: the exact state of installed skills — skill repo and commit,
//! weights repo and commit, and the SHA-256 of every file — so `install --locked`
//! reproduces it byte for byte, or fails saying what changed. Commits, paths and
//! digests are typed ([`crate::hub::ids`]): a lockfile that names a path where a hash
//! belongs is refused on reading, before any of it reaches the cache.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::hub::RepoId;
use crate::hub::ids::{CommitId, RepoPath, Sha256};
use crate::registry::InstalledSkill;

use super::id::{self, IdError, InstallId};

/// The lockfile's name.
pub const LOCKFILE: &str = "rskill.lock";
/// Its format version.
pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    pub version: u32,
    /// Sorted by repo id.
    pub skills: Vec<LockedSkill>,
    /// Installed groups, sorted by repo id; their members are in `skills`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<LockedGroup>,
}

/// A group as installed: its commit and the member commits it pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedGroup {
    pub repo: RepoId,
    pub commit: CommitId,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub members: Vec<LockedMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedMember {
    pub repo: RepoId,
    pub commit: CommitId,
}

impl LockedGroup {
    /// The locked form of a registry group entry (ids typed, so a hand-edited registry
    /// is refused naming the value).
    pub fn from_installed(g: &crate::registry::InstalledGroup) -> Result<LockedGroup, String> {
        let bad = |what: &str, e: String| format!("registry group {}: {what}: {e}", g.repo);
        let mut members = Vec::new();
        for m in &g.members {
            members.push(LockedMember {
                repo: m.repo.parse().map_err(|e| bad("member repo", e))?,
                commit: m
                    .commit
                    .parse()
                    .map_err(|e| bad("member commit", format!("{e}")))?,
            });
        }
        Ok(LockedGroup {
            repo: g.repo.parse().map_err(|e| bad("repo", e))?,
            commit: g
                .commit
                .parse()
                .map_err(|e| bad("commit", format!("{e}")))?,
            version: g.version.clone(),
            alias: g.alias.clone(),
            members,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedSkill {
    pub repo: String,
    pub commit: CommitId,
    pub version: String,
    /// The alias the skill was installed through (`production`, `latest` …): `install
    /// --locked` still installs `commit`, and says when the alias moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub weights: Option<LockedRepo>,
    /// Every file, sorted by (repo, path).
    pub files: Vec<LockedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedRepo {
    pub repo: RepoId,
    pub commit: CommitId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedFile {
    pub repo: RepoId,
    pub path: RepoPath,
    pub sha256: Sha256,
    pub size: u64,
}

impl LockedSkill {
    /// The locked form of a registry entry; fails, naming the value, on an entry
    /// whose ids are not valid (a hand-edited registry).
    pub fn from_installed(s: &InstalledSkill) -> Result<LockedSkill, String> {
        let bad = |what: &str, e: String| format!("registry entry {}: {what}: {e}", s.repo);
        let mut files = Vec::with_capacity(s.files.len());
        for f in &s.files {
            files.push(LockedFile {
                repo: f.repo.parse().map_err(|e| bad("repo", e))?,
                path: f.path.parse().map_err(|e| bad("path", format!("{e}")))?,
                sha256: f
                    .sha256
                    .parse()
                    .map_err(|e| bad("sha256", format!("{e}")))?,
                size: f.size,
            });
        }
        files.sort_by(|a, b| (&a.repo, &a.path).cmp(&(&b.repo, &b.path)));
        let weights = match &s.weights {
            Some(w) => Some(LockedRepo {
                repo: w.repo.parse().map_err(|e| bad("weights repo", e))?,
                commit: w
                    .commit
                    .parse()
                    .map_err(|e| bad("weights commit", format!("{e}")))?,
            }),
            None => None,
        };
        Ok(LockedSkill {
            repo: s.repo.clone(),
            commit: s
                .commit
                .parse()
                .map_err(|e| bad("commit", format!("{e}")))?,
            version: s.version.clone(),
            alias: s.alias.clone(),
            weights,
            files,
        })
    }
}

impl Lockfile {
    pub fn new(mut skills: Vec<LockedSkill>) -> Lockfile {
        skills.sort_by(|a, b| a.repo.cmp(&b.repo));
        Lockfile {
            version: LOCK_VERSION,
            skills,
            groups: Vec::new(),
        }
    }

    /// With these groups pinned too.
    pub fn with_groups(mut self, mut groups: Vec<LockedGroup>) -> Lockfile {
        groups.sort_by(|a, b| a.repo.as_str().cmp(b.repo.as_str()));
        self.groups = groups;
        self
    }

    /// What `install --locked [ID]` installs as groups: every pinned group, or the one
    /// `only` names; each with its members' locked entries.
    pub fn group_targets(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<(InstallId, super::group::GroupLock)>, IdError> {
        let mut out = Vec::new();
        for g in &self.groups {
            if only.is_some_and(|i| i.split('@').next() != Some(g.repo.as_str())) {
                continue;
            }
            let members = g
                .members
                .iter()
                .filter_map(|m| self.skill(m.repo.as_str()).cloned())
                .collect();
            out.push((
                id::parse(g.repo.as_str(), &[])?,
                super::group::GroupLock {
                    group: g.clone(),
                    members,
                },
            ));
        }
        Ok(out)
    }

    /// Whether a pinned group lists `skill`.
    pub fn in_group(&self, skill: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.members.iter().any(|m| m.repo.as_str() == skill))
    }

    pub fn read(path: &Path) -> Result<Lockfile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let lock: Lockfile = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a valid lockfile: {e}", path.display()))?;
        if lock.version != LOCK_VERSION {
            return Err(format!(
                "{} has format version {}; this rskill reads version {LOCK_VERSION}",
                path.display(),
                lock.version
            ));
        }
        Ok(lock)
    }

    /// Writes the lockfile atomically (deterministic: same state, same bytes).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("lockfile serializes");
        text.push('\n');
        crate::fsutil::write_atomic(path, text.as_bytes())
    }

    pub fn skill(&self, repo: &str) -> Option<&LockedSkill> {
        self.skills.iter().find(|s| s.repo == repo)
    }

    /// What `rskill install --locked [ID]` installs: every pinned skill, or only the
    /// one `only` names (`org/name[@rev]`; the revision is ignored, the lockfile pins
    /// it). Empty when `only` names no pinned skill.
    pub fn targets(&self, only: Option<&str>) -> Result<Vec<(InstallId, LockedSkill)>, IdError> {
        let mut out = Vec::new();
        for skill in &self.skills {
            if only.is_some_and(|i| i.split('@').next() != Some(skill.repo.as_str())) {
                continue;
            }
            out.push((id::parse(&skill.repo, &[])?, skill.clone()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(repo: &str) -> LockedSkill {
        LockedSkill {
            repo: repo.into(),
            commit: "c".repeat(40).parse().unwrap(),
            alias: None,
            version: "1.0.0".into(),
            weights: None,
            files: Vec::new(),
        }
    }

    #[test]
    fn targets_are_every_pinned_skill_or_the_one_named() {
        let lock = Lockfile::new(vec![locked("o/a"), locked("o/b")]);
        let all: Vec<String> = lock
            .targets(None)
            .unwrap()
            .into_iter()
            .map(|(_, s)| s.repo)
            .collect();
        assert_eq!(all, ["o/a", "o/b"]);
        let one = lock.targets(Some("o/b@v2")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0.repo.as_str(), "o/b");
        assert!(lock.targets(Some("o/c")).unwrap().is_empty());
    }

    #[test]
    fn round_trip_is_byte_stable() {
        let lock = Lockfile::new(vec![LockedSkill {
            repo: "o/b".into(),
            commit: "c".repeat(40).parse().unwrap(),
            alias: None,
            version: "1.0.0".into(),
            weights: Some(LockedRepo {
                repo: "o/w".parse().unwrap(),
                commit: "d".repeat(40).parse().unwrap(),
            }),
            files: vec![LockedFile {
                repo: "o/b".parse().unwrap(),
                path: "rskill.yaml".parse().unwrap(),
                sha256: "e".repeat(64).parse().unwrap(),
                size: 3,
            }],
        }]);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(LOCKFILE);
        lock.write(&p).unwrap();
        let first = std::fs::read(&p).unwrap();
        let back = Lockfile::read(&p).unwrap();
        assert_eq!(back, lock);
        back.write(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), first);
        std::fs::write(&p, "{").unwrap();
        assert!(Lockfile::read(&p).is_err());
        // A path where a digest belongs is refused on reading.
        let hostile = String::from_utf8(first)
            .unwrap()
            .replace(&"e".repeat(64), "/etc/passwd");
        std::fs::write(&p, hostile).unwrap();
        let e = Lockfile::read(&p).unwrap_err();
        assert!(e.contains("/etc/passwd"), "{e}");
    }
}
