//! The one repo-id type: `owner/name`, checked against the Hub's naming rules
//! ([`crate::hub_names`]) by both the client (ids it sends or reads back) and the
//! server (ids in request paths and bodies).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A validated `owner/name` repo id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoId {
    id: String,
    slash: usize,
}

/// An `owner/name` the Hub would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid repo id `{value}`: {reason}")]
pub struct RepoIdError {
    pub value: String,
    pub reason: String,
}

impl RepoId {
    /// The id of `owner`'s repo `name`.
    pub fn new(owner: &str, name: &str) -> Result<Self, RepoIdError> {
        crate::hub_names::check_repo_id(owner, name).map_err(|reason| RepoIdError {
            value: format!("{owner}/{name}"),
            reason,
        })?;
        Ok(RepoId {
            id: format!("{owner}/{name}"),
            slash: owner.len(),
        })
    }

    /// Parses `owner/name`.
    pub fn parse(id: &str) -> Result<Self, RepoIdError> {
        match id.split_once('/') {
            Some((owner, name)) => Self::new(owner, name),
            None => Err(RepoIdError {
                value: id.to_owned(),
                reason: "expected `owner/name`".into(),
            }),
        }
    }

    /// The user or organization that owns the repo.
    pub fn owner(&self) -> &str {
        &self.id[..self.slash]
    }

    /// Same as [`RepoId::owner`] (the client speaks of organizations).
    pub fn org(&self) -> &str {
        self.owner()
    }

    pub fn name(&self) -> &str {
        &self.id[self.slash + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }
}

/// Equality, hashing and order go by (owner, name), so `a/b` sorts before `a-b/c`
/// as owners do.
impl PartialEq for RepoId {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RepoId {}

impl Hash for RepoId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for RepoId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RepoId {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.owner(), self.name()).cmp(&(other.owner(), other.name()))
    }
}

/// The client's wording: the value and, for a malformed id, the expected form.
impl FromStr for RepoId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((org, name)) = s.split_once('/') else {
            return Err(format!("\"{s}\" is not a repo id of the form org/name"));
        };
        RepoId::new(org, name).map_err(|e| format!("\"{s}\" is not a valid repo id: {}", e.reason))
    }
}

impl TryFrom<String> for RepoId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<RepoId> for String {
    fn from(r: RepoId) -> String {
        r.id
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_by_owner_then_name() {
        let mut ids: Vec<RepoId> = ["a-b/c", "a/b", "a/a"]
            .iter()
            .map(|s| RepoId::parse(s).unwrap())
            .collect();
        ids.sort();
        let shown: Vec<&str> = ids.iter().map(RepoId::as_str).collect();
        assert_eq!(shown, ["a/a", "a/b", "a-b/c"]);
    }

    #[test]
    fn parse_and_from_str_refuse_the_same_ids() {
        for bad in ["noslash", "a/b--c", "-a/b", "a/b.git", "a/", "/b"] {
            assert!(RepoId::parse(bad).is_err(), "{bad}");
            assert!(bad.parse::<RepoId>().is_err(), "{bad}");
        }
        let id = RepoId::parse("Org_1/model.v2").unwrap();
        assert_eq!((id.owner(), id.name()), ("Org_1", "model.v2"));
        assert_eq!("Org_1/model.v2".parse::<RepoId>().unwrap(), id);
    }
}
