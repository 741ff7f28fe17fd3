//! Installing skills' agent descriptions (`SKILL.md`) into coding-agent harnesses, so
//! an agent planning robot work can discover the skills installed on this machine.
//!
//! Each harness reads `<root>/<name>/SKILL.md` (folders from the manifest spec): Claude
//! Code `.claude/skills` (user: `~/.claude/skills`), Codex and the cross-harness
//! convention `.agents/skills` (user: `~/.agents/skills`), Cursor `.cursor/skills`,
//! Antigravity `.agent/skills`. `<name>` is [`harness_name`] of the skill id and
//! equals the `name` in the front matter (the Agent Skills rules).
//!
//! rskill keeps a record of every folder it wrote (`harness.json` beside the
//! registry) with the SHA-256 of the `SKILL.md` it wrote. It only ever changes or
//! removes a folder that is in the record and still holds exactly what it wrote; a
//! folder it did not write, or one edited by hand, is reported and left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rskill_manifest::group::harness_name;
use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::registry::{InstalledSkill, Registry};

/// The record's file name, beside `registry.json`.
pub const RECORD_FILE: &str = "harness.json";

/// A coding-agent harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Harness {
    ClaudeCode,
    Codex,
    Cursor,
    Antigravity,
    Agents,
}

impl Harness {
    pub const ALL: [Harness; 5] = [
        Harness::ClaudeCode,
        Harness::Codex,
        Harness::Cursor,
        Harness::Antigravity,
        Harness::Agents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Harness::ClaudeCode => "claude-code",
            Harness::Codex => "codex",
            Harness::Cursor => "cursor",
            Harness::Antigravity => "antigravity",
            Harness::Agents => "agents",
        }
    }

    /// The skills folder relative to a project root (or to the home folder, `--global`).
    fn folder(self, global: bool) -> Option<&'static str> {
        match (self, global) {
            (Harness::ClaudeCode, _) => Some(".claude/skills"),
            (Harness::Codex | Harness::Agents, _) => Some(".agents/skills"),
            (Harness::Cursor, false) => Some(".cursor/skills"),
            (Harness::Antigravity, false) => Some(".agent/skills"),
            // No user-level folder is documented for these.
            (Harness::Cursor | Harness::Antigravity, true) => None,
        }
    }
}

impl std::fmt::Display for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Harness {
    type Err = String;
    fn from_str(s: &str) -> Result<Harness, String> {
        Harness::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown harness `{s}`; one of {}",
                    Harness::ALL.map(|h| h.as_str()).join(", ")
                )
            })
    }
}

/// Why a harness operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "{harness} has no documented user-level skills folder; install it per project (without --global)"
    )]
    NoUserFolder { harness: Harness },
    #[error("cannot tell the home folder: HOME is not set")]
    NoHome,
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the harness record {} is corrupt: {problem}\nhint: it was left untouched; move it aside to start a new record (rskill then treats every folder as not its own)", path.display())]
    Corrupt { path: PathBuf, problem: String },
    #[error("{skill}: {problem}")]
    Skill { skill: String, problem: String },
}

/// One folder rskill wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub harness: Harness,
    /// The skills folder (absolute).
    pub root: PathBuf,
    pub name: String,
    pub skill: String,
    pub version: String,
    pub commit: String,
    /// SHA-256 of the `SKILL.md` written.
    pub sha256: String,
}

impl Written {
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.name)
    }
}

/// Every folder rskill wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub written: Vec<Written>,
}

impl Record {
    /// The record beside the registry at `registry_path` (missing: empty).
    pub fn load(path: &Path) -> Result<Record, HarnessError> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| HarnessError::Corrupt {
                path: path.to_path_buf(),
                problem: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record {
                version: 1,
                written: Vec::new(),
            }),
            Err(source) => Err(HarnessError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), HarnessError> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the record serializes");
        bytes.push(b'\n');
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| HarnessError::Io {
                action: "create",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        crate::fsutil::write_atomic(path, &bytes).map_err(|source| HarnessError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })
    }

    fn find(&self, root: &Path, name: &str) -> Option<usize> {
        self.written
            .iter()
            .position(|w| w.root == root && w.name == name)
    }
}

/// The record file for the registry at `registry_path`.
pub fn record_path(registry_path: &Path) -> PathBuf {
    registry_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(RECORD_FILE)
}

/// The skills folder of `harness`: under `base` (a project root, or the home folder
/// with `global`).
pub fn skills_root(harness: Harness, base: &Path, global: bool) -> Result<PathBuf, HarnessError> {
    let folder = harness
        .folder(global)
        .ok_or(HarnessError::NoUserFolder { harness })?;
    let base = if base.is_absolute() {
        base.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|source| HarnessError::Io {
                action: "read the current folder",
                path: base.to_path_buf(),
                source,
            })?
            .join(base)
    };
    Ok(base.join(folder))
}

/// The base folder: the home folder with `global`, else the current folder.
pub fn base(global: bool) -> Result<PathBuf, HarnessError> {
    if global {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or(HarnessError::NoHome)
    } else {
        std::env::current_dir().map_err(|source| HarnessError::Io {
            action: "read the current folder",
            path: PathBuf::from("."),
            source,
        })
    }
}

