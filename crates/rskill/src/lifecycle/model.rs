//! The governance model of one skill, as pure functions over typed values: version
//! statuses and the transitions between them, aliases and what `latest` resolves to,
//! the append-only history, and the validation that turns a registry file read from a
//! Hub (hostile until checked) into a [`Registry`]. Nothing here does I/O, so every
//! allowed and refused move is unit-tested.
//!
//! The file on `main` keeps the current state (`versions`, `aliases`) next to the
//! `history` that produced it; a file whose state is not exactly the replay of its
//! history was edited by hand, and is reported, not trusted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Serialize};

pub use super::scan_record::ScanRecord;
use super::scan_record::check_commit;

/// The registry file's format version.
pub const FORMAT: u32 = 1;
/// The alias that `rskill install ID` resolves.
pub const LATEST: &str = "latest";
/// Largest registry file rskill reads (bytes): about 10,000 history events.
pub const MAX_REGISTRY_BYTES: u64 = 4 * 1024 * 1024;

/// A version's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Active,
    Deprecated,
    Deleted,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Active,
        Status::Deprecated,
        Status::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Deleted => "deleted",
        }
    }

    /// Whether moving from `self` to `to` is allowed: draft→active, draft→deleted,
    /// active→deprecated, active→draft, deprecated→active, deprecated→deleted.
    /// `deleted` is final.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Draft, Active)
                | (Draft, Deleted)
                | (Active, Deprecated)
                | (Active, Draft)
                | (Deprecated, Active)
                | (Deprecated, Deleted)
        )
    }

    /// Whether a change to this status must carry a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, Status::Deprecated | Status::Deleted)
    }

    /// Whether an alias may point to a version in this status.
    pub fn aliasable(self) -> bool {
        matches!(self, Status::Active | Status::Deprecated)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = GovError;
    fn from_str(s: &str) -> Result<Status, GovError> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| GovError::Invalid {
                field: "status".into(),
                message: format!("unknown status `{s}` (draft, active, deprecated or deleted)"),
            })
    }
}

/// What an event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum What {
    /// A version's status; `subject` is the version, `old`/`new` statuses (`old`
    /// absent for a version first published as a draft).
    Status,
    /// An alias; `subject` is the alias, `old`/`new` versions (absent: unset).
    Alias,
    /// A scan record; `subject` is the commit, `old`/`new` the records as compact
    /// JSON (`old` absent for the commit's first record).
    Scan,
}

/// One entry of the append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub seq: u64,
    pub what: What,
    pub subject: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub who: String,
    pub when: String,
    pub why: String,
}

impl Event {
    /// One line naming the event, used as the commit message that corroborates it.
    pub fn summary(&self) -> String {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        match self.what {
            What::Status => format!(
                "rskill registry #{}: status {} {} -> {}",
                self.seq,
                self.subject,
                show(&self.old),
                show(&self.new)
            ),
            What::Alias => format!(
                "rskill registry #{}: alias {} {} -> {}",
                self.seq,
                self.subject,
                show(&self.old),
                show(&self.new)
            ),
            What::Scan => format!(
                "rskill registry #{}: scan {} {} -> {}",
                self.seq,
                self.subject,
                self.shown(&self.old),
                self.shown(&self.new)
            ),
        }
    }

    /// `old` or `new` as people read it: the value, or for a scan event the record's
    /// overall status and scanner.
    pub fn shown(&self, v: &Option<String>) -> String {
        match (self.what, v) {
            (_, None) => "-".into(),
            (What::Scan, Some(s)) => match ScanRecord::from_event_value(s) {
                Ok(r) => format!("{} ({} {})", r.status(), r.scanner, r.version),
                Err(_) => "(unreadable record)".into(),
            },
            (_, Some(s)) => s.clone(),
        }
    }
}

/// A version's entry in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionEntry {
    pub status: Status,
}

/// The file as stored (`rskill.registry.json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    pub format: u32,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionEntry>,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    #[serde(default)]
    pub history: Vec<Event>,
    /// The published versions (`v<semver>` tags) when the file was last written: lets
    /// search resolve `latest` from this file alone. Informational; tags rule.
    #[serde(default)]
    pub published: Vec<String>,
    /// Recorded scans by commit (`rskill-publisher scan … --record`); absent in files
    /// written before scans were recorded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scans: BTreeMap<String, ScanRecord>,
}

