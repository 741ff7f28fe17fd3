//! The install side of recorded scans: an org whose trust policy says
//! `scan-policy require` gets only commits for which the skill's registry file holds a
//! scan record with every type `clean` (`warning` is not enough: remote code and
//! manifest warnings need a person's look, which the policy cannot give), and the record
//! must be authenticated: part of a governance state signed by a key the org trusts for
//! governance, which names the key that recorded it (an unsigned record is one anybody
//! who may write the repo can rewrite to clean). Checked before anything is downloaded,
//! so a refusal leaves nothing behind.

use rskill_scan::Status as ScanStatus;

use crate::hub::RepoId;
use crate::hub::ids::CommitId;
use crate::install::InstallError;
use crate::lifecycle::SkillState;
use crate::trust::Policy;

/// Refuses `commit` unless the policy does not ask for a scan, or `state` records a
/// clean one for that exact commit. Returns a line to show when the check passed.
pub fn check(
    repo: &RepoId,
    commit: &CommitId,
    state: Option<&SkillState>,
    policy: &Policy,
) -> Result<Option<String>, InstallError> {
    let org = repo.org();
    if !policy.for_org(org).scan_required {
        return Ok(None);
    }
    let hint = format!(
        "the policy for {org} (`rskill trust scan-policy {org} require`) installs only commits with a recorded clean scan in a signed governance state: a publisher with the manage right runs `rskill-publisher scan {repo}@VERSION --record --governance-key KEY`, and this machine trusts that key (`rskill trust add {org} --key PUB.pem --role governance`); `rskill info {repo}` shows the records"
    );
    let refuse = |what: String| {
        Err(InstallError::Refused {
            reason: format!("{repo} at commit {commit}: {what}; nothing was registered"),
            hint: hint.clone(),
        })
    };
    let Some(state) = state else {
        return refuse(
            "the skill's registry file could not be read, so no scan record can be checked".into(),
        );
    };
    let Some(record) = state.registry.scan_of(commit.as_str()) else {
        let others: Vec<String> = state
            .registry
            .scans
            .keys()
            .map(|c| crate::hub::repo::short_sha(c).to_string())
            .collect();
        return refuse(format!(
            "no scan is recorded for this commit{}",
            if others.is_empty() {
                String::new()
            } else {
                format!(" (records exist for {} only)", others.join(", "))
            }
        ));
    };
    let Some(recorded_by) = state
        .authenticity
        .verified()
        .and_then(|s| s.scans.get(commit.as_str()))
    else {
        return refuse(format!(
            "the scan record is not authenticated (the governance state is {}{}): anybody who may write the repo could have written it",
            state.authenticity.label(),
            if state.authenticity.verified().is_some() {
                ", but names no key that recorded this scan"
            } else {
                ""
            }
        ));
    };
    if record.types.is_empty() {
        return refuse("the recorded scan covers no scan type".into());
    }
    let not_clean = record.not_clean();
    if !not_clean.is_empty() {
        return refuse(format!(
            "the scan recorded at {} is not clean: {}",
            record.time,
            not_clean.join(", ")
        ));
    }
    debug_assert_eq!(record.status(), ScanStatus::Clean);
    Ok(Some(format!(
        "scan record: clean ({} {} at {}) for commit {}, recorded by key {}",
        record.scanner,
        record.version,
        record.time,
        crate::hub::repo::short_sha(commit.as_str()),
        &recorded_by[..recorded_by.len().min(16)]
    )))
}
