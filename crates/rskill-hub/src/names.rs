//! Names the server accepts from the outside world, checked before they touch the disk:
//! repo kinds and ids, account names, file paths inside a repo (no traversal, no `.git/`,
//! no backslashes or control characters) and branch / tag names.

use super::errors::HubError;

/// The kinds of repository the server hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    pub const ALL: [RepoKind; 2] = [RepoKind::Model, RepoKind::Dataset];

    /// `model` / `dataset`, as in create-repo bodies.
    pub fn singular(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
        }
    }

    /// `models` / `datasets`, as in `/api/{plural}/…` and the on-disk layout.
    pub fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }

    /// The prefix of web and resolve URLs: none for models, `datasets/` for datasets.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
        }
    }

    pub fn from_plural(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.plural() == s)
    }

    pub fn from_singular(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.singular() == s)
    }
}

pub use rskill_hub_protocol::repo_id::RepoId;

/// Checks a user or organization name (same rule as a repo owner).
pub fn check_account_name(s: &str) -> Result<(), HubError> {
    crate::hub_names::check_owner(s).map_err(|reason| HubError::InvalidAccountName {
        value: s.to_owned(),
        reason,
    })
}

/// Longest file path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// Checks a file path inside a repo: relative, `/`-separated, no empty, `.` or `..`
/// segment, no `.git` segment, no backslash, no NUL or other control character.
pub fn check_file_path(path: &str) -> Result<(), HubError> {
    let invalid = |reason: &str| HubError::InvalidPath {
        value: path.escape_debug().to_string(),
        reason: reason.to_owned(),
    };
    rskill_hub_protocol::ids::check_repo_path(path).map_err(invalid)?;
    if path
        .split('/')
        .any(|segment| segment.eq_ignore_ascii_case(".git"))
    {
        return Err(invalid("goes into `.git`"));
    }
    Ok(())
}

/// Whether `s` is a full commit id (40 lowercase hex digits).
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks a new branch or tag name (a simplified git ref-name rule).
pub fn check_ref_name(name: &str) -> Result<(), HubError> {
    let invalid = |reason: &str| HubError::InvalidRefName {
        value: name.escape_debug().to_string(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("is empty"));
    }
    if name.len() > 255 {
        return Err(invalid("is longer than 255 bytes"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Err(invalid(&format!(
            "contains {c:?} (allowed: letters, digits, `-`, `_`, `.`, `/`)"
        )));
    }
    if name.starts_with("refs/") {
        return Err(invalid("cannot start with `refs/`"));
    }
    for segment in name.split('/') {
        if segment.is_empty() {
            return Err(invalid("has an empty segment"));
        }
        if segment.starts_with(['.', '-']) {
            return Err(invalid("has a segment starting with `.` or `-`"));
        }
        if segment.ends_with(".lock") {
            return Err(invalid("has a segment ending with `.lock`"));
        }
    }
    if name.contains("..") {
        return Err(invalid("contains `..`"));
    }
    if name.ends_with('.') {
        return Err(invalid("ends with `.`"));
    }
    if is_commit_id(name) {
        return Err(invalid("looks like a commit id"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        assert!(RepoId::parse("org/rskill-x").is_ok());
        assert!(RepoId::parse("Org_1/model.v2").is_ok());
        for bad in [
            "noslash",
            "a/b/c",
            "/b",
            "a/",
            "a/..",
            "a/.hidden",
            "a/b--c",
            "a/b c",
            "api/x",
            "a/x.git",
            "a/-x",
            "a\\b/c",
        ] {
            assert!(RepoId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn file_paths() {
        for ok in [
            "README.md",
            "eval/a.json",
            "a/b/c.d",
            ".gitattributes",
            "x..y",
        ] {
            assert!(check_file_path(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            ".git/config",
            "a/.GIT/x",
            "a\\b",
            "a\0b",
            "a//b",
            "a/",
            "a\nb",
        ] {
            assert!(check_file_path(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ref_names() {
        for ok in ["v1", "v1.0.2", "feature/x", "release-2024_01"] {
            assert!(check_ref_name(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "",
            "a..b",
            "/a",
            "a/",
            ".a",
            "a.lock",
            "a b",
            "refs/heads/x",
            "0123456789012345678901234567890123456789",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
