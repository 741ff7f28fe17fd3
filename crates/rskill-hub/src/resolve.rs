//! `HEAD|GET /{repo}/resolve/{rev}/{path}`: a file's bytes at a branch, tag or commit,
//! with the headers Hub clients cache by (`X-Repo-Commit`, quoted `ETag` /
//! `X-Linked-Etag`, sizes), conditional requests, and byte ranges (206). The blob is
//! streamed from the blob store in fixed-size chunks, so memory stays flat whatever the
//! file size. With an object store backend, LFS files are not streamed: the answer is a
//! `302` to a short-lived presigned URL of the store (as huggingface.co redirects to its
//! CDN), carrying the same headers; access is checked before any URL is made.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::app::{App, Ctx, RepoPath, blocking};
use super::errors::{ApiError, HubError};
use super::names::{self, RepoId};

/// What part of a file a `Range` header asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeSpec {
    Full,
    /// Inclusive byte bounds.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header against a file of `size` bytes. Only single `bytes=` ranges
/// are honoured; anything else is ignored (the whole file is sent), as HTTP allows.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeSpec {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeSpec::Full;
    };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeSpec::Full;
            };
            let end = if b.is_empty() {
                u64::MAX
            } else {
                match num(b) {
                    Some(e) if e >= start => e,
                    _ => return RangeSpec::Full,
                }
            };
            if start >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Part(start, end.min(size - 1))
            }
        }
        (true, false) => match num(b) {
            Some(0) => RangeSpec::Unsatisfiable,
            Some(_) if size == 0 => RangeSpec::Unsatisfiable,
            Some(n) => RangeSpec::Part(size.saturating_sub(n), size - 1),
            None => RangeSpec::Full,
        },
        (true, true) => RangeSpec::Full,
    }
}

fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => "application/json",
        "md" | "txt" | "yaml" | "yml" | "csv" | "py" | "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|candidate| {
        let c = candidate.trim();
        let c = c.strip_prefix("W/").unwrap_or(c);
        c == "*" || c.trim_matches('"') == etag
    })
}

/// Answers a resolve request.
pub async fn resolve(
    app: &App,
    ctx: &Ctx,
    method: &Method,
    repo: RepoPath<'_>,
    rev: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let RepoPath { kind, owner, name } = repo;
    let id = RepoId::new(owner, name).map_err(ApiError::from)?;
    names::check_file_path(path).map_err(ApiError::from)?;
    let full = id.to_string();
    let entry = app.catalog.get(kind, &full);
    ctx.caller.see(entry.as_deref(), &full)?;
    let entry = entry.expect("seen repos exist");
    let catalog = app.catalog.clone();
    let rev_owned = rev.to_owned();
    let resolved = {
        let entry = entry.clone();
        blocking(move || catalog.resolve(&entry, &rev_owned)).await?
    };
    let commit = resolved.commit;
    let Some(file) = commit.record.files.get(path) else {
        return Err(HubError::EntryNotFound {
            repo: full,
            path: path.to_owned(),
            commit: commit.id.clone(),
        }
        .into());
    };
    let view = file.view(path);
    let etag = format!("\"{}\"", view.etag());
    let mut builder = Response::builder()
        .header("x-repo-commit", commit.id.as_str())
        .header(header::ETAG, etag.as_str())
        .header(header::ACCEPT_RANGES, "bytes");
    if view.is_lfs() {
        builder = builder
            .header("x-linked-etag", etag.as_str())
            .header("x-linked-size", view.size.to_string());
    }
    if let Some(inm) = ctx
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(inm, view.etag())
    {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(internal);
    }
    if view.is_lfs()
        && let Some(url) = app
            .catalog
            .store()
            .blobs()
            .presigned_get(&file.sha256, app.presign_expiry)
            .await?
    {
        return builder
            .status(StatusCode::FOUND)
            .header(header::LOCATION, url)
            .header(header::CONTENT_LENGTH, "0")
            .body(Body::empty())
            .map_err(internal);
    }
    let range_header = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, len) = match parse_range(range_header, view.size) {
        RangeSpec::Full => (StatusCode::OK, 0, view.size),
        RangeSpec::Part(a, b) => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {a}-{b}/{}", view.size),
            );
            (StatusCode::PARTIAL_CONTENT, a, b - a + 1)
        }
        RangeSpec::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "RangeNotSatisfiable",
                format!(
                    "the range `{}` is outside the {} bytes of {path}",
                    range_header.unwrap_or(""),
                    view.size
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", view.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    builder = builder
        .status(status)
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::CONTENT_LENGTH, len.to_string());
    if method == Method::HEAD {
        return builder.body(Body::empty()).map_err(internal);
    }
    let stream = app
        .catalog
        .store()
        .blobs()
        .read_range(&file.sha256, start, len)
        .await?;
    builder.body(Body::from_stream(stream)).map_err(internal)
}

fn internal(e: axum::http::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServerError",
        format!("building the response: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=0-4"), 10), Part(0, 4));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Part(5, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Part(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Part(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Full);
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("W/\"abc\", \"d\"", "d"));
        assert!(etag_matches("*", "x"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}
