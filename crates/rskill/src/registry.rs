//! The installed-skills registry: which skills `rskill install` put on this machine,
//! at which commits, from which files, and what their smoke-load found. `rskill list`
//! reads it; `install` and `remove` change it.
//!
//! It is one JSON file, `registry.json`, in the rskill data directory:
//! `$RSKILL_DATA_DIR`, else `$XDG_DATA_HOME/rskill`, else `~/.local/share/rskill`.
//! Several installs may run at once (a fleet provisioning script, two terminals), so
//! every change goes through [`update`]: an exclusive lock on `registry.json.lock`
//! (an OS file lock, released even if the process dies), read, change, atomic replace.
//! Readers ([`load`]) take a shared lock. A registry that cannot be read is reported
//! and left untouched: rskill never replaces it with an empty one, which would forget
//! every installed skill.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// Overrides the data directory (tests, fleets with a read-only home).
pub const DATA_DIR_ENV: &str = "RSKILL_DATA_DIR";
/// The registry format this build reads and writes.
pub const REGISTRY_VERSION: u32 = 1;
/// The registry file's name inside the data directory.
pub const REGISTRY_FILE: &str = "registry.json";
/// How long [`update`] and [`load`] wait for another process holding the lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole registry file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Format version; [`REGISTRY_VERSION`].
    pub version: u32,
    /// Installed skills by skill repo id (`org/rskill-name`).
    pub skills: BTreeMap<String, InstalledSkill>,
    /// Installed groups by group repo id (`org/rskill-group-name`); their members are
    /// in `skills`. Absent in registries written before groups existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, InstalledGroup>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            version: REGISTRY_VERSION,
            skills: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    }
}

impl Registry {
    /// The installed groups that list `skill` as a member.
    pub fn groups_needing(&self, skill: &str) -> Vec<String> {
        self.groups
            .values()
            .filter(|g| g.members.iter().any(|m| m.repo == skill))
            .map(|g| g.repo.clone())
            .collect()
    }

    /// Removes the skills that were installed only for a group and that no installed
    /// group lists any more; returns them.
    pub fn drop_orphans(&mut self) -> Vec<InstalledSkill> {
        let orphans: Vec<String> = self
            .skills
            .values()
            .filter(|s| !s.explicit && self.groups_needing(&s.repo).is_empty())
            .map(|s| s.repo.clone())
            .collect();
        orphans
            .iter()
            .filter_map(|r| self.skills.remove(r))
            .collect()
    }
}

/// One installed group: the version and commit of the group repo, and the member
/// versions and commits it pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledGroup {
    pub repo: String,
    pub revision_requested: String,
    pub commit: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub members: Vec<GroupMember>,
    pub installed_at: String,
}

/// A member as its group pinned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub repo: String,
    pub version: String,
    pub commit: String,
}

/// One installed skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledSkill {
    /// The skill repo id (`org/rskill-name`), also its key in [`Registry::skills`].
    pub repo: String,
    /// The revision the user asked for (`main`, a tag, a commit).
    pub revision_requested: String,
    /// The 40-hex commit of the skill repo that revision resolved to.
    pub commit: String,
    /// The manifest's `version`.
    pub version: String,
    /// The alias it was installed through (`production`, `latest` …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The version's governance status when it was installed (`active` …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The manifest's `kind`.
    pub kind: String,
    /// The manifest's license posture (`apache-2.0`, `nvidia_non_commercial`, …), kept
    /// as text so that a posture added later does not make older builds call the
    /// whole registry corrupt.
    pub license: String,
    /// The upstream weights repo and the commit its files came from, when the skill
    /// has weights.
    pub weights: Option<WeightsSource>,
    /// Every file installed for the skill (skill repo and weights repo alike).
    pub files: Vec<InstalledFile>,
    /// When it was installed, RFC 3339 in UTC (`2025-01-31T12:00:00Z`).
    pub installed_at: String,
    /// What the smoke-load found.
    pub smoke: SmokeRecord,
    /// Whether it was signed, verified, and by which key.
    #[serde(default)]
    pub signature: crate::install::signature::SignatureRecord,
    /// Installed by name (`rskill install ID`), not only as a group's member; a skill
    /// installed only for groups goes away with the last of them.
    #[serde(default = "explicit_default", skip_serializing_if = "is_true")]
    pub explicit: bool,
}

fn explicit_default() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Where a skill's weights came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsSource {
    pub repo: String,
    pub commit: String,
}

/// One downloaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledFile {
    /// The repo it came from.
    pub repo: String,
    /// Its path inside that repo.
    pub path: String,
    /// SHA-256 of its content, lowercase hex (verified when downloaded).
    pub sha256: String,
    pub size: u64,
    /// Where its content is: the blob in the shared Hub cache.
    pub blob_path: PathBuf,
}

/// The smoke-load outcome, one line per kind of weights (absent: none of that kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmokeRecord {
    /// The safetensors summary (`12 tensors, 1.2M params (F32×12), …`).
    pub safetensors: Option<String>,
    /// The ONNX summary (`inputs: …; outputs: …`), or `skipped: <reason>` when no
    /// ONNX Runtime was available.
    pub onnx: Option<String>,
}

