//! Repo-level endpoints: create and delete repos, repo info (at a revision), settings
//! (visibility, gating), refs, tags, branches, commit history, and `whoami-v2`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Ctx, RepoPath, blocking, json_response};
use super::body;
use super::catalog::{RepoEntry, SettingsChange};
use super::errors::ApiError;
use super::immutable::Actor;
use super::names::{RepoId, RepoKind};
use super::render::{self, RepoFields};

/// The repo if the caller may see it.
pub fn visible(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
) -> Result<(RepoId, std::sync::Arc<RepoEntry>), ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let id = RepoId::new(owner, name).map_err(ApiError::from)?;
    let full = id.to_string();
    let entry = app.catalog.get(kind, &full);
    ctx.caller.see(entry.as_deref(), &full)?;
    Ok((id, entry.expect("seen repos exist")))
}

/// The caller of a writing route, as the catalog's immutability checks see it.
fn actor(ctx: &Ctx) -> Result<Actor, ApiError> {
    Ok(Actor::from(ctx.caller.require_user()?))
}

/// The repo if the caller may write it.
pub fn writable(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
) -> Result<(RepoId, std::sync::Arc<RepoEntry>, String), ApiError> {
    let (id, entry) = visible(app, ctx, repo)?;
    let user = ctx.caller.require_write(id.owner())?.user.clone();
    Ok((id, entry, user))
}

/// `GET /api/{t}/{repo}[/revision/{rev}]`.
pub async fn info(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: Option<&str>,
) -> Result<Response, ApiError> {
    let (_, entry) = visible(app, ctx, repo)?;
    let catalog = app.catalog.clone();
    let rev = rev.unwrap_or("main").to_owned();
    let e = entry.clone();
    let (commit, head) = blocking(move || {
        let commit = catalog.resolve(&e, &rev)?.commit;
        let head = if commit.id == e.head.commit {
            e.head.clone()
        } else {
            catalog.summarize(&commit)
        };
        Ok((commit, head))
    })
    .await?;
    let expand: Vec<String> = ctx
        .query
        .all("expand")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let fields = RepoFields {
        card_data: true,
        siblings: true,
        only: (!expand.is_empty()).then_some(expand),
    };
    Ok(json_response(&render::repo_json(
        &entry,
        &head,
        Some(&commit.record.files),
        &fields,
    )))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
}

fn kind_of(kind: Option<&str>) -> Result<RepoKind, ApiError> {
    match kind {
        None | Some("") => Ok(RepoKind::Model),
        Some(k) => RepoKind::from_singular(k).ok_or_else(|| {
            ApiError::bad_request(
                "UnsupportedRepoType",
                format!("repo type `{k}` is not hosted here (model or dataset)"),
            )
        }),
    }
}

fn private_of(private: Option<bool>, visibility: Option<&str>) -> Result<Option<bool>, ApiError> {
    match visibility {
        None => Ok(private),
        Some("private") => Ok(Some(true)),
        Some("public") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(
            "InvalidVisibility",
            format!("visibility must be public or private, not `{other}`"),
        )),
    }
}

