//! The Git LFS batch API (basic transfer, `upload` and `verify` actions), so Hub clients
//! send large files as a stream instead of base64 inside the NDJSON commit:
//!
//! 1. `POST /{prefix}{repo}.git/info/lfs/objects/batch` (write right on the repo): for
//!    each `{oid, size}`, no action if the caller's repo already has the blob (uploaded
//!    to it, or referenced by a repo the caller can read), otherwise an `upload` href
//!    carrying a short-lived random ticket and a `verify` href. A blob stored for
//!    another tenant is asked for again, so the answer tells nothing about other repos.
//! 2. `PUT /api/lfs/upload/{ticket}`: the ticket (not the Hub token, which
//!    huggingface_hub does not send there) names repo, oid, size and uploader; the body
//!    streams into the blob store while hashed and becomes a blob only if size and
//!    SHA-256 match. The blob is then recorded as uploaded to that repo, which lets the
//!    next commit's `lfsFile` lines name it.
//! 3. `POST /{prefix}{repo}.git/info/lfs/objects/verify` with `{oid, size}`.
//!
//! Everything is bounded: batch bodies, objects per batch, live tickets and their
//! lifetime, uploads remembered per server, and each upload body to its declared size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Ctx, RepoPath, blocking};
use super::body::{self, RequestBody};
use super::errors::{ApiError, HubError};
use super::names::{RepoId, RepoKind};
use super::objects;
use super::records::FileEntry;

/// Largest batch request body.
pub const MAX_BATCH_BODY: u64 = 1024 * 1024;
/// Objects per batch request (huggingface_hub sends at most 256).
pub const MAX_BATCH_OBJECTS: usize = 1000;
/// Live upload tickets at once.
pub const MAX_TICKETS: usize = 100_000;
/// Uploaded-but-maybe-uncommitted blobs remembered at once (oldest dropped first).
pub const MAX_UPLOADS: usize = 100_000;
/// Default lifetime of an upload ticket (the PUT must start before it ends).
pub const DEFAULT_TICKET_TTL: Duration = Duration::from_secs(15 * 60);
/// Default lifetime of a presigned download URL.
pub const DEFAULT_PRESIGN_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// Largest single LFS object accepted by default: 64 GiB.
pub const DEFAULT_MAX_OBJECT: u64 = 64 * 1024 * 1024 * 1024;

const LFS_JSON: &str = "application/vnd.git-lfs+json";

/// What a ticket allows: one PUT of one blob into one repo.
#[derive(Debug, Clone)]
struct Ticket {
    kind: RepoKind,
    repo: String,
    oid: String,
    size: u64,
    uploader: String,
    expires: Instant,
}

type RepoKey = (RepoKind, String);

/// Uploaded blobs per repo (oid → insertion number and entry), with the last insertion
/// number given.
#[derive(Default)]
struct Uploads {
    counter: u64,
    by_repo: HashMap<RepoKey, HashMap<String, (u64, FileEntry)>>,
}

/// Tickets and uploads of a running server.
pub struct Lfs {
    tickets: Mutex<HashMap<String, Ticket>>,
    /// repo → oid → the uploaded blob, with an insertion counter for eviction.
    uploads: Mutex<Uploads>,
    pub ticket_ttl: Duration,
    pub max_object: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Lfs {
    pub fn new(ticket_ttl: Duration, max_object: u64) -> Self {
        Lfs {
            tickets: Mutex::new(HashMap::new()),
            uploads: Mutex::new(Uploads::default()),
            ticket_ttl,
            max_object,
        }
    }

    fn issue(&self, ticket: Ticket) -> Result<String, ApiError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServerError",
                format!("no randomness for an upload ticket: {e}"),
            )
        })?;
        let id = hex::encode(raw);
        let mut tickets = lock(&self.tickets);
        if tickets.len() >= MAX_TICKETS {
            let now = Instant::now();
            tickets.retain(|_, t| t.expires > now);
        }
        if tickets.len() >= MAX_TICKETS {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TooManyUploads",
                format!("{MAX_TICKETS} uploads are pending; retry later"),
            ));
        }
        tickets.insert(id.clone(), ticket);
        Ok(id)
    }

    /// The live ticket with this id (expired ones are dropped).
    fn ticket(&self, id: &str) -> Option<Ticket> {
        let mut tickets = lock(&self.tickets);
        let t = tickets.get(id)?.clone();
        if t.expires <= Instant::now() {
            tickets.remove(id);
            return None;
        }
        Some(t)
    }

    fn record(&self, key: RepoKey, file: FileEntry) {
        let mut guard = lock(&self.uploads);
        let Uploads {
            counter,
            by_repo: uploads,
        } = &mut *guard;
        *counter += 1;
        let total: usize = uploads.values().map(HashMap::len).sum();
        if total >= MAX_UPLOADS {
            // Forget the oldest upload (its blob stays stored; a batch asks for it again).
            let oldest = uploads
                .iter()
                .flat_map(|(k, m)| {
                    m.iter()
                        .map(move |(oid, (n, _))| (*n, k.clone(), oid.clone()))
                })
                .min_by_key(|(n, _, _)| *n);
            if let Some((_, k, oid)) = oldest
                && let Some(m) = uploads.get_mut(&k)
            {
                m.remove(&oid);
            }
        }
        let n = *counter;
        uploads
            .entry(key)
            .or_default()
            .insert(file.sha256.clone(), (n, file));
    }

    /// The blob `oid` as uploaded to this repo, if it was.
    pub fn uploaded(&self, kind: RepoKind, repo: &str, oid: &str) -> Option<FileEntry> {
        lock(&self.uploads)
            .by_repo
            .get(&(kind, repo.to_owned()))
            .and_then(|m| m.get(oid))
            .map(|(_, f)| f.clone())
    }
}

