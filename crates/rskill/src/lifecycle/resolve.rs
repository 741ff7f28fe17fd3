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
        // A server whose refs or repo info make no sense (or a repo without `main`): no
        // governance to apply, said on stderr; the install's own requests meet (and
        // report) the same server. A registry file that does not validate is still an
        // error.
        Err(LifecycleError::Hub(
            e @ (HubError::Protocol { .. }
            | HubError::RevisionNotFound { .. }
            | HubError::EntryNotFound { .. }
            | HubError::Status { .. }),
        )) => {
            // Not for a skill this machine has seen governed, or whose org it expects
            // signed governance from: a Hub that stops answering refs is no reason to
            // install without the checks.
            if seen.policy().has_governance_keys(repo.org()) || seen.remembered(repo).is_some() {
                return Err(LifecycleError::Hub(e));
            }
            notes.push(format!("governance state not read: {e}"));
            None
        }
        // Offline by choice: the last state seen. (An unreachable Hub is an error: the
        // install could not fetch anything either, and waiting twice helps no one.)
        Err(LifecycleError::Hub(e @ HubError::Offline { .. })) => match seen.remembered(repo) {
            Some(r) => {
                if let Some(refused) = &r.refused {
                    return Err(LifecycleError::Local(format!(
                        "{repo}: the last read of its governance, at {}, was refused: {}",
                        refused.at, refused.reason
                    )));
                }
                if let Some(signed) = r.state.authenticity.verified()
                    && signed
                        .expired_at(std::time::SystemTime::now())
                        .unwrap_or(true)
                {
                    let problem = super::signed::GovernanceProblem::Expired {
                        expires: signed.expires.clone(),
                        version: signed.version,
                    };
                    match &seen.policy().allow_expired {
                        Some(why) => {
                            notes.push(format!("warning: {repo}: {problem}; used anyway: {why}"))
                        }
                        None => {
                            return Err(LifecycleError::Governance {
                                repo: repo.to_string(),
                                problem,
                            });
                        }
                    }
                }
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
        },
        Err(e) => return Err(e),
    };
    if let Some(s) = &state {
        notes.extend(s.notes.iter().cloned());
    }
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
    if let Ok(v) = model::parse_version(name) {
        if state.tags.contains_key(&v) {
            return at(v, None);
        }
        if let Some(signed) = state.authenticity.verified() {
            return Err(LifecycleError::Local(format!(
                "{}: version {v} is not released in the signed governance state (version {}); released: {}",
                state.repo,
                signed.version,
                signed
                    .releases
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
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

/// Which statuses a search shows.
#[derive(Debug, Clone, Default)]
pub struct StatusFilter {
    /// `--status`: exactly these (the row is the resolved version if its status is
    /// among them, else the newest version that is).
    pub only: Option<Vec<Status>>,
    /// `--include-deprecated`: also skills with no active version, by their newest
    /// deprecated one.
    pub include_deprecated: bool,
}

/// What a search row shows of a skill's governance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchView {
    pub version: String,
    pub status: Status,
    /// Every alias of the skill (alias → version).
    pub aliases: std::collections::BTreeMap<String, String>,
}

/// The row of a skill in a search, from its registry file and the version of the
/// manifest at `main` (no tags needed: the file lists the versions published when it
/// was last written, and a version published since is `main`'s). `None`: hidden.
/// By default the row is what `rskill install ID` resolves to (`latest`): shown when
/// active or deprecated (marked); a skill with no active version is hidden.
pub fn search_view(
    registry: Option<&model::Registry>,
    main_version: &str,
    filter: &StatusFilter,
) -> Option<SearchView> {
    let empty = model::Registry::default();
    let reg = registry.unwrap_or(&empty);
    let mut known: std::collections::BTreeSet<Version> = reg.published.clone();
    known.extend(reg.statuses.keys().cloned());
    if let Ok(v) = model::parse_version(main_version) {
        known.insert(v);
    }
    let aliases = reg
        .aliases
        .iter()
        .map(|(a, v)| (a.clone(), v.to_string()))
        .collect();
    let view = |v: &Version| SearchView {
        version: v.to_string(),
        status: reg.status_of(v),
        aliases: std::collections::BTreeMap::clone(&aliases),
    };
    let resolved = reg.resolve_alias(LATEST, &known);
    let newest_in = |set: &[Status]| {
        known
            .iter()
            .rev()
            .find(|v| set.contains(&reg.status_of(v)))
            .map(view)
    };
    match &filter.only {
        Some(set) => match &resolved {
            Some(v) if set.contains(&reg.status_of(v)) => Some(view(v)),
            _ => newest_in(set),
        },
        None => match &resolved {
            Some(v) if reg.status_of(v).aliasable() => Some(view(v)),
            Some(_) => None,
            None if filter.include_deprecated => newest_in(&[Status::Deprecated]),
            None => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::model::{Change, Registry};

    const C: Change<'static> = Change {
        who: "a",
        when: "t",
        why: "w",
    };

    #[test]
    fn search_rows_follow_latest_and_the_status_filters() {
        let tags: std::collections::BTreeSet<Version> = ["1.0.0", "1.1.0"]
            .iter()
            .map(|s| Version::parse(s).unwrap())
            .collect();
        let v = |s: &str| Version::parse(s).unwrap();
        let f = StatusFilter::default();
        // No registry file: main's version, active.
        let row = search_view(None, "1.1.0", &f).unwrap();
        assert_eq!(
            (row.version.as_str(), row.status),
            ("1.1.0", Status::Active)
        );
        let mut r = Registry::default();
        r.set_alias("production", &v("1.0.0"), &tags, &C).unwrap();
        r.published = tags.clone();
        r.set_status(&v("1.1.0"), Status::Deprecated, &tags, &C)
            .unwrap();
        // 1.1.0 deprecated: latest is 1.0.0, and the row says so.
        let row = search_view(Some(&r), "1.1.0", &f).unwrap();
        assert_eq!(
            (row.version.as_str(), row.status),
            ("1.0.0", Status::Active)
        );
        assert_eq!(row.aliases["production"], "1.0.0");
        // --status deprecated shows the deprecated one.
        let dep = StatusFilter {
            only: Some(vec![Status::Deprecated]),
            ..f.clone()
        };
        assert_eq!(
            search_view(Some(&r), "1.1.0", &dep).unwrap().version,
            "1.1.0"
        );
        // No active version left: hidden, unless --include-deprecated (marked).
        r.set_status(&v("1.0.0"), Status::Deprecated, &tags, &C)
            .unwrap();
        assert_eq!(search_view(Some(&r), "1.1.0", &f), None);
        let inc = StatusFilter {
            include_deprecated: true,
            ..f.clone()
        };
        let row = search_view(Some(&r), "1.1.0", &inc).unwrap();
        assert_eq!(
            (row.version.as_str(), row.status),
            ("1.1.0", Status::Deprecated)
        );
        // `latest` pinned to a deprecated version: shown (install ID installs it), marked.
        r.set_alias(LATEST, &v("1.0.0"), &tags, &C).unwrap();
        let row = search_view(Some(&r), "1.1.0", &f).unwrap();
        assert_eq!(
            (row.version.as_str(), row.status),
            ("1.0.0", Status::Deprecated)
        );
        // Drafts and deleted versions are never shown by default.
        let mut d = Registry::default();
        d.add_draft(&v("2.0.0"), &C).unwrap();
        assert_eq!(search_view(Some(&d), "2.0.0", &f), None);
        let drafts = StatusFilter {
            only: Some(vec![Status::Draft]),
            ..f
        };
        assert_eq!(
            search_view(Some(&d), "2.0.0", &drafts).unwrap().status,
            Status::Draft
        );
    }
}
