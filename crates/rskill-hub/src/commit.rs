//! `POST /api/{models|datasets}/{repo}/commit/{branch}`: the NDJSON commit both Hub clients
//! send. The body is read line by line; each `file` line is base64-decoded in chunks
//! straight into a staged blob, so a commit never needs its decoded files in memory. Only
//! when the whole body has been read and checked is the commit applied, atomically: any
//! error before that (bad line, bad base64, bad path, oversized body) leaves no trace.
//!
//! Lines: `{"key":"header","value":{"summary","description","parentCommit"?}}` first, then
//! any of `file {path, content, encoding:"base64"}`, `lfsFile {path, algo, oid, size}`
//! (a blob that some commit of a repo the committer can read references: blobs are
//! scoped to repos as on the Hub, and an unknown oid and another tenant's oid get the same
//! answer), `deletedFile {path}`, `deletedFolder {path}`.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::app::{App, Ctx, RepoPath, blocking, json_response};
use super::auth::Caller;
use super::body::LineReader;
use super::catalog::{Catalog, CommitOp, CommitRequest, Content, RepoEntry};
use super::errors::{ApiError, HubError};
use super::names::{self, RepoId, RepoKind};
use super::objects;
use super::records::FileEntry;

/// Base64 characters decoded per step (a multiple of 4).
const DECODE_STEP: usize = 256 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderLine {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parent_commit: Option<String>,
}

#[derive(Deserialize)]
struct FileLine<'a> {
    path: String,
    #[serde(borrow)]
    content: Cow<'a, str>,
    #[serde(default)]
    encoding: Option<String>,
}

#[derive(Deserialize)]
struct LfsLine {
    path: String,
    #[serde(default)]
    algo: Option<String>,
    oid: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct PathLine {
    path: String,
}

#[derive(Deserialize)]
#[serde(tag = "key", content = "value", rename_all = "camelCase")]
enum Line<'a> {
    Header(HeaderLine),
    File(#[serde(borrow)] FileLine<'a>),
    LfsFile(LfsLine),
    DeletedFile(PathLine),
    DeletedFolder(PathLine),
}

enum Parsed {
    Header(HeaderLine),
    Op(CommitOp),
}

fn malformed(line_no: usize, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "MalformedNdjson",
        format!("commit line {line_no}: {message}"),
    )
}

fn bad_base64(line_no: usize, path: &str, why: &str) -> ApiError {
    ApiError::bad_request(
        "InvalidBase64",
        format!("commit line {line_no}: content of `{path}` is not valid base64: {why}"),
    )
}

/// Decodes base64 `content` into a staged blob.
fn stage_base64(
    catalog: &Catalog,
    line_no: usize,
    path: &str,
    content: &str,
) -> Result<Content, ApiError> {
    let b = content.as_bytes();
    if !b.len().is_multiple_of(4) {
        return Err(bad_base64(line_no, path, "length is not a multiple of 4"));
    }
    let padding = b.iter().rev().take(2).take_while(|c| **c == b'=').count();
    let decoded_len = (b.len() / 4 * 3 - padding) as u64;
    let mut stager = catalog
        .store()
        .stager(decoded_len)
        .map_err(ApiError::from)?;
    let mut buf = vec![0u8; DECODE_STEP / 4 * 3];
    for chunk in b.chunks(DECODE_STEP) {
        let n = STANDARD
            .decode_slice(chunk, &mut buf)
            .map_err(|e| bad_base64(line_no, path, &e.to_string()))?;
        stager.write(&buf[..n]).map_err(ApiError::from)?;
    }
    Ok(Content::Staged(stager.finish().map_err(ApiError::from)?))
}

fn checked_path(path: &str) -> Result<String, ApiError> {
    names::check_file_path(path).map_err(ApiError::from)?;
    Ok(path.to_owned())
}

