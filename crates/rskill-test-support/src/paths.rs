//! The repository's files as tests see them: its root, the in-repo corpus, and
//! temporary copies of corpus skills to edit.

use std::path::{Path, PathBuf};

/// The repository root (where `rskills/`, `schemas/` and `docs/` are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The in-repo corpus.
pub fn corpus_dir() -> PathBuf {
    repo_root().join("rskills")
}

/// Copies a directory tree (files and subdirectories).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temp directory holding a copy of the corpus skill `name` (at `<tmp>/<name>`).
pub fn skill_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&corpus_dir().join(name), &dir);
    (tmp, dir)
}