/// Why a registry file, a change or a resolution was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GovError {
    #[error("invalid registry file, {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("version {version}: {from} -> {to} is not an allowed move{}", if *.from == Status::Deleted { " (deleted is final)" } else { "" })]
    Transition {
        version: String,
        from: Status,
        to: Status,
    },
    #[error("version {version} is already {status}")]
    Unchanged { version: String, status: Status },
    #[error("a change to {0} needs a reason (--reason)")]
    ReasonRequired(Status),
    #[error("version {0} is not published (no tag v{0})")]
    UnknownVersion(String),
    #[error("`{0}` is not a valid version (semver, e.g. 1.2.0)")]
    BadVersion(String),
    #[error(
        "`{0}` is not a valid alias name (lowercase letters, digits, `-`, `_`; a letter first; at most 64)"
    )]
    BadAliasName(String),
    #[error("alias `{alias}` cannot point to version {version}: it is {status}")]
    AliasTarget {
        alias: String,
        version: String,
        status: Status,
    },
    #[error("version {version} cannot become draft while aliases point to it: {}", aliases.join(", "))]
    Aliased {
        version: String,
        aliases: Vec<String>,
    },
    #[error("alias `{0}` is not set")]
    NoSuchAlias(String),
    #[error("the history was rewritten: event #{seq} differs from the one seen before")]
    HistoryRewritten { seq: u64 },
    #[error("the history lost events: {seen} seen before, {now} now")]
    HistoryShortened { seen: usize, now: usize },
}

impl GovError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            GovError::Invalid { .. } | GovError::HistoryRewritten { .. } | GovError::HistoryShortened { .. } => {
                "rskill.registry.json on main was changed outside rskill; compare it with `rskill history` and the repo's commit log, and restore it from the last registry commit".into()
            }
            GovError::Transition { .. } => "allowed: draft->active, draft->deleted, active->deprecated, active->draft, deprecated->active, deprecated->deleted".into(),
            GovError::ReasonRequired(_) => "say why: --reason \"…\"".into(),
            GovError::UnknownVersion(_) => "`rskill info ID` lists the published versions".into(),
            GovError::Aliased { .. } => "move or delete those aliases first (`rskill-publisher alias set|delete`)".into(),
            GovError::AliasTarget { .. } => "aliases point to active or deprecated versions".into(),
            _ => return None,
        })
    }
}

/// Parses `1.2.0` or `v1.2.0`.
pub fn parse_version(s: &str) -> Result<Version, GovError> {
    Version::parse(s.strip_prefix('v').unwrap_or(s)).map_err(|_| GovError::BadVersion(s.into()))
}

/// Checks an alias name: lowercase, a letter first, at most 64 characters.
pub fn check_alias_name(name: &str) -> Result<(), GovError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(GovError::BadAliasName(name.into()))
    }
}

/// A validated registry: the state equals the replay of the history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registry {
    /// Explicit statuses; a published version absent here is `active`.
    pub statuses: BTreeMap<Version, Status>,
    pub aliases: BTreeMap<String, Version>,
    pub history: Vec<Event>,
    /// The versions published when the file was written (see [`RegistryFile::published`]).
    pub published: BTreeSet<Version>,
    /// Recorded scans by commit.
    pub scans: BTreeMap<String, ScanRecord>,
}

