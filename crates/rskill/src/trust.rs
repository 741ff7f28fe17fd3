//! The trust policy: which publisher keys a machine accepts for which org, and
//! whether that org's skills must be signed (`require`) or only warned about (`warn`).
//! Policies live in `trust.json` in the rskill data dir (`rskill trust add|list|remove`)
//! and, for a fleet that commits it, in `rskill-trust.json` in the project (the
//! current directory); both are merged: keys add up, and `require` in either wins.
//! `OPENRAL_REQUIRE_SIGNED_SKILLS=1` makes signatures required for every org.
//! The same files say which orgs need a recorded clean scan of the exact commit being
//! installed (`rskill trust scan-policy ORG require|off`; `require` in either wins).
//!
//! Keys are stored as their PEM, so a policy file is self-contained, and identified by
//! their id (the SHA-256 of the PEM, as in OMS bundles). Several keys per org let a
//! publisher rotate keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rskill_signing::PublicKey;
use serde::{Deserialize, Serialize};

/// The policy file in the data dir.
pub const TRUST_FILE: &str = "trust.json";
/// The policy file a project (a fleet's repo) commits, read from the current directory.
pub const PROJECT_TRUST_FILE: &str = "rskill-trust.json";
/// Existing fleets' switch: unsigned skills are refused for every org.
pub const REQUIRE_ENV: &str = "OPENRAL_REQUIRE_SIGNED_SKILLS";
const VERSION: u32 = 1;
const MAX_POLICY_BYTES: u64 = 4 << 20;

/// What a policy asks of an org's skills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Unsigned or unverifiable skills are refused.
    #[default]
    Require,
    /// They are installed with a warning.
    Warn,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Require => "require",
            Mode::Warn => "warn",
        })
    }
}

/// What a key is trusted to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Skill content (`model.sig` and the weights lock).
    Skills,
    /// The governance state (`rskill.registry.sig`: releases, statuses, aliases, scans).
    Governance,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "skills" => Ok(Role::Skills),
            "governance" => Ok(Role::Governance),
            _ => Err(format!("unknown role `{s}` (skills or governance)")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Skills => "skills",
            Role::Governance => "governance",
        })
    }
}

fn default_roles() -> BTreeSet<Role> {
    [Role::Skills].into()
}

fn is_default_roles(roles: &BTreeSet<Role>) -> bool {
    *roles == default_roles()
}

/// One trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub pem: String,
    /// What it may sign; files written before roles existed mean skills only.
    #[serde(default = "default_roles", skip_serializing_if = "is_default_roles")]
    pub roles: BTreeSet<Role>,
}

/// One org's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OrgPolicy {
    pub mode: Mode,
    pub keys: Vec<TrustedKey>,
}

/// A policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    pub version: u32,
    pub orgs: BTreeMap<String, OrgPolicy>,
    /// Orgs whose installs need a recorded clean scan of the commit installed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub scan_required: BTreeSet<String>,
}

impl Default for TrustFile {
    fn default() -> Self {
        TrustFile {
            version: VERSION,
            orgs: BTreeMap::new(),
            scan_required: BTreeSet::new(),
        }
    }
}

/// Why a policy could not be read or changed; names the file.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    Key(#[from] rskill_signing::SigningError),
}

