//! Whether a skill's governance state is authentic, and what that changes: a state
//! signed by a key the org trusts for governance (`rskill.registry.sig`, format in
//! docs/signing.md) makes the signed releases authoritative over the Hub's tags (a
//! tag that moved is refused, a tag the state does not release is not installable),
//! must not have expired, and must vouch for the registry file read beside it. What
//! the policy asks for decides whether an unsigned or unverifiable state is refused
//! or only warned about. Rollback (a state older than one seen) is [`super::seen`]'s.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use rskill_signing::governance::{self, GovernanceState, SignedGovernance};
use rskill_signing::{PrivateKey, PublicKey};
use semver::Version;

use crate::hub::ids::{CommitId, RepoPath};
use crate::hub::{HubClient, RepoId};
use crate::trust::{Mode, Policy, Role, TrustedKey};

use super::remote::LifecycleError;

pub use rskill_signing::governance::GOVERNANCE_SIGNATURE_FILE;

/// What this machine trusts, and what it lets through, when it reads governance.
#[derive(Debug, Clone, Default)]
pub struct GovernancePolicy {
    pub trust: Policy,
    /// `--allow-expired REASON`: an expired signed state is used, with this reason said.
    pub allow_expired: Option<String>,
}

impl GovernancePolicy {
    /// The same policy, also trusting `key` for `org`'s governance (a signer trusts its
    /// own key; the org's mode is left as it is, `warn` when it had none).
    pub fn trusting(mut self, org: &str, key: &PublicKey) -> GovernancePolicy {
        let p = self
            .trust
            .orgs
            .entry(org.to_string())
            .or_insert_with(|| crate::trust::OrgPolicy {
                mode: Mode::Warn,
                keys: Vec::new(),
            });
        match p.keys.iter_mut().find(|k| k.id == key.id()) {
            Some(k) => {
                k.roles.insert(Role::Governance);
            }
            None => p.keys.push(TrustedKey {
                id: key.id().to_string(),
                name: Some("signing key".into()),
                pem: key.pem().to_string(),
                roles: [Role::Governance].into(),
            }),
        }
        self
    }

    /// The policy a signer reads with: its own key trusted, an expired or unsigned
    /// state accepted (the change it signs renews or first signs it; the state it
    /// replaces must still verify with its key or a trusted one, see [`next_state`]).
    pub fn for_signer(self, org: &str, key: &PublicKey) -> GovernancePolicy {
        let mut policy = self.trusting(org, key);
        policy.trust.require_all = false;
        if let Some(p) = policy.trust.orgs.get_mut(org) {
            p.mode = Mode::Warn;
        }
        GovernancePolicy {
            allow_expired: Some("the signer renews it".into()),
            ..policy
        }
    }

    /// Whether any key is trusted for `org`'s governance.
    pub fn has_governance_keys(&self, org: &str) -> bool {
        !self.trust.for_org(org).governance_keys.is_empty()
    }
}

/// The key a governance change is signed with, and how long the state stays valid.
#[derive(Debug, Clone)]
pub struct GovernanceSigner {
    pub key: PrivateKey,
    pub validity: Duration,
}

/// What a signer replaces: the registry file and signature on `main` now, and the
/// Hub's tags (new ones are released by the new state).
pub struct Previous<'a> {
    pub registry: Option<&'a [u8]>,
    pub signature: Option<&'a [u8]>,
    pub hub_tags: &'a BTreeMap<Version, CommitId>,
}