/// Why the registry could not be read or changed. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "cannot tell where the rskill data directory is: neither {DATA_DIR_ENV}, XDG_DATA_HOME nor HOME is set\nhint: set {DATA_DIR_ENV}=<directory>"
    )]
    NoDataDir,
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "timed out after {}s waiting for the lock on {} (another rskill install or remove is running)\nhint: wait for it to finish and retry; the lock is released when that process exits",
        waited.as_secs(),
        path.display()
    )]
    LockTimeout { path: PathBuf, waited: Duration },
    #[error(
        "the installed-skills registry {} is corrupt: {problem}\nhint: it was left untouched; repair it by hand, or move it aside (mv {} {}.bad) and reinstall your skills",
        path.display(),
        path.display(),
        path.display()
    )]
    Corrupt { path: PathBuf, problem: String },
    #[error(
        "the installed-skills registry {} has format version {found}, but this rskill reads version {REGISTRY_VERSION}\nhint: it was left untouched; use the rskill that wrote it, or move it aside and reinstall your skills",
        path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: u64 },
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The rskill data directory: `$RSKILL_DATA_DIR`, else `$XDG_DATA_HOME/rskill`, else
/// `~/.local/share/rskill`.
pub fn data_dir() -> Result<PathBuf, RegistryError> {
    if let Some(dir) = env_path(DATA_DIR_ENV) {
        return Ok(dir);
    }
    if let Some(xdg) = env_path("XDG_DATA_HOME") {
        return Ok(xdg.join("rskill"));
    }
    env_path("HOME")
        .map(|h| h.join(".local").join("share").join("rskill"))
        .ok_or(RegistryError::NoDataDir)
}

/// Where the registry file lives (see [`data_dir`]).
pub fn registry_path() -> Result<PathBuf, RegistryError> {
    Ok(data_dir()?.join(REGISTRY_FILE))
}

/// Reads the registry under a shared lock (missing file: an empty registry).
pub fn load() -> Result<Registry, RegistryError> {
    load_at(&registry_path()?)
}

/// Changes the registry under an exclusive cross-process lock: reads it (missing: empty),
/// applies `f`, writes it back atomically, releases the lock, and returns what `f`
/// returned. A corrupt registry is an error, and `f` is then not called.
pub fn update<T, F>(f: F) -> Result<T, RegistryError>
where
    F: FnOnce(&mut Registry) -> T,
{
    update_at(&registry_path()?, f)
}

/// [`load`] for a registry at an explicit path.
pub fn load_at(path: &Path) -> Result<Registry, RegistryError> {
    if !path.exists() {
        // Nothing installed yet: do not create directories just to read.
        return Ok(Registry::default());
    }
    let _lock = Lock::acquire(path, LockKind::Shared)?;
    read(path)
}

/// [`update`] for a registry at an explicit path.
pub fn update_at<T, F>(path: &Path, f: F) -> Result<T, RegistryError>
where
    F: FnOnce(&mut Registry) -> T,
{
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| RegistryError::Io {
            action: "create the directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let _lock = Lock::acquire(path, LockKind::Exclusive)?;
    let mut registry = read(path)?;
    let out = f(&mut registry);
    let mut bytes = serde_json::to_vec_pretty(&registry).expect("the registry serializes");
    bytes.push(b'\n');
    crate::fsutil::write_atomic(path, &bytes).map_err(|source| RegistryError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(out)
}

/// Reads and checks the registry file; the caller holds the lock.
fn read(path: &Path) -> Result<Registry, RegistryError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registry::default()),
        Err(source) => {
            return Err(RegistryError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let corrupt = |problem: String| RegistryError::Corrupt {
        path: path.to_path_buf(),
        problem,
    };
    // The version first, so a newer format is reported as such rather than as corrupt.
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("invalid JSON: {e}")))?;
    let version = value
        .get("version")
        .ok_or_else(|| corrupt("no `version` field".to_string()))?;
    let found = version
        .as_u64()
        .ok_or_else(|| corrupt(format!("`version` is {version}, not a number")))?;
    if found != u64::from(REGISTRY_VERSION) {
        return Err(RegistryError::UnsupportedVersion {
            path: path.to_path_buf(),
            found,
        });
    }
    let registry: Registry = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    for (key, skill) in &registry.skills {
        if key != &skill.repo {
            return Err(corrupt(format!(
                "entry {key:?} describes skill {:?}",
                skill.repo
            )));
        }
    }
    for (key, group) in &registry.groups {
        if key != &group.repo {
            return Err(corrupt(format!(
                "groups entry {key:?} describes group {:?}",
                group.repo
            )));
        }
    }
    Ok(registry)
}

#[derive(Clone, Copy)]
enum LockKind {
    Shared,
    Exclusive,
}

/// A held lock on `<registry>.lock`, released on drop (and by the OS if the process
/// dies). The lock is on a separate file because the registry itself is replaced by
/// rename on every write, which would leave a lock on the old inode behind.
struct Lock(File);

impl Lock {
    fn acquire(registry: &Path, kind: LockKind) -> Result<Lock, RegistryError> {
        let mut name = registry.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = crate::fsutil::open_lock_file(&path).map_err(|source| RegistryError::Io {
            action: "open the lock file",
            path: path.clone(),
            source,
        })?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let attempt = match kind {
                LockKind::Shared => file.try_lock_shared(),
                LockKind::Exclusive => file.try_lock(),
            };
            match attempt {
                Ok(()) => return Ok(Lock(file)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(RegistryError::Io {
                        action: "lock",
                        path,
                        source,
                    });
                }
            }
            let waited = start.elapsed();
            if waited >= LOCK_TIMEOUT {
                return Err(RegistryError::LockTimeout { path, waited });
            }
            std::thread::sleep(pause.min(LOCK_TIMEOUT - waited));
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// `t` as RFC 3339 in UTC with second precision (`2025-01-31T12:00:00Z`).
pub fn rfc3339_utc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The current time for [`InstalledSkill::installed_at`].
pub fn now_rfc3339() -> String {
    rfc3339_utc(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn rfc3339_dates() {
        let at = |s: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_738_324_800), "2025-01-31T12:00:00Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