/// `POST /api/repos/create`.
pub async fn create_repo(app: &App, ctx: &Ctx, raw: &[u8]) -> Result<Response, ApiError> {
    let req: CreateBody = body::parse_json(raw)?;
    let kind = kind_of(req.kind.as_deref())?;
    let user = ctx.caller.require_user()?.user.clone();
    let (owner, name) = match (&req.organization, req.name.split_once('/')) {
        (Some(org), _) => (org.clone(), req.name.clone()),
        (None, Some((o, n))) => (o.to_owned(), n.to_owned()),
        (None, None) => (user.clone(), req.name.clone()),
    };
    let id = RepoId::new(&owner, &name).map_err(ApiError::from)?;
    ctx.caller.require_write(id.owner())?;
    // Namespaces are unique regardless of case: `ACME` is `acme`'s namespace when that
    // exists, and a caller who may not write `acme` is refused whatever the repo name, so
    // the answer tells nothing of which repos exist there.
    if let Some(existing) = app.catalog.namespace_spelling(id.owner())
        && existing != id.owner()
        && !ctx
            .caller
            .identity()
            .is_some_and(|i| i.can_write(&existing))
    {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "`{}` is the namespace `{existing}` (names are unique regardless of case), \
                 which `{user}` may not write",
                id.owner()
            ),
        ));
    }
    let private = private_of(req.private, req.visibility.as_deref())?.unwrap_or(false);
    let url = format!("{}/{}{}", ctx.base, kind.url_prefix(), id);
    let catalog = app.catalog.clone();
    let created = {
        let id = id.clone();
        blocking(move || catalog.create_repo(kind, &id, private, &user)).await
    };
    match created {
        Ok(entry) => Ok(json_response(&json!({
            "url": url,
            "name": entry.full_id,
            "id": render::object_id(&super::catalog::repo_key(kind, &id)),
        }))),
        Err(e) if e.code == "RepoExists" => Err(e.with_field("url", Value::String(url))),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct DeleteBody {
    name: String,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// `DELETE /api/repos/delete`.
pub async fn delete_repo(app: &App, ctx: &Ctx, raw: &[u8]) -> Result<Response, ApiError> {
    let req: DeleteBody = body::parse_json(raw)?;
    let kind = kind_of(req.kind.as_deref())?;
    let (owner, name) = match (&req.organization, req.name.split_once('/')) {
        (Some(org), _) => (org.clone(), req.name.clone()),
        (None, Some((o, n))) => (o.to_owned(), n.to_owned()),
        (None, None) => (ctx.caller.require_user()?.user.clone(), req.name.clone()),
    };
    let (id, _, _) = writable(
        app,
        ctx,
        RepoPath {
            kind,
            owner: &owner,
            name: &name,
        },
    )?;
    let actor = actor(ctx)?;
    let catalog = app.catalog.clone();
    blocking(move || catalog.delete_repo(kind, &id, &actor)).await?;
    Ok(json_response(&json!({})))
}

/// `PUT /api/{t}/{repo}/settings`.
pub async fn settings(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    raw: &[u8],
) -> Result<Response, ApiError> {
    let RepoPath { kind, .. } = repo;
    let (id, _, _) = writable(app, ctx, repo)?;
    let body: Value = body::parse_json(raw)?;
    let Value::Object(map) = body else {
        return Err(ApiError::bad_request(
            "MalformedJson",
            "settings must be a JSON object",
        ));
    };
    let bad = |key: &str, want: &str| {
        ApiError::bad_request("InvalidSetting", format!("`{key}` must be {want}"))
    };
    let mut change = SettingsChange::default();
    if let Some(v) = map.get("private") {
        change.private = Some(v.as_bool().ok_or_else(|| bad("private", "a boolean"))?);
    }
    if let Some(v) = map.get("visibility") {
        let v = v
            .as_str()
            .ok_or_else(|| bad("visibility", "public or private"))?;
        change.private = private_of(None, Some(v))?;
    }
    if let Some(v) = map.get("gated") {
        change.gated = Some(match v {
            Value::Bool(false) => None,
            Value::String(s) if s == "auto" || s == "manual" => Some(s.clone()),
            _ => return Err(bad("gated", "false, \"auto\" or \"manual\"")),
        });
    }
    if let Some(v) = map.get("description") {
        change.description = Some(
            v.as_str()
                .ok_or_else(|| bad("description", "a string"))?
                .to_owned(),
        );
    }
    if let Some(v) = map.get("discussionsDisabled") {
        change.discussions_disabled = Some(
            v.as_bool()
                .ok_or_else(|| bad("discussionsDisabled", "a boolean"))?,
        );
    }
    if change.private.is_none()
        && change.gated.is_none()
        && change.description.is_none()
        && change.discussions_disabled.is_none()
    {
        return Err(ApiError::bad_request(
            "NoSettings",
            "no setting to change (private, visibility, gated, description, discussionsDisabled)",
        ));
    }
    let catalog = app.catalog.clone();
    let entry = blocking(move || catalog.update_settings(kind, &id, change)).await?;
    Ok(json_response(
        &json!({ "private": entry.meta.private, "gated": entry.meta.gated.clone().map_or(Value::Bool(false), Value::String) }),
    ))
}

/// `GET /api/{t}/{repo}/refs`.
pub fn refs(app: &App, ctx: &Ctx, repo: RepoPath<'_>) -> Result<Response, ApiError> {
    let (_, entry) = visible(app, ctx, repo)?;
    Ok(json_response(&render::refs_json(&entry)))
}

#[derive(Deserialize)]
struct TagBody {
    tag: String,
    #[serde(default)]
    message: Option<String>,
}

/// `POST /api/{t}/{repo}/tag/{rev}` (create) and `DELETE …/tag/{tag}`.
pub async fn tag(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
    delete: bool,
    raw: &[u8],
) -> Result<Response, ApiError> {
    let RepoPath { kind, .. } = repo;
    let (id, _, _) = writable(app, ctx, repo)?;
    let actor = actor(ctx)?;
    let catalog = app.catalog.clone();
    let rev = rev.to_owned();
    if delete {
        blocking(move || catalog.delete_tag(kind, &id, &rev, &actor)).await?;
        return Ok(json_response(&json!({})));
    }
    let req: TagBody = body::parse_json(raw)?;
    let tag = req.tag.clone();
    let entry =
        blocking(move || catalog.create_tag(kind, &id, &rev, &req.tag, req.message, &actor))
            .await?;
    let target = entry.refs.tags.get(&tag).map(|t| t.commit.clone());
    Ok(json_response(
        &json!({ "name": tag, "ref": format!("refs/tags/{tag}"), "targetCommit": target }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BranchBody {
    #[serde(default)]
    starting_point: Option<String>,
}

/// `POST /api/{t}/{repo}/branch/{name}` (create) and `DELETE …/branch/{name}`.
pub async fn branch(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    branch: &str,
    delete: bool,
    raw: &[u8],
) -> Result<Response, ApiError> {
    let RepoPath { kind, .. } = repo;
    let (id, _, _) = writable(app, ctx, repo)?;
    let catalog = app.catalog.clone();
    let branch = branch.to_owned();
    if delete {
        blocking(move || catalog.delete_branch(kind, &id, &branch)).await?;
        return Ok(json_response(&json!({})));
    }
    let req: BranchBody = body::parse_json(raw)?;
    let b = branch.clone();
    let entry =
        blocking(move || catalog.create_branch(kind, &id, &b, req.starting_point.as_deref()))
            .await?;
    let target = entry.refs.branches.get(&branch).cloned();
    Ok(json_response(
        &json!({ "name": branch, "ref": format!("refs/heads/{branch}"), "targetCommit": target }),
    ))
}

/// `GET /api/{t}/{repo}/commits/{rev}`: first-parent history, newest first.
pub async fn commits(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
) -> Result<Response, ApiError> {
    let (_, entry) = visible(app, ctx, repo)?;
    let limit = ctx.query.limit(1000)?;
    let catalog = app.catalog.clone();
    let rev = rev.to_owned();
    let history = blocking(move || {
        let head = catalog.resolve(&entry, &rev)?.commit;
        catalog.history(&entry, head, limit)
    })
    .await?;
    let body: Vec<Value> = history
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.record.summary,
                "message": c.record.description,
                "authors": [{ "user": c.record.author }],
                "date": c.record.date,
                "parents": c.record.parents,
            })
        })
        .collect();
    Ok(json_response(&Value::Array(body)))
}

/// `GET /api/whoami-v2`.
pub fn whoami(ctx: &Ctx) -> Result<Response, ApiError> {
    let me = ctx.caller.require_user()?;
    let role = if me.write { "write" } else { "read" };
    let orgs: Vec<Value> = me
        .orgs
        .iter()
        .map(|o| json!({ "type": "org", "name": o, "fullname": o, "roleInOrg": role }))
        .collect();
    Ok(json_response(&json!({
        "type": "user",
        "id": render::object_id(&format!("user/{}", me.user)),
        "name": me.user,
        "fullname": me.user,
        "isPro": false,
        "canPay": false,
        "orgs": orgs,
        "auth": {
            "type": "access_token",
            "accessToken": { "displayName": "rskill-hub token", "role": role },
        },
    })))
}