/// The next signed state: the previous one's version + 1 (it must verify, with the
/// signer's key or one the org trusts for governance: a signer never continues a
/// state it cannot authenticate), its releases plus every new `v*` tag whose manifest
/// names that version (others are left out, said in `notes`), a moved release
/// refused, scans carried over (`scanned`: recorded now, by the signer), a new expiry.
#[allow(clippy::too_many_arguments)]
pub async fn next_state(
    client: &HubClient,
    repo: &RepoId,
    previous: Previous<'_>,
    registry: &[u8],
    history_length: usize,
    scanned: Option<&str>,
    signer: &GovernanceSigner,
    policy: &GovernancePolicy,
    notes: &mut Vec<String>,
) -> Result<GovernanceState, LifecycleError> {
    let refused = |problem| LifecycleError::Governance {
        repo: repo.to_string(),
        problem,
    };
    let prev = match previous.signature {
        None => None,
        Some(bytes) => {
            let mut keys = policy.trust.for_org(repo.org()).governance_public_keys();
            keys.push(signer.key.public());
            let s = SignedGovernance::verify(bytes, &keys, repo.as_str(), previous.registry)
                .map_err(|e| {
                    refused(GovernanceProblem::Unverifiable {
                        reason: format!("the state on main now: {e}"),
                    })
                })?;
            Some(s.state)
        }
    };
    let mut releases = prev
        .as_ref()
        .map(|p| p.releases.clone())
        .unwrap_or_default();
    for (v, tag) in previous.hub_tags {
        let name = v.to_string();
        match releases.get(&name) {
            Some(signed) if signed != tag.as_str() => {
                return Err(refused(GovernanceProblem::TagMoved {
                    version: name,
                    tag: tag.to_string(),
                    signed: signed.clone(),
                }));
            }
            Some(_) => {}
            None => match manifest_version(client, repo, tag).await? {
                Some(m) if m == name => {
                    releases.insert(name, tag.to_string());
                }
                other => notes.push(format!(
                    "warning: {repo}: tag v{v} at {tag} is not released: its manifest says {}; delete the tag (manage right) if nobody should install it",
                    other.as_deref().map_or("no valid version".into(), |m| format!("version {m}"))
                )),
            },
        }
    }
    let mut scans = prev.as_ref().map(|p| p.scans.clone()).unwrap_or_default();
    if let Some(commit) = scanned {
        scans.insert(commit.to_string(), signer.key.public().id().to_string());
    }
    let now = SystemTime::now();
    Ok(GovernanceState {
        repo: repo.to_string(),
        version: prev.as_ref().map_or(1, |p| p.version + 1),
        issued: governance::rfc3339(now),
        expires: governance::rfc3339(now + signer.validity),
        registry_sha256: governance::registry_digest(registry),
        history_length: history_length as u64,
        releases,
        scans,
    })
}

/// The version the repo's manifest names at `commit`: `rskill.yaml` for a skill,
/// `rskill-group.yaml` for a group (`None`: no valid manifest there).
async fn manifest_version(
    client: &HubClient,
    repo: &RepoId,
    commit: &CommitId,
) -> Result<Option<String>, LifecycleError> {
    use rskill_manifest::group;
    let is_group = repo.name().starts_with(group::GROUP_REPO_PREFIX);
    let path: RepoPath = if is_group {
        group::GROUP_FILE.parse().expect("a valid repo path")
    } else {
        RepoPath::manifest()
    };
    let bytes = match client.read_file_cached(repo, commit, &path).await {
        Ok(b) => b,
        Err(crate::hub::HubError::EntryNotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(if is_group {
        group::parse_valid(&bytes)
            .ok()
            .map(|g| g.version.to_string())
    } else {
        rskill_manifest::validate::parse_valid(&String::from_utf8_lossy(&bytes))
            .ok()
            .map(|m| m.version.to_string())
    })
}

/// A signed state's releases as versions and commits (checked when it was signed or
/// verified).
pub fn releases_of(state: &GovernanceState) -> BTreeMap<Version, CommitId> {
    state
        .releases
        .iter()
        .filter_map(|(v, c)| Some((Version::parse(v).ok()?, c.parse().ok()?)))
        .collect()
}

/// The governance signature of a state, as checked on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Authenticity {
    /// No `rskill.registry.sig` on `main`.
    #[default]
    Unsigned,
    /// Verified with a key the org trusts for governance.
    Verified {
        state: GovernanceState,
        key_id: String,
        key_name: Option<String>,
    },
    /// Signed, but not verified here (no governance key trusted, or it failed).
    Unverified {
        key_id: Option<String>,
        reason: String,
    },
}

impl Authenticity {
    /// The verified state, if any.
    pub fn verified(&self) -> Option<&GovernanceState> {
        match self {
            Authenticity::Verified { state, .. } => Some(state),
            _ => None,
        }
    }

    /// One word for tables and JSON: `verified`, `unverified` or `unsigned`.
    pub fn label(&self) -> &'static str {
        match self {
            Authenticity::Unsigned => "unsigned",
            Authenticity::Verified { .. } => "verified",
            Authenticity::Unverified { .. } => "unverified",
        }
    }
}

