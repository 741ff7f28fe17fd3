//! `rskill uninstall [--purge]`: drop a skill from the registry and, with `--purge`,
//! sweep the cached blobs no other installed skill uses (and the snapshot links left
//! dangling by that). Lives in the library so the binary stays a front. Uninstalling a
//! group removes its members that no other install needs (installed by name, or
//! listed by another installed group); a skill a group still needs stays installed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::registry::{self, InstalledSkill, RegistryError};

/// What an uninstall did.
#[derive(Debug)]
pub struct Uninstalled {
    pub entry: InstalledSkill,
    /// Bytes of cached blobs removed (0 without `purge`).
    pub freed: u64,
    /// The installed groups that still need it: it stays installed for them.
    pub kept_for: Vec<String>,
}

/// What uninstalling a group did.
#[derive(Debug)]
pub struct GroupUninstalled {
    pub group: crate::registry::InstalledGroup,
    /// Members removed (no other install needed them).
    pub removed: Vec<InstalledSkill>,
    /// Members kept, each with why (installed by name, or needed by another group).
    pub kept: Vec<(String, String)>,
    pub freed: u64,
}

/// Removes the group `id` and the members nothing else needs, in one registry update;
/// `None` when the group was not installed.
pub fn uninstall_group(
    id: &str,
    purge: bool,
    registry_path: Option<&Path>,
) -> Result<Option<GroupUninstalled>, RegistryError> {
    let remove = |r: &mut registry::Registry| {
        let group = r.groups.remove(id)?;
        let removed = r.drop_orphans();
        let kept = group
            .members
            .iter()
            .filter_map(|m| {
                let s = r.skills.get(&m.repo)?;
                let others = r.groups_needing(&m.repo);
                Some((
                    m.repo.clone(),
                    if s.explicit {
                        "installed by name".to_string()
                    } else {
                        format!("needed by {}", others.join(", "))
                    },
                ))
            })
            .collect();
        Some((group, removed, kept))
    };
    let done = match registry_path {
        Some(p) => registry::update_at(p, remove)?,
        None => registry::update(remove)?,
    };
    let Some((group, removed, kept)) = done else {
        return Ok(None);
    };
    let mut freed = 0;
    if purge && !removed.is_empty() {
        let still_used = blobs_in_use(registry_path)?;
        for e in &removed {
            freed += purge_blobs(e, &still_used);
        }
    }
    Ok(Some(GroupUninstalled {
        group,
        removed,
        kept,
        freed,
    }))
}

fn blobs_in_use(registry_path: Option<&Path>) -> Result<HashSet<PathBuf>, RegistryError> {
    let reg = match registry_path {
        Some(p) => registry::load_at(p)?,
        None => registry::load()?,
    };
    Ok(reg
        .skills
        .values()
        .flat_map(|s| s.files.iter().map(|f| f.blob_path.clone()))
        .collect())
}

/// Removes `id` from the registry at `registry_path` (the default registry when
/// `None`); `None` when it was not installed.
pub fn uninstall(
    id: &str,
    purge: bool,
    registry_path: Option<&Path>,
) -> Result<Option<Uninstalled>, RegistryError> {
    // A skill an installed group needs stays, no longer counted as installed by name.
    let remove = |r: &mut registry::Registry| {
        let needing = r.groups_needing(id);
        if needing.is_empty() {
            return r.skills.remove(id).map(|e| (e, needing));
        }
        let s = r.skills.get_mut(id)?;
        s.explicit = false;
        Some((s.clone(), needing))
    };
    let removed = match registry_path {
        Some(p) => registry::update_at(p, remove)?,
        None => registry::update(remove)?,
    };
    let Some((entry, kept_for)) = removed else {
        return Ok(None);
    };
    let freed = if purge && kept_for.is_empty() {
        purge_blobs(&entry, &blobs_in_use(registry_path)?)
    } else {
        0
    };
    Ok(Some(Uninstalled {
        entry,
        freed,
        kept_for,
    }))
}

/// Removes the blobs of `entry` that are not in `still_used`; returns the bytes freed.
fn purge_blobs(entry: &InstalledSkill, still_used: &HashSet<PathBuf>) -> u64 {
    let mut freed = 0u64;
    let mut repos: HashSet<PathBuf> = HashSet::new();
    for f in &entry.files {
        if still_used.contains(&f.blob_path) || !f.blob_path.exists() {
            continue;
        }
        if std::fs::remove_file(&f.blob_path).is_ok() {
            freed += f.size;
        }
        // blobs/<etag> -> the repo folder.
        if let Some(repo_dir) = f.blob_path.parent().and_then(Path::parent) {
            repos.insert(repo_dir.to_path_buf());
        }
    }
    for dir in repos {
        prune_dangling(&dir.join("snapshots"));
    }
    freed
}

/// Removes snapshot links whose blob is gone, and the folders left empty.
fn prune_dangling(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        if is_link && !p.exists() {
            let _ = std::fs::remove_file(&p);
        } else if p.is_dir() && !is_link {
            prune_dangling(&p);
            let _ = std::fs::remove_dir(&p);
        }
    }
}