impl TrustFile {
    /// Reads a policy file (missing: empty), checking every key's PEM and id.
    pub fn load(path: &Path) -> Result<TrustFile, TrustError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TrustFile::default()),
            Err(source) => {
                return Err(TrustError::Io {
                    path: path.into(),
                    source,
                });
            }
        };
        let invalid = |problem: String| TrustError::Invalid {
            path: path.into(),
            problem,
        };
        if bytes.len() as u64 > MAX_POLICY_BYTES {
            return Err(invalid(format!("larger than {MAX_POLICY_BYTES} bytes")));
        }
        let file: TrustFile = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("not a trust policy: {e}")))?;
        if file.version != VERSION {
            return Err(invalid(format!(
                "version {} (this rskill reads {VERSION})",
                file.version
            )));
        }
        for (org, p) in &file.orgs {
            for k in &p.keys {
                let key = PublicKey::from_pem(&k.pem, &format!("{}: orgs.{org}", path.display()))?;
                if key.id() != k.id {
                    return Err(invalid(format!(
                        "orgs.{org}: key id {} does not match its PEM ({})",
                        k.id,
                        key.id()
                    )));
                }
            }
        }
        Ok(file)
    }

    pub fn save(&self, path: &Path) -> Result<(), TrustError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| TrustError::Io {
                path: dir.into(),
                source,
            })?;
        }
        let mut bytes = serde_json::to_vec_pretty(self).expect("a policy always serializes");
        bytes.push(b'\n');
        crate::fsutil::write_replacing(path, &bytes).map_err(|source| TrustError::Io {
            path: path.into(),
            source,
        })
    }

    /// Adds `key` for `org` with `roles` (idempotent; a key added again gains the
    /// roles), setting the org's mode.
    pub fn add(
        &mut self,
        org: &str,
        key: &PublicKey,
        name: Option<String>,
        mode: Mode,
        roles: &BTreeSet<Role>,
    ) {
        let p = self.orgs.entry(org.to_string()).or_default();
        p.mode = mode;
        if let Some(k) = p.keys.iter_mut().find(|k| k.id == key.id()) {
            k.name = name.or(k.name.take());
            k.roles.extend(roles.iter().copied());
        } else {
            p.keys.push(TrustedKey {
                id: key.id().to_string(),
                name,
                pem: key.pem().to_string(),
                roles: roles.clone(),
            });
        }
    }

    /// Sets whether `org`'s installs need a recorded clean scan; returns whether that
    /// changed the file.
    pub fn set_scan_required(&mut self, org: &str, required: bool) -> bool {
        if required {
            self.scan_required.insert(org.to_string())
        } else {
            self.scan_required.remove(org)
        }
    }

    /// Removes one key of `org` (by id or unique id prefix, or name), or the whole org
    /// when `key` is `None`; returns how many keys went.
    pub fn remove(&mut self, org: &str, key: Option<&str>) -> usize {
        let Some(p) = self.orgs.get_mut(org) else {
            return 0;
        };
        let removed = match key {
            None => {
                let n = p.keys.len();
                self.orgs.remove(org);
                return n.max(1);
            }
            Some(k) => {
                let before = p.keys.len();
                p.keys
                    .retain(|t| !(t.id.starts_with(k) || t.name.as_deref() == Some(k)));
                before - p.keys.len()
            }
        };
        if p.keys.is_empty() {
            self.orgs.remove(org);
        }
        removed
    }
}

/// The policy in force: the data dir's file merged with the project's, and the
/// environment switch.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub orgs: BTreeMap<String, OrgPolicy>,
    /// Orgs that need a recorded clean scan (union of the files).
    pub scan_required: BTreeSet<String>,
    /// `OPENRAL_REQUIRE_SIGNED_SKILLS` is set.
    pub require_all: bool,
}

/// What the policy says about one org.
#[derive(Debug, Clone)]
pub struct OrgTrust {
    /// Keys trusted for skill content, with their names.
    pub keys: Vec<(PublicKey, Option<String>)>,
    /// Keys trusted for the governance state, with their names.
    pub governance_keys: Vec<(PublicKey, Option<String>)>,
    /// Unsigned or unverifiable skills are refused.
    pub required: bool,
    /// The org has a policy at all (a `warn` policy warns).
    pub has_policy: bool,
    /// Installs need a recorded clean scan of the exact commit.
    pub scan_required: bool,
}