#[derive(Deserialize)]
struct BatchRequest {
    operation: String,
    #[serde(default)]
    transfers: Option<Vec<String>>,
    objects: Vec<BatchObject>,
    #[serde(default)]
    hash_algo: Option<String>,
}

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    size: u64,
}

#[derive(Deserialize)]
struct VerifyRequest {
    oid: String,
    size: u64,
}

fn lfs_json(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(LFS_JSON))],
        value.to_string(),
    )
        .into_response()
}

/// The repo of an LFS path, if the caller may write it.
fn writable_repo(app: &App, ctx: &Ctx, repo: RepoPath<'_>) -> Result<(RepoId, String), ApiError> {
    let id = RepoId::new(repo.owner, repo.name).map_err(ApiError::from)?;
    let full = id.to_string();
    ctx.caller
        .see(app.catalog.get(repo.kind, &full).as_deref(), &full)?;
    let user = ctx.caller.require_write(id.owner())?.user.clone();
    Ok((id, user))
}

/// The blob as the caller's repo already has it: uploaded to it, or referenced by a repo
/// the caller can read.
async fn present(
    app: &App,
    ctx: &Ctx,
    kind: RepoKind,
    full: &str,
    oid: &str,
) -> Result<Option<FileEntry>, ApiError> {
    if let Some(f) = app.lfs.uploaded(kind, full, oid) {
        return Ok(Some(f));
    }
    let catalog = app.catalog.clone();
    let caller = ctx.caller.clone();
    let oid = oid.to_owned();
    blocking(move || catalog.readable_blob(&oid, |e| caller.can_see(e))).await
}

/// `POST /{prefix}{repo}.git/info/lfs/objects/batch`.
pub async fn batch(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    body: RequestBody,
) -> Result<Response, ApiError> {
    let (id, user) = writable_repo(app, ctx, repo)?;
    let full = id.to_string();
    let raw = body::read_limited(body.take(), &ctx.headers, MAX_BATCH_BODY, &app.budget).await?;
    let req: BatchRequest = body::parse_json(&raw)?;
    if req.operation != "upload" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnsupportedOperation",
            format!(
                "LFS operation `{}` is not served: downloads go through /resolve",
                req.operation
            ),
        ));
    }
    if let Some(t) = &req.transfers
        && !t.iter().any(|t| t == "basic")
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnsupportedTransfer",
            format!("this server speaks the `basic` LFS transfer only, not {t:?}"),
        ));
    }
    if req.hash_algo.as_deref().is_some_and(|h| h != "sha256") {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnsupportedHashAlgo",
            "LFS objects are named by sha256",
        ));
    }
    if req.objects.len() > MAX_BATCH_OBJECTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TooManyObjects",
            format!(
                "{} objects in one batch; at most {MAX_BATCH_OBJECTS}",
                req.objects.len()
            ),
        ));
    }
    let prefix = repo.kind.url_prefix();
    let verify_href = format!("{}/{prefix}{full}.git/info/lfs/objects/verify", ctx.base);
    let mut objects = Vec::with_capacity(req.objects.len());
    for o in req.objects {
        let error = |code: u16, message: String| json!({"oid": o.oid, "size": o.size, "error": {"code": code, "message": message}});
        if !objects::is_sha256(&o.oid) {
            objects.push(error(422, format!("oid `{}` is not a SHA-256", o.oid)));
            continue;
        }
        if o.size > app.lfs.max_object {
            objects.push(error(
                422,
                format!(
                    "{} bytes is over this server's {} byte limit per object",
                    o.size, app.lfs.max_object
                ),
            ));
            continue;
        }
        if present(app, ctx, repo.kind, &full, &o.oid)
            .await?
            .is_some_and(|f| f.size == o.size)
        {
            objects.push(json!({"oid": o.oid, "size": o.size, "authenticated": true}));
            continue;
        }
        let ticket = app.lfs.issue(Ticket {
            kind: repo.kind,
            repo: full.clone(),
            oid: o.oid.clone(),
            size: o.size,
            uploader: user.clone(),
            expires: Instant::now() + app.lfs.ticket_ttl,
        })?;
        objects.push(json!({
            "oid": o.oid,
            "size": o.size,
            "authenticated": true,
            "actions": {
                "upload": {
                    "href": format!("{}/api/lfs/upload/{ticket}", ctx.base),
                    "expires_in": app.lfs.ticket_ttl.as_secs(),
                },
                "verify": { "href": verify_href, "header": {} },
            },
        }));
    }
    Ok(lfs_json(
        StatusCode::OK,
        &json!({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}),
    ))
}

