//! `rskill.lock`: the exact state of installed skills — skill repo and commit,
//! weights repo and commit, and the SHA-256 of every file — so `install --locked`
//! reproduces it byte for byte, or fails saying what changed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::registry::InstalledSkill;

/// The lockfile's name.
pub const LOCKFILE: &str = "rskill.lock";
/// Its format version.
pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    pub version: u32,
    /// Sorted by repo id.
    pub skills: Vec<LockedSkill>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedSkill {
    pub repo: String,
    pub commit: String,
    pub version: String,
    pub weights: Option<LockedRepo>,
    /// Every file, sorted by (repo, path).
    pub files: Vec<LockedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedRepo {
    pub repo: String,
    pub commit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedFile {
    pub repo: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

impl LockedSkill {
    pub fn from_installed(s: &InstalledSkill) -> LockedSkill {
        let mut files: Vec<LockedFile> = s
            .files
            .iter()
            .map(|f| LockedFile {
                repo: f.repo.clone(),
                path: f.path.clone(),
                sha256: f.sha256.clone(),
                size: f.size,
            })
            .collect();
        files.sort_by(|a, b| (&a.repo, &a.path).cmp(&(&b.repo, &b.path)));
        LockedSkill {
            repo: s.repo.clone(),
            commit: s.commit.clone(),
            version: s.version.clone(),
            weights: s.weights.as_ref().map(|w| LockedRepo {
                repo: w.repo.clone(),
                commit: w.commit.clone(),
            }),
            files,
        }
    }
}

impl Lockfile {
    pub fn new(mut skills: Vec<LockedSkill>) -> Lockfile {
        skills.sort_by(|a, b| a.repo.cmp(&b.repo));
        Lockfile {
            version: LOCK_VERSION,
            skills,
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_byte_stable() {
        let lock = Lockfile::new(vec![LockedSkill {
            repo: "o/b".into(),
            commit: "c".repeat(40),
            version: "1.0.0".into(),
            weights: Some(LockedRepo {
                repo: "o/w".into(),
                commit: "d".repeat(40),
            }),
            files: vec![LockedFile {
                repo: "o/b".into(),
                path: "rskill.yaml".into(),
                sha256: "e".repeat(64),
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
    }
}