/// Parses one line and stages its content. Runs on a blocking thread. `readable` tells
/// whether the committer may read a repo, `uploaded` gives a blob uploaded to the
/// committed repo (an `lfsFile` line may name only blobs of either).
fn process_line(
    catalog: &Catalog,
    readable: &(dyn Fn(&RepoEntry) -> bool + Sync),
    uploaded: &(dyn Fn(&str) -> Option<FileEntry> + Sync),
    line_no: usize,
    line: &[u8],
    header_seen: bool,
) -> Result<Parsed, ApiError> {
    let parsed: Line<'_> = serde_json::from_slice(line).map_err(|e| malformed(line_no, e))?;
    match (&parsed, header_seen) {
        (Line::Header(_), true) => return Err(malformed(line_no, "a second header")),
        (Line::Header(_), false) => {}
        (_, false) => return Err(malformed(line_no, "the first line must be the header")),
        (_, true) => {}
    }
    Ok(match parsed {
        Line::Header(h) => Parsed::Header(h),
        Line::File(f) => {
            let path = checked_path(&f.path)?;
            let content = match f.encoding.as_deref() {
                Some("base64") => stage_base64(catalog, line_no, &path, &f.content)?,
                Some("utf-8") | Some("utf8") => Content::Staged(
                    catalog
                        .store()
                        .stage_bytes(f.content.as_bytes())
                        .map_err(ApiError::from)?,
                ),
                other => {
                    return Err(malformed(
                        line_no,
                        format!("unsupported encoding {other:?} for `{path}` (base64 or utf-8)"),
                    ));
                }
            };
            Parsed::Op(CommitOp::Put { path, content })
        }
        Line::LfsFile(l) => {
            let path = checked_path(&l.path)?;
            if l.algo.as_deref().is_some_and(|a| a != "sha256") {
                return Err(malformed(
                    line_no,
                    format!("unsupported LFS algorithm {:?}", l.algo),
                ));
            }
            if !objects::is_sha256(&l.oid) {
                return Err(malformed(
                    line_no,
                    format!("LFS oid `{}` is not a SHA-256", l.oid),
                ));
            }
            // Unknown blobs and blobs the committer cannot read are answered alike.
            let missing = || ApiError::from(HubError::MissingLfsObject { oid: l.oid.clone() });
            let known = match uploaded(&l.oid) {
                Some(f) => f,
                None => catalog
                    .readable_blob(&l.oid, readable)?
                    .ok_or_else(missing)?,
            };
            let stored = catalog
                .store()
                .blob_size(&l.oid)?
                .filter(|s| *s == known.size)
                .ok_or_else(missing)?;
            if let Some(declared) = l.size
                && declared != stored
            {
                return Err(HubError::LfsSizeMismatch {
                    oid: l.oid,
                    declared,
                    actual: stored,
                }
                .into());
            }
            Parsed::Op(CommitOp::Put {
                path,
                content: Content::Stored(FileEntry {
                    sha256: l.oid,
                    size: stored,
                    git_sha1: known.git_sha1,
                }),
            })
        }
        Line::DeletedFile(p) => Parsed::Op(CommitOp::Delete {
            path: checked_path(&p.path)?,
        }),
        Line::DeletedFolder(p) => Parsed::Op(CommitOp::DeleteFolder {
            path: checked_path(p.path.trim_end_matches('/'))?,
        }),
    })
}

/// Reads and stages every line of the body of a commit to `repo`.
async fn read_ops(
    app: &App,
    repo: (RepoKind, &str),
    caller: &Caller,
    reader: &mut LineReader,
) -> Result<(HeaderLine, Vec<CommitOp>), ApiError> {
    let catalog = &app.catalog;
    let mut header: Option<HeaderLine> = None;
    let mut ops = Vec::new();
    let mut line_no = 0;
    while let Some(line) = reader.next_line().await? {
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let catalog = catalog.clone();
        let header_seen = header.is_some();
        let caller = caller.clone();
        let lfs = app.lfs.clone();
        let (kind, full) = (repo.0, repo.1.to_owned());
        let parsed = tokio::task::spawn_blocking(move || {
            let readable = |e: &RepoEntry| caller.can_see(e);
            let uploaded = |oid: &str| lfs.uploaded(kind, &full, oid);
            process_line(&catalog, &readable, &uploaded, line_no, &line, header_seen)
        })
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServerError",
                format!("a staging task failed: {e}"),
            )
        })??;
        match parsed {
            Parsed::Header(h) => header = Some(h),
            Parsed::Op(op) => ops.push(op),
        }
    }
    let header = header
        .ok_or_else(|| ApiError::bad_request("MalformedNdjson", "the commit has no header line"))?;
    Ok((header, ops))
}

