//! The dry run of a publish: everything that can be known without the network —
//! validation and documentation report, reserved-tag diff, the exact file list — and
//! what blocks publishing. `--publish` refuses to touch the network unless the plan
//! has no blocker.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::corpus::{CARD_FILE, skill_dir};
use crate::hub::RepoId;
use crate::manifest::Manifest;
use crate::skill::{self, CheckOptions, Finding, SkillReport};
use crate::{card, tags};

use super::files::{self, FileSelection, is_weight_file};

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Make the repo public once the upload is verified.
    pub public: bool,
    /// Upload files over `max_file_bytes`.
    pub allow_large: bool,
    pub max_file_bytes: u64,
    /// Skills published at once.
    pub concurrency: usize,
    /// Record new versions as `draft` (`--draft`) before tagging them.
    pub draft: bool,
    /// Sign each skill (OMS signature and weights lock in the same commit).
    pub sign_key: Option<rskill_signing::PrivateKey>,
    /// Sign the governance state after tagging, releasing the new version to fleets
    /// that verify governance (needs the manage right on rskill-hub).
    pub governance: Option<crate::lifecycle::signed::GovernanceSigner>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            public: false,
            allow_large: false,
            max_file_bytes: files::DEFAULT_MAX_FILE_BYTES,
            draft: false,
            concurrency: 4,
            sign_key: None,
            governance: None,
        }
    }
}

/// Reserved tags as they are and as they should be.
#[derive(Debug, Clone, Serialize)]
pub struct TagDiff {
    pub current: Vec<String>,
    pub expected: Vec<String>,
}

/// What publishing one skill would do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub manifest_path: PathBuf,
    pub dir: PathBuf,
    pub report: SkillReport,
    pub repo: Option<RepoId>,
    pub tag_diff: Option<TagDiff>,
    pub selection: FileSelection,
    /// Reasons publishing is refused; empty when it may go ahead.
    pub blockers: Vec<String>,
}

impl Plan {
    pub fn manifest(&self) -> Option<&Manifest> {
        self.report.manifest.as_ref()
    }

    pub fn can_publish(&self) -> bool {
        self.blockers.is_empty()
    }

    /// A label for tables: the repo id, else the path.
    pub fn label(&self) -> String {
        self.repo
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_else(|| self.dir.display().to_string())
    }

    /// Whether the skill directory itself holds weight files.
    pub fn ships_weights(&self) -> bool {
        self.selection
            .files
            .iter()
            .any(|f| is_weight_file(&f.path_in_repo))
    }
}

/// Plans the publish of the skill whose manifest is `manifest_path`.
pub fn plan(manifest_path: &Path, opts: &PublishOptions) -> Plan {
    let dir = skill_dir(manifest_path);
    let report = skill::check(manifest_path, CheckOptions::default());
    let mut blockers = Vec::new();
    // An untagged card is only a warning to `validate`, but nothing is published
    // without its reserved tags.
    let (tag_findings, other_findings): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .chain(
            report
                .warnings
                .iter()
                .filter(|w| w.violation.rule == "tags"),
        )
        .partition(|f| f.violation.rule == "tags");
    if !other_findings.is_empty() {
        blockers.push(format!(
            "{} validation / documentation problem(s): run `rskill validate {}`",
            other_findings.len(),
            dir.display()
        ));
    }
    if !tag_findings.is_empty() {
        blockers.push(format!(
            "the reserved tags / license metadata of {CARD_FILE} disagree with the manifest: \
             run `rskill tags --write {}`",
            dir.display()
        ));
    }
    let repo = report
        .manifest
        .as_ref()
        .and_then(|m| m.name.parse::<RepoId>().ok());
    let tag_diff = report.manifest.as_ref().and_then(|m| tag_diff(&dir, m));
    let selection = match files::select(&dir, opts.max_file_bytes, opts.allow_large) {
        Ok(s) => s,
        Err(e) => {
            blockers.push(format!("cannot list {}: {e}", dir.display()));
            FileSelection::default()
        }
    };
    for f in &selection.too_large {
        blockers.push(format!("{}: {}", f.path, f.reason));
    }
    let mut plan = Plan {
        manifest_path: manifest_path.to_path_buf(),
        dir,
        report,
        repo,
        tag_diff,
        selection,
        blockers,
    };
    if opts.public
        && let Some(m) = plan.manifest()
        && m.license.is_non_commercial()
        && plan.ships_weights()
    {
        let posture = m.license;
        plan.blockers.push(format!(
            "license `{posture}` is non-commercial and the skill directory holds weight files: \
             making it public would redistribute them (keep weights in their upstream repo)"
        ));
    }
    plan
}

fn tag_diff(dir: &Path, m: &Manifest) -> Option<TagDiff> {
    let text = std::fs::read_to_string(dir.join(CARD_FILE)).ok()?;
    let meta = card::split(&text).and_then(|c| card::metadata(&c)).ok()?;
    let current = card::tags(&meta);
    let expected = tags::expected_tags(&current, m);
    (current != expected).then_some(TagDiff { current, expected })
}
