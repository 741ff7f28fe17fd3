//! What `ID@X` means once governance exists: `latest` (also a bare `ID`), an alias,
//! `1.2.0` or `v1.2.0`, else a branch or a commit as before. A skill without a
//! registry file and without version tags resolves exactly as before (`main`).

use semver::Version;

use crate::hub::{HubClient, HubError, RepoId};

use super::model::{self, LATEST, Status};
use super::remote::{self, LifecycleError, SkillState};
use super::seen::Seen;

/// Where a request led.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// What to fetch: a tag's commit, or the branch / commit asked for.
    pub revision: String,
    /// The version, when the revision is a published one.
    pub version: Option<Version>,
    pub status: Option<Status>,
    /// The alias it was reached through (`latest` included).
    pub alias: Option<String>,
    /// The state it was resolved against (`None` when it could not be read offline).
    pub state: Option<SkillState>,
    /// Said to the user (where the answer came from, when not from the Hub now).
    pub notes: Vec<String>,
}

/// Reads the state (or, offline, the last one seen) and resolves `requested`.
pub async fn resolve(
    client: &HubClient,
    seen: &Seen,
    repo: &RepoId,
    requested: Option<&str>,
) -> Result<Resolved, LifecycleError> {
    let mut notes = Vec::new();
    let state = match remote::read(client, seen, repo).await {
        Ok(s) => Some(s),
        // Not found (or a server without refs): the install's own lookup says so.
        Err(LifecycleError::Hub(HubError::RepoNotFound { .. })) => None,
        Err(LifecycleError::Hub(e @ (HubError::Offline { .. } | HubError::Unreachable { .. }))) => {
            match seen.remembered(repo) {
                Some(r) => {
                    notes.push(format!(
                        "governance state from this machine's copy of {} ({})",
                        r.fetched_at, e
                    ));
                    Some(r.state)
                }
                None => {
                    notes.push(format!("governance state not checked: {e}"));
                    None
                }
            }
        }
        Err(e) => return Err(e),
    };
    let mut out = resolve_in(state.as_ref(), requested)?;
    out.state = state;
    out.notes = notes;
    Ok(out)
}

/// Resolution against a known state (pure).
pub fn resolve_in(
    state: Option<&SkillState>,
    requested: Option<&str>,
) -> Result<Resolved, LifecycleError> {
    let name = requested.unwrap_or(LATEST);
    let plain = |rev: &str| Resolved {
        revision: rev.to_owned(),
        version: None,
        status: None,
        alias: None,
        state: None,
        notes: Vec::new(),
    };
    let Some(state) = state else {
        return Ok(plain(if name == LATEST { "main" } else { name }));
    };
    let at = |v: Version, alias: Option<String>| -> Result<Resolved, LifecycleError> {
        let commit = state
            .tags
            .get(&v)
            .ok_or_else(|| model::GovError::UnknownVersion(v.to_string()))?;
        Ok(Resolved {
            revision: commit.to_string(),
            status: Some(state.registry.status_of(&v)),
            version: Some(v),
            alias,
            state: None,
            notes: Vec::new(),
        })
    };
    if name == LATEST || state.registry.aliases.contains_key(name) {
        return match state.resolve_alias(name) {
            Some(v) => at(v, Some(name.to_owned())),
            // No version tags at all: the skill predates versions; as before.
            None if state.tags.is_empty() => Ok(plain("main")),
            None => Err(LifecycleError::Local(format!(
                "{}: no active version for `latest` (every published version is draft, deprecated or deleted); name a version explicitly",
                state.repo
            ))),
        };
    }
    if let Ok(v) = model::parse_version(name)
        && state.tags.contains_key(&v)
    {
        return at(v, None);
    }
    // A branch or a commit: the version is known when a tag points at it.
    let commit = if name == "main" {
        Some(state.main.to_string())
    } else if name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(name.to_ascii_lowercase())
    } else {
        None
    };
    let mut out = plain(name);
    if let Some(v) = commit.and_then(|c| state.version_at(&c)) {
        out.status = Some(state.registry.status_of(&v));
        out.version = Some(v);
    }
    Ok(out)
}

/// The reason recorded with the last status change of `v`, if any.
pub fn last_reason(state: &SkillState, v: &Version) -> Option<String> {
    let subject = v.to_string();
    state
        .registry
        .history
        .iter()
        .rev()
        .find(|e| e.what == model::What::Status && e.subject == subject)
        .map(|e| {
            format!(
                "{} by {} at {}: {}",
                e.new.as_deref().unwrap_or("-"),
                e.who,
                e.when,
                e.why
            )
        })
}
