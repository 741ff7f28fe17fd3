//! `rskill audit`: for every installed skill, whether its version was deprecated or
//! deleted since it was installed, and whether the alias it was installed through now
//! points elsewhere. Answers from the Hub, else from the last state this machine saw
//! (with its age); a skill with no answer at all, or a registry file that does not
//! validate, is reported as unknown. A fleet health check: any deleted or unknown
//! skill fails it.

use serde::Serialize;

use crate::hub::{HubClient, RepoId};
use crate::registry::InstalledSkill;

use super::model::{self, Status};
use super::remote::{self, LifecycleError};
use super::resolve;
use super::seen::Seen;

/// The verdict on one installed skill, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Deprecated since install, or its alias moved.
    Warn,
    /// The installed version is deleted (or the answer is unknown).
    Fail,
}

/// One audited skill.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub repo: String,
    pub version: String,
    pub commit: String,
    /// Status recorded at install time.
    pub status_at_install: Option<String>,
    /// Status now (`None`: unknown).
    pub status: Option<Status>,
    pub alias: Option<String>,
    /// Where that alias points now (`None`: unset, or unknown).
    pub alias_now: Option<String>,
    pub alias_moved: bool,
    /// `hub` (read now) or `cache` (this machine's last copy), or `none`.
    pub source: &'static str,
    /// When the answer was read from the Hub.
    pub checked_at: Option<String>,
    /// Its age in seconds (0 for an answer read now).
    pub age_seconds: Option<u64>,
    pub reason: Option<String>,
    /// The governance signature: `verified`, `unverified` or `unsigned`.
    pub governance: &'static str,
    pub notes: Vec<String>,
    pub verdict: Verdict,
}

/// Audits every installed skill, one after the other.
pub async fn audit(client: &HubClient, seen: &Seen, installed: &[InstalledSkill]) -> Vec<AuditRow> {
    let mut rows = Vec::with_capacity(installed.len());
    for skill in installed {
        rows.push(audit_one(client, seen, skill).await);
    }
    rows
}

async fn audit_one(client: &HubClient, seen: &Seen, skill: &InstalledSkill) -> AuditRow {
    let mut row = AuditRow {
        repo: skill.repo.clone(),
        version: skill.version.clone(),
        commit: skill.commit.clone(),
        status_at_install: skill.status.clone(),
        status: None,
        alias: skill.alias.clone(),
        alias_now: None,
        alias_moved: false,
        source: "none",
        checked_at: None,
        age_seconds: None,
        reason: None,
        governance: "unsigned",
        notes: Vec::new(),
        verdict: Verdict::Fail,
    };
    let repo: RepoId = match skill.repo.parse() {
        Ok(r) => r,
        Err(e) => {
            row.notes
                .push(format!("registry entry names no valid repo: {e}"));
            return row;
        }
    };
    let state = match remote::read(client, seen, &repo).await {
        Ok(s) => {
            row.source = "hub";
            row.checked_at = Some(crate::registry::now_rfc3339());
            row.age_seconds = Some(0);
            s
        }
        Err(LifecycleError::Hub(e))
            if e.is_unreachable() || matches!(e, crate::hub::HubError::Offline { .. }) =>
        {
            match seen.remembered(&repo) {
                Some(r) => {
                    row.source = "cache";
                    row.checked_at = Some(r.fetched_at);
                    row.age_seconds = Some(r.age.as_secs());
                    row.notes.push(format!("the Hub was not reached ({e})"));
                    if let Some(refused) = r.refused {
                        row.notes.push(format!(
                            "the last read, at {}, was refused: {}",
                            refused.at, refused.reason
                        ));
                        return row;
                    }
                    r.state
                }
                None => {
                    row.notes.push(format!(
                        "no answer: {e}; and no earlier copy on this machine"
                    ));
                    return row;
                }
            }
        }
        Err(e) => {
            row.notes.push(e.to_string());
            return row;
        }
    };
    row.governance = state.authenticity.label();
    row.notes.extend(state.problems.iter().cloned());
    // A remembered signed state is held to its expiry like one read now.
    if let Some(signed) = state.authenticity.verified()
        && signed
            .expired_at(std::time::SystemTime::now())
            .unwrap_or(true)
    {
        row.notes.push(format!(
            "the signed governance state this machine holds expired at {} (version {})",
            signed.expires, signed.version
        ));
        return row;
    }
    if state.version_at(&skill.commit).is_none()
        && state.authenticity.verified().is_some()
        && let Ok(v) = model::parse_version(&skill.version)
        && let Some(released) = state.tags.get(&v)
    {
        row.notes.push(format!(
            "installed commit {} is not the commit the signed governance state releases as {v} ({released})",
            skill.commit
        ));
        return row;
    }
    let version = state.version_at(&skill.commit).or_else(|| {
        model::parse_version(&skill.version)
            .ok()
            .filter(|v| state.tags.contains_key(v))
    });
    let Some(version) = version else {
        // Installed from a commit no version tag names (a branch head): nothing governs it.
        row.notes
            .push("installed from an untagged commit: no status applies".into());
        row.verdict = Verdict::Ok;
        return row;
    };
    if skill.version != version.to_string() {
        row.notes.push(format!(
            "installed commit {} is release {version}, but its manifest said version {}",
            skill.commit, skill.version
        ));
        row.version = version.to_string();
        return row;
    }
    row.version = version.to_string();
    let status = state.registry.status_of(&version);
    row.status = Some(status);
    if status != Status::Active {
        row.reason = resolve::last_reason(&state, &version);
    }
    if let Some(alias) = &skill.alias {
        let now = state.resolve_alias(alias);
        row.alias_moved = now.as_ref() != Some(&version);
        row.alias_now = now.map(|v| v.to_string());
    }
    let changed = row.status_at_install.as_deref() != Some(status.as_str());
    row.verdict = match status {
        // A registry that contradicts the tags is not an answer to trust.
        _ if !state.problems.is_empty() => Verdict::Fail,
        Status::Deleted => Verdict::Fail,
        Status::Deprecated if changed => Verdict::Warn,
        _ if row.alias_moved => Verdict::Warn,
        _ => Verdict::Ok,
    };
    row
}
