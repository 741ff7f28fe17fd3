//! File-level metadata endpoints: the tree of a revision (paginated like the Hub, with a
//! `Link` header), paths-info for a set of paths, and preupload, which tells clients
//! which files go through LFS (the Hub's rule: LFS-sized or LFS-named files, and paths
//! the branch's `.gitattributes` sends to LFS) and which go inline ("regular").

use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Ctx, RepoPath, blocking, json_response};
use super::body;
use super::errors::ApiError;
use super::names::{self, RepoId};
use super::objects::{self, LfsAttributes};
use super::records::Commit;
use super::render;

/// Tree entries per page.
const TREE_PAGE: usize = 1000;
/// Paths per paths-info or preupload request.
const MAX_PATHS: usize = 10_000;

async fn commit_at(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
) -> Result<std::sync::Arc<Commit>, ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let id = RepoId::new(owner, name).map_err(ApiError::from)?;
    let full = id.to_string();
    let entry = app.catalog.get(kind, &full);
    ctx.caller.see(entry.as_deref(), &full)?;
    let entry = entry.expect("seen repos exist");
    let catalog = app.catalog.clone();
    let rev = rev.to_owned();
    Ok(blocking(move || catalog.resolve(&entry, &rev))
        .await?
        .commit)
}

/// `GET /api/{t}/{repo}/tree/{rev}[/{path}]?recursive=…`.
pub async fn tree(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let dir = path.trim_end_matches('/');
    if !dir.is_empty() {
        names::check_file_path(dir).map_err(ApiError::from)?;
    }
    let commit = commit_at(app, ctx, repo, rev).await?;
    let recursive = ctx.query.flag("recursive");
    let Some(entries) = render::tree_entries(&commit.record.files, dir, recursive) else {
        return Err(super::errors::HubError::EntryNotFound {
            repo: format!("{owner}/{name}"),
            path: dir.to_owned(),
            commit: commit.id.clone(),
        }
        .into());
    };
    let start = match ctx.query.get("cursor") {
        None | Some("") => 0,
        Some(c) => URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::bad_request("InvalidCursor", "the cursor is not one this server issued")
            })?,
    };
    let page_size = ctx.query.limit(TREE_PAGE)?;
    let end = start.saturating_add(page_size).min(entries.len());
    let page: Vec<Value> = entries
        .get(start.min(end)..end)
        .unwrap_or_default()
        .to_vec();
    let mut response = json_response(&Value::Array(page));
    if end < entries.len() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in ctx.query.0.iter().filter(|(k, _)| k != "cursor") {
            query.append_pair(k, v);
        }
        query.append_pair("cursor", &URL_SAFE_NO_PAD.encode(end.to_string()));
        let mut url = format!(
            "{}/api/{}/{owner}/{name}/tree/{}",
            ctx.base,
            kind.plural(),
            percent_encoding::utf8_percent_encode(rev, percent_encoding::NON_ALPHANUMERIC)
        );
        for seg in dir.split('/').filter(|s| !s.is_empty()) {
            url.push('/');
            url.extend(percent_encoding::utf8_percent_encode(
                seg,
                percent_encoding::NON_ALPHANUMERIC,
            ));
        }
        let link = format!("<{url}?{}>; rel=\"next\"", query.finish());
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
struct PathsBody {
    #[serde(default)]
    paths: Vec<String>,
}

/// `POST /api/{t}/{repo}/paths-info/{rev}` with `{"paths": […]}` as JSON or as a form.
pub async fn paths_info(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
    raw: &[u8],
) -> Result<Response, ApiError> {
    let paths: Vec<String> = if body::is_form(&ctx.headers) {
        body::pairs(raw)
            .into_iter()
            .filter(|(k, _)| k == "paths" || k == "paths[]")
            .map(|(_, v)| v)
            .collect()
    } else {
        body::parse_json::<PathsBody>(raw)?.paths
    };
    if paths.len() > MAX_PATHS {
        return Err(ApiError::bad_request(
            "TooManyPaths",
            format!("at most {MAX_PATHS} paths per request"),
        ));
    }
    for p in &paths {
        names::check_file_path(p.trim_end_matches('/')).map_err(ApiError::from)?;
    }
    let commit = commit_at(app, ctx, repo, rev).await?;
    let found: Vec<Value> = paths
        .iter()
        .filter_map(|p| render::path_info(&commit.record.files, p.trim_end_matches('/')))
        .collect();
    Ok(json_response(&Value::Array(found)))
}

#[derive(Deserialize)]
struct PreuploadFile {
    path: String,
    #[serde(default)]
    size: Option<u64>,
}

/// `.gitattributes` files larger than this are not read.
const MAX_GITATTRIBUTES: u64 = 1024 * 1024;

#[derive(Deserialize)]
struct PreuploadBody {
    files: Vec<PreuploadFile>,
}

/// `POST /api/{t}/{repo}/preupload/{rev}`: `uploadMode` is `lfs` for non-empty files that
/// [`objects::is_lfs`] or the branch's `.gitattributes` send to LFS, `regular` (inline)
/// otherwise; `oid` is the git blob id of the file already at that path, so clients skip
/// unchanged files.
pub async fn preupload(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
    raw: &[u8],
) -> Result<Response, ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let req: PreuploadBody = body::parse_json(raw)?;
    if req.files.len() > MAX_PATHS {
        return Err(ApiError::bad_request(
            "TooManyPaths",
            format!("at most {MAX_PATHS} files per request"),
        ));
    }
    for f in &req.files {
        names::check_file_path(&f.path).map_err(ApiError::from)?;
    }
    let id = RepoId::new(owner, name).map_err(ApiError::from)?;
    let full = id.to_string();
    ctx.caller
        .see(app.catalog.get(kind, &full).as_deref(), &full)?;
    ctx.caller.require_write(id.owner())?;
    let commit = commit_at(app, ctx, repo, rev).await?;
    let attributes = match commit.record.files.get(".gitattributes") {
        Some(f) if f.size <= MAX_GITATTRIBUTES => {
            let catalog = app.catalog.clone();
            let sha = f.sha256.clone();
            let text =
                blocking(move || Ok(catalog.store().blobs().read_small(&sha, MAX_GITATTRIBUTES)))
                    .await?;
            LfsAttributes::parse(&String::from_utf8_lossy(&text.unwrap_or_default()))
        }
        _ => LfsAttributes::default(),
    };
    let files: Vec<Value> = req
        .files
        .iter()
        .map(|f| {
            let size = f.size.unwrap_or(0);
            let lfs = size > 0 && (objects::is_lfs(&f.path, size) || attributes.is_lfs(&f.path));
            let mode = if lfs { "lfs" } else { "regular" };
            let mut v = json!({ "path": f.path, "uploadMode": mode, "shouldIgnore": false });
            if let Some(existing) = commit.record.files.get(&f.path) {
                v["oid"] = Value::String(existing.git_sha1.clone());
            }
            v
        })
        .collect();
    Ok(json_response(
        &json!({ "files": files, "commitOid": commit.id }),
    ))
}