/// Why a governance state was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GovernanceProblem {
    #[error(
        "the governance state is unsigned, and {org} requires signed governance (a governance key is trusted)"
    )]
    Unsigned { org: String },
    #[error("{GOVERNANCE_SIGNATURE_FILE} does not verify: {reason}")]
    Unverifiable { reason: String },
    #[error("the signed governance state expired at {expires} (version {version})")]
    Expired { expires: String, version: u64 },
    #[error(
        "tag v{version} points to {tag}, but the signed governance state releases {version} at {signed}: the tag was moved"
    )]
    TagMoved {
        version: String,
        tag: String,
        signed: String,
    },
    #[error(
        "the signed governance state is version {now}, older than version {seen} seen before: a rollback"
    )]
    Rollback { seen: u64, now: u64 },
    #[error(
        "the signed governance state is version {version} as before, but vouches for another registry file: two states share one version"
    )]
    Equivocation { version: u64 },
    #[error(
        "the governance state was signed (version {seen}) when this machine last read it, and is {now} now"
    )]
    SignatureVanished { seen: u64, now: &'static str },
    #[error(
        "the governance history vanished: {seen} events seen before, no registry file on main now (the repo was deleted and re-created, or the file removed)"
    )]
    HistoryVanished { seen: usize },
    #[error(
        "its governance is signed, so a change must be signed too (the registry file would no longer match its signature)"
    )]
    SignerRequired,
    #[error("version {version}: the manifest at {commit} says version {manifest}")]
    ManifestVersion {
        version: String,
        commit: String,
        manifest: String,
    },
}

impl GovernanceProblem {
    pub fn hint(&self) -> String {
        match self {
            GovernanceProblem::SignerRequired => "give the org's governance key: --governance-key KEY.pem (or RSKILL_GOVERNANCE_KEY)".into(),
            GovernanceProblem::Unsigned { .. } => "ask the publisher to sign it (`rskill-publisher governance refresh ID --governance-key KEY`), or stop requiring it (`rskill trust remove ORG --key GOVERNANCE-KEY`)".into(),
            GovernanceProblem::Unverifiable { .. } => "trust the org's governance key (`rskill trust add ORG --key PUB.pem --role governance`); if it is trusted, the state was forged or damaged: do not use this skill".into(),
            GovernanceProblem::Expired { .. } => "the publisher refreshes it (`rskill-publisher governance refresh ID`); to go on anyway, say why: `--allow-expired \"REASON\"`".into(),
            GovernanceProblem::TagMoved { .. } | GovernanceProblem::ManifestVersion { .. } => "someone with write access moved a release tag; do not use this version, and tell the skill's owners (`rskill history ID`)".into(),
            GovernanceProblem::Rollback { .. } | GovernanceProblem::Equivocation { .. } | GovernanceProblem::SignatureVanished { .. } | GovernanceProblem::HistoryVanished { .. } => "the Hub (or something between it and this machine) serves an older or rewritten state; do not use it, and tell the skill's owners and the Hub's operators".into(),
        }
    }
}

