//! `rskill install ORG/rskill-group-NAME[@alias|@version]`: every member at the commit
//! the group pins, all or nothing. The group's own version goes through governance
//! like a skill's (`@production`, `latest`, statuses); then every member is resolved,
//! validated and passed through the license and pickle guards before the first
//! download; the downloads of all members share one parallel pool; every member is
//! smoke-loaded; and only then does one atomic registry update record the group and
//! its members (dropping members an earlier version of the group needed and nothing
//! else does). Any failure leaves the registry as it was.

use std::collections::HashMap;

use rskill_manifest::group::{GROUP_FILE, GROUP_REPO_PREFIX, Group};

use crate::hub::download::FileSpec;
use crate::hub::ids::RepoPath;
use crate::hub::{HubClient, RepoId};
use crate::registry::{GroupMember, InstalledGroup, InstalledSkill};

use super::id::InstallId;
use super::lockfile::{LockedGroup, LockedSkill};
use super::plan;
use super::run::{
    InstallError, InstallOptions, InstallUi, Prepared, check_status, download_all, finish, prepare,
    seen_for, update_registry,
};

/// Whether `repo` names a group (group repos are `org/rskill-group-…`).
pub fn is_group(repo: &RepoId) -> bool {
    repo.name().starts_with(GROUP_REPO_PREFIX)
}

/// A locked group: its commit, and the lockfile's entry of every member.
#[derive(Debug, Clone)]
pub struct GroupLock {
    pub group: LockedGroup,
    pub members: Vec<LockedSkill>,
}

/// What a group install did.
#[derive(Debug, Clone)]
pub struct GroupReport {
    pub group: InstalledGroup,
    pub members: Vec<InstalledSkill>,
    /// Skills an earlier version of the group needed and nothing needs now (removed).
    pub dropped: Vec<InstalledSkill>,
    /// Bytes that crossed the network.
    pub transferred: u64,
    /// Distinct files fetched or found in the cache.
    pub files: usize,
    pub cached_files: usize,
}

