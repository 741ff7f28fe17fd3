//! The Hub protocol's values that end up in file names, validated once at the network
//! (or lockfile, or cache) boundary into types: a [`CommitId`] (40 lowercase hex), a
//! [`Sha256`] (64 lowercase hex), a [`GitBlobId`] (40 lowercase hex), a [`BlobId`]
//! (either, the name of a cached blob) and a [`RepoPath`] (a safe relative path).
//! The cache takes only these types, so a string a server sent cannot reach a path
//! unchecked, whatever it says.

use std::fmt;
use std::path::{Component, Path};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest part of a refused value quoted in an error.
const QUOTE_MAX: usize = 80;

/// A value that is not what the protocol allows, quoted (truncated) with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not {expected}")]
pub struct IdError {
    /// The refused value, quoted and truncated.
    pub value: String,
    pub expected: &'static str,
}

impl IdError {
    fn new(value: &str, expected: &'static str) -> IdError {
        let mut quoted: String = value.chars().take(QUOTE_MAX).collect();
        if quoted.len() < value.len() {
            quoted.push('…');
        }
        IdError {
            value: format!("{quoted:?}"),
            expected,
        }
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

macro_rules! hex_id {
    ($name:ident, $len:expr, $what:expr) => {
        #[doc = concat!("A ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                if is_lower_hex(s, $len) {
                    Ok($name(s.to_string()))
                } else {
                    Err(IdError::new(s, $what))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }
    };
}

hex_id!(CommitId, 40, "a commit id (40 lowercase hex digits)");
hex_id!(Sha256, 64, "a SHA-256 (64 lowercase hex digits)");
hex_id!(GitBlobId, 40, "a git blob id (40 lowercase hex digits)");

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(crate::digest::sha256_hex(bytes))
    }
}

impl GitBlobId {
    /// The git blob id of `bytes` (`sha1("blob <len>\0" + bytes)`).
    pub fn of(bytes: &[u8]) -> GitBlobId {
        GitBlobId(crate::digest::git_blob_sha1(bytes))
    }
}

/// The name of a blob in the cache: the LFS SHA-256 of a file, else its git blob id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BlobId {
    Lfs(Sha256),
    Git(GitBlobId),
}

impl BlobId {
    pub fn as_str(&self) -> &str {
        match self {
            BlobId::Lfs(s) => s.as_str(),
            BlobId::Git(g) => g.as_str(),
        }
    }

    /// Whether `bytes` are what this id names (their SHA-256, or their git blob id).
    pub fn names(&self, bytes: &[u8]) -> bool {
        match self {
            BlobId::Lfs(s) => Sha256::of(bytes) == *s,
            BlobId::Git(g) => GitBlobId::of(bytes) == *g,
        }
    }
}

impl FromStr for BlobId {
    type Err = IdError;
    /// 64 hex digits are a SHA-256, 40 a git blob id.
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s.len() {
            64 => s.parse().map(BlobId::Lfs),
            40 => s.parse().map(BlobId::Git),
            _ => Err(IdError::new(
                s,
                "a blob id (a 64-hex SHA-256 or a 40-hex git blob id)",
            )),
        }
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest repo path accepted (the Hub's own limit is lower).
const MAX_PATH: usize = 1024;

/// A path inside a repo that is safe to place under a cache folder: relative, `/`
/// separated, no `..`, `.` or empty parts, no backslashes, NULs or control characters.
/// Also used for ref names (`main`, `refs/pr/1`), which become paths under `refs/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoPath(String);

impl RepoPath {
    /// `rskill.yaml`, the manifest of a skill repo.
    pub fn manifest() -> RepoPath {
        RepoPath(crate::MANIFEST_FILE.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Number of `/`-separated parts.
    pub fn depth(&self) -> usize {
        self.0.split('/').count()
    }

    /// The last part.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

/// Whether `path` is a safe repo path (see [`RepoPath`]).
pub fn is_safe_repo_path(path: &str) -> bool {
    check_repo_path(path).is_ok()
}

/// The one path-safety check (client cache, server file paths, shard names in an index,
/// `local://` weights): `Err` says what is wrong with `path`, as a phrase that follows
/// it ("`../x` climbs out of its directory with `..`").
pub fn check_repo_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.len() > MAX_PATH {
        return Err("is longer than 1024 bytes");
    }
    if path.contains('\0') {
        return Err("contains a NUL byte");
    }
    if path.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if path.contains('\\') {
        return Err("contains a backslash");
    }
    if path.starts_with('/') {
        return Err("is absolute");
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err("has an empty segment (`//` or a trailing `/`)"),
            "." => return Err("has a `.` segment"),
            ".." => return Err("climbs out of its directory with `..`"),
            _ => {}
        }
    }
    if !Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err("is not a plain relative path");
    }
    Ok(())
}

impl FromStr for RepoPath {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match check_repo_path(s) {
            Ok(()) => Ok(RepoPath(s.to_string())),
            Err(_) => Err(IdError::new(
                s,
                "a safe relative repo path (no leading '/', no '..', '.', empty parts, '\\' or control characters)",
            )),
        }
    }
}

impl TryFrom<String> for RepoPath {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<RepoPath> for String {
    fn from(v: RepoPath) -> String {
        v.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for RepoPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RepoPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for RepoPath {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl AsRef<str> for RepoPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids() {
        let c = "a".repeat(40);
        assert!(c.parse::<CommitId>().is_ok());
        assert!("A".repeat(40).parse::<CommitId>().is_err());
        assert!("a".repeat(39).parse::<CommitId>().is_err());
        assert!("/etc/passwd".parse::<Sha256>().is_err());
        assert!("b".repeat(64).parse::<Sha256>().is_ok());
        assert!(matches!("b".repeat(64).parse(), Ok(BlobId::Lfs(_))));
        assert!(matches!("b".repeat(40).parse(), Ok(BlobId::Git(_))));
        assert!("beef".parse::<BlobId>().is_err());
        let e = format!("/{}", "x".repeat(200))
            .parse::<GitBlobId>()
            .unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
        assert!(serde_json::from_str::<CommitId>("\"../x\"").is_err());
    }

    #[test]
    fn safe_paths() {
        for ok in ["rskill.yaml", "eval/a.json", "a/b/c.onnx", "refs/pr/1"] {
            assert!(ok.parse::<RepoPath>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\b",
            "a//b",
            "./a",
            "a/./b",
            "a\0",
            "a\nb",
            "..",
        ] {
            assert!(bad.parse::<RepoPath>().is_err(), "{bad:?}");
        }
        assert!(is_safe_repo_path(RepoPath::manifest().as_str()));
        let p: RepoPath = "a/b/c.onnx".parse().unwrap();
        assert_eq!((p.depth(), p.file_name()), (3, "c.onnx"));
    }
}