/// Checks a state's governance signature against the policy, and makes the signed
/// releases authoritative over `tags`. Returns the authenticity and notes to show
/// (warnings: unsigned governance, tags the state does not release).
pub fn authenticate(
    repo: &RepoId,
    tags: &mut BTreeMap<Version, CommitId>,
    registry: Option<&[u8]>,
    signature: Option<&[u8]>,
    policy: &GovernancePolicy,
    now: SystemTime,
) -> Result<(Authenticity, Vec<String>), GovernanceProblem> {
    let org = repo.org().to_string();
    let trust = policy.trust.for_org(&org);
    let keys = trust.governance_public_keys();
    let mut notes = Vec::new();
    let Some(signature) = signature else {
        if !keys.is_empty() && trust.required {
            return Err(GovernanceProblem::Unsigned { org });
        }
        if trust.has_policy && (registry.is_some() || !tags.is_empty()) {
            notes.push(format!(
                "warning: {repo}: its governance (release tags, statuses, aliases) is unsigned, so a token that may write the repo can change which version installs"
            ));
        }
        return Ok((Authenticity::Unsigned, notes));
    };
    if keys.is_empty() {
        let claimed = SignedGovernance::parse_unverified(signature, repo.as_str(), registry);
        let key_id = claimed.as_ref().ok().and_then(|c| c.key_id.clone());
        if trust.has_policy {
            notes.push(format!(
                "warning: {repo}: its governance is signed by key {}, which this machine does not trust for governance; not verified",
                key_id.as_deref().unwrap_or("(unnamed)")
            ));
        }
        let reason = match claimed {
            Ok(_) => "no key is trusted for governance".into(),
            Err(e) => e.to_string(),
        };
        return Ok((Authenticity::Unverified { key_id, reason }, notes));
    }
    let signed = match SignedGovernance::verify(signature, &keys, repo.as_str(), registry) {
        Ok(s) => s,
        Err(e) if trust.required => {
            return Err(GovernanceProblem::Unverifiable {
                reason: e.to_string(),
            });
        }
        Err(e) => {
            notes.push(format!(
                "warning: {repo}: governance signature not verified: {e}"
            ));
            return Ok((
                Authenticity::Unverified {
                    key_id: None,
                    reason: e.to_string(),
                },
                notes,
            ));
        }
    };
    let state = signed.state;
    if state.expired_at(now).unwrap_or(true) {
        let problem = GovernanceProblem::Expired {
            expires: state.expires.clone(),
            version: state.version,
        };
        match &policy.allow_expired {
            Some(why) => notes.push(format!("warning: {repo}: {problem}; used anyway: {why}")),
            None => return Err(problem),
        }
    }
    reconcile_tags(repo, tags, &state, &mut notes)?;
    let key_id = signed.key_id.unwrap_or_default();
    Ok((
        Authenticity::Verified {
            key_name: trust.name_of(&key_id),
            key_id,
            state,
        },
        notes,
    ))
}