/// Answers a commit request. The caller's right to write the branch is checked before
/// any of the body is read; a refused request is answered without reading it.
pub async fn commit(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
    body: Body,
    limit: u64,
) -> Result<Response, ApiError> {
    let RepoPath { kind, .. } = repo;
    let (id, author) = check(app, ctx, repo, rev)?;
    let mut reader = LineReader::new(body, &ctx.headers, limit, &app.budget)?;
    let full = id.to_string();
    let request =
        match read_request(app, (kind, &full), &ctx.caller, rev, author, &mut reader).await {
            Ok(r) => r,
            Err(e) => {
                reader.drain().await;
                return Err(e);
            }
        };
    check_manage(&ctx.caller, &request)?;
    let catalog = app.catalog.clone();
    let commit_id = {
        let id = id.clone();
        blocking(move || catalog.apply_commit(kind, &id, request))
            .await?
            .id
            .clone()
    };
    Ok(json_response(&json!({
        "commitUrl": format!("{}/{}{}/commit/{}", ctx.base, kind.url_prefix(), id, commit_id),
        "commitOid": commit_id,
        "success": true,
        "pullRequestUrl": null,
    })))
}

/// A commit touching the governance files (`rskill.registry.json`: statuses and aliases;
/// `rskill.registry.sig`: its signed state) needs the manage right, whoever the client
/// is: the server enforces it, so a write token can neither edit the registry nor strip
/// or swap its signature.
fn check_manage(caller: &Caller, request: &CommitRequest) -> Result<(), ApiError> {
    let files = [
        rskill_hub_protocol::REGISTRY_FILE,
        rskill_signing::GOVERNANCE_SIGNATURE_FILE,
    ];
    let touched = request.ops.iter().find_map(|op| {
        files.into_iter().find(|file| match op {
            CommitOp::Put { path, .. } | CommitOp::Delete { path } => path == file,
            CommitOp::DeleteFolder { path } => {
                path.is_empty() || file.starts_with(&format!("{path}/"))
            }
        })
    });
    match (caller.identity(), touched) {
        (Some(i), Some(file)) if !i.manage => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ManageRightRequired",
            format!(
                "changing {file} (version statuses, aliases and their signed state) needs the manage right, and the token of `{}` has none; create one with `rskill-hub token create … --manage`",
                i.user
            ),
        )),
        _ => Ok(()),
    }
}

/// The repo and the committing user, if the caller may commit to branch `rev`.
fn check(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    rev: &str,
) -> Result<(RepoId, String), ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let id = RepoId::new(owner, name).map_err(ApiError::from)?;
    let full = id.to_string();
    let entry = app.catalog.get(kind, &full);
    let entry = ctx.caller.see(entry.as_deref(), &full)?;
    let author = ctx.caller.require_write(id.owner())?.user.clone();
    if ctx.query.flag("create_pr") {
        return Err(ApiError::bad_request(
            "PullRequestsUnsupported",
            "this server does not host pull requests; commit to a branch",
        ));
    }
    if !entry.refs.branches.contains_key(rev) {
        let e = if entry.refs.tags.contains_key(rev) || names::is_commit_id(rev) {
            HubError::NotABranch {
                repo: full,
                rev: rev.to_owned(),
            }
        } else {
            HubError::RevisionNotFound {
                repo: full,
                rev: rev.to_owned(),
            }
        };
        return Err(e.into());
    }
    Ok((id, author))
}

async fn read_request(
    app: &App,
    repo: (RepoKind, &str),
    caller: &Caller,
    rev: &str,
    author: String,
    reader: &mut LineReader,
) -> Result<CommitRequest, ApiError> {
    let (header, ops) = read_ops(app, repo, caller, reader).await?;
    let summary = header
        .summary
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "Commit via API".into());
    Ok(CommitRequest {
        branch: rev.to_owned(),
        parent: header.parent_commit,
        author,
        summary,
        description: header.description.unwrap_or_default(),
        ops,
    })
}