/// Installs the group `id`, all or nothing.
pub async fn install_group(
    client: &HubClient,
    id: &InstallId,
    opts: &InstallOptions,
    lock: Option<&GroupLock>,
    ui: &dyn InstallUi,
) -> Result<GroupReport, InstallError> {
    let repo = &id.repo;
    let seen = seen_for(opts);
    let asked = match lock {
        Some(l) => Some(l.group.commit.to_string()),
        None => id.revision.clone(),
    };
    let resolved = crate::lifecycle::resolve::resolve(client, &seen, repo, asked.as_deref())
        .await
        .map_err(|e| match e {
            crate::lifecycle::LifecycleError::Hub(h) => InstallError::Hub(h),
            other => InstallError::Lifecycle(other),
        })?;
    for note in &resolved.notes {
        ui.say(note);
    }
    check_status(repo, &resolved, opts, ui)?;
    let (commit, _) = plan::resolve_upstream(client, repo, Some(&resolved.revision)).await?;
    let group = read_group(client, repo, &commit).await?;
    if let Some(v) = &resolved.version
        && v.to_string() != group.version
    {
        return Err(invalid(
            repo,
            &commit,
            vec![format!(
                "version: the file says {} but the tag is v{v}",
                group.version
            )],
        ));
    }
    ui.say(&format!(
        "group {repo} {} (commit {}): {} member(s)",
        group.version,
        crate::hub::repo::short_sha(commit.as_str()),
        group.members.len()
    ));

    // Every member resolved, validated and guarded before any download.
    let mut prepared: Vec<Prepared> = Vec::new();
    for m in &group.members {
        let member: RepoId = m
            .id
            .parse()
            .map_err(|e: String| invalid(repo, &commit, vec![format!("member {}: {e}", m.id)]))?;
        let Some(pin) = &m.commit else {
            return Err(invalid(
                repo,
                &commit,
                vec![format!(
                    "member {} has no commit pin (a published group pins every member)",
                    m.id
                )],
            ));
        };
        let locked = match lock {
            Some(l) => {
                let s = l.members.iter().find(|s| s.repo == m.id).ok_or_else(|| {
                    InstallError::Locked(format!(
                        "the lockfile pins group {repo} but not its member {}",
                        m.id
                    ))
                })?;
                if s.commit.as_str() != pin {
                    return Err(InstallError::Locked(format!(
                        "group {repo} pins {} at {} but the lockfile at {}",
                        m.id, pin, s.commit
                    )));
                }
                Some(s)
            }
            None => None,
        };
        let p = prepare(
            client,
            &seen,
            &member,
            Some(pin),
            Some(m.version.clone()),
            locked,
            opts,
            ui,
        )
        .await
        .map_err(|e| member_failed(repo, &m.id, e))?;
        if p.manifest.version != m.version {
            return Err(invalid(
                repo,
                &commit,
                vec![format!(
                    "member {} at {} is version {}, the group says {}",
                    m.id,
                    crate::hub::repo::short_sha(pin),
                    p.manifest.version,
                    m.version
                )],
            ));
        }
        prepared.push(p);
    }

    let ids: Vec<String> = prepared.iter().map(|p| p.repo.to_string()).collect();
    opts.preflight.check(&ids)?;

    // One shared, parallel download of every distinct file.
    let mut distinct: Vec<FileSpec> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for p in &prepared {
        for f in &p.plan.files {
            let key = (f.repo.to_string(), f.commit.to_string(), f.path.to_string());
            if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(key) {
                slot.insert(distinct.len());
                distinct.push(f.clone());
            }
        }
    }
    let downloaded = download_all(client, &distinct, ui).await?;
    let transferred = downloaded.iter().map(|d| d.transferred).sum();
    let cached_files = downloaded
        .iter()
        .filter(|d| d.transferred == 0 && d.resumed_from == 0)
        .count();

    let mut entries = Vec::new();
    for p in &prepared {
        let mine: Vec<_> = p
            .plan
            .files
            .iter()
            .map(|f| {
                let key = (f.repo.to_string(), f.commit.to_string(), f.path.to_string());
                downloaded[index[&key]].clone()
            })
            .collect();
        let entry =
            finish(p, &mine, opts, ui).map_err(|e| member_failed(repo, p.repo.as_str(), e))?;
        entries.push(entry);
    }

    let installed = InstalledGroup {
        repo: repo.to_string(),
        revision_requested: id
            .revision
            .clone()
            .unwrap_or_else(|| resolved.alias.clone().unwrap_or_else(|| "main".into())),
        commit: commit.to_string(),
        version: group.version.clone(),
        alias: match lock {
            Some(l) => l.group.alias.clone(),
            None => resolved.alias.clone(),
        },
        status: resolved.status.map(|s| s.to_string()),
        members: entries
            .iter()
            .map(|e| GroupMember {
                repo: e.repo.clone(),
                version: e.version.clone(),
                commit: e.commit.clone(),
            })
            .collect(),
        installed_at: crate::registry::now_rfc3339(),
    };
    let (stored_group, stored) = (installed.clone(), entries.clone());
    let dropped = update_registry(opts, move |r| {
        for mut e in stored {
            // A skill also installed by name stays so.
            e.explicit = r.skills.get(&e.repo).is_some_and(|old| old.explicit);
            r.skills.insert(e.repo.clone(), e);
        }
        r.groups.insert(stored_group.repo.clone(), stored_group);
        r.drop_orphans()
    })?;
    Ok(GroupReport {
        group: installed,
        members: entries,
        dropped,
        transferred,
        files: distinct.len(),
        cached_files,
    })
}

/// Reads and validates the group file at `commit` (hostile input: bounded, schema,
/// rules, and its name must be this repo).
async fn read_group(
    client: &HubClient,
    repo: &RepoId,
    commit: &crate::hub::ids::CommitId,
) -> Result<Group, InstallError> {
    let path: RepoPath = GROUP_FILE.parse().expect("a valid repo path");
    let bytes = client.read_file_cached(repo, commit, &path).await?;
    let group = rskill_manifest::group::parse_valid(&bytes).map_err(|v| {
        invalid(
            repo,
            commit,
            v.iter()
                .map(|v| format!("{} [{}]", v.render(GROUP_FILE), v.rule))
                .collect(),
        )
    })?;
    if !group.name.eq_ignore_ascii_case(repo.as_str()) {
        return Err(invalid(
            repo,
            commit,
            vec![format!("name \"{}\" is not this repo", group.name)],
        ));
    }
    Ok(group)
}

fn invalid(
    repo: &RepoId,
    commit: &crate::hub::ids::CommitId,
    problems: Vec<String>,
) -> InstallError {
    InstallError::InvalidGroup {
        repo: repo.to_string(),
        commit: crate::hub::repo::short_sha(commit.as_str()).to_string(),
        problems,
    }
}

/// Names the member in a member's failure; the group is refused as a whole.
fn member_failed(group: &RepoId, member: &str, e: InstallError) -> InstallError {
    let hint = e.hint();
    InstallError::Member {
        group: group.to_string(),
        member: member.to_string(),
        message: e.to_string(),
        hint,
    }
}