/// The signed releases rule the tags: a tag on another commit is refused; a tag the
/// state does not release is dropped (not installable, said in a note); a release
/// whose tag is gone resolves to its signed commit.
fn reconcile_tags(
    repo: &RepoId,
    tags: &mut BTreeMap<Version, CommitId>,
    state: &GovernanceState,
    notes: &mut Vec<String>,
) -> Result<(), GovernanceProblem> {
    let mut released = BTreeMap::new();
    for (v, commit) in &state.releases {
        // Checked by the signing crate: a version string and 40 hex digits.
        let (Ok(version), Ok(commit)) = (Version::parse(v), commit.parse::<CommitId>()) else {
            return Err(GovernanceProblem::Unverifiable {
                reason: format!("release {v} at {commit} is not a version and a commit"),
            });
        };
        released.insert(version, commit);
    }
    for (v, tag) in tags.iter() {
        match released.get(v) {
            Some(signed) if signed != tag => {
                return Err(GovernanceProblem::TagMoved {
                    version: v.to_string(),
                    tag: tag.to_string(),
                    signed: signed.to_string(),
                });
            }
            Some(_) => {}
            None => notes.push(format!(
                "note: {repo}: tag v{v} is not released in the signed governance state (version {}); it is not installable until the publisher signs it (`rskill-publisher governance refresh`)",
                state.version
            )),
        }
    }
    *tags = released;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_guards_the_file_the_client_reads() {
        assert_eq!(
            GOVERNANCE_SIGNATURE_FILE,
            rskill_hub_protocol::REGISTRY_SIGNATURE_FILE
        );
        assert!(rskill_hub_protocol::GOVERNANCE_FILES.contains(&GOVERNANCE_SIGNATURE_FILE));
    }
    use crate::trust::{Mode, Role, TrustFile};
    use rskill_signing::PrivateKey;
    use rskill_signing::governance::registry_digest;

    const REGISTRY: &[u8] = b"{\"format\": 1}\n";

    fn c(ch: char) -> CommitId {
        ch.to_string().repeat(40).parse().unwrap()
    }

    fn signed(key: &PrivateKey, expires: &str, releases: &[(&str, char)]) -> Vec<u8> {
        GovernanceState {
            repo: "acme/rskill-x".into(),
            version: 2,
            issued: "2026-12-01T00:00:00Z".into(),
            expires: expires.into(),
            registry_sha256: registry_digest(REGISTRY),
            history_length: 0,
            releases: releases
                .iter()
                .map(|(v, ch)| (v.to_string(), c(*ch).to_string()))
                .collect(),
            scans: BTreeMap::new(),
        }
        .sign(key)
        .unwrap()
    }

    fn policy(key: Option<&PrivateKey>, mode: Mode) -> GovernancePolicy {
        let mut f = TrustFile::default();
        if let Some(k) = key {
            f.add("acme", &k.public(), None, mode, &[Role::Governance].into());
        }
        GovernancePolicy {
            trust: Policy::from_files(&[f], false),
            allow_expired: None,
        }
    }

    fn at(t: &str) -> SystemTime {
        humantime::parse_rfc3339(t).unwrap()
    }

    #[test]
    fn signed_releases_rule_the_tags() {
        let key = PrivateKey::generate();
        let repo: RepoId = "acme/rskill-x".parse().unwrap();
        let sig = signed(
            &key,
            "2027-01-01T00:00:00Z",
            &[("1.0.0", 'a'), ("1.1.0", 'b')],
        );
        let now = at("2026-12-08T00:00:00Z");
        let v = |s: &str| Version::parse(s).unwrap();
        let p = policy(Some(&key), Mode::Require);
        // The tags agree: verified; a missing tag resolves to the signed commit.
        let mut tags = BTreeMap::from([(v("1.0.0"), c('a'))]);
        let (a, _) = authenticate(&repo, &mut tags, Some(REGISTRY), Some(&sig), &p, now).unwrap();
        assert!(a.verified().is_some());
        assert_eq!(tags.get(&v("1.1.0")), Some(&c('b')));
        // A moved tag is refused.
        let mut tags = BTreeMap::from([(v("1.1.0"), c('a'))]);
        let e = authenticate(&repo, &mut tags, Some(REGISTRY), Some(&sig), &p, now).unwrap_err();
        assert!(matches!(e, GovernanceProblem::TagMoved { .. }), "{e}");
        // A tag the state does not release is dropped, with a note.
        let mut tags = BTreeMap::from([(v("1.1.1"), c('b'))]);
        let (_, notes) =
            authenticate(&repo, &mut tags, Some(REGISTRY), Some(&sig), &p, now).unwrap();
        assert!(!tags.contains_key(&v("1.1.1")));
        assert!(
            notes.iter().any(|n| n.contains("v1.1.1 is not released")),
            "{notes:?}"
        );
        // Expired: refused, unless allowed with a reason.
        let late = at("2027-02-01T00:00:00Z");
        let e = authenticate(
            &repo,
            &mut BTreeMap::new(),
            Some(REGISTRY),
            Some(&sig),
            &p,
            late,
        )
        .unwrap_err();
        assert!(matches!(e, GovernanceProblem::Expired { .. }), "{e}");
        let allowed = GovernancePolicy {
            allow_expired: Some("uplink down".into()),
            ..p.clone()
        };
        let (_, notes) = authenticate(
            &repo,
            &mut BTreeMap::new(),
            Some(REGISTRY),
            Some(&sig),
            &allowed,
            late,
        )
        .unwrap();
        assert!(notes.iter().any(|n| n.contains("uplink down")), "{notes:?}");
        // Unsigned, with a governance key trusted and required: refused.
        let e =
            authenticate(&repo, &mut BTreeMap::new(), Some(REGISTRY), None, &p, now).unwrap_err();
        assert!(matches!(e, GovernanceProblem::Unsigned { .. }), "{e}");
        // Signed by another key: unverifiable.
        let other = signed(&PrivateKey::generate(), "2027-01-01T00:00:00Z", &[]);
        let e = authenticate(
            &repo,
            &mut BTreeMap::new(),
            Some(REGISTRY),
            Some(&other),
            &p,
            now,
        )
        .unwrap_err();
        assert!(matches!(e, GovernanceProblem::Unverifiable { .. }), "{e}");
        // No governance key trusted: unverified, the tags as they are, installs go on.
        let none = policy(None, Mode::Require);
        let mut tags = BTreeMap::from([(v("1.1.1"), c('b'))]);
        let (a, _) =
            authenticate(&repo, &mut tags, Some(REGISTRY), Some(&sig), &none, now).unwrap();
        assert_eq!(a.label(), "unverified");
        assert!(tags.contains_key(&v("1.1.1")));
        let (a, _) = authenticate(&repo, &mut tags, Some(REGISTRY), None, &none, now).unwrap();
        assert_eq!(a, Authenticity::Unsigned);
    }
}
