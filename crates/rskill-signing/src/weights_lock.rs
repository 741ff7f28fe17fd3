//! The weights lock: written by the publisher into the skill repo and signed with the
//! rest of it, it pins the upstream weights by content: the upstream repo, the commit
//! the weights resolved to, and every weight file's size and SHA-256 as the Hub
//! reported them at publish time; and each processor file the manifest's `processors`
//! URIs name (repo, commit, path, size, SHA-256; an optional list, absent from locks
//! written before it existed). Installing checks each downloaded file against it while
//! hashing the download (no second pass).

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
    /// The processor files `processors` names, each in its own repo and commit. Older
    /// locks have none: their processors are not pinned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processors: Vec<LockedProcessor>,
}

/// One processor file, pinned where its `hf://org/repo@rev/path` URI resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedProcessor {
    pub repo: String,
    /// The commit the URI's revision resolved to (40 hex).
    pub commit: String,
    pub path: String,
    pub size: u64,
    pub sha256: String,
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
        for (i, p) in lock.processors.iter().enumerate() {
            let at = format!("processors: {}@{}/{}", p.repo, p.commit, p.path);
            if !hex_of(&p.commit, 40) {
                return Err(LockError(format!("{at}: commit is not 40 hex digits")));
            }
            if !hex_of(&p.sha256, 64) {
                return Err(LockError(format!(
                    "{at}: sha256 {:?} is not 64 hex digits",
                    p.sha256
                )));
            }
            if lock.processors[..i]
                .iter()
                .any(|q| q.repo == p.repo && q.commit == p.commit && q.path == p.path)
            {
                return Err(LockError(format!("{at}: listed twice")));
            }
        }
        Ok(lock)
    }

    pub fn file(&self, path: &str) -> Option<&LockedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The pin of a processor file `path` of `repo` at `commit`: from the processors
    /// list, or (locks written before it) from the weight files when it is one of them.
    pub fn processor(&self, repo: &str, commit: &str, path: &str) -> Option<(u64, &str)> {
        if let Some(p) = self
            .processors
            .iter()
            .find(|p| p.repo == repo && p.commit == commit && p.path == path)
        {
            return Some((p.size, p.sha256.as_str()));
        }
        if self.repo == repo && self.commit == commit {
            return self.file(path).map(|f| (f.size, f.sha256.as_str()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "0123456789abcdef0123456789abcdef01234567";
    const S: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_lock_without_processors_still_reads_and_a_new_one_round_trips() {
        let old = format!(
            r#"{{"version":1,"repo":"acme/w","commit":"{C}","files":[{{"path":"a.safetensors","size":3,"sha256":"{S}"}}]}}"#
        );
        let lock = WeightsLock::parse(old.as_bytes()).unwrap();
        assert!(lock.processors.is_empty());
        // Without processors the file is written as before (no new field).
        assert!(
            !String::from_utf8(lock.to_json())
                .unwrap()
                .contains("processors")
        );
        // Old locks pin a processor that is one of the weight files.
        assert_eq!(lock.processor("acme/w", C, "a.safetensors"), Some((3, S)));
        assert_eq!(lock.processor("acme/p", C, "a.safetensors"), None);

        let mut new = lock.clone();
        new.processors.push(LockedProcessor {
            repo: "acme/p".into(),
            commit: C.into(),
            path: "pre.json".into(),
            size: 7,
            sha256: S.into(),
        });
        let again = WeightsLock::parse(&new.to_json()).unwrap();
        assert_eq!(again, new);
        assert_eq!(again.processor("acme/p", C, "pre.json"), Some((7, S)));
        assert_eq!(again.processor("acme/p", C, "other.json"), None);
        new.processors.push(new.processors[0].clone());
        let err = WeightsLock::parse(&new.to_json()).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }
}