/// What is in a target folder now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderState {
    Missing,
    /// In the record and exactly as written.
    Ours,
    /// In the record but changed since (edited by hand, files added or removed).
    Edited,
    /// Not in the record: rskill did not write it.
    Foreign,
}

/// The state of `root/name` against the record.
pub fn folder_state(record: &Record, root: &Path, name: &str) -> FolderState {
    let dir = root.join(name);
    if std::fs::symlink_metadata(&dir).is_err() {
        return FolderState::Missing;
    }
    let Some(i) = record.find(root, name) else {
        return FolderState::Foreign;
    };
    let only_skill_md = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .all(|e| e.file_name() == crate::corpus::SKILL_MD_FILE)
        })
        .unwrap_or(false);
    let is_dir = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir());
    match std::fs::read(dir.join(crate::corpus::SKILL_MD_FILE)) {
        Ok(b) if is_dir && only_skill_md && sha256_hex(&b) == record.written[i].sha256 => {
            FolderState::Ours
        }
        _ => FolderState::Edited,
    }
}

/// The `SKILL.md` for an installed skill: generated from its manifest (read from the
/// cache blob the registry names) with a pointer back to that manifest.
pub fn skill_md(entry: &InstalledSkill, name: &str) -> Result<String, HarnessError> {
    let err = |problem: String| HarnessError::Skill {
        skill: entry.repo.clone(),
        problem,
    };
    let file = entry
        .files
        .iter()
        .find(|f| f.repo == entry.repo && f.path == crate::corpus::MANIFEST_FILE)
        .ok_or_else(|| err("the registry lists no rskill.yaml for it; reinstall it".into()))?;
    let text = std::fs::read_to_string(&file.blob_path).map_err(|e| {
        err(format!(
            "cannot read its manifest {}: {e}; reinstall it",
            file.blob_path.display()
        ))
    })?;
    let manifest = crate::validate::parse_valid(&text)
        .map_err(|_| err("its cached manifest no longer validates; reinstall it".into()))?;
    let mut out = rskill_manifest::agent_skill::generate(&manifest, name);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n## Installed on this machine\n\n- Manifest: `{}`\n- Skill `{}` {} at commit `{}`; `rskill info {}` shows the rest.\n- Written by rskill (`rskill harness sync` keeps it current); edit it and rskill leaves it alone.\n",
        file.blob_path.display(),
        entry.repo,
        entry.version,
        entry.commit,
        entry.repo
    ));
    Ok(out)
}

/// One change a sync makes, or a folder it leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub harness: Harness,
    pub path: PathBuf,
    pub skill: String,
    /// `added`, `updated`, `removed`, `unchanged`, or a conflict: `not-written-by-rskill`,
    /// `edited-by-hand`, `name-taken`.
    pub action: &'static str,
}

impl Change {
    pub fn is_conflict(&self) -> bool {
        matches!(
            self.action,
            "not-written-by-rskill" | "edited-by-hand" | "name-taken"
        )
    }
}

/// What to sync: the harnesses, where, and which skills (`None`: all installed; with
/// `remove_others`, folders of skills no longer installed go too).
pub struct SyncRequest<'a> {
    pub harnesses: &'a [Harness],
    pub base: &'a Path,
    pub global: bool,
    pub only: Option<&'a [String]>,
    pub remove_others: bool,
    /// Only report, change nothing.
    pub dry_run: bool,
}

/// Makes the harness folders match `registry` (see [`SyncRequest`]); returns every
/// change and conflict. The record is saved after the changes.
pub fn sync(
    registry: &Registry,
    record_file: &Path,
    req: &SyncRequest<'_>,
) -> Result<Vec<Change>, HarnessError> {
    let mut record = Record::load(record_file)?;
    record.version = 1;
    let mut changes = Vec::new();
    for &h in req.harnesses {
        let root = skills_root(h, req.base, req.global)?;
        // Which skill each name belongs to: two installed skills with one name clash.
        let mut names: BTreeMap<String, &InstalledSkill> = BTreeMap::new();
        for s in registry.skills.values() {
            if req.only.is_some_and(|o| !o.contains(&s.repo)) {
                continue;
            }
            let Some(name) = harness_name(&s.repo) else {
                continue;
            };
            let path = root.join(&name);
            if names.contains_key(&name) {
                changes.push(Change {
                    harness: h,
                    path,
                    skill: s.repo.clone(),
                    action: "name-taken",
                });
                continue;
            }
            // A name another skill's folder holds in the record.
            if let Some(i) = record.find(&root, &name)
                && record.written[i].skill != s.repo
                && registry.skills.contains_key(&record.written[i].skill)
            {
                changes.push(Change {
                    harness: h,
                    path,
                    skill: s.repo.clone(),
                    action: "name-taken",
                });
                continue;
            }
            names.insert(name.clone(), s);
            let state = folder_state(&record, &root, &name);
            let action = match state {
                FolderState::Foreign => "not-written-by-rskill",
                FolderState::Edited => "edited-by-hand",
                FolderState::Missing => "added",
                FolderState::Ours => {
                    let w = &record.written[record.find(&root, &name).expect("ours")];
                    if w.commit == s.commit && w.skill == s.repo {
                        "unchanged"
                    } else {
                        "updated"
                    }
                }
            };
            if matches!(action, "added" | "updated") && !req.dry_run {
                let text = skill_md(s, &name)?;
                write_folder(&path, &text)?;
                let w = Written {
                    harness: h,
                    root: root.clone(),
                    name: name.clone(),
                    skill: s.repo.clone(),
                    version: s.version.clone(),
                    commit: s.commit.clone(),
                    sha256: sha256_hex(text.as_bytes()),
                };
                match record.find(&root, &name) {
                    Some(i) => record.written[i] = w,
                    None => record.written.push(w),
                }
            }
            changes.push(Change {
                harness: h,
                path,
                skill: s.repo.clone(),
                action,
            });
        }
        if req.remove_others {
            let stale: Vec<Written> = record
                .written
                .iter()
                .filter(|w| w.root == root && !registry.skills.contains_key(&w.skill))
                .cloned()
                .collect();
            for w in stale {
                changes.push(remove_one(&mut record, &w, req.dry_run)?);
            }
        }
    }
    if !req.dry_run {
        record.save(record_file)?;
    }
    Ok(changes)
}