impl OrgTrust {
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|(k, _)| k.clone()).collect()
    }

    pub fn name_of(&self, id: &str) -> Option<String> {
        self.keys
            .iter()
            .chain(&self.governance_keys)
            .find(|(k, _)| k.id() == id)
            .and_then(|(_, n)| n.clone())
    }

    pub fn governance_public_keys(&self) -> Vec<PublicKey> {
        self.governance_keys
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl Policy {
    /// Merges policy files (later ones add keys; `require` anywhere wins).
    pub fn from_files(files: &[TrustFile], require_all: bool) -> Policy {
        let mut orgs: BTreeMap<String, OrgPolicy> = BTreeMap::new();
        let mut scan_required = BTreeSet::new();
        for f in files {
            scan_required.extend(f.scan_required.iter().cloned());
            for (org, p) in &f.orgs {
                match orgs.get_mut(org) {
                    None => {
                        orgs.insert(org.clone(), p.clone());
                    }
                    Some(have) => {
                        if p.mode == Mode::Require {
                            have.mode = Mode::Require;
                        }
                        for k in &p.keys {
                            match have.keys.iter_mut().find(|h| h.id == k.id) {
                                Some(h) => h.roles.extend(k.roles.iter().copied()),
                                None => have.keys.push(k.clone()),
                            }
                        }
                    }
                }
            }
        }
        Policy {
            orgs,
            scan_required,
            require_all,
        }
    }

    /// The policy of this machine and project: `<data dir>/trust.json`,
    /// `./rskill-trust.json`, and `OPENRAL_REQUIRE_SIGNED_SKILLS`.
    pub fn load() -> Result<Policy, TrustError> {
        let user = TrustFile::load(&user_file()?)?;
        let project = TrustFile::load(Path::new(PROJECT_TRUST_FILE))?;
        let require_all = std::env::var(REQUIRE_ENV).is_ok_and(|v| crate::hub::env::is_truthy(&v));
        Ok(Policy::from_files(&[user, project], require_all))
    }

    pub fn for_org(&self, org: &str) -> OrgTrust {
        let p = self.orgs.get(org);
        let with_role = |role: Role| -> Vec<(PublicKey, Option<String>)> {
            p.map(|p| {
                p.keys
                    .iter()
                    .filter(|k| k.roles.contains(&role))
                    .filter_map(|k| {
                        PublicKey::from_pem(&k.pem, org)
                            .ok()
                            .map(|pk| (pk, k.name.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        OrgTrust {
            keys: with_role(Role::Skills),
            governance_keys: with_role(Role::Governance),
            required: self.require_all || p.is_some_and(|p| p.mode == Mode::Require),
            has_policy: p.is_some(),
            scan_required: self.scan_required.contains(org),
        }
    }
}

/// `<data dir>/trust.json`.
pub fn user_file() -> Result<PathBuf, TrustError> {
    Ok(crate::registry::data_dir()?.join(TRUST_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_policy_is_per_org_merged_and_absent_from_older_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRUST_FILE);
        // A file written before scan policies reads, and has none.
        std::fs::write(&path, br#"{"version":1,"orgs":{}}"#).unwrap();
        let mut user = TrustFile::load(&path).unwrap();
        assert!(user.scan_required.is_empty());
        assert!(user.set_scan_required("acme", true));
        assert!(!user.set_scan_required("acme", true), "already set");
        user.save(&path).unwrap();
        let user = TrustFile::load(&path).unwrap();
        let project = TrustFile {
            scan_required: ["beta".to_string()].into(),
            ..TrustFile::default()
        };
        let policy = Policy::from_files(&[user.clone(), project], false);
        assert!(policy.for_org("acme").scan_required);
        assert!(
            policy.for_org("beta").scan_required,
            "either file's require wins"
        );
        assert!(!policy.for_org("other").scan_required);
        // A scan policy alone does not make signatures required.
        assert!(!policy.for_org("acme").required);
        let mut off = user;
        assert!(off.set_scan_required("acme", false));
        off.save(&path).unwrap();
        assert!(
            !String::from_utf8(std::fs::read(&path).unwrap())
                .unwrap()
                .contains("scan_required")
        );
    }
}
