//! Publishing a group (`rskill-group.yaml`) to its own Hub repo: every member is
//! checked on the Hub first (it exists, has that version, the version is not deleted,
//! an optional commit or alias pin agrees) and nothing is written while any check
//! fails; then the group file, with every member's commit filled in, and a model card
//! with the reserved tags go to `main` in one commit, tagged `v<version>` (immutable,
//! like skill versions); and a Hub collection mirrors the group for browsing. The group
//! repo's versions get statuses and aliases through the same governance file as skills
//! (`crate::lifecycle`).

use bytes::Bytes;
use rskill_manifest::group::{GROUP_FILE, Group};

use crate::hub::write::UploadFile;
use crate::hub::{HubClient, HubError, RepoId};
use crate::lifecycle::{LifecycleError, Seen, Status, remote, resolve};

/// The reserved tag of group repos (search and the catalog find groups by it).
pub const GROUP_TAG: &str = "rskill-group";

/// Why a group was not published.
#[derive(Debug, thiserror::Error)]
pub enum GroupPublishError {
    #[error("group {group} {version}: {}", problems.join("; "))]
    Members {
        group: String,
        version: String,
        problems: Vec<String>,
    },
    #[error(
        "group {group} {version} is already published ({tag} at {commit}) with different content; versions are immutable: bump `version` in {GROUP_FILE}"
    )]
    Immutable {
        group: String,
        version: String,
        tag: String,
        commit: String,
    },
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl GroupPublishError {
    pub fn hint(&self) -> Option<String> {
        match self {
            GroupPublishError::Members { .. } => Some(
                "publish the missing member versions first, or pin versions that exist and are not deleted (`rskill info ID` lists them); nothing was written".into(),
            ),
            GroupPublishError::Immutable { .. } => None,
            GroupPublishError::Hub(e) => e.hint(),
        }
    }
}

/// Checks every member on the Hub (read-only) and returns the group with each member's
/// `commit` set to its version's tag commit. Every problem is collected, then reported
/// together.
pub async fn resolve_members(
    client: &HubClient,
    group: &Group,
) -> Result<Group, GroupPublishError> {
    let mut problems = Vec::new();
    let mut out = group.clone();
    let seen = Seen::default();
    for m in &mut out.members {
        let repo: RepoId = match m.id.parse() {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("member {}: {e}", m.id));
                continue;
            }
        };
        let state = match remote::read(client, &seen, &repo).await {
            Ok(s) => s,
            Err(LifecycleError::Hub(HubError::RepoNotFound { .. })) => {
                problems.push(format!("member {} does not exist on the Hub", m.id));
                continue;
            }
            Err(LifecycleError::Hub(e)) => return Err(e.into()),
            Err(e) => {
                problems.push(format!("member {}: {e}", m.id));
                continue;
            }
        };
        let Ok(version) = crate::lifecycle::model::parse_version(&m.version) else {
            problems.push(format!("member {}: `{}` is not a version", m.id, m.version));
            continue;
        };
        let Some(commit) = state.tags.get(&version) else {
            problems.push(format!(
                "member {} has no published version {} (no tag v{})",
                m.id, m.version, m.version
            ));
            continue;
        };
        if state.registry.status_of(&version) == Status::Deleted {
            problems.push(format!(
                "member {} {} is deleted ({})",
                m.id,
                m.version,
                resolve::last_reason(&state, &version).unwrap_or_default()
            ));
            continue;
        }
        if let Some(pin) = &m.commit
            && pin != commit.as_str()
        {
            problems.push(format!(
                "member {} {}: the file pins commit {pin} but v{} is at {commit}",
                m.id, m.version, m.version
            ));
            continue;
        }
        if let Some(alias) = &m.alias
            && state.resolve_alias(alias).as_ref() != Some(&version)
        {
            problems.push(format!(
                "member {}: alias {alias} points to {}, not {}",
                m.id,
                state
                    .resolve_alias(alias)
                    .map_or("nothing".into(), |v| v.to_string()),
                m.version
            ));
            continue;
        }
        let info = client.repo_info(&repo, Some(commit.as_str())).await?;
        if info.file(GROUP_FILE).is_some() || info.file(crate::corpus::MANIFEST_FILE).is_none() {
            problems.push(format!(
                "member {} {} is not a skill (no {} at its commit); groups hold skills only",
                m.id,
                m.version,
                crate::corpus::MANIFEST_FILE
            ));
            continue;
        }
        m.commit = Some(commit.to_string());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(GroupPublishError::Members {
            group: group.name.clone(),
            version: group.version.clone(),
            problems,
        })
    }
}

