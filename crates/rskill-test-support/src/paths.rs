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

/// A manifest made from the `rskill.yaml` of the corpus skill `template`: every line
/// that starts with one of the keys of `set` (`"name: "`, `"  backend: "`) becomes that
/// key followed by its value. Whether the result is valid is the caller's to check.
pub fn manifest_from_corpus(template: &str, set: &[(&str, &str)]) -> String {
    let path = corpus_dir().join(template).join("rskill.yaml");
    let base = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    for line in base.lines() {
        match set.iter().find(|(key, _)| line.starts_with(key)) {
            Some((key, value)) => {
                out.push_str(key);
                out.push_str(value);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
