//! `rskill uninstall [--purge]`: drop a skill from the registry and, with `--purge`,
//! sweep the cached blobs no other installed skill uses (and the snapshot links left
//! dangling by that). Lives in the library so the binary stays a front.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::registry::{self, InstalledSkill, RegistryError};

/// What an uninstall did.
#[derive(Debug)]
pub struct Uninstalled {
    pub entry: InstalledSkill,
    /// Bytes of cached blobs removed (0 without `purge`).
    pub freed: u64,
}

/// Removes `id` from the registry at `registry_path` (the default registry when
/// `None`); `None` when it was not installed.
pub fn uninstall(
    id: &str,
    purge: bool,
    registry_path: Option<&Path>,
) -> Result<Option<Uninstalled>, RegistryError> {
    let remove = |r: &mut registry::Registry| r.skills.remove(id);
    let removed = match registry_path {
        Some(p) => registry::update_at(p, remove)?,
        None => registry::update(remove)?,
    };
    let Some(entry) = removed else {
        return Ok(None);
    };
    let freed = if purge {
        let reg = match registry_path {
            Some(p) => registry::load_at(p)?,
            None => registry::load()?,
        };
        let still_used: HashSet<PathBuf> = reg
            .skills
            .values()
            .flat_map(|s| s.files.iter().map(|f| f.blob_path.clone()))
            .collect();
        purge_blobs(&entry, &still_used)
    } else {
        0
    };
    Ok(Some(Uninstalled { entry, freed }))
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
