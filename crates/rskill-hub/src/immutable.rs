//! Releases and governance history are immutable to plain write tokens. A fleet pins
//! `v<version>` tags and trusts the history of `rskill.registry.json` on `main`; a token
//! that may only write must not be able to roll either back. So moving or deleting a
//! release tag, and deleting a repo that holds governance or releases, need the manage
//! right (as committing the governance file does, `commit.rs`). The checks run inside the
//! catalog's writer lock, against the refs they guard.
//!
//! `main` itself cannot be rewritten by anyone: every commit builds on the branch head,
//! `main` cannot be deleted or created over, and the server has no reset, super-squash or
//! move route.

use std::collections::BTreeMap;

use crate::catalog::RepoEntry;
use crate::errors::HubError;
use crate::records::FileEntry;
use crate::tokens::Identity;

/// Who asks for a change to refs or repos, and whether they hold the manage right.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: String,
    pub manage: bool,
}

impl Actor {
    /// An actor with the manage right (the command line, run by whoever owns the data).
    pub fn manager(user: impl Into<String>) -> Self {
        Actor {
            user: user.into(),
            manage: true,
        }
    }

    /// Refuses `what` unless the actor holds the manage right.
    pub fn require_manage(&self, what: impl FnOnce() -> String) -> Result<(), HubError> {
        if self.manage {
            return Ok(());
        }
        Err(HubError::ManageRightRequired {
            user: self.user.clone(),
            what: what(),
        })
    }
}

impl From<&Identity> for Actor {
    fn from(i: &Identity) -> Self {
        Actor {
            user: i.user.clone(),
            manage: i.manage,
        }
    }
}

/// Whether a tag is named like a release (`v<version>`, as the publisher tags).
pub fn is_release_tag(name: &str) -> bool {
    name.starts_with('v')
}

/// Deleting release tag `tag` (if it exists) needs the manage right.
pub fn check_tag_delete(actor: &Actor, entry: &RepoEntry, tag: &str) -> Result<(), HubError> {
    match entry.refs.tags.get(tag) {
        Some(t) if is_release_tag(tag) => actor.require_manage(|| {
            format!(
                "deleting release tag `{tag}` of {} (at {})",
                entry.full_id, t.commit
            )
        }),
        _ => Ok(()),
    }
}

/// Creating a release tag that already exists on another commit (a move) needs the
/// manage right. Whoever may, the tag is still not overwritten: the catalog refuses an
/// existing tag (delete it first, which needs the manage right too).
pub fn check_tag_create(
    actor: &Actor,
    entry: &RepoEntry,
    tag: &str,
    target: &str,
) -> Result<(), HubError> {
    match entry.refs.tags.get(tag) {
        Some(t) if is_release_tag(tag) && t.commit != target => actor.require_manage(|| {
            format!(
                "moving release tag `{tag}` of {} (from {} to {target})",
                entry.full_id, t.commit
            )
        }),
        _ => Ok(()),
    }
}

/// Deleting a repo whose `main` holds the governance file, or that has release tags,
/// needs the manage right: re-creating it would erase its history and let its tags
/// point anywhere. `main_files` is `None` when `main`'s files cannot be read (then the
/// right is needed too).
pub fn check_repo_delete(
    actor: &Actor,
    entry: &RepoEntry,
    main_files: Option<&BTreeMap<String, FileEntry>>,
) -> Result<(), HubError> {
    let governed = main_files.is_none_or(|f| {
        rskill_hub_protocol::GOVERNANCE_FILES
            .iter()
            .any(|g| f.contains_key(*g))
    });
    let releases: Vec<&str> = entry
        .refs
        .tags
        .keys()
        .map(String::as_str)
        .filter(|t| is_release_tag(t))
        .collect();
    if !governed && releases.is_empty() {
        return Ok(());
    }
    actor.require_manage(|| {
        let mut held = Vec::new();
        if governed {
            held.push(format!(
                "{} (version statuses, aliases and their history)",
                rskill_hub_protocol::REGISTRY_FILE
            ));
        }
        if !releases.is_empty() {
            held.push(format!("release tags {}", releases.join(", ")));
        }
        format!(
            "deleting {}, which holds {}",
            entry.full_id,
            held.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tags() {
        assert!(is_release_tag("v1.0.0"));
        assert!(is_release_tag("v2"));
        assert!(!is_release_tag("candidate"));
        assert!(!is_release_tag("main"));
    }
}