fn bad_ticket() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "InvalidUploadTicket",
        "this upload link is unknown or expired; ask the LFS batch endpoint for a new one",
    )
}

/// `PUT /api/lfs/upload/{ticket}`: streams the body into the blob store.
pub async fn upload(
    app: &App,
    ctx: &Ctx,
    ticket_id: &str,
    body: Body,
) -> Result<Response, ApiError> {
    if !objects::is_sha256(ticket_id) {
        body::discard(body);
        return Err(bad_ticket());
    }
    let Some(ticket) = app.lfs.ticket(ticket_id) else {
        body::discard(body);
        return Err(bad_ticket());
    };
    if let Some(n) = body::declared_length(&ctx.headers)
        && n != ticket.size
    {
        body::discard(body);
        return Err(HubError::UploadMismatch {
            oid: ticket.oid,
            why: format!(
                "Content-Length {n} is not the announced size {}",
                ticket.size
            ),
        }
        .into());
    }
    let mut upload = app
        .catalog
        .store()
        .blobs()
        .upload(&ticket.oid, ticket.size)
        .await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                upload.abort().await;
                return Err(ApiError::bad_request(
                    "BadRequest",
                    format!("reading the upload of {}: {e}", ticket.oid),
                ));
            }
        };
        if let Err(e) = upload.write(chunk).await {
            upload.abort().await;
            return Err(e.into());
        }
    }
    let stored = upload.finish().await?;
    lock(&app.lfs.tickets).remove(ticket_id);
    app.lfs.record(
        (ticket.kind, ticket.repo.clone()),
        FileEntry {
            sha256: stored.sha256,
            size: stored.size,
            git_sha1: stored.git_sha1,
        },
    );
    Ok(lfs_json(
        StatusCode::OK,
        &json!({"oid": ticket.oid, "size": ticket.size, "uploadedBy": ticket.uploader}),
    ))
}

/// `POST /{prefix}{repo}.git/info/lfs/objects/verify`.
pub async fn verify(
    app: &App,
    ctx: &Ctx,
    repo: RepoPath<'_>,
    body: RequestBody,
) -> Result<Response, ApiError> {
    let (id, _) = writable_repo(app, ctx, repo)?;
    let full = id.to_string();
    let raw = body::read_limited(
        body.take(),
        &ctx.headers,
        body::ANONYMOUS_BODY_LIMIT,
        &app.budget,
    )
    .await?;
    let req: VerifyRequest = body::parse_json(&raw)?;
    if !objects::is_sha256(&req.oid) {
        return Err(ApiError::bad_request(
            "InvalidOid",
            format!("oid `{}` is not a SHA-256", req.oid),
        ));
    }
    match present(app, ctx, repo.kind, &full, &req.oid).await? {
        Some(f) if f.size == req.size => Ok(lfs_json(StatusCode::OK, &json!({}))),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "LfsObjectNotFound",
            format!(
                "LFS object {} ({} bytes) was not uploaded to {full}",
                req.oid, req.size
            ),
        )),
    }
}
