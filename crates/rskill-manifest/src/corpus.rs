//! Finding skills on disk: a path names a skill directory (holding `rskill.yaml`), an
//! `rskill.yaml` file, or a corpus directory whose subdirectories are skills.

use std::path::{Path, PathBuf};

/// The manifest file name inside a skill directory.
pub use rskill_hub_protocol::MANIFEST_FILE;
/// The model card file name.
pub const CARD_FILE: &str = "README.md";
/// The agent description file name.
pub const SKILL_MD_FILE: &str = "SKILL.md";
/// The default corpus directory.
pub const DEFAULT_CORPUS: &str = "rskills";

/// The paths a command was given, or the default corpus when none was.
pub fn paths_or_default(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(DEFAULT_CORPUS)]
    } else {
        paths
    }
}

/// The directory of the skill whose manifest is `manifest`.
pub fn skill_dir(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A path that names no skill.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: no {MANIFEST_FILE} here, and no skill directories below it")]
    NoSkills { path: PathBuf },
    #[error("{path}: cannot list directory: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DiscoverError {
    pub fn hint(&self) -> &'static str {
        match self {
            DiscoverError::NotFound { .. } => "check the path; with no path, `rskills/` is used",
            DiscoverError::NoSkills { .. } => {
                "a skill directory holds rskill.yaml, README.md and optionally SKILL.md and eval/*.json"
            }
            DiscoverError::Io { .. } => "check the directory's permissions",
        }
    }
}

/// The manifest files of the skills named by `path`, sorted. A skill's directory
/// is its manifest's parent.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let meta = std::fs::metadata(path).map_err(|_| DiscoverError::NotFound {
        path: path.to_path_buf(),
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if path.join(MANIFEST_FILE).is_file() {
        return Ok(vec![path.join(MANIFEST_FILE)]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| DiscoverError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut skills: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join(MANIFEST_FILE))
        .filter(|p| p.is_file())
        .collect();
    if skills.is_empty() {
        return Err(DiscoverError::NoSkills {
            path: path.to_path_buf(),
        });
    }
    skills.sort();
    Ok(skills)
}

/// Manifest files for several paths, in order, without repeats.
pub fn discover_all(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for p in paths {
        for s in discover(p)? {
            // The same file spelt two ways (`x`, `./x`, an absolute path) counts once.
            let canonical = std::fs::canonicalize(&s).unwrap_or_else(|_| s.clone());
            if !seen.contains(&canonical) {
                seen.push(canonical);
                out.push(s);
            }
        }
    }
    Ok(out)
}