/// The group repo's model card: reserved tags and what it holds.
pub fn card(group: &Group) -> String {
    let org = group.name.split('/').next().unwrap_or_default();
    let mut out = format!(
        "---\ntags:\n- {GROUP_TAG}\n- rskill-org:{org}\n---\n\n# {}\n\n{}\n\nVersion {} of this group pins:\n\n| skill | version | commit |\n|---|---|---|\n",
        group.name, group.description, group.version
    );
    for m in &group.members {
        out.push_str(&format!(
            "| [{}](../{}) | {} | {} |\n",
            m.id,
            m.id,
            m.version,
            m.commit.as_deref().unwrap_or("-")
        ));
    }
    out.push_str(&format!(
        "\nInstall every member at its pinned commit, all or nothing:\n\n```sh\nrskill install {}@{}\n```\n",
        group.name, group.version
    ));
    out
}

/// What publishing a group did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupPublished {
    pub group: String,
    pub version: String,
    pub commit: String,
    /// `false` when the tag already held exactly this content.
    pub created: bool,
    pub collection: Option<String>,
}

/// Publishes `group` (already member-checked by [`resolve_members`]): the group file
/// and card in one commit on `main`, tagged `v<version>`; `public` flips a new private
/// repo public afterwards; `collection_title` mirrors it to a collection in the
/// group's namespace.
pub async fn publish_group(
    client: &HubClient,
    resolved: &Group,
    public: bool,
    collection_title: Option<&str>,
) -> Result<GroupPublished, GroupPublishError> {
    let repo: RepoId = resolved.name.parse().map_err(HubError::Other)?;
    let tag = format!("v{}", resolved.version);
    let bytes = resolved.to_yaml().into_bytes();
    let main = match client.repo_info(&repo, None).await {
        Ok(info) => info,
        Err(HubError::RepoNotFound { .. }) => {
            client.create_repo(&repo, !public).await?;
            client.repo_info(&repo, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let refs = client.refs(&repo).await?;
    let (commit, created) = if let Some(at) = refs.tag(&tag) {
        let there = client
            .read_file_at_most(
                &repo,
                at,
                GROUP_FILE,
                rskill_manifest::group::MAX_GROUP_BYTES,
            )
            .await?;
        if there != bytes {
            return Err(GroupPublishError::Immutable {
                group: resolved.name.clone(),
                version: resolved.version.clone(),
                tag,
                commit: at.to_string(),
            });
        }
        (at.to_string(), false)
    } else {
        let files = vec![
            UploadFile {
                path_in_repo: GROUP_FILE.into(),
                content: Bytes::from(bytes),
            },
            UploadFile {
                path_in_repo: crate::corpus::CARD_FILE.into(),
                content: Bytes::from(card(resolved).into_bytes()),
            },
        ];
        let commit = client
            .commit(
                &repo,
                files,
                Vec::new(),
                &format!("Publish group {} {}", resolved.name, resolved.version),
                Some(main.sha.as_str()),
            )
            .await?;
        client
            .create_tag(
                &repo,
                &tag,
                &commit,
                &format!("rskill group {}", resolved.version),
            )
            .await?;
        (commit, true)
    };
    if public && main.private {
        client.set_private(&repo, false).await?;
    }
    let collection = match collection_title {
        Some(title) => {
            let mut repos = vec![repo.clone()];
            for m in &resolved.members {
                repos.push(m.id.parse().map_err(HubError::Other)?);
            }
            let out = super::collection::ensure_collection(
                client,
                repo.org(),
                title,
                &resolved.description,
                &repos,
            )
            .await?;
            Some(out.slug)
        }
        None => None,
    };
    Ok(GroupPublished {
        group: resolved.name.clone(),
        version: resolved.version.clone(),
        commit,
        created,
        collection,
    })
}