/// Who, when and why, for a change.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub who: &'a str,
    pub when: &'a str,
    pub why: &'a str,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> GovError {
    GovError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Registry {
    /// Parses and validates a registry file's bytes (hostile input).
    pub fn parse(bytes: &[u8]) -> Result<Registry, GovError> {
        if bytes.len() as u64 > MAX_REGISTRY_BYTES {
            return Err(invalid(
                "file",
                format!("{} bytes, over the {MAX_REGISTRY_BYTES} limit", bytes.len()),
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let file: RegistryFile = serde_path_to_error::deserialize(de)
            .map_err(|e| invalid(e.path().to_string(), e.inner().to_string()))?;
        Registry::from_file(&file)
    }

    /// Validates a parsed file: format, names, every event (allowed move, reason,
    /// `old` matching the replayed state, contiguous `seq`), and the state equal to the
    /// replay.
    pub fn from_file(file: &RegistryFile) -> Result<Registry, GovError> {
        if file.format != FORMAT {
            return Err(invalid(
                "format",
                format!("{} (this rskill reads {FORMAT})", file.format),
            ));
        }
        let mut replay = Registry::default();
        for (i, ev) in file.history.iter().enumerate() {
            let field = format!("history[{i}]");
            if ev.seq != i as u64 + 1 {
                return Err(invalid(
                    format!("{field}.seq"),
                    format!(
                        "{} where {} was due (events are numbered 1, 2, …)",
                        ev.seq,
                        i + 1
                    ),
                ));
            }
            replay
                .replay(ev)
                .map_err(|e| invalid(field, e.to_string()))?;
            replay.history.push(ev.clone());
        }
        let mut statuses = BTreeMap::new();
        for (v, entry) in &file.versions {
            let version =
                parse_version(v).map_err(|e| invalid(format!("versions.{v}"), e.to_string()))?;
            statuses.insert(version, entry.status);
        }
        let mut aliases = BTreeMap::new();
        for (a, v) in &file.aliases {
            check_alias_name(a).map_err(|e| invalid(format!("aliases.{a}"), e.to_string()))?;
            let version =
                parse_version(v).map_err(|e| invalid(format!("aliases.{a}"), e.to_string()))?;
            aliases.insert(a.clone(), version);
        }
        for (a, v) in &replay.aliases {
            let st = replay.status_of(v);
            if !st.aliasable() {
                return Err(invalid(
                    format!("aliases.{a}"),
                    format!("points to {v}, which is {st}"),
                ));
            }
        }
        for (i, v) in file.published.iter().enumerate() {
            replay.published.insert(
                parse_version(v).map_err(|e| invalid(format!("published[{i}]"), e.to_string()))?,
            );
        }
        if statuses != replay.statuses {
            return Err(invalid(
                "versions",
                "the statuses are not what the history records (edited by hand?)",
            ));
        }
        if aliases != replay.aliases {
            return Err(invalid(
                "aliases",
                "the aliases are not what the history records (edited by hand?)",
            ));
        }
        for (commit, record) in &file.scans {
            check_commit(commit)?;
            record
                .check()
                .map_err(|e| invalid(format!("scans.{commit}"), e.to_string()))?;
        }
        if let Some(commit) = file
            .scans
            .keys()
            .chain(replay.scans.keys())
            .find(|c| file.scans.get(*c) != replay.scans.get(*c))
        {
            return Err(invalid(
                format!("scans.{commit}"),
                "the scan record is not what the history records (edited by hand?)",
            ));
        }
        Ok(replay)
    }

    /// Applies one recorded event, checking it as a live change would have been.
    fn replay(&mut self, ev: &Event) -> Result<(), GovError> {
        if ev.who.trim().is_empty() || ev.when.trim().is_empty() {
            return Err(invalid("who/when", "empty"));
        }
        match ev.what {
            What::Status => {
                let version = parse_version(&ev.subject)?;
                let new: Status = ev
                    .new
                    .as_deref()
                    .ok_or_else(|| invalid("new", "a status event needs a new status"))?
                    .parse()?;
                let old = ev.old.as_deref().map(Status::from_str).transpose()?;
                let current = self.statuses.get(&version).copied();
                match (current, old) {
                    (Some(c), Some(o)) if c == o => {}
                    // A version never changed is implicitly active; a new draft has no old status.
                    (None, Some(Status::Active)) | (None, None) => {}
                    _ => {
                        return Err(invalid(
                            "old",
                            format!(
                                "says {} but the history before it leaves {}",
                                ev.old.as_deref().unwrap_or("-"),
                                current.map_or("active (implicit)", Status::as_str)
                            ),
                        ));
                    }
                }
                match old {
                    Some(o) if !o.can_move_to(new) => {
                        return Err(GovError::Transition {
                            version: ev.subject.clone(),
                            from: o,
                            to: new,
                        });
                    }
                    None if !matches!(new, Status::Draft | Status::Active) => {
                        return Err(invalid("new", "a new version starts draft or active"));
                    }
                    _ => {}
                }
                if new.needs_reason() && ev.why.trim().is_empty() {
                    return Err(GovError::ReasonRequired(new));
                }
                self.statuses.insert(version, new);
            }
            What::Alias => {
                check_alias_name(&ev.subject)?;
                let old = ev.old.as_deref().map(parse_version).transpose()?;
                let new = ev.new.as_deref().map(parse_version).transpose()?;
                if self.aliases.get(&ev.subject) != old.as_ref() {
                    return Err(invalid(
                        "old",
                        format!(
                            "alias {} says {} but the history before it leaves {}",
                            ev.subject,
                            ev.old.as_deref().unwrap_or("-"),
                            self.aliases
                                .get(&ev.subject)
                                .map_or("-".into(), |v| v.to_string())
                        ),
                    ));
                }
                match new {
                    Some(v) => {
                        let st = self.status_of(&v);
                        if !st.aliasable() {
                            return Err(GovError::AliasTarget {
                                alias: ev.subject.clone(),
                                version: v.to_string(),
                                status: st,
                            });
                        }
                        self.aliases.insert(ev.subject.clone(), v);
                    }
                    None => {
                        self.aliases.remove(&ev.subject);
                    }
                }
            }
            What::Scan => {
                check_commit(&ev.subject)?;
                let new = ScanRecord::from_event_value(
                    ev.new
                        .as_deref()
                        .ok_or_else(|| invalid("new", "a scan event needs the new record"))?,
                )?;
                let old = ev
                    .old
                    .as_deref()
                    .map(ScanRecord::from_event_value)
                    .transpose()?;
                if self.scans.get(&ev.subject) != old.as_ref() {
                    return Err(invalid(
                        "old",
                        format!(
                            "the scan of {} says {} but the history before it leaves {}",
                            ev.subject,
                            old.as_ref().map_or("-".into(), |r| r.status().to_string()),
                            self.scans
                                .get(&ev.subject)
                                .map_or("-".into(), |r| r.status().to_string())
                        ),
                    ));
                }
                self.scans.insert(ev.subject.clone(), new);
            }
        }
        // Deleting a version drops its aliases in the events that follow it; the
        // whole file is checked for aliases left on it in `from_file`.
        Ok(())
    }

    /// The status of a published version (`active` when never changed).
    pub fn status_of(&self, v: &Version) -> Status {
        self.statuses.get(v).copied().unwrap_or(Status::Active)
    }

    /// Problems against the published versions (`tagged`): aliases to versions that
    /// have no tag or are no longer aliasable. Reported, never trusted.
    pub fn check_against(&self, tagged: &BTreeSet<Version>) -> Vec<String> {
        let mut out = Vec::new();
        for (a, v) in &self.aliases {
            if !tagged.contains(v) {
                out.push(format!("alias `{a}` points to {v}, which has no tag v{v}"));
            } else if !self.status_of(v).aliasable() {
                out.push(format!(
                    "alias `{a}` points to {v}, which is {}",
                    self.status_of(v)
                ));
            }
        }
        out
    }

    /// What an alias (or `latest`) resolves to among the published versions.
    /// `latest` is the alias `latest` when set, else the newest active version.
    pub fn resolve_alias(&self, name: &str, tagged: &BTreeSet<Version>) -> Option<Version> {
        if let Some(v) = self.aliases.get(name) {
            return Some(v.clone());
        }
        if name == LATEST {
            return tagged
                .iter()
                .rev()
                .find(|v| self.status_of(v) == Status::Active)
                .cloned();
        }
        None
    }

    /// Aliases pointing to `v`.
    pub fn aliases_of(&self, v: &Version) -> Vec<String> {
        self.aliases
            .iter()
            .filter(|(_, t)| *t == v)
            .map(|(a, _)| a.clone())
            .collect()
    }

    fn event(
        &self,
        what: What,
        subject: String,
        old: Option<String>,
        new: Option<String>,
        c: &Change<'_>,
    ) -> Event {
        Event {
            seq: self.history.len() as u64 + 1,
            what,
            subject,
            old,
            new,
            who: c.who.to_owned(),
            when: c.when.to_owned(),
            why: c.why.to_owned(),
        }
    }

    fn push(&mut self, ev: Event) -> Result<(), GovError> {
        self.replay(&ev)?;
        self.history.push(ev);
        Ok(())
    }

    /// Changes a published version's status. Deleting also unsets every alias that
    /// points to it (one event each, after the status event). Returns the new events.
    pub fn set_status(
        &mut self,
        version: &Version,
        to: Status,
        tagged: &BTreeSet<Version>,
        c: &Change<'_>,
    ) -> Result<Vec<Event>, GovError> {
        if !tagged.contains(version) {
            return Err(GovError::UnknownVersion(version.to_string()));
        }
        let from = self.status_of(version);
        if from == to {
            return Err(GovError::Unchanged {
                version: version.to_string(),
                status: to,
            });
        }
        if !from.can_move_to(to) {
            return Err(GovError::Transition {
                version: version.to_string(),
                from,
                to,
            });
        }
        if to.needs_reason() && c.why.trim().is_empty() {
            return Err(GovError::ReasonRequired(to));
        }
        let pointing = self.aliases_of(version);
        if to == Status::Draft && !pointing.is_empty() {
            return Err(GovError::Aliased {
                version: version.to_string(),
                aliases: pointing,
            });
        }
        let start = self.history.len();
        let ev = self.event(
            What::Status,
            version.to_string(),
            Some(from.to_string()),
            Some(to.to_string()),
            c,
        );
        self.push(ev)?;
        if to == Status::Deleted {
            for a in pointing {
                let why = format!("version {version} deleted: {}", c.why);
                let ev = self.event(
                    What::Alias,
                    a,
                    Some(version.to_string()),
                    None,
                    &Change {
                        why: &why,
                        ..c.clone()
                    },
                );
                self.push(ev)?;
            }
        }
        Ok(self.history[start..].to_vec())
    }

    /// Records a version published as a draft (before its tag is made).
    pub fn add_draft(&mut self, version: &Version, c: &Change<'_>) -> Result<Vec<Event>, GovError> {
        if let Some(st) = self.statuses.get(version) {
            return Err(GovError::Unchanged {
                version: version.to_string(),
                status: *st,
            });
        }
        let ev = self.event(
            What::Status,
            version.to_string(),
            None,
            Some(Status::Draft.to_string()),
            c,
        );
        self.push(ev.clone())?;
        Ok(vec![ev])
    }

    /// Points `alias` to `version` (active or deprecated, published).
    pub fn set_alias(
        &mut self,
        alias: &str,
        version: &Version,
        tagged: &BTreeSet<Version>,
        c: &Change<'_>,
    ) -> Result<Vec<Event>, GovError> {
        check_alias_name(alias)?;
        if !tagged.contains(version) {
            return Err(GovError::UnknownVersion(version.to_string()));
        }
        let old = self.aliases.get(alias).cloned();
        if old.as_ref() == Some(version) {
            // Already there (a retry, or another publisher won the race): nothing to do.
            return Ok(Vec::new());
        }
        let ev = self.event(
            What::Alias,
            alias.to_owned(),
            old.map(|v| v.to_string()),
            Some(version.to_string()),
            c,
        );
        self.push(ev.clone())?;
        Ok(vec![ev])
    }

    /// Records (or replaces) the scan of `commit`, a published version's commit (the
    /// caller resolves it). The event carries the old and the new record.
    pub fn record_scan(
        &mut self,
        commit: &str,
        record: &ScanRecord,
        c: &Change<'_>,
    ) -> Result<Vec<Event>, GovError> {
        check_commit(commit)?;
        record.check()?;
        let old = self.scans.get(commit);
        if old == Some(record) {
            // Recorded already: nothing to change (a change may still sign it).
            return Ok(Vec::new());
        }
        let ev = self.event(
            What::Scan,
            commit.to_owned(),
            old.map(ScanRecord::to_event_value),
            Some(record.to_event_value()),
            c,
        );
        self.push(ev.clone())?;
        Ok(vec![ev])
    }

    /// The record of `commit`, if one was made.
    pub fn scan_of(&self, commit: &str) -> Option<&ScanRecord> {
        self.scans.get(commit)
    }

    /// The newest record made for `version`'s commit (by the version each record
    /// names), with that commit: what search shows for the version it resolved.
    pub fn scan_for_version(&self, version: &str) -> Option<(&str, &ScanRecord)> {
        self.scans
            .iter()
            .filter(|(_, r)| r.skill_version.as_deref() == Some(version))
            .max_by(|a, b| a.1.time.cmp(&b.1.time))
            .map(|(c, r)| (c.as_str(), r))
    }

    /// Unsets `alias`.
    pub fn delete_alias(&mut self, alias: &str, c: &Change<'_>) -> Result<Vec<Event>, GovError> {
        let Some(old) = self.aliases.get(alias).cloned() else {
            return Err(GovError::NoSuchAlias(alias.into()));
        };
        let ev = self.event(
            What::Alias,
            alias.to_owned(),
            Some(old.to_string()),
            None,
            c,
        );
        self.push(ev.clone())?;
        Ok(vec![ev])
    }

    /// The file to store.
    pub fn to_file(&self) -> RegistryFile {
        RegistryFile {
            format: FORMAT,
            versions: self
                .statuses
                .iter()
                .map(|(v, s)| (v.to_string(), VersionEntry { status: *s }))
                .collect(),
            aliases: self
                .aliases
                .iter()
                .map(|(a, v)| (a.clone(), v.to_string()))
                .collect(),
            history: self.history.clone(),
            published: self.published.iter().map(Version::to_string).collect(),
            scans: self.scans.clone(),
        }
    }

    /// The file's bytes (pretty JSON, trailing newline; same state, same bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&self.to_file()).expect("registry serializes");
        out.push(b'\n');
        out
    }

    /// Events about `alias`.
    pub fn alias_history(&self, alias: &str) -> Vec<&Event> {
        self.history
            .iter()
            .filter(|e| e.what == What::Alias && e.subject == alias)
            .collect()
    }
}

/// Checks that `now` extends `seen` (a history read earlier): same events, maybe more.
pub fn check_extends(seen: &[Event], now: &[Event]) -> Result<(), GovError> {
    if now.len() < seen.len() {
        return Err(GovError::HistoryShortened {
            seen: seen.len(),
            now: now.len(),
        });
    }
    for (a, b) in seen.iter().zip(now) {
        if a != b {
            return Err(GovError::HistoryRewritten { seq: a.seq });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }
    fn tagged(vs: &[&str]) -> BTreeSet<Version> {
        vs.iter().map(|s| v(s)).collect()
    }
    const C: Change<'static> = Change {
        who: "alice",
        when: "2026-01-01T00:00:00Z",
        why: "because",
    };
    const NO_REASON: Change<'static> = Change {
        who: "alice",
        when: "2026-01-01T00:00:00Z",
        why: "",
    };

    /// A registry where 1.0.0 is in status `s`, reached by allowed moves.
    fn at(s: Status) -> Registry {
        let t = tagged(&["1.0.0"]);
        let mut r = Registry::default();
        let path: &[Status] = match s {
            Status::Active => &[],
            Status::Draft => &[Status::Draft],
            Status::Deprecated => &[Status::Deprecated],
            Status::Deleted => &[Status::Deprecated, Status::Deleted],
        };
        for st in path {
            r.set_status(&v("1.0.0"), *st, &t, &C).unwrap();
        }
        assert_eq!(r.status_of(&v("1.0.0")), s);
        r
    }

    #[test]
    fn every_allowed_and_refused_transition() {
        let t = tagged(&["1.0.0"]);
        let allowed = [
            (Status::Draft, Status::Active),
            (Status::Draft, Status::Deleted),
            (Status::Active, Status::Deprecated),
            (Status::Active, Status::Draft),
            (Status::Deprecated, Status::Active),
            (Status::Deprecated, Status::Deleted),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let mut r = at(from);
                let before = r.clone();
                let got = r.set_status(&v("1.0.0"), to, &t, &C);
                if from == to {
                    assert!(
                        matches!(got, Err(GovError::Unchanged { .. })),
                        "{from}->{to}"
                    );
                } else if allowed.contains(&(from, to)) {
                    let evs = got.unwrap_or_else(|e| panic!("{from}->{to}: {e}"));
                    assert_eq!(evs.len(), 1);
                    assert_eq!(evs[0].old.as_deref(), Some(from.as_str()));
                    assert_eq!(r.status_of(&v("1.0.0")), to);
                    // The stored file validates and replays to the same state.
                    assert_eq!(Registry::parse(&r.to_bytes()).unwrap(), r);
                } else {
                    assert!(
                        matches!(got, Err(GovError::Transition { .. })),
                        "{from}->{to} must be refused: {got:?}"
                    );
                    assert_eq!(r, before, "a refused move changes nothing");
                }
            }
        }
    }

    #[test]
    fn reasons_are_required_for_deprecate_and_delete() {
        let t = tagged(&["1.0.0"]);
        let mut r = at(Status::Active);
        assert_eq!(
            r.set_status(&v("1.0.0"), Status::Deprecated, &t, &NO_REASON),
            Err(GovError::ReasonRequired(Status::Deprecated))
        );
        let mut r = at(Status::Draft);
        assert_eq!(
            r.set_status(&v("1.0.0"), Status::Deleted, &t, &NO_REASON),
            Err(GovError::ReasonRequired(Status::Deleted))
        );
        assert!(
            r.set_status(&v("1.0.0"), Status::Active, &t, &NO_REASON)
                .is_ok()
        );
        assert!(matches!(
            r.set_status(&v("9.0.0"), Status::Deprecated, &t, &C),
            Err(GovError::UnknownVersion(_))
        ));
    }

    #[test]
    fn aliases_point_to_active_or_deprecated_versions_and_deleting_drops_them() {
        let t = tagged(&["1.0.0", "1.1.0"]);
        let mut r = Registry::default();
        r.set_alias("production", &v("1.0.0"), &t, &C).unwrap();
        r.set_alias("staging", &v("1.0.0"), &t, &C).unwrap();
        assert!(matches!(
            r.set_alias("production", &v("2.0.0"), &t, &C),
            Err(GovError::UnknownVersion(_))
        ));
        assert!(matches!(
            r.set_alias("Prod", &v("1.0.0"), &t, &C),
            Err(GovError::BadAliasName(_))
        ));
        assert!(matches!(
            r.set_status(&v("1.0.0"), Status::Draft, &t, &C),
            Err(GovError::Aliased { .. })
        ));
        r.set_status(&v("1.0.0"), Status::Deprecated, &t, &C)
            .unwrap();
        // Deprecated may still be aliased.
        r.set_alias("canary", &v("1.0.0"), &t, &C).unwrap();
        let evs = r.set_status(&v("1.0.0"), Status::Deleted, &t, &C).unwrap();
        assert_eq!(evs.len(), 4, "the status event and one per dropped alias");
        assert!(r.aliases.is_empty());
        assert!(
            evs[1..]
                .iter()
                .all(|e| e.what == What::Alias && e.new.is_none())
        );
        assert!(matches!(
            r.set_alias("production", &v("1.0.0"), &t, &C),
            Err(GovError::AliasTarget {
                status: Status::Deleted,
                ..
            })
        ));
        r.set_status(&v("1.1.0"), Status::Draft, &t, &C).unwrap();
        assert!(matches!(
            r.set_alias("production", &v("1.1.0"), &t, &C),
            Err(GovError::AliasTarget {
                status: Status::Draft,
                ..
            })
        ));
        assert_eq!(
            r.delete_alias("production", &C),
            Err(GovError::NoSuchAlias("production".into()))
        );
        assert_eq!(Registry::parse(&r.to_bytes()).unwrap(), r);
    }

    #[test]
    fn latest_is_the_alias_when_set_else_the_newest_active_version() {
        let t = tagged(&["1.2.0", "1.10.0", "1.9.0", "2.0.0-rc.1"]);
        let mut r = Registry::default();
        // semver order: 2.0.0-rc.1 > 1.10.0 > 1.9.0.
        assert_eq!(r.resolve_alias(LATEST, &t), Some(v("2.0.0-rc.1")));
        r.set_status(&v("2.0.0-rc.1"), Status::Draft, &t, &C)
            .unwrap();
        assert_eq!(r.resolve_alias(LATEST, &t), Some(v("1.10.0")));
        r.set_status(&v("1.10.0"), Status::Deprecated, &t, &C)
            .unwrap();
        assert_eq!(r.resolve_alias(LATEST, &t), Some(v("1.9.0")));
        r.set_alias(LATEST, &v("1.2.0"), &t, &C).unwrap();
        assert_eq!(r.resolve_alias(LATEST, &t), Some(v("1.2.0")));
        assert_eq!(r.resolve_alias("production", &t), None);
        let none_active = {
            let mut r = Registry::default();
            r.set_status(&v("1.0.0"), Status::Deprecated, &tagged(&["1.0.0"]), &C)
                .unwrap();
            r
        };
        assert_eq!(none_active.resolve_alias(LATEST, &tagged(&["1.0.0"])), None);
    }

    #[test]
    fn hand_edited_files_are_reported() {
        let t = tagged(&["1.0.0", "1.1.0"]);
        let mut r = Registry::default();
        r.set_alias("production", &v("1.0.0"), &t, &C).unwrap();
        r.set_status(&v("1.1.0"), Status::Deprecated, &t, &C)
            .unwrap();
        let good = r.to_file();
        let reject = |f: &RegistryFile, needle: &str| {
            let bytes = serde_json::to_vec(f).unwrap();
            let e = Registry::parse(&bytes).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle:?} not in {e}");
        };
        // Unknown status.
        let text = String::from_utf8(r.to_bytes())
            .unwrap()
            .replace("\"deprecated\"", "\"retired\"");
        let e = Registry::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("retired"), "{e}");
        // State not matching the history.
        let mut f = good.clone();
        f.aliases.insert("production".into(), "1.1.0".into());
        reject(&f, "aliases");
        let mut f = good.clone();
        f.versions.clear();
        reject(&f, "versions");
        // A rewritten event.
        let mut f = good.clone();
        f.history[0].new = Some("1.1.0".into());
        reject(&f, "aliases");
        let mut f = good.clone();
        f.history[1].seq = 7;
        reject(&f, "history[1].seq");
        // A refused move recorded in the history.
        let mut f = good.clone();
        f.history.push(Event {
            seq: 3,
            what: What::Status,
            subject: "1.1.0".into(),
            old: Some("deprecated".into()),
            new: Some("draft".into()),
            who: "x".into(),
            when: "t".into(),
            why: "w".into(),
        });
        f.versions.insert(
            "1.1.0".into(),
            VersionEntry {
                status: Status::Draft,
            },
        );
        reject(&f, "not an allowed move");
        // Unknown fields and formats.
        reject(
            &RegistryFile {
                format: 2,
                ..good.clone()
            },
            "format",
        );
        let e = Registry::parse(br#"{"format":1,"owner":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("owner"), "{e}");
        // An alias to a version with no tag is reported against the tags.
        assert_eq!(r.check_against(&tagged(&["1.1.0"])).len(), 1);
        assert!(r.check_against(&t).is_empty());
    }

    #[test]
    fn a_history_must_extend_the_one_seen_before() {
        let t = tagged(&["1.0.0", "1.1.0"]);
        let mut r = Registry::default();
        r.set_alias("production", &v("1.0.0"), &t, &C).unwrap();
        let seen = r.history.clone();
        r.set_alias("production", &v("1.1.0"), &t, &C).unwrap();
        assert!(check_extends(&seen, &r.history).is_ok());
        assert!(check_extends(&r.history, &seen).is_err());
        let mut rewritten = r.history.clone();
        rewritten[0].who = "mallory".into();
        assert_eq!(
            check_extends(&seen, &rewritten),
            Err(GovError::HistoryRewritten { seq: 1 })
        );
    }

    #[test]
    fn drafts_are_recorded_once_and_summaries_name_the_event() {
        let mut r = Registry::default();
        let evs = r.add_draft(&v("1.3.0"), &C).unwrap();
        assert_eq!(
            evs[0].summary(),
            "rskill registry #1: status 1.3.0 - -> draft"
        );
        assert!(r.add_draft(&v("1.3.0"), &C).is_err());
        assert_eq!(r.status_of(&v("1.3.0")), Status::Draft);
        assert_eq!(Registry::parse(&r.to_bytes()).unwrap(), r);
    }

    fn record(status: rskill_scan::Status, time: &str) -> ScanRecord {
        let mut types = BTreeMap::new();
        types.insert(
            rskill_scan::ScanType::Pickle,
            super::super::scan_record::TypeRecord {
                status,
                fields: [(
                    "globals".to_string(),
                    "torch._utils._rebuild_tensor_v2".to_string(),
                )]
                .into(),
            },
        );
        ScanRecord {
            scanner: "rskill-scan".into(),
            version: "0.1.0".into(),
            time: time.into(),
            skill_version: Some("1.0.0".into()),
            types,
        }
    }
    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn scan_records_are_events_replayed_like_the_others() {
        use rskill_scan::Status as S;
        let mut r = Registry::default();
        let first = record(S::Clean, "2026-01-01T00:00:00Z");
        let evs = r.record_scan(COMMIT, &first, &C).unwrap();
        assert_eq!(evs[0].what, What::Scan);
        assert_eq!(evs[0].old, None);
        assert_eq!(
            evs[0].summary(),
            format!("rskill registry #1: scan {COMMIT} - -> clean (rskill-scan 0.1.0)")
        );
        assert_eq!(r.scan_of(COMMIT), Some(&first));
        // The same record again changes nothing; a new one carries the old.
        assert!(
            r.record_scan(COMMIT, &first, &C).unwrap().is_empty(),
            "the same record again changes nothing"
        );
        let second = record(S::Dangerous, "2026-02-01T00:00:00Z");
        let evs = r.record_scan(COMMIT, &second, &C).unwrap();
        assert_eq!(evs[0].old, Some(first.to_event_value()));
        assert_eq!(r.scan_of(COMMIT).unwrap().status(), S::Dangerous);
        // The stored file replays to the same state, records included.
        let back = Registry::parse(&r.to_bytes()).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            back.scan_of(COMMIT).unwrap().records()["scan.pickle.status"],
            "dangerous"
        );
        // Not a commit id.
        assert!(matches!(
            r.record_scan("main", &first, &C),
            Err(GovError::Invalid { .. })
        ));
        let mut empty = first.clone();
        empty.scanner = " ".into();
        assert!(r.record_scan(COMMIT, &empty, &C).is_err());
    }

    #[test]
    fn hand_edited_scan_records_are_reported() {
        use rskill_scan::Status as S;
        let mut r = Registry::default();
        r.record_scan(COMMIT, &record(S::Dangerous, "t1"), &C)
            .unwrap();
        let good = r.to_file();
        let reject = |f: &RegistryFile, needle: &str| {
            let bytes = serde_json::to_vec(f).unwrap();
            let e = Registry::parse(&bytes).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle:?} not in {e}");
        };
        // A dangerous record turned clean by hand.
        let mut f = good.clone();
        f.scans
            .get_mut(COMMIT)
            .unwrap()
            .types
            .values_mut()
            .for_each(|t| t.status = S::Clean);
        reject(&f, &format!("scans.{COMMIT}"));
        // A record with no event.
        let mut f = good.clone();
        f.scans.insert("f".repeat(40), record(S::Clean, "t"));
        reject(&f, "scans.ffff");
        // A record dropped.
        let mut f = good.clone();
        f.scans.clear();
        reject(&f, &format!("scans.{COMMIT}"));
        // An event whose `old` does not match the replay.
        let mut f = good.clone();
        f.history[0].old = Some(record(S::Clean, "t0").to_event_value());
        reject(&f, "history[0]");
        // A record that is not one.
        let mut f = good.clone();
        f.history[0].new = Some("{\"scanner\":1}".into());
        reject(&f, "history[0]");
        // Files from before scan records still read, and write the same bytes.
        let old = br#"{"format":1,"versions":{},"aliases":{},"history":[],"published":["1.0.0"]}"#;
        let r = Registry::parse(old).unwrap();
        assert!(r.scans.is_empty());
        assert!(!String::from_utf8(r.to_bytes()).unwrap().contains("scans"));
    }
}
