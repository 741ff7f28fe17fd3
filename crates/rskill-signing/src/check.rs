//! Comparing what was signed with what is there: every signed file must be present
//! with its digest, and no other file may be (OMS verification has no "extra files
//! are fine" mode by default).

use std::collections::BTreeMap;

use crate::folder::Resource;

/// One difference between the signed files and the actual ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Signed, but not there.
    Missing { name: String },
    /// There, but not signed (added after signing).
    Extra { name: String },
    /// Content differs from the signed digest.
    Changed {
        name: String,
        signed: String,
        actual: String,
    },
}

impl FileProblem {
    pub fn name(&self) -> &str {
        match self {
            FileProblem::Missing { name }
            | FileProblem::Extra { name }
            | FileProblem::Changed { name, .. } => name,
        }
    }
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileProblem::Missing { name } => {
                write!(f, "{name}: signed but missing (removed after signing)")
            }
            FileProblem::Extra { name } => {
                write!(f, "{name}: present but not signed (added after signing)")
            }
            FileProblem::Changed {
                name,
                signed,
                actual,
            } => write!(
                f,
                "{name}: content changed after signing (signed sha256 {signed}, actual {actual})"
            ),
        }
    }
}

/// The differences between `signed` and `actual`, by file name.
pub fn compare(signed: &[Resource], actual: &[Resource]) -> Vec<FileProblem> {
    let want: BTreeMap<&str, &str> = signed
        .iter()
        .map(|r| (r.name.as_str(), r.sha256.as_str()))
        .collect();
    let have: BTreeMap<&str, &str> = actual
        .iter()
        .map(|r| (r.name.as_str(), r.sha256.as_str()))
        .collect();
    let mut problems = Vec::new();
    for (name, digest) in &want {
        match have.get(name) {
            None => problems.push(FileProblem::Missing {
                name: name.to_string(),
            }),
            Some(got) if !got.eq_ignore_ascii_case(digest) => problems.push(FileProblem::Changed {
                name: name.to_string(),
                signed: digest.to_string(),
                actual: got.to_string(),
            }),
            Some(_) => {}
        }
    }
    for name in have.keys().filter(|n| !want.contains_key(*n)) {
        problems.push(FileProblem::Extra {
            name: name.to_string(),
        });
    }
    problems
}
