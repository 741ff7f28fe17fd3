//! Counts of the requests the server handled, in total and per route, so that tests can
//! assert how many round trips a client made (e.g. "one listing request, zero resolves").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The routes requests are counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLabel {
    Whoami,
    List,
    Info,
    Resolve,
    Tree,
    PathsInfo,
    Refs,
    Commits,
    Preupload,
    Commit,
    CreateRepo,
    DeleteRepo,
    Settings,
    Tag,
    Branch,
    Collection,
    ValidateYaml,
    Lfs,
    AdminImport,
    Unknown,
}

impl RouteLabel {
    pub const ALL: [RouteLabel; 20] = [
        RouteLabel::Whoami,
        RouteLabel::List,
        RouteLabel::Info,
        RouteLabel::Resolve,
        RouteLabel::Tree,
        RouteLabel::PathsInfo,
        RouteLabel::Refs,
        RouteLabel::Commits,
        RouteLabel::Preupload,
        RouteLabel::Commit,
        RouteLabel::CreateRepo,
        RouteLabel::DeleteRepo,
        RouteLabel::Settings,
        RouteLabel::Tag,
        RouteLabel::Branch,
        RouteLabel::Collection,
        RouteLabel::ValidateYaml,
        RouteLabel::Lfs,
        RouteLabel::AdminImport,
        RouteLabel::Unknown,
    ];

    /// The label's name: `list`, `info`, `resolve`, `commit`, … (see the docs).
    pub fn as_str(self) -> &'static str {
        match self {
            RouteLabel::Whoami => "whoami",
            RouteLabel::List => "list",
            RouteLabel::Info => "info",
            RouteLabel::Resolve => "resolve",
            RouteLabel::Tree => "tree",
            RouteLabel::PathsInfo => "paths_info",
            RouteLabel::Refs => "refs",
            RouteLabel::Commits => "commits",
            RouteLabel::Preupload => "preupload",
            RouteLabel::Commit => "commit",
            RouteLabel::CreateRepo => "create_repo",
            RouteLabel::DeleteRepo => "delete_repo",
            RouteLabel::Settings => "settings",
            RouteLabel::Tag => "tag",
            RouteLabel::Branch => "branch",
            RouteLabel::Collection => "collection",
            RouteLabel::ValidateYaml => "validate_yaml",
            RouteLabel::Lfs => "lfs",
            RouteLabel::AdminImport => "admin_import",
            RouteLabel::Unknown => "unknown",
        }
    }

    fn index(self) -> usize {
        RouteLabel::ALL
            .iter()
            .position(|l| *l == self)
            .expect("every label is in ALL")
    }
}

/// Live counters, shared by the server and its handle.
#[derive(Debug, Default)]
pub struct Counters {
    total: AtomicU64,
    by_route: [AtomicU64; RouteLabel::ALL.len()],
}

impl Counters {
    pub fn record(&self, label: RouteLabel) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.by_route[label.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            total: self.total(),
            by_route: RouteLabel::ALL
                .iter()
                .map(|l| {
                    (
                        l.as_str().to_owned(),
                        self.by_route[l.index()].load(Ordering::Relaxed),
                    )
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        for c in &self.by_route {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub total: u64,
    /// Route label → count (labels never hit are absent).
    pub by_route: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// The count of one route label (0 if never hit).
    pub fn get(&self, label: &str) -> u64 {
        self.by_route.get(label).copied().unwrap_or(0)
    }

    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        RequestCounts {
            total: self.total.saturating_sub(earlier.total),
            by_route: self
                .by_route
                .iter()
                .map(|(k, v)| (k.clone(), v.saturating_sub(earlier.get(k))))
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_differences() {
        let c = Counters::default();
        c.record(RouteLabel::List);
        let before = c.snapshot();
        c.record(RouteLabel::List);
        c.record(RouteLabel::Resolve);
        let after = c.snapshot();
        assert_eq!(after.total, 3);
        assert_eq!(after.get("list"), 2);
        let d = after.since(&before);
        assert_eq!(
            (d.total, d.get("list"), d.get("resolve"), d.get("info")),
            (2, 1, 1, 0)
        );
        c.reset();
        assert_eq!(c.snapshot(), RequestCounts::default());
    }
}
