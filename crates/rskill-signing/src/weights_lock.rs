//! The weights lock: written by the publisher into the skill repo and signed with the
//! rest of it, it pins the upstream weights by content: the upstream repo, the commit
//! the weights resolved to, and every weight file's size and SHA-256 as the Hub
//! reported them at publish time. Installing checks each downloaded weight file
//! against it while hashing the download (no second pass).

use serde::{Deserialize, Serialize};

/// The lock's file name in a skill repo.
pub const WEIGHTS_LOCK_FILE: &str = "weights.lock.json";
/// Locks larger than this are refused unread.
pub const MAX_LOCK_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsLock {
    /// Format version (1).
    pub version: u32,
    /// The upstream repo `weights_uri` names (`org/name`).
    pub repo: String,
    /// The commit its revision resolved to (40 hex).
    pub commit: String,
    pub files: Vec<LockedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// Why a lock file is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{WEIGHTS_LOCK_FILE}: {0}")]
pub struct LockError(pub String);

impl WeightsLock {
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a lock always serializes");
        v.push(b'\n');
        v
    }

    /// Parses and checks a lock: commit and digests are hex of the right length, paths
    /// are listed once.
    pub fn parse(bytes: &[u8]) -> Result<WeightsLock, LockError> {
        if bytes.len() as u64 > MAX_LOCK_BYTES {
            return Err(LockError(format!(
                "{} bytes, more than {MAX_LOCK_BYTES}",
                bytes.len()
            )));
        }
        let lock: WeightsLock =
            serde_json::from_slice(bytes).map_err(|e| LockError(e.to_string()))?;
        if lock.version != 1 {
            return Err(LockError(format!(
                "version {} (this rskill reads 1)",
                lock.version
            )));
        }
        let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_of(&lock.commit, 40) {
            return Err(LockError(format!(
                "commit {:?} is not 40 hex digits",
                lock.commit
            )));
        }
        for (i, f) in lock.files.iter().enumerate() {
            if !hex_of(&f.sha256, 64) {
                return Err(LockError(format!(
                    "{}: sha256 {:?} is not 64 hex digits",
                    f.path, f.sha256
                )));
            }
            if lock.files[..i].iter().any(|g| g.path == f.path) {
                return Err(LockError(format!("{}: listed twice", f.path)));
            }
        }
        Ok(lock)
    }

    pub fn file(&self, path: &str) -> Option<&LockedFile> {
        self.files.iter().find(|f| f.path == path)
    }
}