/// The conflicts installing `skills` into the harnesses would meet (before anything is
/// downloaded or written).
pub fn preflight(
    record_file: &Path,
    harnesses: &[Harness],
    base: &Path,
    global: bool,
    skills: &[String],
) -> Result<Vec<Change>, HarnessError> {
    let record = Record::load(record_file)?;
    let mut out = Vec::new();
    for &h in harnesses {
        let root = skills_root(h, base, global)?;
        let mut seen: BTreeMap<String, &String> = BTreeMap::new();
        for s in skills {
            let Some(name) = harness_name(s) else {
                continue;
            };
            let path = root.join(&name);
            let taken = seen.insert(name.clone(), s).is_some()
                || record
                    .find(&root, &name)
                    .is_some_and(|i| record.written[i].skill != *s);
            let action = if taken {
                "name-taken"
            } else {
                match folder_state(&record, &root, &name) {
                    FolderState::Foreign => "not-written-by-rskill",
                    FolderState::Edited => "edited-by-hand",
                    _ => continue,
                }
            };
            out.push(Change {
                harness: h,
                path,
                skill: s.clone(),
                action,
            });
        }
    }
    Ok(out)
}

/// Removes the folders rskill wrote for `skills` (all when `None`) in the harnesses;
/// edited folders are reported and kept.
pub fn remove(
    record_file: &Path,
    harnesses: &[Harness],
    base: &Path,
    global: bool,
    skills: Option<&[String]>,
) -> Result<Vec<Change>, HarnessError> {
    let mut record = Record::load(record_file)?;
    let mut out = Vec::new();
    for &h in harnesses {
        let root = skills_root(h, base, global)?;
        let mine: Vec<Written> = record
            .written
            .iter()
            .filter(|w| w.root == root && skills.is_none_or(|s| s.contains(&w.skill)))
            .cloned()
            .collect();
        for w in mine {
            out.push(remove_one(&mut record, &w, false)?);
        }
    }
    record.save(record_file)?;
    Ok(out)
}

fn remove_one(record: &mut Record, w: &Written, dry_run: bool) -> Result<Change, HarnessError> {
    let action = match folder_state(record, &w.root, &w.name) {
        FolderState::Edited => "edited-by-hand",
        FolderState::Foreign => "not-written-by-rskill",
        FolderState::Missing => "removed",
        FolderState::Ours => {
            if !dry_run {
                let dir = w.dir();
                let md = dir.join(crate::corpus::SKILL_MD_FILE);
                std::fs::remove_file(&md).map_err(|source| HarnessError::Io {
                    action: "remove",
                    path: md,
                    source,
                })?;
                std::fs::remove_dir(&dir).map_err(|source| HarnessError::Io {
                    action: "remove",
                    path: dir,
                    source,
                })?;
            }
            "removed"
        }
    };
    if action == "removed"
        && !dry_run
        && let Some(i) = record.find(&w.root, &w.name)
    {
        record.written.remove(i);
    }
    Ok(Change {
        harness: w.harness,
        path: w.dir(),
        skill: w.skill.clone(),
        action,
    })
}

fn write_folder(dir: &Path, text: &str) -> Result<(), HarnessError> {
    std::fs::create_dir_all(dir).map_err(|source| HarnessError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })?;
    let md = dir.join(crate::corpus::SKILL_MD_FILE);
    crate::fsutil::write_atomic(&md, text.as_bytes()).map_err(|source| HarnessError::Io {
        action: "write",
        path: md,
        source,
    })
}

/// Every recorded folder with its state now (for `rskill harness list`).
pub fn list(record_file: &Path) -> Result<Vec<(Written, FolderState)>, HarnessError> {
    let record = Record::load(record_file)?;
    Ok(record
        .written
        .iter()
        .map(|w| (w.clone(), folder_state(&record, &w.root, &w.name)))
        .collect())
}
